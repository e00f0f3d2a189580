"""Finding a local image by what a user typed: name, short name, ID, ID prefix or digest.

Names win over ID prefixes (``9311`` finds ``localhost/9311`` before an image whose ID
starts with 9311), as in Podman.
"""

from __future__ import annotations

from sealpod.errors import InvalidReference, NoSuchImage
from sealpod.storage.records import ImageRecord

TYPE_CHECKING = False  # typing costs ~2 ms of every command's start-up; only type checkers need it
if TYPE_CHECKING:
    from sealpod.config.registries_conf import RegistriesConf
    from sealpod.image.reference import Reference
    from sealpod.storage.store import Store


def find_image(store: Store, text: str, conf: RegistriesConf | None) -> ImageRecord | None:
    """The image ``text`` names, or None; malformed input raises InvalidReference."""
    exact = store.image_by_name(text)  # a stored name as typed: no parsing, no registries.conf
    if exact is not None:
        return store.get_image(exact)
    from sealpod.image.reference import is_full_id, looks_like_id_prefix, parse_reference, strip_sha256

    bare = strip_sha256(text) if text.startswith("sha256:") else text
    if is_full_id(bare):
        try:
            return store.get_image(bare)
        except NoSuchImage:
            return None
    try:
        ref = parse_reference(text)
    except InvalidReference:
        if looks_like_id_prefix(bare):
            found = store.image_by_id_prefix(bare)
            return store.get_image(found) if found else None
        raise
    image = _by_reference(store, ref, conf)
    if image is None and looks_like_id_prefix(text):
        found = store.image_by_id_prefix(text)
        image = store.get_image(found) if found else None
    return image


def _by_reference(store: Store, ref: Reference, conf: RegistriesConf | None) -> ImageRecord | None:
    if ref.digest is not None:
        return _by_digest(store, ref, conf)
    if not ref.is_short_name:  # no registries.conf to read (its modules cost ~1 ms of every run)
        image_id = store.image_by_name(str(ref.tagged_or_latest()))
        return store.get_image(image_id) if image_id is not None else None
    from sealpod.image.reference import parse_reference
    from sealpod.image.shortnames import local_candidates, matches_short_name

    for name in local_candidates(ref, conf):
        image_id = store.image_by_name(name)
        if image_id is not None:
            return store.get_image(image_id)
    for image in store.list_images():
        for name in image.names:
            if matches_short_name(parse_reference(name), ref):
                return image
    return None


def _by_digest(store: Store, ref: Reference, conf: RegistriesConf | None) -> ImageRecord | None:
    """``name@sha256:...``: an image pulled by that manifest digest, under that repository."""
    from sealpod.image.reference import parse_reference

    assert ref.digest is not None
    for image_id in store.images_by_digest(ref.digest):
        image = store.get_image(image_id)
        for name in image.names:
            stored = parse_reference(name)
            if stored.name == ref.name or (
                ref.is_short_name and (stored.repository == ref.repository
                                       or stored.repository.endswith("/" + ref.repository))):
                return image
    return None


def require_image(store: Store, text: str, conf: RegistriesConf | None) -> ImageRecord:
    image = find_image(store, text, conf)
    if image is None:
        raise NoSuchImage(f"{text}: image not known")
    return image
