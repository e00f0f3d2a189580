"""Hostile input to the command line and the API: malformed containers.conf values, numbers that do not
fit, NaN, bad templates, broken archives, bad HTTP bodies.  Each gives a one-line error and a non-zero
exit (or a 4xx JSON error from a service that lives on), never a traceback, and the store still lists
its images and containers afterwards."""

from __future__ import annotations

import io
import json
import socket
import subprocess
import tarfile
from pathlib import Path
from typing import Any

import pytest

from tests.rig.api import ApiService
from tests.rig.registry import RegistryServer
from tests.rig.sealpod import SealpodRunner, store_with_image

pytestmark = pytest.mark.integration


@pytest.fixture
def sp(tmp_path: Path, seeded_registry: RegistryServer) -> Any:
    with store_with_image(tmp_path, seeded_registry.host) as runner:
        yield runner


def _one_line_error(res: subprocess.CompletedProcess[str], code: int = 125) -> str:
    assert res.returncode == code, res.stderr
    assert "Traceback" not in res.stderr
    lines = [line for line in res.stderr.strip().splitlines() if not line.startswith("See '")]
    assert len(lines) == 1 and lines[0].startswith("Error: "), res.stderr
    return lines[0]


def _store_intact(sp: SealpodRunner, containers: int = 0) -> None:
    assert "sealtest/tiny" in sp.run("images").stdout
    assert len(sp.run("ps", "-aq").stdout.split()) == containers


CONF_CASES = [
    ("[containers]\numask = \"abc\"", "not a valid umask abc"),
    ("[containers]\ndefault_ulimits = [\"nofile=abc\"]", "unrecognized ulimit nofile=abc"),
    ("[containers]\nshm_size = \"1x\"", "invalid --shm-size 1x"),
    ("[containers]\npids_limit = 99999999999999999999", "out of range for int64"),
    ("[containers]\ndevices = [\"/dev/null:/x:zzz\"]", "invalid device mode: zzz"),
    ("[containers]\ntz = \"Nowhere/Land\"", "find timezone Nowhere/Land"),
    ("[engine]\nnum_locks = -1", "-1 is out of range for uint32"),
    ("[engine]\npull_policy = \"sometimes\"", 'unsupported pull policy "sometimes"'),
    ("[engine]\ntmp_dir = \"relative\"", "temporary directory must be an absolute path"),
    ("[network]\ndefault_subnet = \"notacidr\"", "invalid CIDR address: notacidr"),
    ("[network]\ndefault_subnet_pools = [{base = \"10.0.0.300/8\", size = 24}]", "invalid CIDR address"),
    ("[network]\ndns_bind_port = 99999", "out of range for uint16"),
    ("[network]\nnetwork_backend = \"bogus\"", 'unsupported network backend "bogus"'),
]


@pytest.mark.parametrize(("text", "words"), CONF_CASES, ids=[c[1][:30] for c in CONF_CASES])
def test_containers_conf_values_checked_like_podman(sp: SealpodRunner, text: str, words: str) -> None:
    """containers.conf values Podman refuses while loading it: every command fails, one line, nothing run"""
    sp.containers_conf.write_text(text + "\n")
    err = _one_line_error(sp.run("ps", check=False))
    assert words in err and str(sp.containers_conf) in err
    sp.containers_conf.write_text("[containers]\numask = \"0027\"\nshm_size = \"64m\"\n"
                                  "default_ulimits = [\"nofile=1024:2048\"]\n"
                                  "[network]\ndefault_subnet = \"10.77.0.0/16\"\n")
    sp.run("ps")  # good values of the same keys are taken


@pytest.mark.parametrize(("flags", "words"), [
    (["--cpus", "nan"], 'invalid argument "nan" for "--cpus" flag'),
    (["--cpus", "inf"], 'invalid argument "inf" for "--cpus" flag'),
    (["--ulimit", "nofile=10:5"], "soft limit must be less than or equal to hard limit"),
    (["--ulimit", "bogus=1"], "invalid ulimit type: bogus"),
    (["--ulimit", "nofile=99999999999999999999999"], "value out of range"),
    (["--attach", "bogus"], 'invalid stream "bogus" for --attach'),
    (["--detach-keys", "bogus-x"], "invalid detach keys: bogus-x"),
    (["--cidfile", "/nonexistent/dir/cid"], "opening cidfile /nonexistent/dir/cid"),
])
def test_run_refuses_bad_values_before_creating(sp: SealpodRunner, flags: list[str], words: str) -> None:
    """bad --cpus/--ulimit/--attach/--detach-keys/--cidfile: refused at create, nothing left, store listable"""
    assert words in _one_line_error(sp.run("run", "--rm", *flags, "sealtest/tiny", "true", check=False))
    _store_intact(sp)
    sp.run("run", "--rm", "sealtest/tiny", "true")  # and the store still runs containers


def test_numeric_flags_speak_cobra(sp: SealpodRunner) -> None:
    """invalid and overflowing numbers: cobra's words, exit 125, never a Python integer that overflows later"""
    res = sp.run("run", "--rm", "--cpu-shares", "abc", "sealtest/tiny", "true", check=False)
    assert 'invalid argument "abc" for "-c, --cpu-shares" flag: strconv.ParseInt: parsing "abc": invalid syntax' \
        in _one_line_error(res)
    res = sp.run("run", "--rm", "--cpus", "abc", "sealtest/tiny", "true", check=False)
    assert 'for "--cpus" flag: strconv.ParseFloat' in _one_line_error(res)
    for argv in (["stop", "-t", "99999999999999999999999", "x"], ["logs", "--tail", "99999999999999999999999", "x"],
                 ["ps", "--last", "99999999999999999999999"]):
        assert "value out of range" in _one_line_error(sp.run(*argv, check=False))
    _store_intact(sp)


def test_unknown_template_fields_are_errors(sp: SealpodRunner) -> None:
    """--format naming a field Podman's struct lacks: Go's "can't evaluate field", not <no value>"""
    sp.run("create", "--name", "c1", "--label", "a=b", "sealtest/tiny")
    for argv in (["inspect", "--format", "{{.Bogus}}", "c1"], ["inspect", "--format", "{{.Bogus}}", "sealtest/tiny"],
                 ["info", "--format", "{{.Bogus}}"], ["version", "--format", "{{.Bogus}}"]):
        assert "can't evaluate field Bogus" in _one_line_error(sp.run(*argv, check=False))
    out = sp.run("inspect", "--format", "{{.Id}} {{.ID}} {{.Config.Labels.a}} {{.Config.Labels.zz}} "
                 "{{.Dependencies}}", "c1").stdout
    rid = sp.run("inspect", "--format", "{{.Id}}", "c1").stdout.strip()
    assert out.strip() == f"{rid} {rid} b <no value> []"  # fields and map keys still answer as before
    assert sp.run("version", "--format", "{{.Client.Version}}").stdout.strip()
    assert sp.run("info", "--format", "{{.Host.Arch}}").stdout.strip()


def _archive(tmp_path: Path, name: str, files: dict[str, bytes], links: dict[str, str] | None = None) -> Path:
    path = tmp_path / name
    with tarfile.open(path, "w") as t:
        for member, data in files.items():
            info = tarfile.TarInfo(member)
            info.size = len(data)
            t.addfile(info, io.BytesIO(data))
        for member, target in (links or {}).items():
            info = tarfile.TarInfo(member)
            info.type, info.linkname = tarfile.SYMTYPE, target
            t.addfile(info)
    return path


def test_malformed_archives_for_load(sp: SealpodRunner, tmp_path: Path) -> None:
    """load of broken docker-archives: one-line errors, nothing stored, nothing written outside the store"""
    good = tmp_path / "good.tar"
    sp.run("save", "-o", str(good), "sealtest/tiny")
    with tarfile.open(good) as t:
        files = {m.name: t.extractfile(m).read() for m in t.getmembers() if m.isfile()}  # type: ignore[union-attr]
    manifest = json.loads(files["manifest.json"])
    cfg_name, layer = manifest[0]["Config"], manifest[0]["Layers"][0]
    cfg = json.loads(files[cfg_name])
    wrong_ids = {**cfg, "rootfs": {**cfg["rootfs"], "diff_ids": ["sha256:" + "0" * 64]}}
    raw = good.read_bytes()
    cases = {
        "truncated.tar": None,
        "dotdot.tar": {**files, "manifest.json": json.dumps([{**manifest[0], "Layers": ["../../../etc/passwd"]}])
                       .encode()},
        "missing.tar": {k: v for k, v in files.items() if k != layer},
        "diffids.tar": {**files, cfg_name: json.dumps(wrong_ids).encode()},
        "types.tar": {**files, "manifest.json": b'[{"Config": 5, "Layers": "x", "RepoTags": 7}]'},
        "notjson.tar": {**files, "manifest.json": b"{not json"},
    }
    for name, content in cases.items():
        if content is None:
            path = tmp_path / name
            path.write_bytes(raw[: len(raw) // 2])
        else:
            path = _archive(tmp_path, name, content)
        _one_line_error(sp.run("load", "-q", "-i", str(path), check=False))
    links = {k: v for k, v in files.items() if k != "manifest.json"}
    _one_line_error(sp.run("load", "-q", "-i", str(_archive(tmp_path, "link.tar", links,
                                                              {"manifest.json": "/etc/passwd"})), check=False))
    hostile = tmp_path / "import.tar"
    with tarfile.open(hostile, "w") as t:
        info = tarfile.TarInfo(f"../../../../../../..{tmp_path}/escaped")
        info.size = 3
        t.addfile(info, io.BytesIO(b"bad"))
    _one_line_error(sp.run("import", "-q", str(hostile), "hostile:1", check=False))
    assert not (tmp_path / "escaped").exists()
    assert len(sp.run("images", "-aq").stdout.split()) == 1  # nothing half-loaded
    _store_intact(sp)


def _http(api: ApiService, raw: bytes) -> tuple[int, bytes]:
    with socket.socket(socket.AF_UNIX) as s:
        s.settimeout(30)
        s.connect(str(api.socket_path))
        s.sendall(raw)
        data = b""
        while chunk := s.recv(65536):
            data += chunk
    assert data.startswith(b"HTTP/1.1 "), data[:200]
    head, _, body = data.partition(b"\r\n\r\n")
    return int(head.split(b" ", 2)[1]), body


def _request(api: ApiService, method: str, path: str, body: bytes = b"") -> tuple[int, Any]:
    status, answer = _http(api, (f"{method} {path} HTTP/1.1\r\nHost: d\r\nContent-Type: application/json\r\n"
                                 f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n").encode() + body)
    return status, json.loads(answer) if answer.strip() else None


@pytest.mark.parametrize(("method", "path", "body"), [
    ("POST", "/containers/create", b'{"Image": "sealtest/tiny", "HostConfig": {"NanoCpus": NaN}}'),
    ("POST", "/containers/create", b'{"Image": "sealtest/tiny", "HostConfig": {"NanoCpus": 1e400}}'),
    ("POST", "/libpod/containers/create",
     b'{"image": "sealtest/tiny", "resource_limits": {"cpu": {"shares": Infinity}}}'),
    ("POST", "/containers/create", b'{"Image": "sealtest/tiny", "StopTimeout": "abc"}'),
    ("POST", "/containers/create",
     b'{"Image": "sealtest/tiny", "HostConfig": {"Ulimits": [{"Name": "nofile", "Soft": "a"}]}}'),
    ("GET", "/containers/json?filters=%5B1%2C2%5D", b""),
    ("POST", "/containers/api-hostile/stop?t=99999999999999999999999", b""),
    ("POST", "/containers/api-hostile/stop?t=inf", b""),
    ("POST", "/containers/api-hostile/update", b'{"Memory": "lots"}'),
    ("POST", "/containers/api-hostile/update", b'{"CpuShares": -1}'),
])
def test_api_bad_values_are_client_errors(api: ApiService, method: str, path: str, body: bytes) -> None:
    """NaN/Infinity, wrong JSON types, numbers out of range, a filters list: 400 JSON, the store intact"""
    if not api.runner.run("container", "exists", "api-hostile", check=False).returncode == 0:
        api.runner.run("run", "-d", "--name", "api-hostile", "sealtest/tiny", "sleep", "600")
    status, doc = _request(api, method, path, body)
    assert status == 400, doc
    assert isinstance(doc, dict) and doc.get("message") and "internal error" not in doc["message"]
    status, listing = _request(api, "GET", "/containers/json?all=1")
    assert status == 200 and all(c["State"] in ("running", "created", "exited") for c in listing)
    assert api.runner.run("inspect", "--format", "{{.State.Status}}", "api-hostile").stdout.strip() == "running"


def test_api_hostile_chunked_size(api: ApiService) -> None:
    """a chunked body announcing an absurd chunk: 400, and the service answers the next request"""
    head = (b"POST /containers/create HTTP/1.1\r\nHost: d\r\nContent-Type: application/json\r\n"
            b"Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n")
    assert _http(api, head + b"fffffffffffffffffff\r\nab\r\n0\r\n\r\n")[0] == 400
    body = json.dumps({"Image": "sealtest/tiny", "Cmd": ["true"]}).encode()
    status, answer = _http(api, head + f"{len(body):x}\r\n".encode() + body + b"\r\n0\r\n\r\n")
    assert status == 201, answer
    api.runner.run("rm", json.loads(answer)["Id"])


@pytest.mark.parametrize("doc", ['{"auths": []}', '{"auths": {"127.0.0.1:5000": 5}}'])
def test_malformed_auth_file(sp: SealpodRunner, doc: str) -> None:
    """an auth.json whose "auths" (or an entry) is no object: refused as Go's decoder does, not read as empty"""
    sp.auth_file.write_text(doc)
    res = sp.run("pull", "-q", "--authfile", str(sp.auth_file), "sealtest/tiny", check=False)
    assert "unmarshaling JSON at" in _one_line_error(res)


@pytest.mark.parametrize("host", ["bogus:abc", "bogus::registry"])
def test_registry_with_a_bad_port(sp: SealpodRunner, host: str) -> None:
    """`login` to host:notaport is refused as Go's URL parser refuses it (it was an internal error)."""
    res = sp.run("login", "--username", "u", "--password", "p", host, check=False)
    port = host.rpartition(":")[2]
    assert _one_line_error(res).endswith(f'parse "https://{host}/v2/": invalid port ":{port}" after host')


def test_preserve_fds_needs_the_fds_passed(sp: SealpodRunner) -> None:
    """run/exec --preserve-fds N: fds 3..N+2 must be open in the caller, as Podman checks (no /dev/null stand-ins)."""
    res = sp.run("run", "--rm", "--preserve-fds", "2", "sealtest/tiny", "true", check=False)
    assert _one_line_error(res) == ("Error: file descriptor 3 is not available - the preserve-fds option requires "
                                    "that file descriptors must be passed")
    _store_intact(sp)


@pytest.mark.parametrize("flag", ["--share-parent", "--infra"])
def test_pod_create_bool_values(sp: SealpodRunner, flag: str) -> None:
    """pod create --share-parent=maybe: cobra's ParseBool words (was an internal error)."""
    res = sp.run("pod", "create", f"{flag}=maybe", check=False)
    assert _one_line_error(res) == (f'Error: invalid argument "maybe" for "{flag}" flag: strconv.ParseBool: '
                                    'parsing "maybe": invalid syntax')


def test_binary_files_named_on_the_command_line(sp: SealpodRunner, tmp_path: Path) -> None:
    """An env, label, pod-ID or CID file that is not text: one line naming the file, nothing created."""
    binary = tmp_path / "binary"
    binary.write_bytes(b"\x9a\xff\x00KEY=v\n\xf0\x28")
    for flag in ("--env-file", "--label-file", "--pod-id-file"):
        line = _one_line_error(sp.run("run", "--rm", flag, str(binary), "sealtest/tiny", "true", check=False))
        assert line.endswith(f"{binary}: invalid UTF-8 at byte 0"), line
    for args in (("rm", "--cidfile"), ("start", "--cidfile"), ("pod", "rm", "--pod-id-file")):
        line = _one_line_error(sp.run(*args, str(binary), check=False))
        assert line == f"Error: {binary}: invalid UTF-8 at byte 0"
    _store_intact(sp)


def test_list_template_errors_read_as_podmans(sp: SealpodRunner) -> None:
    """Podman 4.3.1 runs a list command's --format inside {{range .}}: its errors name that template's columns,
    the row's Go type and the command's template name; an unclosed action is a bad character."""
    sp.run("create", "--name", "tplrow", "sealtest/tiny", "true")
    sp.run("pod", "create", "--name", "tplpod", "--infra=false")
    sp.run("volume", "create", "tplvol")
    try:
        for args, name, go_type in ((("ps", "-a"), "ps", "containers.psReporter"),
                                    (("volume", "ls"), "ls", "*entities.VolumeListReport"),
                                    (("network", "ls"), "ls", "network.ListPrintReports"),
                                    (("images",), "images", "images.imageReporter"),
                                    (("pod", "ps"), "ps", "pods.ListPodReporter"),
                                    (("history", "sealtest/tiny"), "history", "images.historyReporter")):
            bad = sp.run(*args, "--format", "{{.Foo}}", check=False)
            assert bad.stderr == (f'Error: template: {name}:1:13: executing "{name}" at <.Foo>: can\'t evaluate '
                                  f"field Foo in type {go_type}\n"), bad.stderr
            unclosed = sp.run(*args, "--format", "{{.Foo", check=False)
            assert unclosed.stderr == f"Error: template: {name}:1: bad character U+007B '{{'\n"
        events = sp.run("events", "--since", "1h", "--until", "1s", "--format", "{{.Foo}}", check=False)
        assert events.stderr.startswith('Error: template: events:1:2: executing "events" at <.Foo>: can\'t evaluate '
                                        "field Foo in type *events.Event\n"), events.stderr
    finally:
        sp.run("rm", "tplrow")
        sp.run("pod", "rm", "tplpod")
        sp.run("volume", "rm", "tplvol")


def test_prunes_without_an_answer_fail_with_eof_and_remove_nothing(sp: SealpodRunner) -> None:
    """Podman 4.3.1: every prune prompts unless -f, even with no terminal, and end of input is `Error: EOF`
    (exit 125). image prune used to skip the prompt without a terminal and remove what it found."""
    sp.run("create", "--name", "prunable", "sealtest/tiny", "true")
    try:
        for args in (("container", "prune"), ("image", "prune", "-a"), ("network", "prune"), ("system", "prune")):
            res = sp.run(*args, check=False, input="")
            assert (res.returncode, res.stderr) == (125, "Error: EOF\n"), (args, res.stderr)
            assert res.stdout.endswith("Are you sure you want to continue? [y/N] ")
        assert "prunable" in sp.run("ps", "-a", "--format", "{{.Names}}").stdout
        _store_intact(sp, containers=1)
    finally:
        sp.run("rm", "prunable")
