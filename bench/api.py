"""Requests per second of `sealpod system service` and `podman system service`, side by side.

    .venv/bin/python bench/api.py [--seconds 3] [--clients 4] [--cycles 10]

Each engine serves its own --root/--runroot on a unix socket; the same keep-alive clients
hit GET /_ping, GET /images/json and GET /containers/json and count answers.  The `cycle`
workload then times create-start-wait-remove of a container through the API, one after the
other (Podman gets this sandbox's ulimits in HostConfig.Ulimits, as the CLI gets --ulimit).
"""

from __future__ import annotations

import argparse
import http.client
import json
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


class UnixConnection(http.client.HTTPConnection):
    def __init__(self, path: str) -> None:
        super().__init__("localhost", timeout=30)
        self.path = path

    def connect(self) -> None:
        self.sock = socket.socket(socket.AF_UNIX)
        self.sock.connect(self.path)


def hammer(sock: str, target: str, seconds: float, clients: int) -> float:
    counts = [0] * clients

    def run(i: int) -> None:
        conn = UnixConnection(sock)
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            conn.request("GET", target)
            resp = conn.getresponse()
            resp.read()
            if resp.status == 200:
                counts[i] += 1
        conn.close()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return sum(counts) / seconds


def start(argv: list[str], sock: Path) -> subprocess.Popen[bytes]:
    proc = subprocess.Popen([*argv, "system", "service", "--time", "0", f"unix://{sock}"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 20
    while not sock.exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    time.sleep(0.3)
    return proc


def populate(engines: dict[str, list[str]], work: Path, count: int) -> str:
    """``count`` running busybox containers in each store, from an image served locally; the
    image's reference."""
    sys.path.insert(0, str(REPO))
    from tests.rig.images import BUSYBOX, Layer, build_image, push_image, tiny_entries
    from tests.rig.registry import start_registry, stop_process

    server, reg = start_registry(work / "registry")
    try:
        push_image(server, "bench/tiny", "latest",
                   build_image([Layer(tiny_entries(BUSYBOX.read_bytes()), "gzip", "COPY busybox /")]))
        ref = f"{server.host}/bench/tiny:latest"
        flags = {"sealpod": ["--network", "none"],
                 "podman": ["--network", "none", "--ulimit", "nofile=1024:1024", "--ulimit", "nproc=1024:1024"]}
        for name, argv in engines.items():
            base = [*argv, "--runtime", "runc", "--cgroup-manager", "cgroupfs"] if name == "podman" else argv
            subprocess.run([*base, "pull", "--tls-verify=false", ref], check=True, capture_output=True)
            for _ in range(count):
                subprocess.run([*base, "run", "-d", *flags[name], ref, "sleep", "1000"], check=True,
                               capture_output=True)
    finally:
        stop_process(reg)
    return ref


_PODMAN_ULIMITS = [{"Name": "nofile", "Soft": 1024, "Hard": 1024}, {"Name": "nproc", "Soft": 1024, "Hard": 1024}]


def _call(conn: http.client.HTTPConnection, method: str, target: str, body: object = None) -> dict[str, object]:
    data = json.dumps(body).encode() if body is not None else None
    conn.request(method, target, body=data, headers={"Content-Type": "application/json"} if data else {})
    resp = conn.getresponse()
    raw = resp.read()
    if resp.status >= 300:
        raise RuntimeError(f"{method} {target}: {resp.status} {raw[:200]!r}")
    return json.loads(raw) if raw.strip().startswith(b"{") else {}


def cycle(sock: str, ref: str, cycles: int, podman: bool) -> float:
    """Seconds per create-start-wait-remove of a container running `true`, through the API."""
    conn = UnixConnection(sock)
    host_config: dict[str, object] = {"NetworkMode": "none"}
    if podman:
        host_config["Ulimits"] = _PODMAN_ULIMITS
    body = {"Image": ref, "Cmd": ["true"], "HostConfig": host_config}
    started = time.monotonic()
    for _ in range(cycles):
        cid = _call(conn, "POST", "/v1.41/containers/create", body)["Id"]
        _call(conn, "POST", f"/v1.41/containers/{cid}/start")
        _call(conn, "POST", f"/v1.41/containers/{cid}/wait")
        _call(conn, "DELETE", f"/v1.41/containers/{cid}?force=1")
    conn.close()
    return (time.monotonic() - started) / cycles


def cleanup(engines: dict[str, list[str]]) -> None:
    for name, argv in engines.items():
        base = [*argv, "--runtime", "runc"] if name == "podman" else argv
        subprocess.run([*base, "rm", "-af", "-t", "0"], capture_output=True)


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=3.0)
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--running", type=int, default=50, help="running containers for /containers/json")
    parser.add_argument("--cycles", type=int, default=10, help="create-start-wait-remove cycles (0: skip)")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="sealpod-apibench-"))
    engines = {
        "sealpod": [str(REPO / ".venv/bin/sealpod"), "--root", str(work / "s-root"), "--runroot", str(work / "s-run")],
        "podman": ["podman", "--root", str(work / "p-root"), "--runroot", str(work / "p-run")],
    }
    ref = populate(engines, work, args.running) if args.running or args.cycles else ""
    service_flags = {"sealpod": [], "podman": ["--runtime", "runc", "--cgroup-manager", "cgroupfs"]}
    procs = {name: start([*argv, *service_flags[name]], work / f"{name}.sock") for name, argv in engines.items()}
    try:
        for target in ("/_ping", "/v1.41/images/json", "/v1.41/containers/json?all=1"):
            rps = {name: hammer(str(work / f"{name}.sock"), target, args.seconds, args.clients) for name in engines}
            print(f"GET {target:<30} sealpod {rps['sealpod']:8.0f}/s   podman {rps['podman']:8.0f}/s   "
                  f"ratio {rps['sealpod'] / rps['podman']:5.2f}", flush=True)
        if args.cycles:
            took = {name: cycle(str(work / f"{name}.sock"), ref, args.cycles, name == "podman") for name in engines}
            print(f"cycle create-start-wait-rm        sealpod {took['sealpod']:7.3f}s    "
                  f"podman {took['podman']:7.3f}s    ratio {took['sealpod'] / took['podman']:5.2f} (time: lower is "
                  "better)", flush=True)
    finally:
        for proc in procs.values():
            proc.terminate()
            proc.wait()
        cleanup(engines)
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
