"""The rootless network namespace: where a user's bridge networks live (Podman 4's design).

A rootless user cannot make bridges or veths on the host, but may in a network namespace its
own user namespace owns.  So one extra namespace per user (a netns file under the run root,
kept by a mount in the pause process's mount namespace) holds the bridges; netavark runs in it
(from a thread that joined it with setns, so its children start there too) and moves each
container's veth peer into the container's own netns; aardvark-dns, which netavark starts,
answers there for the names on each network.  One slirp4netns gives the namespace outbound
traffic (netavark's masquerade rules send the bridges out through its tap0), and each published
port is a slirp4netns host forward to the namespace, where netavark's DNAT rules take over.

The namespace and its slirp4netns are made for the first bridge container of the user and
released after the last one: nothing is left running when the user has no such container.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import TypeVar

from sealpod.errors import NetworkError
from sealpod.network import netns, slirp
from sealpod.network.portmap import PortMapping

T = TypeVar("T")


def call_in(netns_path: Path, fn: Callable[[], T]) -> T:
    """``fn()`` run by a thread that first joins ``netns_path``: the processes it starts are born
    there, while the rest of this process stays where it is (the thread ends with its namespace)."""
    import threading

    from sealpod.utils.libc import CLONE_NEWNET, setns

    outcome: list[T] = []
    failure: list[BaseException] = []

    def work() -> None:
        try:
            fd = os.open(netns_path, os.O_RDONLY | os.O_CLOEXEC)
        except OSError as e:
            failure.append(NetworkError(f"opening the rootless network namespace {netns_path}: {e.strerror}"))
            return
        try:
            setns(fd, CLONE_NEWNET)
        except OSError as e:
            failure.append(NetworkError(f"joining the rootless network namespace: {e.strerror}"))
            return
        finally:
            os.close(fd)
        try:
            outcome.append(fn())
        except BaseException as e:  # handed to the caller's thread
            failure.append(e)

    worker = threading.Thread(target=work, name="rootless-netns", daemon=True)
    worker.start()
    worker.join()
    if failure:
        raise failure[0]
    return outcome[0]


class RootlessNetns:
    """The user's rootless network namespace under ``run_dir`` (the store's networks run dir)."""

    def __init__(self, run_dir: Path) -> None:
        self.dir = run_dir / "rootless-netns"
        self.path = self.dir / "netns"
        self._state = self.dir / "state.json"

    @contextlib.contextmanager
    def locked(self) -> Iterator[None]:
        """Held across a container's whole setup or teardown: a last container leaving must not
        release the namespace while another one is joining it."""
        import fcntl

        self.dir.mkdir(parents=True, exist_ok=True, mode=0o700)
        fd = os.open(self.dir / "lock", os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            yield
        finally:
            os.close(fd)

    def _read_state(self) -> dict[str, int]:
        try:
            doc = json.loads(self._state.read_text())
        except (OSError, ValueError):
            return {}
        return doc if isinstance(doc, dict) else {}

    def alive(self) -> bool:
        pid = int(self._read_state().get("slirp_pid", 0))
        return netns.is_netns(self.path) and pid > 0 and _is_slirp(pid)

    def ensure(self) -> Path:
        """The namespace, made (with its slirp4netns) when it does not run; call under ``locked``."""
        if self.alive():
            return self.path
        self.release()  # a half-made or orphaned one (the pause process was replaced)
        self.dir.mkdir(parents=True, exist_ok=True, mode=0o700)
        netns.create(self.path)
        try:
            pid = slirp.start(self.path, self.dir / "slirp.sock", self.dir / "slirp.log")
        except BaseException:
            netns.remove(self.path)
            raise
        self._state.write_text(json.dumps({"slirp_pid": pid}))
        return self.path

    def forward(self, ports: Sequence[PortMapping]) -> list[int]:
        """Host ports to the same port of the namespace (netavark's DNAT goes on from there)."""
        ids: list[int] = []
        try:
            for m in ports:
                for i in range(m.range):
                    ids.append(self._hostfwd(m, m.host_port + i))
        except BaseException:
            self.unforward(ids)
            raise
        return ids

    def _hostfwd(self, m: PortMapping, port: int) -> int:
        answer = slirp._api(self.dir / "slirp.sock", {"execute": "add_hostfwd", "arguments": {
            "proto": m.protocol, "host_addr": m.host_ip or "0.0.0.0", "host_port": port,
            "guest_addr": slirp.GUEST_ADDR, "guest_port": port}})
        if "error" in answer:
            error = answer["error"]
            desc = error.get("desc", error) if isinstance(error, dict) else error
            raise NetworkError(f"cannot expose port {port}/{m.protocol} with slirp4netns: {desc}")
        return int(answer.get("return", {}).get("id", -1))

    def unforward(self, ids: Sequence[int]) -> None:
        for fwd in ids:
            if fwd < 0:
                continue
            with contextlib.suppress(OSError, ValueError):
                slirp._api(self.dir / "slirp.sock", {"execute": "remove_hostfwd", "arguments": {"id": fwd}})

    def release(self) -> None:
        """Stop slirp4netns and drop the namespace (its bridges and rules go with it)."""
        pid = int(self._read_state().get("slirp_pid", 0))
        if pid > 0 and _is_slirp(pid):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGTERM)
        netns.remove(self.path)
        self._state.unlink(missing_ok=True)
        (self.dir / "slirp.sock").unlink(missing_ok=True)


def _is_slirp(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")[0].endswith(b"slirp4netns")
    except OSError:
        return False
