"""Named service connections, for the CLI's remote mode and ``system connection``.

The front-ends reach configuration only through the engine package (DESIGN.md); the work is
done in :mod:`sealpod.config.connections`, where containers.conf is read and written.
"""

from __future__ import annotations

from sealpod.config.connections import (
    Connection,
    ConnectionTable,
    RemoteURI,
    default_service_uri,
    merged_connections,
    parse_uri,
    read_table,
    update_table,
    writable_conf,
)

__all__ = ["Connection", "ConnectionTable", "RemoteURI", "default_service_uri", "merged_connections", "parse_uri",
           "read_table", "update_table", "writable_conf"]
