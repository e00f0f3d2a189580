"""Running a Containerfile through the engine, step by step, as Podman 4.3.1 (``--layers``) does.

RUN creates a container from the current image with the build's ENV, ARGs, WORKDIR, USER and
SHELL, runs it attached, commits it and removes it; COPY and ADD unpack a tar made from the
context into a created container and commit it; the other instructions change the image
config, written with the next commit (or a last, empty one).  Intermediate images are removed
at the end: only the final image, and its tags, stay.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
from collections.abc import Callable, Iterator
from pathlib import Path

from sealpod.build.containerfile import Containerfile, Instruction, Stage
from sealpod.build.context import BuildContext, Ownership
from sealpod.build.extras import BuildExtras, base_override, commit_fields
from sealpod.build.run_settings import RunSettings, container_fields
from sealpod.build.substitute import expand, key_values
from sealpod.errors import BuildError, Conflict, OCIRuntimeError, SealpodError
from sealpod.utils.record import dataclass, field, replace

TYPE_CHECKING = False  # typing costs ~2 ms of every command's start-up; only type checkers need it
if TYPE_CHECKING:
    from typing import Any

    from sealpod.build.rusage import Meter
    from sealpod.engine import Engine
    from sealpod.engine.container_config import MountSpec
    from sealpod.engine.entities import RegistryFlags

#: ARGs usable without being declared (Docker's predefined proxy arguments).
PROXY_ARGS = frozenset({"HTTP_PROXY", "http_proxy", "HTTPS_PROXY", "https_proxy", "FTP_PROXY", "ftp_proxy",
                        "NO_PROXY", "no_proxy", "ALL_PROXY", "all_proxy"})
#: The Buildah release Podman 4.3.1 builds with: the ``io.buildah.version`` label of every built image.
BUILDAH_VERSION = "1.28.2"
DEFAULT_PATH = "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
_SUBSTITUTED = frozenset({"ADD", "COPY", "ENV", "EXPOSE", "LABEL", "STOPSIGNAL", "USER", "VOLUME", "WORKDIR"})


@dataclass(frozen=True)
class BuildOptions:
    tags: tuple[str, ...] = ()
    build_args: dict[str, str] = field(default_factory=dict)
    target: str = ""
    pull: str = "missing"  # always | missing | never | newer
    labels: dict[str, str] = field(default_factory=dict)
    network: str = ""
    format: str = "oci"
    quiet: bool = False
    layers: bool = True  # keep intermediate images, and reuse them (the layer cache)
    no_cache: bool = False  # --no-cache: build every step anew (intermediate images are still kept)
    env: tuple[str, ...] = ()  # --env KEY=VALUE: seen by RUN, set in the final image
    unsetenv: tuple[str, ...] = ()  # --unsetenv: left out of the final image
    from_image: str = ""  # --from: replaces the first FROM's image
    run: RunSettings = field(default_factory=RunSettings)
    registry: RegistryFlags | None = None  # --authfile and friends, for pulls
    signature_policy: Path | None = None  # --signature-policy: policy.json for the base images' pulls
    identity_label: bool = True  # --identity-label: io.buildah.version on the images
    log_rusage: bool = False  # --log-rusage: the resources each step used
    squash: str = ""  # --squash: "new" (one layer over the base's), --squash-all: "all" (one layer)
    created: str = ""  # --timestamp: the images' creation time (RFC 3339)
    os_name: str = ""  # --os: the images' OS instead of the base's
    arch: str = ""  # --arch: the images' architecture instead of the base's
    secrets: dict[str, str] = field(default_factory=dict)  # --secret id=ID,src=PATH: ID -> host file
    extras: BuildExtras = field(default_factory=BuildExtras)  # --annotation, --build-context, --retry...


class Output:
    """Where a build speaks: step lines, the raw output of RUN commands, pull progress (``err``);
    ``final`` sees the final image's ID before its "--> ID" line (``-o``'s export, as Buildah's)."""

    def __init__(self, line: Callable[[str], None], raw: Callable[[bytes], None],
                 err: Callable[[str], None] | None = None, warn: Callable[[str], None] | None = None,
                 final: Callable[[str], None] | None = None) -> None:
        self.line = line
        self.raw = raw
        self.err = err or line
        self.warn = warn or _log_warning
        self.final = final


class _RawWriter(io.RawIOBase):
    """The file object RUN's attach streams write into."""

    def __init__(self, out: Output) -> None:
        self.out = out

    def writable(self) -> bool:
        return True

    def write(self, data: Any) -> int:
        self.out.raw(bytes(data))
        return len(data)


@dataclass
class _State:
    """One stage while it is built."""

    image_id: str | None  # None: scratch
    config: dict[str, Any]
    args: dict[str, str]
    shell: list[str] = field(default_factory=lambda: ["/bin/sh", "-c"])
    dirty: bool = False  # config changed since the last commit
    cmd_set: bool = False  # a CMD in this stage (ENTRYPOINT then keeps it)
    comment: str = ""  # the next history entry's comment: "FROM <base>", then "FROM <short ID of the parent>"
    history: list[str] = field(default_factory=list)  # each instruction's created_by so far (for a squash)
    base_id: str | None = None  # FROM's image
    base_comment: str = ""  # "FROM <base>"
    from_cache: bool = False  # the last step reused a cached image: no COMMIT of its own


class Builder:
    def __init__(self, engine: Engine, context: BuildContext, options: BuildOptions, out: Output) -> None:
        self.engine = engine
        self.context = context
        self.options = options
        self.out = out
        self.stage_images: dict[str, str] = {}  # stage name and index -> image ID
        self.made: list[str] = []  # images committed along the way
        self.working: list[str] = []  # the stage's RUN containers, kept until it ends (Buildah's working containers)
        self.global_args: dict[str, str] = {}
        self.meter: Meter | None = None
        if options.log_rusage:
            from sealpod.build.rusage import Meter

            self.meter = Meter()

    def build(self, cf: Containerfile) -> str:
        """Build up to ``--target`` (or the last stage); returns the final image's ID."""
        stages = list(cf.stages)
        if self.options.target:
            names = [s.name for s in stages]
            if self.options.target.lower() not in names:
                raise BuildError(f'the target "{self.options.target}" was not found in the provided Containerfile')
            stages = stages[:names.index(self.options.target.lower()) + 1]
        global_args = self.global_args = self._global_args(cf)
        final = ""
        needed = needed_stages(stages, global_args)
        from sealpod.engine.container_external import seeing_external

        try:
            with seeing_external(self.engine.containers):  # the builder reaches its working containers
                for stage in stages:
                    if stage.index not in needed and self.options.extras.skip_unused_stages:
                        continue  # Podman's --skip-unused-stages (its default)
                    try:
                        image_id = self._stage(stage, len(stages), global_args, last=stage is stages[-1])
                    finally:
                        self._drop_working()
            final = image_id
        finally:
            if not self.layered:
                self._remove_intermediates(final)
        self.engine.events.emit("image", "build", name=final)  # Podman's one event for a build: the image ID
        return final

    def _global_args(self, cf: Containerfile) -> dict[str, str]:
        values: dict[str, str] = {}
        for ins in cf.global_args:
            for name, default in _arg_pairs(ins, values):
                value = self.options.build_args.get(name, default)
                if value is not None:
                    values[name] = value
        return values

    # --- one stage ---------------------------------------------------------------------

    def _stage(self, stage: Stage, count: int, global_args: dict[str, str], last: bool) -> str:
        prefix = f"[{stage.index + 1}/{count}] " if count > 1 else ""
        total = len(stage.steps) + 1
        start = stage.start.original
        if override := base_override(self, stage):  # --from, or an image --build-context
            start = f"FROM {override}" + (f" AS {stage.name}" if stage.name else "")
        self._say(f"{prefix}STEP 1/{total}: {start}")
        state = self._from(stage, global_args)
        self._rusage()
        if not stage.steps and state.image_id is not None:
            state.dirty = False  # FROM alone: the base image itself, as Buildah
        for n, ins in enumerate(stage.steps, start=2):
            self._say(f"{prefix}STEP {n}/{total}: {ins.original}")
            if last and n == total and ins.cmd in ("RUN", "COPY", "ADD"):
                self._final_env(state)  # the last RUN's commit carries --env: no extra image
            try:
                self._step(state, ins)
            except BuildError as e:
                if e.message.startswith("building at STEP"):
                    raise
                raise BuildError(f'building at STEP "{_step_text(ins)}": {e.message}', e.exit_code) from None
            except SealpodError as e:
                raise BuildError(f'building at STEP "{_step_text(ins)}": {e.message}', e.exit_code) from None
            config_only = ins.cmd not in ("RUN", "COPY", "ADD")
            if config_only and n == total:
                state.dirty = True  # the last instruction's image is the stage's: committed by _finish
            elif config_only:
                self._config_step(state, self.created_by(state, ins))
            if n < total and self.layered:
                self._say(f"--> {(state.image_id or '')[:11]}")
            if n < total:
                self._rusage()
        if last:
            if not stage.steps or stage.steps[-1].cmd not in ("RUN", "COPY", "ADD"):
                self._final_env(state)
        created_by = self.created_by(state, stage.steps[-1]) if stage.steps else ""
        if last:
            created_by = self._label_steps(state, created_by)
        announce = f"{prefix}COMMIT {self.options.tags[0] if self.options.tags else ''}".rstrip() if last else ""
        image_id = self._finish(state, last, created_by, announce)
        if not last:
            self._say(f"--> {image_id[:11]}")
        if stage.steps:
            self._rusage()
        if stage.name:
            self.stage_images[stage.name] = image_id
        self.stage_images[str(stage.index)] = image_id
        return image_id

    def _config_step(self, state: _State, created_by: str) -> None:
        """An instruction that changed the config: its own image with --layers, else a history entry to come."""
        if self.layered:  # one image per instruction, as Buildah's --layers
            self.commit_config(state, created_by)
        else:
            state.history.append(created_by)

    def _label_steps(self, state: _State, created_by: str) -> str:
        """--label: one more LABEL step each, after the last instruction, as Buildah; returns what the
        last one's history entry says (the stage's final commit)."""
        labels = list(self.options.labels.items())
        if not labels:
            return created_by
        if state.dirty and created_by:  # the last instruction changed the config: its own image first
            self._config_step(state, created_by)
        for n, (key, value) in enumerate(labels):
            if n:
                self._config_step(state, created_by)  # the label before: its own image
            state.config["Labels"] = {**(state.config.get("Labels") or {}), key: value}
            state.dirty = True
            created_by = f'/bin/sh -c #(nop) LABEL "{key}"="{value}"'
        return created_by

    def _final_env(self, state: _State) -> None:
        """--env and --unsetenv: the last stage's image only."""
        if self.options.env or self.options.unsetenv:
            env = _merge_env(list(state.config.get("Env") or []), self.options.env)
            state.config["Env"] = [e for e in env if e.partition("=")[0] not in self.options.unsetenv]
            state.dirty = True

    def _from(self, stage: Stage, global_args: dict[str, str]) -> _State:
        base = expand(stage.base, global_args)
        base = base_override(self, stage) or base
        if not base:
            raise BuildError(f"FROM at line {stage.start.line}: no image given (an ARG without a value?)")
        if base.lower() in self.stage_images:
            image_id: str | None = self.stage_images[base.lower()]
        elif base == "scratch":
            image_id = None
        else:
            image_id = self._pull(base)
        config: dict[str, Any] = {}
        if image_id is not None:
            inspect = self.engine.images.inspect(image_id)
            config = dict(inspect.get("Config") or {})
        config.setdefault("Env", [DEFAULT_PATH])
        config = {k: v for k, v in config.items() if v not in (None, "", [], {})}
        for trigger in config.pop("OnBuild", None) or []:  # ONBUILD of the base: not run, but not kept
            self._say(f"(ignored ONBUILD trigger: {trigger})")
        comment = f"FROM {self._base_name(base, image_id)}"
        return _State(image_id, config, {}, dirty=True, comment=comment, base_id=image_id, base_comment=comment)

    def _base_name(self, base: str, image_id: str | None) -> str:
        """FROM's image as the history comment names it: the full name the short name resolved to."""
        if image_id is None or base.lower() in self.stage_images:
            return base
        names = self.engine.images.get(image_id).names
        wanted = base if ":" in base.rsplit("/", 1)[-1] or "@" in base else f"{base}:latest"
        return next((n for n in names if n == wanted or n.endswith("/" + wanted)), base)

    def global_default(self, name: str) -> str | None:
        """An ARG redeclared in a stage takes the value of the ARG before FROM; proxy ARGs are predefined."""
        if name in self.global_args:
            return self.global_args[name]
        arch = host_arch()
        return {"TARGETOS": "linux", "TARGETARCH": arch, "TARGETPLATFORM": f"linux/{arch}", "BUILDOS": "linux",
                "BUILDARCH": arch, "BUILDPLATFORM": f"linux/{arch}"}.get(name)

    def pull_image(self, name: str) -> str:
        return self._pull(name)

    def ownership(self, state: _State, chown: str | None, chmod: str | None) -> Ownership:
        """COPY --chown=USER[:GROUP] (names from the image's passwd and group files) and --chmod=OCTAL."""
        mode = None
        if chmod:
            try:
                mode = int(chmod, 8)
            except ValueError:
                raise BuildError(f'invalid --chmod value "{chmod}": must be an octal mode') from None
        if not chown:
            return Ownership(0, 0, mode)
        user, _, group = chown.partition(":")
        uid = int(user) if user.isdigit() else self._lookup_id(state, "/etc/passwd", user, 2)
        if group:
            gid = int(group) if group.isdigit() else self._lookup_id(state, "/etc/group", group, 2)
        else:
            gid = uid if user.isdigit() else self._lookup_id(state, "/etc/passwd", user, 3)
        return Ownership(uid, gid, mode)

    def _lookup_id(self, state: _State, path: str, name: str, index: int) -> int:
        import tarfile

        buf = io.BytesIO()
        with self.container(state, ["/bin/sh"], with_args=False) as ctr:
            try:
                self.engine.container_files.copy_out(ctr, path, out=buf)
            except SealpodError:
                raise BuildError(f"looking up {name}: no {path} in the image") from None
        buf.seek(0)
        with tarfile.open(fileobj=buf) as tar:
            member = tar.next()
            data = tar.extractfile(member) if member else None
            text = data.read().decode(errors="replace") if data else ""
        for line in text.splitlines():
            parts = line.split(":")
            if len(parts) > index and parts[0] == name and parts[index].isdigit():
                return int(parts[index])
        raise BuildError(f"unable to find {'user' if 'passwd' in path else 'group'} {name}: "
                         f"no matching entries in {os.path.basename(path)} file")

    def _pull(self, name: str) -> str:
        from sealpod.build.extras import pull

        return pull(self, name)

    def _step(self, state: _State, ins: Instruction) -> None:
        from sealpod.build import instructions

        handler = instructions.HANDLERS.get(ins.cmd)
        if handler is None:
            raise BuildError(f'Build error: Unknown instruction: "{ins.cmd}"')
        handler(self, state, ins)

    # --- engine work -------------------------------------------------------------------

    def variables(self, state: _State) -> dict[str, str]:
        """What ``$VAR`` means now: the stage's ARGs, overridden by ENV."""
        env = dict(e.partition("=")[::2] for e in state.config.get("Env") or [])
        return {**state.args, **env}

    @contextlib.contextmanager
    def container(self, state: _State, command: list[str], with_args: bool,
                  extra: tuple[MountSpec, ...] = (), keep: bool = False) -> Iterator[str]:
        """A container of the current image with the build's settings (and ``extra`` mounts: RUN
        --mount); removed after the block (``keep``: when the stage ends, if the block succeeds).
        An external one, named as Buildah names its working containers: a build killed half-way
        leaves them for ``ps --external``."""
        from sealpod.build.run_mounts import scratch_volumes
        from sealpod.engine.container_config import ContainerConfig
        from sealpod.engine.container_external import working_name

        env = list(state.config.get("Env") or [])
        run = self.options.run if with_args else RunSettings()
        if with_args:
            env = _merge_env(env, self.options.env)
            keys = {e.partition("=")[0] for e in env}
            env += [f"{k}={v}" for k, v in state.args.items() if k not in keys]
        mounts = (*run.mounts, *scratch_volumes(state.config, run.mounts)) if with_args else run.mounts
        mounts = (*mounts, *extra)
        config = ContainerConfig(image=state.image_id or "", command=tuple(command), entrypoint=(),
                                 env=tuple(env), user=str(state.config.get("User") or ""), image_volume="ignore",
                                 workdir=str(state.config.get("WorkingDir") or ""), network=self.options.network,
                                 pull="never", labels={}, sig_proxy=False, ulimits=run.ulimits,
                                 security_opts=run.security_opts, cap_add=run.cap_add, cap_drop=run.cap_drop,
                                 mounts=mounts, dns_servers=run.dns_servers, dns_search=run.dns_search,
                                 dns_options=run.dns_options, add_hosts=run.add_hosts, no_hosts=run.no_hosts,
                                 devices=run.devices, external=True, **container_fields(run))
        from_base = state.image_id is not None and state.image_id == state.base_id
        image = state.base_comment.removeprefix("FROM ") if from_base else (state.image_id or "")[:12]
        attempts = 64  # builds beside this one may take the same name meanwhile (30 in parallel: 070-build.bats)
        for attempt in range(attempts):
            try:
                rec = self.engine.containers.create(replace(config, name=working_name(self.engine.containers, image)),
                                                    image_id=state.image_id)
                break
            except Conflict:
                if attempt == attempts - 1:
                    raise
        kept = False
        try:
            yield rec.id
            kept = keep
        finally:
            if kept:
                self.working.append(rec.id)
            else:
                with contextlib.suppress(SealpodError):
                    self.engine.containers.remove(rec.id, force=True, volumes=True)

    def _drop_working(self) -> None:
        while self.working:
            with contextlib.suppress(SealpodError):
                self.engine.containers.remove(self.working.pop(), force=True, volumes=True)

    def make_workdir(self, ctr: str, state: _State) -> None:
        workdir = str(state.config.get("WorkingDir") or "")
        if workdir and workdir != "/":
            self.engine.container_files.extract_into(ctr, workdir, io.BytesIO(b"\0" * 1024))

    def run(self, state: _State, argv: list[str], text: str, mounts: tuple[MountSpec, ...] = ()) -> None:
        created_by = "/bin/sh -c " + text.split(None, 1)[1]  # Buildah's words, whatever the SHELL or form
        if state.args:  # as Buildah: the build arguments a RUN saw are part of its cache key
            pairs = " ".join(f"{k}={v}" for k, v in sorted(state.args.items()))
            created_by = f"|{len(state.args)} {pairs} {created_by}"
        if self.cached(state, created_by):
            return
        with self.container(state, argv, with_args=True, extra=mounts, keep=True) as ctr:
            self.make_workdir(ctr, state)
            writer = _RawWriter(self.out)
            try:
                code = self.engine.containers.run_attached(ctr, stdin=None, stdout=writer,  # type: ignore[arg-type]
                                                           stderr=writer, tty=False)  # type: ignore[arg-type]
            except OCIRuntimeError as e:  # the runtime refused to start it: Buildah reports runc's status, 1
                self.out.line(f"error running container: {e.message}")
                raise BuildError(f'building at STEP "{text}": while running runtime: exit status 1', 1) from None
            if code != 0:
                raise BuildError(f'building at STEP "{text}": while running runtime: exit status {code}', code)
            self.commit(state, ctr, created_by, mounts=mounts, layer=True)

    def cached(self, state: _State, created_by: str) -> bool:
        """The layer cache: an image one step below the current one, made by the same instruction
        with the same config, is reused (``--> Using cache``) instead of made again."""
        if not self.options.layers or self.options.no_cache:
            return False
        from sealpod.engine.image_tree import children_of

        parent = None
        if state.image_id is not None:
            parent = json.loads(self.engine.store.get_image(state.image_id).config)
        config = self.image_config(state)
        found = [img for img, cfg in children_of(parent, self.engine.store.list_images())
                 if (cfg.get("history") or [{}])[-1].get("created_by") == created_by
                 and cfg.get("config") == config and self._same_platform_and_time(cfg) and self._same_format(img)
                 and self.options.extras.fresh(img.stored)]  # --cache-ttl
        if not found:
            return False
        state.image_id = max(found, key=lambda img: img.stored).id
        self._say(f"--> Using cache {state.image_id}")
        self.made.append(state.image_id)
        state.history.append(created_by)
        state.comment = f"FROM {state.image_id[:12]}"
        state.dirty = False
        state.from_cache = True
        return True

    def created_by(self, state: _State, ins: Instruction) -> str:
        """The history entry an instruction that only changes the config leaves, in Buildah's words."""
        if ins.cmd == "ARG":  # the names of the stage's ARGs that have a value, not the instruction
            return f"/bin/sh -c #(nop) ARG {' '.join(sorted(state.args))}".rstrip()
        return f"/bin/sh -c #(nop) {ins.original}"

    def _same_format(self, image: Any) -> bool:
        """--format is part of the cache key: an OCI image is no Docker one (and lacks its HEALTHCHECK)."""
        manifest = self.engine.store.image_manifest(image.id, image.manifest_digest)
        docker = manifest is not None and "docker" in manifest.media_type
        return docker == (self.options.format == "docker")

    def image_config(self, state: _State) -> dict[str, Any]:
        """What a commit writes: the stage's config, with Buildah's identity label (``--identity-label``).
        An OCI image has no HEALTHCHECK (Buildah drops it, warning at each commit)."""
        config = {k: v for k, v in state.config.items() if v not in (None, "", [], {})}
        if self.options.format != "docker":
            config.pop("Healthcheck", None)
        if self.options.identity_label:
            config["Labels"] = {**(config.get("Labels") or {}), "io.buildah.version": BUILDAH_VERSION}
        return config

    def commit_config(self, state: _State, created_by: str) -> None:
        """An image for an instruction that changed the config only: an empty_layer history entry."""
        if self.cached(state, created_by):
            return
        with self.container(state, ["/bin/sh"], with_args=False) as ctr:
            self.commit(state, ctr, created_by)

    def _same_platform_and_time(self, cfg: dict[str, Any]) -> bool:
        """--os, --arch, --variant... and --timestamp are part of the cache key: the images they made differ."""
        o = self.options
        return ((not o.os_name or cfg.get("os") == o.os_name) and (not o.arch or cfg.get("architecture") == o.arch)
                and (not o.created or cfg.get("created") == o.created) and o.extras.same_platform(cfg))

    def commit(self, state: _State, ctr: str, created_by: str, reference: str | None = None,
               mounts: tuple[MountSpec, ...] = (), layer: bool = False) -> None:
        """Commit ``ctr``; RUN, COPY and ADD (``layer``) always make a layer, even an empty one, as Buildah."""
        from sealpod.engine.container_files import CommitOptions

        if state.config.get("Healthcheck") and self.options.format != "docker":
            self.out.warn("HEALTHCHECK is not supported for OCI image format and will be ignored. "
                          "Must use `docker` format")
        options = CommitOptions(config=self.image_config(state), created_by=created_by, format=self.options.format,
                                omit_empty_layer=not layer, history_comment=state.comment, created=self.options.created,
                                os_name=self.options.os_name, arch=self.options.arch,
                                exclude=tuple(m.destination for m in mounts), **commit_fields(self, state))
        state.image_id = self.engine.container_files.commit(ctr, reference, options)
        self.made.append(state.image_id)
        state.history.append(created_by)
        state.comment = f"FROM {state.image_id[:12]}"
        state.dirty = False
        state.from_cache = False

    def _finish(self, state: _State, last: bool, created_by: str, announce: str = "") -> str:
        """The stage's image: the last commit, or one more (empty) carrying the final config.
        ``announce`` (the last stage's "COMMIT" line) is said as Buildah says it: before a commit
        or a tag, never when the final step came from the cache and there is no name to give."""
        reference = self.options.tags[0] if last and self.options.tags else None
        before = set(self.engine.images.get(state.image_id).names) if state.image_id and last else set()
        mode = self._squash_mode(last) if created_by else ""  # a stage of FROM alone is its base image
        created_by = created_by or "/bin/sh -c #(nop) CMD " + json.dumps(state.config.get("Cmd") or [])
        if mode:
            self._say(announce)
            if (state.dirty or state.image_id is None) and not self.cached(state, created_by):
                with self.container(state, ["/bin/sh"], with_args=False) as ctr:
                    self.commit(state, ctr, created_by)
            state.image_id = self._squash(state, mode, reference)
            before = set()
        elif (state.dirty or state.image_id is None) and not self.cached(state, created_by):
            self._say(announce)
            with self.container(state, ["/bin/sh"], with_args=False) as ctr:
                self.commit(state, ctr, created_by, reference)
        else:  # the last RUN/COPY's own commit, or a name for the image; neither: no COMMIT nor "tagged"
            announce = announce if reference or not state.from_cache else ""
            self._say(announce)
            if reference:  # the names a cache hit already had (not those of the step before it)
                before = set(self.engine.images.get(str(state.image_id)).names)
                self.engine.images.tag(str(state.image_id), [reference], event=False)
        assert state.image_id is not None
        if last and self.out.final is not None:
            self.out.final(state.image_id)
        if last:
            if len(self.options.tags) > 1:
                self.engine.images.tag(state.image_id, list(self.options.tags[1:]), event=False)
            self._say(f"--> {state.image_id[:11]}")
            names = self.engine.images.get(state.image_id).names
            for name in [n for n in names if n not in before] + [n for n in names if n in before] if announce else []:
                self._say(f"Successfully tagged {name}")  # this build's names first, as Podman
        return state.image_id

    @property
    def layered(self) -> bool:
        """An image per instruction (``--layers``): not with ``--layers=false`` nor ``--squash``."""
        return self.options.layers and self.options.squash != "new"

    def _squash_mode(self, last: bool) -> str:
        """How the stage's new layers are folded: "all" (``--squash-all``), "new" (into one), or ""."""
        if last and self.options.squash == "all":
            return "all"
        return "" if self.layered else "new"

    def _squash(self, state: _State, mode: str, reference: str | None) -> str:
        """The stage's image with its new layers as one (or everything as one): Buildah's single commit."""
        from sealpod.engine.image_squash import SquashOptions, squash_commit

        options = SquashOptions(tuple(state.history), state.base_comment, reference, self.options.format,
                                self.options.created)
        with self.container(state, ["/bin/sh"], with_args=False) as top:
            if mode == "new" and state.base_id is not None:
                with self.container(_State(state.base_id, {}, {}), ["/bin/sh"], with_args=False) as base:
                    image_id = squash_commit(self.engine, top, base, options)
            else:
                image_id = squash_commit(self.engine, top, None, options)
        self.made.append(image_id)
        return image_id

    def _remove_intermediates(self, final: str) -> None:
        keep = {final}
        for image_id in dict.fromkeys(self.made):
            if image_id in keep:
                continue
            with contextlib.suppress(SealpodError):
                if not self.engine.images.get(image_id).names:
                    self.engine.images.remove([image_id])

    def copy_in(self, state: _State, items: list[tuple[str, str]], dest_dir: str, owner: Ownership,
                archives: list[str], text: str,
                into: tuple[str, Callable[[], list[tuple[str, str]]]] | None = None, named_dest: str = "") -> None:
        """Unpack ``items`` (and ``archives``) at ``dest_dir`` and commit; ``into`` is the destination
        named without a trailing slash and the items to copy instead when it is an existing directory."""
        with self.context.tar_of(items, owner) as tar:
            kind = "multi" if len(items) + len(archives) > 1 else "file"
            if len(items) == 1 and os.path.isdir(os.path.realpath(self.context.root / items[0][0])):
                kind = "dir"
            created_by = (f"/bin/sh -c #(nop) {text.split(None, 1)[0]} "
                          f"{kind}:{self.context.digest_of(tar, archives)} in {named_dest or dest_dir} ")
            if self.cached(state, created_by):
                return
            with self.container(state, ["/bin/sh"], with_args=False) as ctr:
                self.make_workdir(ctr, state)
                files = self.engine.container_files
                if into is not None and files.is_directory(ctr, into[0]):
                    with self.context.tar_of(into[1](), owner) as again:
                        files.extract_into(ctr, into[0], again)  # type: ignore[arg-type]
                elif items:
                    files.extract_into(ctr, dest_dir, tar)  # type: ignore[arg-type]
                for rel in archives:
                    with self.context.open_archive(rel) as f:
                        files.extract_into(ctr, dest_dir, f)
                self.commit(state, ctr, created_by, layer=True)

    def _say(self, text: str) -> None:
        if text and not self.options.quiet:
            self.out.line(text)

    def _rusage(self) -> None:
        if self.meter is not None:
            self._say(self.meter.lap())


def _log_warning(text: str) -> None:
    from sealpod.utils.logrus import warning

    warning(text)


def host_arch() -> str:
    """The host's architecture in OCI words (what ``--platform`` may name)."""
    import platform

    machine = platform.machine()
    return {"x86_64": "amd64", "aarch64": "arm64", "armv7l": "arm", "i686": "386"}.get(machine, machine)


def _merge_env(env: list[str], extra: tuple[str, ...]) -> list[str]:
    for item in extra:
        key = item.partition("=")[0]
        env = [e for e in env if e.partition("=")[0] != key] + [item]
    return env


def needed_stages(stages: list[Stage], global_args: dict[str, str]) -> set[int]:
    """The stages the last one needs (its FROM, COPY --from, transitively): the others are skipped."""
    by_name = {s.name: s.index for s in stages if s.name}

    def deps(stage: Stage) -> set[int]:
        refs = [expand(stage.base, global_args).lower()]
        refs += [str(ins.flag("from")).lower() for ins in stage.steps
                 if ins.cmd in ("COPY", "ADD") and ins.flag("from")]
        found = {by_name[r] for r in refs if r in by_name and by_name[r] < stage.index}
        return found | {int(r) for r in refs if r.isdigit() and int(r) < stage.index}

    needed: set[int] = set()
    todo = [stages[-1].index] if stages else []
    while todo:
        index = todo.pop()
        if index not in needed:
            needed.add(index)
            todo.extend(deps(stages[index]))
    return needed


def _step_text(ins: Instruction) -> str:
    return ins.original


def _arg_pairs(ins: Instruction, env: dict[str, str]) -> list[tuple[str, str | None]]:
    out: list[tuple[str, str | None]] = []
    for word in ins.args.split():
        name, sep, _ = word.partition("=")
        if sep:
            out.extend((k, v) for k, v in key_values(word, env))
        else:
            out.append((name, None))
    return out


def find_containerfile(context: BuildContext, named: str | None, *, in_context: bool) -> tuple[str, str]:
    """The Containerfile's (path, text): ``-f`` (relative to the current directory for the CLI,
    to the context for the API), else Containerfile or Dockerfile in the context."""
    if named:
        # the API's is in the context sent: podman-remote ships one from outside it under its absolute path
        candidates = [context.root / named.lstrip("/")] if in_context else [Path(named)]
    else:
        candidates = [context.root / "Containerfile", context.root / "Dockerfile"]
    for path in candidates:
        if path.is_file():
            if in_context:
                context.sources(os.path.relpath(os.path.realpath(path), context.root))
            return str(path), path.read_text(errors="replace")
    raise BuildError(f"stat {candidates[-1]}: no such file or directory")  # Podman's words


def run_build(engine: Engine, context: BuildContext, containerfile: tuple[str, str], options: BuildOptions,
              out: Output, ignorefile: Path | None = None) -> str:
    """Parse and build; ``ignorefile`` (or the context's ignore file) applies.  Returns the image ID."""
    from sealpod.build.containerfile import parse

    if options.format not in ("oci", "docker"):
        raise BuildError(f'unrecognized image type "{options.format}"')
    path, text = containerfile
    cf = parse(text)
    context.load_ignore(Path(path) if path != "-" else None, ignorefile)
    return Builder(engine, context, options, out).build(cf)
