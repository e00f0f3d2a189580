"""External containers: a build's working containers, which Podman leaves to Buildah.

Podman's own commands do not see them: ``ps -a``, ``rm -a`` and the other ``--all`` commands
pass them over, ``container exists`` does not find them. ``ps --external`` lists them with the
status "Storage" and the command "buildah", ``container exists --external`` finds them, ``rm``
removes them only with ``--force`` and ``image prune --external`` removes them with the images
they use. In sealpod they are ordinary container records with ``external`` set in their config,
so that a build killed half-way leaves them where these commands can find them.
"""

from __future__ import annotations

import contextlib

TYPE_CHECKING = False  # typing costs ~2 ms of every command's start-up; only type checkers need it
if TYPE_CHECKING:
    from collections.abc import Iterator

    from sealpod.engine import Engine
    from sealpod.engine.container_report import ContainerSummary
    from sealpod.engine.container_state import ContainerRecord
    from sealpod.engine.containers import ContainerService
    from sealpod.errors import NoSuchContainer

STORAGE_STATE = "storage"  # ps's STATUS "Storage"
_SUFFIX = "-working-container"


def is_external(rec: ContainerRecord) -> bool:
    return bool(rec.config.get("external"))


def not_found(typed: str) -> NoSuchContainer:
    """What Podman's own commands (inspect, start, logs, exec, ...) say of a working container:
    that there is none."""
    from sealpod.errors import NoSuchContainer

    return NoSuchContainer(f'no container with name or ID "{typed}" found: no such container')


@contextlib.contextmanager
def seeing_external(svc: ContainerService) -> Iterator[None]:
    """Let every lookup of ``svc`` find the external containers for the block: the builder
    drives its working containers through the ordinary verbs (create, start, commit, cleanup),
    and removing one calls some of them too. A service serves one command or API connection,
    so nobody else sees them meanwhile."""
    before, svc.builder_view = svc.builder_view, True
    try:
        yield
    finally:
        svc.builder_view = before


def external_ids(svc: ContainerService) -> list[str]:
    """The external containers, oldest first, without decoding any configuration."""
    rows = svc.db.db.conn.execute("SELECT id FROM containers WHERE json_extract(config, '$.external') "
                                  "ORDER BY created")
    return [row[0] for row in rows]


def storage_summary(rec: ContainerRecord) -> ContainerSummary:
    """How ``ps --external`` shows one: Buildah's command and no runtime state, whatever runs in it."""
    from sealpod.engine.container_report import ContainerSummary

    return ContainerSummary(id=rec.id, name=rec.name, image=rec.image_name, image_id=rec.image_id or "",
                            command=("buildah",), created=rec.created, state=STORAGE_STATE, exit_code=0,
                            started_at=0.0, finished_at=0.0, pid=0, labels={}, auto_remove=False, mounts=())


def with_external(svc: ContainerService, found: list[ContainerSummary], *, all_containers: bool,
                  external: bool) -> list[ContainerSummary]:
    """``ps``'s list: the external containers taken out, or (``--external``) shown as storage ones
    whether or not ``--all`` is given, the others only as ``--all`` asks."""
    from sealpod.engine.container_state import State
    from sealpod.errors import NoSuchContainer

    ids = external_ids(svc)
    if not ids and not external:
        return found
    hidden = set(ids)
    found = [s for s in found if s.id not in hidden]
    if not external:
        return found
    if not all_containers:
        found = [s for s in found if s.state in (State.RUNNING, State.PAUSED)]
    for ctr_id in ids:
        try:
            found.append(storage_summary(svc.db.get(ctr_id)))
        except NoSuchContainer:
            continue  # removed since it was listed
    return sorted(found, key=lambda s: s.created)


def refuse_remove(rec: ContainerRecord, typed: str, force: bool = False) -> None:
    """Without --force, Podman will not remove a working container (it is mounted, a build may use it)."""
    if is_external(rec) and not force:
        from sealpod.errors import Conflict

        raise Conflict(f'container "{typed}" is mounted and cannot be removed without using force: '
                       "container state improper")


def remove_users(engine: Engine, image_id: str) -> bool:
    """``image prune --external``: remove the external containers using an image; whether it is
    free now (no other container uses it)."""
    svc = engine.containers
    for name in engine.image_users(image_id):
        rec = svc.lookup(name, external=True)
        if not is_external(rec):
            return False
    for name in engine.image_users(image_id):
        svc.remove(name, force=True, volumes=True)
    return True


def working_name(svc: ContainerService, image: str) -> str:
    """Buildah's name for a working container: the image's last path component without tag or
    digest (a short ID for an unnamed image), "-working-container", and "-N" when that is taken."""
    base = image.rsplit("/", 1)[-1].split("@", 1)[0].split(":", 1)[0] if image else ""
    name = f"{base}{_SUFFIX}" if base else _SUFFIX.lstrip("-")
    rows = svc.db.db.conn.execute("SELECT name FROM containers WHERE name = ? OR name LIKE ?", (name, f"{name}-%"))
    taken = {row[0] for row in rows}
    if name not in taken:
        return name
    n = 1
    while f"{name}-{n}" in taken:
        n += 1
    return f"{name}-{n}"
