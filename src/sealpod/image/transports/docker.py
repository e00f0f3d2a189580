"""The docker:// transport: images in a registry, through the distribution API client."""

from __future__ import annotations

import io
import os
from collections.abc import Mapping, Sequence
from pathlib import Path

from sealpod.config.registries_conf import RegistriesConf
from sealpod.errors import InvalidArgument, RegistryError
from sealpod.image.manifest import ACCEPT, Descriptor, Manifest
from sealpod.image.reference import Reference
from sealpod.image.registry.auth import Credentials
from sealpod.image.registry.client import RegistryClient, RegistryOptions
from sealpod.image.transports.base import Progress
from sealpod.utils.record import dataclass

TYPE_CHECKING = False  # typing costs ~2 ms of every command's start-up; only type checkers need it
if TYPE_CHECKING:
    from typing import BinaryIO


@dataclass(frozen=True)
class RegistryAccess:
    """What the user said about reaching registries (flags); None means "as configured"."""

    tls_verify: bool | None = None
    cert_dir: Path | None = None
    credentials: Credentials | None = None
    auth_file: Path | None = None
    timeout: float = 30.0


def open_client(registry: str, access: RegistryAccess, conf: RegistriesConf, env: Mapping[str, str],
                home: Path, repository: str | None = None) -> RegistryClient:
    """A client for ``registry`` with TLS, insecure and credentials settled as Podman settles them.

    ``--tls-verify`` given explicitly wins over registries.conf; credentials come from
    ``--creds``, else from the auth files (most specific key: the repository, then the host).
    """
    from sealpod.image.authfile import find_credentials

    if access.cert_dir is not None and not access.cert_dir.is_dir():
        raise InvalidArgument(f"--cert-dir {access.cert_dir}: not a directory")
    creds = access.credentials
    if creds is None:
        key = f"{registry}/{repository}" if repository else registry
        creds = find_credentials(key, env=env, home=home, auth_file=access.auth_file)
    insecure = conf.is_insecure(registry) if access.tls_verify is None else False
    options = RegistryOptions(
        tls_verify=True if access.tls_verify is None else access.tls_verify, insecure=insecure,
        cert_dir=access.cert_dir, credentials=creds, timeout=access.timeout,
        home=home,
    )
    return RegistryClient(registry, options)


class DockerSource:
    """Reads one image (or index) from a registry repository."""

    def __init__(self, client: RegistryClient, ref: Reference, logical: Reference | None = None) -> None:
        if ref.registry is None:
            raise InvalidArgument(f"{ref}: a registry is needed to pull")
        self.client = client
        self.ref = ref
        self.logical = logical or ref  # the name asked for, when a mirror or rewritten location serves it
        self.repo = ref.repository

    def describe(self) -> str:
        """The source as containers/image names it in errors: the name asked for, in Docker's
        familiar form (``docker://busybox:latest``), not the mirror that was read."""
        return f"docker://{self.logical.familiar()}"

    def get_manifest(self, digest: str | None = None) -> tuple[bytes, str]:
        reference = digest or self.ref.digest or self.ref.tag or "latest"
        try:
            body, media_type, _ = self.client.get_manifest(self.repo, reference, ACCEPT)
        except RegistryError as e:  # the first contact: Podman's words name the source it was opening
            if digest is not None:
                raise
            raise type(e)(f"initializing source {self.describe()}: {e}") from e
        return body, media_type

    def get_blob(self, desc: Descriptor, out: BinaryIO, progress: Progress | None = None) -> None:
        self.client.fetch_blob(self.repo, desc.digest, desc.size, out, progress)

    def local_blob_path(self, desc: Descriptor) -> Path | None:
        return None

    def close(self) -> None:
        self.client.close()


class DockerDestination:
    """Writes one image to a registry repository, reusing blobs it already has or can mount."""

    def __init__(self, client: RegistryClient, ref: Reference, mount_from: Sequence[str] = ()) -> None:
        self.client = client
        self.ref = ref
        self.repo = ref.repository
        self.mount_from = [r for r in mount_from if r != self.repo]
        self._layers: tuple[Descriptor, ...] = ()
        self._config: tuple[Descriptor, bytes] | None = None

    def describe(self) -> str:
        return f"docker://{self.ref}"

    def begin(self, manifest: Manifest, config: bytes, diff_ids: Sequence[str]) -> None:
        self._layers = manifest.layers
        self._config = (manifest.config, config)

    def reuse_image(self, manifest: Manifest, body: bytes, media_type: str,
                    index: tuple[bytes, str] | None) -> str | None:
        return None  # a registry cannot tell cheaply; blobs are checked one by one instead

    def _has_blob(self, desc: Descriptor) -> bool:
        """Present already, or cross-mounted from another repository of the same registry."""
        if self.client.blob_exists(self.repo, desc.digest):
            return True
        for other in self.mount_from:
            try:
                if self.client.mount_blob(self.repo, desc.digest, other):
                    return True
            except RegistryError as e:  # a failed mount only costs an upload
                import logging

                logging.getLogger("sealpod.image").debug("mounting %s from %s failed: %s", desc.digest, other, e)
        return False

    def has_layer(self, index: int) -> bool:
        return self._has_blob(self._layers[index])

    def temp_file(self) -> tuple[Path, BinaryIO]:
        import tempfile

        fd, name = tempfile.mkstemp(prefix="sealpod-push-")
        return Path(name), os.fdopen(fd, "w+b")

    def put_layer(self, index: int, blob: Path, progress: Progress | None = None) -> None:
        desc = self._layers[index]
        with open(blob, "rb") as f:
            self.client.upload_blob(self.repo, desc.digest, desc.size, f, progress)

    def commit(self, manifest: bytes, media_type: str, index: tuple[bytes, str] | None) -> str:
        assert self._config is not None, "begin() must come first"
        desc, config = self._config
        if not self._has_blob(desc):
            self.client.upload_blob(self.repo, desc.digest, desc.size, io.BytesIO(config))
        return self.client.put_manifest(self.repo, self.ref.tag or self.ref.digest or "latest",
                                        manifest, media_type)

    def abort(self) -> None:
        return None

    def close(self) -> None:
        self.client.close()
