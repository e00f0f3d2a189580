"""``build``'s registry, RUN-container, output and metadata flags, as Podman 4.3.1 (Buildah 1.28)
applies them: against real registries, conmon, runc and overlay mounts."""

from __future__ import annotations

import json
import os
import re
import tarfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.rig import images as im
from tests.rig.podman_remote import Remote
from tests.rig.registry import RegistryServer, free_port
from tests.rig.sealpod import SealpodRunner, build_context, store_with_image

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def bld(tmp_path_factory: pytest.TempPathFactory, seeded_registry: RegistryServer) -> Iterator[SealpodRunner]:
    with store_with_image(tmp_path_factory.mktemp("build-flags"), seeded_registry.host) as runner:
        yield runner


def _error(res: object) -> str:
    import subprocess

    assert isinstance(res, subprocess.CompletedProcess)
    assert res.returncode == 125 and "Traceback" not in res.stderr, res
    return [ln for ln in res.stderr.splitlines() if ln.startswith("Error: ")][-1]


def _image_id(out: str) -> str:
    return out.strip().splitlines()[-1]


# --- registry access --------------------------------------------------------------------------


def test_tls_verify_false_pulls_the_base_from_a_plain_http_registry(tmp_path: Path,
                                                                   seeded_registry: RegistryServer) -> None:
    """Podman: a registry not marked insecure is spoken to in HTTPS; --tls-verify=false allows http."""
    runner = SealpodRunner(tmp_path / "s")
    ctx = build_context(tmp_path, "tls", f"FROM {seeded_registry.host}/sealtest/tiny\nRUN true\n")
    try:
        res = runner.run("build", "-q", str(ctx), check=False)
        assert _error(res) == (f"Error: creating build container: initializing source docker://"
                               f"{seeded_registry.host}/sealtest/tiny:latest: pinging container registry "
                               f'{seeded_registry.host}: Get "https://{seeded_registry.host}/v2/": http: server gave '
                               "HTTP response to HTTPS client")
        res = runner.run("build", "--tls-verify=false", "-t", "viahttp", str(ctx))
        assert "Trying to pull" not in res.stdout and "Trying to pull" in res.stderr  # pull progress: stderr
        assert runner.run("image", "exists", "viahttp").returncode == 0
    finally:
        runner.run("rm", "-af", "-t", "0", check=False)


def test_creds_and_cert_dir_reach_a_tls_registry_with_auth(tmp_path: Path, tls_auth_registry: RegistryServer,
                                                          seed_images: im.SeedSet) -> None:
    """Podman: --cert-dir trusts the registry's CA, --creds user:pass logs in for the FROM pull."""
    server = tls_auth_registry
    im.push_image(server, "sealtest/tiny", "latest", seed_images.images["sealtest/tiny:latest"])
    assert server.cert_dir is not None
    runner = SealpodRunner(tmp_path / "s")
    ctx = build_context(tmp_path, "auth", f"FROM {server.host}/sealtest/tiny\nRUN true\n")
    try:
        res = runner.run("build", "-q", "--cert-dir", str(server.cert_dir), "--creds", "sealtest:wrong", str(ctx),
                         check=False)
        assert "creating build container:" in _error(res) and "unauthorized" in _error(res).lower()
        res = runner.run("build", "-q", "--cert-dir", str(server.cert_dir), "--creds",
                         f"{server.username}:{server.password}", "-t", "viaauth", str(ctx))
        assert runner.run("image", "exists", "viaauth").returncode == 0
    finally:
        runner.run("rm", "-af", "-t", "0", check=False)


def test_retry_tries_a_refused_pull_again_with_podmans_warning(bld: SealpodRunner, tmp_path: Path) -> None:
    """Podman: a pull that cannot connect is tried again, warning "Failed, retrying in 2s ... (1/3)"."""
    host = f"127.0.0.1:{free_port()}"
    ctx = build_context(tmp_path, "retry", f"FROM {host}/nothing\n")
    res = bld.run("build", "--tls-verify=false", "--retry", "2", "--retry-delay", "100ms", str(ctx), check=False)
    reason = (f'initializing source docker://{host}/nothing:latest: pinging container registry {host}: Get '
              f'"http://{host}/v2/": dial tcp {host}: connect: connection refused')
    assert _error(res) == f"Error: creating build container: {reason}"
    warnings = [ln for ln in res.stderr.splitlines() if "level=warning" in ln]
    assert len(warnings) == 2 and 'msg="Failed, retrying in 100ms ... (1/2). Error: initializing source' in warnings[0]
    assert "(2/2)" in warnings[1] and res.stderr.count("Trying to pull") == 1
    res = bld.run("build", "--tls-verify=false", "--retry", "0", str(ctx), check=False)
    assert "level=warning" not in res.stderr and _error(res) == f"Error: creating build container: {reason}"


# --- manifest lists, outputs ------------------------------------------------------------------


def test_manifest_creates_the_list_then_adds_to_it(bld: SealpodRunner, tmp_path: Path) -> None:
    """Podman: --manifest LIST adds the built image to LIST, made when missing; a plain image is refused."""
    ctx = build_context(tmp_path, "ml", "FROM sealtest/tiny\nRUN echo one > /one\n")
    first = _image_id(bld.run("build", "-q", "--manifest", "flagslist", str(ctx)).stdout)
    listed = json.loads(bld.run("manifest", "inspect", "flagslist").stdout)
    digest = bld.run("image", "inspect", "--format", "{{.Digest}}", first).stdout.strip()
    assert [m["digest"] for m in listed["manifests"]] == [digest]
    assert listed["manifests"][0]["platform"]["os"] == "linux"
    ctx2 = build_context(tmp_path, "ml2", "FROM sealtest/tiny\nRUN echo two > /two\n")
    bld.run("build", "-q", "--manifest", "flagslist", "--variant", "v7", str(ctx2))
    listed = json.loads(bld.run("manifest", "inspect", "flagslist").stdout)
    assert len(listed["manifests"]) == 2 and listed["manifests"][1]["platform"]["variant"] == "v7"
    bld.run("tag", first, "plainimage")
    res = bld.run("build", "-q", "--manifest", "plainimage", str(ctx), check=False)
    assert _error(res) == "Error: localhost/plainimage:latest: image is not a manifest list"
    assert res.stdout.strip() == first  # the image was built, and its ID said, before the list refused it


def test_output_exports_the_final_stage_and_keeps_the_image(bld: SealpodRunner, tmp_path: Path) -> None:
    """Podman: -o DIR, -o type=local,dest=DIR and -o type=tar,dest=FILE write the final image's files;
    the image is committed all the same."""
    ctx = build_context(tmp_path, "out", "FROM sealtest/tiny AS first\nRUN echo first > /first\n"
                                         "FROM sealtest/tiny\nRUN echo hello > /hello\n")
    bare, local, tarred = tmp_path / "bare", tmp_path / "local", tmp_path / "out.tar"
    image = _image_id(bld.run("build", "-q", "-o", str(bare), "-t", "exported", str(ctx)).stdout)
    assert (bare / "hello").read_text() == "hello\n" and not (bare / "first").exists()
    assert (bare / "bin").is_dir() and oct(bare.stat().st_mode & 0o777) == "0o700"
    assert bld.run("image", "inspect", "--format", "{{.Id}}", "exported").stdout.strip() == image
    bld.run("build", "-q", "--output", f"type=local,dest={local}", str(ctx))
    assert sorted(os.listdir(local)) == sorted(os.listdir(bare))
    bld.run("build", "-q", "-o", f"type=tar,dest={tarred}", str(ctx))
    with tarfile.open(tarred) as tar:
        member = tar.getmember("hello")
        assert member.isfile() and tar.extractfile(member).read() == b"hello\n"  # type: ignore[union-attr]
    assert not bld.run("image", "mount").stdout.strip()  # the image mount used for the export is gone


@pytest.mark.parametrize(("value", "message"), [
    ("type=foo,dest=/x", 'invalid type "foo" selected for build output options "type=foo,dest=/x"'),
    ("type=tar,dest=/x,bar=1", 'unrecognized key "bar" in build output option: "type=tar,dest=/x,bar=1"'),
    ("type=local,type=tar,dest=/x", 'duplicate "type" not supported'),
    ("type=tar,foo", 'invalid build output options "type=tar,foo", expected format key=value'),
    ("type=local,dest=-", 'invalid build output option "type=local,dest=-", type=local and dest=- is not supported'),
])
def test_output_refuses_bad_specs_in_buildahs_words(bld: SealpodRunner, tmp_path: Path, value: str,
                                                    message: str) -> None:
    """Podman: a bad --output fails before the first step, "failed to parse build output: ..."."""
    ctx = build_context(tmp_path, "bad", "FROM sealtest/tiny\n")
    res = bld.run("build", "-o", value, str(ctx), check=False)
    assert _error(res) == f"Error: failed to parse build output: {message}" and "STEP" not in res.stdout


# --- image metadata ---------------------------------------------------------------------------


def test_annotations_variant_os_version_and_omit_history(bld: SealpodRunner, tmp_path: Path) -> None:
    """Podman: --annotation goes in the image's manifest (beside Buildah's base image annotations);
    --omit-history leaves the config without history (inspect's History is null)."""
    ctx = build_context(tmp_path, "ann", "FROM sealtest/tiny\nRUN echo a > /a\n")
    image = _image_id(bld.run("build", "-q", "--annotation", "a1=v1", "--annotation", "bare", "--omit-history",
                              "--os-version", "10.1", "--os-feature", "f1", str(ctx)).stdout)
    found = json.loads(bld.run("inspect", "--format", "{{json .Annotations}}", image).stdout)
    base_digest = bld.run("image", "inspect", "--format", "{{.Digest}}", "sealtest/tiny").stdout.strip()
    assert found == {"a1": "v1", "bare": "", "org.opencontainers.image.base.digest": base_digest,
                     "org.opencontainers.image.base.name": f"{bld_host(bld)}/sealtest/tiny:latest"}
    assert bld.run("image", "inspect", "--format", "{{json .History}}", image).stdout.strip() == "null"
    res = bld.run("build", "-q", "--format", "docker", "--annotation", "a1=v1", str(ctx))
    docker = _image_id(res.stdout)
    assert json.loads(bld.run("inspect", "--format", "{{json .Annotations}}", docker).stdout) == {}


def bld_host(bld: SealpodRunner) -> str:
    """The registry the store's sealtest/tiny came from (the name FROM resolved to)."""
    names = json.loads(bld.run("image", "inspect", "--format", "{{json .RepoTags}}", "sealtest/tiny").stdout)
    return str(names[0]).split("/", 1)[0]


def test_build_context_directory_and_image(bld: SealpodRunner, tmp_path: Path) -> None:
    """Podman: --build-context NAME=DIR serves COPY --from=NAME; NAME=docker-image://REF replaces
    FROM NAME (the step line names the image) and COPY --from=NAME."""
    extra = tmp_path / "extra"
    extra.mkdir()
    (extra / "e.txt").write_text("extra\n")
    ctx = build_context(tmp_path, "bc", "FROM base\nCOPY --from=ex e.txt /e.txt\nCOPY --from=img /etc/passwd /pw\n"
                                        "RUN cat /e.txt && test -s /pw\n")
    res = bld.run("build", "--build-context", f"ex={extra}", "--build-context",
                  "base=docker-image://sealtest/tiny", "--build-context", "img=docker-image://sealtest/tiny",
                  str(ctx))
    assert "STEP 1/4: FROM sealtest/tiny\n" in res.stdout and "\nextra\n" in res.stdout
    res = bld.run("build", "--build-context", "ex", str(ctx), check=False)
    assert _error(res) == ('Error: while parsing additional build context: ["ex"], accepts value in the form of '
                           "key=value")
    res = bld.run("build", "--build-context", f"ex={tmp_path}/missing", "--build-context",
                  "base=docker-image://sealtest/tiny", str(ctx), check=False)
    assert _error(res).startswith('Error: building at STEP "COPY --from=ex e.txt /e.txt": checking on sources '
                                  f'under "{tmp_path}/missing"')


def test_skip_unused_stages_false_builds_every_stage(bld: SealpodRunner, tmp_path: Path) -> None:
    """Podman: --skip-unused-stages=false builds the stages the target does not need too."""
    ctx = build_context(tmp_path, "skip", "FROM sealtest/tiny AS unused\nRUN echo in-unused\n"
                                          "FROM sealtest/tiny\nRUN echo in-final\n")
    res = bld.run("build", "--no-cache", str(ctx))
    assert "in-unused" not in res.stdout and "[1/2]" not in res.stdout
    res = bld.run("build", "--no-cache", "--skip-unused-stages=false", str(ctx))
    assert "[1/2] STEP 2/2: RUN echo in-unused\nin-unused\n" in res.stdout and "in-final" in res.stdout


# --- RUN containers ---------------------------------------------------------------------------


def test_resource_flags_reach_the_run_containers_cgroups(bld: SealpodRunner, tmp_path: Path) -> None:
    """Podman: -m, --memory-swap, --cpu-*, --cpuset-* and --shm-size set the RUN containers' limits."""
    if not os.path.isdir("/sys/fs/cgroup/memory"):
        pytest.skip("cgroup v1 memory controller not mounted")
    files = ("memory/memory.limit_in_bytes", "memory/memory.memsw.limit_in_bytes", "cpu/cpu.cfs_period_us",
             "cpu/cpu.cfs_quota_us", "cpu/cpu.shares", "cpuset/cpuset.cpus", "cpuset/cpuset.mems")
    run = " ".join(f"/sys/fs/cgroup/{f}" for f in files)
    ctx = build_context(tmp_path, "res", f"FROM sealtest/tiny\nRUN cat {run}; df -k /dev/shm | tail -1\n")
    res = bld.run("build", "--no-cache", "-m", "100m", "--memory-swap", "200m", "--cpu-period", "100000",
                  "--cpu-quota", "50000", "-c", "512", "--cpuset-cpus", "0", "--cpuset-mems", "0",
                  "--shm-size", "32m", str(ctx))
    lines = res.stdout.splitlines()
    at = lines.index("104857600")
    assert lines[at:at + 7] == ["104857600", "209715200", "100000", "50000", "512", "0", "0"]
    assert lines[at + 7].split()[1] == "32768"
    res = bld.run("build", "--no-cache", str(ctx))
    shm = next(ln for ln in res.stdout.splitlines() if ln.endswith("/dev/shm"))
    assert shm.split()[1] == "65536"  # Buildah's default --shm-size, 65536k


def test_namespace_flags_share_the_hosts(bld: SealpodRunner, tmp_path: Path) -> None:
    """Podman: --ipc/--pid/--uts host join the host's namespaces for RUN; private ones are new."""
    kinds = ("ipc", "pid", "uts")
    ctx = build_context(tmp_path, "ns", "FROM sealtest/tiny\nRUN " +
                        "; ".join(f"readlink /proc/self/ns/{k}" for k in kinds) + "\n")
    host = [os.readlink(f"/proc/self/ns/{k}") for k in kinds]
    res = bld.run("build", "--no-cache", "--ipc", "host", "--pid", "host", "--uts", "host", "--cgroupns", "host",
                  str(ctx))
    assert all(f"\n{h}\n" in res.stdout for h in host), res.stdout
    res = bld.run("build", "--no-cache", "--ipc", "private", "--uts", "private", str(ctx))
    assert not any(f"\n{h}\n" in res.stdout for h in host[::2])
    res = bld.run("build", "--ipc", "/nonexistent", str(ctx), check=False)
    assert _error(res) == "Error: checking ipc namespace: stat /nonexistent: no such file or directory"


def test_userns_container_and_id_maps_make_a_user_namespace(bld: SealpodRunner, tmp_path: Path) -> None:
    """Podman: --userns container gives RUN a user namespace mapping every ID to itself;
    --userns-uid-map/--userns-gid-map one of those mappings."""
    ctx = build_context(tmp_path, "userns", "FROM sealtest/tiny\nRUN readlink /proc/self/ns/user; "
                                            "cat /proc/self/uid_map\n")
    host = os.readlink("/proc/self/ns/user")
    bld.make_searchable()  # a root filesystem mapped to other IDs must be reachable by them
    out = bld.run("build", "--no-cache", "--userns", "container", str(ctx)).stdout
    assert f"\n{host}\n" not in out and re.search(r"^\s+0\s+0\s+4294967295$", out, re.M)
    out = bld.run("build", "--no-cache", "--userns-uid-map", "0:100000:65536", "--userns-gid-map", "0:100000:65536",
                  str(ctx)).stdout
    assert re.search(r"^\s+0\s+100000\s+65536$", out, re.M)
    assert f"\n{host}\n" in bld.run("build", "--no-cache", str(ctx)).stdout  # the host's, by default
    res = bld.run("build", "--userns-uid-map", "0:x:1", str(ctx), check=False)
    assert _error(res) == 'Error: mapping "0:x:1" is not in the form containerid:hostid:size[,...]'


def test_http_proxy_false_keeps_proxy_variables_out_of_run(bld: SealpodRunner, tmp_path: Path) -> None:
    """Podman: RUN sees the caller's proxy variables, unless --http-proxy=false."""
    ctx = build_context(tmp_path, "proxy", "FROM sealtest/tiny\nRUN echo proxy=${http_proxy:-none}\n")
    bld.env["http_proxy"] = "http://proxy.example:3128"
    try:
        assert "proxy=http://proxy.example:3128" in bld.run("build", "--no-cache", str(ctx)).stdout
        assert "proxy=none" in bld.run("build", "--no-cache", "--http-proxy=false", str(ctx)).stdout
    finally:
        del bld.env["http_proxy"]


def test_hooks_dir_hooks_run_for_run_steps(bld: SealpodRunner, tmp_path: Path) -> None:
    """Podman: build --hooks-dir DIR runs DIR's OCI hooks for the RUN containers."""
    hooks, mark = tmp_path / "hooks", tmp_path / "ran"
    hooks.mkdir()
    (hooks / "h.json").write_text(json.dumps({
        "version": "1.0.0", "hook": {"path": "/bin/sh", "args": ["sh", "-c", f"echo ran >> {mark}"]},
        "when": {"always": True}, "stages": ["prestart"]}))
    ctx = build_context(tmp_path, "hookctx", "FROM sealtest/tiny\nRUN true\n")
    bld.run("build", "--no-cache", "--hooks-dir", str(hooks), str(ctx))
    assert mark.read_text() == "ran\n"


def test_help_shows_the_flags_in_podmans_words(bld: SealpodRunner) -> None:
    """Podman's build --help lists these flags (they were accepted but hidden)."""
    out = bld.run("build", "--help").stdout
    for flag, words in (("--tls-verify", "require HTTPS and verify certificates when accessing the registry"),
                        ("--manifest", "add the image to the specified manifest list. Creates manifest list if it "
                                       "does not exist"),
                        ("-o, --output", "output destination (format: type=local,dest=path)"),
                        ("-m, --memory", "memory limit (format: <number>[<unit>], where unit = b, k, m or g)"),
                        ("-c, --cpu-shares", "CPU shares (relative weight)"),
                        ("--sign-by", "sign the image using a GPG key with the specified FINGERPRINT"),
                        ("--omit-history", "omit build history information from built image")):
        assert re.search(rf"^\s+{re.escape(flag)}\b.*{re.escape(words)}", out, re.M), flag


def test_remote_build_memory_and_manifest(pr: Remote, tmp_path: Path) -> None:
    """podman-remote build -m and --manifest: the libpod build API's memory and manifest parameters."""
    if not os.path.isdir("/sys/fs/cgroup/memory"):
        pytest.skip("cgroup v1 memory controller not mounted")
    (tmp_path / "Containerfile").write_text(f"FROM {pr.image}\nRUN cat /sys/fs/cgroup/memory/memory.limit_in_bytes\n")
    res = pr("build", "--no-cache", "-m", "100m", "--manifest", "remotelist", str(tmp_path))
    assert "\n104857600\n" in res.stdout
    listed = json.loads(pr("manifest", "inspect", "remotelist").stdout)
    assert len(listed["manifests"]) == 1


@pytest.mark.parametrize(("flags", "message"), [
    (("--cache-ttl", "soon"), 'unable to parse value provided "soon" as --cache-ttl: time: invalid duration "soon"'),
    (("--decryption-key", "/nonexistent/key.pem"), "unable to obtain decrypt config: invalid decryption keys: "
                                                   "Unable to read file: open /nonexistent/key.pem: no such file or "
                                                   "directory"),
    (("--ssh", "id=/nonexistent/key"), "creating build executor: stat /nonexistent/key: no such file or directory"),
    (("-c", "x"), 'invalid argument "x" for "-c, --cpu-shares" flag: strconv.ParseUint: parsing "x": invalid syntax'),
    (("-m", "lots"), "invalid value for memory: invalid size: 'lots'"),
    (("--shm-size", "big"), "invalid --shm-size: invalid size: 'big'"),
])
def test_accepted_flags_check_their_values_as_podman(bld: SealpodRunner, tmp_path: Path, flags: tuple[str, ...],
                                                     message: str) -> None:
    """Podman checks these values before the first step, in these words (exit 125)."""
    ctx = build_context(tmp_path, "chk", "FROM sealtest/tiny\n")
    res = bld.run("build", *flags, str(ctx), check=False)
    assert _error(res) == f"Error: {message}" and "STEP" not in res.stdout


def test_cache_ttl_limits_which_images_are_cache_hits(bld: SealpodRunner, tmp_path: Path) -> None:
    """Podman: --cache-ttl DURATION reuses only images made less than DURATION ago (0: no limit)."""
    import time

    ctx = build_context(tmp_path, "ttl", "FROM sealtest/tiny\nRUN echo ttl > /ttl\n")
    bld.run("build", "-q", str(ctx))
    time.sleep(1.2)
    assert "Using cache" in bld.run("build", "--cache-ttl", "1h", str(ctx)).stdout
    assert "Using cache" in bld.run("build", "--cache-ttl", "0", str(ctx)).stdout
    assert "Using cache" not in bld.run("build", "--cache-ttl", "1s", str(ctx)).stdout
