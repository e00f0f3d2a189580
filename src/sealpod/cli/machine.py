"""``machine``: Podman's virtual machines, for hosts that cannot run Linux containers themselves.

sealpod runs containers on this very host, so there is never a machine to manage.  The commands
exist so that scripts written for Podman meet its answers: as root every one is refused in
Podman's words; otherwise the list is empty, ``info`` describes no machine, ``init`` needs the
emulator Podman would run, and every other verb finds no such machine.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable

from sealpod.cli.context import CliContext, Command
from sealpod.errors import SealpodError

DEFAULT_MACHINE = "podman-machine-default"  # the name scripts written for Podman pass or expect


def _refuse_root(verb: str) -> None:
    if os.geteuid() == 0:
        raise SealpodError(f'cannot run command "sealpod machine {verb}" as root')


def _setup_init(p: argparse.ArgumentParser) -> None:
    p.add_argument("name", nargs="?", metavar="NAME")
    p.add_argument("--cpus", type=int, default=1, help="Number of CPUs")
    p.add_argument("--disk-size", type=int, default=100, help="Disk size in GB")
    p.add_argument("--ignition-path", default="", help="Path to ignition file")
    p.add_argument("--image-path", default="testing", help="Path to qcow image")
    p.add_argument("-m", "--memory", type=int, default=2048, help="Memory in MB")
    p.add_argument("--now", action="store_true", help="Start machine now")
    p.add_argument("--rootful", action="store_true",
                   help="Whether this machine should prefer rootful container execution")
    p.add_argument("--timezone", default="local", help="Set timezone")
    p.add_argument("--username", default="core", help="Username used in qcow image")
    p.add_argument("-v", "--volume", action="append", default=[], help="Volumes to mount, source:target")
    p.add_argument("--volume-driver", default="", help="Optional volume driver")


def _run_init(args: argparse.Namespace, ctx: CliContext) -> int:
    import shutil

    _refuse_root("init")
    if shutil.which("qemu-system-x86_64") is None:
        raise SealpodError('exec: "qemu-system-x86_64": executable file not found in $PATH')
    raise SealpodError("virtual machines are not supported: sealpod runs containers on this host")


def _setup_named(p: argparse.ArgumentParser) -> None:
    p.add_argument("name", nargs="?", metavar="MACHINE")


def _named(verb: str, setup: Callable[[argparse.ArgumentParser], None] = _setup_named) -> Command:
    """start, stop, inspect, ssh, rm, set: no machine by that name exists."""

    def run(args: argparse.Namespace, ctx: CliContext) -> int:
        _refuse_root(verb)
        raise SealpodError(f"{args.name or DEFAULT_MACHINE}: VM does not exist")

    return Command(_SUMMARIES[verb], setup, run)


def _setup_rm(p: argparse.ArgumentParser) -> None:
    _setup_named(p)
    p.add_argument("-f", "--force", action="store_true", help="Stop and do not prompt before rming")
    p.add_argument("--save-ignition", action="store_true", help="Do not delete ignition file")
    p.add_argument("--save-image", action="store_true", help="Do not delete the image file")
    p.add_argument("--save-keys", action="store_true", help="Do not delete SSH keys")


def _setup_set(p: argparse.ArgumentParser) -> None:
    _setup_named(p)
    p.add_argument("--cpus", type=int, default=None, help="Number of CPUs")
    p.add_argument("--disk-size", type=int, default=None, help="Disk size in GB")
    p.add_argument("-m", "--memory", type=int, default=None, help="Memory in MB")
    p.add_argument("--rootful", action="store_true",
                   help="Whether this machine should prefer rootful container execution")


def _setup_list(p: argparse.ArgumentParser) -> None:
    p.add_argument("--format", default="", help="Format volume output using JSON or a Go template")
    p.add_argument("--noheading", "-n", action="store_true", help="Do not print headers")
    p.add_argument("-q", "--quiet", action="store_true", help="Show only machine names")


def _run_list(args: argparse.Namespace, ctx: CliContext) -> int:
    _refuse_root("list")
    if args.format.strip() == "json":
        sys.stdout.write("[]\n")
    elif not (args.format or args.quiet or args.noheading):
        sys.stdout.write("NAME        VM TYPE     CREATED     LAST UP     CPUS        MEMORY      DISK SIZE\n")
    return 0


def _setup_info(p: argparse.ArgumentParser) -> None:
    p.add_argument("-f", "--format", default=None, help="Change the output format to JSON or a Go template")


def _run_info(args: argparse.Namespace, ctx: CliContext) -> int:
    import platform

    from sealpod import __version__

    _refuse_root("info")
    arch = {"x86_64": "amd64", "aarch64": "arm64"}.get(platform.machine(), platform.machine())
    home = os.path.expanduser("~")
    doc = {"Host": {"Arch": arch, "CurrentMachine": "", "DefaultMachine": "",
                    "MachineConfigDir": f"{home}/.config/containers/podman/machine/qemu",
                    "MachineImageDir": f"{home}/.local/share/containers/podman/machine/qemu",
                    "MachineState": "", "NumberOfMachines": 0, "OS": "linux", "VMType": "qemu"},
           "Version": {"APIVersion": "4.3.1", "Version": __version__, "Os": "linux", "OsArch": f"linux/{arch}"}}
    if args.format is None:
        from sealpod.cli.yamlout import dump

        sys.stdout.write(dump(doc))
        return 0
    from sealpod.cli.formatting import is_json, unescape

    if is_json(args.format):
        import json

        sys.stdout.write(json.dumps(doc, indent=4) + "\n")
        return 0
    from sealpod.cli.gotemplate import compile_template

    out = compile_template(unescape(args.format), name="info").execute(doc)
    sys.stdout.write(out if out.endswith("\n") else out + "\n")
    return 0


_SUMMARIES = {"info": "Display machine host info", "init": "Initialize a virtual machine",
              "inspect": "Inspect an existing machine", "list": "List machines", "rm": "Remove an existing machine",
              "set": "Sets a virtual machine setting", "ssh": "SSH into an existing machine",
              "start": "Start an existing machine", "stop": "Stop an existing machine"}


_LIST = Command(_SUMMARIES["list"], _setup_list, _run_list)

COMMANDS: dict[str, Command] = {
    "init": Command(_SUMMARIES["init"], _setup_init, _run_init),
    "info": Command(_SUMMARIES["info"], _setup_info, _run_info),
    "list": _LIST, "ls": _LIST,
    "rm": _named("rm", _setup_rm),
    "set": _named("set", _setup_set),
    **{verb: _named(verb) for verb in ("inspect", "ssh", "start", "stop")},
}
