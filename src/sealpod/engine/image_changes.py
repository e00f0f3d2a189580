"""``--change`` instructions (``CMD [...]``, ``ENV K=V``, ``LABEL``, ...) applied to an image config,
as ``commit`` and ``import`` take them."""

from __future__ import annotations

import json
from collections.abc import Sequence

from sealpod.errors import InvalidArgument

TYPE_CHECKING = False  # typing costs ~2 ms of every command's start-up; only type checkers need it
if TYPE_CHECKING:
    from typing import Any

_CHANGE_KEYS = {"CMD": "Cmd", "ENTRYPOINT": "Entrypoint", "ENV": "Env", "LABEL": "Labels", "USER": "User",
                "WORKDIR": "WorkingDir", "EXPOSE": "ExposedPorts", "VOLUME": "Volumes", "STOPSIGNAL": "StopSignal",
                "ONBUILD": "OnBuild"}


def apply_changes(config: dict[str, Any], changes: Sequence[str]) -> dict[str, Any]:
    """Apply ``--change`` instructions (``CMD [...]``, ``ENV K=V``, ``LABEL``, …) to an image config."""
    out = dict(config)
    for raw in changes:
        text = raw.strip()
        cut = min((i for i in (text.find(" "), text.find("=")) if i > 0), default=-1)
        if cut < 0:
            raise InvalidArgument(f"invalid change {raw!r}: expected INSTRUCTION VALUE")
        word, value = text[:cut].upper(), text[cut + 1 :].strip()
        key = _CHANGE_KEYS.get(word)
        if key is None:
            raise InvalidArgument(f'{word} is not a valid option for --change: valid options are '
                                  f'{", ".join(sorted(_CHANGE_KEYS))}')
        out[key] = _change_value(word, value, out.get(key))
    return out


def _change_value(word: str, value: str, current: Any) -> Any:
    if word in ("CMD", "ENTRYPOINT", "ONBUILD", "VOLUME"):
        parsed: Any = None
        if value.startswith("["):
            try:
                parsed = json.loads(value)
            except ValueError:
                parsed = None
        if word == "VOLUME":
            vols = parsed if isinstance(parsed, list) else value.split()
            return {**(current or {}), **{str(v): {} for v in vols}}
        if word == "ONBUILD":
            return [*(current or []), value]
        return [str(x) for x in parsed] if isinstance(parsed, list) else ["/bin/sh", "-c", value]
    if word == "ENV":
        key, sep, val = value.partition("=")
        if not sep:
            key, _, val = value.partition(" ")
        env = [e for e in (current or []) if e.partition("=")[0] != key.strip()]
        return [*env, f"{key.strip()}={val.strip()}"]
    if word == "LABEL":
        key, sep, val = value.partition("=")
        if not sep:
            key, _, val = value.partition(" ")
        return {**(current or {}), key.strip(): val.strip().strip('"')}
    if word == "EXPOSE":
        ports: dict[str, Any] = {p if "/" in p else f"{p}/tcp": {} for p in value.split()}
        return {**(current or {}), **ports}
    return value
