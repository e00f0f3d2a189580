"""Podman's own system tests for images (test/system/010-images, 020-tag, 110-history, 120-load,
125-import, 150-login, 156-pull-policy), replayed against sealpod with the rig's busybox images.

Each test is named after the BATS case whose assertions it pins; the expected words and exit
codes are Podman's (checked against Podman 4.3.1 where the BATS text is newer).
"""

from __future__ import annotations

import base64
import json
import re
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.rig.registry import RegistryServer
from tests.rig.sealpod import SealpodRunner, store_with_image

pytestmark = pytest.mark.integration


@pytest.fixture
def sp(tmp_path: Path, seeded_registry: RegistryServer) -> Iterator[SealpodRunner]:
    """A store (root) holding sealtest/tiny; containers removed afterwards."""
    with store_with_image(tmp_path / "sp", seeded_registry.host) as runner:
        yield runner


def _image(registry: RegistryServer, repo: str = "sealtest/tiny") -> str:
    return f"{registry.host}/{repo}:latest"


def _fail(sp: SealpodRunner, code: int, *args: str, stdin: str | None = None) -> str:
    res = sp.run(*args, check=False, input=stdin)
    assert res.returncode == code, f"{args}: rc {res.returncode}\n{res.stdout}\n{res.stderr}"
    return res.stderr.strip()


# --- 010-images.bats ---------------------------------------------------------------------

def test_images_basic_output_and_formats(sp: SealpodRunner, seeded_registry: RegistryServer,
                                         tmp_path: Path) -> None:
    lines = sp.run("images", "-a").stdout.splitlines()
    assert re.fullmatch(r"REPOSITORY *TAG *IMAGE ID *CREATED *SIZE", lines[0])
    assert re.match(rf"{re.escape(seeded_registry.host)}/sealtest/tiny +latest +[0-9a-f]+", lines[1])
    empty = sp.run("--root", str(tmp_path / "nothing-here"), "images").stdout
    assert re.fullmatch(r"REPOSITORY *TAG *IMAGE ID *CREATED *SIZE\n", empty)
    assert re.fullmatch(r"[0-9a-f]{12}\n", sp.run("images", "--format", "{{.ID}}").stdout)
    assert re.fullmatch(r"[0-9A-F]{12}\n", sp.run("images", "--format", "{{.ID| upper}}").stdout)
    assert sp.run("images", "--format", "{{.Repository}}:{{.Tag}}").stdout == _image(seeded_registry) + "\n"
    assert sp.run("images", "--format", "{{.Labels.org.sealtest.image}}").stdout == "<no value>\n"
    assert re.fullmatch(r"sha256:[0-9a-f]{64}\n", sp.run("images", "--format", "{{.ID}}", "--no-trunc").stdout)
    doc = json.loads(sp.run("images", "-a", "--format", "json").stdout)[0]
    assert doc["Names"][0] == _image(seeded_registry) and re.fullmatch("[0-9a-f]{64}", doc["Id"])
    assert re.fullmatch("sha256:[0-9a-f]{64}", doc["Digest"]) and isinstance(doc["Size"], int)
    assert re.fullmatch(r"[0-9-]+T[0-9:.]+Z", doc["CreatedAt"])


def test_images_history_output(sp: SealpodRunner) -> None:
    """``{{.History}}``: names the image had, most recent first, kept after rmi of a tag."""
    sp.run("run", "--name", "ignore-me", "--name", "my-container", "sealtest/tiny", "true")
    sp.run("commit", "-q", "my-container", "my-test-image")

    def history() -> str:
        return sp.run("images", "my-test-image", "--format", "{{ .History }}").stdout.strip()

    assert history() == "localhost/my-test-image:latest"
    sp.run("tag", "my-test-image", "name1")
    sp.run("rmi", "name1")
    assert history() == "localhost/my-test-image:latest, localhost/name1:latest"
    sp.run("tag", "my-test-image", "name2")
    sp.run("rmi", "name2")
    assert history() == "localhost/my-test-image:latest, localhost/name2:latest, localhost/name1:latest"
    names = sp.run("image", "inspect", "--format", "{{.NamesHistory}}", "my-test-image").stdout.strip()
    assert names == "[localhost/my-test-image:latest localhost/name2:latest localhost/name1:latest]"
    sp.run("rmi", "my-test-image")
    sp.run("rm", "my-container")


def test_images_filter(sp: SealpodRunner, seeded_registry: RegistryServer) -> None:
    iid = sp.run("inspect", "--format", "{{.XYZ}}", "--format", "{{.ID}}", "sealtest/tiny").stdout.strip()
    assert re.fullmatch("[0-9a-f]{64}", iid), "{{.ID}} is the Go field name of Id; the last --format wins"
    assert sp.run("images", "--noheading", f"--filter=after={iid}").stdout == ""
    assert sp.run("images", "--noheading", f"--filter=before={iid}").stdout == ""
    sp.run("run", "--name", "mytinycontainer", "sealtest/tiny", "true")
    new_iid = sp.run("commit", "-q", "mytinycontainer", "mynewimage").stdout.strip().removeprefix("sha256:")
    opts = ("--noheading", "--no-trunc", "--format={{.ID}}--{{.Repository}}:{{.Tag}}")
    for key in ("after", "since"):
        out = sp.run("images", *opts, f"--filter={key}={iid}").stdout
        assert out == f"sha256:{new_iid}--localhost/mynewimage:latest\n"
    assert sp.run("images", *opts, "--filter=before=mynewimage").stdout == \
        f"sha256:{iid}--{_image(seeded_registry)}\n"
    sp.run("rmi", "mynewimage")
    sp.run("rm", "mytinycontainer")


def test_images_all_after_pulling_by_sha(sp: SealpodRunner, seeded_registry: RegistryServer) -> None:
    baseline = sp.run("images", "-a").stdout
    iid = sp.run("inspect", "--format", "{{.Id}}", "sealtest/tiny").stdout.strip()
    digest = sp.run("inspect", "--format", "{{.Digest}}", iid).stdout.strip()
    fqin = f"{seeded_registry.host}/sealtest/tiny@{digest}"
    res = sp.run("pull", fqin)
    assert f"Trying to pull {fqin}..." in res.stderr
    assert sp.run("images", "-a").stdout == baseline, "a name by digest adds no <none> row"
    assert sp.run("rmi", fqin).stdout == f"Untagged: {fqin}\n"
    assert sp.run("images", "-a").stdout == baseline


def test_images_table_format(sp: SealpodRunner, seeded_registry: RegistryServer) -> None:
    zzz_name, zzz_tag = "zzzzzzzzzz.yyyyyyyyy/xxxxxxxxx", "abcdefghijklmno"
    sp.run("tag", "sealtest/tiny", "a.b/c:d", f"{zzz_name}:{zzz_tag}")
    iid = sp.run("inspect", "--format", "{{.ID}}", "sealtest/tiny").stdout[:12]
    lines = sp.run("images", "--sort", "repository", "--format", "table {{.Repository}} {{.Tag}} {{.ID}}").stdout
    rows = lines.splitlines()[1:]
    expect = sorted([("a.b/c", "d"), (f"{seeded_registry.host}/sealtest/tiny", "latest"), (zzz_name, zzz_tag)])
    assert rows == [f"{n:<{len(zzz_name)}}  {t:<{len(zzz_tag)}}  {iid}" for n, t in expect]


def test_images_rmi_af_removes_all_containers(sp: SealpodRunner, seeded_registry: RegistryServer) -> None:
    sp.run("pull", "-q", "sealtest/multilayer")
    ids = [sp.run("inspect", "--format", "{{.ID}}", f"sealtest/{n}").stdout.strip() for n in ("tiny", "multilayer")]
    ctrs = [sp.run("create", f"sealtest/{n}", "true").stdout.strip() for n in ("tiny", "multilayer")]
    err = _fail(sp, 2, "rmi", "-a")
    assert err.splitlines()[0] == "Error: 2 errors occurred:"
    for line, ctr in zip(err.splitlines()[1:], ctrs, strict=True):
        assert line == (f"\t* image used by {ctr}: image is in use by a container: consider listing external "
                        "containers and force-removing image")
    out = sp.run("rmi", "-af").stdout
    assert out == (f"Untagged: {_image(seeded_registry)}\nUntagged: {_image(seeded_registry, 'sealtest/multilayer')}"
                   f"\nDeleted: {ids[0]}\nDeleted: {ids[1]}\n")
    assert sp.run("images", "--noheading").stdout == ""
    assert sp.run("ps", "--all", "--noheading").stdout == ""


def test_rmi_ignore(sp: SealpodRunner) -> None:
    assert _fail(sp, 1, "rmi", "nosuchimage") == "Error: nosuchimage: image not known"
    assert sp.run("rmi", "--ignore", "nosuchimage").stdout == ""


# --- 020-tag.bats ------------------------------------------------------------------------

def test_tag_untag(sp: SealpodRunner) -> None:
    for tag_as, check_as in (("registry.com/image:latest", "registry.com/image:latest"),
                             ("registry.com/image", "registry.com/image:latest"),
                             ("image:latest", "localhost/image:latest"), ("image", "localhost/image:latest")):
        sp.run("tag", "sealtest/tiny", tag_as)
        sp.run("image", "exists", check_as)
        sp.run("untag", "sealtest/tiny", check_as)
        _fail(sp, 1, "image", "exists", check_as)
    for name in ("registry.com/image:1", "registry.com/image:3", "registry.com/image:2", "registry.com/aaa:a"):
        sp.run("tag", "sealtest/tiny", name)
    out = sp.run("images", "--format", "{{.Repository}}:{{.Tag}}", "--sort", "repository").stdout
    assert "registry.com/aaa:a\nregistry.com/image:1\nregistry.com/image:2\nregistry.com/image:3" in out
    sp.run("untag", "sealtest/tiny", "registry.com/aaa:a", "registry.com/image:1", "registry.com/image:2",
           "registry.com/image:3")
    assert _fail(sp, 125, "untag", "sealtest/tiny", "registry.com/foo:bar") == \
        "Error: registry.com/foo:bar: tag not known"


def test_untag_all(sp: SealpodRunner) -> None:
    iid = sp.run("inspect", "--format", "{{.ID}}", "sealtest/tiny").stdout.strip()
    sp.run("tag", "sealtest/tiny", "registry.com/1:latest", "registry.com/2:latest", "registry.com/3:latest")
    sp.run("untag", iid)
    assert sp.run("image", "inspect", iid, "--format", "{{.RepoTags}}").stdout == "[]\n"


# --- 110-history.bats --------------------------------------------------------------------

def test_history_basic_and_custom_format(sp: SealpodRunner, seeded_registry: RegistryServer) -> None:
    sp.run("pull", "-q", "sealtest/multilayer")
    image = "sealtest/multilayer"
    assert re.search(r"[0-9a-f]{12} .* LABEL", sp.run("history", image).stdout)
    assert re.search(r"[0-9a-f]{12} .* ago", sp.run("history", "--format", "{{.ID}} {{.Created}}", image).stdout)
    plain = sp.run("history", "--human=false", image).stdout
    assert re.search(r"[0-9a-f]{12} +[0-9-]+T[0-9:]+Z", plain) and " 2.04 MB " in plain, "sizes stay human"
    ids = sp.run("history", "-qH", image).stdout.split()
    tiny = sp.run("inspect", "--format", "{{.Id}}", "sealtest/tiny").stdout[:12]
    assert re.fullmatch("[0-9a-f]{12}", ids[0]) and ids[-1] == tiny, "a layer topping another image shows its ID"
    assert set(ids[1:-1]) == {"<missing>"}
    assert re.search("[0-9a-f]{64}", sp.run("history", "--no-trunc", image).stdout)
    rows = sp.run("history", "--format", "{{.ID}}\t{{.ID}}", image).stdout.splitlines()
    assert rows and all("\t" in r for r in rows)
    tags = sp.run("history", "--format", "{{.Tags}}", image).stdout
    assert set(tags.splitlines()) == {"[]"}, "Podman 4.3.1's CLI history never fills Tags"


def test_history_json_and_created(sp: SealpodRunner) -> None:
    for entry in json.loads(sp.run("history", "--format", "json", "sealtest/tiny").stdout):
        assert re.fullmatch("[0-9a-f]{64}|<missing>", entry["id"])
        assert re.fullmatch(r"[0-9-]+T[0-9:.]+[Z0-9:+-]+", entry["created"]) and isinstance(entry["size"], int)
    since, at = sp.run("image", "list", "--format", "{{.CreatedSince}}\n{{.CreatedAt}}",
                       "sealtest/tiny").stdout.splitlines()
    assert re.match("^[0-9]+.* ago", since) and re.fullmatch(r"[0-9]+-[0-9]+-[0-9]+ [0-9:]+ \+0000 UTC", at)
    h_since, h_at = sp.run("image", "history", "--format", "{{.CreatedSince}}\n{{.CreatedAt}}",
                           "sealtest/tiny").stdout.splitlines()[:2]
    assert h_since == since and h_at[:10] == at[:10] and h_at[11:19] == at[11:19]


# --- 120-load.bats -----------------------------------------------------------------------

def test_load_invalid_file_and_corrupt_payload(sp: SealpodRunner, tmp_path: Path) -> None:
    invalid = tmp_path / "invalid"
    invalid.write_text("I am an invalid file and should cause a podman-load error\n")
    for args, stdin in ((("load", "-i", str(invalid)), None), (("load",), "Danger, Will Robinson!!\n")):
        err = _fail(sp, 125, *args, stdin=stdin)
        assert "payload does not match any of the supported image formats:" in err


def _iid_and_name(sp: SealpodRunner) -> tuple[str, str]:
    iid, name = sp.run("images", "-a", "--format", "{{.ID}} {{.Repository}}:{{.Tag}}").stdout.split("\n")[0].split()
    return iid, name


def _pipe_save(sp: SealpodRunner, archive: Path, *args: str) -> None:
    """``sealpod save ... | cat > archive``: stdout a pipe, not a file."""
    with open(archive, "wb") as out:
        save = subprocess.Popen(sp.argv("save", *args), env=sp.env, stdout=subprocess.PIPE)
        cat = subprocess.run(["cat"], stdin=save.stdout, stdout=out, check=True)
        assert save.wait() == 0 and cat.returncode == 0


def test_save_to_pipe_and_load(sp: SealpodRunner, tmp_path: Path) -> None:
    fqin = "localhost/x0abcdefghijkl:t0abcdefg"
    sp.run("tag", "sealtest/tiny", fqin)
    archive = tmp_path / "MySubDirWithCaps" / "MyImage-x.tar"
    archive.parent.mkdir()
    _pipe_save(sp, archive, "--format", "oci-archive", fqin)
    sp.run("rmi", fqin)
    sp.run("load", "-i", str(archive))
    # Podman 5 lists only the matching name first; 4.3.1, like sealpod, lists every name of the image
    assert fqin in sp.run("images", fqin, "--format", "{{.Repository}}:{{.Tag}}").stdout.splitlines()


def _load_stdin(sp: SealpodRunner, archive: Path, *cmd: str) -> None:
    with open(archive, "rb") as f:
        res = subprocess.run(sp.argv(*cmd), env=sp.env, stdin=f, capture_output=True, text=True)
    assert res.returncode == 0, res.stderr


def test_load_by_image_id_and_by_name(sp: SealpodRunner, tmp_path: Path) -> None:
    iid, name = _iid_and_name(sp)
    by_id, by_name = tmp_path / "by-id.tar", tmp_path / "by-name.tar"
    sp.run("save", iid, "-o", str(by_id))
    sp.run("save", name, "-o", str(by_name))
    sp.run("rmi", iid)
    for archive, expect in ((by_id, "<none>:<none>"), (by_name, name)):
        sp.run("load", "-i", str(archive))
        assert _iid_and_name(sp) == (iid, expect)
        for cmd in (("load",), ("image", "load")):
            sp.run("rmi", iid)
            _load_stdin(sp, archive, *cmd)
            assert _iid_and_name(sp) == (iid, expect)
        sp.run("rmi", iid)


def test_load_multi_image_archive(sp: SealpodRunner, tmp_path: Path) -> None:
    sp.run("pull", "-q", "sealtest/multilayer")
    images = [sp.run("inspect", "--format", "{{index .RepoTags 0}}", f"sealtest/{n}").stdout.strip()
              for n in ("tiny", "multilayer")]
    for piped in (False, True):
        archive = tmp_path / f"multi-{piped}.tar"
        if piped:
            _pipe_save(sp, archive, "-m", *images)
        else:
            sp.run("save", "-m", "-o", str(archive), *images)
        sp.run("rmi", "-f", *images)
        sp.run("load", "-i", str(archive))
        for image in images:
            sp.run("image", "exists", image)


def test_save_oci_accept_uncompressed_layers(sp: SealpodRunner, tmp_path: Path) -> None:
    import tarfile

    archive = tmp_path / "oci.tar"
    sp.run("save", "-o", str(archive), "--format", "oci-archive", "--uncompressed", "sealtest/tiny")
    with tarfile.open(archive) as tar:
        index = json.loads(tar.extractfile("index.json").read())  # type: ignore[union-attr]
        manifest_digest = index["manifests"][0]["digest"].split(":")[1]
        manifest = json.loads(tar.extractfile(f"blobs/sha256/{manifest_digest}").read())  # type: ignore[union-attr]
        for layer in manifest["layers"]:
            blob = tar.extractfile(f"blobs/sha256/{layer['digest'].split(':')[1]}").read()  # type: ignore[union-attr]
            assert blob[257:262] == b"ustar", "layers are uncompressed tar"


# --- 125-import.bats ---------------------------------------------------------------------

def test_import(sp: SealpodRunner, tmp_path: Path) -> None:
    archive = tmp_path / "archive.tar"
    sp.run("run", "--name", "import", "sealtest/tiny", "sh", "-c", "echo r4nd0m > /random.txt")
    sp.run("export", "import", "-o", str(archive))
    sp.run("rm", "-t", "0", "-f", "import")
    fqin = "localhost/x0import:t0tag"
    for args, stdin in ((("import", "-q", str(archive)), None), (("import", "-q", "-"), archive),
                        (("import", "-q", str(archive), fqin), None), (("import", "-q", "-", fqin), archive)):
        if stdin is None:
            out = sp.run(*args).stdout.strip()
        else:
            with open(stdin, "rb") as f:
                res = subprocess.run(sp.argv(*args), env=sp.env, stdin=f, capture_output=True, text=True)
            assert res.returncode == 0, res.stderr
            out = res.stdout.strip()
        target = fqin if len(args) == 4 else out
        assert sp.run("run", "--rm", target, "cat", "/random.txt").stdout == "r4nd0m\n"
        sp.run("rmi", "-f", target)


def test_export_alter_tarball_reimport_with_change(sp: SealpodRunner, tmp_path: Path) -> None:
    """Flags after the archive, the name last (``import -q ARCHIVE --change CMD NAME``)."""
    archive = tmp_path / "b.tar"
    sp.run("create", "--name", "b_cnt", "sealtest/tiny")
    sp.run("export", "-o", str(archive), "b_cnt")
    sp.run("rm", "-t", "0", "-f", "b_cnt")
    sp.run("import", "-q", str(archive), "--change",
           "CMD sh -c \"trap 'exit 33' 2; while true; do sleep 0.05;done\"", "after_change_img")
    sp.run("run", "--name", "a_cnt", "-d", "after_change_img")
    import time

    time.sleep(0.5)  # the trap is set once sh runs
    sp.run("kill", "--signal", "2", "a_cnt")
    sp.run("wait", "a_cnt")
    status = sp.run("ps", "-a", "--filter", "name=a_cnt", "--format", "{{.Status}}").stdout
    assert status.startswith("Exited (33) ")
    sp.run("rm", "-t", "0", "-f", "a_cnt")
    assert _fail(sp, 125, "import", "a", "b", "c") == "Error: accepts between 1 and 2 arg(s), received 3"


# --- 150-login.bats ----------------------------------------------------------------------

def test_login_basic_wrong_credentials_and_authfile(sealpod: SealpodRunner, auth_registry: RegistryServer,
                                                    tmp_path: Path) -> None:
    reg = auth_registry.host
    user, password = auth_registry.username or "", auth_registry.password or ""
    out = sealpod.run("login", "--tls-verify=false", "--username", user, "--password-stdin", reg,
                      input=password + "\n").stdout
    assert out == "Login Succeeded!\n"
    assert sealpod.run("logout", reg).stdout == f"Removed login credentials for {reg}\n"
    err = _fail(sealpod, 125, "login", "--tls-verify=false", "--username", user, "--password-stdin", reg,
                stdin="x" + password + "\n")
    assert err == f'Error: logging into "{reg}": invalid username/password'
    authfile = tmp_path / "auth-x.json"
    sealpod.run("login", f"--authfile={authfile}", "--tls-verify=false", "--username", user,
                "--password", password, reg)
    stored = json.loads(authfile.read_text())["auths"][reg]["auth"]
    assert base64.b64decode(stored).decode() == f"{user}:{password}"
    sealpod.run("logout", f"--authfile={authfile}", reg)
    assert json.loads(authfile.read_text())["auths"] == {}


def test_push_fail_and_push_ok(sp: SealpodRunner, auth_registry: RegistryServer, tmp_path: Path) -> None:
    reg = auth_registry.host
    authfile = tmp_path / "bad-auth.json"
    wrong = base64.b64encode(b"baduser:wrongpassword\n").decode()
    authfile.write_text(json.dumps({"auths": {reg: {"auth": wrong}}}))
    err = _fail(sp, 125, "push", f"--authfile={authfile}", "--tls-verify=false", "sealtest/tiny",
                f"{reg}/badpush:1")
    assert err.endswith(": unauthorized: authentication required")
    iid = sp.run("inspect", "--format", "{{.Id}}", "sealtest/tiny").stdout.strip()
    creds = f"{auth_registry.username}:{auth_registry.password}"
    sp.run("push", "--tls-verify=false", "--format", "docker", "--creds", creds, "sealtest/tiny", f"{reg}/ok-push")
    sp.run("rmi", "sealtest/tiny")
    sp.run("pull", "--tls-verify=false", "--creds", creds, f"{reg}/ok-push")
    assert sp.run("inspect", "--format", "{{.Id}}", f"{reg}/ok-push").stdout.strip() == iid


# --- 156-pull-policy.bats ----------------------------------------------------------------

def test_pull_with_policy_flag(sp: SealpodRunner, seeded_registry: RegistryServer) -> None:
    image = _image(seeded_registry, "sealtest/multilayer")
    assert _fail(sp, 125, "pull", "--policy", "invalid", image) == 'Error: unsupported pull policy "invalid"'
    assert _fail(sp, 125, "pull", "--policy", "never", image) == f"Error: {image}: image not known"
    res = sp.run("pull", "--policy", "missing", image)
    assert "Writing manifest to image destination" in res.stderr
    image_id = res.stdout.strip()
    for policy in ("missing", "newer"):
        res = sp.run("pull", "--policy", policy, image)
        assert (res.stdout.strip(), res.stderr) == (image_id, ""), policy
    assert "Writing manifest to image destination" in sp.run("pull", "--policy", "always", image).stderr
    err = _fail(sp, 125, "pull", "--policy", "never", "quay.io/libpod/i-do-not-exist")
    assert err == "Error: quay.io/libpod/i-do-not-exist: image not known"
