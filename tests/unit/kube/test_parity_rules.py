"""The Podman 4.3.1 rules of kube generate/play that need no container: capabilities against the
defaults, per-container annotations, liveness probes as healthchecks, Service port names, layout."""

from __future__ import annotations

import random
from typing import Any

from sealpod.engine.container_config import ContainerConfig, MountSpec
from sealpod.kube.generate import (
    VOLUME_NOTE,
    ContainerView,
    PodView,
    capabilities,
    pod_document,
    render,
    service_document,
)
from sealpod.kube.model import Container, PodTemplate, Probe
from sealpod.kube.translate import container_annotations, healthcheck

DEFAULTS = ("CHOWN", "DAC_OVERRIDE", "FOWNER", "KILL", "SETUID")


def test_capabilities_are_the_difference_to_the_defaults_and_runtime_caps() -> None:
    cfg = ContainerConfig(image="x", cap_add=("net_admin", "CAP_MKNOD"), cap_drop=("chown",))
    assert capabilities(cfg, DEFAULTS) == {"add": ["CAP_NET_ADMIN"],
                                           "drop": ["CAP_CHOWN", "CAP_NET_RAW", "CAP_AUDIT_WRITE"]}
    assert capabilities(ContainerConfig(image="x", privileged=True, cap_drop=("chown",)), DEFAULTS) == {}
    everything = capabilities(ContainerConfig(image="x", cap_drop=("ALL",), cap_add=("KILL",)), DEFAULTS)
    assert everything == {"drop": ["CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_FOWNER", "CAP_MKNOD", "CAP_NET_RAW",
                                   "CAP_SETUID", "CAP_AUDIT_WRITE"]}  # Podman 4.3.1's order


def test_annotations_go_back_to_their_container() -> None:
    annotations = {"ann/web": "1", "ann/side": "2", "io.podman.annotations.init/web": "TRUE", "pod-wide": "3",
                   "io.kubernetes.cri-o.TTY/web": "false", "io.podman.annotations.other": "x"}
    assert container_annotations(annotations, "web", ["web", "side"]) == {"ann": "1", "pod-wide": "3"}
    assert container_annotations(annotations, "side", ["web", "side"]) == {"ann": "2", "pod-wide": "3"}


def test_liveness_probe_becomes_a_shell_healthcheck() -> None:
    probe = Probe("curl -f http://localhost:80/", period=5, timeout=2, failures=4, initial_delay=3)
    c = Container("web", "x", liveness=probe)
    assert healthcheck(c, "Always") == {"Test": ["CMD-SHELL", "curl -f http://localhost:80/ || kill 1"],
                                        "Interval": 5 * 10**9, "Timeout": 2 * 10**9, "Retries": 4,
                                        "StartPeriod": 3 * 10**9}
    assert healthcheck(c, "OnFailure")["Test"][1].endswith("|| exit 1")
    assert healthcheck(Container("web", "x"), "Always") == {}
    assert PodTemplate("p").init_containers == ()


def _view(**kw: Any) -> ContainerView:
    return ContainerView("web", "localhost/tiny:latest", ContainerConfig(image="x", **kw), default_caps=DEFAULTS)


def test_every_podman_flag_annotation_is_written() -> None:
    meta = pod_document(PodView("web", 0.0, (_view(tty=True, annotations={"a": "b"}),)), {})["metadata"]
    assert meta["annotations"] == {
        "a/web": "b", "io.kubernetes.cri-o.TTY/web": "true", "io.podman.annotations.autoremove/web": "FALSE",
        "io.podman.annotations.init/web": "FALSE", "io.podman.annotations.privileged/web": "FALSE",
        "io.podman.annotations.publish-all/web": "FALSE"}


def test_service_port_names_and_layout() -> None:
    pod = pod_document(PodView("web", 0.0, (_view(ports=("53:53/tcp", "53:53/udp")),)), {})
    svc = service_document(pod, random.Random(0))
    assert svc is not None and [p["name"] for p in svc["spec"]["ports"]] == ["53", "53-udp"]
    plain = render([PodView("web", 0.0, (_view(),))], [], service=False, kind="pod", replicas=1, version="1")
    assert plain.startswith("# Save the output") and "\napiVersion: v1\nkind: Pod\n" in plain
    assert "---" not in plain and "NOTE" not in plain
    vols = render([PodView("web", 0.0, (_view(mounts=(MountSpec("bind", "/d", "/tmp"),)),))], [], service=False,
                  kind="pod", replicas=1, version="1")
    assert "# Created with sealpod-1\n" + VOLUME_NOTE + "---\napiVersion: v1\nkind: Pod\n" in vols
