"""Pull, push, search, login and logout: images crossing the machine's boundary."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from sealpod.engine.entities import PullOptions, PushOptions, RegistryFlags, SearchResult
from sealpod.errors import InvalidArgument, PolicyRejected, RegistryError, SealpodError
from sealpod.image.reference import Reference, parse_reference, split_transport
from sealpod.storage.records import ImageRecord

TYPE_CHECKING = False  # typing costs ~2 ms of every command's start-up; only type checkers need it
if TYPE_CHECKING:
    from sealpod.engine import Engine
    from sealpod.image.manifest import Platform
    from sealpod.image.policy import Policy
    from sealpod.image.registry.client import RegistryClient
    from sealpod.image.transports.docker import RegistryAccess

Report = Callable[[str], None]


def _access(flags: RegistryFlags) -> RegistryAccess:
    from sealpod.image.authfile import parse_creds
    from sealpod.image.transports.docker import RegistryAccess

    creds = parse_creds(flags.creds) if flags.creds else None
    return RegistryAccess(tls_verify=flags.tls_verify, cert_dir=flags.cert_dir, credentials=creds,
                          auth_file=flags.auth_file)


def _client(engine: Engine, registry: str, flags: RegistryFlags, repository: str | None = None,
            insecure_source: bool = False) -> RegistryClient:
    from sealpod.image.transports.docker import open_client

    access = _access(flags)
    if insecure_source and access.tls_verify is None:
        from sealpod.utils.record import replace

        access = replace(access, tls_verify=False)
    return open_client(registry, access, engine.registries, engine.env, engine.home, repository)


def _platform(options: PullOptions) -> Platform | None:
    from sealpod.image.manifest import Platform, host_platform, parse_platform

    if options.platform:
        return parse_platform(options.platform)
    if options.os or options.arch or options.variant:
        host = host_platform()
        return Platform(options.os or host.os, options.arch or host.architecture, options.variant or "")
    return None


def _docker_ref(name: str) -> Reference:
    transport, rest = split_transport(name)
    if transport not in (None, "docker"):
        raise InvalidArgument(f'transport "{transport}" is not supported yet: use docker://')
    return parse_reference(rest.removeprefix("//") if transport == "docker" else rest)


def pull(engine: Engine, name: str, options: PullOptions, report: Report) -> list[str]:
    """Pull ``name`` (every tag of it with ``all_tags``); return the image IDs."""
    from sealpod.engine import trust
    from sealpod.image.shortnames import resolve_short_name

    transport, rest = split_transport(name)
    if transport not in (None, "docker"):
        from sealpod.engine.image_transports import pull_local

        if options.all_tags:
            raise InvalidArgument(f"--all-tags is not supported for {transport} transport")
        check = (trust.local_policy(trust.load(engine, options.signature_policy), transport, rest)
                 if transport != "containers-storage" else None)
        return [pull_local(engine, transport, rest, _platform(options), options.progress, report, check)]
    ref = _docker_ref(name)
    policy = trust.load(engine, options.signature_policy)  # before any request, as Podman reads it first
    if options.all_tags:
        if ref.tag or ref.digest:
            raise InvalidArgument("tag can't be used with --all-tags/-a")
        ids = _pull_all_tags(engine, ref, options, report, policy)
        engine.events.emit("image", "pull", name=name)
        return ids
    resolution = resolve_short_name(ref, engine.registries)
    note = resolution.describe()
    if note:
        report(note)
    errors: list[SealpodError] = []
    for candidate in resolution.candidates:
        report(f"Trying to pull {candidate}...")
        try:
            image_id = _pull_one(engine, candidate, options, report, policy)
            engine.events.emit("image", "pull", name=name)  # Podman 4.3: the name as given, no image ID
            return [image_id]
        except SealpodError as e:
            errors.append(e)
    if len(errors) == 1:
        raise errors[0]
    details = "; ".join(f"{c}: {e}" for c, e in zip(resolution.candidates, errors, strict=False))
    raise RegistryError(f"{len(errors)} errors occurred while pulling: {details}")


def remote_digest(engine: Engine, name: str, options: PullOptions) -> str | None:
    """The digest the registry now gives for ``name`` (first search registry for a short name),
    or None when it cannot be asked or does not know it: what ``--policy newer`` compares."""
    from sealpod.image.manifest import ACCEPT
    from sealpod.image.shortnames import resolve_short_name

    ref = resolve_short_name(_docker_ref(name), engine.registries).candidates[0]
    if ref.digest is not None:
        return ref.digest
    for source in engine.registries.pull_sources(str(ref)):  # mirrors and rewritten locations, as a pull
        src = parse_reference(source.name)
        assert src.registry is not None
        try:
            with _client(engine, src.registry, options.registry, src.repository, source.insecure) as client:
                found = client.head_manifest(src.repository, src.tag or "latest", ACCEPT)
        except SealpodError:
            continue
        if found:
            return found[0]
    return None


def _pull_all_tags(engine: Engine, ref: Reference, options: PullOptions, report: Report,
                   policy: Policy) -> list[str]:
    from sealpod.image.shortnames import resolve_short_name

    candidate = resolve_short_name(ref, engine.registries).candidates[0]
    assert candidate.registry is not None
    with _client(engine, candidate.registry, options.registry, candidate.repository) as client:
        tags = client.list_tags(candidate.repository)
    ids: list[str] = []
    for tag in tags:
        target = candidate.with_tag(tag)
        report(f"Trying to pull {target}...")
        ids.append(_pull_one(engine, target, options, report, policy))
    return list(dict.fromkeys(ids))


def _pull_one(engine: Engine, ref: Reference, options: PullOptions, report: Report, policy: Policy) -> str:
    """Pull one fully qualified reference, trying registries.conf mirrors before the registry;
    policy.json judges the image by the name asked for, whichever mirror serves it."""
    from sealpod.engine.trust import docker_policy
    from sealpod.image.copy import CopyOptions, copy_image
    from sealpod.image.transports.containers_storage import StorageDestination
    from sealpod.image.transports.docker import DockerSource

    conf = engine.registries
    if conf.is_blocked(ref.name):
        raise RegistryError(f"initializing source docker://{ref}: registry {ref.registry} is blocked in "
                            f"{conf.files[0] if conf.files else 'registries.conf'}")
    # By digest, the image is named "repo@digest" (tag dropped), as Podman does, so that
    # `images` shows its repository and the same reference finds it again.
    names = [str(ref) if ref.digest is None else f"{ref.name}@{ref.digest}"]
    sources = conf.pull_sources(str(ref))
    last: SealpodError | None = None
    for source in sources:
        src_ref = parse_reference(source.name)
        assert src_ref.registry is not None
        client = _client(engine, src_ref.registry, options.registry, src_ref.repository, source.insecure)
        src = DockerSource(client, src_ref, ref)
        dest = StorageDestination(engine.store, names)
        try:
            return copy_image(src, dest, CopyOptions(platform=_platform(options), progress=options.progress,
                                                     policy=docker_policy(engine, policy, ref)), report)
        except PolicyRejected:
            raise  # the verdict is on the image, not on the mirror that served it
        except SealpodError as e:
            last = e
        finally:
            src.close()
    assert last is not None
    raise last


def push(engine: Engine, image: ImageRecord, typed: str, destination: str | None, options: PushOptions,
         report: Report) -> str:
    """Push a local image to ``destination`` (default: the name it was given by); return the digest."""
    from sealpod.image.copy import CopyOptions, copy_image
    from sealpod.image.recompress import check_format
    from sealpod.image.transports.containers_storage import StorageSource
    from sealpod.image.transports.docker import DockerDestination

    check_format(options.compression)
    transport = split_transport(destination)[0] if destination else None
    if options.sigstore_key is not None:  # before anything is written
        from sealpod.engine.sigstore_sign import refuse_sigstore

        refuse_sigstore(options.sigstore_key, transport, destination)
    if transport not in (None, "docker"):
        from sealpod.engine.image_transports import push_local

        assert destination is not None
        if options.sign_by:
            raise InvalidArgument(f"--sign-by: signing is only supported for docker:// destinations, not {transport}:")
        compression, plain_only = options.compression, False
        if options.compress and transport == "dir" and compression is None:  # Podman: gzip, else as stored
            compression, plain_only = "gzip", True
        digest = push_local(engine, image, typed, destination, options.progress, report, compression, plain_only)
        if options.digest_file is not None:
            options.digest_file.write_text(digest)
        engine.events.emit("image", "push", id=image.id, name=destination)
        return digest
    dest_ref = _push_target(image, typed, destination)
    assert dest_ref.registry is not None
    mount_from = [parse_reference(n).repository for n in image.names
                  if parse_reference(n).registry == dest_ref.registry]
    client = _client(engine, dest_ref.registry, options.registry, dest_ref.repository)
    dest = DockerDestination(client, dest_ref, mount_from)
    src = StorageSource(engine.store, image.id)
    sign = None
    if options.sign_by:
        from sealpod.engine.trust import signer

        sign = signer(engine, dest_ref, options.sign_by, options.sign_passphrase_file)
    try:
        digest = copy_image(src, dest, CopyOptions(progress=options.progress, sign=sign,
                                                   compression=options.compression), report)
    finally:
        dest.close()
    if options.digest_file is not None:
        options.digest_file.write_text(digest)
    engine.events.emit("image", "push", id=image.id, name=str(dest_ref))
    return digest


def _push_target(image: ImageRecord, typed: str, destination: str | None) -> Reference:
    if destination is None:
        ref = parse_reference(typed)
        if ref.is_short_name:  # the stored name the user meant
            match = [n for n in image.names if n.endswith("/" + str(ref.tagged_or_latest()))]
            if not match:
                raise InvalidArgument(f"{typed}: a destination with a registry is needed to push")
            ref = parse_reference(match[0])
    else:
        ref = _docker_ref(destination)
        if ref.is_short_name:
            ref = ref.with_registry("docker.io")
    return ref if ref.digest else ref.tagged_or_latest()


def search(engine: Engine, term: str, options: PullOptions, limit: int) -> list[SearchResult]:
    """Search registries: ``registry/term`` searches that registry, a bare term every search registry."""
    head, sep, rest = term.partition("/")
    if sep and ("." in head or ":" in head or head == "localhost"):
        registries, needle = [head], rest
    else:
        registries, needle = list(engine.registries.unqualified_search_registries), term
    if not registries:
        raise InvalidArgument("no registries to search: give REGISTRY/TERM or set unqualified-search-registries")
    results: list[SearchResult] = []
    for registry in registries:
        with _client(engine, registry, options.registry) as client:
            try:
                repos = client.catalog()
            except RegistryError as e:
                raise RegistryError(f"couldn't search registry {registry!r}: {e}") from e
        for repo in repos:
            if needle.lower() in repo.lower():
                results.append(SearchResult(index=registry, name=f"{registry}/{repo}"))
                if len(results) >= limit:
                    return results
    return results


def list_tags(engine: Engine, name: str, options: PullOptions) -> list[tuple[str, str]]:
    """``search --list-tags``: every tag of one repository (a short name uses the first search registry)."""
    from sealpod.image.shortnames import resolve_short_name

    ref = _docker_ref(name)
    if ref.tag or ref.digest:
        raise InvalidArgument(f"reference {name!r} must not have a tag or digest for --list-tags")
    candidate = resolve_short_name(ref, engine.registries).candidates[0]
    assert candidate.registry is not None
    with _client(engine, candidate.registry, options.registry, candidate.repository) as client:
        return [(candidate.name, tag) for tag in client.list_tags(candidate.repository)]


def check_login(engine: Engine, registry: str, username: str, password: str, flags: RegistryFlags) -> None:
    """Check credentials against the registry without storing them (the API's ``/auth``)."""
    from sealpod.image.registry.auth import Credentials
    from sealpod.image.transports.docker import open_client
    from sealpod.utils.record import replace

    host = _login_host(registry)
    access = replace(_access(replace(flags, creds=None)), credentials=Credentials(username, password))
    with open_client(host, access, engine.registries, engine.env, engine.home) as client:
        try:
            client.ping()
        except SealpodError as e:
            raise type(e)(f'logging into "{host}": {e}') from e


def login(engine: Engine, registry: str, username: str, password: str, flags: RegistryFlags) -> Path:
    """Check the credentials against the registry, then store them; return the auth file."""
    from sealpod.image.authfile import auth_file_path, store_credentials, validate_key
    from sealpod.image.registry.auth import Credentials

    validate_key(auth_key(registry))  # a tagged reference is refused before the registry is asked
    check_login(engine, registry, username, password, flags)
    creds = Credentials(username, password)
    path = flags.auth_file or auth_file_path(engine.env)
    store_credentials(auth_key(registry), creds, auth_file=path)
    return path


def auth_key(registry: str) -> str:
    """The auth-file key for a login/logout argument: with an http(s):// prefix (Docker style) only its host."""
    if registry.startswith(("https://", "http://")):
        return _login_host(registry)
    return registry.rstrip("/")


def _login_host(registry: str) -> str:
    host = registry.removeprefix("https://").removeprefix("http://").split("/", 1)[0]
    if not host:
        raise InvalidArgument("please provide a registry to log in to")
    return host


def logout(engine: Engine, registry: str | None, flags: RegistryFlags, all_registries: bool) -> Path:
    from sealpod.errors import NotFound
    from sealpod.image.authfile import auth_file_path, remove_all, remove_credentials

    path = flags.auth_file or auth_file_path(engine.env)
    if all_registries:
        remove_all(path)
        return path
    if not registry:
        raise InvalidArgument("please provide a registry to log out from")
    key = auth_key(registry)
    if not remove_credentials(key, auth_file=path):
        raise NotFound(f"not logged into {key}")
    return path
