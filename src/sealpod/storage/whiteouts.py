"""How a storage driver wants deletions in a layer to be represented on disk."""

from __future__ import annotations

import enum


class WhiteoutFormat(enum.StrEnum):
    OVERLAY = "overlay"  # 0:0 character devices and the trusted.overlay.opaque xattr, for overlayfs
    VFS = "vfs"  # deletions applied to a full copy of the parent
