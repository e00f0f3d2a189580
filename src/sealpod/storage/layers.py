"""Layer identity: chain IDs, as the OCI image spec defines them."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence


def chain_ids(diff_ids: Sequence[str]) -> list[str]:
    """Chain IDs (hex, no algorithm prefix) for a bottom-first list of diff IDs.

    A layer's content on disk depends on every layer below it (whiteouts, vfs copies),
    so a layer is stored once per chain ID, not per diff ID.
    """
    out: list[str] = []
    chain = ""
    for diff_id in diff_ids:
        chain = diff_id if not chain else "sha256:" + hashlib.sha256(f"{chain} {diff_id}".encode()).hexdigest()
        out.append(chain.removeprefix("sha256:"))
    return out
