"""Named and anonymous volumes (Podman's ``local`` driver): records, data, mounts, copy-up.

A volume is a directory ``<volume_path>/<name>/_data`` plus a row in the graph root's
database.  Volumes created with ``-o type=…`` or ``-o device=…`` are filesystems mounted on
``_data`` when the first container using them starts and unmounted when the last one stops
(``MountCount``).  On its first use by a container, an empty volume receives a copy of the
image's content at the mount point, and takes that directory's owner and mode
(``NeedsCopyUp``/``NeedsChown``), so ``-v data:/var/lib/db`` starts out as the image had it.

Whether a volume is in use is never stored: it is read from the containers' own configs
(named volumes) and from the volume's owner (anonymous volumes, one per container and path).
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import re
import sqlite3
import stat
import time
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path

from sealpod.engine.volume_filters import build_filters, filter_predicate, parse_until  # noqa: F401 - re-exported
from sealpod.errors import (
    InvalidArgument,
    NoSuchContainer,
    NoSuchVolume,
    SealpodError,
    StorageError,
    VolumeExists,
    VolumeInUse,
)
from sealpod.utils.record import dataclass, field
from sealpod.utils.timefmt import rfc3339_local

TYPE_CHECKING = False  # typing costs ~2 ms of every command's start-up; only type checkers need it
if TYPE_CHECKING:
    from typing import Any, BinaryIO

    from sealpod.engine import Engine
    from sealpod.engine.container_config import MountSpec
    from sealpod.engine.container_state import ContainerRecord
    from sealpod.storage.db import Database

VOLUME_SCHEMA = 2
_SCHEMA = """
CREATE TABLE IF NOT EXISTS volumes (
    name          TEXT PRIMARY KEY,
    driver        TEXT NOT NULL,
    created       REAL NOT NULL,
    labels        TEXT NOT NULL,               -- JSON object
    options       TEXT NOT NULL,               -- JSON object, as given to -o (plus UID/GID)
    anonymous     INTEGER NOT NULL DEFAULT 0,
    owner         TEXT,                        -- container ID of an anonymous volume
    owner_dest    TEXT,                        -- and the path it is mounted on there
    needs_copy_up INTEGER NOT NULL DEFAULT 1,
    needs_chown   INTEGER NOT NULL DEFAULT 1,
    mount_count   INTEGER NOT NULL DEFAULT 0,
    chowned       TEXT                         -- "UID:GID" its first user's ids chowned it to
);
CREATE INDEX IF NOT EXISTS volumes_by_owner ON volumes(owner);
INSERT OR REPLACE INTO meta VALUES ('volume_schema', '2');
"""

NAME_PATTERN = "[a-zA-Z0-9][a-zA-Z0-9_.-]*"
_NAME_RE = re.compile(NAME_PATTERN)
_LS_FILTERS = ("name", "driver", "scope", "label", "opt", "dangling", "until")
_PRUNE_FILTERS = ("label", "label!", "until")

# mount(8) option words that are mount(2) flags; every other word goes to the filesystem as data.
_MS_FLAGS = {"ro": 1, "nosuid": 2, "nodev": 4, "noexec": 8, "sync": 16, "mand": 64, "dirsync": 128,
             "noatime": 1024, "nodiratime": 2048, "bind": 4096, "rbind": 4096 | 16384, "relatime": 1 << 21,
             "strictatime": 1 << 24}
_MS_NOOPS = frozenset({"rw", "suid", "dev", "exec", "async", "atime", "diratime", "defaults", "nomand",
                       "norelatime", "auto", "noauto", "nofail"})


# --- pure parts -----------------------------------------------------------------------------

def check_name(name: str) -> str:
    if not _NAME_RE.fullmatch(name):
        raise InvalidArgument(f"running volume create option: names must match {NAME_PATTERN}: invalid argument")
    if len(name) > 200:  # it names a directory: keep it a valid file name
        raise InvalidArgument("running volume create option: names must be at most 200 characters: invalid argument")
    return name


@dataclass(frozen=True)
class LocalOptions:
    """The ``local`` driver's ``-o`` options, checked: what to mount, and whom the data belongs to."""

    fs_type: str = ""
    device: str = ""
    mount_options: tuple[str, ...] = ()
    uid: int | None = None
    gid: int | None = None
    nocopy: bool = False

    @property
    def needs_mount(self) -> bool:
        return bool(self.fs_type or self.device)


def parse_options(options: Mapping[str, str]) -> LocalOptions:
    """Podman's checks of ``-o type=,device=,o=``; ``o`` holds mount(8) options plus uid/gid/nocopy."""
    fs_type = device = ""
    mount_options: list[str] = []
    uid = gid = None
    nocopy = False
    for key, value in options.items():
        lower = key.lower()
        if lower == "type":
            fs_type = value
        elif lower == "device":
            device = value
        elif lower in ("uid", "gid"):
            number = _int_option(key, value)
            uid, gid = (number, gid) if lower == "uid" else (uid, number)
        elif lower == "o":
            for word in (w.strip() for w in value.split(",")):
                wkey, _, wval = word.partition("=")
                if wkey in ("uid", "gid"):
                    number = _int_option(wkey, wval)
                    uid, gid = (number, gid) if wkey == "uid" else (uid, number)
                elif wkey in ("size", "inodes") and fs_type != "tmpfs" and options.get("type") != "tmpfs":
                    raise InvalidArgument("volume options size and inodes not supported. "
                                          "Filesystem does not support Project Quota")
                elif wkey == "nocopy":
                    nocopy = True
                    continue
                if word:
                    mount_options.append(word)
        elif lower in ("nocopy", "copy"):
            nocopy = lower == "nocopy"
        else:
            raise InvalidArgument(f"invalid mount option {key} for driver 'local': invalid argument")
    if mount_options and not (fs_type or device) and any(
            w.partition("=")[0] not in ("uid", "gid") for w in mount_options):
        raise InvalidArgument("invalid volume option o for driver 'local': "
                              "the o option needs a type or device option as well")
    return LocalOptions(fs_type, device, tuple(mount_options), uid, gid, nocopy)


def _int_option(key: str, value: str) -> int:
    try:
        return int(value)
    except ValueError:
        raise InvalidArgument(f'cannot convert {key} "{value}" to integer: invalid argument') from None


def mount_arguments(opts: LocalOptions) -> tuple[str, str, int, str]:
    """(source, fstype, flags, data) for mount(2), as mount(8) would turn ``-t TYPE -o O DEVICE`` into."""
    flags = 0
    data: list[str] = []
    for word in opts.mount_options:
        key = word.partition("=")[0]
        if word in _MS_FLAGS:
            flags |= _MS_FLAGS[word]
        elif word in _MS_NOOPS or key in ("uid", "gid") and opts.fs_type not in ("tmpfs", ""):
            continue
        else:
            data.append(word)
    fs_type = opts.fs_type
    if fs_type == "bind" or flags & _MS_FLAGS["bind"]:
        flags |= _MS_FLAGS["bind"]
        fs_type = "none"
        data = []
    source = opts.device or fs_type or "none"
    return source, fs_type or "none", flags, ",".join(data)


def resolve_in_root(root: Path, path: str) -> Path:
    """``path`` inside ``root`` with symlinks followed as if ``root`` were ``/``: never outside it."""
    parts = [p for p in path.split("/") if p not in ("", ".")]
    done: list[str] = []
    hops = 0
    while parts:
        part = parts.pop(0)
        if part == "..":
            if done:
                done.pop()
            continue
        candidate = root.joinpath(*done, part)
        try:
            target = os.readlink(candidate)
        except OSError:
            done.append(part)
            continue
        hops += 1
        if hops > 40:
            raise InvalidArgument(f"{path}: too many levels of symbolic links")
        if target.startswith("/"):
            done = []
        parts = [p for p in target.split("/") if p not in ("", ".")] + parts
    return root.joinpath(*done)


@dataclass(frozen=True)
class Volume:
    name: str
    driver: str = "local"
    created: float = 0.0
    labels: dict[str, str] = field(default_factory=dict)
    options: dict[str, str] = field(default_factory=dict)
    anonymous: bool = False
    owner: str | None = None
    owner_dest: str | None = None
    needs_copy_up: bool = True
    needs_chown: bool = True
    mount_count: int = 0
    chowned: tuple[int, int] | None = None

    @property
    def local(self) -> LocalOptions:
        return parse_options(self.options)


def inspect_doc(vol: Volume, mountpoint: Path) -> dict[str, Any]:
    """Podman 4's ``volume inspect`` document, keys in its order, empty optional ones left out."""
    local = vol.local
    doc: dict[str, Any] = {"Name": vol.name, "Driver": vol.driver, "Mountpoint": os.fspath(mountpoint),
                           "CreatedAt": rfc3339_local(vol.created), "Labels": dict(vol.labels), "Scope": "local",
                           "Options": dict(sorted(vol.options.items()))}
    # as Podman: the ids of the user its first container ran as (the mount point chowned for it), else -o uid=/gid=
    uid, gid = vol.chowned or (0, 0)
    if uid or local.uid:
        doc["UID"] = uid or local.uid
    if gid or local.gid:
        doc["GID"] = gid or local.gid
    if vol.anonymous:
        doc["Anonymous"] = True
    doc["MountCount"] = vol.mount_count
    if vol.needs_copy_up:
        doc["NeedsCopyUp"] = True
    if vol.needs_chown and local.uid is None and local.gid is None:
        doc["NeedsChown"] = True
    return doc


# --- the service ----------------------------------------------------------------------------

_COLUMNS = ("name", "driver", "created", "labels", "options", "anonymous", "owner", "owner_dest",
            "needs_copy_up", "needs_chown", "mount_count")


def _from_row(row: sqlite3.Row) -> Volume:
    d = dict(row)
    return Volume(name=d["name"], driver=d["driver"], created=d["created"], labels=json.loads(d["labels"]),
                  options=json.loads(d["options"]), anonymous=bool(d["anonymous"]), owner=d["owner"],
                  owner_dest=d["owner_dest"], needs_copy_up=bool(d["needs_copy_up"]),
                  needs_chown=bool(d["needs_chown"]), mount_count=int(d["mount_count"]),
                  chowned=_id_pair(d.get("chowned")))


def _id_pair(text: str | None) -> tuple[int, int] | None:
    if not text:
        return None
    uid, _, gid = text.partition(":")
    return int(uid), int(gid)


def _no_such(name: str) -> NoSuchVolume:
    return NoSuchVolume(f'no volume with name "{name}" found: no such volume')


def _mount_specs(rec: ContainerRecord) -> list[dict[str, Any]]:
    return [m for m in rec.config.get("mounts", ()) if m.get("type") == "volume"]


class VolumeService:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.db: Database = engine.store.db
        self.base = engine.config.volume_path
        row = None
        try:
            row = self.db.conn.execute("SELECT value FROM meta WHERE key='volume_schema'").fetchone()
        except sqlite3.OperationalError:
            pass
        if row is None or int(row[0]) != VOLUME_SCHEMA:
            with self.db.write() as conn:
                for stmt in _SCHEMA.strip().split(";"):
                    if stmt.strip():
                        conn.execute(stmt)
                with contextlib.suppress(sqlite3.OperationalError):  # a schema 1 table: the column added
                    conn.execute("ALTER TABLE volumes ADD COLUMN chowned TEXT")

    # --- records --------------------------------------------------------------------

    def data_dir(self, name: str) -> Path:
        return self.base / name / "_data"

    def get(self, name: str) -> Volume:
        row = self.db.conn.execute("SELECT * FROM volumes WHERE name=?", (name,)).fetchone()
        if row is None:
            raise _no_such(name)
        return _from_row(row)

    def lookup(self, name: str) -> Volume:
        """``volume inspect/rm``: the volume of that name, else the only one whose name starts so, as
        Podman looks volumes up (``rm myv`` removes ``myvol``); two such is an error."""
        try:
            return self.get(name)
        except NoSuchVolume:
            rows = self.db.conn.execute("SELECT * FROM volumes WHERE substr(name, 1, ?)=? LIMIT 2",
                                        (len(name), name)).fetchall()
            if len(rows) == 1 and name:
                return _from_row(rows[0])
            if len(rows) > 1:
                raise VolumeExists(f'more than one result for volume name "{name}": volume already exists') from None
            raise

    def exists(self, name: str) -> bool:
        return self.db.conn.execute("SELECT 1 FROM volumes WHERE name=?", (name,)).fetchone() is not None

    def all(self) -> list[Volume]:
        return [_from_row(r) for r in self.db.conn.execute("SELECT * FROM volumes ORDER BY name")]

    def _set(self, name: str, **changes: Any) -> None:
        sets = ",".join(f"{k}=?" for k in changes)
        with self.db.write() as conn:
            conn.execute(f"UPDATE volumes SET {sets} WHERE name=?", (*changes.values(), name))

    @contextlib.contextmanager
    def _lock(self, name: str) -> Iterator[None]:
        """One volume's mounts, copy-up and removal serialise across processes."""
        locks = self.engine.store.run_root / "locks"
        locks.mkdir(parents=True, exist_ok=True)
        fd = os.open(locks / f"volume-{name}", os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            yield
        finally:
            os.close(fd)

    # --- create ---------------------------------------------------------------------

    def create(self, name: str | None = None, *, driver: str = "local", options: Mapping[str, str] | None = None,
               labels: Mapping[str, str] | None = None, ignore: bool = False, anonymous: bool = False,
               owner: str | None = None, owner_dest: str | None = None) -> Volume:
        """``volume create``, and a volume's creation on first use by a container."""
        import secrets

        name = check_name(name) if name else secrets.token_hex(32)
        if self.exists(name):
            if ignore:
                return self.get(name)
            raise VolumeExists(f"volume with name {name} already exists: volume already exists")
        if driver not in ("local", ""):
            raise InvalidArgument(f"volume {name} uses volume plugin {driver} but it could not be retrieved: "
                                  f"no volume plugin with name {driver} available: required plugin missing")
        opts = dict(options or {})
        local = parse_options(opts)
        self._check_device(local)
        for key, number in (("UID", local.uid), ("GID", local.gid)):
            if number is not None:
                opts[key] = str(number)
        vol = Volume(name=name, driver="local", created=time.time(), labels=dict(labels or {}), options=opts,
                     anonymous=anonymous, owner=owner, owner_dest=owner_dest, needs_copy_up=not local.nocopy)
        self._make_dirs(vol, local)
        try:
            with self.db.write() as conn:
                conn.execute(f"INSERT INTO volumes ({','.join(_COLUMNS)}) VALUES ({','.join('?' * len(_COLUMNS))})",
                             (vol.name, vol.driver, vol.created, json.dumps(vol.labels), json.dumps(vol.options),
                              int(vol.anonymous), vol.owner, vol.owner_dest, int(vol.needs_copy_up), 1, 0))
        except sqlite3.IntegrityError:
            if ignore:
                return self.get(name)
            raise VolumeExists(f"volume with name {name} already exists: volume already exists") from None
        self.engine.events.emit("volume", "create", name=vol.name)
        return vol

    @staticmethod
    def _check_device(local: LocalOptions) -> None:
        if local.device and (local.fs_type == "bind" or any(w in ("bind", "rbind") for w in local.mount_options)):
            if not os.path.exists(local.device):
                raise InvalidArgument(f"invalid volume option device for driver 'local': stat {local.device}: "
                                      "no such file or directory")

    def _make_dirs(self, vol: Volume, local: LocalOptions) -> None:
        top = self.base / vol.name
        try:
            self.base.mkdir(parents=True, exist_ok=True)
            top.mkdir(mode=0o700, exist_ok=True)
            data = top / "_data"
            data.mkdir(mode=0o755, exist_ok=True)
            if local.uid is not None or local.gid is not None:
                os.chown(data, -1 if local.uid is None else local.uid, -1 if local.gid is None else local.gid)
        except OSError as e:
            raise StorageError(f"creating volume directory {top}: {e.strerror}") from e

    def ensure(self, name: str | None) -> Volume:
        """A named volume, created on first use; ``None``: a new anonymous volume."""
        if name is None:
            return self.create(anonymous=True)
        try:
            return self.get(name)
        except NoSuchVolume:
            return self.create(name, ignore=True)

    def _for_mount(self, rec: ContainerRecord, source: str, destination: str,
                   options: Sequence[str] = ()) -> Volume:
        if source:
            from sealpod.engine.mount_options import driver_options

            opts = driver_options(options)
            if opts and not self.exists(source):  # --mount type=volume,volume-opt=K=V: made with them
                return self.create(source, options=opts, ignore=True)
            return self.ensure(source)
        row = self.db.conn.execute("SELECT * FROM volumes WHERE owner=? AND owner_dest=?",
                                   (rec.id, destination)).fetchone()
        if row is not None:
            return _from_row(row)
        return self.create(anonymous=True, owner=rec.id, owner_dest=destination)

    def anonymous_at(self, ctr_id: str, destination: str) -> str | None:
        """The name of the anonymous volume a container has at ``destination`` (made at its create)."""
        row = self.db.conn.execute("SELECT name FROM volumes WHERE owner=? AND owner_dest=?",
                                   (ctr_id, destination)).fetchone()
        return str(row[0]) if row is not None else None

    def prepare_for(self, rec: ContainerRecord) -> list[Volume]:
        """Create the volumes a container names, and its anonymous ones, as ``create`` does in Podman;
        the images it mounts (``--mount type=image``) must exist."""
        for m in rec.config.get("mounts", ()):
            if m.get("type") == "image":
                self.engine.images.get(str(m.get("source") or ""))
        return [self._for_mount(rec, m.get("source") or "", m["destination"], m.get("options") or ())
                for m in _mount_specs(rec)]

    # --- use by containers ----------------------------------------------------------

    def users(self) -> dict[str, list[str]]:
        """Volume name → IDs of the containers (in any state) that use it."""
        out: dict[str, list[str]] = {}
        records = self.engine.containers.db.all()
        for rec in records:
            for m in _mount_specs(rec):
                if m.get("source"):
                    out.setdefault(m["source"], []).append(rec.id)
        for name, owner in self.db.conn.execute("SELECT name, owner FROM volumes WHERE owner IS NOT NULL"):
            if owner not in out.get(name, []):
                out.setdefault(name, []).append(owner)
        live = {r.id for r in records}
        return {name: [c for c in ids if c in live] for name, ids in out.items() if any(c in live for c in ids)}

    def mount_for(self, rec: ContainerRecord, spec: MountSpec, rootfs: Path | None = None,
                  uid: int = 0, gid: int = 0) -> Path:
        """The host directory to bind for one volume mount of a starting container.

        Mounts the volume's filesystem if it has one, and on first use copies the image's
        content at the mount point into it (unless ``nocopy``).
        """
        vol = self._for_mount(rec, spec.source, spec.destination)
        data = self.data_dir(vol.name)
        with self._lock(vol.name):
            vol = self.get(vol.name)
            local = vol.local
            if local.needs_mount:
                self._mount(vol, local, data)
            if rootfs is not None and (vol.needs_copy_up or vol.needs_chown):
                self._first_use(vol, data, resolve_in_root(rootfs, spec.destination), uid, gid,
                                copy="nocopy" not in spec.options)
        return data

    def _mount(self, vol: Volume, local: LocalOptions, data: Path) -> None:
        from sealpod.storage import mount

        if vol.mount_count <= 0 or not mount.is_mountpoint(os.fspath(data)):
            source, fs_type, flags, options = mount_arguments(local)
            data.mkdir(parents=True, exist_ok=True)
            try:
                mount.mount(source, os.fspath(data), fs_type, flags, options)
            except StorageError as e:
                raise StorageError(f"mounting volume {vol.name}: {e}") from e
            count = 1
        else:
            count = vol.mount_count + 1
        self._set(vol.name, mount_count=count)

    def _first_use(self, vol: Volume, data: Path, src: Path, uid: int, gid: int, *, copy: bool) -> None:
        from sealpod.utils.proc import run

        try:
            st = os.stat(src)
        except OSError:
            st = None
        copied_up = not vol.needs_copy_up or any(data.iterdir())  # a volume with content is never filled again
        if not copied_up and copy and st is not None and stat.S_ISDIR(st.st_mode) and any(os.scandir(src)):
            run(["cp", "-a", "--", f"{src}/.", f"{data}/"])
            copied_up = True
        local = vol.local
        if vol.needs_chown and local.uid is None and local.gid is None:
            if st is not None and stat.S_ISDIR(st.st_mode):
                os.chown(data, st.st_uid, st.st_gid)
                os.chmod(data, stat.S_IMODE(st.st_mode))
                os.utime(data, ns=(st.st_atime_ns, st.st_mtime_ns))  # as Podman: looks like the image's dir
            else:
                os.chown(data, uid, gid)
            self._set(vol.name, chowned=f"{uid}:{gid}")
        # as in Podman: an empty (or absent) mount point leaves the copy-up pending for a later user
        self._set(vol.name, needs_copy_up=0 if copied_up else 1, needs_chown=0)

    def mount_volume(self, name: str, *, in_userns: bool = True) -> Path:
        """``volume mount``: the volume's filesystem mounted (one more mount counted, if it has one
        to mount) for tools on the host; its mount point is returned."""
        if not in_userns:
            from sealpod.errors import RootlessError

            raise RootlessError('cannot run command "sealpod volume mount" in rootless mode, '
                                "must execute `sealpod unshare` first")
        data = self.data_dir(self.get(name).name)
        with self._lock(name):
            vol = self.get(name)
            if vol.local.needs_mount:
                self._mount(vol, vol.local, data)
        return data

    def unmount_volume(self, name: str) -> None:
        """``volume unmount``: one mount less; the filesystem is unmounted with the last one."""
        from sealpod.storage import mount

        with self._lock(self.get(name).name):
            vol = self.get(name)
            if not vol.local.needs_mount or vol.mount_count <= 0:
                return
            if vol.mount_count == 1:
                mount.unmount(os.fspath(self.data_dir(name)), detach=True)
            self._set(name, mount_count=vol.mount_count - 1)

    def release_for(self, rec: ContainerRecord) -> None:
        """A container stopped: unmount the volume filesystems that no running container holds any more,
        and give up its image mounts."""
        from sealpod.engine.image_mounts import release_container_image_mounts
        from sealpod.storage import mount

        release_container_image_mounts(self.engine, self.engine.containers.paths(rec.id).userdata,
                                       rec.config.get("mounts", ()))

        names = {m.get("source") for m in _mount_specs(rec) if m.get("source")}
        names |= {r[0] for r in self.db.conn.execute("SELECT name FROM volumes WHERE owner=?", (rec.id,))}
        for name in sorted(n for n in names if n):
            with self._lock(name):
                try:
                    vol = self.get(name)
                except NoSuchVolume:
                    continue
                if not vol.local.needs_mount or vol.mount_count <= 0:
                    continue
                count = vol.mount_count - 1
                if count == 0:
                    mount.unmount(os.fspath(self.data_dir(name)), detach=True)
                self._set(name, mount_count=count)

    # --- list / inspect -------------------------------------------------------------

    def list_volumes(self, filters: Sequence[str] = ()) -> list[Volume]:
        """``volume ls``: Podman 4.3 keeps a volume that matches any one of the filters."""
        volumes = self.all()
        if not filters:
            return volumes
        users = self.users() if any(f.startswith("dangling=") for f in filters) else {}
        preds = build_filters(filters, _LS_FILTERS, lambda v: v.name in users, time.time())
        return [v for v in volumes if any(p(v) for p in preds)]

    def inspect(self, name: str) -> dict[str, Any]:
        vol = self.lookup(name)
        return inspect_doc(vol, self.data_dir(vol.name))

    def inspect_doc(self, vol: Volume) -> dict[str, Any]:
        return inspect_doc(vol, self.data_dir(vol.name))

    def inspect_all(self) -> list[dict[str, Any]]:
        return [inspect_doc(v, self.data_dir(v.name)) for v in self.all()]

    # --- remove ---------------------------------------------------------------------

    def remove(self, name: str, *, force: bool = False) -> str:
        """Remove a volume; with ``force``, the containers using it go first, as in Podman."""
        vol = self.lookup(name)
        users = self.users().get(vol.name, [])
        if users and not force:
            raise VolumeInUse(f"volume {vol.name} is being used by the following container(s): "
                              f"{', '.join(users)}: volume is being used")
        for ctr_id in users:
            try:
                self.engine.containers.remove(ctr_id, force=True)
            except NoSuchContainer:
                pass
        self._delete(vol)
        self.engine.events.emit("volume", "remove", name=vol.name)
        return vol.name

    def _delete(self, vol: Volume) -> None:
        from sealpod.storage import mount

        data = self.data_dir(vol.name)
        with self._lock(vol.name):
            if mount.is_mountpoint(os.fspath(data)):
                mount.unmount(os.fspath(data), detach=True)
            if mount.is_mountpoint(os.fspath(data)):
                raise StorageError(f"volume {vol.name} is still mounted on {data}: not removing its data")
            with self.db.write() as conn:
                conn.execute("DELETE FROM volumes WHERE name=?", (vol.name,))
            import shutil

            shutil.rmtree(self.base / vol.name, ignore_errors=True)
        with contextlib.suppress(OSError):
            (self.engine.store.run_root / "locks" / f"volume-{vol.name}").unlink()

    def remove_anonymous_of(self, rec: ContainerRecord) -> list[str]:
        """``rm -v``/``run --rm``: the container's anonymous volumes go with it (unless another uses them)."""
        removed = []
        rows = self.db.conn.execute("SELECT * FROM volumes WHERE owner=? AND anonymous=1", (rec.id,)).fetchall()
        for vol in (_from_row(r) for r in rows):
            others = [c for c in self.users().get(vol.name, []) if c != rec.id]
            if others:
                continue
            self._delete(vol)
            removed.append(vol.name)
        return removed

    def prune_candidates(self, filters: Sequence[str] = ()) -> list[Volume]:
        """What ``prune`` would remove: unused volumes that all filters match (the prompt lists them)."""
        users = self.users()
        preds = build_filters(filters, _PRUNE_FILTERS, lambda v: v.name in users, time.time())
        return [vol for vol in self.all() if vol.name not in users and all(p(vol) for p in preds)]

    def prune(self, filters: Sequence[str] = ()) -> list[str]:
        """Remove every volume no container uses (and that all filters match)."""
        removed = []
        for vol in self.prune_candidates(filters):
            try:
                self._delete(vol)
            except SealpodError:
                continue
            removed.append(vol.name)
        return removed

    # --- export / import ------------------------------------------------------------

    @contextlib.contextmanager
    def _data_available(self, name: str) -> Iterator[Path]:
        """The volume's data, its filesystem mounted for the time of an export or import if needed."""
        from sealpod.storage import mount

        vol = self.get(name)
        data = self.data_dir(name)
        local = vol.local
        with self._lock(name):
            temporary = local.needs_mount and not mount.is_mountpoint(os.fspath(data))
            if temporary:
                source, fs_type, flags, options = mount_arguments(local)
                mount.mount(source, os.fspath(data), fs_type, flags, options)
            try:
                yield data
            finally:
                if temporary:
                    mount.unmount(os.fspath(data), detach=True)

    def export(self, name: str, out: BinaryIO) -> None:
        """The volume's content as an uncompressed tar stream, paths relative to its root."""
        import tarfile

        if not self.exists(name):
            raise NoSuchVolume(f"no such volume {name}")
        with self._data_available(name) as data, tarfile.open(fileobj=out, mode="w|",
                                                               format=tarfile.PAX_FORMAT) as tar:
            for entry in sorted(os.listdir(data)):
                tar.add(data / entry, arcname=entry, recursive=True)

    def import_(self, name: str, source: BinaryIO) -> None:
        """Unpack a tar stream into the volume (over what is there); paths may not escape it."""
        import tarfile

        from sealpod.utils.tarsafe import extract_all

        if not self.exists(name):
            raise NoSuchVolume(f"no such volume {name}")
        with self._data_available(name) as data:
            try:
                with tarfile.open(fileobj=source, mode="r|*") as tar:
                    extract_all(tar, data, policy="tar")
            except (tarfile.TarError, OSError) as e:
                raise InvalidArgument(f"importing into volume {name}: {e}") from e
