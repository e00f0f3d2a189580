"""Checks of a pod's specification before anything is recorded, with Podman's messages.

Apart from ``pods.py`` so that the rules about what a pod without an infra container may ask for,
and the one namespace of names that pods and containers share, stay in one place for the CLI, the
REST API and kube play alike.
"""

from __future__ import annotations

import sqlite3

from sealpod.errors import InvalidArgument, PodExists

TYPE_CHECKING = False  # typing costs ~2 ms of every command's start-up; only type checkers need it
if TYPE_CHECKING:
    from sealpod.engine import Engine
    from sealpod.engine.container_state import ContainerRecord
    from sealpod.engine.pods import PodSpec

# PodSpec fields that only an infra container can carry, and Podman's word for each
_INFRA_ONLY = (("add_hosts", "HostAdd"), ("dns_servers", "DNSServer"), ("dns_search", "DNSSearch"),
               ("dns_options", "DNSOption"))
_NAMESPACE_FLAGS = ("pid", "uts")


def check_no_infra(spec: PodSpec) -> None:
    """A pod without an infra container has no network namespace of its own to configure."""
    if spec.infra:
        return
    if spec.no_hosts:
        raise InvalidArgument("cannot specify --no-hosts without an infra container")
    if spec.ports:
        raise InvalidArgument("you must have an infra container to publish port bindings to the host")
    if spec.network or spec.networks:
        raise InvalidArgument("you must have an infra container to publish port bindings or set a network: "
                              "invalid argument")
    if spec.ip:
        raise InvalidArgument("cannot set --ip without infra container: invalid argument")
    if spec.mac_address:
        raise InvalidArgument("cannot set --mac without infra container: invalid argument")
    for attr, word in _INFRA_ONLY:
        if getattr(spec, attr):
            first = "NoInfo" if attr == "dns_search" else "NoInfra"  # Podman 4.3.1's own spelling
            raise InvalidArgument(f"{first} and {word} are mutually exclusive pod options: invalid pod spec")


def check_pod_network(spec: PodSpec) -> None:
    """A pod's network is its own: it cannot join another container's or a namespace path."""
    if spec.network.startswith("container:"):
        raise InvalidArgument("pods presently do not support network mode container")
    if spec.network.startswith("ns:"):
        raise InvalidArgument("pods presently do not support network mode path")


def check_namespace_flags(spec: PodSpec) -> None:
    """``--pid``/``--uts`` of the infra container: host, private or ns:PATH (a pod joins no container)."""
    for kind in _NAMESPACE_FLAGS:
        value = str(spec.infra_config.get(kind) or "")
        if not value or value in ("host", "private") or value.startswith("ns:"):
            continue
        if value == "pod":
            raise InvalidArgument("cannot use pod namespace as container is not joining a pod or pod has no infra "
                                  "container: invalid argument")
        if value.startswith("container:"):  # a pod's namespaces are its own: no container to join them from
            from sealpod.errors import NoSuchContainer

            raise NoSuchContainer(f"looking up container to share {kind} namespace with: no container with name or "
                                  f'ID "{value[10:]}" found: no such container')
        raise InvalidArgument(f"unrecognized namespace mode {value} passed")


def check_name_free(conn: sqlite3.Connection, name: str, *, for_pod: bool) -> None:
    """Pods and containers share one set of names, as in Podman's state."""
    table = "containers" if for_pod else "pods"
    try:
        row = conn.execute(f"SELECT 1 FROM {table} WHERE name=?", (name,)).fetchone()
    except sqlite3.OperationalError:  # that table is made on first use: nothing has that name yet
        return
    if row is not None and for_pod:
        raise PodExists(f'adding pod to state: name "{name}" is in use: container already exists')
    if row is not None:
        raise PodExists(f'name "{name}" is in use: pod already exists')


def remove_users(engine: Engine, users: list[ContainerRecord], timeout: int | None) -> None:
    """``network rm --force``: the containers on the network go, and a pod whose infra container is
    one of them goes whole (its infra container cannot be removed alone)."""
    import contextlib

    from sealpod.errors import NoSuchContainer, NoSuchPod

    infra = engine.pods.infra_ids()
    for rec in users:
        if rec.id in infra:
            with contextlib.suppress(NoSuchPod):
                engine.pods.remove(infra[rec.id], force=True, timeout=timeout)
            continue
        with contextlib.suppress(NoSuchContainer):
            engine.containers.remove(rec.id, force=True)
