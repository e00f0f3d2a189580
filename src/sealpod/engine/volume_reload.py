"""``volume reload``: sync the volumes database with the configured volume plugins.

Podman asks each plugin of containers.conf's ``[engine.volume_plugins]`` for its volumes, adds
the new ones and drops those the plugin no longer has.  sealpod does not speak the plugin
protocol (no volume can use a plugin driver here), so with no plugin configured, the usual case
and Podman's too, nothing changes and nothing is reported; each configured plugin is an error,
worded as Podman's when its socket is missing or is not a socket.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

from sealpod.errors import InvalidArgument, SealpodError
from sealpod.utils.record import dataclass, field

TYPE_CHECKING = False  # typing costs ~2 ms of every command's start-up; only type checkers need it
if TYPE_CHECKING:
    from sealpod.engine import Engine


@dataclass
class VolumeReloadReport:
    """Podman's VolumeReload: the volumes added and removed, and what went wrong per plugin."""

    added: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    errors: list[SealpodError] = field(default_factory=list)


def reload_plugins(engine: Engine) -> VolumeReloadReport:
    report = VolumeReloadReport()
    for name, socket in sorted(engine.config.containers.engine.volume_plugins.items()):
        report.errors.append(_plugin_error(name, socket))
    return report


def _plugin_error(name: str, socket: str) -> SealpodError:
    path = os.path.normpath(socket) if socket else "."
    try:
        mode = Path(path).stat().st_mode
    except OSError as e:
        reason = os.strerror(e.errno).lower() if e.errno else str(e)
        return InvalidArgument(f'cannot access plugin {name} socket "{path}": stat {path}: {reason}')
    if not stat.S_ISSOCK(mode):
        return InvalidArgument(f'volume {name} path "{path}" is not a unix socket: target does not appear to be '
                               "a valid plugin")
    return InvalidArgument(f'failed to read volumes from plugin "{name}": volume plugins are not supported')
