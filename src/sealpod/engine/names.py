"""Random container names in Docker's ``adjective_surname`` style, and name validation."""

from __future__ import annotations

import os
import re

from sealpod.errors import InvalidArgument

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
