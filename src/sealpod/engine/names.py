"""Random container names in Docker's ``adjective_surname`` style, and name validation."""

from __future__ import annotations

import os
import re
import sqlite3

from sealpod.errors import AmbiguousName, InvalidArgument

_ADJECTIVES = (
    "agile", "amazing", "blissful", "bold", "brave", "busy", "calm", "clever", "cool", "crazy", "dazzling",
    "eager", "elegant", "epic", "fervent", "festive", "focused", "friendly", "gallant", "gifted", "happy",
    "hardcore", "hopeful", "jolly", "keen", "kind", "laughing", "loving", "lucid", "magical", "modest",
    "nice", "nifty", "optimistic", "peaceful", "pensive", "practical", "priceless", "quirky", "relaxed",
    "reverent", "romantic", "serene", "sharp", "silly", "stoic", "sweet", "tender", "trusting", "upbeat",
    "vibrant", "vigilant", "wizardly", "wonderful", "youthful", "zealous", "zen",
)
_NAMES = (
    "agnesi", "babbage", "bardeen", "bell", "bohr", "boole", "carson", "cerf", "curie", "darwin", "dijkstra",
    "einstein", "euclid", "euler", "faraday", "fermat", "fermi", "feynman", "franklin", "galileo", "gauss",
    "goodall", "hamilton", "hawking", "hopper", "hypatia", "johnson", "kepler", "knuth", "lamarr", "lovelace",
    "maxwell", "meitner", "mendel", "newton", "noether", "pascal", "pasteur", "planck", "ramanujan", "ritchie",
    "shannon", "sinoussi", "tesla", "thompson", "torvalds", "turing", "volta", "wilson", "wozniak", "yalow",
)
_VALID = re.compile(r"^[a-zA-Z0-9][a-zA-Z0-9_.-]*$")


def _pick(words: tuple[str, ...]) -> str:
    return words[int.from_bytes(os.urandom(4), "big") % len(words)]


def random_name() -> str:
    return f"{_pick(_ADJECTIVES)}_{_pick(_NAMES)}"


def check_name(name: str) -> str:
    if not _VALID.match(name):
        raise InvalidArgument(f"container name {name!r} must match [a-zA-Z0-9][a-zA-Z0-9_.-]*: "
                              "names must match [a-zA-Z0-9][a-zA-Z0-9_.-]*: invalid argument")
    return name


def new_id() -> str:
    return os.urandom(32).hex()


def find_row(conn: sqlite3.Connection, table: str, name_or_id: str, kind: str) -> sqlite3.Row | None:
    """A container, pod or secret row by exact name or full ID, else by an unambiguous ID prefix —
    Podman's order; several matches of a prefix are an error naming ``kind``."""
    row: sqlite3.Row | None = conn.execute(f"SELECT * FROM {table} WHERE name=? OR id=?",
                                           (name_or_id, name_or_id)).fetchone()
    if row is not None or not name_or_id or not all(c in "0123456789abcdef" for c in name_or_id):
        return row
    rows = conn.execute(f"SELECT * FROM {table} WHERE id >= ? AND id < ? LIMIT 2",
                        (name_or_id, name_or_id + "g")).fetchall()
    if len(rows) > 1:
        raise AmbiguousName(f'more than one result for {kind} "{name_or_id}"')
    return rows[0] if rows else None
