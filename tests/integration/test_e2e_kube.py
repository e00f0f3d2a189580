"""Podman 4.3.1's e2e tests of kube play, kube generate and play --build (play_kube_test.go,
generate_kube_test.go, play_build_test.go), as sealpod answers them: real pods and containers, and
generated YAML checked against the Kubernetes schemas (kubernetes-validate, offline)."""

from __future__ import annotations

import json
import os
import stat
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.rig.registry import RegistryServer
from tests.rig.sealpod import SealpodRunner, store_with_image

IMAGE = "sealtest/tiny"


@pytest.fixture(scope="module")
def kube(tmp_path_factory: pytest.TempPathFactory, seeded_registry: RegistryServer) -> Iterator[SealpodRunner]:
    with store_with_image(tmp_path_factory.mktemp("e2e-kube"), seeded_registry.host) as runner:
        yield runner
        runner.run("pod", "rm", "-af", "-t", "0", check=False)
        runner.run("secret", "rm", "-a", check=False)


def _pod(name: str, containers: str = "", extra_spec: str = "", metadata: str = "") -> str:
    """A Pod as the e2e tests' template writes it: empty fields left without a value.  ``containers`` are
    the items of ``spec.containers``, ``extra_spec`` more of ``spec``, ``metadata`` more of ``metadata``,
    each as YAML of its own (dedented)."""
    containers = containers or f"""\
- command: [top]
  args: [-d, 1.5]
  env:
  - name: HOSTNAME
  image: {IMAGE}
  name: testCtr
  imagePullPolicy:
  ports:
  - containerPort:
    hostIP:
    hostPort:
    protocol: TCP
  workingDir: /
  volumeMounts:
"""
    head = f"apiVersion: v1\nkind: Pod\nmetadata:\n  name: {name}\n  labels:\n    app: {name}\n"
    spec = "spec:\n  restartPolicy: Never\n  hostname:\n  hostNetwork: false\n"
    if "hostAliases" not in extra_spec:
        spec += "  hostAliases:\n"
    if "initContainers" not in extra_spec:
        spec += "  initContainers:\n"
    return (head + textwrap.indent(textwrap.dedent(metadata), "  ") + spec
            + textwrap.indent(textwrap.dedent(extra_spec), "  ") + "  containers:\n"
            + textwrap.indent(textwrap.dedent(containers), "  ") + "status: {}\n")


def _play(kube: SealpodRunner, tmp_path: Path, text: str, *flags: str, check: bool = True,
          name: str = "kube.yaml") -> Any:
    path = tmp_path / name
    path.write_text(text)
    return kube.run("kube", "play", *flags, str(path), check=check)


def _inspect(kube: SealpodRunner, name: str, fmt: str) -> str:
    return kube.run("inspect", "--format", fmt, name).stdout.strip()


def _docs(text: str) -> list[dict[str, Any]]:
    import kubernetes_validate

    docs = [d for d in yaml.safe_load_all(text) if d]
    for doc in docs:
        kubernetes_validate.validate(doc, kubernetes_validate.latest_version(), strict=True)
    return docs


def _rm_pods(kube: SealpodRunner, *names: str) -> None:
    for name in names:
        kube.run("pod", "rm", "-f", "-t", "0", name, check=False)


# --- play: the template's YAML -----------------------------------------------------------------

def test_play_template_yaml_with_valueless_fields(kube: SealpodRunner, tmp_path: Path) -> None:
    """e2e play_kube_test.go: podman play kube test correct command / test hostname (containerPort: with no value)"""
    _play(kube, tmp_path, _pod("tmplpod"))
    assert _inspect(kube, "tmplpod-testCtr", "{{.Config.Entrypoint}} {{.Config.Cmd}}") == "top [-d 1.5]"
    assert _inspect(kube, "tmplpod-testCtr", "{{.Config.Hostname}}") == "tmplpod"
    assert _inspect(kube, "tmplpod-testCtr", "{{.HostConfig.RestartPolicy.Name}}") == "no"
    _rm_pods(kube, "tmplpod")


def test_play_field_names_ignore_case(kube: SealpodRunner, tmp_path: Path) -> None:
    """e2e play_kube_test.go: podman play kube test with read-only HostPath volume (``readonly: true``)"""
    host = tmp_path / "file"
    host.touch()
    ctr = f"""\
      - command: [top]
        image: {IMAGE}
        name: testCtr
        volumeMounts:
        - name: testVol
          mountPath: {host}
          readonly: true
    """
    vols = f"""\
      volumes:
      - name: testVol
        hostPath:
          path: {host}
          type: File
    """
    _play(kube, tmp_path, _pod("ropod", ctr, vols))
    assert f"{host}:{host}:ro" in _inspect(kube, "ropod-testCtr", "{{.HostConfig.Binds}}")
    _rm_pods(kube, "ropod")


def test_play_without_a_supported_kind_fails(kube: SealpodRunner, tmp_path: Path) -> None:
    """e2e play_kube_test.go: podman play kube fail with yaml of unsupported kind"""
    out = _play(kube, tmp_path, "apiVersion: v1\nkind: UnknownKind\nmetadata: {name: unknown}\n", check=False)
    assert out.returncode == 125
    assert out.stderr.endswith("Error: YAML document does not contain any supported kube kind\n")
    out = _play(kube, tmp_path, "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: cm}\ndata: {a: b}\n", check=False)
    assert (out.returncode, out.stderr) == (125, "Error: ConfigMaps in podman are not a standalone object and must "
                                                 "be used in a container\n")


def test_play_duplicate_container_names_fail(kube: SealpodRunner, tmp_path: Path) -> None:
    """e2e play_kube_test.go: podman play kube test duplicate container name"""
    ctrs = f"""\
      - {{name: testctr, image: {IMAGE}, command: [echo, hello]}}
      - {{name: testctr, image: {IMAGE}, command: [echo, world]}}
    """
    out = _play(kube, tmp_path, _pod("duppod", ctrs), check=False)
    assert (out.returncode, out.stderr) == (125, 'Error: the pod "duppod" is invalid; duplicate container name '
                                                 '"testctr" detected\n')
    assert kube.run("pod", "exists", "duppod", check=False).returncode == 1


def test_play_command_line_checks(kube: SealpodRunner, tmp_path: Path) -> None:
    """e2e play_kube_test.go: podman play kube fail with nonexistent authfile"""
    out = _play(kube, tmp_path, _pod("authpod"), "--authfile", "/tmp/nonexistent", check=False)
    assert (out.returncode, out.stderr) == (125, "Error: stat /tmp/nonexistent: no such file or directory\n")


def test_play_bool_flag_leaves_the_file_operand(kube: SealpodRunner, tmp_path: Path) -> None:
    """e2e play_kube_test.go: values containing equal sign (``play kube --start FILE``)"""
    _play(kube, tmp_path, _pod("startpod"), "--start")
    assert _inspect(kube, "startpod-testCtr", "{{.State.Running}}") == "true"
    _rm_pods(kube, "startpod")


# --- play: pod-level fields ----------------------------------------------------------------------

def test_play_host_aliases(kube: SealpodRunner, tmp_path: Path) -> None:
    """e2e play_kube_test.go: podman play kube test HostAliases / HostAliases with --no-hosts"""
    aliases = """\
      hostAliases:
      - {ip: 192.168.1.2, hostnames: [test1.podman.io, test2.podman.io]}
      - {ip: 192.168.1.3, hostnames: [test3.podman.io, test4.podman.io]}
    """
    text = _pod("aliaspod", extra_spec=aliases)
    out = _play(kube, tmp_path, text, "--no-hosts", check=False)
    assert (out.returncode, out.stderr) == (125, "Error: HostAliases in yaml file will not work with --no-hosts\n")
    _play(kube, tmp_path, text)
    assert _inspect(kube, "aliaspod", "{{.InfraConfig.HostAdd}}") == (
        "[test1.podman.io:192.168.1.2 test2.podman.io:192.168.1.2 test3.podman.io:192.168.1.3 "
        "test4.podman.io:192.168.1.3]")
    assert "192.168.1.3\ttest4.podman.io" in kube.run("exec", "aliaspod-testCtr", "cat", "/etc/hosts").stdout
    _rm_pods(kube, "aliaspod")


def test_play_share_process_namespace_and_upper_case_pod_name(kube: SealpodRunner, tmp_path: Path) -> None:
    """e2e play_kube_test.go: podman play kube should share ipc,net,uts when shareProcessNamespace is set /
    should not rename pod if container in pod has same name"""
    _play(kube, tmp_path, _pod("Sharedpod", extra_spec="  shareProcessNamespace: true\n"))
    assert _inspect(kube, "Sharedpod", "{{.SharedNamespaces}}") == "[ipc net pid uts]"
    members = json.loads(kube.run("inspect", "Sharedpod").stdout)[0]["Containers"]
    assert "Sharedpod-testCtr" in [m["Name"] for m in members]
    missing = kube.run("inspect", "NoSuchObject", check=False)
    assert missing.returncode == 125 and 'no such object: "NoSuchObject"' in missing.stderr
    _rm_pods(kube, "Sharedpod")


def test_play_uses_the_kube_default_network_or_the_given_ones(kube: SealpodRunner, tmp_path: Path) -> None:
    """e2e play_kube_test.go: podman play kube test with kube default network / with multiple networks"""
    _play(kube, tmp_path, _pod("netpod"))
    assert _inspect(kube, "netpod", "{{.InfraConfig.Networks}}") == "[podman-default-kube-network]"
    _rm_pods(kube, "netpod")
    kube.run("network", "create", "--subnet", "10.0.11.0/24", "e2enet1")
    kube.run("network", "create", "--subnet", "10.0.12.0/24", "e2enet2")
    try:
        _play(kube, tmp_path, _pod("netpod2"), "--network", "e2enet1:ip=10.0.11.5", "--network",
              "e2enet2:ip=10.0.12.10")
        addrs = kube.run("exec", "netpod2-testCtr", "ip", "addr").stdout
        assert "10.0.11.5" in addrs and "10.0.12.10" in addrs and "eth1" in addrs
    finally:
        _rm_pods(kube, "netpod2")
        kube.run("network", "rm", "-f", "e2enet1", "e2enet2", check=False)


def test_play_dns_config(kube: SealpodRunner, tmp_path: Path) -> None:
    """e2e generate_kube_test.go: podman generate kube on a pod with dns options (played back)"""
    dns = """\
      dnsConfig:
        nameservers: [8.8.8.8]
        searches: [foobar.com]
        options: [{name: color, value: blue}, {name: ndots}]
    """
    _play(kube, tmp_path, _pod("dnspod", extra_spec=dns))
    assert _inspect(kube, "dnspod", "{{.InfraConfig.DNSServer}} {{.InfraConfig.DNSSearch}} "
                                    "{{.InfraConfig.DNSOption}}") == "[8.8.8.8] [foobar.com] [color:blue ndots]"
    _rm_pods(kube, "dnspod")


# --- play: containers ----------------------------------------------------------------------------

def test_play_init_container_types(kube: SealpodRunner, tmp_path: Path) -> None:
    """e2e play_kube_test.go: podman play kube test with init containers and annotation set / with init
    container type set to default value"""
    init = f"""\
      initContainers:
      - {{name: init-test, image: {IMAGE}, command: [echo, hello]}}
    """
    always = "annotations:\n  io.podman.annotations.init.container.type: always\n"
    _play(kube, tmp_path, _pod("initpod", extra_spec=init, metadata=always))
    assert _inspect(kube, "initpod-init-test", "{{.State.Status}}") == "exited"
    assert _inspect(kube, "initpod-testCtr", "{{.State.Status}}") == "running"
    assert _inspect(kube, "initpod", "{{len .Containers}}") == "3"
    _play(kube, tmp_path, _pod("oncepod", extra_spec=init))
    assert kube.run("container", "exists", "oncepod-init-test", check=False).returncode == 1
    assert _inspect(kube, "oncepod", "{{len .Containers}}") == "2"
    _rm_pods(kube, "initpod", "oncepod")


def test_play_labels_and_auto_update_annotations(kube: SealpodRunner, tmp_path: Path) -> None:
    """e2e play_kube_test.go: podman play kube with auto update annotations for all containers / for first
    container only"""
    ctrs = f"""\
      - {{name: ctr01, image: {IMAGE}, command: [top]}}
      - {{name: ctr02, image: {IMAGE}, command: [top]}}
    """
    meta = "annotations:\n  io.containers.autoupdate: local\n  io.containers.autoupdate.authfile: /a.json\n"
    _play(kube, tmp_path, _pod("aupod", ctrs, metadata=meta))
    labels = json.loads(_inspect(kube, "aupod-ctr02", "{{json .Config.Labels}}"))
    assert labels["io.containers.autoupdate"] == "local" and labels["io.containers.autoupdate.authfile"] == "/a.json"
    assert labels["app"] == "aupod"  # the pod's labels are the containers' too
    deployment = ("apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: audep\n"
                  "  annotations: {io.containers.autoupdate/ctr01: local}\nspec:\n  replicas: 1\n"
                  "  selector: {matchLabels: {app: audep}}\n  template:\n    metadata: {labels: {app: audep}}\n"
                  "    spec:\n      containers:\n" + textwrap.indent(textwrap.dedent(ctrs), "      "))
    _play(kube, tmp_path, deployment, name="dep.yaml")
    assert "io.containers.autoupdate:local" in _inspect(kube, "audep-pod-0-ctr01", "{{.Config.Labels}}")
    assert "io.containers.autoupdate" not in _inspect(kube, "audep-pod-0-ctr02", "{{.Config.Labels}}")
    _rm_pods(kube, "aupod", "audep-pod-0")


def test_play_memory_request_and_pull_policy(kube: SealpodRunner, tmp_path: Path) -> None:
    """e2e play_kube_test.go: podman play kube allows setting resource limits / with pull policy of never"""
    ctr = f"""\
      - name: testCtr
        image: {IMAGE}
        command: [top]
        resources:
          requests: {{cpu: 100m, memory: "10000000"}}
          limits: {{cpu: 200m, memory: "20000000"}}
    """
    _play(kube, tmp_path, _pod("respod", ctr))
    assert _inspect(kube, "respod-testCtr", "{{.HostConfig.CpuQuota}} {{.HostConfig.Memory}} "
                                            "{{.HostConfig.MemoryReservation}}") == "20000 20000000 10000000"
    never = f"      - {{name: testCtr, image: {IMAGE}:nosuchtag, imagePullPolicy: never}}\n"
    out = _play(kube, tmp_path, _pod("neverpod", never), check=False)
    assert out.returncode == 125 and "image not known" in out.stderr and "Trying to pull" not in out.stderr
    _rm_pods(kube, "respod")


def test_play_seccomp_annotations(kube: SealpodRunner, tmp_path: Path) -> None:
    """e2e play_kube_test.go: podman play kube seccomp container level / pod level"""
    profile = tmp_path / "profiles" / "no-mkdir.json"
    profile.parent.mkdir()
    profile.write_text(json.dumps({"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [
        {"names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_ERRNO"}]}))
    ctr = f"      - {{name: testCtr, image: {IMAGE}, command: [mkdir, /tmp/x]}}\n"
    for name, key in (("scctr", "container.seccomp.security.alpha.kubernetes.io/testCtr"),
                      ("scpod", "seccomp.security.alpha.kubernetes.io/pod")):
        meta = f"annotations:\n  {key}: localhost/no-mkdir.json\n"
        _play(kube, tmp_path, _pod(name, ctr, metadata=meta), "--seccomp-profile-root", str(profile.parent))
        kube.run("wait", f"{name}-testCtr")
        assert f"seccomp={profile}" in _inspect(kube, f"{name}-testCtr", "{{.HostConfig.SecurityOpt}}")
        assert "Operation not permitted" in kube.run("logs", f"{name}-testCtr").stderr
        _rm_pods(kube, name)


# --- play: volumes -------------------------------------------------------------------------------

def _vol_pod(name: str, volume: str, mount: str) -> str:
    ctr = f"""\
      - name: testCtr
        image: {IMAGE}
        command: [top]
        volumeMounts:
        - {{name: testVol, mountPath: {mount}}}
    """
    return _pod(name, ctr, f"  volumes:\n  - name: testVol\n{textwrap.indent(volume, '    ')}")


def test_play_host_path_types(kube: SealpodRunner, tmp_path: Path) -> None:
    """e2e play_kube_test.go: podman play kube test with nonexistent empty HostPath type volume / Socket
    HostPath type volume should fail if not socket"""
    missing = tmp_path / "missing"
    out = _play(kube, tmp_path, _vol_pod("hppod", f'hostPath: {{path: {missing}, type: ""}}\n', "/m"), check=False)
    assert out.returncode == 125
    assert out.stderr == (f'Error: failed to create volume "testVol": in parsing HostPath in YAML: stat {missing}: '
                          "no such file or directory\n")
    (tmp_path / "file").touch()
    out = _play(kube, tmp_path, _vol_pod("hppod", f"hostPath: {{path: {tmp_path / 'file'}, type: Socket}}\n", "/m"),
                check=False)
    assert out.returncode == 125 and 'failed to create volume "testVol"' in out.stderr
    assert kube.run("pod", "exists", "hppod", check=False).returncode == 1


def test_play_device_host_paths(kube: SealpodRunner, tmp_path: Path) -> None:
    """e2e play_kube_test.go: podman play kube expose character device inside container / expose char
    device as block device"""
    dev = tmp_path / "chardevice"
    os.mknod(dev, 0o600 | stat.S_IFCHR, os.makedev(1, 3))
    _play(kube, tmp_path, _vol_pod("devpod", f"hostPath: {{path: {dev}, type: CharDevice}}\n", "/dev/mychar"))
    assert f"{dev} /dev/mychar" in _inspect(kube, "devpod-testCtr", "{{.HostConfig.Devices}}")
    assert kube.run("exec", "devpod-testCtr", "ls", "-l", "/dev/mychar").stdout.startswith("c")
    _rm_pods(kube, "devpod")
    out = _play(kube, tmp_path, _vol_pod("devpod", f"hostPath: {{path: {dev}, type: BlockDevice}}\n", "/dev/b"),
                check=False)
    assert out.returncode == 125 and "is not a BlockDevice" in out.stderr


def test_play_missing_config_map_volume(kube: SealpodRunner, tmp_path: Path) -> None:
    """e2e play_kube_test.go: podman play kube with non-existing configmap"""
    out = _play(kube, tmp_path, _vol_pod("cmpod", "configMap: {name: mycm}\n", "/mycm"), check=False)
    assert (out.returncode, out.stderr) == (125, 'Error: failed to create volume "testVol": no such ConfigMap '
                                                 '"mycm"\n')


def test_play_empty_dir_is_named_after_the_volume_and_goes_with_the_pod(kube: SealpodRunner, tmp_path: Path) -> None:
    """e2e play_kube_test.go: podman play kube with emptyDir volume"""
    ctrs = f"""\
      - name: vol-test-ctr
        image: {IMAGE}
        command: [top]
        volumeMounts: [{{name: edVol, mountPath: /test-emptydir}}]
      - name: vol-test-ctr-2
        image: {IMAGE}
        command: [top]
        volumeMounts: [{{name: edVol, mountPath: /test-emptydir-2}}]
    """
    _play(kube, tmp_path, _pod("edpod", ctrs, "  volumes:\n  - {name: edVol, emptyDir: {}}\n"))
    kube.run("exec", "edpod-vol-test-ctr", "sh", "-c", "echo shared > /test-emptydir/f")
    assert kube.run("exec", "edpod-vol-test-ctr-2", "cat", "/test-emptydir-2/f").stdout == "shared\n"
    assert "edVol" in kube.run("volume", "ls", "-q").stdout.split()
    kube.run("pod", "rm", "-f", "-t", "0", "edpod")
    assert "edVol" not in kube.run("volume", "ls", "-q").stdout.split()


def test_play_secrets(kube: SealpodRunner, tmp_path: Path) -> None:
    """e2e play_kube_test.go: podman play kube secret as volume support / test env value from secret"""
    secret = "apiVersion: v1\nkind: Secret\nmetadata: {name: newsecret}\ntype: Opaque\ndata: {username: dXNlcg==}\n"
    _play(kube, tmp_path, secret)
    assert "newsecret" in kube.run("secret", "list").stdout
    _play(kube, tmp_path, _vol_pod("secpod", "secret: {secretName: newsecret, optional: false}\n", "/etc/foo"))
    assert kube.run("exec", "secpod-testCtr", "cat", "/etc/foo/username").stdout == "dXNlcg=="  # as Podman 4.3
    (tmp_path / "secret.json").write_text('{"FOO":"Zm9v","BAR":"YmFy"}')
    kube.run("secret", "create", "foo", str(tmp_path / "secret.json"))
    ctr = f"""\
      - name: testCtr
        image: {IMAGE}
        command: [top]
        env:
        - name: ONE
          valueFrom: {{secretKeyRef: {{name: foo, key: FOO}}}}
        - name: TWO
          valueFrom: {{secretKeyRef: {{name: foo, key: MISSING, optional: true}}}}
        envFrom:
        - secretRef: {{name: foo}}
    """
    _play(kube, tmp_path, _pod("envpod", ctr))
    env = json.loads(_inspect(kube, "envpod-testCtr", "{{json .Config.Env}}"))
    assert {"ONE=foo", "FOO=foo", "BAR=bar"} <= set(env) and not any(e.startswith("TWO=") for e in env)
    _rm_pods(kube, "secpod", "envpod")


def test_play_config_map_in_file_and_flag_is_ambiguous(kube: SealpodRunner, tmp_path: Path) -> None:
    """e2e play_kube_test.go: podman play kube reports error when the same configmap name is present in both
    sources"""
    cm = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: foo}\ndata: {FOO: foo}\n"
    (tmp_path / "cm.yaml").write_text(cm)
    out = _play(kube, tmp_path, cm + "---\n" + _pod("ambpod"), "--configmap", str(tmp_path / "cm.yaml"), check=False)
    assert (out.returncode, out.stderr) == (125, "Error: ambiguous configuration: the same config map foo is present "
                                                 "in YAML and in --configmaps\n")


# --- generate ------------------------------------------------------------------------------------

def _generate(kube: SealpodRunner, *names: str) -> list[dict[str, Any]]:
    return _docs(kube.run("kube", "generate", *names).stdout)


def test_generate_selinux_options(kube: SealpodRunner) -> None:
    """e2e generate_kube_test.go: podman generate service kube on container with --security-opt level /
    disable / type"""
    for name, opt, want in (("lvl", "label=level:s0:c100,c200", {"level": "s0:c100,c200"}),
                            ("dis", "label=disable", {"type": "spc_t"}), ("typ", "label=type:foo_bar_t",
                                                                          {"type": "foo_bar_t"})):
        kube.run("create", "--name", name, "--security-opt", opt, IMAGE)
        pod = _generate(kube, name)[0]
        assert pod["spec"]["containers"][0]["securityContext"]["seLinuxOptions"] == want
        kube.run("rm", name)


def test_generate_pod_level_fields(kube: SealpodRunner) -> None:
    """e2e generate_kube_test.go: podman generate kube on pod with hostAliases / with host network / with
    restartPolicy / sharing pid namespace / with user namespace"""
    kube.run("pod", "create", "--name", "genpod", "--share", "pid,net,ipc,uts", "--add-host", "test1.podman.io:1.2.3.4",
             "--add-host", "test2.podman.io:1.2.3.4", "--userns=auto")
    kube.run("create", "--name", "genctr", "--pod", "genpod", "--restart", "always", IMAGE, "top")
    spec = _generate(kube, "genpod")[0]["spec"]
    assert spec["hostAliases"] == [{"hostnames": ["test1.podman.io"], "ip": "1.2.3.4"},
                                   {"hostnames": ["test2.podman.io"], "ip": "1.2.3.4"}]
    assert spec["restartPolicy"] == "Always" and spec["shareProcessNamespace"] is True
    assert spec["hostUsers"] is False and "hostNetwork" not in spec
    kube.run("pod", "create", "--name", "hostnetpod", "--network", "host")
    kube.run("create", "--name", "hostnetctr", "--pod", "hostnetpod", IMAGE, "top")
    assert _generate(kube, "hostnetpod")[0]["spec"]["hostNetwork"] is True
    kube.run("create", "--name", "hostnetloose", "--network", "host", IMAGE, "top")
    assert _generate(kube, "hostnetloose")[0]["spec"]["hostNetwork"] is True
    kube.run("rm", "hostnetloose")
    _rm_pods(kube, "genpod", "hostnetpod")


def test_generate_dns_cpu_and_auto_update(kube: SealpodRunner) -> None:
    """e2e generate_kube_test.go: podman generate kube multiple container dns servers and options are cumulative /
    on pod with cpu limit / on container with auto update labels"""
    kube.run("create", "--name", "dns1", "--dns", "8.8.8.8", "--dns-search", "foobar.com", "--dns-option",
             "color:blue", "--cpu-period", "100000", "--cpu-quota", "50000", "--label",
             "io.containers.autoupdate=local", IMAGE, "top")
    kube.run("create", "--name", "dns2", "--dns", "8.7.7.7", "--dns-search", "homer.com", IMAGE, "top")
    pod = _generate(kube, "dns1", "dns2")[0]
    assert pod["spec"]["dnsConfig"] == {"nameservers": ["8.8.8.8", "8.7.7.7"], "searches": ["foobar.com", "homer.com"],
                                        "options": [{"name": "color", "value": "blue"}]}
    assert pod["spec"]["containers"][0]["resources"] == {"limits": {"cpu": "500m"}}
    assert pod["metadata"]["annotations"]["io.containers.autoupdate/dns1"] == "local"
    kube.run("rm", "dns1", "dns2")


def test_generate_refuses_a_container_of_a_pod(kube: SealpodRunner) -> None:
    """e2e generate_kube_test.go: podman generate kube with containers in a pod should fail"""
    kube.run("pod", "create", "--name", "inpod")
    cid = kube.run("create", "--pod", "inpod", "--name", "inpodctr", IMAGE, "top").stdout.strip()
    out = kube.run("kube", "generate", "inpodctr", check=False)
    assert out.returncode == 125
    assert out.stderr.startswith(f"Error: container {cid} is associated with pod ")
    assert out.stderr.endswith(": use generate on the pod itself\n")
    _rm_pods(kube, "inpod")


def test_generate_bind_mount_relabel_and_play_back(kube: SealpodRunner, tmp_path: Path) -> None:
    """e2e generate_kube_test.go: podman generate kube with volume"""
    vol = tmp_path / "vol-test1"
    vol.mkdir()
    kube.run("create", "--pod", "new:bindpod", "--name", "test-ctr", "-v", f"{vol}:/volume/:z", IMAGE, "top")
    out = tmp_path / "pod.yaml"
    kube.run("kube", "generate", "bindpod", "-f", str(out))
    assert _docs(out.read_text())[0]["metadata"]["annotations"]["bind-mount-options"] == f"{vol}:z"[:63]  # truncated
    _rm_pods(kube, "bindpod")
    kube.run("kube", "play", str(out))
    assert str(vol) in kube.run("inspect", "bindpod-test-ctr").stdout
    _rm_pods(kube, "bindpod")


def test_generate_and_play_dns_and_pid_sharing_round_trip(kube: SealpodRunner, tmp_path: Path) -> None:
    """e2e generate_kube_test.go: podman generate kube sharing pid namespace (and dns options) played back"""
    kube.run("pod", "create", "--name", "rtpod", "--share", "pid", "--dns", "8.8.8.8")
    kube.run("create", "--pod", "rtpod", "--name", "rtctr", IMAGE, "top")
    out = tmp_path / "rt.yaml"
    kube.run("kube", "generate", "rtpod", "-f", str(out))
    _docs(out.read_text())
    _rm_pods(kube, "rtpod")
    kube.run("kube", "play", str(out))
    assert '"pid"' in kube.run("pod", "inspect", "rtpod").stdout
    assert _inspect(kube, "rtpod", "{{.InfraConfig.DNSServer}}") == "[8.8.8.8]"
    deadline = time.monotonic() + 10
    while "8.8.8.8" not in kube.run("exec", "rtpod-rtctr", "cat", "/etc/resolv.conf", check=False).stdout:
        assert time.monotonic() < deadline
        time.sleep(0.2)
    _rm_pods(kube, "rtpod")
