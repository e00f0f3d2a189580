"""Human-readable durations, as Docker's go-units writes them (shared by the CLI and the API)."""

from __future__ import annotations


def human_duration(seconds: float) -> str:
    """go-units' HumanDuration: ``Less than a second``, ``About a minute``, ``3 weeks``...

    Callers add `` ago`` for CREATED columns, as Podman does.
    """
    secs = int(seconds)
    if secs < 1:
        return "Less than a second"
    if secs == 1:
        return "1 second"
    if secs < 60:
        return f"{secs} seconds"
    minutes = int(seconds / 60)
    if minutes == 1:
        return "About a minute"
    if minutes < 60:
        return f"{minutes} minutes"
    hours = int(seconds / 3600 + 0.5)
    if hours == 1:
        return "About an hour"
    if hours < 48:
        return f"{hours} hours"
    if hours < 24 * 7 * 2:
        return f"{hours // 24} days"
    if hours < 24 * 30 * 2:
        return f"{hours // 24 // 7} weeks"
    if hours < 24 * 365 * 2:
        return f"{hours // 24 // 30} months"
    return f"{int(seconds / 3600) // 24 // 365} years"


def _go_size(value: float, base: float, units: tuple[str, ...]) -> str:
    unit = 0
    while value >= base and unit < len(units) - 1:
        value /= base
        unit += 1
    return f"{value:.4g}{units[unit]}"


def human_size(value: float) -> str:
    """go-units' HumanSize (decimal units, four significant digits: ``376.8kB``), as stats prints sizes."""
    return _go_size(value, 1000.0, ("B", "kB", "MB", "GB", "TB", "PB"))


def bytes_size(value: float) -> str:
    """go-units' BytesSize (binary units, four significant digits: ``248KiB``)."""
    return _go_size(value, 1024.0, ("B", "KiB", "MiB", "GiB", "TiB", "PiB"))
