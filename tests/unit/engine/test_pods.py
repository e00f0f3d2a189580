"""Pure pod logic: the pod's status from its containers', --share, pod volumes, spec round trip."""

from __future__ import annotations

import pytest

from sealpod.engine.pod_report import pod_status
from sealpod.engine.pods import PodSpec, check_share, pod_volume
from sealpod.errors import InvalidArgument


@pytest.mark.parametrize(("states", "status"), [
    ([], "Created"),
    (["running", "running"], "Running"),
    (["running", "exited"], "Degraded"),
    (["running", "created"], "Degraded"),
    (["exited", "stopped"], "Exited"),
    (["exited", "created"], "Stopped"),
    (["paused", "paused"], "Paused"),
    (["created", "configured"], "Created"),
    (["removing"], "Error"),
])
def test_pod_status(states: list[str], status: str) -> None:
    assert pod_status(states) == status


def test_share() -> None:
    assert check_share(("net", "ipc", "net"), True) == ("net", "ipc")
    assert check_share(("none",), True) == ()
    assert check_share(("ipc", "net", "uts"), False) == ()
    with pytest.raises(InvalidArgument, match="invalid kernel namespace to share: bogus"):
        check_share(("bogus",), True)


def test_pod_volume() -> None:
    named = pod_volume("data:/data:ro")
    assert (named.type, named.source, named.destination, named.read_only) == ("volume", "data", "/data", True)
    bind = pod_volume("/srv:/srv")
    assert (bind.type, bind.source) == ("bind", "/srv")
    with pytest.raises(InvalidArgument, match="invalid volume specification"):
        pod_volume("a:relative")


def test_spec_round_trip() -> None:
    spec = PodSpec(name="p", labels={"a": "b"}, ports=("8080:80",), share=("net",), networks={"n": {"aliases": ["x"]}})
    assert PodSpec.from_json(spec.to_json()) == spec
