"""``top``: a container's processes as rows of ``ps`` descriptors, read from /proc.

Podman's psgo reads the host's /proc for the PIDs of the container's namespace rather than
running ``ps`` inside it: nothing from the image runs as host root, and images without ``ps``
work too.  Users, groups and tty names are resolved as the container sees them.
"""

from __future__ import annotations

import os
import time
from collections.abc import Sequence
from pathlib import Path

from sealpod.errors import ContainerStateInvalid, InvalidArgument
from sealpod.utils.record import dataclass

TYPE_CHECKING = False  # typing costs ~2 ms of every command's start-up; only type checkers need it
if TYPE_CHECKING:
    from typing import Any


# descriptor -> header, as Podman's psgo names them
TOP_DESCRIPTORS: dict[str, str] = {
    "user": "USER", "pid": "PID", "ppid": "PPID", "pcpu": "%CPU", "etime": "ELAPSED", "tty": "TTY",
    "time": "TIME", "args": "COMMAND", "comm": "COMMAND", "uid": "UID", "ruid": "RUID", "ruser": "RUSER",
    "gid": "GID", "rgid": "RGID", "group": "GROUP", "rgroup": "RGROUP", "nice": "NI", "vsz": "VSZ",
    "rss": "RSS", "state": "STATE", "stime": "STIME", "hpid": "HPID", "hppid": "HPPID", "huser": "HUSER",
    "hgroup": "HGROUP", "capamb": "AMBIENT CAPS", "capbnd": "BOUNDING CAPS", "capeff": "EFFECTIVE CAPS",
    "capinh": "INHERITED CAPS", "capprm": "PERMITTED CAPS", "seccomp": "SECCOMP", "label": "LABEL",
    "groups": "GROUPS", "hgroups": "HGROUPS",
}
_AIX = {"%C": "pcpu", "%G": "group", "%P": "ppid", "%U": "user", "%a": "args", "%c": "comm", "%g": "rgroup",
        "%n": "nice", "%p": "pid", "%r": "pgid", "%t": "etime", "%u": "ruser", "%x": "time", "%y": "tty",
        "%z": "vsz"}
DEFAULT_TOP = ("user", "pid", "ppid", "pcpu", "etime", "tty", "time", "args")


def parse_descriptors(words: Sequence[str]) -> tuple[str, ...]:
    """Descriptors (``pid``, ``%C``...) in order; InvalidArgument if one is not ours."""
    out = []
    for word in words:
        name = _AIX.get(word, word)
        if name not in TOP_DESCRIPTORS:
            raise InvalidArgument(f"unknown descriptor: {word}")
        out.append(name)
    return tuple(out) or DEFAULT_TOP


def go_duration(seconds: float) -> str:
    """Format like Go's ``time.Duration.String()`` (``1.5s``, ``2m3.25s``, ``1h0m0s``, ``0s``)."""
    ns = int(round(seconds * 1e9))
    if ns == 0:
        return "0s"
    sign, ns = ("-", -ns) if ns < 0 else ("", ns)
    if ns < 1_000_000_000:
        for unit, size in (("ms", 1_000_000), ("µs", 1_000), ("ns", 1)):
            if ns >= size:
                whole, frac = divmod(ns, size)
                digits = len(str(size)) - 1
                tail = f".{frac:0{digits}d}".rstrip("0").rstrip(".") if digits else ""
                return f"{sign}{whole}{tail}{unit}"
    hours, rest = divmod(ns, 3600 * 10**9)
    minutes, rest = divmod(rest, 60 * 10**9)
    whole, frac = divmod(rest, 10**9)
    secs = f"{whole}" + f".{frac:09d}".rstrip("0").rstrip(".")
    head = f"{hours}h{minutes}m" if hours else (f"{minutes}m" if minutes else "")
    return f"{sign}{head}{secs}s"


@dataclass(frozen=True)
class _Proc:
    """What ``top`` needs of one host process, read once from /proc."""

    hpid: int
    hppid: int
    nspid: int
    status: dict[str, str]
    stat: list[str]    # fields after the ")" of /proc/PID/stat, state first
    args: str
    comm: str


def _read_proc(pid: int) -> _Proc | None:
    try:
        stat_text = Path(f"/proc/{pid}/stat").read_text()
        status_text = Path(f"/proc/{pid}/status").read_text()
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return None
    comm = stat_text[stat_text.index("(") + 1:stat_text.rindex(")")]
    stat = stat_text[stat_text.rindex(")") + 2:].split()
    status = {}
    for line in status_text.splitlines():
        key, _, value = line.partition(":")
        status[key] = value.strip()
    nspid = int((status.get("NSpid") or str(pid)).split()[-1])
    args = " ".join(a.decode(errors="replace") for a in cmdline.rstrip(b"\0").split(b"\0")) if cmdline else ""
    return _Proc(pid, int(stat[1]), nspid, status, stat, args or f"[{comm}]", comm)


def _cgroup_procs(pid: int) -> list[int] | None:
    """The PIDs in the container's pids (v1) or unified (v2) cgroup, as the host sees them; None when it
    has no cgroup of its own."""
    try:
        text = Path(f"/proc/{pid}/cgroup").read_text()
        if text == Path("/proc/self/cgroup").read_text():
            return None  # no cgroup of its own (rootless on cgroup v1): its cgroup holds the whole session
        lines = text.splitlines()
        mounts = Path("/proc/self/mountinfo").read_text().splitlines()
    except OSError:
        return None
    wanted = {}
    for line in lines:
        _, controllers, path = line.split(":", 2)
        wanted["pids" if "pids" in controllers.split(",") else controllers or "unified"] = path
    for kind in ("pids", "unified"):
        if kind not in wanted:
            continue
        for m in mounts:
            pre, _, post = m.partition(" - ")
            fstype, _, options = (post.split() + ["", "", ""])[:3]
            fields = pre.split()
            if (kind == "pids" and fstype == "cgroup" and "pids" in options.split(",")) or (
                    kind == "unified" and fstype == "cgroup2"):
                procs = Path(fields[4]) / wanted[kind].lstrip("/").removeprefix(fields[3].lstrip("/")).lstrip("/")
                try:
                    return sorted(int(x) for x in (procs / "cgroup.procs").read_text().split())
                except OSError:
                    continue
    return None


def _descendants(pid: int) -> list[int]:
    """The fallback without cgroups: the container's process and everything it started."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            proc = _read_proc(int(entry))
            if proc is not None:
                children.setdefault(proc.hppid, []).append(proc.hpid)
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        out.append(p)
        todo.extend(children.get(p, []))
    return sorted(out)


class _TopContext:
    """Clock, names and the PID map: what turns /proc numbers into ``ps`` cells."""

    def __init__(self, procs: list[_Proc], rootfs: Path) -> None:
        from sealpod.runtime import etcfiles

        self.hz = os.sysconf("SC_CLK_TCK")
        self.uptime = float(Path("/proc/uptime").read_text().split()[0])
        self.boot = time.time() - self.uptime
        self.ns_of = {p.hpid: p.nspid for p in procs}
        passwd = etcfiles.parse_passwd(etcfiles.read_in_root(rootfs, "/etc/passwd"))
        group = etcfiles.parse_group(etcfiles.read_in_root(rootfs, "/etc/group"))
        self.users = {e.uid: e.name for e in reversed(passwd)}
        self.groups = {e.gid: e.name for e in reversed(group)}

    def cell(self, proc: _Proc, field: str) -> str:
        def ids(key: str) -> list[str]:  # real, effective, saved, filesystem
            return (proc.status.get(key) or "0 0").split()

        started = int(proc.stat[19]) / self.hz
        cpu = (int(proc.stat[11]) + int(proc.stat[12])) / self.hz
        simple: dict[str, Any] = {
            "pid": proc.nspid, "ppid": self.ns_of.get(proc.hppid, 0), "hpid": proc.hpid, "hppid": proc.hppid,
            "args": proc.args, "comm": proc.comm, "nice": proc.stat[16], "state": proc.stat[0],
            "uid": ids("Uid")[1], "ruid": ids("Uid")[0], "gid": ids("Gid")[1], "rgid": ids("Gid")[0],
            "vsz": int(proc.stat[20]) // 1024, "rss": int(proc.status.get("VmRSS", "0 kB").split()[0]),
            "seccomp": {"0": "disabled", "1": "strict", "2": "filter"}.get(proc.status.get("Seccomp", ""), "?"),
            "label": "-",
        }
        if field in simple:
            return str(simple[field])
        if field in ("user", "ruser", "huser"):
            uid = int(ids("Uid")[0 if field == "ruser" else 1])  # /proc shows it in our user namespace
            host = field == "huser"
            return self._name(uid if host else _to_container(proc.hpid, uid, "uid"), host, users=True)
        if field in ("group", "rgroup", "hgroup"):
            gid = int(ids("Gid")[0 if field == "rgroup" else 1])
            host = field == "hgroup"
            return self._name(gid if host else _to_container(proc.hpid, gid, "gid"), host, users=False)
        if field in ("groups", "hgroups"):  # supplementary groups: names in the container, host ids
            gids = (proc.status.get("Groups") or "").split()
            return ",".join(gids if field == "hgroups" else (self.groups.get(int(g), g) for g in gids))
        if field == "pcpu":
            elapsed = self.uptime - started
            return f"{(cpu / elapsed * 100) if elapsed > 0 else 0.0:.3f}"
        if field == "etime":
            return go_duration(self.uptime - started)
        if field == "time":
            return go_duration(cpu)
        if field == "tty":
            return _tty_name(int(proc.stat[4]))
        if field == "stime":
            return time.strftime("%Y-%m-%d %H:%M:%S %z", time.localtime(self.boot + started))
        return _caps(proc.status.get({"capamb": "CapAmb", "capbnd": "CapBnd", "capeff": "CapEff",
                                      "capinh": "CapInh", "capprm": "CapPrm"}[field], "0"))

    def _name(self, num: int, host: bool, *, users: bool) -> str:
        if host:
            import grp
            import pwd

            num = _to_host(num, "uid" if users else "gid")  # as the host sees it, from inside our user namespace
            try:
                return pwd.getpwuid(num).pw_name if users else grp.getgrgid(num).gr_name
            except KeyError:
                return str(num)
        return (self.users if users else self.groups).get(num, str(num))


def _map_id(map_file: str, num: int, *, outward: bool) -> int:
    """``num`` through an id map file (lines of inside, outside, count): outward or back in; unchanged
    when no line covers it or the file cannot be read."""
    try:
        lines = Path(map_file).read_text().splitlines()
    except OSError:
        return num
    for line in lines:
        inside, outside, count = (int(x) for x in line.split())
        start, target = (inside, outside) if outward else (outside, inside)
        if start <= num < start + count:
            return target + num - start
    return num


def _to_host(num: int, kind: str) -> int:
    """An id of this process's user namespace as the initial namespace knows it (a rootless sealpod
    runs in a namespace of its own: its uid 1 is the user's first subordinate id)."""
    return _map_id(f"/proc/self/{kind}_map", num, outward=True)


def _to_container(pid: int, num: int, kind: str) -> int:
    """An id of our user namespace as the process ``pid`` sees it in its own (a container with an id
    map of its own: --userns=auto, nomap, keep-id), for its user and group names."""
    return _map_id(f"/proc/{pid}/{kind}_map", num, outward=False)


def _tty_name(tty_nr: int) -> str:
    if tty_nr == 0:
        return "?"
    major, minor = (tty_nr >> 8) & 0xFFF, (tty_nr & 0xFF) | ((tty_nr >> 12) & 0xFFF00)
    if 136 <= major <= 143:
        return f"pts/{(major - 136) * 256 + minor}"
    if major == 4:
        return f"tty{minor}" if minor < 64 else f"ttyS{minor - 64}"
    return "?"


def _caps(mask_hex: str) -> str:
    """A capability mask as Podman's psgo prints it: names without CAP_, ``full`` or ``none``."""
    mask = int(mask_hex or "0", 16)
    if mask == 0:
        return "none"
    try:
        last = int(Path("/proc/sys/kernel/cap_last_cap").read_text())
    except (OSError, ValueError):
        last = len(_CAP_NAMES) - 1
    if mask == (1 << (last + 1)) - 1:
        return "full"
    return ",".join(_CAP_NAMES[i].removeprefix("CAP_") if i < len(_CAP_NAMES) else str(i)
                    for i in range(mask.bit_length()) if mask >> i & 1)


_CAP_NAMES = (
    "CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_DAC_READ_SEARCH", "CAP_FOWNER", "CAP_FSETID", "CAP_KILL", "CAP_SETGID",
    "CAP_SETUID", "CAP_SETPCAP", "CAP_LINUX_IMMUTABLE", "CAP_NET_BIND_SERVICE", "CAP_NET_BROADCAST",
    "CAP_NET_ADMIN", "CAP_NET_RAW", "CAP_IPC_LOCK", "CAP_IPC_OWNER", "CAP_SYS_MODULE", "CAP_SYS_RAWIO",
    "CAP_SYS_CHROOT", "CAP_SYS_PTRACE", "CAP_SYS_PACCT", "CAP_SYS_ADMIN", "CAP_SYS_BOOT", "CAP_SYS_NICE",
    "CAP_SYS_RESOURCE", "CAP_SYS_TIME", "CAP_SYS_TTY_CONFIG", "CAP_MKNOD", "CAP_LEASE", "CAP_AUDIT_WRITE",
    "CAP_AUDIT_CONTROL", "CAP_SETFCAP", "CAP_MAC_OVERRIDE", "CAP_MAC_ADMIN", "CAP_SYSLOG", "CAP_WAKE_ALARM",
    "CAP_BLOCK_SUSPEND", "CAP_AUDIT_READ", "CAP_PERFMON", "CAP_BPF", "CAP_CHECKPOINT_RESTORE",
)


def top_table(pid: int, fields: Sequence[str], rootfs: Path) -> list[list[str]]:
    """Header row, then one row per process of the container (by host PID order)."""
    if pid <= 0:
        raise ContainerStateInvalid("top can only be used on running containers")
    from sealpod.engine.pid_ns import namespace_pids

    pids = sorted({*(_cgroup_procs(pid) or _descendants(pid)), *namespace_pids(pid)})
    procs = [p for p in (_read_proc(x) for x in pids) if p is not None]
    ctx = _TopContext(procs, rootfs)
    rows = [[TOP_DESCRIPTORS[f] for f in fields]]
    rows += [[ctx.cell(p, f) for f in fields] for p in procs]
    return rows
