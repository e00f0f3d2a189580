"""Network commands: create, ls, inspect, rm, prune, exists, connect, disconnect, reload."""

from __future__ import annotations

import argparse
import json
import sys

from sealpod.cli.args import confirm, key_values
from sealpod.cli.context import CliContext, Command
from sealpod.errors import InvalidArgument, NoSuchNetwork, NotFound, SealpodError

TYPE_CHECKING = False  # typing costs ~2 ms of every command's start-up; only type checkers need it
if TYPE_CHECKING:
    from typing import Any


def _fail(errors: list[SealpodError]) -> int:
    """Podman prints every error; the last one decides the exit code."""
    for err in errors[:-1]:
        sys.stderr.write(f"Error: {err}\n")
    if errors:
        raise errors[-1]
    return 0


# --- create -------------------------------------------------------------------------------

def _setup_create(p: argparse.ArgumentParser) -> None:
    a = p.add_argument
    a("name", nargs="?", metavar="NAME")
    a("-d", "--driver", default="bridge", help="driver to manage the network (bridge, macvlan)")
    a("--subnet", action="append", default=[], help="subnets in CIDR format")
    a("--gateway", action="append", default=[], help="IPv4 or IPv6 gateway for the subnet")
    a("--ip-range", action="append", default=[], help="allocate container IP from range")
    a("--ipv6", action="store_true", help="enable IPv6 networking")
    a("--internal", action="store_true", help="restrict external access from this network")
    a("--disable-dns", action="store_true", help="disable dns plugin")
    a("-o", "--opt", action="append", default=[], help="set driver specific options (mtu=, vlan=, parent=)")
    a("--label", action="append", default=[], help="set metadata on a network")
    a("--interface-name", default="", help="name of the bridge (or parent) interface on the host")
    a("--ipam-driver", default="", help="IP Address Management Driver")
    a("--ignore", action="store_true", help="don't fail if network already exists")
    a("--macvlan", default="", help=argparse.SUPPRESS)  # Podman's deprecated spelling of -d macvlan -o parent=


def _run_create(args: argparse.Namespace, ctx: CliContext) -> int:
    from sealpod.engine.network_flags import create_options

    options = key_values(args.opt, "option")
    iface = args.interface_name or (options.get("parent", "") if args.driver != "bridge" else "")
    if args.macvlan:
        from sealpod.utils.logrus import warning

        warning("The --macvlan option is deprecated, use `--driver macvlan --opt parent=<device>` instead")
        args.driver, iface = "macvlan", args.macvlan
    if not args.subnet and (args.gateway or args.ip_range):  # Podman's check, before the engine's
        raise InvalidArgument("cannot set gateway or range without subnet")
    opts = create_options(driver=args.driver, subnets=tuple(args.subnet), gateways=tuple(args.gateway),
                         ip_ranges=tuple(args.ip_range), ipv6=args.ipv6, internal=args.internal,
                         disable_dns=args.disable_dns, options=options, labels=key_values(args.label, "label"),
                         interface_name=iface, ipam_driver=args.ipam_driver)
    net = ctx.engine.networks.create(args.name, opts, ignore=args.ignore)
    sys.stdout.write(net.name + "\n")
    return 0


# --- ls -----------------------------------------------------------------------------------

def _setup_list(p: argparse.ArgumentParser) -> None:
    p.add_argument("-f", "--filter", action="append", default=[], help="provide filter values (e.g. 'name=podman')")
    p.add_argument("--format", help="pretty-print networks to JSON or using a Go template")
    p.add_argument("-q", "--quiet", action="store_true", help="display only names")
    p.add_argument("--noheading", action="store_true", help="do not print headers")
    p.add_argument("--no-trunc", action="store_true", help="do not truncate the network ID")


def _row(doc: dict[str, Any], trunc: bool) -> dict[str, Any]:
    """The Go field names Podman's templates see."""
    return {"Name": doc["name"], "ID": doc["id"][:12] if trunc else doc["id"], "Driver": doc["driver"],
            "NetworkInterface": doc.get("network_interface", ""), "Created": doc.get("created", ""),
            "Subnets": [_subnet_row(s) for s in doc.get("subnets") or []],
            "IPv6Enabled": doc.get("ipv6_enabled", False),
            "Internal": doc.get("internal", False), "DNSEnabled": doc.get("dns_enabled", False),
            "Labels": doc.get("labels") or {}, "Options": doc.get("options") or {},
            "IPAMOptions": doc.get("ipam_options") or {}}


def _subnet_row(sub: dict[str, Any]) -> dict[str, Any]:
    """A subnet by Go's field names (``{{range .Subnets}}{{.Subnet}} {{.Gateway}}{{end}}``)."""
    lease = sub.get("lease_range") or {}
    return {"Subnet": sub.get("subnet", ""), "Gateway": sub.get("gateway", ""),
            "LeaseRange": {"StartIP": lease.get("start_ip", ""), "EndIP": lease.get("end_ip", "")} if lease else None}


def _run_list(args: argparse.Namespace, ctx: CliContext) -> int:
    from sealpod.cli.formatting import render

    nets = ctx.engine.networks.list_networks(args.filter)
    if args.quiet:
        sys.stdout.write("".join(f"{n.name}\n" for n in nets))
        return 0
    docs = [n.to_json() for n in nets]
    default = "table {{.ID}}\t{{.Name}}\t{{.Driver}}"
    from sealpod.cli.gotemplate.values import StrictFields

    rows = [StrictFields(row, "network.ListPrintReports") for row in (_row(d, not args.no_trunc) for d in docs)]
    out = render(args.format, rows, default=default, headers={"ID": "NETWORK ID"}, json_rows=lambda: docs,
                 name="ls", json_indent=2, noheading=args.noheading, go_type="network.ListPrintReports")
    sys.stdout.write(out)
    return 0


# --- inspect ------------------------------------------------------------------------------

def _setup_inspect(p: argparse.ArgumentParser) -> None:
    p.add_argument("names", nargs="+", metavar="NETWORK")
    p.add_argument("-f", "--format", help="pretty-print network to JSON or using a Go template")


def _run_inspect(args: argparse.Namespace, ctx: CliContext) -> int:
    from sealpod.cli.formatting import is_json, unescape

    docs: list[dict[str, Any]] = []
    errors: list[SealpodError] = []
    for name in args.names:
        try:
            docs.append(ctx.engine.networks.inspect(name))
        except NoSuchNetwork as e:
            errors.append(NotFound(f"network {name}: {e}"))
    if not args.format or is_json(args.format):
        sys.stdout.write(json.dumps(docs, indent=5, ensure_ascii=False) + "\n")
    else:
        from sealpod.cli.gotemplate import compile_template

        tmpl = compile_template(unescape(args.format).rstrip("\n") + "\n", name="inspect")
        sys.stdout.write("".join(tmpl.execute(_row(d, False)) for d in docs))
    return _fail(errors)


# --- rm / prune / exists ------------------------------------------------------------------

def _setup_remove(p: argparse.ArgumentParser) -> None:
    p.add_argument("names", nargs="+", metavar="NETWORK")
    p.add_argument("-f", "--force", action="store_true", help="remove any containers using network")
    p.add_argument("-t", "--time", type=int, default=None, help="seconds to wait for running containers to stop")


def _run_remove(args: argparse.Namespace, ctx: CliContext) -> int:
    errors: list[SealpodError] = []
    for name in args.names:
        try:
            sys.stdout.write(ctx.engine.networks.remove(name, force=args.force, timeout=args.time) + "\n")
            sys.stdout.flush()
        except NoSuchNetwork as e:
            if args.force:
                continue  # --force: a network that is not there is already removed, as in Podman
            e.exit_code = 1
            errors.append(e)
        except SealpodError as e:
            errors.append(e)
    return _fail(errors)


def _setup_prune(p: argparse.ArgumentParser) -> None:
    p.add_argument("-f", "--force", action="store_true", help="do not prompt for confirmation")
    p.add_argument("--filter", action="append", default=[], help="provide filter values")


def _run_prune(args: argparse.Namespace, ctx: CliContext) -> int:
    if not args.force:
        if not confirm("WARNING! This will remove all networks not used by at least one container.\n",
                       eof_error=True):
            return 0
    for name in ctx.engine.networks.prune(args.filter):
        sys.stdout.write(name + "\n")
    return 0


def _setup_exists(p: argparse.ArgumentParser) -> None:
    p.add_argument("name", metavar="NETWORK")


def _run_exists(args: argparse.Namespace, ctx: CliContext) -> int:
    return 0 if ctx.engine.networks.exists(args.name) else 1


# --- connect / disconnect / reload --------------------------------------------------------

def _setup_connect(p: argparse.ArgumentParser) -> None:
    p.add_argument("network", metavar="NETWORK")
    p.add_argument("container", metavar="CONTAINER")
    p.add_argument("--alias", action="append", default=[], help="network scoped alias for container")
    p.add_argument("--ip", default="", help="set a static ipv4 address for this container network")
    p.add_argument("--ip6", default="", help="set a static ipv6 address for this container network")
    p.add_argument("--mac-address", default="", help="set a static mac address for this container network")


def _run_connect(args: argparse.Namespace, ctx: CliContext) -> int:
    ctx.engine.networks.connect(args.network, args.container, aliases=args.alias, ip=args.ip or args.ip6,
                                mac=args.mac_address)
    return 0


def _setup_disconnect(p: argparse.ArgumentParser) -> None:
    p.add_argument("network", metavar="NETWORK")
    p.add_argument("container", metavar="CONTAINER")
    p.add_argument("-f", "--force", action="store_true", help="force removal of container from network")


def _run_disconnect(args: argparse.Namespace, ctx: CliContext) -> int:
    ctx.engine.networks.disconnect(args.network, args.container, force=args.force)
    return 0


def _setup_reload(p: argparse.ArgumentParser) -> None:
    p.add_argument("containers", nargs="*", metavar="CONTAINER")
    p.add_argument("-a", "--all", action="store_true", help="reload network configuration of all containers")
    p.add_argument("-l", "--latest", action="store_true", help="act on the latest container")


def _run_reload(args: argparse.Namespace, ctx: CliContext) -> int:
    service = ctx.engine.networks
    if args.all:
        names = service.running_on_networks()
    elif args.latest:
        names = [ctx.engine.containers.latest().id]
    else:
        names = args.containers
    if not names and not args.all:
        raise InvalidArgument("the network reload command requires a container name or --all")
    for ctr_id in service.reload(names):
        sys.stdout.write(ctr_id + "\n")
    return 0


_LS = Command("List networks", _setup_list, _run_list)
_RM = Command("Remove networks", _setup_remove, _run_remove)

COMMANDS: dict[str, Command] = {
    "create": Command("Create networks for containers and pods", _setup_create, _run_create),
    "ls": _LS,
    "list": _LS,
    "inspect": Command("Inspect network", _setup_inspect, _run_inspect),
    "rm": _RM,
    "remove": _RM,
    "prune": Command("Remove all unused networks", _setup_prune, _run_prune),
    "exists": Command("Check if network exists", _setup_exists, _run_exists),
    "connect": Command("Add container to a network", _setup_connect, _run_connect),
    "disconnect": Command("Disconnect a container from a network", _setup_disconnect, _run_disconnect),
    "reload": Command("Reload firewall rules for one or more containers", _setup_reload, _run_reload),
}
