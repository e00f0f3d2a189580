"""What each instruction does to the stage being built: one small function per instruction.

Metadata instructions only change the config the next commit writes; RUN, COPY, ADD make
layers through the builder's engine calls.
"""

from __future__ import annotations

import os
import posixpath
import tempfile
from collections.abc import Callable
from pathlib import Path

from sealpod.build.context import BuildContext
from sealpod.build.substitute import expand, key_values, split_words
from sealpod.errors import BuildError

TYPE_CHECKING = False  # typing costs ~2 ms of every command's start-up; only type checkers need it
if TYPE_CHECKING:
    from typing import Any

    from sealpod.build.builder import Builder, _State
    from sealpod.build.containerfile import Instruction

Handler = Callable[["Builder", "_State", "Instruction"], None]


def _run(b: Builder, st: _State, ins: Instruction) -> None:
    argv = list(ins.exec_form) if ins.exec_form is not None else [*st.shell, ins.args]
    if not argv or not ins.args.strip():
        raise BuildError("RUN requires at least one argument")
    from sealpod.build.run_mounts import run_mounts

    b.run(st, argv, ins.original, tuple(run_mounts(b, st, ins)))


def _env(b: Builder, st: _State, ins: Instruction) -> None:
    pairs = key_values(ins.args, b.variables(st))
    if not pairs:
        raise BuildError("ENV requires at least one argument")
    env = list(st.config.get("Env") or [])
    for key, value in pairs:
        env = [e for e in env if e.partition("=")[0] != key] + [f"{key}={value}"]
    _set(st, "Env", env)


def _label(b: Builder, st: _State, ins: Instruction) -> None:
    pairs = key_values(ins.args, b.variables(st))
    if not pairs:
        raise BuildError("LABEL requires at least one argument")
    _set(st, "Labels", {**(st.config.get("Labels") or {}), **dict(pairs)})


def _maintainer(b: Builder, st: _State, ins: Instruction) -> None:
    st.dirty = True  # deprecated; Podman records it as the image's author, which a commit sets anyway


def _workdir(b: Builder, st: _State, ins: Instruction) -> None:
    path = expand(ins.args, b.variables(st))
    if not path:
        raise BuildError("WORKDIR requires exactly one argument")
    _set(st, "WorkingDir", posixpath.normpath(posixpath.join(str(st.config.get("WorkingDir") or "/"), path)))


def _user(b: Builder, st: _State, ins: Instruction) -> None:
    _set(st, "User", expand(ins.args, b.variables(st)))


def _expose(b: Builder, st: _State, ins: Instruction) -> None:
    ports = dict(st.config.get("ExposedPorts") or {})
    for p in split_words(ins.args, b.variables(st)):
        ports[p if "/" in p else f"{p}/tcp"] = {}
    _set(st, "ExposedPorts", ports)


def _volume(b: Builder, st: _State, ins: Instruction) -> None:
    vols = list(ins.exec_form) if ins.exec_form is not None else split_words(ins.args, b.variables(st))
    _set(st, "Volumes", {**(st.config.get("Volumes") or {}), **{v: {} for v in vols if v}})


def _command(key: str) -> Handler:
    def handler(b: Builder, st: _State, ins: Instruction) -> None:
        value = list(ins.exec_form) if ins.exec_form is not None else [*st.shell, ins.args]
        _set(st, key, value)
        if key == "Cmd":
            st.cmd_set = True
        elif not st.cmd_set:
            st.config.pop("Cmd", None)  # Docker: ENTRYPOINT clears a CMD inherited from the base
    return handler


def _stopsignal(b: Builder, st: _State, ins: Instruction) -> None:
    _set(st, "StopSignal", expand(ins.args, b.variables(st)))


def _shell(b: Builder, st: _State, ins: Instruction) -> None:
    if ins.exec_form is None or not ins.exec_form:
        raise BuildError("SHELL requires the arguments to be in JSON form")
    st.shell = list(ins.exec_form)
    _set(st, "Shell", list(ins.exec_form))


def _onbuild(b: Builder, st: _State, ins: Instruction) -> None:
    word = ins.args.split(None, 1)[0].upper() if ins.args.strip() else ""
    if word in ("ONBUILD", "FROM", "MAINTAINER", ""):
        raise BuildError(f"{word or 'ONBUILD'} isn't allowed as an ONBUILD trigger")
    _set(st, "OnBuild", [*(st.config.get("OnBuild") or []), ins.args])


def _healthcheck(b: Builder, st: _State, ins: Instruction) -> None:
    if ins.args.strip().upper() == "NONE":
        _set(st, "Healthcheck", {"Test": ["NONE"]})
        return
    word, _, rest = ins.args.partition(" ")
    if word.upper() != "CMD":
        raise BuildError("HEALTHCHECK requires CMD or NONE")
    from sealpod.build.containerfile import _exec_form

    rest = rest.strip()
    exec_form = _exec_form(rest)
    check: dict[str, Any] = {"Test": ["CMD", *exec_form] if exec_form is not None else ["CMD-SHELL", rest]}
    for flag, key in (("interval", "Interval"), ("timeout", "Timeout"), ("start-period", "StartPeriod")):
        if ins.flag(flag):
            check[key] = _duration(str(ins.flag(flag)))
    if ins.flag("retries"):
        check["Retries"] = int(str(ins.flag("retries")))
    _set(st, "Healthcheck", check)


def _duration(text: str) -> int:
    """A Go duration (``30s``, ``1m30s``, ``500ms``) in nanoseconds."""
    import re

    units = {"ns": 1, "us": 1000, "ms": 10**6, "s": 10**9, "m": 60 * 10**9, "h": 3600 * 10**9}
    parts = re.findall(r"(\d+(?:\.\d+)?)(ns|us|ms|s|m|h)", text)
    if not parts or "".join(a + u for a, u in parts) != text:
        raise BuildError(f'time: invalid duration "{text}"')
    return int(sum(float(a) * units[u] for a, u in parts))


def _arg(b: Builder, st: _State, ins: Instruction) -> None:
    from sealpod.build.builder import _arg_pairs

    for name, default in _arg_pairs(ins, b.variables(st)):
        value = b.options.build_args.get(name, default)
        if value is None:
            value = b.global_default(name)
        if value is not None:
            st.args[name] = value


def _copy(b: Builder, st: _State, ins: Instruction) -> None:
    _copy_or_add(b, st, ins, add=False)


def _add(b: Builder, st: _State, ins: Instruction) -> None:
    _copy_or_add(b, st, ins, add=True)


def _copy_or_add(b: Builder, st: _State, ins: Instruction, add: bool) -> None:
    words = list(ins.exec_form) if ins.exec_form is not None else split_words(ins.args, b.variables(st))
    if len(words) < 2:
        raise BuildError(f"{ins.cmd} requires at least two arguments, but only one was provided. "
                         "Destination could not be determined.")
    *srcs, dest = words
    named_dest = dest  # as written: what the history entry says
    workdir = str(st.config.get("WorkingDir") or "/")
    dest = dest if dest.startswith("/") else posixpath.join(workdir, dest)
    to_dir = dest.endswith("/") or dest.endswith("/.") or len(srcs) > 1 or dest in (".", "/")
    owner = b.ownership(st, ins.flag("chown"), ins.flag("chmod"))
    source_ctx = b.context
    from_ = ins.flag("from")
    temp: BuildContext | None = None
    urls = [s for s in srcs if "://" in s]
    if urls and not add:
        raise BuildError("source can't be a URL for COPY")
    if urls and (from_ or len(urls) != len(srcs)):
        raise BuildError("ADD of URLs together with other sources is not supported")
    directory = b.options.extras.directory_context(from_) if from_ else None
    if directory is not None:  # --build-context NAME=DIR: sources under that directory
        source_ctx = _directory_context(directory)
    elif from_:
        temp = source_ctx = _context_from(b, from_, srcs)
        srcs = [posixpath.basename(s.rstrip("/")) or "." for s in srcs]
    elif urls:
        temp = source_ctx = _context_from_urls(urls)
        srcs = [_url_name(u) for u in urls]
    try:
        unpack = add and not from_ and not urls
        items, archives = _plan(source_ctx, srcs, dest, to_dir, unpack)
        to_dir = to_dir or not items  # archives alone: unpacked into dest, a directory
        dest_dir = posixpath.normpath(dest) if to_dir else posixpath.dirname(posixpath.normpath(dest))
        # an existing directory named without the trailing slash: copied into, as Buildah
        into = None if to_dir else (posixpath.normpath(dest),
                                    lambda: _plan(source_ctx, srcs, dest, True, unpack)[0])
        saved, b.context = b.context, source_ctx
        try:
            b.copy_in(st, items, dest_dir, owner, archives, f"{ins.cmd} {ins.args}", into, named_dest)
        finally:
            b.context = saved
    finally:
        if temp is not None:
            temp.close()


def _plan(ctx: BuildContext, srcs: list[str], dest: str, to_dir: bool,
          unpack: bool) -> tuple[list[tuple[str, str]], list[str]]:
    items: list[tuple[str, str]] = []
    archives: list[str] = []
    for src in srcs:
        if "://" in src:
            continue
        found = ctx.sources(src)
        if len(found) > 1:
            to_dir = True
        for rel in found:
            if unpack and ctx.is_archive(rel):
                archives.append(rel)
            elif os.path.isdir(os.path.realpath(ctx.root / rel)):
                items.append((rel, "" if to_dir else posixpath.basename(dest)))  # its contents, under dest
            else:
                items.append((rel, posixpath.basename(rel) if to_dir else posixpath.basename(dest)))
    return items, archives


def _directory_context(directory: str) -> BuildContext:
    if not os.path.isdir(directory):
        raise BuildError(f'checking on sources under "{directory}": error in copier subprocess: changing to '
                         f'intended-new-root directory "{directory}": chdir {directory}: no such file or directory')
    return BuildContext(Path(directory), temporary=False)


def _context_from(b: Builder, source: str, srcs: list[str]) -> BuildContext:
    """COPY --from: the named paths of a stage's (or an image's, or an image build context's) root,
    copied out to a temporary context."""
    ref = b.options.extras.image_context(source)  # a build context comes before a stage of that name
    image = b.pull_image(ref) if ref else b.stage_images.get(source.lower()) or b.pull_image(source)
    tmp = Path(tempfile.mkdtemp(prefix="sealpod-from-"))
    ctx = BuildContext(tmp, temporary=True)
    try:
        from sealpod.build.builder import _State

        with b.container(_State(image, {}, {}), ["/bin/sh"], with_args=False) as ctr:
            for src in srcs:
                b.engine.container_files.copy_out(ctr, src, dest=str(tmp))
    except BaseException:
        ctx.close()
        raise
    return ctx


def _url_name(url: str) -> str:
    from urllib.parse import urlsplit

    return posixpath.basename(urlsplit(url).path.rstrip("/")) or "index.html"


def _context_from_urls(urls: list[str]) -> BuildContext:
    """ADD URL: each download, as Buildah stores it: mode 0600, the server's Last-Modified time, never unpacked."""
    import email.utils
    import shutil
    import urllib.error
    import urllib.request

    tmp = Path(tempfile.mkdtemp(prefix="sealpod-add-"))
    ctx = BuildContext(tmp, temporary=True)
    try:
        for url in urls:
            target = tmp / _url_name(url)
            try:
                with urllib.request.urlopen(url, timeout=60) as resp, open(target, "wb") as f:  # noqa: S310
                    shutil.copyfileobj(resp, f)
                    modified = resp.headers.get("Last-Modified")
            except urllib.error.HTTPError as e:
                raise BuildError(f'reading "{url}": invalid response status {e.code}') from None
            except (urllib.error.URLError, OSError, ValueError) as e:
                raise BuildError(f'reading "{url}": {getattr(e, "reason", e)}') from None
            target.chmod(0o600)
            if modified and (when := email.utils.parsedate_to_datetime(modified)) is not None:
                os.utime(target, (when.timestamp(), when.timestamp()))
    except BaseException:
        ctx.close()
        raise
    return ctx


def _set(st: _State, key: str, value: Any) -> None:
    st.config[key] = value
    st.dirty = True


HANDLERS: dict[str, Handler] = {
    "RUN": _run, "ENV": _env, "LABEL": _label, "MAINTAINER": _maintainer, "WORKDIR": _workdir, "USER": _user,
    "EXPOSE": _expose, "VOLUME": _volume, "CMD": _command("Cmd"), "ENTRYPOINT": _command("Entrypoint"),
    "STOPSIGNAL": _stopsignal, "SHELL": _shell, "ONBUILD": _onbuild, "HEALTHCHECK": _healthcheck, "ARG": _arg,
    "COPY": _copy, "ADD": _add,
}
