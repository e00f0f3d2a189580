"""The one exception hierarchy of sealpod.

Library code raises these; only ``cli`` turns them into exit codes and only ``api``
turns them into HTTP statuses.  Callers that want "any sealpod failure" catch
:class:`SealpodError`.  Messages are one line, written for the user, in the words
Podman uses where it has words for the same failure.
"""

from __future__ import annotations


class SealpodError(Exception):
    """Base of every user-facing failure: catch this one."""

    exit_code: int = 125
    http_status: int = 500

    def __init__(self, message: str = "") -> None:
        super().__init__(message or self.__class__.__doc__ or self.__class__.__name__)

    @property
    def message(self) -> str:
        return str(self.args[0]) if self.args else ""

    def __str__(self) -> str:
        return self.message


class InvalidArgument(SealpodError):
    """A flag, option or value the user gave is not acceptable."""

    http_status = 400


class ConfigError(SealpodError):
    """A configuration file cannot be read or parsed."""


class InvalidReference(InvalidArgument):
    """An image reference is malformed."""


class ShortNameError(SealpodError):
    """A short image name cannot be resolved to a registry."""

    http_status = 400


class NotFound(SealpodError):
    """Something the user named does not exist."""

    http_status = 404


class NoSuchImage(NotFound):
    """The image is not known locally."""


class NoSuchContainer(NotFound):
    """The container is not known."""


class NoSuchLayer(NotFound):
    """A layer is missing from storage."""


class Conflict(SealpodError):
    """The operation conflicts with the current state (name in use, image in use)."""

    http_status = 409


class ImageInUse(Conflict):
    """The image is used by a container."""


class AmbiguousName(Conflict):
    """A name or ID prefix matches more than one object."""


class StorageError(SealpodError):
    """Storage cannot do what was asked (corrupt layer, mount failure, full disk)."""


class LayerError(StorageError):
    """A layer archive is broken or hostile; nothing of it is kept."""


class DigestMismatch(StorageError):
    """Content does not match the digest or size it was announced with."""


class RegistryError(SealpodError):
    """A registry answered with an error, or could not be reached."""


class RegistryAuthError(RegistryError):
    """The registry refused our credentials, or asked for some we do not have."""

    http_status = 401


class ManifestUnknown(RegistryError):
    """The registry does not have the tag or digest asked for."""

    http_status = 404


class UnsupportedManifest(RegistryError):
    """The manifest is of a kind sealpod does not support (schema 1, unknown media type)."""

    http_status = 400


class NoMatchingPlatform(RegistryError):
    """An image index has no manifest for the requested platform."""

    http_status = 404


class CommandFailed(SealpodError):
    """An external program sealpod runs failed."""

    def __init__(self, argv: list[str], returncode: int, stderr: str = "") -> None:
        self.argv = argv
        self.returncode = returncode
        self.stderr = stderr
        tail = stderr.strip().splitlines()[-1] if stderr.strip() else f"exit status {returncode}"
        super().__init__(f"{argv[0]}: {tail}")


class TemplateError(InvalidArgument):
    """A --format Go template cannot be parsed or executed."""

    partial = ""  # the output an execution wrote before it failed (Go writes it as it goes)


class OCIRuntimeError(SealpodError):
    """The OCI runtime (runc, crun) or conmon failed."""

    exit_code = 126


class ExecutableNotFound(OCIRuntimeError):
    """The command to run in the container does not exist."""

    exit_code = 127


class PermissionDenied(OCIRuntimeError):
    """The OCI runtime was refused permission to run the command."""

    exit_code = 126


class ConmonError(OCIRuntimeError):
    """conmon did not start or did not report on its sync pipe in time."""

    exit_code = 125


class ContainerStateInvalid(SealpodError):
    """The container is not in a state that allows the operation."""

    http_status = 409


class NoSuchUser(NotFound):
    """The user or group given with --user or --group-add is not in the container's image."""

    exit_code = 126


class NoSuchVolume(NotFound):
    """The volume is not known."""


class VolumeExists(Conflict):
    """A volume of that name already exists."""


class VolumeInUse(Conflict):
    """The volume is used by a container; ``volume rm`` exits 2 for it, as Podman does."""

    exit_code = 2


class NoSuchNetwork(NotFound):
    """The network is not known."""


class NetworkExists(Conflict):
    """A network of that name, subnet or bridge already exists."""


class NetworkInUse(Conflict):
    """The network has containers; ``network rm`` exits 2 for it, as Podman does."""

    exit_code = 2


class NetworkError(SealpodError):
    """Setting up or tearing down a container's network failed (netavark, netns, ports)."""


class NoSuchPod(NotFound):
    """The pod is not known."""


class PodExists(Conflict):
    """A pod of that name already exists."""


class KubeError(InvalidArgument):
    """A Kubernetes YAML file is malformed, or asks for something sealpod cannot play or generate."""


class RootlessError(SealpodError):
    """The rootless user namespace (newuidmap/newgidmap, the pause process) could not be set up."""


class NoSuchSecret(NotFound):
    """No secret of that name or ID."""


class SecretExists(Conflict):
    """A secret of that name already exists (``--replace`` overwrites it)."""


class NoHealthCheck(SealpodError):
    """``healthcheck run`` on a container that has no healthcheck."""


class ContainerHasDependents(Conflict):
    """Other containers need this one (``--requires``, its namespaces): ``rm --depend`` takes them too."""

    exit_code = 125


class RemoteError(SealpodError):
    """The remote service cannot be reached, or does not speak sealpod's remote protocol."""


class NoSuchConnection(NotFound):
    """No ``system connection`` of that name is defined."""


class BuildError(SealpodError):
    """``build``: the Containerfile cannot be parsed, or one of its steps failed."""

    http_status = 400

    def __init__(self, message: str = "", exit_code: int = 125) -> None:
        super().__init__(message)
        self.exit_code = exit_code


class ImageTransportError(SealpodError):
    """An image location of a non-registry transport (dir:, oci:, archives, docker-daemon:) cannot be used."""


class SystemdError(SealpodError):
    """``generate systemd`` cannot write units for this container or pod (or a quadlet file is unusable)."""


class PolicyRejected(SealpodError):
    """policy.json refused the image (rejected, unsigned, or a signature that does not verify)."""

    http_status = 403


class SignatureError(SealpodError):
    """An image cannot be signed, or its signatures cannot be stored (gpg, lookaside)."""


class SpecRefused(SealpodError):
    """The engine cannot build the container's runtime spec from what it was given (a seccomp policy or
    profile, a cgroup v2 setting on cgroup v1): Podman's create refuses these with exit 125, or 500 by the API."""


class RuntimeUpdateFailed(OCIRuntimeError):
    """``runc update`` refused new limits (the kernel would not take them): Podman reports the failed
    runtime command with exit 125, not the 126 of a process that cannot start."""

    exit_code = 125
