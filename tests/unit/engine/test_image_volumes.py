"""The pure parts of image volumes and --volumes-from: mode and option checks, path cleaning."""

from __future__ import annotations

import pytest

from sealpod.engine.image_volumes import _clean, check_mode, check_volumes_from
from sealpod.errors import InvalidArgument


@pytest.mark.parametrize("mode", ["bind", "tmpfs", "ignore"])
def test_modes(mode: str) -> None:
    assert check_mode(mode) == mode


@pytest.mark.parametrize("mode", ["", "BIND", "anonymous"])
def test_bad_mode_in_podmans_words(mode: str) -> None:
    with pytest.raises(InvalidArgument, match=f'^invalid image volume mode "{mode}" required value: '
                                              "bind, tmpfs, ignore$"):
        check_mode(mode)


def test_volumes_from_options() -> None:
    assert check_volumes_from("db") == ("db", ())
    assert check_volumes_from("db:ro,z") == ("db", ("ro", "z"))
    with pytest.raises(InvalidArgument, match='invalid option "nocopy" specified'):
        check_volumes_from("db:nocopy")
    with pytest.raises(InvalidArgument, match="ro"):
        check_volumes_from("db:ro,rw")


@pytest.mark.parametrize(("path", "clean"), [("/data", "/data"), ("/data/", "/data"), ("//data", "/data"),
                                             ("data", "/data"), (" /a/./b/../c ", "/a/c")])
def test_paths_are_cleaned_as_destinations(path: str, clean: str) -> None:
    assert _clean(path) == clean
