"""Real registries for the tests: docker-distribution 2.8 (`docker-registry`) on 127.0.0.1.

Four flavours (plain, htpasswd auth, TLS with a self-signed CA, TLS + auth) are started on
demand by a :class:`RegistryPool` that lives for a pytest session, so a test run that needs
no registry starts none.
"""

from __future__ import annotations

import http.client
import json
import os
import shutil
import socket
import ssl
import subprocess
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType

from sealpod.errors import CommandFailed
from sealpod.utils.proc import run, spawn

USERNAME = "sealtest"
PASSWORD = "s3cret-pass"
KINDS = ("plain", "auth", "tls", "tls_auth")
REGISTRY_BIN = "docker-registry"


@dataclass
class RegistryServer:
    host: str  # "127.0.0.1:PORT"
    url: str  # "http://127.0.0.1:PORT" or "https://127.0.0.1:PORT"
    storage_dir: Path
    username: str | None = None  # set for the auth registries
    password: str | None = None
    ca_cert: Path | None = None  # PEM of the self-signed CA, for the TLS registries
    cert_dir: Path | None = None  # a directory holding ca.crt, as `--cert-dir` expects
    log_path: Path | None = None  # the registry's stdout+stderr

    def log_tail(self, lines: int = 40) -> str:
        if self.log_path is None or not self.log_path.exists():
            return ""
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])


class MissingComponent(Exception):
    """A program the rig needs is not installed: the caller decides between skip and fail."""


class RegistryStartError(RuntimeError):
    """The registry did not come up; the message carries its log."""


@dataclass(frozen=True)
class TLSFiles:
    ca_cert: Path
    server_cert: Path
    server_key: Path
    cert_dir: Path


def require_programs(*names: str) -> None:
    missing = [n for n in names if shutil.which(n) is None]
    if missing:
        pkgs = {"docker-registry": "docker-registry", "openssl": "openssl", "htpasswd": "apache2-utils"}
        raise MissingComponent(", ".join(f"{n} not found (apt-get install {pkgs.get(n, n)})"
                                         for n in missing))


def make_tls(directory: Path) -> TLSFiles:
    """A throw-away CA and a server certificate for IP:127.0.0.1 and DNS:localhost (Go wants SANs)."""
    require_programs("openssl")
    directory.mkdir(parents=True, exist_ok=True)
    ca_key, ca_crt = directory / "ca.key", directory / "ca.pem"
    key, csr, crt, ext = (directory / n for n in ("server.key", "server.csr", "server.crt", "server.ext"))
    ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]
    run([
        "openssl", "req", "-x509", *ec, "-keyout", ca_key, "-out", ca_crt, "-days", "3650",
        "-subj", "/CN=sealtest test CA",
        "-addext", "basicConstraints=critical,CA:TRUE",
        "-addext", "keyUsage=critical,keyCertSign,cRLSign",
    ])  # fmt: skip
    run(["openssl", "req", "-new", *ec, "-keyout", key, "-out", csr, "-subj", "/CN=localhost"])
    ext.write_text("subjectAltName=IP:127.0.0.1,DNS:localhost\n"
                   "extendedKeyUsage=serverAuth\nkeyUsage=critical,digitalSignature,keyEncipherment\n")
    run([
        "openssl", "x509", "-req", "-in", csr, "-CA", ca_crt, "-CAkey", ca_key, "-CAcreateserial",
        "-out", crt, "-days", "3650", "-extfile", ext,
    ])  # fmt: skip
    cert_dir = directory / "certs.d"
    cert_dir.mkdir(exist_ok=True)
    shutil.copy(ca_crt, cert_dir / "ca.crt")
    return TLSFiles(ca_crt, crt, key, cert_dir)


def make_htpasswd(path: Path, user: str = USERNAME, password: str = PASSWORD) -> Path:
    require_programs("htpasswd")
    out = run(["htpasswd", "-Bbn", user, password]).stdout
    path.write_bytes(out.strip() + b"\n")
    return path


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def _config(storage: Path, port: int, htpasswd: Path | None, tls: TLSFiles | None) -> str:
    """YAML is a superset of JSON, so the config is written as JSON: no quoting surprises."""
    http_cfg: dict[str, object] = {"addr": f"127.0.0.1:{port}", "secret": "sealtest-not-a-secret"}
    if tls is not None:
        http_cfg["tls"] = {"certificate": str(tls.server_cert), "key": str(tls.server_key)}
    cfg: dict[str, object] = {
        "version": "0.1",
        "log": {"level": "info", "formatter": "text"},
        "storage": {"filesystem": {"rootdirectory": str(storage)}, "delete": {"enabled": True},
                    "maintenance": {"uploadpurging": {"enabled": False}}},
        "http": http_cfg,
    }
    if htpasswd is not None:
        cfg["auth"] = {"htpasswd": {"realm": "sealtest", "path": str(htpasswd)}}
    return json.dumps(cfg, indent=2)


def _answers(url: str, ca: Path | None) -> bool:
    """True once GET /v2/ gets any HTTP response at all (401 from the auth registries counts)."""
    host = url.split("://", 1)[1]
    conn: http.client.HTTPConnection
    if url.startswith("https"):
        ctx = ssl.create_default_context(cafile=str(ca) if ca else None)
        conn = http.client.HTTPSConnection(host, timeout=2, context=ctx)
    else:
        conn = http.client.HTTPConnection(host, timeout=2)
    try:
        conn.request("GET", "/v2/")
        return conn.getresponse().status in (200, 401)
    except OSError:
        return False
    finally:
        conn.close()


def _wait_ready(proc: subprocess.Popen[bytes], server: RegistryServer, timeout: float = 30) -> bool:
    """Poll until ready; False if the process died (likely a port collision), raise on timeout."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            return False
        if _answers(server.url, server.ca_cert):
            return True
        time.sleep(0.05)
    stop_process(proc)
    raise RegistryStartError(f"registry at {server.url} did not answer in {timeout}s:\n{server.log_tail()}")


def start_registry(workdir: Path, *, auth: bool = False, tls: TLSFiles | None = None,
                   attempts: int = 5) -> tuple[RegistryServer, subprocess.Popen[bytes]]:
    """Start one registry in ``workdir`` on a free port, retrying when the port was taken meanwhile."""
    require_programs(REGISTRY_BIN)
    storage = workdir / "storage"
    storage.mkdir(parents=True, exist_ok=True)
    htpasswd = make_htpasswd(workdir / "htpasswd") if auth else None
    for attempt in range(attempts):
        port = free_port()
        scheme = "https" if tls else "http"
        server = RegistryServer(
            host=f"127.0.0.1:{port}", url=f"{scheme}://127.0.0.1:{port}", storage_dir=storage,
            username=USERNAME if auth else None, password=PASSWORD if auth else None,
            ca_cert=tls.ca_cert if tls else None, cert_dir=tls.cert_dir if tls else None,
            log_path=workdir / f"registry-{attempt}.log",
        )
        config = workdir / "config.yml"
        config.write_text(_config(storage, port, htpasswd, tls))
        env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(workdir)}
        with open(server.log_path or os.devnull, "wb") as log:
            proc = spawn([REGISTRY_BIN, "serve", config], stdout=log, stderr=subprocess.STDOUT, env=env,
                         start_new_session=True)
        if _wait_ready(proc, server):
            return server, proc
        if "address already in use" not in server.log_tail(200):
            raise RegistryStartError(f"registry exited with {proc.returncode}:\n{server.log_tail()}")
    raise RegistryStartError(f"no free port for the registry after {attempts} attempts")


def stop_process(proc: subprocess.Popen[bytes], grace: float = 10) -> None:
    if proc.poll() is not None:
        return
    proc.terminate()
    try:
        proc.wait(grace)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


class RegistryPool:
    """The registries of one pytest session, each started the first time someone asks for it."""

    def __init__(self, base: Path) -> None:
        self._base = base
        self._servers: dict[str, RegistryServer] = {}
        self._procs: list[subprocess.Popen[bytes]] = []
        self._tls: TLSFiles | None = None

    @property
    def started(self) -> Mapping[str, RegistryServer]:
        return MappingProxyType(self._servers)

    def get(self, kind: str) -> RegistryServer:
        if kind not in KINDS:
            raise ValueError(f"unknown registry kind {kind!r}; one of {KINDS}")
        if kind not in self._servers:
            tls = self._tls_files() if kind.startswith("tls") else None
            server, proc = start_registry(self._base / kind, auth=kind.endswith("auth"), tls=tls)
            self._procs.append(proc)
            self._servers[kind] = server
        return self._servers[kind]

    def _tls_files(self) -> TLSFiles:
        if self._tls is None:
            try:
                self._tls = make_tls(self._base / "tls")
            except CommandFailed as e:
                raise RegistryStartError(f"cannot make test certificates: {e}") from e
        return self._tls

    def close(self) -> None:
        for proc in self._procs:
            stop_process(proc)
        self._procs.clear()
