"""A container's /etc/hosts, /etc/resolv.conf and /etc/hostname, and its user from the image.

The image's /etc/passwd and /etc/group are untrusted input that lives in a directory on the
host: a symlink ``etc/passwd -> /etc/shadow`` must resolve inside the rootfs, never on the
host, so every path component is resolved against the rootfs by hand.
"""

from __future__ import annotations

import errno
import os
import stat
from collections import deque
from collections.abc import Iterable, Sequence
from pathlib import Path

from sealpod.errors import InvalidArgument, NoSuchUser
from sealpod.utils.record import dataclass

_MAX_SYMLINKS = 40  # as the kernel's MAXSYMLINKS
_MAX_ETC_FILE = 16 * 1024 * 1024

DEFAULT_HOSTS = (
    ("127.0.0.1", ("localhost", "localhost.localdomain", "localhost4", "localhost4.localdomain4")),
    ("::1", ("localhost", "localhost.localdomain", "localhost6", "localhost6.localdomain6")),
)
DEFAULT_NAMESERVERS = ("8.8.8.8", "8.8.4.4")
DEFAULT_NAMESERVERS_V6 = ("2001:4860:4860::8888", "2001:4860:4860::8844")


# --- safe reading inside a rootfs --------------------------------------------------------------

def secure_join(root: Path, path: str) -> Path:
    """``path`` resolved as if ``root`` were ``/``: symlinks and ``..`` never leave ``root``.

    Missing components are kept as they are, so the result may not exist.
    """
    parts = deque(path.split("/"))
    resolved: list[str] = []
    links = 0
    while parts:
        part = parts.popleft()
        if part in ("", "."):
            continue
        if part == "..":
            if resolved:
                resolved.pop()
            continue
        candidate = root.joinpath(*resolved, part)
        try:
            st = os.lstat(candidate)
        except (FileNotFoundError, NotADirectoryError):
            resolved.append(part)
            continue
        if not stat.S_ISLNK(st.st_mode):
            resolved.append(part)
            continue
        links += 1
        if links > _MAX_SYMLINKS:
            raise OSError(errno.ELOOP, os.strerror(errno.ELOOP), path)
        target = os.readlink(candidate)
        if target.startswith("/"):
            resolved = []
        parts.extendleft(reversed(target.split("/")))
    return root.joinpath(*resolved)


def read_in_root(root: Path, path: str) -> str | None:
    """The text of a regular file inside ``root``, or None when it is missing or not a file."""
    try:
        host_path = secure_join(root, path)
        fd = os.open(host_path, os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC | os.O_NONBLOCK)
    except OSError:
        return None
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            return None
        return os.read(fd, _MAX_ETC_FILE).decode("utf-8", errors="replace")
    finally:
        os.close(fd)


# --- passwd and group --------------------------------------------------------------------------

@dataclass(frozen=True)
class PasswdEntry:
    name: str
    uid: int
    gid: int
    gecos: str
    home: str
    shell: str


@dataclass(frozen=True)
class GroupEntry:
    name: str
    gid: int
    members: tuple[str, ...]


@dataclass(frozen=True)
class ExecUser:
    """Who the container's process runs as.  ``additional_gids`` are the user's supplementary
    groups from /etc/group; ``home`` feeds $HOME."""

    uid: int
    gid: int
    additional_gids: tuple[int, ...]
    home: str
    name: str = ""


def _fields(text: str | None, count: int) -> Iterable[list[str]]:
    for line in (text or "").splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        fields = line.split(":")
        if len(fields) < count:
            fields += [""] * (count - len(fields))
        yield fields


def parse_passwd(text: str | None) -> list[PasswdEntry]:
    """Entries of a passwd file; lines with a non-numeric uid or gid are skipped, as libc does."""
    out = []
    for f in _fields(text, 7):
        try:
            out.append(PasswdEntry(f[0], int(f[2]), int(f[3]), f[4], f[5], f[6]))
        except ValueError:
            continue
    return out


def parse_group(text: str | None) -> list[GroupEntry]:
    out = []
    for f in _fields(text, 4):
        try:
            gid = int(f[2])
        except ValueError:
            continue
        out.append(GroupEntry(f[0], gid, tuple(m.strip() for m in f[3].split(",") if m.strip())))
    return out


def _numeric(text: str) -> int | None:
    if text.isdigit():
        return int(text)
    return None


def _find_user(entries: list[PasswdEntry], spec: str) -> PasswdEntry | None:
    uid = _numeric(spec)
    for e in entries:
        if (uid is not None and e.uid == uid) or (uid is None and e.name == spec):
            return e
    return None


def _find_group(entries: list[GroupEntry], spec: str) -> GroupEntry | None:
    gid = _numeric(spec)
    for e in entries:
        if (gid is not None and e.gid == gid) or (gid is None and e.name == spec):
            return e
    return None


def resolve_user(rootfs: Path, user: str) -> ExecUser:
    """Resolve ``--user`` (``name``, ``uid``, ``name:group``, ``uid:gid``) against the image.

    A numeric uid or gid need not exist in the image; a name must.
    """
    user_part, _, group_part = (user or "0").partition(":")
    user_part = user_part or "0"
    users = parse_passwd(read_in_root(rootfs, "/etc/passwd"))
    entry = _find_user(users, user_part)
    if entry is None:
        uid = _numeric(user_part)
        if uid is None:
            raise NoSuchUser(f"unable to find user {user_part}: no matching entries in passwd file")
        entry = PasswdEntry("", uid, 0, "", "/", "")
    groups = parse_group(read_in_root(rootfs, "/etc/group")) if (group_part or entry.name) else []
    gid = entry.gid
    if group_part:
        gid = _resolve_gid(groups, group_part)
    supplementary = () if group_part else tuple(dict.fromkeys(  # USER:GROUP: that group alone, as Podman
        g.gid for g in groups if entry.name and entry.name in g.members and g.gid != gid))
    return ExecUser(entry.uid, gid, supplementary, entry.home or "/", entry.name)


def _resolve_gid(groups: list[GroupEntry], spec: str) -> int:
    found = _find_group(groups, spec)
    if found is not None:
        return found.gid
    gid = _numeric(spec)
    if gid is None:
        raise NoSuchUser(f"unable to find group {spec}: no matching entries in group file")
    return gid


def resolve_groups(rootfs: Path, groups: Sequence[str]) -> tuple[int, ...]:
    """Resolve ``--group-add`` values: names through the image's /etc/group, numbers as they are.

    ``keep-groups`` is a runtime-level request, not a group: it is left to the caller.
    """
    wanted = [g for g in groups if g != "keep-groups"]
    if not wanted:
        return ()
    table = parse_group(read_in_root(rootfs, "/etc/group"))
    return tuple(dict.fromkeys(_resolve_gid(table, g) for g in wanted))


def passwd_with_user(rootfs: Path, uid: int, gid: int, home: str = "/") -> str | None:
    """The image's /etc/passwd plus a line for ``uid``, or None when it already has one.

    Programs that look themselves up (``whoami``, ssh, shells) fail without an entry; Podman
    adds ``UID:*:UID:GID:container user:HOME:/bin/sh``.
    """
    text = read_in_root(rootfs, "/etc/passwd") or ""
    if any(e.uid == uid for e in parse_passwd(text)):
        return None
    if text and not text.endswith("\n"):
        text += "\n"
    return f"{text}{uid}:*:{uid}:{gid}:container user:{home}:/bin/sh\n"


def group_with_gid(rootfs: Path, gid: int) -> str | None:
    """The image's /etc/group plus a group for ``gid``, or None when it already has one."""
    text = read_in_root(rootfs, "/etc/group") or ""
    if any(g.gid == gid for g in parse_group(text)):
        return None
    if text and not text.endswith("\n"):
        text += "\n"
    return f"{text}{gid}:x:{gid}:\n"


# --- hosts, hostname, resolv.conf --------------------------------------------------------------

def hostname_content(hostname: str) -> str:
    """/etc/hostname as Podman writes it: the bare name."""
    return hostname


def _parse_hosts(text: str) -> list[tuple[str, tuple[str, ...]]]:
    out = []
    for line in text.splitlines():
        fields = line.split("#", 1)[0].split()
        if len(fields) >= 2:
            out.append((fields[0], tuple(fields[1:])))
    return out


def parse_add_host(flag: str) -> tuple[str, tuple[str, ...]]:
    """``--add-host name[;name2]:ip`` into an (ip, names) entry; the IP may be IPv6."""
    names, sep, ip = flag.partition(":")
    ip = ip.strip("[]")
    try:
        import ipaddress

        ipaddress.ip_address(ip)
    except ValueError:
        raise InvalidArgument(f'invalid IP address in add-host: "{ip}"') from None
    if not sep or not names:
        raise InvalidArgument(f"invalid add-host format: {flag}")
    return ip, tuple(n for n in names.split(";") if n)


def hosts_content(
    names: Sequence[str],
    *,
    ips: Sequence[str] = ("127.0.0.1",),
    base: str | None = None,
    extra_hosts: Sequence[tuple[str, Sequence[str]]] = (),
    host_containers_internal: str | None = None,
) -> str:
    """/etc/hosts for a container, in Podman's order: ``--add-host`` entries, the base file
    (the host's /etc/hosts, or localhost lines when there is none; plain localhost lines when it
    names no localhost), host.containers.internal, then the container's own addresses with its
    hostname and name, less the names an entry above already has (Podman's rule, so a base file
    can pin them).
    """
    entries: list[tuple[str, Sequence[str]]] = list(extra_hosts)
    base_entries = _parse_hosts(base) if base else []
    entries += base_entries or list(DEFAULT_HOSTS)
    if not any("localhost" in hn for _, hn in entries):
        entries += [("127.0.0.1", ("localhost",)), ("::1", ("localhost",))]
    if host_containers_internal:
        entries.append((host_containers_internal, ("host.containers.internal",)))
    known = {n for _, hn in entries for n in hn}
    own = tuple(n for n in names if n and n not in known)
    if own:
        entries += [(ip, own) for ip in ips]
    return "".join(f"{ip}\t{' '.join(hn)}\n" for ip, hn in entries)


def hosts_with_member(text: str, names: Sequence[str]) -> str:
    """A shared /etc/hosts (a pod's, a ``--network container:`` donor's) with a container that
    joins the namespace: ``127.0.0.1`` with those of its names no line has yet, as Podman adds."""
    known = {n for _, hn in _parse_hosts(text) for n in hn}
    own = [n for n in dict.fromkeys(names) if n and n not in known]
    if not own:
        return text
    sep = "" if not text or text.endswith("\n") else "\n"
    return f"{text}{sep}127.0.0.1\t{' '.join(own)}\n"


def hosts_without_member(text: str, name: str) -> str:
    """The shared /etc/hosts once the container ``name`` is gone: its ``127.0.0.1`` line (which
    its name, unique among containers, ends) leaves; every other line stays as it was."""
    keep = []
    for line in text.splitlines(keepends=True):
        fields = line.split("#", 1)[0].split()
        if not (len(fields) >= 2 and fields[0] == "127.0.0.1" and fields[-1] == name):
            keep.append(line)
    return "".join(keep)


@dataclass(frozen=True)
class ResolvConf:
    nameservers: tuple[str, ...]
    searches: tuple[str, ...]
    options: tuple[str, ...]


def parse_resolv_conf(text: str) -> ResolvConf:
    servers: list[str] = []
    searches: list[str] = []
    options: list[str] = []
    for line in text.splitlines():
        fields = line.split("#", 1)[0].split(";", 1)[0].split()
        if not fields:
            continue
        if fields[0] == "nameserver" and len(fields) > 1:
            servers.append(fields[1])
        elif fields[0] in ("search", "domain"):
            searches = fields[1:]  # the last one wins, as in the resolver
        elif fields[0] == "options":
            options += fields[1:]
    return ResolvConf(tuple(servers), tuple(searches), tuple(options))


def _is_loopback(server: str) -> bool:
    try:
        import ipaddress

        return ipaddress.ip_address(server.split("%", 1)[0]).is_loopback
    except ValueError:
        return False


def resolv_conf_content(
    host: str,
    *,
    nameservers: Sequence[str] = (),
    network_nameservers: Sequence[str] = (),
    searches: Sequence[str] = (),
    options: Sequence[str] = (),
    host_network: bool = False,
    ipv6: bool = False,
) -> str:
    """/etc/resolv.conf for a container, derived from the host's ``host`` text.

    ``nameservers``/``searches``/``options`` are the user's ``--dns*`` flags and replace the
    host's; ``network_nameservers`` (aardvark-dns) come first.  In its own network namespace a
    container cannot reach the host's loopback resolvers (systemd-resolved's 127.0.0.53), so
    those are dropped, and public ones stand in when nothing is left.
    """
    parsed = parse_resolv_conf(host)
    servers = list(nameservers) or [s for s in parsed.nameservers if host_network or not _is_loopback(s)]
    if not servers and not network_nameservers:
        servers = [*DEFAULT_NAMESERVERS, *(DEFAULT_NAMESERVERS_V6 if ipv6 else ())]
    all_servers = list(dict.fromkeys([*network_nameservers, *servers]))
    search = list(searches) or list(parsed.searches)
    if search == ["."]:
        search = []
    opts = list(options) or list(parsed.options)
    lines = []
    if search:
        lines.append("search " + " ".join(search))
    lines += [f"nameserver {s}" for s in all_servers]
    if opts:
        lines.append("options " + " ".join(opts))
    return "".join(line + "\n" for line in lines)
