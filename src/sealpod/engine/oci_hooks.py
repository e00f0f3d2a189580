"""OCI hooks from hooks directories (``--hooks-dir``, containers.conf's ``hooks_dir``), as
oci-hooks(5) describes them: JSON files naming a program, the stages it runs at and the
containers it applies to.  Both schemas are read: 1.0.0 (``version``, ``hook``, ``when``,
``stages``) and the older 0.1.0 (``hook`` a path, ``cmd``/``cmds``, ``stage``/``stages``,
``annotation``/``annotations``, ``hasbindmounts``).  The runtime runs the hooks: they go into
``config.json``, so this module only decides which ones and in what order (by file name, a
later directory's file replacing an earlier one of the same name)."""

from __future__ import annotations

import json
import os
import re

from sealpod.errors import ConfigError

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence
    from typing import Any

STAGES = ("prestart", "createRuntime", "createContainer", "startContainer", "poststart", "poststop")
#: Read besides the configured directories when those are the default (Podman reads both).
DEFAULT_DIRS = ("/usr/share/containers/oci/hooks.d", "/etc/containers/oci/hooks.d")


class Hook:
    """One hook file: the runtime's hook entry, its stages and the conditions that select it."""

    def __init__(self, entry: dict[str, Any], stages: list[str], when: dict[str, Any]) -> None:
        self.entry = entry
        self.stages = stages
        self.when = when

    def applies(self, command: Sequence[str], annotations: Mapping[str, str], has_binds: bool) -> bool:
        """Any true condition selects the hook (oci-hooks(5): the conditions are OR'd)."""
        when = self.when
        if when.get("always"):
            return True
        if when.get("hasBindMounts") and has_binds:
            return True
        if command and any(re.search(rx, command[0]) for rx in when.get("commands") or ()):
            return True
        for key_rx, value_rx in (when.get("annotations") or {}).items():
            if any(re.search(key_rx, k) and re.search(value_rx, v) for k, v in annotations.items()):
                return True
        return any(re.search(rx, k) or re.search(rx, v) for rx in when.get("annotation_any") or ()
                   for k, v in annotations.items())


def _legacy(doc: dict[str, Any], path: str) -> Hook:
    """The 0.1.0 schema: ``hook`` is the program, ``arguments`` its arguments."""
    program = doc.get("hook")
    if not isinstance(program, str) or not program:
        raise ConfigError(f"{path}: missing required property: hook")
    entry: dict[str, Any] = {"path": program, "args": [program, *[str(a) for a in doc.get("arguments") or ()]]}
    stages = [*(doc.get("stage") or ()), *(doc.get("stages") or ())]
    commands = [*(doc.get("cmd") or ()), *(doc.get("cmds") or ())]
    loose = [*(doc.get("annotation") or ()), *(doc.get("annotations") or ())]  # matched by key or by value
    when: dict[str, Any] = {"commands": commands, "annotation_any": loose,
                            "hasBindMounts": bool(doc.get("hasbindmounts"))}
    return Hook(entry, stages, when)


def _current(doc: dict[str, Any], path: str) -> Hook:
    hook = doc.get("hook")
    if not isinstance(hook, dict) or not hook.get("path"):
        raise ConfigError(f"{path}: missing required property: hook.path")
    entry = {k: hook[k] for k in ("path", "args", "env", "timeout") if k in hook}
    when = doc.get("when") or {}
    if not isinstance(when, dict) or not any(when.get(k) for k in ("always", "annotations", "commands",
                                                                   "hasBindMounts")):
        raise ConfigError(f"{path}: when: at least one condition is required")
    return Hook(entry, list(doc.get("stages") or ()), when)


def load_hook(path: str) -> Hook:
    try:
        with open(path, encoding="utf-8") as f:
            doc = json.load(f)
    except (OSError, ValueError) as e:
        raise ConfigError(f"reading hook {path}: {e}") from e
    if not isinstance(doc, dict):
        raise ConfigError(f"{path}: a hook is a JSON object")
    hook = _current(doc, path) if doc.get("version") == "1.0.0" else _legacy(doc, path)
    bad = [s for s in hook.stages if s not in STAGES]
    if not hook.stages or bad:
        raise ConfigError(f"{path}: unknown stage {bad[0]!r}" if bad else f"{path}: missing required property: stages")
    when = hook.when
    for rx in [*(when.get("commands") or ()), *(when.get("annotation_any") or ()),
               *(x for pair in (when.get("annotations") or {}).items() for x in pair)]:
        try:
            re.compile(rx)
        except re.error as e:
            raise ConfigError(f"{path}: invalid regular expression {rx!r}: {e}") from e
    return hook


def hook_files(dirs: Sequence[str]) -> list[str]:
    """The hook files of ``dirs``, in name order; a later directory's file wins over an earlier one's."""
    by_name: dict[str, str] = {}
    for d in dirs:
        try:
            names = os.listdir(d)
        except OSError:
            continue  # a directory that does not exist holds no hooks
        for name in names:
            if name.endswith(".json"):
                by_name[name] = os.path.join(d, name)
    return [by_name[n] for n in sorted(by_name)]


def hooks_for(dirs: Sequence[str], command: Sequence[str], annotations: Mapping[str, str],
              has_binds: bool) -> dict[str, tuple[dict[str, Any], ...]]:
    """The ``hooks`` of config.json for a container with this command, annotations and mounts."""
    if tuple(dirs) == DEFAULT_DIRS[:1]:
        dirs = DEFAULT_DIRS
    out: dict[str, list[dict[str, Any]]] = {}
    for path in hook_files(dirs):
        hook = load_hook(path)
        if hook.applies(command, annotations, has_binds):
            for stage in hook.stages:
                out.setdefault(stage, []).append(hook.entry)
    return {stage: tuple(entries) for stage, entries in out.items()}
