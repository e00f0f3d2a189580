"""inspect fields Podman 4.3.1 fills that sealpod left empty or shaped otherwise: HostConfig.CapAdd/CapDrop
(measured against the runtime's default set), HostConfig.Init, MemorySwappiness, a non-root user's
EffectiveCaps, the runtime annotations of a started container; an image's Parent (and ParentId) and
its top-level Healthcheck; the same fields through the Docker API.  Values were read from Podman 4.3.1
(runc, cgroupfs) creating the same containers and building the same Containerfiles.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from sealpod.engine.image_tree import parents
from sealpod.runtime.spec import ALL_CAPABILITIES, host_capabilities
from sealpod.storage.records import ImageRecord
from tests.rig.api import ApiService
from tests.rig.sealpod import SealpodRunner, build_context

IMAGE = "sealtest/tiny"
RUNTIME_DEFAULT_DROPS = ["CAP_AUDIT_WRITE", "CAP_MKNOD", "CAP_NET_RAW"]  # containers.conf lacks these three


@pytest.fixture(scope="module")
def sp(api: ApiService) -> Iterator[SealpodRunner]:
    yield api.runner


def _inspect(sp: SealpodRunner, *args: str) -> dict[str, Any]:
    doc = json.loads(sp.run("inspect", *args).stdout)[0]
    assert isinstance(doc, dict)
    return doc


def _create(sp: SealpodRunner, name: str, *flags: str) -> dict[str, Any]:
    sp.run("create", "--name", name, *flags, IMAGE, "sleep", "1000")
    return _inspect(sp, name)


def _caps(doc: dict[str, Any]) -> tuple[Any, Any]:
    return doc["HostConfig"]["CapAdd"], doc["HostConfig"]["CapDrop"]


def test_cap_add_and_drop_are_read_from_the_bounding_set(sp: SealpodRunner) -> None:
    """container_inspect.go: CapAdd/CapDrop compare the process's bounding set with the runtime's
    default one (e2e inspect_test.go "Dropped capabilities are sorted"), CAP_ names, sorted."""
    assert _caps(_create(sp, "cap-plain")) == ([], RUNTIME_DEFAULT_DROPS)
    assert _caps(_create(sp, "cap-drop", "--cap-drop", "chown")) == (
        [], ["CAP_AUDIT_WRITE", "CAP_CHOWN", "CAP_MKNOD", "CAP_NET_RAW"])
    added = _create(sp, "cap-add", "--cap-add", "sys_admin", "--cap-add", "NET_ADMIN", "--cap-add", "CAP_MKNOD")
    assert _caps(added) == (["CAP_NET_ADMIN", "CAP_SYS_ADMIN"], ["CAP_AUDIT_WRITE", "CAP_NET_RAW"])
    everything = ["CAP_AUDIT_WRITE", "CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_FOWNER", "CAP_FSETID", "CAP_KILL",
                  "CAP_MKNOD", "CAP_NET_BIND_SERVICE", "CAP_NET_RAW", "CAP_SETFCAP", "CAP_SETGID", "CAP_SETPCAP",
                  "CAP_SETUID", "CAP_SYS_CHROOT"]
    assert _caps(_create(sp, "cap-none", "--cap-drop", "all")) == ([], everything)
    assert _caps(_create(sp, "cap-kill", "--cap-drop", "all", "--cap-add", "kill")) == (
        [], [c for c in everything if c != "CAP_KILL"])
    unheld = sorted(set(ALL_CAPABILITIES) - set(host_capabilities()))  # what this host cannot grant
    assert _caps(_create(sp, "cap-priv", "--privileged")) == ([], unheld)
    assert _caps(_create(sp, "cap-priv-drop", "--privileged", "--cap-drop", "kill")) == ([], unheld)
    assert sp.run("inspect", "--format", "{{.HostConfig.CapDrop}}", "cap-plain").stdout == \
        "[CAP_AUDIT_WRITE CAP_MKNOD CAP_NET_RAW]\n"


def test_effective_caps_of_a_non_root_user_and_of_none(sp: SealpodRunner) -> None:
    """A non-root user's process keeps only what --cap-add named, before its first start as after;
    --cap-drop all leaves nil sets (JSON null, printed [])."""
    sp.run("create", "--name", "eff-user", "--user", "1:2", "--cap-add", "net_admin", IMAGE, "sleep", "1000")
    before = _inspect(sp, "eff-user")
    assert before["EffectiveCaps"] == ["CAP_NET_ADMIN"]
    assert "CAP_CHOWN" in before["BoundingCaps"] and "CAP_NET_ADMIN" in before["BoundingCaps"]
    assert _create(sp, "eff-plain-user", "--user", "1")["EffectiveCaps"] is None
    sp.run("start", "eff-user")
    after = _inspect(sp, "eff-user")
    assert (after["EffectiveCaps"], after["BoundingCaps"]) == (before["EffectiveCaps"], before["BoundingCaps"])
    assert _caps(after) == (["CAP_NET_ADMIN"], RUNTIME_DEFAULT_DROPS)
    sp.run("run", "-d", "--name", "eff-none", "--cap-drop", "all", IMAGE, "sleep", "1000")
    none = _inspect(sp, "eff-none")
    assert (none["EffectiveCaps"], none["BoundingCaps"]) == (None, None)
    assert sp.run("inspect", "--format", "{{.EffectiveCaps}} {{.BoundingCaps}}", "eff-none").stdout == "[] []\n"
    sp.run("rm", "-f", "-t0", "eff-user", "eff-none")


def test_init_and_memory_swappiness(sp: SealpodRunner) -> None:
    """HostConfig.Init is true with --init and left out otherwise (a template still prints false);
    MemorySwappiness is -1 once a memory limit is set without one, 0 with no memory limit at all."""
    init = _create(sp, "hc-init", "--init")
    assert init["HostConfig"]["Init"] is True
    assert list(init["HostConfig"]).index("Init") == list(init["HostConfig"]).index("OomKillDisable") + 1
    plain = _create(sp, "hc-plain")
    assert "Init" not in plain["HostConfig"] and plain["HostConfig"]["MemorySwappiness"] == 0
    assert sp.run("inspect", "--format", "{{.HostConfig.Init}}", "hc-plain", "hc-init").stdout == "false\ntrue\n"
    for name, flags, expected in (("sw-mem", ("-m", "64m", "--cpus", "1.5"), -1),
                                  ("sw-res", ("--memory-reservation", "32m"), -1),
                                  ("sw-oom", ("--oom-kill-disable",), -1),
                                  ("sw-set", ("-m", "64m", "--memory-swappiness", "10"), 10)):
        assert _create(sp, name, *flags)["HostConfig"]["MemorySwappiness"] == expected, name


def test_started_container_annotations(sp: SealpodRunner) -> None:
    """A started container's spec carries its creation time and its stop signal (a number) as annotations."""
    sp.run("run", "-d", "--name", "ann", "--stop-signal", "SIGKILL", IMAGE, "sleep", "1000")
    doc = _inspect(sp, "ann")
    annotations = doc["Config"]["Annotations"]
    assert annotations["org.opencontainers.image.stopSignal"] == "9"
    assert annotations["io.kubernetes.cri-o.Created"] == doc["Created"]
    assert "org.opencontainers.image.stopSignal" not in _create(sp, "ann-created")["Config"]["Annotations"]
    sp.run("rm", "-f", "-t0", "ann")


HEALTHY = f"""FROM {IMAGE}
RUN echo hi > /hi
HEALTHCHECK --interval=30s --timeout=5s --retries=4 --start-period=2s CMD cat /hi || exit 1
LABEL foo=bar
"""
HEALTH = {"Test": ["CMD-SHELL", "cat /hi || exit 1"], "StartPeriod": 2_000_000_000, "Interval": 30_000_000_000,
          "Timeout": 5_000_000_000, "Retries": 4}


@pytest.fixture(scope="module")
def built(sp: SealpodRunner, tmp_path_factory: pytest.TempPathFactory) -> str:
    ctx = build_context(tmp_path_factory.mktemp("gaps"), "healthy", HEALTHY)
    sp.run("build", "-q", "--format", "docker", "-t", "gaps-hc", str(ctx))
    return "gaps-hc"


def test_image_parent_chain_of_a_build(sp: SealpodRunner, built: str) -> None:
    """libimage's Parent: each build step's image is the parent of the next, down to the base image;
    ``images -a`` shows the same as ParentId."""
    base = _inspect(sp, "--type", "image", IMAGE)
    assert base["Parent"] == ""
    health_step = _inspect(sp, "--type", "image", built)["Parent"]  # the final image is the LABEL step's
    run_step = _inspect(sp, "--type", "image", health_step)["Parent"]
    assert "" not in (health_step, run_step) and health_step != run_step
    assert _inspect(sp, "--type", "image", run_step)["Parent"] == base["Id"]
    rows = dict(line.split(" ", 1) for line in sp.run(
        "images", "-a", "--no-trunc", "--format", "{{.ID}} {{.ParentId}}").stdout.splitlines())
    assert rows[f"sha256:{run_step}"] == base["Id"] and rows[f"sha256:{health_step}"] == run_step
    assert rows[f"sha256:{base['Id']}"] == ""


def test_parent_is_the_adjacent_layer_only() -> None:
    """With the image of the layer between removed, the base two layers down is no parent (Podman)."""
    def image(image_id: str, steps: int) -> ImageRecord:
        history = [{"created": f"t{i}", "created_by": f"step {i}"} for i in range(steps)]
        config = {"history": history, "rootfs": {"diff_ids": [f"sha256:{i}" for i in range(steps)]}}
        return ImageRecord(image_id, (), (), json.dumps(config).encode(), None, (), None, 0, 0.0)

    base, middle, top = image("base", 1), image("middle", 2), image("top", 3)
    assert parents([base, middle, top]) == {"middle": "base", "top": "middle"}
    assert parents([base, top]) == {}


def test_image_healthcheck_is_top_level(sp: SealpodRunner, built: str) -> None:
    """Podman's image inspect: Healthcheck beside Config (nanoseconds, zero fields left out); the
    template field is .HealthCheck, which ``image inspect`` also answers to as .Config.Healthcheck."""
    doc = json.loads(sp.run("image", "inspect", built).stdout)[0]
    assert doc["Healthcheck"] == HEALTH and list(doc)[-1] == "Healthcheck"
    assert "Healthcheck" not in doc["Config"]
    printed = "{[CMD-SHELL cat /hi || exit 1] 2s 30s 5s 4}\n"
    for fmt in ("{{.HealthCheck}}", "{{.Config.Healthcheck}}"):
        assert sp.run("image", "inspect", "--format", fmt, built).stdout == printed
    assert json.loads(sp.run("image", "inspect", "--format", "{{json .HealthCheck}}", built).stdout) == HEALTH
    assert sp.run("inspect", "--type", "image", "--format", "{{.Config.Healthcheck}}", built).stdout == printed
    assert sp.run("image", "inspect", "--format", "{{.HealthCheck}}", IMAGE).stdout == "<nil>\n"
    bad = sp.run("image", "inspect", "--format", "{{.Healthcheck}}", built, check=False)
    assert bad.returncode == 125 and "can't evaluate field Healthcheck" in bad.stderr
    sp.run("create", "--name", "from-hc", built)
    ctr = sp.run("inspect", "--format", "{{json .Config.Healthcheck}}\n{{.Config.Healthcheck}}", "from-hc").stdout
    as_json, text = ctr.splitlines()
    assert json.loads(as_json) == HEALTH and text == printed.strip()


def test_oci_build_drops_the_healthcheck(sp: SealpodRunner, tmp_path: Any) -> None:
    """Buildah: HEALTHCHECK is not part of an OCI image; each commit after it warns.  --format is
    part of the layer cache key, so a docker-format build does not reuse the OCI images."""
    ctx = build_context(tmp_path, "oci", f"FROM {IMAGE}\nHEALTHCHECK CMD ls -l / 2>&1\nLABEL a=b\n")
    out = sp.run("build", "-t", "gaps-oci", str(ctx))
    assert out.stderr.count("HEALTHCHECK is not supported for OCI image format and will be ignored. "
                            "Must use `docker` format") == 2
    assert "Healthcheck" not in json.loads(sp.run("image", "inspect", "gaps-oci").stdout)[0]
    docker = sp.run("build", "--format", "docker", "-t", "gaps-docker", str(ctx))
    assert "Using cache" not in docker.stdout and "HEALTHCHECK is not supported" not in docker.stderr
    doc = json.loads(sp.run("image", "inspect", "gaps-docker").stdout)[0]
    assert doc["Healthcheck"]["Test"] == ["CMD-SHELL", "ls -l / 2>&1"]
    assert doc["ManifestType"] == "application/vnd.docker.distribution.manifest.v2+json"


def _get(api: ApiService, path: str) -> Any:
    status, body = api.request("GET", path)
    assert status == 200, body
    return json.loads(body)


def test_docker_api_container_fields(api: ApiService) -> None:
    """Podman's compat inspect: CapAdd/CapDrop without the CAP_ prefix, Init only when set."""
    runner = api.runner
    runner.run("create", "--name", "api-init", "--init", "--cap-add", "net_admin", "-m", "64m", IMAGE, "true")
    doc = _get(api, "/v1.41/containers/api-init/json")
    host = doc["HostConfig"]
    assert (host["CapAdd"], host["CapDrop"], host["Init"]) == (["NET_ADMIN"], ["AUDIT_WRITE", "MKNOD", "NET_RAW"],
                                                               True)
    assert host["MemorySwappiness"] == -1
    for key, zero in (("CgroupnsMode", ""), ("DeviceCgroupRules", None), ("DeviceRequests", None),
                      ("KernelMemoryTCP", 0), ("MaskedPaths", None), ("ReadonlyPaths", None)):
        assert host[key] == zero, key
    runner.run("create", "--name", "api-plain", IMAGE, "true")
    plain = _get(api, "/v1.41/containers/api-plain/json")["HostConfig"]
    assert "Init" not in plain and plain["CapAdd"] == [] and plain["CapDrop"] == ["AUDIT_WRITE", "MKNOD", "NET_RAW"]
    libpod = _get(api, "/v4.3.1/libpod/containers/api-init/json")["HostConfig"]
    assert libpod["CapAdd"] == ["CAP_NET_ADMIN"] and libpod["Init"] is True
    out = api.docker("inspect", "--format", "{{.HostConfig.Init}} {{.HostConfig.CapDrop}}", "api-init").stdout
    assert out == "true [AUDIT_WRITE MKNOD NET_RAW]\n"


def test_docker_api_image_fields(api: ApiService, built: str) -> None:
    """Docker's image shape keeps the healthcheck in Config; Parent and ParentId as Podman's (bare IDs)."""
    doc = _get(api, f"/v1.41/images/{built}/json")
    assert doc["Config"]["Healthcheck"] == HEALTH
    libpod = _get(api, f"/v4.3.1/libpod/images/{built}/json")
    assert doc["Parent"] == libpod["Parent"] != "" and libpod["Healthcheck"] == HEALTH
    assert "Healthcheck" not in libpod["Config"]
    listed = {i["Id"].removeprefix("sha256:"): i["ParentId"] for i in _get(api, "/v1.41/images/json?all=1")}
    assert listed[libpod["Id"]] == libpod["Parent"]
    out = api.docker("image", "inspect", "--format", "{{.Config.Healthcheck.Retries}} {{.Parent}}", built).stdout
    assert out == f"4 {libpod['Parent']}\n"


def test_more_host_config_values_as_podman(sp: SealpodRunner, tmp_path: Any) -> None:
    """--read-only's scratch tmpfs in HostConfig.Tmpfs; volumes listed before binds; a device's
    CgroupPermissions empty; empty blkio lists once a blkio flag was given; no health status before a start."""
    scratch = "rw,rprivate,nosuid,nodev,tmpcopyup"
    ro = _create(sp, "ro", "--read-only", "--tmpfs", "/x")["HostConfig"]["Tmpfs"]
    assert ro == {"/run": scratch, "/tmp": scratch, "/var/tmp": scratch, "/x": scratch}
    assert _create(sp, "ro-no-tmpfs", "--read-only", "--read-only-tmpfs=false")["HostConfig"]["Tmpfs"] == {}
    doc = _create(sp, "binds", "-v", f"{tmp_path}:/host:ro", "-v", "gapsvol:/data")
    assert [m["Type"] for m in doc["Mounts"]] == ["volume", "bind"]
    assert [b.split(":")[0] for b in doc["HostConfig"]["Binds"]] == ["gapsvol", str(tmp_path)]
    dev = _create(sp, "dev", "--device", "/dev/null:/dev/nul2:rw", "--blkio-weight", "300")["HostConfig"]
    assert dev["Devices"] == [{"PathOnHost": "/dev/null", "PathInContainer": "/dev/nul2", "CgroupPermissions": ""}]
    assert dev["BlkioWeightDevice"] == [] and dev["BlkioDeviceReadBps"] == []
    assert _create(sp, "no-blkio")["HostConfig"]["BlkioWeightDevice"] is None
    sp.run("create", "--name", "hc-new", "--health-cmd", "true", IMAGE, "sleep", "1000")
    assert _inspect(sp, "hc-new")["State"]["Health"]["Status"] == ""
    sp.run("start", "hc-new")
    assert _inspect(sp, "hc-new")["State"]["Health"]["Status"] in ("starting", "healthy")
    sp.run("rm", "-f", "-t0", "hc-new")


def test_inspect_template_errors_read_as_podmans(sp: SealpodRunner) -> None:
    """Podman 4.3.1 ranges its template over the objects: the error names the column in that wrapped
    template, the type "interface {}", its "inspecting object: printing inspect output:" prefix, and what
    was written before the failure stays on stdout; a lexer error names the line the action began on."""
    cid = sp.run("create", IMAGE, "true").stdout.strip()
    try:
        for target in (IMAGE, cid):
            bad = sp.run("inspect", "--format", "{{.Id}} {{.Bar}}", target, check=False)
            assert bad.returncode == 125 and bad.stdout.startswith(sp.run(
                "inspect", "--format", "{{.Id}}", target).stdout.strip() + " ")
            assert bad.stderr == ("Error: inspecting object: printing inspect output: template: inspect:1:21: "
                                  "executing \"inspect\" at <.Bar>: can't evaluate field Bar in type interface {}\n")
        for field, go_type in (("Config", "*define.InspectContainerConfig"), ("State", "*define.InspectContainerState"),
                               ("HostConfig", "*define.InspectContainerHostConfig"),
                               ("NetworkSettings", "*define.InspectNetworkSettings")):
            bad = sp.run("inspect", "--format", f"{{{{.{field}.Foo}}}}", cid, check=False)
            assert bad.stderr.endswith(f"can't evaluate field Foo in type {go_type}\n"), bad.stderr
        # a real field the JSON leaves out is no error
        assert sp.run("inspect", "--format", "{{.Config.ChrootDirs}}", cid).returncode == 0
        bad = sp.run("image", "inspect", "--format", "{{.Config.Foo}}", IMAGE, check=False)
        assert bad.stderr.endswith("can't evaluate field Foo in type *v1.ImageConfig\n"), bad.stderr
        for fmt, line in (("{{.Foo", 1), ("x\n{{.Foo", 2)):
            bad = sp.run("inspect", "--format", fmt, cid, check=False)
            assert bad.stderr == f"Error: template: inspect:{line}: bad character U+007B '{{'\n"
    finally:
        sp.run("rm", cid)
