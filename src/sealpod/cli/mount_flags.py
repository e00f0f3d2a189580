"""``--mount``: Podman's CSV grammar, one table of accepted keys per mount type.

Each type takes its own keys and refuses the others by name (``foo: invalid mount option``), and an
option given twice in one spelling or its opposite (``ro`` and ``rw``, ``suid`` and ``nosuid``) is an
error, as in Podman 4.3: a typo never silently becomes a mount option runc rejects later.
"""

from __future__ import annotations

from sealpod.errors import InvalidArgument

TYPE_CHECKING = False  # typing costs ~2 ms of every command's start-up; only type checkers need it
if TYPE_CHECKING:
    from sealpod.engine.container_config import MountSpec

_FORMAT = ("incorrect mount format: should be --mount "
           "type=<bind|tmpfs|volume>,[src=<host-dir|volume-name>,]target=<ctr-dir>[,options]")
_NEEDS_ARG = "must provide an argument for option"
_TRUE = frozenset({"1", "t", "true"})
_FALSE = frozenset({"0", "f", "false"})
_PROPAGATION = frozenset({"shared", "rshared", "private", "rprivate", "slave", "rslave", "unbindable",
                          "runbindable"})
#: Pairs of opposite flags each mount type takes at most one of, with the words of Podman's error.
_ONCE = {"nosuid": "'nosuid' and 'suid'", "suid": "'nosuid' and 'suid'", "nodev": "'nodev' and 'dev'",
         "dev": "'nodev' and 'dev'", "noexec": "'noexec' and 'exec'", "exec": "'noexec' and 'exec'"}


def _bool(key: str, value: str | None, words: str) -> bool:
    """Go's ParseBool spellings; a bare key is true."""
    if value is None:
        return True
    if value.lower() in _TRUE:
        return True
    if value.lower() in _FALSE:
        return False
    raise InvalidArgument(f'{words} must be set to true or false, instead received "{value}": {_NEEDS_ARG}')


def _fields(spec: str) -> list[tuple[str, str | None]]:
    """The comma-separated fields, with CSV quoting (``"destination=/a,b"`` is one field)."""
    import csv

    try:
        row = next(csv.reader([spec]), [])
    except csv.Error as e:
        raise InvalidArgument(f"parsing mount {spec!r}: {e}") from None
    out: list[tuple[str, str | None]] = []
    for field in row:
        key, sep, value = field.partition("=")
        out.append((key.strip(), value if sep else None))
    return out


class _Parsed:
    """What one ``--mount`` said, gathered field by field."""

    def __init__(self, kind: str) -> None:
        self.kind = kind
        self.source = ""
        self.destination = ""
        self.read_only: bool | None = None
        self.options: list[str] = []
        self.seen: set[str] = set()

    def once(self, group: str, message: str) -> None:
        if group in self.seen:
            raise InvalidArgument(f"cannot pass {message} options more than once: {_NEEDS_ARG}")
        self.seen.add(group)


def _common(p: _Parsed, key: str, value: str | None) -> bool:
    """Keys every type but ``image`` takes; False for a key this does not know."""
    lower = key.lower()
    if lower in ("target", "dst", "destination"):
        if not value:
            raise InvalidArgument(f"{key}: {_NEEDS_ARG}")
        p.destination = value
    elif lower == "consistency":
        pass  # Docker's macOS hint, of no meaning on Linux
    elif lower in ("ro", "rw") or (lower == "readonly" and p.kind == "bind"):  # Podman 4.3: no readonly on others
        words = "'ro' and 'rw'" if p.kind == "tmpfs" else "'readonly', 'ro', or 'rw'"
        p.once("ro", words)
        flag = _bool(key, value, words)
        p.read_only = flag if lower != "rw" else not flag
    elif lower in _ONCE:
        p.once(_ONCE[lower], _ONCE[lower])
        p.options.append(lower)
    elif key in ("U", "chown"):
        if _bool(key, value, "'U' or 'chown'"):
            p.options.append("U")
    else:
        return False
    return True


def _bind_key(p: _Parsed, key: str, value: str | None) -> bool:
    if key in ("src", "source"):
        if not value:
            raise InvalidArgument(f"{key}: {_NEEDS_ARG}")
        p.source = value
    elif key == "bind-propagation":
        if not value:
            raise InvalidArgument(f"{key}: {_NEEDS_ARG}")
        p.options.append(value)
    elif key == "bind-nonrecursive":
        if _bool(key, value, "'bind-nonrecursive'"):
            p.options.append("bind")
    elif key == "relabel":
        if value not in ("shared", "private"):
            raise InvalidArgument("relabel mount option must be 'private' or 'shared': invalid mount option")
        p.options.append("z" if value == "shared" else "Z")
    elif key in _PROPAGATION or key in ("z", "Z") or key == "idmap" or key.startswith("idmap"):
        p.options.append(key if value is None else f"{key}={value}")
    else:
        return False
    return True


def _tmpfs_key(p: _Parsed, key: str, value: str | None) -> bool:
    if key in ("src", "source"):
        raise InvalidArgument("source is not supported with tmpfs mounts")
    if key in ("tmpfs-size", "tmpfs-mode"):
        if not value:
            raise InvalidArgument(f"{key}: {_NEEDS_ARG}")
        p.options.append(f"{key[6:]}={value}")
    elif key in ("tmpcopyup", "notmpcopyup"):
        p.once("copyup", "'tmpcopyup' and 'notmpcopyup'")
        p.options.append(key)
    else:
        return False
    return True


def _volume_key(p: _Parsed, key: str, value: str | None) -> bool:
    if key in ("src", "source"):
        if not value:
            raise InvalidArgument(f"{key}: {_NEEDS_ARG}")
        p.source = value
    elif key == "volume-nocopy":
        if _bool(key, value, "'volume-nocopy'"):
            p.options.append("nocopy")
    elif key == "volume-label":
        raise InvalidArgument("the --volume-label option is not presently implemented")
    elif key == "volume-opt":
        if not value or "=" not in value:
            raise InvalidArgument("cannot parse driver opts: invalid mount option")
        p.options.append(f"volume-opt={value}")
    elif key == "idmap" or key.startswith("idmap"):
        p.options.append(key if value is None else f"{key}={value}")
    else:
        return False
    return True


def _image_key(p: _Parsed, key: str, value: str | None) -> bool:
    if key in ("src", "source"):
        if not value:
            raise InvalidArgument(f"{key}: {_NEEDS_ARG}")
        p.source = value
    elif key in ("target", "dst", "destination"):
        if not value:
            raise InvalidArgument(f"{key}: {_NEEDS_ARG}")
        p.destination = value
    elif key in ("rw", "readwrite"):
        p.read_only = not _bool(key, value, "'rw' or 'readwrite'")
    elif key != "consistency":
        return False
    return True


def _devpts_key(p: _Parsed, key: str, value: str | None) -> bool:
    if key in ("target", "dst", "destination"):
        if not value:
            raise InvalidArgument(f"{key}: {_NEEDS_ARG}")
        p.destination = value
    elif key in ("uid", "gid", "mode", "max"):
        if not value:
            raise InvalidArgument(f"{key}: {_NEEDS_ARG}")
        p.options.append(f"{key}={value}")
    else:
        return False
    return True


_TYPE_KEYS = {"bind": _bind_key, "tmpfs": _tmpfs_key, "volume": _volume_key}


def parse_mount(spec: str) -> MountSpec:
    """One ``--mount`` value as a MountSpec, or InvalidArgument in Podman's words."""
    import os

    from sealpod.engine.container_config import MountSpec

    fields = _fields(spec)
    kinds = [v for k, v in fields if k.lower() == "type"]
    if not kinds:
        raise InvalidArgument(_FORMAT)
    kind = kinds[-1] or ""
    if kind not in ("bind", "volume", "tmpfs", "image", "devpts"):
        raise InvalidArgument(f'invalid filesystem type "{kind}"')
    p = _Parsed(kind)
    for key, value in fields:
        if key.lower() == "type":
            continue
        if kind == "image":
            known = _image_key(p, key, value)
        elif kind == "devpts":
            known = _devpts_key(p, key, value)
        else:
            known = _TYPE_KEYS[kind](p, key, value) or _common(p, key, value)
        if not known:
            raise InvalidArgument(f"{key}: invalid mount option")
    if not p.destination:
        raise InvalidArgument("must set volume destination")
    if kind == "devpts":
        return MountSpec("devpts", p.destination, "devpts", tuple(p.options))
    if kind == "image":
        if not p.source:
            raise InvalidArgument(f'invalid mount "{spec}": must have a source')
        return MountSpec("image", p.destination, p.source, (), p.read_only is not False)
    read_only = bool(p.read_only)
    if kind == "bind":
        p.source = os.path.abspath(p.source or p.destination)
    elif kind == "tmpfs":
        p.source = "tmpfs"
    return MountSpec(kind, p.destination, p.source, tuple(p.options) + (("ro",) if read_only else ()), read_only)
