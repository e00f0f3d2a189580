"""``container runlabel``: run the command an image carries in a label (RUN, INSTALL, UNINSTALL...).

Images such as atomic-style system containers ship their own install/run command lines; the label's
``$IMAGE``, ``$NAME``, ``$OPT1``..``$OPT3`` and environment variables are filled in here, and a
leading ``podman``/``docker`` becomes this sealpod, so the label runs with the same store.
"""

from __future__ import annotations

import os
import re

from sealpod.errors import NotFound
from sealpod.utils.record import dataclass

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence

    from sealpod.engine import Engine

_VARIABLE = re.compile(r"\$\{([^}]*)\}|\$([A-Za-z0-9_]+)")
_ENGINES = frozenset({"podman", "/usr/bin/podman", "docker", "/usr/bin/docker", "sealpod", "/usr/bin/sealpod"})


@dataclass(frozen=True)
class LabelCommand:
    """The command line a label expands to, and the container name and image it names."""

    argv: tuple[str, ...]
    name: str
    image: str


def label_value(labels: Mapping[str, str] | None, label: str) -> str | None:
    """The label's value; names match regardless of case (``install`` finds ``INSTALL``)."""
    labels = labels or {}
    if label in labels:
        return labels[label]
    return next((v for k, v in labels.items() if k.lower() == label.lower()), None)


def image_name_for(names: Sequence[str], typed: str, image_id: str) -> str:
    """The stored name the user meant (``x`` -> ``localhost/x:latest``), else the first, else the ID."""
    tagged = typed if ("@" in typed or ":" in typed.rsplit("/", 1)[-1]) else f"{typed}:latest"
    for name in names:
        if name in (typed, tagged) or name.endswith("/" + tagged):
            return name
    return names[0] if names else image_id


def default_name(image: str) -> str:
    """``localhost/runlabel_image:latest`` -> ``runlabel_image``: the repository's last part, untagged."""
    last = image.split("@", 1)[0].rsplit("/", 1)[-1]
    return last.split(":", 1)[0]


def expand(template: str, values: Mapping[str, str], env: Mapping[str, str], cwd: str) -> list[str]:
    """Fill in ``$VAR``/``${VAR}`` (label values first, then the environment), then split into words;
    an empty value leaves no word behind."""
    def value(m: re.Match[str]) -> str:
        key = m.group(1) if m.group(1) is not None else m.group(2)
        if key in values:
            return values[key]
        if key == "PWD":
            return cwd
        return env.get(key, "")

    return _VARIABLE.sub(value, template).split()


def command_for(engine: Engine, typed: str, label: str, *, name: str | None, opts: Sequence[str],
                args: Sequence[str], program: str) -> LabelCommand:
    """The expanded command of ``label`` in the (local) image ``typed``."""
    record = engine.images.get(typed)
    doc = engine.images.inspect(record.id)
    template = label_value(doc.get("Labels"), label)
    if not template:
        raise NotFound(f"cannot find the value of label: {label} in image: {typed}")
    image = image_name_for(record.names, typed, record.id)
    container = name or default_name(image)
    values = {"IMAGE": image, "NAME": container, **{f"OPT{i + 1}": opt for i, opt in enumerate(opts)}}
    words = expand(template, values, engine.env, os.getcwd())
    bare = {"IMAGE": image, "NAME": container, "IMAGE=IMAGE": f"IMAGE={image}", "NAME=NAME": f"NAME={container}"}
    words[1:] = [bare.get(w, w) for w in words[1:]]  # Podman also fills in the bare words IMAGE and NAME
    if words and words[0] in _ENGINES:
        words[0] = program
    return LabelCommand(tuple([*words, *args]), container, image)


def execute(engine: Engine, command: LabelCommand, *, replace: bool) -> int:
    """Run the command in the foreground, with the terminal; ``replace`` removes a container of its name first."""
    from sealpod.errors import NoSuchContainer
    from sealpod.utils.proc import run

    if replace:
        try:
            engine.containers.remove(command.name, force=True)
        except NoSuchContainer:
            pass
    env = {**engine.env, "IMAGE": command.image, "NAME": command.name}
    return run(list(command.argv), check=False, stdin=None, stdout=None, stderr=None, env=env).returncode
