"""The signing flags ``push`` and ``manifest push`` share with Podman 4.3.1, and its checks of them.

``--sign-passphrase-file`` is read before anything is pushed, whether or not a key is given, as
Podman reads it; the sigstore key itself is judged by the engine when the push uses it.
"""

from __future__ import annotations

import argparse
import os

from sealpod.errors import InvalidArgument


def add_sign_flags(p: argparse.ArgumentParser) -> None:
    """Podman's two sigstore-era flags, with its help words."""
    p.add_argument("--sign-by-sigstore-private-key", default="", metavar="PATH",
                   help="Sign the image using a sigstore private key at PATH")
    p.add_argument("--sign-passphrase-file", default="", metavar="PATH",
                   help="Read a passphrase for signing an image from PATH")


def signing_passphrase(args: argparse.Namespace) -> str | None:
    """The passphrase file's first line (as gpg reads one), None without the flag; refusals in
    Podman's words."""
    path = args.sign_passphrase_file
    if path and args.sign_by and args.sign_by_sigstore_private_key:
        raise InvalidArgument("only one of --sign-by and sign-by-sigstore-private-key can be used with "
                              "--sign-passphrase-file")
    if not path:
        return None
    try:
        f = open(path, "rb")
    except IsADirectoryError:
        raise InvalidArgument(f"reading passphrase file: read {path}: is a directory") from None
    except OSError as e:
        reason = os.strerror(e.errno).lower() if e.errno else str(e)
        raise InvalidArgument(f"open {path}: {reason}") from None
    with f:
        return f.readline().decode(errors="replace").removesuffix("\n")
