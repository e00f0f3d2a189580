"""Image commands: pull, push, images, tag, untag, rmi, exists, prune, history, inspect,
login, logout, search."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from sealpod.cli.args import confirm, parse_bool
from sealpod.cli.context import CliContext, Command, fail_with
from sealpod.errors import ImageInUse, InvalidArgument, NoSuchImage, SealpodError

TYPE_CHECKING = False  # typing costs ~2 ms of every command's start-up; only type checkers need it
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any

    from sealpod.engine.entities import ImageSummary, PullOptions, RegistryFlags, SearchResult




def _add_registry_flags(p: argparse.ArgumentParser, creds: bool = True) -> None:
    p.add_argument("--tls-verify", nargs="?", const=True, default=None, type=parse_bool,
                   help="require HTTPS and verify certificates when contacting registries")
    p.add_argument("--cert-dir", type=Path, help="path to certificates (*.crt, *.cert, *.key)")
    p.add_argument("--authfile", type=Path, help="path of the authentication file")
    if creds:
        p.add_argument("--creds", help="credentials (USERNAME:PASSWORD) for the registry")


def _registry_flags(args: argparse.Namespace) -> RegistryFlags:
    from sealpod.engine.entities import RegistryFlags

    return RegistryFlags(tls_verify=args.tls_verify, cert_dir=args.cert_dir,
                         creds=getattr(args, "creds", None), auth_file=args.authfile)


def _stderr(line: str) -> None:
    sys.stderr.write(line + "\n")
    sys.stderr.flush()


def _quiet(_: str) -> None:
    return None


# --- pull ---------------------------------------------------------------------------------

def _setup_pull(p: argparse.ArgumentParser) -> None:
    p.add_argument("images", nargs="+", metavar="IMAGE")
    p.add_argument("-a", "--all-tags", action="store_true", help="pull all tagged images in the repository")
    p.add_argument("-q", "--quiet", action="store_true", help="suppress output information when pulling")
    p.add_argument("--platform", help="pull the image for this platform (os/arch[/variant])")
    p.add_argument("--arch", help="pull for this architecture instead of the host's")
    p.add_argument("--os", help="pull for this OS instead of the host's")
    p.add_argument("--variant", help="pull for this architecture variant")
    p.add_argument("--policy", default="always", help="pull image policy (always, missing, never, newer)")
    p.add_argument("--signature-policy", type=Path, help=argparse.SUPPRESS)  # hidden, as in Podman
    p.add_argument("--disable-content-trust", action="store_true", dest="noop_disable_content_trust",
                   help="This is a Docker specific option and is a NOOP")
    _add_registry_flags(p)


def _pull_options(args: argparse.Namespace) -> PullOptions:
    from sealpod.engine.entities import PullOptions

    if args.platform and (args.arch or args.os):
        raise InvalidArgument("--platform option can not be specified with --arch or --os")
    return PullOptions(registry=_registry_flags(args), platform=args.platform, os=args.os, arch=args.arch,
                       variant=args.variant, all_tags=args.all_tags, signature_policy=args.signature_policy)


def _run_pull(args: argparse.Namespace, ctx: CliContext) -> int:
    from sealpod.cli.progress import Progress
    from sealpod.cli.run_checks import check_authfile
    from sealpod.utils.record import replace

    check_authfile(args.authfile)
    progress = Progress()
    options = _pull_options(args)
    if not args.quiet:
        options = replace(options, progress=progress.blob)
    try:
        for name in args.images:
            report = _quiet if args.quiet else progress.line
            for image_id in ctx.engine.images.pull_with_policy(name, args.policy, options, report):
                progress.finish()
                sys.stdout.write(image_id + "\n")
    finally:
        progress.finish()
    return 0


# --- push ---------------------------------------------------------------------------------

def _setup_push(p: argparse.ArgumentParser) -> None:
    p.add_argument("image", metavar="IMAGE")
    p.add_argument("destination", nargs="?", metavar="DESTINATION")
    p.set_defaults(intermixed=True)  # "push IMAGE -q DESTINATION", as cobra takes it
    p.add_argument("-q", "--quiet", action="store_true", help="suppress output information when pushing")
    p.add_argument("--digestfile", type=Path, help="write the digest of the pushed image to this file")
    p.add_argument("--format", "-f", dest="manifest_format", help="manifest type (oci, v2s2) — kept as pulled")
    p.add_argument("--remove-signatures", action="store_true", help="discard any signatures")
    p.add_argument("--compression-format", help="compression format to use (gzip, zstd)")
    p.add_argument("--sign-by", help="add a signature at the destination using the specified key")
    p.add_argument("--signature-policy", type=Path, help=argparse.SUPPRESS)  # accepted, as in Podman
    p.add_argument("--compress", action="store_true",
                   help="Compress tarball image layers when pushing to a directory using the 'dir' transport. "
                        "(default is same compression type as source)")
    p.add_argument("--disable-content-trust", action="store_true", dest="noop_disable_content_trust",
                   help="This is a Docker specific option and is a NOOP")
    from sealpod.cli.sign_flags import add_sign_flags

    add_sign_flags(p)
    _add_registry_flags(p)


def _run_push(args: argparse.Namespace, ctx: CliContext) -> int:
    from sealpod.cli.progress import Progress
    from sealpod.cli.run_checks import check_authfile
    from sealpod.cli.sign_flags import signing_passphrase
    from sealpod.engine.entities import PushOptions

    check_authfile(args.authfile)
    signing_passphrase(args)  # read (and checked) before the push, as Podman; gpg reads it again to sign
    progress = Progress()
    key = args.sign_by_sigstore_private_key
    options = PushOptions(registry=_registry_flags(args), digest_file=args.digestfile,
                          progress=None if args.quiet else progress.blob, sign_by=args.sign_by or None,
                          remove_signatures=args.remove_signatures,
                          compression=args.compression_format or None, compress=args.compress,
                          sigstore_key=Path(key) if key else None,
                          sign_passphrase_file=Path(args.sign_passphrase_file) if args.sign_passphrase_file else None)
    try:
        ctx.engine.images.push(args.image, args.destination, options, _quiet if args.quiet else progress.line)
    finally:
        progress.finish()
    return 0


# --- images -------------------------------------------------------------------------------

_SORT_KEYS = ("created", "id", "repository", "size", "tag")


def _setup_list(p: argparse.ArgumentParser) -> None:
    p.add_argument("name", nargs="?", metavar="IMAGE", help="list only images matching this name")
    p.add_argument("-a", "--all", action="store_true", help="show all images (intermediate ones too)")
    p.add_argument("-q", "--quiet", action="store_true", help="display only image IDs")
    p.add_argument("--digests", action="store_true", help="show digests")
    p.add_argument("--no-trunc", action="store_true", help="do not truncate output")
    p.add_argument("-f", "--filter", action="append", default=[], help="filter output based on conditions")
    p.add_argument("--format", help="pretty-print images using a Go template")
    p.add_argument("--sort", default="created", help=f"sort by {', '.join(_SORT_KEYS)}")
    p.add_argument("-n", "--noheading", action="store_true", help="do not print column headings")
    p.add_argument("--history", action="store_true", help="display the image name history")


def _image_rows(images: list[ImageSummary], no_trunc: bool, sort: str) -> list[Any]:
    from sealpod.cli.image_rows import ImageRow

    rows = []
    for img in images:
        named = [ImageRow(img, name, no_trunc=no_trunc) for name in (img.names or [None])]
        # a name by digest (pulled as repo@sha256:...) shows only when the image has no tag at all
        tagged = [r for r in named if r.Tag != "<none>"]
        rows += tagged or named[:1]
    keys = {"created": lambda r: -r._image.created, "id": lambda r: r._image.id,
            "repository": lambda r: (r.Repository, r.Tag), "tag": lambda r: r.Tag,
            "size": lambda r: r._image.size}
    rows.sort(key=keys[sort])
    return rows


def _run_list(args: argparse.Namespace, ctx: CliContext) -> int:
    from sealpod.cli.formatting import render

    if args.sort not in _SORT_KEYS:
        raise InvalidArgument(f'"{args.sort}" is not a valid field for sorting. Choose from: '
                              "size, tag, created, id, repository")
    filters = list(args.filter) + ([f"reference={args.name}"] if args.name else [])
    images = ctx.engine.images.list_images(filters, all_images=args.all)
    if args.quiet:
        seen = dict.fromkeys((f"sha256:{i.id}" if args.no_trunc else i.id[:12])
                             for i in sorted(images, key=lambda i: -i.created))
        sys.stdout.write("".join(f"{i}\n" for i in seen))
        return 0
    rows = _image_rows(images, args.no_trunc, args.sort)
    digest = "{{.Digest}}\t" if args.digests else ""
    default = f"table {{{{.Repository}}}}\t{{{{.Tag}}}}\t{digest}{{{{.ID}}}}\t{{{{.Created}}}}\t{{{{.Size}}}}"
    if args.history:
        default += "\t{{.History}}"
    fmt = args.format or default
    out = render(fmt, rows, default=default, headers={"ID": "IMAGE ID"}, name="images", go_type="images.imageReporter",
                 noheading=args.noheading,
                 json_rows=lambda: [i.to_json() for i in sorted(images, key=lambda i: -i.created)])
    sys.stdout.write(out)
    return 0


# --- tag / untag --------------------------------------------------------------------------

def _setup_tag(p: argparse.ArgumentParser) -> None:
    p.add_argument("image", metavar="IMAGE")
    p.add_argument("targets", nargs="+", metavar="TARGET_NAME")


def _run_tag(args: argparse.Namespace, ctx: CliContext) -> int:
    ctx.engine.images.tag(args.image, args.targets)
    return 0


def _setup_untag(p: argparse.ArgumentParser) -> None:
    p.add_argument("image", metavar="IMAGE")
    p.add_argument("names", nargs="*", metavar="NAME")


def _run_untag(args: argparse.Namespace, ctx: CliContext) -> int:
    ctx.engine.images.untag(args.image, args.names)
    return 0


# --- rmi ----------------------------------------------------------------------------------

def _setup_remove(p: argparse.ArgumentParser) -> None:
    p.add_argument("images", nargs="*", metavar="IMAGE")
    p.add_argument("-a", "--all", action="store_true", help="remove all images")
    p.add_argument("-f", "--force", action="store_true", help="force removal of the image")
    p.add_argument("-i", "--ignore", action="store_true", help="ignore errors if an image does not exist")
    p.add_argument("--no-prune", action="store_true", help="do not remove dangling parent images")


def _run_remove(args: argparse.Namespace, ctx: CliContext) -> int:
    if not args.images and not args.all:
        raise InvalidArgument("image name or ID must be specified")
    if args.images and args.all:
        raise InvalidArgument("when using the --all switch, you may not pass any images names or IDs")
    report = ctx.engine.images.remove(args.images, force=args.force, all_images=args.all, ignore=args.ignore,
                                      no_prune=args.no_prune)
    for name in report.untagged:
        sys.stdout.write(f"Untagged: {name}\n")
    for image_id in report.deleted:
        sys.stdout.write(f"Deleted: {image_id}\n")
    if report.errors:
        last = report.errors[-1]
        if isinstance(last, ImageInUse):
            last.exit_code = 2
        elif isinstance(last, NoSuchImage):
            last.exit_code = 1
        if len(report.errors) > 1 and isinstance(last, SealpodError):  # Podman's multi-error, in one message
            items = "".join(f"\n\t* {e}" for e in report.errors)
            combined = type(last)(f"{len(report.errors)} errors occurred:{items}")
            combined.exit_code = last.exit_code
            raise combined
    return fail_with(report.errors)


# --- exists / prune / history -------------------------------------------------------------

def _setup_exists(p: argparse.ArgumentParser) -> None:
    p.add_argument("image", metavar="IMAGE")


def _run_exists(args: argparse.Namespace, ctx: CliContext) -> int:
    return 0 if ctx.engine.images.exists(args.image) else 1


def _setup_prune(p: argparse.ArgumentParser) -> None:
    p.add_argument("-a", "--all", action="store_true", help="remove all images not in use by containers")
    p.add_argument("-f", "--force", action="store_true", help="do not prompt for confirmation")
    p.add_argument("--filter", action="append", default=[], help="provide filter values (e.g. 'label=<key>=<value>')")
    p.add_argument("--external", action="store_true", help="remove images even when used by external containers")


def _run_prune(args: argparse.Namespace, ctx: CliContext) -> int:
    if not args.force:  # a prompt even when nobody answers: end of input is an error, as Podman's
        what = "all images not used by at least one container" if args.all else "all dangling images"
        if not confirm(f"WARNING! This command removes {what}.\n", eof_error=True):
            return 0
    for image_id in ctx.engine.images.prune(all_images=args.all, filters=args.filter,
                                                external=args.external):
        sys.stdout.write(image_id + "\n")
    return 0


def _setup_history(p: argparse.ArgumentParser) -> None:
    p.add_argument("image", metavar="IMAGE")
    # cobra's bool flag: "-qH IMAGE" and "--human=false", never a value in the next word
    p.add_argument("--human", nargs="?", const=True, default=True, type=parse_bool,
                   help="display sizes and dates in human readable format")
    p.add_argument("-H", dest="human", action="store_true", help=argparse.SUPPRESS)
    p.add_argument("--no-trunc", "--notruncate", dest="no_trunc", action="store_true", help="do not truncate")
    p.add_argument("-q", "--quiet", action="store_true", help="display only the numeric IDs")
    p.add_argument("--format", help="change the output to JSON or a Go template")


def _run_history(args: argparse.Namespace, ctx: CliContext) -> int:
    from sealpod.cli.formatting import render
    from sealpod.cli.image_rows import HistoryRow

    rows = [HistoryRow(e, no_trunc=args.no_trunc, human=args.human) for e in ctx.engine.images.history(args.image)]
    if args.quiet:
        sys.stdout.write("".join(f"{r.ID}\n" for r in rows))
        return 0
    default = "table {{.ID}}\t{{.Created}}\t{{.CreatedBy}}\t{{.Size}}\t{{.Comment}}"
    out = render(args.format, rows, default=default, name="history", go_type="images.historyReporter",
                 json_rows=lambda: [r.to_json() for r in rows], json_indent=None)
    sys.stdout.write(out)
    return 0


# --- inspect ------------------------------------------------------------------------------

def _setup_inspect(p: argparse.ArgumentParser) -> None:
    p.add_argument("names", nargs="+", metavar="NAME")
    p.add_argument("-f", "--format", help="format the output using a Go template or json")
    p.add_argument("-s", "--size", action="store_true", help="display the total file size (containers)")






def _run_inspect(args: argparse.Namespace, ctx: CliContext) -> int:
    from sealpod.cli.inspect import inspect_each

    return inspect_each(args.names, ctx.engine.images.inspect, args.format, prefix="inspecting object: ", images=True)


def _setup_tree(p: argparse.ArgumentParser) -> None:
    p.add_argument("name", metavar="IMAGE")
    p.add_argument("--whatrequires", action="store_true",
                   help="Show all child images and layers of the specified image")


def _run_tree(args: argparse.Namespace, ctx: CliContext) -> int:
    sys.stdout.write(ctx.engine.images.tree(args.name, whatrequires=args.whatrequires) + "\n")
    return 0


# --- mount / unmount ----------------------------------------------------------------------

def _setup_mount(p: argparse.ArgumentParser) -> None:
    p.add_argument("images", nargs="*", metavar="IMAGE")
    p.add_argument("-a", "--all", action="store_true", help="mount all images")
    p.add_argument("--format", default="", help="print the mounted images in specified format (json)")


def _run_mount(args: argparse.Namespace, ctx: CliContext) -> int:
    import os

    if args.format not in ("", "json"):
        raise InvalidArgument(f'unknown --format argument: "{args.format}"')
    in_userns = os.geteuid() == 0  # before the engine joins the user's namespace on its own
    mounts = ctx.engine.images.mounts
    if args.images or args.all:
        reports = mounts.mount(args.images, all_images=args.all, in_userns=in_userns)
        if len(args.images) == 1 and not args.format:
            sys.stdout.write(reports[0].mountpoint + "\n")
            return 0
    else:
        reports = mounts.mounted(in_userns=in_userns)
    if args.format == "json":
        import json

        sys.stdout.write(json.dumps([r.to_json() for r in reports], indent=1) + "\n")
        return 0
    names = [r.repositories[0] if r.repositories else r.id for r in reports]
    width = max((len(n) for n in names), default=0)
    sys.stdout.write("".join(f"{n:<{width}}  {r.mountpoint}\n" for n, r in zip(names, reports, strict=True)))
    return 0


def _setup_unmount(p: argparse.ArgumentParser) -> None:
    p.add_argument("images", nargs="*", metavar="IMAGE")
    p.add_argument("-a", "--all", action="store_true", help="unmount all of the currently mounted images")
    p.add_argument("-f", "--force", action="store_true", help="force the complete unmount of the specified images")


def _run_unmount(args: argparse.Namespace, ctx: CliContext) -> int:
    done = ctx.engine.images.mounts.unmount(args.images, all_images=args.all, force=args.force)
    sys.stdout.write("".join(f"{image_id}\n" for image_id in done))
    return 0


# --- login / logout / search --------------------------------------------------------------

def _setup_login(p: argparse.ArgumentParser) -> None:
    p.add_argument("registry", nargs="?", metavar="REGISTRY")
    p.add_argument("-u", "--username", help="username for the registry")
    p.add_argument("-p", "--password", help="password for the registry")
    p.add_argument("--password-stdin", action="store_true", help="take the password from stdin")
    p.add_argument("--get-login", action="store_true", help="return the current login user for the registry")
    p.add_argument("-v", "--verbose", action="store_true", help="write the auth file path used")
    _add_registry_flags(p, creds=False)


def _prompt_credentials(args: argparse.Namespace) -> tuple[str, str]:
    username, password = args.username, args.password
    if args.password_stdin:
        if password:
            raise InvalidArgument("--password and --password-stdin are mutually exclusive")
        password = sys.stdin.readline().rstrip("\n")
    if username is None or password is None:
        if not sys.stdin.isatty():
            raise InvalidArgument("username and password are required without a terminal "
                                  "(use --username and --password or --password-stdin)")
        import getpass

        if username is None:
            sys.stdout.write("Username: ")
            sys.stdout.flush()
            username = sys.stdin.readline().strip()
        if password is None:
            password = getpass.getpass("Password: ")
    if not username:
        raise InvalidArgument("username is required")
    return username, password


def _default_registry(ctx: CliContext) -> str:
    """Without a REGISTRY argument, login and logout use the first unqualified-search registry, as Podman does."""
    search = ctx.engine.registries.unqualified_search_registries
    if not search:
        raise InvalidArgument("no registries found in registries.conf, a registry must be provided")
    return search[0]


def _run_login(args: argparse.Namespace, ctx: CliContext) -> int:
    if not args.registry:
        args.registry = _default_registry(ctx)
    if args.get_login:
        sys.stdout.write(ctx.engine.images.login_user(args.registry, args.authfile) + "\n")
        return 0
    username, password = _prompt_credentials(args)
    path = ctx.engine.images.login(args.registry, username, password, _registry_flags(args))
    if args.verbose:
        sys.stdout.write(f"Used: {path}\n")
    sys.stdout.write("Login Succeeded!\n")
    return 0


def _setup_logout(p: argparse.ArgumentParser) -> None:
    p.add_argument("registry", nargs="?", metavar="REGISTRY")
    p.add_argument("-a", "--all", action="store_true", help="remove the cached credentials for all registries")
    p.add_argument("--authfile", type=Path, help="path of the authentication file")


def _run_logout(args: argparse.Namespace, ctx: CliContext) -> int:
    from sealpod.engine.entities import RegistryFlags

    if args.authfile is not None and not args.authfile.exists():
        raise InvalidArgument(f"checking authfile: stat {args.authfile}: no such file or directory")
    if not args.registry and not args.all:
        args.registry = _default_registry(ctx)
    ctx.engine.images.logout(args.registry, RegistryFlags(auth_file=args.authfile), args.all)
    if args.all:
        sys.stdout.write("Removed login credentials for all registries\n")
    else:
        from sealpod.engine.image_transfer import auth_key

        sys.stdout.write(f"Removed login credentials for {auth_key(args.registry)}\n")
    return 0


def _setup_search(p: argparse.ArgumentParser) -> None:
    p.add_argument("term", metavar="TERM")
    p.add_argument("--limit", type=int, default=25, help="limit the number of results")
    p.add_argument("--format", help="change the output format to JSON or a Go template")
    p.add_argument("--no-trunc", action="store_true", help="do not truncate the output")
    p.add_argument("--list-tags", action="store_true", help="list the tags of the image")
    p.add_argument("-f", "--filter", action="append", default=[], help="filter output based on conditions")
    p.add_argument("--compatible", action="store_true",
                   help="list stars, official and automated columns (Docker compatibility)")
    _add_registry_flags(p)


def _search_filter(specs: list[str]) -> Callable[[SearchResult], bool]:
    """``--filter stars=N``, ``is-official[=BOOL]``, ``is-automated[=BOOL]``, checked as Podman does."""
    stars, wanted = 0, dict[str, bool]()
    for spec in specs:
        key, _, value = spec.partition("=")
        if key == "stars":
            if not value.lstrip("-").isdigit():
                raise InvalidArgument(f'incorrect value type for stars filter: strconv.Atoi: parsing "{value}": '
                                      "invalid syntax")
            stars = int(value)
        elif key in ("is-official", "is-automated"):
            try:
                wanted[key] = parse_bool(value) if value else True
            except argparse.ArgumentTypeError:  # Podman lets a bad value through as true
                wanted[key] = True
        else:
            raise InvalidArgument(f'invalid filter type "{spec}"')

    def keep(r: SearchResult) -> bool:
        return r.stars >= stars and all(
            (r.official if key == "is-official" else r.automated) == ("[OK]" if want else "")
            for key, want in wanted.items())
    return keep


def _run_search(args: argparse.Namespace, ctx: CliContext) -> int:
    from sealpod.cli.formatting import render
    from sealpod.cli.run_checks import check_authfile
    from sealpod.engine.entities import PullOptions

    check_authfile(args.authfile)
    if args.list_tags and args.filter:
        raise InvalidArgument("filters are not applicable to list tags result")
    options = PullOptions(registry=_registry_flags(args))
    if args.list_tags:
        rows: list[Any] = [{"Name": name, "Tag": tag}
                           for name, tag in ctx.engine.images.list_tags(args.term, options)][:args.limit]
        default = "table {{.Name}}\t{{.Tag}}"
    else:
        keep = _search_filter(args.filter)
        rows = [{"Index": r.index, "Name": r.name, "Description": r.description, "Stars": r.stars,
                 "Official": r.official, "Automated": r.automated, "Tag": r.tag}
                for r in ctx.engine.images.search(args.term, options, args.limit) if keep(r)]
        default = "table {{.Name}}\t{{.Description}}" + (
            "\t{{.Stars}}\t{{.Official}}\t{{.Automated}}" if args.compatible else "")
    if rows:  # no match: no output at all, not even a heading, as Podman
        sys.stdout.write(render(args.format, rows, default=default, name="search"))
    return 0


# --- save / load --------------------------------------------------------------------------

def _setup_save(p: argparse.ArgumentParser) -> None:
    p.add_argument("images", nargs="+", metavar="IMAGE")
    p.add_argument("-o", "--output", help="write to a file (default: STDOUT)")
    p.add_argument("--format", default="docker-archive",
                   help="docker-archive, oci-archive, oci-dir (a directory), docker-dir")
    p.add_argument("-m", "--multi-image-archive", action="store_true", help="allow several images in one archive")
    p.add_argument("--compress", action="store_true",
                   help="keep layers compressed when saving to a directory (docker-dir)")
    p.add_argument("-q", "--quiet", action="store_true", help="suppress the output")
    p.add_argument("--uncompressed", action="store_true", help="accept uncompressed layers when copying OCI images")
    p.add_argument("--signature-policy", type=Path, help=argparse.SUPPRESS)  # accepted, as in Podman


def _run_save(args: argparse.Namespace, ctx: CliContext) -> int:
    if args.compress and args.format != "docker-dir":
        raise InvalidArgument("--compress can only be set when --format is 'docker-dir'")
    if args.output and ":" in args.output:  # Podman's check: a colon would read as a transport reference
        raise InvalidArgument(f'invalid filename (should not contain \':\') "{args.output}"')
    if len(args.images) > 1 and not args.multi_image_archive and args.format != "docker-archive":
        raise InvalidArgument("--multi-image-archive (-m) is needed to save several images")
    report = _quiet if args.quiet or not args.output else _stderr
    if args.format.endswith("-dir"):
        if not args.output:
            raise InvalidArgument(f"--format {args.format} needs a directory: use -o DIR")
        ctx.engine.images.save(args.images, directory=Path(args.output), fmt=args.format, report=report,
                               uncompressed=args.uncompressed, compress=args.compress)
        return 0
    if not args.output:
        if sys.stdout.isatty():
            raise InvalidArgument("refusing to save to terminal. Use -o flag or redirect")
        ctx.engine.images.save(args.images, out=sys.stdout.buffer, fmt=args.format, report=report,
                               uncompressed=args.uncompressed)
        return 0
    tmp = Path(args.output + ".partial")
    try:
        with open(tmp, "wb") as f:
            ctx.engine.images.save(args.images, out=f, fmt=args.format, report=report, where=args.output,
                                   uncompressed=args.uncompressed)
        tmp.replace(args.output)
    finally:
        tmp.unlink(missing_ok=True)
    return 0


def _setup_load(p: argparse.ArgumentParser) -> None:
    p.add_argument("-i", "--input", help="read from a file (default: STDIN)")
    p.add_argument("-q", "--quiet", action="store_true", help="suppress the progress output")
    p.add_argument("--signature-policy", type=Path, help=argparse.SUPPRESS)  # hidden, as in Podman


def _run_load(args: argparse.Namespace, ctx: CliContext) -> int:
    report = _quiet if args.quiet else _stderr
    if args.input and args.input.startswith(("http://", "https://")):
        loaded = ctx.engine.images.load_url(args.input, report)
    elif args.input and os.path.isdir(args.input):
        loaded = ctx.engine.images.load_directory(args.input, report)
    elif args.input:
        try:
            with open(args.input, "rb") as f:
                loaded = ctx.engine.images.load(f, report, args.signature_policy)
        except FileNotFoundError as e:
            raise InvalidArgument(f"stat {args.input}: no such file or directory") from e
    else:
        if sys.stdin.isatty():
            raise InvalidArgument("cannot read from terminal, use command-line redirection or the --input flag")
        loaded = ctx.engine.images.load(sys.stdin.buffer, report, args.signature_policy)
    sys.stdout.write("".join(f"Loaded image: {name}\n" for name in loaded))  # one line per name, as Podman 4.3
    return 0


COMMANDS: dict[str, Command] = {
    "save": Command("Save image(s) to an archive", _setup_save, _run_save),
    "load": Command("Load image(s) from a tar archive", _setup_load, _run_load),
    "pull": Command("Pull an image from a registry", _setup_pull, _run_pull),
    "push": Command("Push an image to a specified destination", _setup_push, _run_push),
    "list": Command("List images in local storage", _setup_list, _run_list),
    "tag": Command("Add an additional name to a local image", _setup_tag, _run_tag),
    "untag": Command("Remove a name from a local image", _setup_untag, _run_untag),
    "remove": Command("Remove one or more images from local storage", _setup_remove, _run_remove),
    "exists": Command("Check if an image exists in local storage", _setup_exists, _run_exists),
    "prune": Command("Remove unused images", _setup_prune, _run_prune),
    "history": Command("Show history of a specified image", _setup_history, _run_history),
    "inspect": Command("Display the configuration of an image", _setup_inspect, _run_inspect),
    "tree": Command("Prints layer hierarchy of an image in a tree format", _setup_tree, _run_tree),
    "mount": Command("Mount an image's root filesystem", _setup_mount, _run_mount),
    "unmount": Command("Unmount an image's root filesystem", _setup_unmount, _run_unmount),
    "login": Command("Log in to a container registry", _setup_login, _run_login),
    "logout": Command("Log out of a container registry", _setup_logout, _run_logout),
    "search": Command("Search registry for image", _setup_search, _run_search),
}
