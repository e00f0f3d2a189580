"""Quadlet: ``*.container``, ``*.volume``, ``*.network`` and ``*.kube`` files become ``.service``
units that run sealpod (podman-systemd.unit(5)'s format and unit shape).

The translation is pure (text in, unit text out: :func:`translate`); :func:`main` is the systemd
generator around it: ``python -m sealpod.systemd.quadlet [-dryrun] [-user] [-v] [-no-kmsg-log] OUTDIR...``.
A file that cannot be translated (an unknown key, a missing Image=) gets one warning line and is
skipped; the others are still written.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

from sealpod.errors import SystemdError
from sealpod.systemd.unitfile import Section, UnitFile, parse, quote, split_words
from sealpod.utils.record import dataclass, field

SUFFIXES = (".container", ".volume", ".network", ".kube")
_GROUPS = {".container": "Container", ".volume": "Volume", ".network": "Network", ".kube": "Kube"}
_SUPPORTED_ELSEWHERE = frozenset({"Unit", "Service", "Install"})  # passed through untouched

# Container key -> (flag, how its values become arguments)
#   each: one flag per value; last: the last value only; words: each word of every value;
#   bool: the flag alone when true
_CONTAINER_FLAGS: dict[str, tuple[str, str]] = {
    "HostName": ("--hostname", "last"), "WorkingDir": ("--workdir", "last"), "Timezone": ("--tz", "last"),
    "IP": ("--ip", "last"), "IP6": ("--ip6", "last"), "Pull": ("--pull", "last"), "UserNS": ("--userns", "last"),
    "StopTimeout": ("--stop-timeout", "last"), "ShmSize": ("--shm-size", "last"),
    "HealthCmd": ("--health-cmd", "last"), "HealthInterval": ("--health-interval", "last"),
    "HealthRetries": ("--health-retries", "last"), "HealthStartPeriod": ("--health-start-period", "last"),
    "HealthTimeout": ("--health-timeout", "last"), "HealthOnFailure": ("--health-on-failure", "last"),
    "RunInit": ("--init", "bool"), "ReadOnly": ("--read-only", "bool"), "EnvironmentHost": ("--env-host", "bool"),
    "AddCapability": ("--cap-add", "words"), "DropCapability": ("--cap-drop", "words"),
    "Environment": ("--env", "words"), "Label": ("--label", "words"), "Annotation": ("--annotation", "words"),
    "Sysctl": ("--sysctl", "words"),
    "PublishPort": ("--publish", "each"), "ExposeHostPort": ("--expose", "each"), "Mount": ("--mount", "each"),
    "Tmpfs": ("--tmpfs", "each"), "Device": ("--device", "each"), "Secret": ("--secret", "each"),
    "UIDMap": ("--uidmap", "each"), "GIDMap": ("--gidmap", "each"), "Ulimit": ("--ulimit", "each"),
    "DNS": ("--dns", "each"), "DNSSearch": ("--dns-search", "each"), "DNSOption": ("--dns-option", "each"),
    "AddHost": ("--add-host", "each"),
}
_CONTAINER_SPECIAL = frozenset({"Image", "Exec", "ContainerName", "Volume", "Network", "User", "Group", "Notify",
                                "PodmanArgs", "GlobalArgs", "VolatileTmp", "NoNewPrivileges", "SeccompProfile",
                                "EnvironmentFile", "LogDriver"})
_VOLUME_KEYS = frozenset({"Label", "Device", "Options", "Type", "User", "Group", "Copy", "VolumeName", "Driver",
                          "PodmanArgs", "GlobalArgs"})
_NETWORK_FLAGS: dict[str, tuple[str, str]] = {
    "Driver": ("--driver", "last"), "Gateway": ("--gateway", "each"), "Subnet": ("--subnet", "each"),
    "IPRange": ("--ip-range", "each"), "IPAMDriver": ("--ipam-driver", "last"), "Options": ("--opt", "each"),
    "Label": ("--label", "words"), "IPv6": ("--ipv6", "bool"), "Internal": ("--internal", "bool"),
    "DisableDNS": ("--disable-dns", "bool"), "DNS": ("--dns", "each"),
}
_KUBE_FLAGS: dict[str, tuple[str, str]] = {
    "Network": ("--network", "each"), "PublishPort": ("--publish", "each"), "UserNS": ("--userns", "last"),
    "LogDriver": ("--log-driver", "last"), "ConfigMap": ("--configmap", "each"),
}


@dataclass(frozen=True)
class Source:
    """One quadlet file: its path (names the unit, anchors relative paths) and its text."""

    path: Path
    text: str


@dataclass(frozen=True)
class Result:
    units: dict[str, str] = field(default_factory=dict)  # service file name -> text
    warnings: list[str] = field(default_factory=list)
    wants: dict[str, list[str]] = field(default_factory=dict)  # target -> service files it wants ([Install])


def parse_bool(value: str, key: str) -> bool:
    low = value.strip().lower()
    if low in ("1", "yes", "true", "on"):
        return True
    if low in ("0", "no", "false", "off"):
        return False
    raise SystemdError(f"invalid boolean value {value!r} for key '{key}'")


def service_name(path: Path) -> str:
    """``web.container`` -> ``web.service``; volumes and networks get a kind suffix (``data-volume``)."""
    stem = path.stem
    return f"{stem}-{path.suffix[1:]}.service" if path.suffix in (".volume", ".network") else f"{stem}.service"


def _apply(section: Section, table: dict[str, tuple[str, str]], args: list[str]) -> None:
    for key, (flag, how) in table.items():
        values = section.values(key)
        if not values:
            continue
        if how == "last":
            args += [flag, values[-1]]
        elif how == "bool":
            args += [flag] if parse_bool(values[-1], key) else []
        elif how == "words":
            args += [w for v in values for word in split_words(v) for w in (flag, word)]
        else:
            args += [w for v in values for w in (flag, v)]


def _check_keys(section: Section, known: frozenset[str] | set[str], path: Path) -> None:
    for key, _ in section.entries:
        if key not in known:
            raise SystemdError(f"unsupported key '{key}' in group '{section.name}' in {path}")


def _check_groups(unit: UnitFile, group: str, path: Path) -> None:
    for s in unit.sections:
        if s.name != group and s.name not in _SUPPORTED_ELSEWHERE and not s.name.startswith("X-"):
            raise SystemdError(f"unsupported group '{s.name}' in {path}")


def _rel(path: Path, value: str) -> str:
    """Paths that start with "." are relative to the quadlet file's directory."""
    return os.path.normpath(path.parent / value) if value.startswith(".") else value


@dataclass(frozen=True)
class _Output:
    """A unit being built: the source's sections, with ours added after the user's own keys."""

    unit: UnitFile
    group: str

    @classmethod
    def start(cls, source: UnitFile, group: str, path: Path) -> _Output:
        out = UnitFile()
        out.sections.append(Section(f"X-{group}", list(source.section(group, create=False).entries)))
        unit_section = out.section("Unit")
        unit_section.entries += source.section("Unit", create=False).entries
        unit_section.add("SourcePath", os.fspath(path))
        unit_section.add("RequiresMountsFor", "%t/containers")
        out.section("Service").entries += source.section("Service", create=False).entries
        for s in source.sections:
            if s.name not in (group, "Unit", "Service"):
                out.sections.append(Section(s.name, list(s.entries)))
        return cls(out, group)

    def set_default(self, key: str, value: str) -> None:
        service = self.unit.section("Service")
        if service.last(key) is None:
            service.add(key, value)


def _exec(words: Sequence[str]) -> str:
    return " ".join(quote(w) for w in words)


def _named_resource(value: str, kind: str, names: dict[str, str], unit: Section) -> str:
    """``data.volume`` / ``net.network``: the resource that unit creates, and a dependency on it."""
    base = value[:-len(kind) - 1]
    dep = f"{base}-{kind}.service"
    unit.add("Requires", dep)
    unit.add("After", dep)
    return names.get(f"{base}.{kind}", f"systemd-{base}")


def _volume_args(values: Sequence[str], path: Path, names: dict[str, str], unit: Section) -> list[str]:
    args: list[str] = []
    for value in values:
        source, sep, rest = value.partition(":")
        if sep and source.endswith(".volume"):
            source = _named_resource(source, "volume", names, unit)
        elif sep and (source.startswith("/") or source.startswith(".")):
            source = _rel(path, source)
            unit.add("RequiresMountsFor", source)
        args += ["-v", f"{source}{sep}{rest}"]
    return args


def _network_args(values: Sequence[str], names: dict[str, str], unit: Section) -> list[str]:
    args: list[str] = []
    for value in values:
        name, sep, opts = value.partition(":")
        if name.endswith(".network"):
            name = _named_resource(name, "network", names, unit)
        args += ["--network", name + sep + opts]
    return args


def _container_args(section: Section, path: Path, names: dict[str, str], unit: Section) -> list[str]:
    args: list[str] = []
    user, group = section.last("User"), section.last("Group")
    if group and not user:
        raise SystemdError(f"invalid Group set without User in {path}")
    if user:
        args += ["--user", f"{user}:{group}" if group else user]
    _apply(section, _CONTAINER_FLAGS, args)
    if parse_bool(section.last("NoNewPrivileges") or "no", "NoNewPrivileges"):
        args.append("--security-opt=no-new-privileges")
    if section.last("SeccompProfile") is not None:
        args += ["--security-opt", f"seccomp={section.last('SeccompProfile') or 'unconfined'}"]
    if parse_bool(section.last("VolatileTmp") or "no", "VolatileTmp"):
        args += ["--tmpfs", "/tmp:rw,size=512M,mode=1777"]
    args += [w for v in section.values("EnvironmentFile") for w in ("--env-file", _rel(path, v))]
    args += _volume_args(section.values("Volume"), path, names, unit)
    args += _network_args(section.values("Network"), names, unit)
    return args + [w for v in section.values("PodmanArgs") for w in split_words(v)]


def _log_driver(section: Section) -> list[str]:
    """As Podman 4.4's quadlet: the container's output passes through conmon to the unit's journal."""
    return ["--log-driver", section.last("LogDriver") or "passthrough"]


def translate_container(src: UnitFile, path: Path, exe: str, names: dict[str, str]) -> UnitFile:
    _check_groups(src, "Container", path)
    section = src.section("Container", create=False)
    _check_keys(section, set(_CONTAINER_FLAGS) | _CONTAINER_SPECIAL, path)
    image = section.last("Image")
    if not image:
        raise SystemdError(f"no Image key specified in {path}")
    out = _Output.start(src, "Container", path)
    unit_section = out.unit.section("Unit")
    glob = [w for v in section.values("GlobalArgs") for w in split_words(v)]
    service = out.unit.section("Service")
    oneshot = _service_type(service, path) == "oneshot"
    notify = parse_bool(section.last("Notify") or "no", "Notify")
    # a oneshot unit waits for the container itself: no notification, no detaching
    detach = [] if oneshot else [f"--sdnotify={'container' if notify else 'conmon'}", "-d"]
    run = [exe, *glob, "run", f"--name={section.last('ContainerName') or 'systemd-%N'}", "--cidfile=%t/%N.cid",
           "--replace", "--rm", *_log_driver(section), "--cgroups=split", *detach,
           *_container_args(section, path, names, unit_section), image,
           *(w for v in section.values("Exec") for w in split_words(v))]
    service.add("Environment", "PODMAN_SYSTEMD_UNIT=%n")
    out.set_default("KillMode", "mixed")
    service.add("ExecStopPost", "-" + _exec([exe, *glob, "rm", "-f", "-i", "--cidfile=%t/%N.cid"]))
    service.add("ExecStopPost", "-rm -f %t/%N.cid")
    out.set_default("Delegate", "yes")
    if not oneshot:
        out.set_default("Type", "notify")
        out.set_default("NotifyAccess", "all")
    out.set_default("SyslogIdentifier", "%N")
    service.add("ExecStart", _exec(run))
    return out.unit


def _service_type(service: Section, path: Path) -> str:
    """A container unit is ``notify`` (the default) or ``oneshot``: sealpod's ExecStart fits no other."""
    kind = service.last("Type") or "notify"
    if kind not in ("notify", "oneshot"):
        raise SystemdError(f"invalid service Type '{kind}' in {path}")
    return kind


def resource_name(src: UnitFile, path: Path) -> str:
    """The volume or network a ``.volume``/``.network`` file creates (``systemd-STEM`` by default)."""
    group = _GROUPS[path.suffix]
    key = "VolumeName" if group == "Volume" else "NetworkName"
    return src.section(group, create=False).last(key) or f"systemd-{path.stem}"


def _oneshot(src: UnitFile, path: Path, group: str, run: list[str]) -> UnitFile:
    return _oneshot_into(_Output.start(src, group, path), run)


def _oneshot_into(out: _Output, run: list[str]) -> UnitFile:
    out.set_default("Type", "oneshot")
    out.set_default("RemainAfterExit", "yes")
    out.set_default("SyslogIdentifier", "%N")
    out.unit.section("Service").add("ExecStart", _exec(run))
    return out.unit


def translate_volume(src: UnitFile, path: Path, exe: str) -> UnitFile:
    _check_groups(src, "Volume", path)
    section = src.section("Volume", create=False)
    _check_keys(section, _VOLUME_KEYS, path)
    args = [w for v in section.values("Label") for word in split_words(v) for w in ("--label", word)]
    if section.last("Driver"):
        args += ["--driver", section.last("Driver") or ""]
    mount_opts = [o for o in (section.last("Options") or "").split(",") if o]
    user, group = section.last("User"), section.last("Group")
    mount_opts += [f"uid={user}"] if user else []
    mount_opts += [f"gid={group}"] if group else []
    args += ["--opt", "o=" + ",".join(mount_opts)] if mount_opts else []
    for key, opt in (("Type", "type"), ("Device", "device")):
        if section.last(key):
            args += ["--opt", f"{opt}={section.last(key)}"]
    if not parse_bool(section.last("Copy") or "yes", "Copy"):
        args += ["--opt", "nocopy"]
    glob = [w for v in section.values("GlobalArgs") for w in split_words(v)]
    extra = [w for v in section.values("PodmanArgs") for w in split_words(v)]
    return _oneshot(src, path, "Volume", [exe, *glob, "volume", "create", "--ignore", *args, *extra,
                                          resource_name(src, path)])


def translate_network(src: UnitFile, path: Path, exe: str) -> UnitFile:
    _check_groups(src, "Network", path)
    section = src.section("Network", create=False)
    _check_keys(section, set(_NETWORK_FLAGS) | {"NetworkName", "PodmanArgs", "GlobalArgs"}, path)
    args: list[str] = []
    _apply(section, _NETWORK_FLAGS, args)
    glob = [w for v in section.values("GlobalArgs") for w in split_words(v)]
    extra = [w for v in section.values("PodmanArgs") for w in split_words(v)]
    return _oneshot(src, path, "Network", [exe, *glob, "network", "create", "--ignore", *args, *extra,
                                           resource_name(src, path)])


def translate_kube(src: UnitFile, path: Path, exe: str, names: dict[str, str] | None = None) -> UnitFile:
    """``kube play`` on start, ``kube down`` on stop (a oneshot unit: sealpod has no service container)."""
    _check_groups(src, "Kube", path)
    section = src.section("Kube", create=False)
    _check_keys(section, set(_KUBE_FLAGS) | {"Yaml", "PodmanArgs", "GlobalArgs"}, path)
    yaml = section.last("Yaml")
    if not yaml:
        raise SystemdError(f"no Yaml key specified in {path}")
    yaml = yaml if yaml.startswith("/") else os.path.normpath(path.parent / yaml)
    output = _Output.start(src, "Kube", path)
    # Network=NAME.network: the network that unit creates, and a dependency on it (as for containers)
    args = _network_args(section.values("Network"), names or {}, output.unit.section("Unit"))
    _apply(section, {k: v for k, v in _KUBE_FLAGS.items() if k != "Network"}, args)
    glob = [w for v in section.values("GlobalArgs") for w in split_words(v)]
    extra = [w for v in section.values("PodmanArgs") for w in split_words(v)]
    out = _oneshot_into(output, [exe, *glob, "kube", "play", "--replace", *args, *extra, yaml])
    out.section("Service").add("ExecStop", _exec([exe, *glob, "kube", "down", yaml]))
    out.section("Service").add("Environment", "PODMAN_SYSTEMD_UNIT=%n")
    return out


HEADER = "# Automatically generated by sealpod-quadlet\n#\n"


def translate(sources: Sequence[Source], exe: str) -> Result:
    """Every file's unit; a file that fails gets a warning and no unit."""
    result = Result()
    parsed: dict[Path, UnitFile] = {}
    for src in sources:
        try:
            parsed[src.path] = parse(src.text, os.fspath(src.path))
        except SystemdError as e:
            result.warnings.append(f"converting {src.path}: {e}")
    names = {p.name: resource_name(u, p) for p, u in parsed.items() if p.suffix in (".volume", ".network")}
    translators: dict[str, Callable[[UnitFile, Path], UnitFile]] = {
        ".container": lambda u, p: translate_container(u, p, exe, names),
        ".volume": lambda u, p: translate_volume(u, p, exe),
        ".network": lambda u, p: translate_network(u, p, exe),
        ".kube": lambda u, p: translate_kube(u, p, exe, names),
    }
    for path, unit in parsed.items():
        try:
            out = translators[path.suffix](unit, path)
        except SystemdError as e:
            result.warnings.append(f"converting {path}: {e}")
            continue
        name = service_name(path)
        result.units[name] = HEADER + out.render()
        install = out.section("Install", create=False)
        for target in [t for key in ("WantedBy", "RequiredBy") for v in install.values(key) for t in v.split()]:
            result.wants.setdefault(target, []).append(name)
    return result


# --- the generator ----------------------------------------------------------------------------

def search_dirs(user: bool, env: dict[str, str] | os._Environ[str]) -> list[Path]:
    if env.get("QUADLET_UNIT_DIRS"):
        return [Path(d) for d in env["QUADLET_UNIT_DIRS"].split(":") if d]
    if not user:
        return [Path("/etc/containers/systemd"), Path("/usr/share/containers/systemd")]
    config = env.get("XDG_CONFIG_HOME") or os.path.join(env.get("HOME") or os.path.expanduser("~"), ".config")
    return [Path(config) / "containers/systemd", Path(f"/etc/containers/systemd/users/{os.getuid()}"),
            Path("/etc/containers/systemd/users")]


def collect(dirs: Sequence[Path]) -> list[Source]:
    """Files by name: the first directory that has a name wins (so /etc overrides /usr/share)."""
    seen: dict[str, Source] = {}
    for d in dirs:
        try:
            entries = sorted(d.iterdir())
        except OSError:
            continue
        for path in entries:
            if path.suffix in SUFFIXES and path.name not in seen and path.is_file():
                seen[path.name] = Source(path, path.read_text(errors="replace"))
    return list(seen.values())


def _write(result: Result, outdir: Path) -> None:
    outdir.mkdir(parents=True, exist_ok=True)
    for name, text in result.units.items():
        (outdir / name).write_text(text)
    for target, services in result.wants.items():
        wants = outdir / f"{target}.wants"
        wants.mkdir(exist_ok=True)
        for name in services:
            link = wants / name
            if not link.is_symlink():
                link.symlink_to(outdir / name)


def _log(message: str, kmsg: bool) -> None:
    line = f"quadlet-generator[{os.getpid()}]: {message}\n"
    if kmsg:
        try:
            with open("/dev/kmsg", "w") as f:
                f.write(line)
            return
        except OSError:
            pass
    sys.stderr.write(line)


def main(argv: Sequence[str] | None = None) -> int:
    from sealpod.systemd.generate import executable

    args = list(sys.argv[1:] if argv is None else argv)
    flags = {a.lstrip("-") for a in args if a.startswith("-")}
    bad = flags - {"dryrun", "user", "v", "no-kmsg-log", "version"}
    if bad:
        sys.stderr.write(f"quadlet-generator: unknown flag: -{sorted(bad)[0]}\n")
        return 1
    outdirs = [a for a in args if not a.startswith("-")]
    dryrun, verbose = "dryrun" in flags, "v" in flags or "dryrun" in flags
    kmsg = not dryrun and "no-kmsg-log" not in flags
    if not dryrun and not outdirs:
        sys.stderr.write("quadlet-generator: missing output directory argument\n")
        return 1
    dirs = search_dirs("user" in flags, os.environ)
    if verbose:
        _log(f"Starting quadlet-generator, output to: {outdirs[0] if outdirs else '(dry run)'}", kmsg)
    result = translate(collect(dirs), executable(""))  # never our own path: the sealpod beside it
    for warning in result.warnings:
        _log(warning, kmsg)
    if dryrun:
        sys.stdout.write("".join(f"---{name}---\n{text}\n" for name, text in result.units.items()))
    else:
        _write(result, Path(outdirs[0]))
    return 1 if result.warnings else 0


if __name__ == "__main__":
    sys.exit(main())
