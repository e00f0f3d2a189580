"""``image trust show|set`` and ``image sign``: the policy.json editor and the signer, as in Podman 4.3."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from sealpod.cli.context import CliContext, Command

TYPE_CHECKING = False  # typing costs ~2 ms of every command's start-up; only type checkers need it
if TYPE_CHECKING:
    from sealpod.engine.trust import TrustRow


def _setup_show(p: argparse.ArgumentParser) -> None:
    p.add_argument("registry", nargs="?", metavar="REGISTRY")
    p.add_argument("-j", "--json", action="store_true", help="output as json")
    p.add_argument("-n", "--noheading", action="store_true", help="do not print column headings")
    p.add_argument("--raw", action="store_true", help="output raw policy file")
    p.add_argument("--policypath", type=Path, help=argparse.SUPPRESS)
    p.add_argument("--registrypath", type=Path, help=argparse.SUPPRESS)


def _table(rows: list[TrustRow], heading: bool) -> str:
    from sealpod.cli.formatting import tabwrite

    lines = ["TRANSPORT\tNAME\tTYPE\tID\tSTORE"] if heading else []
    lines += [f"{r.transport}\t{r.repo_name}\t{r.type}\t{r.gpg_id}\t{r.sigstore}" for r in rows]
    return tabwrite("\n".join(lines)) + "\n"


def _run_show(args: argparse.Namespace, ctx: CliContext) -> int:
    trust = ctx.engine.trust
    if args.raw:
        sys.stdout.write(trust.raw(args.policypath) + "\n")  # Podman prints the file, then a newline
        return 0
    rows = trust.show(args.policypath, args.registrypath)
    if args.registry:
        rows = [r for r in rows if r.repo_name == args.registry]
    if args.json:
        import json

        sys.stdout.write(json.dumps([r.to_json() for r in rows], indent=2) + "\n")
        return 0
    sys.stdout.write(_table(rows, not args.noheading))
    return 0


def _setup_set(p: argparse.ArgumentParser) -> None:
    p.add_argument("scope", metavar="REGISTRY")
    p.add_argument("-t", "--type", default="signedBy", dest="trust_type",
                   help="trust type, accept values: signedBy(default), accept, reject")
    p.add_argument("-f", "--pubkeysfile", action="append", default=[], type=Path,
                   help="path of installed public key(s) to trust for TARGET")
    p.add_argument("--policypath", type=Path, help=argparse.SUPPRESS)


def _run_set(args: argparse.Namespace, ctx: CliContext) -> int:
    ctx.engine.trust.set(args.scope, args.trust_type, args.pubkeysfile, args.policypath)
    return 0


def _setup_sign(p: argparse.ArgumentParser) -> None:
    p.add_argument("images", nargs="+", metavar="IMAGE")
    p.add_argument("-a", "--all", action="store_true", help="sign all the manifests of the multi-architecture image")
    p.add_argument("--authfile", type=Path, help="path of the authentication file")
    p.add_argument("--cert-dir", type=Path, help="pathname of a directory containing TLS certificates and keys")
    p.add_argument("-d", "--directory", type=Path, help="define an alternate directory to store signatures")
    p.add_argument("--sign-by", default="", help="name of the signing key")


def _run_sign(args: argparse.Namespace, ctx: CliContext) -> int:
    from sealpod.engine.entities import RegistryFlags

    flags = RegistryFlags(cert_dir=args.cert_dir, auth_file=args.authfile)
    ctx.engine.trust.sign(args.images, args.sign_by, args.directory, flags, args.all)
    return 0


COMMANDS: dict[str, Command] = {
    "trust show": Command("Display trust policy for the system", _setup_show, _run_show),
    "trust set": Command("Set default trust policy or a new trust policy for a registry", _setup_set, _run_set),
    "sign": Command("Sign an image", _setup_sign, _run_sign),
}
