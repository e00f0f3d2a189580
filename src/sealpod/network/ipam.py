"""Container IP addresses per network, kept in the graph root's database.

An address belongs to a container from its network setup until its teardown.  A container
that vanished without a teardown (a crash, a killed ``sealpod``) must not keep its address
forever: whenever a network hands out addresses, the engine is asked which owners are stale,
and their allocations are reclaimed.
"""

from __future__ import annotations

import contextlib
import ipaddress
import sqlite3
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Protocol

from sealpod.errors import InvalidArgument, NetworkError
from sealpod.network.config import IPAddress, Network, Subnet

IPAM_SCHEMA = 2
_SCHEMA = """
CREATE TABLE IF NOT EXISTS network_allocations (
    network   TEXT NOT NULL,     -- network name
    ip        TEXT NOT NULL,
    container TEXT NOT NULL,     -- container ID
    created   REAL NOT NULL,
    PRIMARY KEY (network, ip)
);
CREATE INDEX IF NOT EXISTS network_allocations_by_container ON network_allocations(container);
CREATE TABLE IF NOT EXISTS network_last_ip (
    network   TEXT NOT NULL,
    subnet    TEXT NOT NULL,
    ip        TEXT NOT NULL,     -- the address handed out last: the next search starts after it
    PRIMARY KEY (network, subnet)
);
INSERT OR REPLACE INTO meta VALUES ('ipam_schema', '2')
"""


class WritableDB(Protocol):
    """What IPAM needs of the storage database: a connection and its writer lock."""

    conn: sqlite3.Connection

    def write(self) -> contextlib.AbstractContextManager[sqlite3.Connection]: ...


StaleCheck = Callable[[set[str]], set[str]]


def _range(sub: Subnet) -> tuple[IPAddress, IPAddress]:
    net = sub.network
    first = net.network_address + 1
    last = net.broadcast_address - (1 if net.version == 4 else 0)
    if sub.lease_start:
        first = max(first, ipaddress.ip_address(sub.lease_start))
    if sub.lease_end:
        last = min(last, ipaddress.ip_address(sub.lease_end))
    return first, last


def _pick(sub: Subnet, used: set[str], offset: int = 0) -> IPAddress:
    """The first free address, searching from ``offset`` into the range (wrapping around)."""
    first, last = _range(sub)
    gateway = sub.gateway
    size = int(last) - int(first) + 1
    for i in range(size):
        n = int(first) + (offset + i) % size
        addr = ipaddress.ip_address(n) if first.version == 4 else ipaddress.IPv6Address(n)
        text = str(addr)
        if text not in used and text != gateway:
            return addr
    raise NetworkError(f"IPAM error: failed to find free IP in range: {sub.subnet}")


def _check_static(net: Network, ip: IPAddress, used: Mapping[str, str], container_id: str) -> Subnet:
    for sub in net.subnets:
        subnet = sub.network
        if ip.version != subnet.version or ip not in subnet:
            continue
        if ip in (subnet.network_address, subnet.broadcast_address) or str(ip) == sub.gateway:
            raise InvalidArgument(f"requested ip address {ip} is reserved in network {net.name}")
        owner = used.get(str(ip))
        if owner and owner != container_id:
            raise NetworkError(f"IPAM error: requested ip address {ip} is already allocated to container ID "
                               f"{owner}")
        return sub
    raise InvalidArgument(f"requested static ip {ip} not in any subnet on network {net.name}")


class IPAM:
    def __init__(self, db: WritableDB, offsets: Mapping[str, int] | None = None) -> None:
        """``offsets``: per network, where in its range to start looking (see ``engine.networks``)."""
        self.db = db
        self.offsets = dict(offsets or {})
        row = None
        with contextlib.suppress(sqlite3.OperationalError):
            row = db.conn.execute("SELECT value FROM meta WHERE key='ipam_schema'").fetchone()
        if row is None or int(row[0]) != IPAM_SCHEMA:
            with db.write() as conn:
                for stmt in _SCHEMA.strip().split(";"):
                    if stmt.strip():
                        conn.execute(stmt)

    @contextlib.contextmanager
    def _network_rows(self, net: str, stale: StaleCheck) -> Iterator[tuple[sqlite3.Connection, dict[str, str]]]:
        with self.db.write() as conn:
            rows = conn.execute("SELECT ip, container FROM network_allocations WHERE network=?", (net,)).fetchall()
            owners = {r[1] for r in rows}
            gone = stale(owners) if owners else set()
            for owner in gone:
                conn.execute("DELETE FROM network_allocations WHERE container=?", (owner,))
            yield conn, {r[0]: r[1] for r in rows if r[1] not in gone}

    def allocate(self, net: Network, container_id: str, static_ips: Sequence[str] = (),
                 stale: StaleCheck = lambda owners: set()) -> list[str]:
        """One address per subnet of ``net``: the asked-for one where the user gave it, else the
        first free one.  Re-allocating for the same container replaces what it had."""
        wanted = []
        for text in static_ips:
            try:
                wanted.append(ipaddress.ip_address(text))
            except ValueError:
                raise InvalidArgument(f"{text} is not a valid IP address") from None
        with self._network_rows(net.name, stale) as (conn, used):
            conn.execute("DELETE FROM network_allocations WHERE network=? AND container=?", (net.name, container_id))
            used = {ip: owner for ip, owner in used.items() if owner != container_id}
            chosen: dict[str, IPAddress] = {}
            for ip in wanted:
                chosen[_check_static(net, ip, used, container_id).subnet] = ip
            for sub in net.subnets:
                if sub.subnet not in chosen:
                    chosen[sub.subnet] = _pick(sub, set(used), self._offset(conn, net.name, sub))
            conn.executemany("INSERT OR REPLACE INTO network_last_ip VALUES (?, ?, ?)",
                             [(net.name, subnet, str(ip)) for subnet, ip in chosen.items()])
            now = time.time()
            conn.executemany("INSERT INTO network_allocations VALUES (?, ?, ?, ?)",
                             [(net.name, str(ip), container_id, now) for ip in chosen.values()])
        return [str(chosen[s.subnet]) for s in net.subnets]

    def _offset(self, conn: sqlite3.Connection, network: str, sub: Subnet) -> int:
        """Just after the address handed out last, as Podman's IPAM does: a container that leaves
        and rejoins a network gets a new address, and a freed one is not reused at once."""
        row = conn.execute("SELECT ip FROM network_last_ip WHERE network=? AND subnet=?",
                           (network, sub.subnet)).fetchone()
        first, last = _range(sub)
        try:
            ip = ipaddress.ip_address(row[0]) if row else None
        except ValueError:
            ip = None
        if ip is None or ip.version != first.version or not int(first) <= int(ip) <= int(last):
            return self.offsets.get(network, 0)
        return int(ip) - int(first) + 1

    def forget(self, network: str) -> None:
        """A removed network's allocation history: one made anew under its name starts afresh."""
        with self.db.write() as conn:
            conn.execute("DELETE FROM network_last_ip WHERE network=?", (network,))

    def release(self, container_id: str, network: str | None = None) -> None:
        with self.db.write() as conn:
            if network is None:
                conn.execute("DELETE FROM network_allocations WHERE container=?", (container_id,))
            else:
                conn.execute("DELETE FROM network_allocations WHERE container=? AND network=?",
                             (container_id, network))

    def allocations(self, network: str | None = None) -> dict[str, list[str]]:
        """container ID → addresses, of one network or all."""
        sql = "SELECT container, ip FROM network_allocations"
        rows = self.db.conn.execute(sql + " WHERE network=?", (network,)) if network else self.db.conn.execute(sql)
        out: dict[str, list[str]] = {}
        for ctr, ip in rows:
            out.setdefault(ctr, []).append(ip)
        return out
