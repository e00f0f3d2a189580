"""Completion of ``--format`` Go templates: the fields each command's template may name.

Typing ``--format '{{.Na<TAB>'`` offers ``{{.Names}}``; a field that is itself a structure ends in
a dot (``{{.Config.``) so that the user may go on.  The names are those Podman 4.3.1 offers (its
report structures), so scripts written against either tool complete the same way.
"""

from __future__ import annotations

_PS = ("CGROUPNS Cgroup Command CreatedAt CreatedHuman ID IPC ImageID MNT NET Names Networks PIDNS Pod Ports "
       "RunningFor Size State Status USERNS UTS User ListContainer. AutoRemove Created. Exited ExitedAt ExitCode "
       "Image IsInfra Labels. Mounts Namespaces. Pid PodName StartedAt")
_STATS = ("AVGCPU BlockIO CPUPerc ID MemPerc MemUsage MemUsageBytes NetIO PIDS Up ContainerStats. AvgCPU ContainerID "
          "Name PerCPU CPU CPUNano CPUSystemNano SystemNano MemLimit NetInput NetOutput BlockInput BlockOutput PIDs "
          "UpTime Duration")
_SEARCH = "Index Name Description Stars Official Automated Tag"
_HISTORY = "Created CreatedAt CreatedBy CreatedSince ID Size ImageHistoryLayer. Tags Comment"
_IMAGE_INSPECT = ("ID Digest RepoTags RepoDigests Parent Comment Created. Config. Version Author Architecture Os Size "
                  "VirtualSize GraphDriver. RootFS. Labels. Annotations. ManifestType User History NamesHistory "
                  "HealthCheck.")
_CONTAINER_INSPECT = ("ID Created. Path Args State. Image ImageDigest ImageName Rootfs Pod ResolvConfPath HostnamePath "
                      "HostsPath StaticDir OCIConfigPath OCIRuntime ConmonPidFile PidFile Name RestartCount Driver "
                      "MountLabel ProcessLabel AppArmorProfile EffectiveCaps BoundingCaps ExecIDs GraphDriver. SizeRw "
                      "SizeRootFs Mounts Dependencies NetworkSettings. Namespace IsInfra IsService Config. HostConfig.")
_POD_INSPECT = ("InspectPodData. ID Name Namespace Created. CreateCommand ExitPolicy State Hostname Labels. "
                "CreateCgroup CgroupParent CgroupPath CreateInfra InfraContainerID InfraConfig. SharedNamespaces "
                "NumContainers Containers CPUPeriod CPUQuota CPUShares CPUSetCPUs CPUSetMems Mounts Devices "
                "BlkioDeviceReadBps BlkioDeviceWriteBps VolumesFrom SecurityOpts MemoryLimit MemorySwap BlkioWeight "
                "BlkioWeightDevice")
_EVENTS = ("ContainerExitCode ID Image Name Network Status Time. Type HealthStatus Details. PodID Attributes.")
_VOLUME = ("Name Driver Mountpoint CreatedAt. Status. Labels. Scope Options. UID GID Anonymous MountCount NeedsCopyUp "
           "NeedsChown Timeout StorageID")
_SECRET = "ID CreatedAt. UpdatedAt. Spec."
_NETWORK_INSPECT = ("Name ID Driver NetworkInterface Created. Subnets IPv6Enabled Internal DNSEnabled Labels. Options. "
                    "IPAMOptions.")
_NETWORK_LS = ("ID Labels Network. Name Driver NetworkInterface Created. Subnets IPv6Enabled Internal DNSEnabled "
               "Options. IPAMOptions.")
_POD_STATS = "CPU MemUsage MemUsageBytes Mem NetIO BlockIO PIDS Pod CID Name"
_IMAGES = ("Created CreatedAt CreatedSince CreatedTime History ID Id IsDangling IsReadOnly Size Repository Tag "
           "ImageSummary. ParentId RepoTags RepoDigests SharedSize VirtualSize Labels. Containers ReadOnly Dangling "
           "Names Digest")
_POD_PS = ("ContainerIds ContainerNames ContainerStatuses Created ID Id InfraID InfraId Labels. Networks "
           "NumberOfContainers ListPodsReport. Cgroup Containers Name Namespace Status")
_INFO = "Host. Store. Registries. Plugins. Version."
_VERSION = "Client. Server."

_FIELDS: dict[str, str] = {
    "ps": _PS, "container ps": _PS, "container list": _PS, "container ls": _PS,
    "stats": _STATS, "container stats": _STATS, "pod stats": _POD_STATS,
    "search": _SEARCH, "image search": _SEARCH, "history": _HISTORY, "image history": _HISTORY,
    "image inspect": _IMAGE_INSPECT, "container inspect": _CONTAINER_INSPECT, "pod inspect": _POD_INSPECT,
    "events": _EVENTS, "system events": _EVENTS, "volume inspect": _VOLUME, "volume ls": _VOLUME,
    "volume list": _VOLUME, "secret inspect": _SECRET, "secret ls": _SECRET, "secret list": _SECRET,
    "network inspect": _NETWORK_INSPECT, "network ls": _NETWORK_LS, "network list": _NETWORK_LS,
    "images": _IMAGES, "image list": _IMAGES, "image ls": _IMAGES, "pod ps": _POD_PS, "pod ls": _POD_PS,
    "pod list": _POD_PS, "info": _INFO, "system info": _INFO, "version": _VERSION, "system version": _VERSION,
}


def template_candidates(command: str, typed: str) -> list[str] | None:
    """Completions of ``typed`` (a --format value) for ``command``; None when the value is not inside
    ``{{.`` or the command's template fields are not known (the caller then offers ``json``)."""
    fields = _FIELDS.get(command)
    start = typed.rfind("{{.")
    if fields is None or start < 0:
        return None
    head, rest = typed[:start + 3], typed[start + 3:]
    return [head + (f if f.endswith(".") else f + "}}") for f in fields.split() if f.startswith(rest)]
