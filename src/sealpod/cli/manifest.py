"""``manifest`` commands: create, add, annotate, remove, rm, exists, inspect, push (multi-arch lists)."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from sealpod.cli.args import parse_bool
from sealpod.cli.context import CliContext, Command
from sealpod.errors import InvalidArgument, NoSuchImage, SealpodError

TYPE_CHECKING = False  # typing costs ~2 ms of every command's start-up; only type checkers need it
if TYPE_CHECKING:
    from sealpod.engine.entities import RegistryFlags, RemoveReport
    from sealpod.engine.manifests import AddOptions


def _registry_flags_setup(p: argparse.ArgumentParser) -> None:
    p.add_argument("--tls-verify", nargs="?", const=True, default=None, type=parse_bool,
                   help="require HTTPS and verify certificates when accessing the registry")
    p.add_argument("--insecure", action="store_true", help="neither require HTTPS nor verify certificates")
    p.add_argument("--cert-dir", type=Path, help="use certificates at the specified path to access the registry")
    p.add_argument("--authfile", type=Path, help="path of the authentication file")
    p.add_argument("--creds", help="use USERNAME[:PASSWORD] for accessing the registry")


def _registry_flags(args: argparse.Namespace) -> RegistryFlags:
    from sealpod.engine.entities import RegistryFlags

    tls = False if getattr(args, "insecure", False) else args.tls_verify
    return RegistryFlags(tls_verify=tls, cert_dir=getattr(args, "cert_dir", None),
                         creds=getattr(args, "creds", None), auth_file=getattr(args, "authfile", None))


def _print_id(list_id: str) -> int:
    sys.stdout.write(list_id + "\n")
    return 0


# --- create / add -------------------------------------------------------------------------

def _setup_create(p: argparse.ArgumentParser) -> None:
    p.add_argument("name", metavar="LIST")
    p.add_argument("images", nargs="*", metavar="IMAGE")
    p.set_defaults(intermixed=True)  # "manifest create LIST --all IMAGE", as cobra takes it
    p.add_argument("--all", action="store_true", help="add all of the lists' images if the images to add are lists")
    p.add_argument("-a", "--amend", action="store_true",
                   help="modify an existing list if one with the desired name already exists")
    _registry_flags_setup(p)


def _run_create(args: argparse.Namespace, ctx: CliContext) -> int:
    from sealpod.engine.manifests import AddOptions

    options = AddOptions(all=args.all, registry=_registry_flags(args))
    return _print_id(ctx.engine.manifests.create(args.name, args.images, amend=args.amend, options=options))


def _setup_add(p: argparse.ArgumentParser) -> None:
    p.add_argument("name", metavar="LIST")
    p.add_argument("image", metavar="IMAGE")
    p.add_argument("--all", action="store_true", help="add all of the list's images if the image is a list")
    p.add_argument("--annotation", action="append", default=[], help="set an annotation for the specified image")
    p.add_argument("--arch", default="", help="override the architecture of the specified image")
    p.add_argument("--os", default="", help="override the OS of the specified image")
    p.add_argument("--variant", default="", help="override the Variant of the specified image")
    p.add_argument("--os-version", default="", help="override the OS version of the specified image")
    p.add_argument("--features", action="append", default=[], help="override the features of the specified image")
    _registry_flags_setup(p)


def _add_options(args: argparse.Namespace) -> AddOptions:
    from sealpod.engine.manifests import AddOptions, parse_annotations

    return AddOptions(all=args.all, os=args.os, arch=args.arch, variant=args.variant, os_version=args.os_version,
                      features=tuple(_split(args.features)), annotations=parse_annotations(args.annotation),
                      registry=_registry_flags(args))


def _split(values: list[str]) -> list[str]:
    return [v for item in values for v in item.split(",") if v]


def _run_add(args: argparse.Namespace, ctx: CliContext) -> int:
    return _print_id(ctx.engine.manifests.add(args.name, args.image, _add_options(args)))


# --- annotate / remove / rm / exists --------------------------------------------------------

def _setup_annotate(p: argparse.ArgumentParser) -> None:
    p.add_argument("name", metavar="LIST")
    p.add_argument("digest", nargs="?", default="", metavar="DIGEST")
    p.add_argument("--annotation", action="append", default=[], help="set an annotation for the specified image")
    p.add_argument("--arch", default="", help="override the architecture of the specified image")
    p.add_argument("--os", default="", help="override the OS of the specified image")
    p.add_argument("--variant", default="", help="override the Variant of the specified image")
    p.add_argument("--os-version", default="", help="override the OS version of the specified image")
    p.add_argument("--os-features", action="append", default=[], help="override the OS features of the image")
    p.add_argument("--features", action="append", default=[], help="override the features of the specified image")
    p.add_argument("--index", action="store_true", help="apply the annotations to the list itself")


def _run_annotate(args: argparse.Namespace, ctx: CliContext) -> int:
    from sealpod.engine.manifests import AnnotateOptions, parse_annotations

    if not args.digest and not args.index:
        raise InvalidArgument("accepts 2 arg(s), received 1")
    options = AnnotateOptions(os=args.os, arch=args.arch, variant=args.variant, os_version=args.os_version,
                              os_features=tuple(_split(args.os_features)), features=tuple(_split(args.features)),
                              annotations=parse_annotations(args.annotation), index=args.index)
    return _print_id(ctx.engine.manifests.annotate(args.name, args.digest, options))


def _setup_remove(p: argparse.ArgumentParser) -> None:
    p.add_argument("name", metavar="LIST")
    p.add_argument("digest", metavar="DIGEST")


def _run_remove(args: argparse.Namespace, ctx: CliContext) -> int:
    return _print_id(ctx.engine.manifests.remove(args.name, args.digest))


def _setup_rm(p: argparse.ArgumentParser) -> None:
    p.add_argument("names", nargs="+", metavar="LIST")


def _run_rm(args: argparse.Namespace, ctx: CliContext) -> int:
    report = ctx.engine.manifests.delete(args.names)
    return _report_removal(report)


def _report_removal(report: RemoveReport) -> int:
    """As ``rmi``: what went, then the errors; only "not known" everywhere exits 1."""
    sys.stdout.write("".join(f"Untagged: {n}\n" for n in report.untagged))
    sys.stdout.write("".join(f"Deleted: {i}\n" for i in report.deleted))
    if not report.errors:
        return 0
    last = report.errors[-1]
    if not isinstance(last, SealpodError):
        raise last
    if isinstance(last, NoSuchImage):
        last.exit_code = 1
    if len(report.errors) > 1:
        items = "".join(f"\n\t* {e}" for e in report.errors)
        combined = type(last)(f"{len(report.errors)} errors occurred:{items}")
        combined.exit_code = last.exit_code
        raise combined
    raise last


def _setup_exists(p: argparse.ArgumentParser) -> None:
    p.add_argument("name", metavar="LIST")


def _run_exists(args: argparse.Namespace, ctx: CliContext) -> int:
    return 0 if ctx.engine.manifests.exists(args.name) else 1


# --- inspect / push ---------------------------------------------------------------------------

def _setup_inspect(p: argparse.ArgumentParser) -> None:
    p.add_argument("name", metavar="LIST")
    p.add_argument("-v", "--verbose", action="store_true", help="accepted for compatibility")
    _registry_flags_setup(p)


def _run_inspect(args: argparse.Namespace, ctx: CliContext) -> int:
    doc = ctx.engine.manifests.inspect(args.name, _registry_flags(args))
    sys.stdout.write(json.dumps(doc, indent=4) + "\n")
    return 0


def _setup_push(p: argparse.ArgumentParser) -> None:
    p.add_argument("name", metavar="LIST")
    p.add_argument("destination", nargs="?", metavar="DESTINATION")
    p.set_defaults(intermixed=True)  # "manifest push LIST -q DESTINATION", as cobra takes it
    p.add_argument("--all", nargs="?", const=True, default=True, type=parse_bool,
                   help="also push the images in the list (default true)")
    p.add_argument("-f", "--format", dest="manifest_format", help="manifest type (oci or v2s2) of the pushed list")
    p.add_argument("--rm", "--purge", dest="rm", action="store_true",
                   help="remove the manifest list if push succeeds")
    p.add_argument("--digestfile", type=Path, help="after copying the list, write its digest to this file")
    p.add_argument("-q", "--quiet", action="store_true", help="don't output progress information")
    p.add_argument("--remove-signatures", action="store_true", help="don't copy signatures")
    p.add_argument("--compression-format", help="compression format (layers are pushed as stored)")
    p.add_argument("--sign-by", help="not supported: signing")
    from sealpod.cli.sign_flags import add_sign_flags

    add_sign_flags(p)
    _registry_flags_setup(p)


def _run_push(args: argparse.Namespace, ctx: CliContext) -> int:
    from sealpod.cli.progress import Progress
    from sealpod.cli.sign_flags import signing_passphrase
    from sealpod.engine.manifests import ListPushOptions

    signing_passphrase(args)  # checked first, as Podman reads it
    if args.sign_by:
        raise InvalidArgument("signing is not supported: --sign-by")
    progress = Progress()
    key = args.sign_by_sigstore_private_key
    options = ListPushOptions(all=args.all, format=args.manifest_format, remove=args.rm,
                              digest_file=args.digestfile, registry=_registry_flags(args),
                              progress=None if args.quiet else progress.blob,
                              sigstore_key=Path(key) if key else None)
    report = (lambda _: None) if args.quiet else progress.line
    try:
        digest = ctx.engine.manifests.push(args.name, args.destination, options, report)
    finally:
        progress.finish()
    if not args.quiet:
        sys.stdout.write(digest + "\n")
    return 0


COMMANDS: dict[str, Command] = {
    "create": Command("Create manifest list or image index", _setup_create, _run_create),
    "add": Command("Add images to a manifest list or image index", _setup_add, _run_add),
    "annotate": Command("Add or update information about an entry in a manifest list or image index",
                        _setup_annotate, _run_annotate),
    "remove": Command("Remove an entry from a manifest list or image index", _setup_remove, _run_remove),
    "rm": Command("Remove manifest list or image index from local storage", _setup_rm, _run_rm),
    "exists": Command("Check if a manifest list exists in local storage", _setup_exists, _run_exists),
    "inspect": Command("Display the contents of a manifest list or image index", _setup_inspect, _run_inspect),
    "push": Command("Push a manifest list or image index to a registry", _setup_push, _run_push),
}
