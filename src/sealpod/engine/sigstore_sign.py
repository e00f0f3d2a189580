"""``push --sign-by-sigstore-private-key``: accepted, refused when used.

Podman 4.3.1 signs with a cosign-format private key and stores the signature as a sigstore
attachment.  sealpod does not make sigstore signatures (Debian's own Podman build has them
disabled too), so a push asking for one fails before anything is written, in one line, worded
as Podman words the same failure: a destination with no registry name cannot be signed at all,
an unreadable key is named with the reason, and a readable one is refused plainly.
"""

from __future__ import annotations

import os
from pathlib import Path

from sealpod.errors import ImageTransportError, SignatureError


def refuse_sigstore(key: Path, transport: str | None, destination: str | None) -> None:
    """Raise the error a push with ``--sign-by-sigstore-private-key key`` ends in; ``transport``:
    the destination's (None or "docker" for a registry)."""
    if transport not in (None, "docker"):  # a signature names the image by its registry reference
        raise ImageTransportError(f"Cannot determine canonical Docker reference for destination {destination}")
    if key.is_dir():  # Go opens a directory and fails reading it
        raise SignatureError(f"creating signature: reading private key from {key}: read {key}: is a directory")
    try:
        with open(key, "rb"):
            pass
    except OSError as e:
        reason = os.strerror(e.errno).lower() if e.errno else str(e)
        raise SignatureError(f"creating signature: reading private key from {key}: open {key}: {reason}") from None
    raise SignatureError("creating signature: signing with a sigstore private key is not supported")
