"""inspect parity with Podman 4.3.1: the key set and JSON types of every inspect document, the
values templates print (Go's nil maps as ``map[]``), and ``image tree`` as Podman draws it.

The PODMAN_* schemas were recorded from ``podman inspect`` (4.3.1, runc, cgroupfs, netavark) of the
same objects made the same way: ``path=type`` with s string, n number, b bool, a array, o object,
- null; an array's first element as ``[]``; the entries of free-form maps (labels, networks other
than the default one, ports) are not recorded.  Podman is not run here.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

import pytest

from sealpod.engine.image_layer_tree import LayerNode, _render, _requirers, _size
from tests.rig.api import ApiService
from tests.rig.registry import RegistryServer
from tests.rig.sealpod import SealpodRunner, store_with_image

IMAGE = "sealtest/tiny"

PODMAN_FULL = """
.Id=s .Created=s .Path=s .Args=a .Args[]=s .State=o .State.OciVersion=s .State.Status=s .State.Running=b
.State.Paused=b .State.Restarting=b .State.OOMKilled=b .State.Dead=b .State.Pid=n .State.ConmonPid=n
.State.ExitCode=n .State.Error=s .State.StartedAt=s .State.FinishedAt=s .State.Health=o .State.Health.Status=s
.State.Health.FailingStreak=n .State.Health.Log=- .State.CgroupPath=s .State.CheckpointedAt=s
.State.RestoredAt=s .Image=s .ImageDigest=s .ImageName=s .Rootfs=s .Pod=s .ResolvConfPath=s .HostnamePath=s
.HostsPath=s .StaticDir=s .OCIConfigPath=s .OCIRuntime=s .ConmonPidFile=s .PidFile=s .Name=s .RestartCount=n
.Driver=s .MountLabel=s .ProcessLabel=s .AppArmorProfile=s .EffectiveCaps=a .EffectiveCaps[]=s .BoundingCaps=a
.BoundingCaps[]=s .ExecIDs=a .GraphDriver=o .GraphDriver.Name=s .GraphDriver.Data=o .GraphDriver.Data.LowerDir=s
.GraphDriver.Data.MergedDir=s .GraphDriver.Data.UpperDir=s .GraphDriver.Data.WorkDir=s .Mounts=a .Mounts[]=o
.Mounts[].Type=s .Mounts[].Name=s .Mounts[].Source=s .Mounts[].Destination=s .Mounts[].Driver=s .Mounts[].Mode=s
.Mounts[].Options=a .Mounts[].Options[]=s .Mounts[].RW=b .Mounts[].Propagation=s .Dependencies=a
.NetworkSettings=o .NetworkSettings.EndpointID=s .NetworkSettings.Gateway=s .NetworkSettings.IPAddress=s
.NetworkSettings.IPPrefixLen=n .NetworkSettings.IPv6Gateway=s .NetworkSettings.GlobalIPv6Address=s
.NetworkSettings.GlobalIPv6PrefixLen=n .NetworkSettings.MacAddress=s .NetworkSettings.Bridge=s
.NetworkSettings.SandboxID=s .NetworkSettings.HairpinMode=b .NetworkSettings.LinkLocalIPv6Address=s
.NetworkSettings.LinkLocalIPv6PrefixLen=n .NetworkSettings.Ports=o .NetworkSettings.SandboxKey=s
.NetworkSettings.Networks=o .Namespace=s .IsInfra=b .IsService=b .Config=o .Config.Hostname=s
.Config.Domainname=s .Config.User=s .Config.AttachStdin=b .Config.AttachStdout=b .Config.AttachStderr=b
.Config.Tty=b .Config.OpenStdin=b .Config.StdinOnce=b .Config.Env=a .Config.Env[]=s .Config.Cmd=a
.Config.Cmd[]=s .Config.Image=s .Config.Volumes=- .Config.WorkingDir=s .Config.Entrypoint=s .Config.OnBuild=-
.Config.Labels=o .Config.Annotations=o .Config.StopSignal=n .Config.Healthcheck=o .Config.Healthcheck.Test=a
.Config.Healthcheck.Test[]=s .Config.Healthcheck.Interval=n .Config.Healthcheck.Timeout=n
.Config.Healthcheck.Retries=n .Config.HealthcheckOnFailureAction=s .Config.CreateCommand=a
.Config.CreateCommand[]=s .Config.Umask=s .Config.Timeout=n .Config.StopTimeout=n .Config.Passwd=b
.Config.sdNotifyMode=s .HostConfig=o .HostConfig.Binds=a .HostConfig.Binds[]=s .HostConfig.CgroupManager=s
.HostConfig.CgroupMode=s .HostConfig.ContainerIDFile=s .HostConfig.LogConfig=o .HostConfig.LogConfig.Type=s
.HostConfig.LogConfig.Config=- .HostConfig.LogConfig.Path=s .HostConfig.LogConfig.Tag=s
.HostConfig.LogConfig.Size=s .HostConfig.NetworkMode=s .HostConfig.PortBindings=o .HostConfig.RestartPolicy=o
.HostConfig.RestartPolicy.Name=s .HostConfig.RestartPolicy.MaximumRetryCount=n .HostConfig.AutoRemove=b
.HostConfig.VolumeDriver=s .HostConfig.VolumesFrom=- .HostConfig.CapAdd=a .HostConfig.CapDrop=a .HostConfig.CapDrop[]=s
.HostConfig.Dns=a .HostConfig.DnsOptions=a .HostConfig.DnsSearch=a .HostConfig.ExtraHosts=a
.HostConfig.GroupAdd=a .HostConfig.IpcMode=s .HostConfig.Cgroup=s .HostConfig.Cgroups=s .HostConfig.Links=-
.HostConfig.OomScoreAdj=n .HostConfig.PidMode=s .HostConfig.Privileged=b .HostConfig.PublishAllPorts=b
.HostConfig.ReadonlyRootfs=b .HostConfig.SecurityOpt=a .HostConfig.Tmpfs=o .HostConfig.UTSMode=s
.HostConfig.UsernsMode=s .HostConfig.ShmSize=n .HostConfig.Runtime=s .HostConfig.ConsoleSize=a
.HostConfig.ConsoleSize[]=n .HostConfig.Isolation=s .HostConfig.CpuShares=n .HostConfig.Memory=n
.HostConfig.NanoCpus=n .HostConfig.CgroupParent=s .HostConfig.BlkioWeight=n .HostConfig.BlkioWeightDevice=-
.HostConfig.BlkioDeviceReadBps=- .HostConfig.BlkioDeviceWriteBps=- .HostConfig.BlkioDeviceReadIOps=-
.HostConfig.BlkioDeviceWriteIOps=- .HostConfig.CpuPeriod=n .HostConfig.CpuQuota=n
.HostConfig.CpuRealtimePeriod=n .HostConfig.CpuRealtimeRuntime=n .HostConfig.CpusetCpus=s
.HostConfig.CpusetMems=s .HostConfig.Devices=a .HostConfig.DiskQuota=n .HostConfig.KernelMemory=n
.HostConfig.MemoryReservation=n .HostConfig.MemorySwap=n .HostConfig.MemorySwappiness=n
.HostConfig.OomKillDisable=b .HostConfig.PidsLimit=n .HostConfig.Ulimits=a .HostConfig.Ulimits[]=o
.HostConfig.Ulimits[].Name=s .HostConfig.Ulimits[].Soft=n .HostConfig.Ulimits[].Hard=n .HostConfig.CpuCount=n
.HostConfig.CpuPercent=n .HostConfig.IOMaximumIOps=n .HostConfig.IOMaximumBandwidth=n .HostConfig.CgroupConf=-
"""

PODMAN_EXITED = """
.Id=s .Created=s .Path=s .Args=a .Args[]=s .State=o .State.OciVersion=s .State.Status=s .State.Running=b
.State.Paused=b .State.Restarting=b .State.OOMKilled=b .State.Dead=b .State.Pid=n .State.ExitCode=n
.State.Error=s .State.StartedAt=s .State.FinishedAt=s .State.Health=o .State.Health.Status=s
.State.Health.FailingStreak=n .State.Health.Log=- .State.CheckpointedAt=s .State.RestoredAt=s .Image=s
.ImageDigest=s .ImageName=s .Rootfs=s .Pod=s .ResolvConfPath=s .HostnamePath=s .HostsPath=s .StaticDir=s
.OCIConfigPath=s .OCIRuntime=s .ConmonPidFile=s .PidFile=s .Name=s .RestartCount=n .Driver=s .MountLabel=s
.ProcessLabel=s .AppArmorProfile=s .EffectiveCaps=a .EffectiveCaps[]=s .BoundingCaps=a .BoundingCaps[]=s
.ExecIDs=a .GraphDriver=o .GraphDriver.Name=s .GraphDriver.Data=o .GraphDriver.Data.LowerDir=s
.GraphDriver.Data.UpperDir=s .GraphDriver.Data.WorkDir=s .Mounts=a .Dependencies=a .NetworkSettings=o
.NetworkSettings.EndpointID=s .NetworkSettings.Gateway=s .NetworkSettings.IPAddress=s
.NetworkSettings.IPPrefixLen=n .NetworkSettings.IPv6Gateway=s .NetworkSettings.GlobalIPv6Address=s
.NetworkSettings.GlobalIPv6PrefixLen=n .NetworkSettings.MacAddress=s .NetworkSettings.Bridge=s
.NetworkSettings.SandboxID=s .NetworkSettings.HairpinMode=b .NetworkSettings.LinkLocalIPv6Address=s
.NetworkSettings.LinkLocalIPv6PrefixLen=n .NetworkSettings.Ports=o .NetworkSettings.SandboxKey=s
.NetworkSettings.Networks=o .Namespace=s .IsInfra=b .IsService=b .Config=o .Config.Hostname=s
.Config.Domainname=s .Config.User=s .Config.AttachStdin=b .Config.AttachStdout=b .Config.AttachStderr=b
.Config.Tty=b .Config.OpenStdin=b .Config.StdinOnce=b .Config.Env=a .Config.Env[]=s .Config.Cmd=a
.Config.Cmd[]=s .Config.Image=s .Config.Volumes=- .Config.WorkingDir=s .Config.Entrypoint=s .Config.OnBuild=-
.Config.Labels=o .Config.Annotations=o .Config.StopSignal=n .Config.HealthcheckOnFailureAction=s
.Config.CreateCommand=a .Config.CreateCommand[]=s .Config.Umask=s .Config.Timeout=n .Config.StopTimeout=n
.Config.Passwd=b .Config.sdNotifyMode=s .HostConfig=o .HostConfig.Binds=a .HostConfig.CgroupManager=s
.HostConfig.CgroupMode=s .HostConfig.ContainerIDFile=s .HostConfig.LogConfig=o .HostConfig.LogConfig.Type=s
.HostConfig.LogConfig.Config=- .HostConfig.LogConfig.Path=s .HostConfig.LogConfig.Tag=s
.HostConfig.LogConfig.Size=s .HostConfig.NetworkMode=s .HostConfig.PortBindings=o .HostConfig.RestartPolicy=o
.HostConfig.RestartPolicy.Name=s .HostConfig.RestartPolicy.MaximumRetryCount=n .HostConfig.AutoRemove=b
.HostConfig.VolumeDriver=s .HostConfig.VolumesFrom=- .HostConfig.CapAdd=a .HostConfig.CapDrop=a .HostConfig.CapDrop[]=s
.HostConfig.Dns=a .HostConfig.DnsOptions=a .HostConfig.DnsSearch=a .HostConfig.ExtraHosts=a
.HostConfig.GroupAdd=a .HostConfig.IpcMode=s .HostConfig.Cgroup=s .HostConfig.Cgroups=s .HostConfig.Links=-
.HostConfig.OomScoreAdj=n .HostConfig.PidMode=s .HostConfig.Privileged=b .HostConfig.PublishAllPorts=b
.HostConfig.ReadonlyRootfs=b .HostConfig.SecurityOpt=a .HostConfig.Tmpfs=o .HostConfig.UTSMode=s
.HostConfig.UsernsMode=s .HostConfig.ShmSize=n .HostConfig.Runtime=s .HostConfig.ConsoleSize=a
.HostConfig.ConsoleSize[]=n .HostConfig.Isolation=s .HostConfig.CpuShares=n .HostConfig.Memory=n
.HostConfig.NanoCpus=n .HostConfig.CgroupParent=s .HostConfig.BlkioWeight=n .HostConfig.BlkioWeightDevice=-
.HostConfig.BlkioDeviceReadBps=- .HostConfig.BlkioDeviceWriteBps=- .HostConfig.BlkioDeviceReadIOps=-
.HostConfig.BlkioDeviceWriteIOps=- .HostConfig.CpuPeriod=n .HostConfig.CpuQuota=n
.HostConfig.CpuRealtimePeriod=n .HostConfig.CpuRealtimeRuntime=n .HostConfig.CpusetCpus=s
.HostConfig.CpusetMems=s .HostConfig.Devices=a .HostConfig.DiskQuota=n .HostConfig.KernelMemory=n
.HostConfig.MemoryReservation=n .HostConfig.MemorySwap=n .HostConfig.MemorySwappiness=n
.HostConfig.OomKillDisable=b .HostConfig.PidsLimit=n .HostConfig.Ulimits=a .HostConfig.Ulimits[]=o
.HostConfig.Ulimits[].Name=s .HostConfig.Ulimits[].Soft=n .HostConfig.Ulimits[].Hard=n .HostConfig.CpuCount=n
.HostConfig.CpuPercent=n .HostConfig.IOMaximumIOps=n .HostConfig.IOMaximumBandwidth=n .HostConfig.CgroupConf=-
"""

PODMAN_CREATED = """
.Id=s .Created=s .Path=s .Args=a .Args[]=s .State=o .State.OciVersion=s .State.Status=s .State.Running=b
.State.Paused=b .State.Restarting=b .State.OOMKilled=b .State.Dead=b .State.Pid=n .State.ExitCode=n
.State.Error=s .State.StartedAt=s .State.FinishedAt=s .State.Health=o .State.Health.Status=s
.State.Health.FailingStreak=n .State.Health.Log=- .State.CheckpointedAt=s .State.RestoredAt=s .Image=s
.ImageDigest=s .ImageName=s .Rootfs=s .Pod=s .ResolvConfPath=s .HostnamePath=s .HostsPath=s .StaticDir=s
.OCIRuntime=s .ConmonPidFile=s .PidFile=s .Name=s .RestartCount=n .Driver=s .MountLabel=s .ProcessLabel=s
.AppArmorProfile=s .EffectiveCaps=a .EffectiveCaps[]=s .BoundingCaps=a .BoundingCaps[]=s .ExecIDs=a
.GraphDriver=o .GraphDriver.Name=s .GraphDriver.Data=o .GraphDriver.Data.LowerDir=s .GraphDriver.Data.UpperDir=s
.GraphDriver.Data.WorkDir=s .Mounts=a .Dependencies=a .NetworkSettings=o .NetworkSettings.EndpointID=s
.NetworkSettings.Gateway=s .NetworkSettings.IPAddress=s .NetworkSettings.IPPrefixLen=n
.NetworkSettings.IPv6Gateway=s .NetworkSettings.GlobalIPv6Address=s .NetworkSettings.GlobalIPv6PrefixLen=n
.NetworkSettings.MacAddress=s .NetworkSettings.Bridge=s .NetworkSettings.SandboxID=s
.NetworkSettings.HairpinMode=b .NetworkSettings.LinkLocalIPv6Address=s .NetworkSettings.LinkLocalIPv6PrefixLen=n
.NetworkSettings.Ports=o .NetworkSettings.SandboxKey=s .NetworkSettings.Networks=o .Namespace=s .IsInfra=b
.IsService=b .Config=o .Config.Hostname=s .Config.Domainname=s .Config.User=s .Config.AttachStdin=b
.Config.AttachStdout=b .Config.AttachStderr=b .Config.Tty=b .Config.OpenStdin=b .Config.StdinOnce=b
.Config.Env=a .Config.Env[]=s .Config.Cmd=a .Config.Cmd[]=s .Config.Image=s .Config.Volumes=-
.Config.WorkingDir=s .Config.Entrypoint=s .Config.OnBuild=- .Config.Labels=o .Config.Annotations=o
.Config.StopSignal=n .Config.HealthcheckOnFailureAction=s .Config.CreateCommand=a .Config.CreateCommand[]=s
.Config.Umask=s .Config.Timeout=n .Config.StopTimeout=n .Config.Passwd=b .Config.sdNotifyMode=s .HostConfig=o
.HostConfig.Binds=a .HostConfig.CgroupManager=s .HostConfig.CgroupMode=s .HostConfig.ContainerIDFile=s
.HostConfig.LogConfig=o .HostConfig.LogConfig.Type=s .HostConfig.LogConfig.Config=- .HostConfig.LogConfig.Path=s
.HostConfig.LogConfig.Tag=s .HostConfig.LogConfig.Size=s .HostConfig.NetworkMode=s .HostConfig.PortBindings=o
.HostConfig.RestartPolicy=o .HostConfig.RestartPolicy.Name=s .HostConfig.RestartPolicy.MaximumRetryCount=n
.HostConfig.AutoRemove=b .HostConfig.VolumeDriver=s .HostConfig.VolumesFrom=- .HostConfig.CapAdd=a
.HostConfig.CapDrop=a .HostConfig.CapDrop[]=s .HostConfig.Dns=a .HostConfig.DnsOptions=a .HostConfig.DnsSearch=a
.HostConfig.ExtraHosts=a .HostConfig.GroupAdd=a .HostConfig.IpcMode=s .HostConfig.Cgroup=s .HostConfig.Cgroups=s
.HostConfig.Links=- .HostConfig.OomScoreAdj=n .HostConfig.PidMode=s .HostConfig.Privileged=b
.HostConfig.PublishAllPorts=b .HostConfig.ReadonlyRootfs=b .HostConfig.SecurityOpt=a .HostConfig.Tmpfs=o
.HostConfig.UTSMode=s .HostConfig.UsernsMode=s .HostConfig.ShmSize=n .HostConfig.Runtime=s
.HostConfig.ConsoleSize=a .HostConfig.ConsoleSize[]=n .HostConfig.Isolation=s .HostConfig.CpuShares=n
.HostConfig.Memory=n .HostConfig.NanoCpus=n .HostConfig.CgroupParent=s .HostConfig.BlkioWeight=n
.HostConfig.BlkioWeightDevice=- .HostConfig.BlkioDeviceReadBps=- .HostConfig.BlkioDeviceWriteBps=-
.HostConfig.BlkioDeviceReadIOps=- .HostConfig.BlkioDeviceWriteIOps=- .HostConfig.CpuPeriod=n
.HostConfig.CpuQuota=n .HostConfig.CpuRealtimePeriod=n .HostConfig.CpuRealtimeRuntime=n .HostConfig.CpusetCpus=s
.HostConfig.CpusetMems=s .HostConfig.Devices=a .HostConfig.DiskQuota=n .HostConfig.KernelMemory=n
.HostConfig.MemoryReservation=n .HostConfig.MemorySwap=n .HostConfig.MemorySwappiness=n
.HostConfig.OomKillDisable=b .HostConfig.PidsLimit=n .HostConfig.Ulimits=a .HostConfig.Ulimits[]=o
.HostConfig.Ulimits[].Name=s .HostConfig.Ulimits[].Soft=n .HostConfig.Ulimits[].Hard=n .HostConfig.CpuCount=n
.HostConfig.CpuPercent=n .HostConfig.IOMaximumIOps=n .HostConfig.IOMaximumBandwidth=n .HostConfig.CgroupConf=-
"""

PODMAN_IMAGE = """
.Id=s .Digest=s .RepoTags=a .RepoTags[]=s .RepoDigests=a .RepoDigests[]=s .Parent=s .Comment=s .Created=s
.Config=o .Config.Env=a .Config.Env[]=s .Config.Cmd=a .Config.Cmd[]=s .Config.WorkingDir=s .Config.Labels=o
.Version=s .Author=s .Architecture=s .Os=s .Size=n .VirtualSize=n .GraphDriver=o .GraphDriver.Name=s
.GraphDriver.Data=o .GraphDriver.Data.UpperDir=s .GraphDriver.Data.WorkDir=s .RootFS=o .RootFS.Type=s
.RootFS.Layers=a .RootFS.Layers[]=s .Labels=o .Annotations=o .ManifestType=s .User=s .History=a .History[]=o
.History[].created=s .History[].created_by=s .NamesHistory=a .NamesHistory[]=s
"""

PODMAN_VOLUME = """
.Name=s .Driver=s .Mountpoint=s .CreatedAt=s .Labels=o .Scope=s .Options=o .MountCount=n .NeedsCopyUp=b
"""

PODMAN_NETWORK = """
.name=s .id=s .driver=s .network_interface=s .created=s .subnets=a .subnets[]=o .subnets[].subnet=s
.subnets[].gateway=s .ipv6_enabled=b .internal=b .dns_enabled=b .ipam_options=o
"""

PODMAN_POD = """
.Id=s .Name=s .Created=s .CreateCommand=a .CreateCommand[]=s .ExitPolicy=s .State=s .Hostname=s .Labels=o
.CreateCgroup=b .CgroupParent=s .CreateInfra=b .InfraContainerID=s .InfraConfig=o .InfraConfig.PortBindings=o
.InfraConfig.HostNetwork=b .InfraConfig.StaticIP=s .InfraConfig.StaticMAC=s .InfraConfig.NoManageResolvConf=b
.InfraConfig.DNSServer=- .InfraConfig.DNSSearch=- .InfraConfig.DNSOption=- .InfraConfig.NoManageHosts=b
.InfraConfig.HostAdd=- .InfraConfig.Networks=a .InfraConfig.Networks[]=s .InfraConfig.NetworkOptions=-
.InfraConfig.pid_ns=s .InfraConfig.userns=s .InfraConfig.uts_ns=s .SharedNamespaces=a .SharedNamespaces[]=s
.NumContainers=n .Containers=a .Containers[]=o .Containers[].Id=s .Containers[].Name=s .Containers[].State=s
"""

_OPEN = ("Labels", "Annotations", "Networks", "Ports", "PortBindings", "Options", "options", "labels", "Tmpfs",
         "ExposedPorts", "Volumes", "Config.Config", "ipam_options", "network_dns_servers")
_TYPES = {dict: "o", list: "a", str: "s", bool: "b", int: "n", float: "n", type(None): "-"}


def _schema(value: Any, path: str = "", out: dict[str, str] | None = None) -> dict[str, str]:
    """The same walk that recorded the PODMAN_* schemas."""
    out = {} if out is None else out
    if path:
        out[path] = _TYPES[type(value)]
    if isinstance(value, dict):
        if path.endswith(_OPEN) and path not in (".Config", ".NetworkSettings.Networks.podman"):
            return out
        for key, item in value.items():
            _schema(item, f"{path}.{key}", out)
    elif isinstance(value, list) and value:
        _schema(value[0], path + "[]", out)
    return out


def _recorded(text: str) -> dict[str, str]:
    return dict(item.rsplit("=", 1) for item in text.split())


def _differences(recorded: str, doc: dict[str, Any], *, ignore: tuple[str, ...] = ()) -> list[str]:
    want, got = _recorded(recorded), _schema(doc)
    out = []
    for path in sorted(set(want) | set(got)):
        if path.startswith(ignore):
            continue
        if want.get(path) != got.get(path):
            out.append(f"{path}: podman {want.get(path, 'absent')}, sealpod {got.get(path, 'absent')}")
    return out


# Health.Log is null until the first check ran, then the results: Podman's type changes the same way.
_HEALTH_LOG = (".State.Health.Log",)


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory, seeded_registry: RegistryServer) -> Iterator[SealpodRunner]:
    with store_with_image(tmp_path_factory.mktemp("inspect-parity"), seeded_registry.host) as runner:
        runner.run("volume", "create", "--label", "vl=1", "vol1")
        runner.run("pod", "create", "--name", "pod1", "--label", "pl=1", "-p", "80")
        bind = runner.base / "hostdir"
        bind.mkdir()
        runner.run("run", "-d", "--name", "full", "-v", "vol1:/data", "-v", f"{bind}:/hostdir:ro", "-p", "80",
                   "-e", "FOO=bar", "--label", "a=b", "--restart", "on-failure:3", "--health-cmd", "true",
                   "--health-interval", "30s", IMAGE, "sleep", "1000")
        runner.run("run", "-d", "--name", "inpod", "--pod", "pod1", IMAGE, "sleep", "1000")
        runner.run("run", "-d", "--name", "nonet", "--network", "none", IMAGE, "sleep", "1000")
        runner.run("run", "--name", "exited", IMAGE, "sh", "-c", "exit 3", check=False)
        runner.run("create", "--name", "created", IMAGE, "true")
        yield runner
        runner.run("pod", "rm", "-f", "pod1", check=False)


def _inspect(store: SealpodRunner, *args: str) -> dict[str, Any]:
    docs = json.loads(store.run(*args).stdout)
    if isinstance(docs, dict):  # pod inspect of one pod, as Podman 4.3.1's
        return docs
    assert isinstance(docs, list) and len(docs) == 1
    return docs[0]  # type: ignore[no-any-return]


def _fmt(store: SealpodRunner, name: str, template: str) -> str:
    return store.run("inspect", "--format", template, name).stdout.rstrip("\n")


def test_running_container_has_podmans_keys_and_types(store: SealpodRunner) -> None:
    doc = _inspect(store, "container", "inspect", "full")
    assert _differences(PODMAN_FULL, doc, ignore=_HEALTH_LOG) == []
    assert list(doc) == [k.lstrip(".") for k in _recorded(PODMAN_FULL) if k.count(".") == 1 and "[" not in k]
    host = doc["HostConfig"]
    assert host["NetworkMode"] == "bridge" and host["RestartPolicy"] == {"Name": "on-failure", "MaximumRetryCount": 3}
    chosen = host["PortBindings"]["80/tcp"][0]["HostPort"]  # -p 80: chosen at create, as Podman 4.3
    assert host["PortBindings"] == {"80/tcp": [{"HostIp": "", "HostPort": chosen}]} and chosen.isdigit()
    assert host["Binds"][0] == "vol1:/data:rw,rprivate,nosuid,nodev,rbind"  # a volume is nosuid,nodev, as Podman's
    assert host["Binds"][1].endswith(":/hostdir:ro,rprivate,rbind")
    assert host["Ulimits"] and all(set(u) == {"Name", "Soft", "Hard"} for u in host["Ulimits"])
    assert doc["Config"]["Annotations"]["io.podman.annotations.autoremove"] == "FALSE"
    assert "HOME=/root" in doc["Config"]["Env"] and "FOO=bar" in doc["Config"]["Env"]
    assert [p["HostIp"] for p in doc["NetworkSettings"]["Ports"]["80/tcp"]] == [""]
    assert doc["State"]["ConmonPid"] > 0 and doc["State"]["CgroupPath"]


def test_exited_and_created_containers_have_podmans_keys_and_types(store: SealpodRunner) -> None:
    exited = _inspect(store, "inspect", "exited")
    assert _differences(PODMAN_EXITED, exited) == []
    assert (exited["State"]["Status"], exited["State"]["ExitCode"]) == ("exited", 3)
    assert "ConmonPid" not in exited["State"] and "CgroupPath" not in exited["State"]
    created = _inspect(store, "inspect", "created")
    assert _differences(PODMAN_CREATED, created) == []
    assert (created["Path"], created["Args"]) == ("true", ["true"])  # Podman's: a lone command is its own args
    assert created["HostsPath"] == "" and "OCIConfigPath" not in created


def test_pod_member_and_no_network(store: SealpodRunner) -> None:
    member = _inspect(store, "inspect", "inpod")
    infra = _inspect(store, "pod", "inspect", "pod1")["InfraContainerID"]
    assert member["Dependencies"] == [infra]
    assert member["HostConfig"]["NetworkMode"] == f"container:{infra}"
    assert member["HostConfig"]["PortBindings"] == {}
    assert list(member["NetworkSettings"]["Ports"]) == ["80/tcp"]  # the pod's
    nonet = _inspect(store, "inspect", "nonet")
    assert nonet["HostConfig"]["NetworkMode"] == "none"
    assert "Networks" not in nonet["NetworkSettings"]
    assert _fmt(store, "nonet", "{{.NetworkSettings.Networks}}") == "map[]"


def test_images_volumes_networks_pods_have_podmans_keys_and_types(store: SealpodRunner) -> None:
    assert _differences(PODMAN_IMAGE, _inspect(store, "image", "inspect", IMAGE)) == []
    assert _differences(PODMAN_VOLUME, _inspect(store, "volume", "inspect", "vol1")) == []
    assert _differences(PODMAN_NETWORK, _inspect(store, "network", "inspect", "podman")) == []
    assert _differences(PODMAN_POD, _inspect(store, "pod", "inspect", "pod1"), ignore=(".CgroupPath",)) == []


@pytest.mark.parametrize(("name", "template", "expected"), [
    ("created", "{{.HostConfig.LogConfig.Config}} {{json .HostConfig.LogConfig.Config}}", "map[] null"),
    ("created", "{{.HostConfig.Links}} {{.HostConfig.VolumesFrom}} {{.HostConfig.Tmpfs}}", "[] [] map[]"),
    ("created", "{{.Config.Volumes}} {{.State.Health.Log}} {{.Config.Healthcheck}}", "map[] [] <nil>"),
    ("created", "{{.HostConfig.PortBindings}} {{.NetworkSettings.Ports}} {{.Mounts}}", "map[] map[] []"),
    ("created", "{{.State.Healthcheck.Status}}|{{.State.ConmonPid}}|{{.Config.Timezone}}|", "|0||"),
    ("exited", "{{.State.Status}} {{.State.ExitCode}} {{.HostConfig.NetworkMode}}", "exited 3 bridge"),
    ("full", "{{.HostConfig.RestartPolicy}} {{.HostConfig.RestartPolicy.Name}}", "{on-failure 3} on-failure"),
    ("full", "{{.Config.Labels.a}} {{range .Mounts}}{{.Type}}:{{.Destination}} {{end}}",
     "b volume:/data bind:/hostdir "),
])
def test_templates_print_what_podman_prints(store: SealpodRunner, name: str, template: str, expected: str) -> None:
    assert _fmt(store, name, template) == expected


def test_templates_print_go_structs_and_health(store: SealpodRunner) -> None:
    assert _fmt(store, "full", "{{.State.Health.Status}}") == _fmt(store, "full", "{{.State.Healthcheck.Status}}")
    assert _fmt(store, "full", "{{.State.Health.Status}}") in ("starting", "healthy")
    assert re.fullmatch(r"map\[80/tcp:\[\{ \d+\}\]\]", _fmt(store, "full", "{{.NetworkSettings.Ports}}"))
    assert re.fullmatch(r"map\[80/tcp:\[\{ \d+\}\]\]", _fmt(store, "full", "{{.HostConfig.PortBindings}}"))
    mounts = _fmt(store, "full", "{{.Mounts}}")
    assert mounts.startswith("[{volume vol1 ") and " {bind  " in mounts  # a bind's empty Name, as Go prints it
    assert _fmt(store, "full", "{{json .Config.Labels}}").startswith("{")
    ulimits = _fmt(store, "full", "{{.HostConfig.Ulimits}}")
    assert re.fullmatch(r"\[(\{RLIMIT_\w+ -?\d+ -?\d+\} ?)*\]", ulimits), ulimits


# --- image tree ---------------------------------------------------------------------------------

_LINE = r"ID: [0-9a-f]{12} Size: +[0-9.]+[kMG]?B"


def _child(store: SealpodRunner) -> None:
    """child1: the exited container committed, one layer over the test image."""
    if store.run("image", "exists", "localhost/child1", check=False).returncode != 0:
        store.run("commit", "-q", "exited", "localhost/child1")


def test_image_tree_lists_the_layers_bottom_up(store: SealpodRunner) -> None:
    _child(store)
    lines = store.run("image", "tree", "child1").stdout.split("\n")
    assert re.fullmatch(r"Image ID: [0-9a-f]{12}", lines[0])
    assert lines[1] == "Tags:     [localhost/child1:latest]"
    assert re.fullmatch(r"Size:     [0-9.]+[kM]B", lines[2])
    assert lines[3] == "Image Layers"
    assert re.fullmatch(rf"├── {_LINE} Top Layer of: \[[^]]*sealtest/tiny:latest\]", lines[4]), lines[4]
    assert re.fullmatch(rf"└── {_LINE} Top Layer of: \[localhost/child1:latest\]", lines[5]), lines[5]
    assert lines[6:] == ["", ""]  # the tree ends in a newline, and Podman prints it with Println


def test_image_tree_whatrequires_shows_children_and_containers(store: SealpodRunner) -> None:
    _child(store)
    out = store.run("image", "tree", "--whatrequires", IMAGE).stdout
    body = out.split("Image Layers\n", 1)[1].rstrip("\n").split("\n")
    assert re.fullmatch(rf"├── {_LINE} Top Layer of: \[[^]]*sealtest/tiny:latest\]", body[0])
    # the base layer has several children (containers' layers, child1's layer): listed beside it
    assert any(re.fullmatch(rf"[├└]── {_LINE} Top Layer of: \[localhost/child1:latest\]", b) for b in body)
    assert sum(1 for b in body if re.fullmatch(r"[├└]── ID: [0-9a-f]{12} Size:      0B", b)) >= 5
    assert body[-1].startswith("└── ")
    fail = store.run("image", "tree", "nosuch", check=False)
    assert fail.returncode == 125 and fail.stderr.strip() == "Error: nosuch: image not known"


def _node(name: str, size: int, children: list[LayerNode] | None = None, tags: list[str] | None = None) -> LayerNode:
    node = LayerNode(name * 12, size, 0.0, tags or [], children or [])
    for child in node.children:
        child.parent = node
    return node


def test_tree_drawing_nests_only_lone_children() -> None:
    """Podman's --whatrequires walk: the layer without a parent continues its line, so its children are
    listed beside it; a child with siblings opens a branch its own children continue."""
    leaf = _node("c", 2560, tags=["localhost/c:latest"])
    top = _node("a", 2038000, [_node("b", 0), _node("d", 4608, [leaf])], ["x:latest"])
    items: list[Any] = []
    _requirers(top, items)
    lines: list[str] = []
    _render(lines, items, "")
    assert lines == [
        "├── ID: aaaaaaaaaaaa Size: 2.038MB Top Layer of: [x:latest]",
        "├── ID: bbbbbbbbbbbb Size:      0B",
        "└── ID: dddddddddddd Size: 4.608kB",
        "    └── ID: cccccccccccc Size:  2.56kB Top Layer of: [localhost/c:latest]",
    ]
    assert [_size(n) for n in (0, 999, 1000, 1234567, 2 * 10**9)] == ["0B", "999B", "1kB", "1.235MB", "2GB"]


def test_libpod_tree_route_and_container_inspect(api: ApiService) -> None:
    """`podman --remote image tree` asks GET /libpod/images/{name}/tree and prints its Tree."""
    status, body = api.request("GET", f"/v4.3.1/libpod/images/{IMAGE}/tree?whatrequires=false")
    assert status == 200, body
    tree = json.loads(body)["Tree"]
    assert tree == api.runner.run("image", "tree", IMAGE).stdout[:-1]
    status, body = api.request("GET", "/v4.3.1/libpod/images/nosuch/tree")
    assert status == 404
    api.runner.run("create", "--name", "parity-created", IMAGE, "true")
    status, body = api.request("GET", "/v4.3.1/libpod/containers/parity-created/json")
    assert status == 200 and _differences(PODMAN_CREATED, json.loads(body)) == []
    status, body = api.request("GET", "/v1.41/containers/parity-created/json")
    doc = json.loads(body)
    assert doc["HostConfig"]["NetworkMode"] == "bridge" and "Health" not in doc["State"]
    assert doc["HostConfig"]["BlkioWeightDevice"] == [] and doc["Config"]["AttachStdout"] is True


