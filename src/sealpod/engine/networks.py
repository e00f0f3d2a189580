"""Networks (Podman's ``network`` commands) and each container's part in them.

A rootful container on a bridge gets a network namespace file under the run root, one address
per subnet of each of its networks (IPAM, in the database), and netavark's veths, firewall
rules and port forwards; aardvark-dns answers for the names of the containers on a network.
What a run set up is written to ``<runroot>/networks/containers/<id>.json``: teardown replays
exactly that, even when the network definition changed or vanished in between, and a start
first tears down whatever a crashed run left behind.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
from collections.abc import Sequence
from pathlib import Path

from sealpod.engine.container_config import ContainerConfig
from sealpod.engine.container_state import ContainerRecord, State
from sealpod.engine.network_flags import check_mac, network_mode, ports_of
from sealpod.engine.network_state import (
    NetworkStatus,
    is_bridge_state,
    result_ips,
    result_json,
    rewrite_in_place,
    rfc3339_seconds,
    status_from_json,
    status_json,
)
from sealpod.errors import (
    Conflict,
    InvalidArgument,
    NetworkError,
    NetworkInUse,
    NoSuchContainer,
    NoSuchNetwork,
    SealpodError,
)

TYPE_CHECKING = False  # typing costs ~2 ms of every command's start-up; only type checkers need it
if TYPE_CHECKING:
    import socket
    from typing import Any

    from sealpod.engine import Engine
    from sealpod.network.config import CreateOptions, Network, NetworkFiles
    from sealpod.network.ipam import IPAM
    from sealpod.network.netavark import Netavark
    from sealpod.network.portmap import PortMapping
    from sealpod.network.rootless_netns import RootlessNetns

#: the words Go's strconv.ParseBool takes, which Podman's ``dangling`` filter accepts
_GO_BOOLS = {**dict.fromkeys(("1", "t", "T", "TRUE", "true", "True"), True),
             **dict.fromkeys(("0", "f", "F", "FALSE", "false", "False"), False)}

# --- the service ----------------------------------------------------------------------------

class NetworkService:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        store = engine.store
        self.run_dir = store.run_root / "networks"
        self.netns_dir = store.run_root / "netns"
        self.state_dir = self.run_dir / "containers"
        self.config_dir = engine.config.network_config_dir  # --network-config-dir, containers.conf, graph root
        self._files: NetworkFiles | None = None
        self._ipam: IPAM | None = None
        self._netavark: Netavark | None = None
        self._held: dict[str, list[socket.socket]] = {}  # container ID -> reserved host ports, until conmon has them

    # --- plumbing -----------------------------------------------------------------------

    @property
    def files(self) -> NetworkFiles:
        if self._files is None:
            from sealpod.network.config import NetworkFiles, default_network

            conf = self.engine.config.containers
            raw = conf.raw.get("network") if isinstance(conf.raw.get("network"), dict) else {}
            bridge = str((raw or {}).get("default_bridge") or "podman0")  # sealpod's own key
            default = default_network(conf.network.default_network or "podman",
                                      conf.network.default_subnet or "10.88.0.0/16", bridge)
            self._files = NetworkFiles(self.config_dir, default)
        return self._files

    @property
    def ipam(self) -> IPAM:
        if self._ipam is None:
            import hashlib

            from sealpod.network.ipam import IPAM

            # Stores with other graph roots (tests, several users of --root) share the default
            # bridge but not this database: each starts its search at its own place in the
            # default subnet, so that their containers rarely pick the same address.
            root = os.fspath(self.engine.store.graph_root)
            offset = 0 if root == "/var/lib/sealpod/storage" else int(hashlib.sha256(root.encode()).hexdigest()[:8],
                                                                      16) % 60000
            self._ipam = IPAM(self.engine.store.db, {self.files.default.name: offset})
        return self._ipam

    @property
    def netavark(self) -> Netavark:
        if self._netavark is None:
            from sealpod.config.containers_conf import systemd_is_pid1
            from sealpod.network.netavark import Netavark, find_helper

            dirs = tuple(getattr(self.engine.config.containers.engine, "helper_binaries_dir", ()) or ())
            self._netavark = Netavark(find_helper("netavark", dirs), find_helper("aardvark-dns", dirs),
                                      self.run_dir, dict(self.engine.env), systemd_is_pid1())
            if self.engine.config.rootless:  # bridges live in the user's rootless netns, locked per user
                self._netavark = Netavark(self._netavark.binary, self._netavark.aardvark, self.run_dir,
                                          dict(self.engine.env), systemd_running=False,
                                          lock_path=self.run_dir / "netavark.lock", rootless=True,
                                          netns=self.rootless_netns.path)
        return self._netavark

    @property
    def rootless_netns(self) -> RootlessNetns:
        from sealpod.network.rootless_netns import RootlessNetns

        return RootlessNetns(self.run_dir)

    def netns_path(self, ctr_id: str) -> Path:
        return self.netns_dir / f"netns-{ctr_id}"

    def _state_path(self, ctr_id: str) -> Path:
        return self.state_dir / f"{ctr_id}.json"

    # --- definitions --------------------------------------------------------------------

    def list_networks(self, filters: Sequence[str] = ()) -> list[Network]:
        """``network ls --filter``: name (regex), id (prefix), driver, label[!], dangling; keys
        combine with AND, repeated values of one key with OR (labels: all of them), as in Podman."""
        by_key: dict[str, list[str]] = {}
        for f in filters:
            key, sep, value = f.partition("=")
            if not sep or key not in ("name", "id", "driver", "label", "label!", "dangling"):
                raise InvalidArgument(f'invalid filter "{key if sep else f}"')
            if key == "dangling" and value not in _GO_BOOLS:
                raise InvalidArgument(f'invalid dangling filter value "{value}"')
            by_key.setdefault(key, []).append(value)
        with self.files.locked():
            nets = self.files.all()
        return [n for n in nets if all((all if k.startswith("label") else any)(self._matches(n, k, v) for v in vs)
                                       for k, vs in by_key.items())]

    def _matches(self, net: Network, key: str, value: str) -> bool:
        if key == "name":
            return re.search(value, net.name) is not None
        if key == "id":
            return net.id.startswith(value)
        if key == "driver":
            return net.driver == value
        if key == "dangling":
            # the default network is never dangling, used or not (Podman 4.3 lists it under false)
            dangling = net.name != self.files.default.name and not self.users(net)
            return dangling == _GO_BOOLS[value]
        name, sep, val = value.partition("=")
        hit = name in net.labels and (not sep or net.labels[name] == val)
        return hit if key == "label" else not hit

    def _prune_match(self, net: Network, key: str, value: str) -> bool:
        if key != "until":
            return self._matches(net, key, value)
        import time

        from sealpod.engine.volumes import parse_until

        return rfc3339_seconds(net.created) < parse_until(value, time.time())

    def get(self, name_or_id: str) -> Network:
        return self.files.get(name_or_id)

    def exists(self, name_or_id: str) -> bool:
        try:
            self.files.get(name_or_id)
        except NoSuchNetwork:
            return False
        return True

    def create(self, name: str | None, opts: CreateOptions, *, ignore: bool = False) -> Network:
        with self.files.locked():
            return self._create_locked(name, opts, ignore=ignore)

    def _create_locked(self, name: str | None, opts: CreateOptions, *, ignore: bool) -> Network:
        from sealpod.network.config import build_network, host_routes

        existing = self.files.all()
        if name is None:
            n = 1
            while any(net.name == f"podman{n}" for net in existing):
                n += 1
            name = f"podman{n}"
        if ignore:
            for net in existing:
                if net.name == name:
                    return net
        pools = [(p.base, p.size) for p in self.engine.config.containers.network.default_subnet_pools]
        net = build_network(name, opts, existing, pools=pools, host_nets=host_routes())
        self.files.save(net)
        self.engine.events.emit("network", "create", id=net.id, name=net.name)
        return net

    def users(self, net: Network) -> list[ContainerRecord]:
        """Containers configured on ``net`` (explicitly, or by default on the default network)."""
        default = self.files.default.name
        out = []
        for rec in self.engine.containers.db.all():
            cfg = ContainerConfig.from_json(rec.config)
            if network_mode(cfg) != "bridge":
                continue
            if net.name in self._configured(cfg) or (net.name == default and not cfg.networks
                                                     and cfg.network in ("", "bridge", "default")):
                out.append(rec)
        return out

    def remove(self, name_or_id: str, *, force: bool = False, timeout: int | None = None) -> str:
        net = self.files.get(name_or_id)
        users = self.users(net)
        if users and not force:
            raise NetworkInUse(f'"{net.name}" has associated containers with it. Use -f to forcibly delete '
                               "containers and pods: network is being used")
        if net.name == self.files.default.name:
            raise InvalidArgument(f"default network {net.name} cannot be removed")
        from sealpod.engine.pod_checks import remove_users

        remove_users(self.engine, users, timeout)
        self.files.delete(net.name)
        self.ipam.forget(net.name)
        self.engine.events.emit("network", "remove", id=net.id, name=net.name)
        return net.name

    def prune(self, filters: Sequence[str] = ()) -> list[str]:
        """Remove unused networks but the default; ``--filter`` label, label!, until (Podman's keys)."""
        checks = []
        for f in filters:
            key, sep, value = f.partition("=")
            if not sep or key not in ("label", "label!", "until"):
                raise InvalidArgument(f'invalid filter "{f}"')
            checks.append((key, value))
        removed = []
        for net in self.files.all():
            if net.name == self.files.default.name or self.users(net):
                continue
            if not all(self._prune_match(net, k, v) for k, v in checks):
                continue
            self.files.delete(net.name)
            self.ipam.forget(net.name)
            removed.append(net.name)
        return removed

    def inspect(self, name_or_id: str) -> dict[str, Any]:
        return self.files.get(name_or_id).to_json()

    # --- a container's networks -----------------------------------------------------------

    def configured_networks(self, rec: ContainerRecord) -> dict[str, dict[str, Any]]:
        """The networks a container will join at start (none unless it is in bridge mode)."""
        cfg = ContainerConfig.from_json(rec.config)
        return self._configured(cfg) if network_mode(cfg) == "bridge" else {}

    def _configured(self, cfg: ContainerConfig) -> dict[str, dict[str, Any]]:
        """The networks a bridge-mode container is on, with its per-network options."""
        if cfg.networks:
            nets = {k: dict(v) for k, v in cfg.networks.items()}
        else:
            name = cfg.network if cfg.network not in ("", "bridge", "default") else self.files.default.name
            nets = {name: {}}
        first = next(iter(nets.values()))
        if cfg.ip and not first.get("static_ips"):
            first["static_ips"] = [cfg.ip]
        if cfg.mac_address and not first.get("static_mac"):
            first["static_mac"] = check_mac(cfg.mac_address)
        for opts in nets.values():
            opts["aliases"] = list(dict.fromkeys([*opts.get("aliases", ()), *cfg.network_aliases]))
        return nets

    def status_of(self, rec: ContainerRecord | str) -> NetworkStatus | None:
        """What the current (or last, if not torn down) run of a container (record or ID) was given."""
        try:
            doc = json.loads(self._state_path(rec if isinstance(rec, str) else rec.id).read_text())
        except (OSError, ValueError):
            return None
        return status_from_json(doc)

    def setup_for(self, rec: ContainerRecord, *, defer: bool = False, source: str | None = None) -> NetworkStatus:
        """Prepare the network a starting container joins; for a bridge, create it completely
        (netns, addresses, netavark) or not at all.

        ``defer``: a namespace of the container's own is left for the runtime to make (inside the
        container's user namespace, which then owns it: members of a pod entering that user
        namespace can join it, and the container's root can manage it, as in Podman) and is
        configured by :meth:`configure_created` once the container exists.  ``source`` is such a
        namespace (``/proc/PID/ns/net``), kept on the usual path and configured as a new one."""
        cfg = ContainerConfig.from_json(rec.config)
        mode = network_mode(cfg)
        self.teardown_for(rec)  # what a crashed run may have left
        if defer and mode in ("bridge", "slirp4netns"):
            return NetworkStatus(mode)
        if mode == "slirp4netns":
            return self._slirp(rec, cfg, source)
        if mode != "bridge":
            return self._borrowed(rec, mode)
        if self.engine.config.rootless and not cfg.networks and cfg.network in ("", "bridge", "default"):
            return self._slirp(rec, cfg, source)  # the rootless default, as containers.conf's is
        if self.engine.config.rootless:
            return self._rootless_bridge(rec, cfg, source)
        nets = {name: self.files.get(name) for name in self._configured(cfg)}
        for net in nets.values():
            if net.name == self.files.default.name and not (self.config_dir / f"{net.name}.json").exists():
                self.files.save(net)  # created on first use, so its ID and date stay put
        ports = self._host_ports(rec, ports_of(cfg, rec.spec.get("exposed_ports") or ()), hold=source is None)
        try:
            return self._bring_up(rec, cfg, nets, ports, source)
        except BaseException:
            self.release_held(rec.id)
            raise

    def take_held(self, ctr_id: str) -> list[socket.socket]:
        """The host-port sockets :meth:`setup_for` reserved for the container, for its conmon to keep
        (the caller closes its copies once conmon runs)."""
        return self._held.pop(ctr_id, [])

    def release_held(self, ctr_id: str) -> None:
        for s in self.take_held(ctr_id):
            s.close()

    def configure_created(self, rec: ContainerRecord, pid: int) -> NetworkStatus:
        """The deferred half of :meth:`setup_for`: the created container's own namespace."""
        return self.setup_for(rec, source=f"/proc/{pid}/ns/net")

    def _rootless_bridge(self, rec: ContainerRecord, cfg: ContainerConfig, source: str | None = None) -> NetworkStatus:
        """Netavark in the user's rootless netns (made for the first such container); published
        ports reach it through that namespace's slirp4netns."""
        from sealpod.network import slirp

        asked = ports_of(cfg, rec.spec.get("exposed_ports") or ())
        slirp.check_host_ports(asked)
        nets = {name: self.files.get(name) for name in self._configured(cfg)}
        with self.rootless_netns.locked():
            self.rootless_netns.ensure()
            ports = self._host_ports(rec, asked)
            status = self._bring_up(rec, cfg, nets, ports, source)
            if ports:
                try:
                    fwd = self.rootless_netns.forward(ports)
                    state = json.loads(self._state_path(rec.id).read_text())
                    self._save_state(rec.id, {**state, "rootless_fwd": fwd})
                except BaseException:
                    self._teardown_rootless(rec, json.loads(self._state_path(rec.id).read_text()))
                    raise
        return status

    def _teardown_rootless(self, rec: ContainerRecord, state: dict[str, Any] | None) -> None:
        """Undo a rootless bridge run; the last one out releases the rootless netns."""
        netns = self.rootless_netns
        with netns.locked():
            if state:
                netns.unforward(state.get("rootless_fwd") or ())
            path = Path(state["netns"]) if state and state.get("netns") else self.netns_path(rec.id)
            options = state.get("options") if state else None
            self._discard(rec.id, path, options if options and options.get("networks") else None)
            if not any(p.stem != rec.id and is_bridge_state(p) for p in self.state_dir.glob("*.json")):
                netns.release()

    def _slirp(self, rec: ContainerRecord, cfg: ContainerConfig, source: str | None = None) -> NetworkStatus:
        """A netns of the container's own, connected by slirp4netns (rootless: no bridge, no veth)."""
        from sealpod.network import slirp

        asked = ports_of(cfg, rec.spec.get("exposed_ports") or ())
        slirp.check_host_ports(asked)  # before the bind test, which would only say "permission denied"
        ports = self._host_ports(rec, asked)
        opts = slirp.SlirpOptions.parse(cfg.network.partition(":")[2])
        if self.engine.config.containers.engine.network_cmd_path:
            from sealpod.utils.record import replace

            opts = replace(opts, binary=self.engine.config.containers.engine.network_cmd_path)
        state = slirp.setup(self.netns_path(rec.id), self.state_dir / rec.id, ports, opts, source)
        self._save_state(rec.id, state)
        return status_from_json(state)

    def _borrowed(self, rec: ContainerRecord, mode: str) -> NetworkStatus:
        """A namespace this container does not own (another container's, a path, the host's) or
        none at all; recorded so that the spec and /etc files of this run see it."""
        if mode.startswith("container:"):
            status = self._joined(mode.split(":", 1)[1])
        elif mode.startswith("ns:"):
            status = NetworkStatus("ns", mode[3:])
        else:
            status = NetworkStatus(mode)
        if status.mode != "none" or status.netns:
            state = status_json(status)
            self._save_state(rec.id, state)
        return status

    def _host_ports(self, rec: ContainerRecord, mappings: list[PortMapping], *,
                    hold: bool = False) -> list[PortMapping]:
        """The mappings with every host port decided and checked free.  With ``hold`` (rootful bridge,
        where nothing else listens on them) the ports stay bound for :meth:`take_held`."""
        from sealpod.network.portmap import assign_host_ports, check_free, reserve

        reserved = self._reserved_ports(exclude=rec.id)
        for m in mappings:
            for i in range(m.range if m.host_port else 0):
                if (m.host_port + i, m.protocol) in reserved:
                    raise NetworkError(f"cannot listen on the {m.protocol.upper()} port: listen "
                                       f"{m.protocol}4 :{m.host_port + i}: bind: address already in use")
            if m.host_port and not hold:
                check_free(m)
        ports = assign_host_ports(mappings, reserved)
        if hold and ports:
            self.release_held(rec.id)
            self._held[rec.id] = reserve(ports)
        return ports

    def _reserved_ports(self, exclude: str = "") -> set[tuple[int, str]]:
        out: set[tuple[int, str]] = set()
        with contextlib.suppress(FileNotFoundError):
            for path in self.state_dir.glob("*.json"):
                if path.stem == exclude:
                    continue
                with contextlib.suppress(OSError, ValueError, KeyError):
                    for p in json.loads(path.read_text()).get("ports", ()):
                        out.update((int(p["host_port"]) + i, p["protocol"]) for i in range(int(p.get("range", 1))))
        return out

    def _bring_up(self, rec: ContainerRecord, cfg: ContainerConfig, nets: dict[str, Network],
                  ports: list[PortMapping], source: str | None = None) -> NetworkStatus:
        from sealpod.network import netns

        per_net = self._configured(cfg)
        path = netns.create(self.netns_path(rec.id), source)
        options: dict[str, Any] = {}
        try:
            per = self._allocate(rec, nets, per_net)
            options = self._options(rec, cfg, per, nets, ports)
            self._save_state(rec.id, {"netns": os.fspath(path), "options": options, "results": [],
                                      "ports": [p.to_netavark() for p in ports]})
            results = self.netavark.setup(path, options)
        except BaseException:
            self._discard(rec.id, path, options if options.get("networks") else None)
            raise
        state = {"netns": os.fspath(path), "options": options, "ports": [p.to_netavark() for p in ports],
                 "results": [result_json(r, per_net.get(r.network, {})) for r in results]}
        self._save_state(rec.id, state)
        return status_from_json(state)

    def _allocate(self, rec: ContainerRecord, nets: dict[str, Network],
                  per_net: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
        out: dict[str, dict[str, Any]] = {}
        used_ifaces = {o.get("interface_name") for o in per_net.values() if o.get("interface_name")}
        n = 0
        for name, net in nets.items():
            opts = dict(per_net.get(name, {}))
            ips = self.ipam.allocate(net, rec.id, opts.get("static_ips", ()), self._stale_owners)
            if not opts.get("interface_name"):
                while f"eth{n}" in used_ifaces:
                    n += 1
                opts["interface_name"] = f"eth{n}"
                used_ifaces.add(opts["interface_name"])
            out[name] = {"interface_name": opts["interface_name"], "static_ips": ips,
                         "aliases": [*opts.get("aliases", ()), rec.id[:12]] if net.dns_enabled else [],
                         **({"static_mac": opts["static_mac"]} if opts.get("static_mac") else {})}
        return out

    def _options(self, rec: ContainerRecord, cfg: ContainerConfig, per: dict[str, dict[str, Any]],
                 nets: dict[str, Network], ports: Sequence[PortMapping]) -> dict[str, Any]:
        from sealpod.engine.dns_none import user_servers
        from sealpod.network.netavark import build_options

        return build_options(rec.id, self._dns_name(rec), per, {n: nets[n].to_json() for n in per},
                             [p.to_netavark() for p in ports], dns_servers=user_servers(cfg.dns_servers),
                             hostname=cfg.hostname or rec.id[:12])

    def _dns_name(self, rec: ContainerRecord) -> str:
        """The name netavark gives aardvark-dns: a pod's infra answers to the pod's name, as in Podman."""
        if rec.pod_id:
            try:
                return self.engine.pods.lookup(rec.pod_id).name
            except SealpodError:
                pass
        return rec.name

    def _stale_owners(self, owners: set[str]) -> set[str]:
        """Owners of addresses that no run holds: gone from the database, or without a netns."""
        from sealpod.network import netns

        stale = set()
        for owner in owners:
            try:
                self.engine.containers.db.get(owner)
            except NoSuchContainer:
                stale.add(owner)
                continue
            if not netns.is_netns(self.netns_path(owner)):
                stale.add(owner)
        return stale

    def _save_state(self, ctr_id: str, state: dict[str, Any]) -> None:
        self.state_dir.mkdir(parents=True, exist_ok=True)
        tmp = self.state_dir / f".{ctr_id}.tmp"
        tmp.write_text(json.dumps(state))
        os.replace(tmp, self._state_path(ctr_id))

    def _discard(self, ctr_id: str, path: Path, options: dict[str, Any] | None) -> None:
        """Undo a setup: netavark's part (if it got that far), the netns, the addresses, the state."""
        from sealpod.network import netns

        if options and netns.is_netns(path):
            with contextlib.suppress(SealpodError):
                self.netavark.teardown(path, options)
        with contextlib.suppress(SealpodError):
            netns.remove(path)
        with contextlib.suppress(SealpodError):
            self.ipam.release(ctr_id)
        self._state_path(ctr_id).unlink(missing_ok=True)

    def teardown_for(self, rec: ContainerRecord) -> None:
        """Release everything a run of ``rec`` holds on the network; safe to call twice."""
        self.release_held(rec.id)
        try:
            state = json.loads(self._state_path(rec.id).read_text())
        except FileNotFoundError:
            state = None
        except (OSError, ValueError):
            state = {}
        if state and state.get("mode") == "slirp4netns":
            from sealpod.network import slirp

            slirp.teardown(state)
        if state and state.get("mode", "bridge") != "bridge":  # borrowed: nothing of ours to undo
            self._leave_shared_hosts(rec)
            self._state_path(rec.id).unlink(missing_ok=True)
            return
        path = Path(state["netns"]) if state and state.get("netns") else self.netns_path(rec.id)
        if state is None and not path.exists():
            return
        if self.engine.config.rootless:
            self._teardown_rootless(rec, state)
            return
        options = state.get("options") if state else None
        self._discard(rec.id, path, options if options and options.get("networks") else None)

    def join_shared_hosts(self, rec: ContainerRecord, cfg: ContainerConfig, names: Sequence[str]) -> Path | None:
        """A container in another's network namespace (a pod's member, ``--network container:``)
        shares that container's /etc/hosts, as in Podman, which lists it as 127.0.0.1 (the
        names no line has yet); None: it has none to share, the member writes its own."""
        from sealpod.runtime import etcfiles

        path = self._shared_hosts_path(cfg)
        if path is None or not rewrite_in_place(
                path, lambda text: etcfiles.hosts_with_member(etcfiles.hosts_without_member(text, rec.name), names)):
            return None
        return path

    def _leave_shared_hosts(self, rec: ContainerRecord) -> None:
        from sealpod.runtime import etcfiles

        with contextlib.suppress(SealpodError, ValueError):
            path = self._shared_hosts_path(ContainerConfig.from_json(rec.config))
            if path is not None:
                rewrite_in_place(path, lambda text: etcfiles.hosts_without_member(text, rec.name))

    def _shared_hosts_path(self, cfg: ContainerConfig) -> Path | None:
        if not cfg.network.startswith("container:"):
            return None
        from sealpod.engine.netns_share import shared_hosts

        return shared_hosts(self.engine.containers, cfg)

    def _joined(self, target: str) -> NetworkStatus:
        """``--network container:X``: X's namespace, by its netns file or its process."""
        other = self.engine.containers.lookup(target)
        if other.state not in (State.RUNNING, State.PAUSED, State.CREATED):
            raise Conflict(f"cannot join network namespace of container {other.id}: "
                           "container state improper")
        status = self.status_of(other)
        if status and status.netns:
            return NetworkStatus("container", status.netns, status.attachments, status.dns_servers,
                                 status.dns_search, status.ports)
        if other.pid <= 0:
            raise Conflict(f"container {other.id} has no process to join: container state improper")
        return NetworkStatus("container", f"/proc/{other.pid}/ns/net")

    # --- connect / disconnect / reload ----------------------------------------------------

    def connect(self, network: str, container: str, *, aliases: Sequence[str] = (), ip: str = "",
                mac: str = "") -> None:
        net = self.files.get(network)
        rec = self.engine.containers.lookup(container)
        cfg = ContainerConfig.from_json(rec.config)
        status = self.status_of(rec)  # disconnected from all its networks, it keeps its bridge netns
        if network_mode(cfg) != "bridge" and not (cfg.network == "none" and status and status.mode == "bridge"):
            raise InvalidArgument(f'"{network_mode(cfg)}" is not supported: invalid network mode')
        nets = self._configured(cfg) if cfg.network != "none" else {}
        if net.name in nets and rec.state == State.CONFIGURED:
            return  # Docker's compat, as Podman: a no-op until the container has its network
        if net.name in nets:
            raise Conflict(f'container {rec.id} is already connected to network "{net.name}": '
                           "network is already connected")
        opts: dict[str, Any] = {"aliases": list(aliases)}
        if ip:
            opts["static_ips"] = [ip]
        if mac:
            opts["static_mac"] = check_mac(mac)
        new_nets = {**nets, net.name: opts}
        with self.engine.containers.lock(rec.id):
            rec = self.engine.containers.db.get(rec.id)
            if rec.state in (State.RUNNING, State.PAUSED):
                self._attach_running(rec, net, opts)
            self.engine.containers.db.update(rec, config={**rec.config, "networks": new_nets, "network": "bridge"})
        self.engine.events.emit("network", "connect", id=rec.id, name=net.name, attributes={"container": rec.id})

    def _attach_running(self, rec: ContainerRecord, net: Network, opts: dict[str, Any]) -> None:
        state = json.loads(self._state_path(rec.id).read_text())
        taken = {o.get("interface_name") for o in state["options"]["networks"].values()}
        n = 0
        while f"eth{n}" in taken:
            n += 1
        per = self._allocate(rec, {net.name: net}, {net.name: {**opts, "interface_name": f"eth{n}"}})
        one = {**state["options"], "networks": per, "network_info": {net.name: net.to_json()}}  # ports too, as Podman
        path = Path(state["netns"])
        try:
            results = self.netavark.setup(path, one)
        except BaseException:
            self.ipam.release(rec.id, net.name)
            raise
        state["options"]["networks"].update(per)
        state["options"]["network_info"][net.name] = net.to_json()
        added = [result_json(r, opts) for r in results]
        state["results"] += added
        self._save_state(rec.id, state)
        self._update_hosts(rec, add=result_ips(added))
        self._update_resolv(rec, add=[s for r in added for s in r.get("dns_servers", ())])

    def disconnect(self, network: str, container: str, *, force: bool = False) -> None:
        net = self.files.get(network)
        rec = self.engine.containers.lookup(container)
        cfg = ContainerConfig.from_json(rec.config)
        if network_mode(cfg) not in ("bridge", "none"):  # none: all its networks disconnected already
            raise InvalidArgument(f'"{network_mode(cfg)}" is not supported: invalid network mode')
        nets = self._configured(cfg)
        if net.name not in nets:
            raise NetworkError(f"container {rec.id} is not connected to network {net.name}")
        with self.engine.containers.lock(rec.id):
            rec = self.engine.containers.db.get(rec.id)
            state = None
            with contextlib.suppress(OSError, ValueError):
                state = json.loads(self._state_path(rec.id).read_text())
            if state and rec.state in (State.RUNNING, State.PAUSED) and net.name in state["options"]["networks"]:
                one = {**state["options"], "networks": {net.name: state["options"]["networks"][net.name]},
                       "network_info": {net.name: state["options"]["network_info"][net.name]}}
                self.netavark.teardown(Path(state["netns"]), one)
                self.ipam.release(rec.id, net.name)
                del state["options"]["networks"][net.name]
                del state["options"]["network_info"][net.name]
                gone = [r for r in state["results"] if r["network"] == net.name]
                state["results"] = [r for r in state["results"] if r["network"] != net.name]
                self._save_state(rec.id, state)
                self._update_hosts(rec, remove=result_ips(gone))
                self._update_resolv(rec, remove=[s for r in gone for s in r.get("dns_servers", ())])
            rest = {k: v for k, v in nets.items() if k != net.name}
            self.engine.containers.db.update(rec, config={**rec.config, "networks": rest,
                                                          "network": "bridge" if rest else "none"})
        self.engine.events.emit("network", "disconnect", id=rec.id, name=net.name, attributes={"container": rec.id})

    def _update_hosts(self, rec: ContainerRecord, *, add: Sequence[str] = (), remove: Sequence[str] = ()) -> None:
        from sealpod.engine.network_files import update_hosts

        update_hosts(self.engine.containers.paths(rec.id).userdata / "hosts", rec, add=add, remove=remove)

    def _update_resolv(self, rec: ContainerRecord, *, add: Sequence[str] = (), remove: Sequence[str] = ()) -> None:
        from sealpod.engine.network_files import update_resolv

        update_resolv(self.engine.containers.paths(rec.id).userdata / "resolv.conf", add=add, remove=remove)

    def reload(self, containers: Sequence[str]) -> list[str]:
        """Re-create each running container's firewall rules (after ``iptables -F``, a firewalld
        reload): tear its network down and set it up again with the same addresses."""
        done = []
        for name in containers:
            rec = self.engine.containers.lookup(name)
            if rec.state != State.RUNNING:
                raise Conflict(f"container {rec.id} is not running: container state improper")
            state = json.loads(self._state_path(rec.id).read_text()) if self._state_path(rec.id).exists() else None
            if state and state["options"].get("networks"):
                path = Path(state["netns"])
                with contextlib.suppress(SealpodError):
                    self.netavark.teardown(path, state["options"])
                self.netavark.setup(path, state["options"])
            done.append(rec.id)
        return done

    def running_on_networks(self) -> list[str]:
        return [r.id for r in self.engine.containers.list_containers()
                if r.state == State.RUNNING and self._state_path(r.id).exists()]

    def port_lines(self, rec: ContainerRecord) -> list[str]:
        """``podman port``: the mappings of the running container, host ports as chosen."""
        if rec.state not in (State.RUNNING, State.PAUSED):
            return []
        status = self.status_of(rec)
        return [line for p in (status.ports if status else ()) for line in p.lines()]


__all__ = ["NetworkService"]
