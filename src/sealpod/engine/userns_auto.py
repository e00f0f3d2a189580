"""How many ids ``--userns=auto`` (without ``size=``) gives a container: enough for its ``--user``
and for the users its image knows, as containers/storage sizes Podman's automatic namespaces.

The image's part is the largest uid or gid in its ``/etc/passwd`` (``nobody`` aside) and the
largest owner of any file in its layers (plus one); the whole is at least storage.conf's
``auto-userns-min-size`` (1024) and at most its ``auto-userns-max-size`` (65536), beyond which
create fails rather than give the container a namespace its users do not fit.  An explicit
``size=`` is taken as given, as containers/storage takes it.
"""

from __future__ import annotations

import os
from pathlib import Path

from sealpod.errors import InvalidArgument

TYPE_CHECKING = False  # typing costs ~2 ms of every command's start-up; only type checkers need it
if TYPE_CHECKING:
    from sealpod.engine import Engine
    from sealpod.storage.records import ImageRecord

NOBODY = 65534  # nobody / nogroup: counting them would give most images 65535 ids


def auto_size(engine: Engine, user: str, image: ImageRecord | None) -> int:
    """The size of the automatic range: the ``--user`` ids (the larger, plus one), the usual
    minimum, and the image's users; too big a need is refused in Podman's words."""
    storage = engine.config.storage
    ids = [int(part) for part in user.split(":") if part.isdigit()]
    size = max([storage.auto_userns_min_size, *(i + 1 for i in ids)])
    if image is not None:
        size = max(size, image_ids_size(engine, image))
    if size > storage.auto_userns_max_size:
        raise InvalidArgument(f"creating container storage: the container needs a user namespace with size "
                              f"{_go_quote(size)} that is bigger than the maximum value allowed with userns=auto "
                              f"{_go_quote(storage.auto_userns_max_size)}")
    return size


def image_ids_size(engine: Engine, image: ImageRecord) -> int:
    """The ids the image needs: its layers' file owners (largest, plus one) and its passwd's users."""
    dirs = [engine.store.layer_diff_path(layer) for layer in image.layers]
    size = max((_max_owner(d) + 1 for d in dirs), default=0)
    return max(size, _passwd_size(_top_file(dirs, "etc/passwd")))


def _max_owner(top: Path) -> int:
    """The largest uid or gid owning anything below ``top`` (-1 for an empty or missing layer)."""
    found = -1
    for root, dirs, files in os.walk(top):
        for name in (*dirs, *files):
            try:
                st = os.lstat(os.path.join(root, name))
            except OSError:
                continue
            found = max(found, st.st_uid, st.st_gid)
    return found


def _top_file(dirs: list[Path], rel: str) -> str | None:
    """The file as the image shows it: from the uppermost layer that has (or deletes) it."""
    for d in reversed(dirs):
        path = d / rel
        if path.is_symlink() or path.exists():
            if not path.is_file():
                return None  # a whiteout, or something else than a file
            try:
                return path.read_text(encoding="utf-8", errors="replace")
            except OSError:
                return None
        if (path.parent / f".wh.{path.name}").exists():
            return None
    return None


def _passwd_size(text: str | None) -> int:
    """The largest uid or gid of the passwd entries, ``nobody`` aside (counted as Podman counts it:
    the id itself, not one more)."""
    from sealpod.runtime.etcfiles import parse_passwd

    size = 0
    for entry in parse_passwd(text):
        if entry.name == "nobody":
            continue
        if entry.uid != NOBODY:
            size = max(size, entry.uid)
        if entry.gid != NOBODY:
            size = max(size, entry.gid)
    return size


def _go_quote(value: int) -> str:
    """Go's ``%q`` of an integer: the character of that code point, quoted (Podman's message shows the
    sizes so); one that is not printable is escaped, and one beyond Unicode is the replacement character."""
    if value > 0x10FFFF or 0xD800 <= value <= 0xDFFF:
        return "'\ufffd'"
    char = chr(value)
    if char.isprintable():
        return f"'{char}'"
    return f"'\\u{value:04x}'" if value < 0x10000 else f"'\\U{value:08x}'"
