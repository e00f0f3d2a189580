"""The container's /etc/passwd and /etc/group know the user it runs as (``--passwd``, on by default).

A numeric ``--user`` the image does not know gets a passwd line (``--passwd-entry``'s template,
or ``UID:*:UID:GID:container user:WORKDIR:/bin/sh``), so that ``id``, shells and ssh can look
themselves up; a numeric group the image does not know gets a group line naming the user.
As Podman does: the files are edited in the container's own root when it is writable (``diff``
shows them, a later ``useradd`` can replace them), else bind-mounted from the container's
userdata.
"""

from __future__ import annotations

import os

TYPE_CHECKING = False
if TYPE_CHECKING:
    from pathlib import Path

    from sealpod.engine.container_config import ContainerConfig
    from sealpod.runtime.etcfiles import ExecUser
    from sealpod.runtime.spec import Mount

DEFAULT_ENTRY = "$UID:*:$UID:$GID:$NAME:$HOME:/bin/sh"


def _expand(template: str, uid: int, gid: int, home: str, username: str) -> str:
    values = {"UID": str(uid), "GID": str(gid), "NAME": "container user", "HOME": home, "USERNAME": username}
    out = template
    for key in sorted(values, key=len, reverse=True):  # $USERNAME before $NAME
        out = out.replace(f"${key}", values[key])
    return out


def _with_line(text: str | None, line: str) -> str:
    text = text or ""
    if text and not text.endswith("\n"):
        text += "\n"
    return f"{text}{line}\n"


def _keep_id_lines(uid: int, passwd: str | None, group: str | None, workdir: str, rootfs: Path,
                   mounted: set[str]) -> tuple[str, str]:
    """``--userns=keep-id``: the host user's own passwd and group lines (its name, gid and gecos), as
    Podman adds them; "" for what the image knows already.  Home is the user's own when the container
    has that directory (a volume there, say), else the working directory."""
    import pwd

    from sealpod.runtime import etcfiles

    try:
        u = pwd.getpwuid(uid)
    except KeyError:
        return "", ""
    home = workdir
    if u.pw_dir.rstrip("/") in mounted or etcfiles.secure_join(rootfs, u.pw_dir).is_dir():
        home = u.pw_dir
    users = etcfiles.parse_passwd(passwd)
    known = any(e.name == u.pw_name or e.uid == uid for e in users)
    user_line = "" if known else f"{u.pw_name}:*:{uid}:{u.pw_gid}:{u.pw_gecos}:{home}:/bin/sh"
    groups = etcfiles.parse_group(group)
    group_line = "" if any(g.gid == u.pw_gid or g.name == u.pw_name for g in groups) else \
        f"{u.pw_name}:x:{u.pw_gid}:{u.pw_name}"
    return user_line, group_line


def wanted_lines(cfg: ContainerConfig, rootfs: Path, user_spec: str, user: ExecUser,
                 workdir: str, keep_id_uid: int | None = None) -> dict[str, str]:
    """The new content of /etc/passwd and /etc/group, for those that need a line; none with --passwd=false.
    ``keep_id_uid``: the host user a ``--userns=keep-id`` container keeps, who gets its own lines."""
    from sealpod.runtime import etcfiles

    if not cfg.passwd:
        return {}
    user_part, _, group_part = (user_spec or "").partition(":")
    out: dict[str, str] = {}
    passwd = etcfiles.read_in_root(rootfs, "/etc/passwd")
    if keep_id_uid is not None:
        mounted = {m.destination.rstrip("/") for m in cfg.mounts}
        user_line, group_line = _keep_id_lines(keep_id_uid, passwd, etcfiles.read_in_root(rootfs, "/etc/group"),
                                               workdir or "/", rootfs, mounted)
        if user_line:
            out["/etc/passwd"] = passwd = _with_line(passwd, user_line)
        if group_line:
            out["/etc/group"] = _with_line(etcfiles.read_in_root(rootfs, "/etc/group"), group_line)
    known_user = any(e.uid == user.uid for e in etcfiles.parse_passwd(passwd))
    username = user.name or str(user.uid)
    if not known_user and (not user_part or user_part.isdigit()):
        line = _expand(cfg.passwd_entry or DEFAULT_ENTRY, user.uid, user.gid, workdir or "/", username)
        out["/etc/passwd"] = passwd = _with_line(passwd, line)
    for line in host_user_lines(cfg.hostusers, passwd, workdir or "/"):
        out["/etc/passwd"] = passwd = _with_line(passwd, line)
    group = out.get("/etc/group") or etcfiles.read_in_root(rootfs, "/etc/group")
    gids = {g.gid for g in etcfiles.parse_group(group)}
    if group_part and group_part.isdigit() and user.gid not in gids:
        out["/etc/group"] = _with_line(group, f"{user.gid}:x:{user.gid}:{username}")
    elif not group_part and not known_user and user_part.isdigit() and user.uid not in gids:
        out["/etc/group"] = _with_line(group, f"{user.uid}:x:{user.uid}:{username}")  # Podman's group of the user
    return out


def host_user_lines(hostusers: tuple[str, ...], passwd: str | None, home: str) -> list[str]:
    """``--hostuser NAME|UID``: the host's account, as a line for the container's /etc/passwd,
    unless the image knows that name or uid already (home: the working directory, as Podman)."""
    if not hostusers:
        return []
    import pwd

    from sealpod.errors import NoSuchUser
    from sealpod.runtime import etcfiles

    entries = etcfiles.parse_passwd(passwd)
    out = []
    for wanted in hostusers:
        try:
            u = pwd.getpwuid(int(wanted)) if wanted.isdigit() else pwd.getpwnam(wanted)
        except KeyError:
            raise NoSuchUser(f"user: unknown user {wanted}") from None  # at start, as Podman's: exit 126
        if any(e.name == u.pw_name or e.uid == u.pw_uid for e in entries):
            continue
        out.append(f"{u.pw_name}:*:{u.pw_uid}:{u.pw_gid}:{u.pw_gecos}:{home}:/bin/sh")
    return out


def passwd_mounts(cfg: ContainerConfig, rootfs: Path, userdata: Path, user_spec: str, user: ExecUser,
                  workdir: str, keep_id_uid: int | None = None) -> list[Mount]:
    """Write what :func:`wanted_lines` asks for; the mounts needed when the root is read-only."""
    from sealpod.runtime.etcfiles import secure_join
    from sealpod.runtime.spec import Mount

    mounts: list[Mount] = []
    taken = {m.destination.rstrip("/") for m in cfg.mounts}
    for dest, content in wanted_lines(cfg, rootfs, user_spec, user, workdir, keep_id_uid).items():
        if dest in taken:
            continue  # the user's own file: never touched
        if cfg.read_only or cfg.rootfs:
            path = userdata / os.path.basename(dest)
            path.write_text(content)
            mounts.append(Mount(dest, "bind", os.fspath(path), ("rbind", "rprivate", "ro" if cfg.read_only else "rw")))
            continue
        target = secure_join(rootfs, dest)
        target.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW | os.O_CLOEXEC, 0o644)
        with os.fdopen(fd, "w") as f:
            f.write(content)
    return mounts
