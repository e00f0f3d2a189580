"""``auto-update``: containers that run in systemd units follow their image.

A container opts in with the ``io.containers.autoupdate`` label: ``registry`` (alias ``image``)
compares the digest the registry now gives for the container's image name with the local
image's and pulls when they differ; ``local`` compares the image the container runs with the
image its name points to now.  Either way the update itself is a restart of the systemd unit
recorded in the ``PODMAN_SYSTEMD_UNIT`` label: units written by ``generate systemd --new`` (or
quadlet) create a new container from the name on every start.  When that restart fails, the
name goes back to the old image and the unit is restarted once more (``--rollback``).
"""

from __future__ import annotations

import os

from sealpod.errors import InvalidArgument, SealpodError

TYPE_CHECKING = False  # typing costs ~2 ms of every command's start-up; only type checkers need it
if TYPE_CHECKING:
    from collections.abc import Callable

    from sealpod.engine import Engine
    from sealpod.engine.container_state import ContainerRecord
    from sealpod.engine.entities import PullOptions

POLICY_LABEL = "io.containers.autoupdate"
AUTHFILE_LABEL = "io.containers.autoupdate.authfile"
UNIT_LABEL = "PODMAN_SYSTEMD_UNIT"
_POLICIES = {"": "disabled", "disabled": "disabled", "registry": "registry", "image": "registry", "local": "local"}


class UpdateReport:
    """One row of ``auto-update``: Podman's field names, so ``--format`` templates carry over."""

    __slots__ = ("Unit", "ContainerID", "ContainerName", "Image", "Policy", "Updated")

    def __init__(self, unit: str, rec: ContainerRecord, image: str, policy: str, updated: str) -> None:
        self.Unit, self.ContainerID, self.ContainerName = unit, rec.id, rec.name
        self.Image, self.Policy, self.Updated = image, policy, updated

    @property
    def Container(self) -> str:  # noqa: N802 - Podman's template field
        return f"{self.ContainerID[:12]} ({self.ContainerName})"

    def to_json(self) -> dict[str, str]:
        return {"Unit": self.Unit, "Container": self.Container, "ContainerName": self.ContainerName,
                "ContainerID": self.ContainerID, "Image": self.Image, "Policy": self.Policy,
                "Updated": self.Updated}


def policy_of(labels: dict[str, str]) -> str:
    """The container's policy, normalised (``image`` is the old name of ``registry``)."""
    value = labels.get(POLICY_LABEL, "")
    if value not in _POLICIES:
        raise InvalidArgument(f'invalid auto-update policy "{value}": valid values are "disabled", "registry", "local"')
    return _POLICIES[value]


def check_create(labels: dict[str, str], image: str) -> None:
    """At create time, as Podman: the registry policy needs a name the registry can be asked for."""
    value = labels.get(POLICY_LABEL, "")
    if _POLICIES.get(value) != "registry":
        return
    from sealpod.image.reference import parse_reference, split_transport

    transport, rest = split_transport(image)
    if transport not in (None, "docker"):
        raise InvalidArgument("auto updates require the docker image transport but image is of transport "
                              f'"{transport}"')
    try:
        ref = parse_reference(rest)
    except SealpodError:
        ref = None
    if ref is None or ref.registry is None:
        raise InvalidArgument(f'short name: auto updates require fully-qualified image reference: "{rest}"')


class AutoUpdater:
    """One ``auto-update`` run; ``restart`` restarts a systemd unit (tests may point it elsewhere)."""

    def __init__(self, engine: Engine, *, dry_run: bool, rollback: bool, options: PullOptions,
                 restart: Callable[[str], None] | None = None) -> None:
        self.engine, self.dry_run, self.rollback, self.options = engine, dry_run, rollback, options
        self.restart = restart or restart_unit
        self.errors: list[SealpodError] = []

    def run(self) -> tuple[list[UpdateReport], list[SealpodError]]:
        """The reports of the containers looked at, and what went wrong (Podman prints both)."""
        reports: list[UpdateReport] = []
        errors = self.errors
        tasks = self._tasks(errors)
        if tasks:
            self.engine.events.emit("system", "auto-update")
        for unit, rec, policy in tasks:
            try:
                reports.append(self._update(unit, rec, policy))
            except SealpodError as e:
                errors.append(e)
        return reports, errors

    def _tasks(self, errors: list[SealpodError]) -> list[tuple[str, ContainerRecord, str]]:
        """Running containers with a policy, in creation order; a bad policy fails the whole run."""
        tasks = []
        for rec in sorted(self.engine.containers.list_containers(), key=lambda r: r.created):
            if rec.state != "running":
                continue
            labels = {str(k): str(v) for k, v in (rec.config.get("labels") or {}).items()}
            policy = policy_of(labels)
            if policy == "disabled":
                continue
            unit = labels.get(UNIT_LABEL, "")
            if not unit:
                errors.append(SealpodError(f'auto-updating container "{rec.id}": no {UNIT_LABEL} label found'))
                continue
            tasks.append((unit, rec, policy))
        return tasks

    def _update(self, unit: str, rec: ContainerRecord, policy: str) -> UpdateReport:
        name = rec.image_name
        if policy == "registry":
            stale = self._registry_differs(rec)
        else:
            stale = self._local_image_id(name) not in (None, rec.image_id)
        if self.dry_run or not stale:
            return UpdateReport(unit, rec, name, policy, "pending" if stale and self.dry_run else "false")
        if policy == "registry":
            self._pull(rec)
        try:
            self.restart(unit)
        except SealpodError as e:
            self.errors.append(SealpodError(f"restarting unit {unit} during update: {e}"))
            if not self.rollback or not rec.image_id:
                return UpdateReport(unit, rec, name, policy, "failed")
            self.engine.images.tag(rec.image_id, [name])  # the name goes back to what ran before
            try:
                self.restart(unit)
            except SealpodError as e:
                self.errors.append(SealpodError(f"restarting unit {unit} during rollback: {e}"))
                return UpdateReport(unit, rec, name, policy, "failed")
            return UpdateReport(unit, rec, name, policy, "rolled back")
        return UpdateReport(unit, rec, name, policy, "true")

    def _local_image_id(self, name: str) -> str | None:
        from sealpod.errors import NoSuchImage

        try:
            return self.engine.images.get(name).id
        except NoSuchImage:
            return None

    def _options_for(self, rec: ContainerRecord) -> PullOptions:
        authfile = (rec.config.get("labels") or {}).get(AUTHFILE_LABEL)
        if not authfile:
            return self.options
        from pathlib import Path

        from sealpod.utils.record import replace

        return replace(self.options, registry=replace(self.options.registry, auth_file=Path(str(authfile))))

    def _registry_differs(self, rec: ContainerRecord) -> bool:
        from sealpod.engine.image_transfer import remote_digest

        try:
            local = self.engine.images.get(rec.image_name)
        except SealpodError:
            return True
        remote = remote_digest(self.engine, rec.image_name, self._options_for(rec))
        if remote is None:
            raise SealpodError(f'auto-updating container "{rec.id}": checking image {rec.image_name}: '
                               "the registry does not know it or cannot be reached")
        return remote not in local.digests

    def _pull(self, rec: ContainerRecord) -> None:
        self.engine.images.pull(rec.image_name, self._options_for(rec), lambda _line: None)


def restart_unit(unit: str) -> None:
    """Restart through systemctl (Podman asks systemd over D-Bus; the effect is the same)."""
    from sealpod.config.paths import is_rootless
    from sealpod.utils.proc import run

    argv = ["systemctl", *(["--user"] if is_rootless() else []), "restart", unit]
    run(argv, env=os.environ)
