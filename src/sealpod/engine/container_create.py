"""``create``: a container recorded, its writable layer made, nothing run yet.

Split from engine/containers.py (the lifecycle) because creating is the longest single step:
the checks of what the user asked, containers.conf's defaults, the image's, the names.
"""

from __future__ import annotations

import contextlib
import time

from sealpod.engine.container_config import ContainerConfig
from sealpod.engine.container_state import ContainerRecord
from sealpod.errors import Conflict, InvalidArgument, SealpodError

TYPE_CHECKING = False  # typing costs ~2 ms of every command's start-up; only type checkers need it
if TYPE_CHECKING:
    from collections.abc import Callable

    from sealpod.engine.containers import ContainerService
    from sealpod.engine.entities import PullOptions


def create_with_image(svc: ContainerService, config: ContainerConfig, pull: PullOptions,
                      report: Callable[[str], None], *, replace: bool = False) -> ContainerRecord:
    """``create``/``run``: find the image locally or pull it, as ``--pull`` says."""
    from sealpod.engine.container_userns import check_rootless_limits
    from sealpod.errors import NoSuchImage

    if replace and not config.name:
        raise InvalidArgument("cannot replace container without --name being set")
    check_rootless_limits(svc.engine, config)  # before a pull: the answer will not change
    if config.rootfs:  # no image at all: the user's directory is the root
        return create(svc, config, replace=replace)
    image_id = None
    if config.pull != "always":
        try:
            image_id = svc.engine.images.get(config.image).id
        except NoSuchImage:
            if config.pull == "never":
                raise
    if image_id is None:
        image_id = svc.engine.images.pull(config.image, pull, report)[-1]
    elif config.pull == "newer":  # what the registry has now, if it can be asked; else the local copy
        from sealpod.errors import RegistryError

        try:  # quietly kept when the registry's digest is the local one, as Podman's libimage
            image_id = svc.engine.images.pull_with_policy(config.image, "newer", pull, report)[-1]
        except RegistryError:
            pass
    # a local manifest list runs its host-platform image; the store answers "is it a list" cheaply,
    # so plain images do not load the manifest machinery (hashlib and all) on the path of run
    is_list = svc.engine.store.manifest_list_sources(image_id) is not None
    instance = svc.engine.manifests.instance_to_run(image_id) if is_list else None
    if instance is not None:
        local = instance if all(c in "0123456789abcdef" for c in instance) and len(instance) == 64 else None
        image_id = local or svc.engine.images.pull(instance, pull, report)[-1]
    return create(svc, config, image_id=image_id, replace=replace)


def create(svc: ContainerService, config: ContainerConfig, *, image_id: str | None = None,
           replace: bool = False) -> ContainerRecord:
    """Record the container and create its writable layer; nothing runs yet."""
    from sealpod.engine.containers import _uses_volumes
    from sealpod.engine.names import check_name, new_id, random_name

    if replace and not config.name:
        raise InvalidArgument("cannot replace container without --name being set")

    for dependency in config.requires:
        svc.lookup(dependency)  # must exist: NoSuchContainer otherwise, before anything is made
    from sealpod.engine.container_checks import check_log_driver

    check_log_driver(svc.engine, config)
    from sealpod.engine.container_checks import check

    check(config)
    if config.rootfs:
        from sealpod.engine.container_rootfs import check_rootfs

        check_rootfs(config.rootfs)
    from sealpod.engine.container_userns import check_rootless_limits

    check_rootless_limits(svc.engine, config)
    from sealpod.engine.cgroups import check_cgroups_mode

    check_cgroups_mode(svc.engine, config)
    from sealpod.engine.network_flags import check_mac

    for mac in (config.mac_address, *(str((o or {}).get("static_mac") or "") for o in config.networks.values())):
        check_mac(mac)  # the API's too: a container with a bad one would break network commands later
    for net in config.networks:  # a named network must exist when the container is made, as in Podman
        svc.engine.networks.get(net)
    pod_id = ""
    if config.pod:  # joins the pod's namespaces, volumes, hosts and DNS
        pod_id, config = svc.engine.pods.member_config(config)
    from sealpod.engine.namespace_checks import check_namespace_modes
    from sealpod.engine.network_flags import with_default_network

    check_namespace_modes(svc, config, svc.engine.config.rootless)  # a bad --pid/--ipc/... fails here, as Podman's
    if "pod" in (config.ipc, config.uts, config.pid, config.cgroupns, config.network):
        from sealpod.engine.pod_inherit import check_pod_namespaces

        check_pod_namespaces(config)  # --pid pod and the like, left over: not in a pod with an infra container
    config = with_default_network(svc.engine.config.containers.containers.netns, config)
    if config.networks or config.network not in ("", "none", "host", "bridge", "private", "default"):
        from sealpod.engine.network_flags import with_network_names  # (loads the network files)

        config = with_network_names(svc.engine.networks.files, config)

    try:
        name = check_name(config.name) if config.name else ""
    except InvalidArgument as e:  # Podman 4.3's words for create
        raise InvalidArgument("running container create option: names must match "
                              "[a-zA-Z0-9][a-zA-Z0-9_.-]*: invalid argument") from e
    if name and replace and svc.db.name_in_use(name):
        svc.remove(name, force=True)
    if name:
        from sealpod.engine.pod_checks import check_name_free

        check_name_free(svc.db.db.conn, name, for_pod=False)  # pods and containers share one set of names
    generated = not name
    if generated:
        name = random_name()
        while svc.db.name_in_use(name):
            name = random_name()
    image = svc.store.get_image(image_id) if image_id else (
        svc.engine.images.get(config.image) if config.image else None)
    from sealpod.engine.conf_defaults import with_conf_defaults
    from sealpod.engine.image_volumes import with_extra_mounts

    config = with_conf_defaults(svc.engine, config)  # containers.conf fills what the user left out
    config = with_extra_mounts(svc.engine, config, image)  # --volumes-from, then the image's VOLUMEs
    ctr_id = new_id()
    image_name = image.names[0] if image and image.names else (image.id if image else "")
    if image and config.image and config.image not in image.names:
        with contextlib.suppress(SealpodError):  # "NAME" names NAME:latest, not the image's first tag
            image_name = svc.engine.images._untag_name(image, config.image)
    rec = ContainerRecord(id=ctr_id, name=name, image_id=image.id if image else None,
                          image_name=config.image if image and config.image in image.names else image_name,
                          created=time.time(), config=config.to_json())
    from sealpod.engine.container_userns import resolve_userns, userns_lock
    from sealpod.engine.health import spec_healthcheck
    from sealpod.engine.specgen import resolve_static

    with userns_lock(svc.engine, config):  # an auto range is taken once it is in the database
        rec = ContainerRecord(**{**rec.__dict__, "spec": {
            **resolve_static(svc.engine, config, image), **spec_healthcheck(config, image),
            **resolve_userns(svc.engine, config, svc.list_containers, image)}, "pod_id": pod_id})
        from sealpod.engine.port_alloc import with_host_ports  # -p 80, -P: host ports chosen now, as Podman

        chosen = with_host_ports(svc.db.db.conn, config, rec.spec.get("exposed_ports") or ())
        if chosen is not config:
            config = chosen
            rec = ContainerRecord(**{**rec.__dict__, "config": config.to_json()})
        for attempt in range(8):
            try:
                svc.db.add(rec)
                break
            except Conflict:  # another create took the same generated name meanwhile: pick again
                if not generated or attempt == 7:
                    raise
                rec = ContainerRecord(**{**rec.__dict__, "name": random_name()})
    try:
        svc.store.containers.create(ctr_id, image.id if image else None)
        svc.paths(ctr_id).userdata.mkdir(parents=True, exist_ok=True)
        if _uses_volumes(rec):
            svc.engine.volumes.prepare_for(rec)  # named volumes exist from create on, as in Podman
            from sealpod.engine.volume_prepare import prepare_on_create

            prepare_on_create(svc, rec)  # containers.conf prepare_volume_on_create: filled now
    except BaseException:
        svc.db.delete(ctr_id)
        raise
    svc.engine.events.container(rec, "create")
    return rec
