"""systemd integration: ``generate systemd`` units, the quadlet generator, sd_notify.

A client of :mod:`sealpod.engine` like ``cli``: units are rendered from inspect reports, never
from the engine's database or files.
"""
