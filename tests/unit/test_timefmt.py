"""The time shapes of ``sealpod.utils.timefmt``: clients compare these as text."""

from __future__ import annotations

import os
import time
from collections.abc import Iterator

import pytest

from sealpod.utils.timefmt import ZERO_TIME, rfc3339, rfc3339_local, rfc3339_nano, rfc3339_seconds

T = 1_600_000_000  # 2020-09-13T12:26:40Z


@pytest.fixture
def utc() -> Iterator[None]:
    saved = os.environ.get("TZ")
    os.environ["TZ"] = "UTC"
    time.tzset()
    yield
    if saved is None:
        del os.environ["TZ"]
    else:
        os.environ["TZ"] = saved
    time.tzset()


def test_rfc3339_keeps_microseconds_and_zero_is_gos_zero_time() -> None:
    assert rfc3339(T + 0.25) == "2020-09-13T12:26:40.250000Z"
    assert rfc3339(0) == ZERO_TIME == "0001-01-01T00:00:00Z"


def test_rfc3339_nano_trims_trailing_zeros() -> None:
    assert rfc3339_nano(T * 1_000_000_000 + 120_000_000) == "2020-09-13T12:26:40.12Z"
    assert rfc3339_nano(T * 1_000_000_000) == "2020-09-13T12:26:40Z"
    assert rfc3339_nano(T * 1_000_000_000 + 1) == "2020-09-13T12:26:40.000000001Z"


def test_rfc3339_local_trims_fraction_zeros(utc: None) -> None:
    assert rfc3339_local(T + 0.25) == "2020-09-13T12:26:40.25Z"
    assert rfc3339_local(T) == "2020-09-13T12:26:40Z"


def test_rfc3339_local_names_a_zone_other_than_utc() -> None:
    saved = os.environ.get("TZ")
    os.environ["TZ"] = "EST+5"
    time.tzset()
    try:
        assert rfc3339_local(T) == "2020-09-13T07:26:40-05:00"
    finally:
        if saved is None:
            del os.environ["TZ"]
        else:
            os.environ["TZ"] = saved
        time.tzset()


def test_rfc3339_seconds_drops_the_fraction() -> None:
    assert rfc3339_seconds(T + 0.9) == "2020-09-13T12:26:40Z"
    assert rfc3339_seconds(0) == "1970-01-01T00:00:00Z"
