"""Image routes: list, inspect, history, tag, remove, prune, pull, push, search, auth, save, load, commit.

Docker and libpod share a handler wherever the shapes agree; ``req.libpod`` picks the shape
where they do not (Docker: ``sha256:`` IDs, JSON progress messages; Podman: bare IDs,
``{"stream": ...}`` lines).  Pull and push run in a worker thread so that their progress
reaches the client while they run.
"""

from __future__ import annotations

import base64
import json
import queue
import threading
import time
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

from sealpod.api.http import Handler, Request, Response, Router, json_response, no_content
from sealpod.errors import InvalidArgument, NoSuchImage, NotFound, RegistryAuthError, SealpodError

if TYPE_CHECKING:
    from sealpod.engine.entities import ImageSummary, RegistryFlags

Emit = Callable[[dict[str, Any]], None]
_END = object()


# --- small translations ---------------------------------------------------------------------

def _sha(image_id: str) -> str:
    return image_id if image_id.startswith("sha256:") else f"sha256:{image_id}"


def _image_id(req: Request, image_id: str) -> str:
    return image_id if req.libpod else _sha(image_id)


def _split_name(name: str) -> tuple[str, str]:
    """``host:5000/a/b:tag`` → (``host:5000/a/b``, ``tag``); a digest stays in the second part."""
    if "@" in name:
        repo, _, digest = name.partition("@")
        return repo, digest
    head, sep, tail = name.rpartition(":")
    if sep and "/" not in tail:
        return head, tail
    return name, ""


def _with_tag(name: str, tag: str | None) -> str:
    """Docker sends ``fromImage`` and ``tag`` apart; a digest "tag" makes a ``name@digest``."""
    if not tag:
        return name
    if tag.startswith("sha256:"):
        return f"{_split_name(name)[0]}@{tag}"
    return f"{_split_name(name)[0]}:{tag}"


def _name(req: Request) -> str:
    """The image in the path; Docker also takes ``sha256:`` before a short ID (docker-py's ``short_id``)."""
    name = req.params["name"]
    bare = name.removeprefix("sha256:")
    if name != bare and len(bare) < 64 and all(c in "0123456789abcdef" for c in bare):
        return bare
    return name


def _header(req: Request, name: str) -> str | None:
    wanted = name.lower()
    return next((v for k, v in req.headers.items() if k.lower() == wanted), None)


def _decode_auth(raw: str) -> dict[str, Any]:
    raw = raw.strip()
    if not raw:
        return {}
    try:
        doc = json.loads(base64.urlsafe_b64decode(raw + "=" * (-len(raw) % 4)))
    except (ValueError, TypeError) as e:
        raise InvalidArgument(f"failed to parse X-Registry-Auth header: {e}") from e
    return doc if isinstance(doc, dict) else {}


def _auth_for(doc: dict[str, Any], name: str) -> dict[str, Any]:
    """One auth config, or (libpod) a map of registry → config: the entry for ``name``'s registry."""
    if not doc or any(k in doc for k in ("username", "password", "identitytoken", "auth")):
        return doc
    host = name.split("/", 1)[0]
    for key, value in doc.items():
        if isinstance(value, dict) and key.removeprefix("https://").removeprefix("http://").rstrip("/") == host:
            return value
    return {}


def _registry_flags(req: Request, name: str) -> RegistryFlags:
    """Credentials from ``X-Registry-Auth`` (base64 JSON) and libpod's ``tlsVerify``."""
    from sealpod.engine.entities import RegistryFlags

    auth = _auth_for(_decode_auth(_header(req, "X-Registry-Auth") or ""), name)
    user, password = str(auth.get("username") or ""), str(auth.get("password") or "")
    if not user and auth.get("auth"):
        user, _, password = base64.b64decode(str(auth["auth"])).decode().partition(":")
    tls = req.arg("tlsVerify")
    return RegistryFlags(tls_verify=None if tls in (None, "") else req.flag("tlsVerify"),
                         creds=f"{user}:{password}" if user else None)


# --- streaming an engine call -----------------------------------------------------------------

def _error_message(req: Request, err: BaseException) -> dict[str, Any]:
    text = err.message if isinstance(err, SealpodError) else f"{type(err).__name__}: {err}"
    if req.libpod:
        return {"error": text}
    return {"errorDetail": {"message": text}, "error": text}


def _streamed(req: Request, work: Callable[[Emit], None], early_errors: bool = True) -> Response:
    """Run ``work`` in a thread and stream the JSON messages it emits.

    With ``early_errors``, a failure before the first message is the HTTP status (Docker
    answers a pull of an unknown image with 404); a later one is an ``error`` message in a
    200 stream, as Docker and Podman send it.
    """
    q: queue.Queue[Any] = queue.Queue()

    def target() -> None:
        try:
            work(q.put)
        except BaseException as e:  # noqa: B036 - handed to the stream, which reports it
            q.put(e)
        finally:
            q.put(_END)

    thread = threading.Thread(target=target, daemon=True, name="api-transfer")
    thread.start()
    first = q.get()
    if early_errors and isinstance(first, SealpodError):
        thread.join()
        raise first

    def stream() -> Iterator[bytes]:
        item = first
        try:
            while item is not _END:
                doc = _error_message(req, item) if isinstance(item, BaseException) else item
                yield json.dumps(doc).encode() + b"\r\n"
                item = q.get()
        finally:
            thread.join()

    return Response(200, stream=stream())


class _Progress:
    """Docker's progress messages from the engine's report lines and per-blob byte counts."""

    def __init__(self, emit: Emit, first: dict[str, Any], verbs: tuple[str, str, str, str]) -> None:
        self.emit = emit
        self.first = first
        self.start, self.moving, self.moved, self.finished = verbs
        self.lock = threading.Lock()
        self.layers: list[str] = []
        self.last: dict[str, float] = {}
        self.done: set[str] = set()

    def line(self, text: str) -> None:
        with self.lock:
            if text == "Getting image source signatures":
                self.emit(self.first)
            elif text.startswith("Copying blob ") and text.endswith("skipped: already exists"):
                self.emit({"status": "Already exists", "progressDetail": {},
                           "id": text.split()[2].removeprefix("sha256:")[:12]})
            elif text.startswith("Copying blob "):
                short = text.split()[2].removeprefix("sha256:")[:12]
                self.layers.append(short)
                self.emit({"status": self.start, "progressDetail": {}, "id": short})
            elif text.startswith("Copying config ") and "skipped" not in text:
                for short in self.layers:
                    self.emit({"status": self.finished, "progressDetail": {}, "id": short})

    def blob(self, digest: str, done: int, total: int) -> None:
        short = digest.removeprefix("sha256:")[:12]
        now = time.monotonic()
        with self.lock:
            if short in self.done:
                return
            if done >= total:
                self.done.add(short)
                self.emit({"status": self.moved, "progressDetail": {}, "id": short})
            elif now - self.last.get(short, 0.0) >= 0.1:
                self.last[short] = now
                bar = "=" * (50 * done // max(total, 1))
                self.emit({"status": self.moving, "progressDetail": {"current": done, "total": total},
                           "progress": f"[{bar:<50}] {done}B/{total}B", "id": short})


# --- listing and inspecting -------------------------------------------------------------------

def _docker_summary(s: ImageSummary) -> dict[str, Any]:
    tags = [n for n in s.names if "@" not in n]
    return {"Id": _sha(s.id), "ParentId": s.parent_id, "RepoTags": tags or ["<none>:<none>"],
            "RepoDigests": list(s.repo_digests), "Created": s.created, "Size": s.size, "SharedSize": -1,
            "VirtualSize": s.size, "Labels": s.labels or {}, "Containers": s.containers}


def _libpod_list_filters(req: Request) -> list[str]:
    """podman-remote splits ``--filter label=a=b`` at every ``=`` and sends ``{"label": ["a", "b"]}``; Podman's
    image list joins a key's values back with ``=``, so that is what a list of values means here."""
    import json

    try:
        doc = json.loads(req.arg("filters") or "{}")
    except ValueError:
        doc = None
    if not isinstance(doc, dict) or not all(isinstance(v, list) for v in doc.values()):
        return req.filter_specs()  # {"key": {"value": true}} (Docker's old form): one filter per value
    return [f"{k}={'='.join(str(v) for v in values)}" for k, values in doc.items() if values]


def list_images(req: Request) -> Response:
    specs = _libpod_list_filters(req) if req.libpod else req.filter_specs()
    images = req.engine.images.list_images(specs, all_images=req.flag("all"))
    if req.libpod:
        return json_response([{**s.to_json(), "RepoTags": [n for n in s.names if "@" not in n]} for s in images])
    return json_response([_docker_summary(s) for s in images])


_CONFIG_DEFAULTS: dict[str, Any] = {
    "Hostname": "", "Domainname": "", "User": "", "AttachStdin": False, "AttachStdout": False,
    "AttachStderr": False, "Tty": False, "OpenStdin": False, "StdinOnce": False, "Env": None, "Cmd": None,
    "Image": "", "Volumes": None, "WorkingDir": "", "Entrypoint": None, "OnBuild": None, "Labels": None,
}


def inspect_image(req: Request) -> Response:
    doc = req.engine.images.inspect(_name(req))
    if req.libpod:
        return json_response(doc)
    return json_response({
        "Id": _sha(doc["Id"]), "RepoTags": doc["RepoTags"], "RepoDigests": doc["RepoDigests"], "Parent": doc["Parent"],
        "Comment": doc["Comment"], "Created": doc["Created"], "DockerVersion": doc["Version"],
        "Author": doc["Author"], "Config": {**_CONFIG_DEFAULTS, **(doc["Config"] or {}),
                                            **({"Healthcheck": doc["Healthcheck"]} if "Healthcheck" in doc else {})},
        "Architecture": doc["Architecture"], "Os": doc["Os"], "Size": doc["Size"],
        "VirtualSize": doc["VirtualSize"], "GraphDriver": doc["GraphDriver"], "RootFS": doc["RootFS"],
        "Metadata": {"LastTagTime": "0001-01-01T00:00:00Z"},
    })


def image_exists(req: Request) -> Response:
    if not req.engine.images.exists(_name(req)):
        raise NoSuchImage(f"{req.params['name']}: image not known")
    return no_content()


def history(req: Request) -> Response:
    entries = req.engine.images.history(_name(req))
    return json_response([
        {"Id": e.id if e.id == "<missing>" else _image_id(req, e.id), "Created": e.created or 0,
         "CreatedBy": e.created_by, "Tags": list(e.tags) or None, "Size": e.size, "Comment": e.comment}
        for e in entries])


def tree(req: Request) -> Response:
    """Libpod's image tree: the text ``podman image tree`` prints, which the remote client prints as is."""
    return json_response({"Tree": req.engine.images.tree(_name(req), whatrequires=req.flag("whatrequires"))})


# --- names and removal ------------------------------------------------------------------------

def _repo_tag(req: Request) -> str:
    repo = req.arg("repo")
    if not repo:
        raise InvalidArgument("repo must be given: the new name of the image")
    return f"{repo}:{req.arg('tag') or 'latest'}"


def tag(req: Request) -> Response:
    req.engine.images.tag(_name(req), [_repo_tag(req)])
    return Response(201, b"", content_type="")


def untag(req: Request) -> Response:
    names = [_repo_tag(req)] if req.arg("repo") else []
    req.engine.images.untag(_name(req), names)
    return Response(201, b"", content_type="")


def remove(req: Request) -> Response:
    report = req.engine.images.remove([_name(req)], force=req.flag("force"), no_prune=req.flag("noprune"))
    if report.errors:
        err = report.errors[0]
        raise err if isinstance(err, SealpodError) else SealpodError(str(err))
    if req.libpod:
        return json_response({"Untagged": report.untagged, "Deleted": report.deleted, "Errors": [],
                              "ExitCode": 0})
    return json_response([{"Untagged": n} for n in report.untagged] + [{"Deleted": _sha(i)} for i in report.deleted])


def remove_many(req: Request) -> Response:
    """libpod's ``DELETE /images/remove?images=``; on the Docker API it is an image named "remove"."""
    if not req.libpod:
        req.params["name"] = "remove"
        return remove(req)
    report = req.engine.images.remove(req.args("images"), force=req.flag("force"), all_images=req.flag("all"),
                                      ignore=req.flag("ignore"))
    return json_response({"Untagged": report.untagged, "Deleted": report.deleted,
                          "Errors": [str(e) for e in report.errors], "ExitCode": _rmi_exit_code(report.errors)})


def _rmi_exit_code(errors: list[Exception]) -> int:
    """podman-remote exits with this: 1 for an unknown image, 2 for one in use, as the local rmi."""
    from sealpod.errors import ImageInUse, NoSuchImage

    if not errors:
        return 0
    return 2 if isinstance(errors[-1], ImageInUse) else 1 if isinstance(errors[-1], NoSuchImage) else 125


def prune(req: Request) -> Response:
    all_images = req.flag("all")
    specs = []
    for spec in req.filter_specs():
        key, _, value = spec.partition("=")
        if key == "dangling":
            all_images = all_images or value.lower() in ("false", "0")
        else:
            specs.append(spec)
    sizes = {s.id: s.size for s in req.engine.images.list_images()}
    removed = req.engine.images.prune(all_images=all_images, filters=specs)
    if req.libpod:
        return json_response([{"Id": i, "Size": sizes.get(i, 0), "Err": None} for i in removed])
    return json_response({"ImagesDeleted": [{"Deleted": _sha(i)} for i in removed] or None,
                          "SpaceReclaimed": sum(sizes.get(i, 0) for i in removed)})


# --- pull and push ----------------------------------------------------------------------------

def _old_id(req: Request, name: str) -> str | None:
    try:
        return str(req.engine.images.inspect(name)["Id"])
    except SealpodError:
        return None


def _import_tarball(req: Request) -> Response:
    """``POST /images/create?fromSrc=-&repo=&tag=&changes=&message=``: ``docker import``, the
    tarball in the body; Docker answers with the new ID as a status message."""
    import io

    if req.arg("fromSrc") != "-":
        raise InvalidArgument("importing from a URL is not supported: the tarball must be sent in the request body")
    repo = req.arg("repo") or ""
    reference = _with_tag(repo, req.arg("tag")) if repo else None
    image_id = req.engine.container_files.import_image(io.BytesIO(req.body), reference, changes=req.args("changes"),
                                                         message=req.arg("message") or "")
    body = json.dumps({"status": f"sha256:{image_id}"}).encode() + b"\n"
    return Response(200, body)


def libpod_import(req: Request) -> Response:
    """``POST /libpod/images/import``: ``podman-remote import``, the tarball in the body (or a URL, which
    is not fetched here); answers ``{"Id": ...}`` as Podman's ImageImportReport."""
    import io

    if req.arg("url"):
        raise InvalidArgument("importing from a URL is not supported: the tarball must be sent in the request body")
    image_id = req.engine.container_files.import_image(
        io.BytesIO(req.body), req.arg("reference") or None, changes=req.args("changes"),
        message=req.arg("message") or "", os_name=req.arg("os") or "", arch=req.arg("architecture") or "",
        variant=req.arg("variant") or "")
    return json_response({"Id": f"sha256:{image_id}"})


def pull(req: Request) -> Response:
    """``POST /images/create?fromImage=&tag=``: Docker's pull, progress as JSON messages."""
    from sealpod.engine.entities import PullOptions

    if req.arg("fromSrc") is not None:
        return _import_tarball(req)
    from_image = req.arg("fromImage")
    if not from_image:
        raise InvalidArgument("fromImage must be given: the image to pull")
    name = _with_tag(from_image, req.arg("tag"))
    repo, ref = _split_name(name)
    before = _old_id(req, name)

    def work(emit: Emit) -> None:
        progress = _Progress(emit, {"status": f"Pulling from {repo.split('/', 1)[-1]}", "id": ref or "latest"},
                             ("Pulling fs layer", "Downloading", "Download complete", "Pull complete"))
        options = PullOptions(registry=_registry_flags(req, name), platform=req.arg("platform") or None,
                              progress=progress.blob)
        try:
            ids = req.engine.images.pull(name, options, progress.line)
        except RegistryAuthError as e:  # a 401 would make the Docker CLI prompt for a login
            raise NotFound(f"pull access denied for {repo}, repository does not exist or may require "
                           f"'docker login': {e}") from e
        digest = req.engine.images.inspect(ids[0])["Digest"]
        if digest:
            emit({"status": f"Digest: {digest}"})
        fresh = "Image is up to date" if before == ids[0] else "Downloaded newer image"
        emit({"status": f"Status: {fresh} for {name if ref else name + ':latest'}"})

    return _streamed(req, work)


def libpod_pull(req: Request) -> Response:
    """``POST /libpod/images/pull?reference=``: Podman's stream of ``{"stream": ...}`` lines, then the IDs."""
    from sealpod.engine.entities import PullOptions

    name = req.arg("reference")
    if not name:
        raise InvalidArgument("reference must be given: the image to pull")
    quiet = req.flag("quiet")
    policy = req.arg("policy") or "always"  # the remote podman's `run` asks with policy=missing
    if policy not in ("always", "missing", "never", "newer"):
        raise InvalidArgument(f'unsupported pull policy "{policy}"')

    def work(emit: Emit) -> None:
        if policy in ("missing", "never"):
            from sealpod.errors import NoSuchImage

            try:
                local = req.engine.images.get(name).id
            except NoSuchImage:
                if policy == "never":
                    raise
            else:
                emit({"images": [local], "id": local})
                return
        options = PullOptions(registry=_registry_flags(req, name), platform=req.arg("platform") or None,
                              os=req.arg("OS") or req.arg("os") or None, arch=req.arg("Arch") or req.arg("arch")
                              or None, variant=req.arg("Variant") or req.arg("variant") or None,
                              all_tags=req.flag("allTags"))
        ids = req.engine.images.pull(name, options, (lambda _t: None) if quiet else
                                     (lambda t: emit({"stream": t + "\n"})))
        emit({"images": ids, "id": ids[-1]})  # the client prints these: not in the stream, or twice

    return _streamed(req, work, early_errors=False)


def push(req: Request) -> Response:
    """``POST /images/{name}/push?tag=`` (Docker) or ``?destination=`` (libpod), progress streamed."""
    from sealpod.engine.entities import PushOptions

    name = _with_tag(_name(req), req.arg("tag"))
    destination = req.arg("destination") or None
    req.engine.images.get(name)  # an unknown image is a 404, not an error in a stream
    repo, ref = _split_name(destination or name)

    def work(emit: Emit) -> None:
        progress = _Progress(emit, {"status": f"The push refers to repository [{repo}]"},
                             ("Preparing", "Pushing", "Pushed", "Pushed"))
        if req.libpod:
            report: Callable[[str], None] = (lambda _t: None) if req.flag("quiet") else (
                lambda t: emit({"stream": t + "\n"}))
            options = PushOptions(registry=_registry_flags(req, destination or name))
        else:
            report, options = progress.line, PushOptions(registry=_registry_flags(req, name), progress=progress.blob)
        digest = req.engine.images.push(name, destination, options, report)
        if req.libpod:
            emit({"stream": f"Writing manifest {digest}\n"} if not req.flag("quiet") else {"digest": digest})
            return
        emit({"status": f"{ref or 'latest'}: digest: {digest}"})
        emit({"progressDetail": {}, "aux": {"Tag": ref or "latest", "Digest": digest, "Size": 0}})

    return _streamed(req, work)


# --- registries ---------------------------------------------------------------------------------

def search(req: Request) -> Response:
    from sealpod.engine.entities import PullOptions

    term = req.arg("term")
    if not term:
        raise InvalidArgument("term must be given: what to search for")
    limit = req.int_arg("limit", 25) or 25
    results = req.engine.images.search(term, PullOptions(registry=_registry_flags(req, term)), limit)
    if req.libpod:
        return json_response([{"Index": r.index, "Name": r.name, "Description": r.description, "Stars": r.stars,
                               "Official": r.official, "Automated": r.automated, "Tag": r.tag} for r in results])
    return json_response([{"name": r.name, "description": r.description, "star_count": r.stars,
                           "is_official": r.official == "[OK]", "is_automated": r.automated == "[OK]"}
                          for r in results])


def auth(req: Request) -> Response:
    """``POST /auth``: check credentials the way ``login`` does, storing nothing (the client keeps them)."""
    from sealpod.engine.entities import RegistryFlags

    body = req.json()
    if not isinstance(body, dict):
        raise InvalidArgument("decoding request body: expected a JSON object")
    registry = str(body.get("serveraddress") or "")
    tls = body.get("tlsVerify") if isinstance(body.get("tlsVerify"), bool) else None
    req.engine.images.check_login(registry, str(body.get("username") or ""), str(body.get("password") or ""),
                                  RegistryFlags(tls_verify=tls))
    return json_response({"Status": "Login Succeeded", "IdentityToken": ""})


# --- archives and commit ----------------------------------------------------------------------------

def _file_stream(f: Any) -> Iterator[bytes]:
    try:
        while chunk := f.read(256 * 1024):
            yield chunk
    finally:
        f.close()


def _save(req: Request, names: list[str]) -> Response:
    import tempfile

    if not names:
        raise InvalidArgument("no image names given to save")
    fmt = (req.arg("format") or "docker-archive") if req.libpod else "docker-archive"
    f = tempfile.TemporaryFile()
    try:
        req.engine.images.save(names, out=f, fmt=fmt, uncompressed=req.flag("ociAcceptUncompressedLayers"),
                               compress=req.flag("compress"))  # podman-remote's --uncompressed, --compress
        f.seek(0)
    except BaseException:
        f.close()
        raise
    return Response(200, content_type="application/x-tar", stream=_file_stream(f))


def save_many(req: Request) -> Response:
    return _save(req, req.args("names") or req.args("references"))


def save_one(req: Request) -> Response:
    return _save(req, [_name(req)])


def load(req: Request) -> Response:
    import io

    loaded = req.engine.images.load(io.BytesIO(req.body))
    if req.libpod:
        return json_response({"Names": loaded})
    lines = [{"stream": f"Loaded image{' ID' if ':' not in n else ''}: {n}\n"} for n in loaded]
    return Response(200, b"".join(json.dumps(d).encode() + b"\r\n" for d in lines))


def commit(req: Request) -> Response:
    from sealpod.engine.container_files import CommitOptions

    container = req.arg("container")
    if not container:
        raise InvalidArgument("container must be given: the container to commit")
    repo = req.arg("repo") or ""
    reference = f"{repo}:{req.arg('tag') or 'latest'}" if repo else None
    changes = [line for c in req.args("changes") for line in c.splitlines() if line.strip()]
    options = CommitOptions(changes=changes, message=req.arg("comment") or "", author=req.arg("author") or "",
                            pause=req.flag("pause", False),
                            format=(req.arg("format") or "oci") if req.libpod else "docker")
    image_id = req.engine.container_files.commit(container, reference, options)
    return json_response({"Id": _image_id(req, image_id)}, status=201)


def _docker_words(handler: Handler) -> Handler:
    """Docker clients recognise a missing image by "No such image" (docker-py's ImageNotFound)."""
    def wrapped(req: Request) -> Response:
        try:
            return handler(req)
        except NoSuchImage as e:
            if req.libpod or "No such image" in e.message:
                raise
            raise NoSuchImage(f"No such image: {req.params.get('name') or req.arg('fromImage') or ''}".rstrip()
                              ) from e

    return wrapped


def register(r: Router) -> None:
    def add(method: str, path: str, handler: Handler) -> None:
        r.add(method, path, _docker_words(handler))

    add("GET", "/images/json", list_images)
    add("POST", "/images/create", pull)
    add("POST", "/images/pull", libpod_pull)
    add("GET", "/images/search", search)
    add("POST", "/images/prune", prune)
    add("GET", "/images/get", save_many)
    add("GET", "/images/export", save_many)
    add("POST", "/images/load", load)
    add("POST", "/images/import", libpod_import)  # libpod's (Docker imports through /images/create)
    add("DELETE", "/images/remove", remove_many)
    add("POST", "/auth", auth)
    add("POST", "/commit", commit)
    add("GET", "/images/{name:path}/json", inspect_image)
    add("GET", "/images/{name:path}/exists", image_exists)
    add("GET", "/images/{name:path}/history", history)
    add("GET", "/images/{name:path}/tree", tree)
    add("GET", "/images/{name:path}/get", save_one)
    add("POST", "/images/{name:path}/tag", tag)
    add("POST", "/images/{name:path}/untag", untag)
    add("POST", "/images/{name:path}/push", push)
    add("DELETE", "/images/{name:path}", remove)
