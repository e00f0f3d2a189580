"""Side-by-side benchmarks: the same workloads against sealpod and podman on one machine.

Each engine gets its own --root/--runroot under one scratch directory; images come from a
docker-registry on 127.0.0.1 started here.  Prints the median time of each and the ratio
sealpod/podman per workload: machines are noisy, ratios are what to read.

    .venv/bin/python bench/compare.py [--runs N] [--only version,images,pull,repull]
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.rig.images import BUSYBOX, Layer, big_image, build_image, push_image, tiny_entries  # noqa: E402
from tests.rig.registry import RegistryServer, start_registry, stop_process  # noqa: E402

REPO = Path(__file__).resolve().parent.parent


class Engine:
    def __init__(self, name: str, argv: list[str], work: Path, env: dict[str, str]) -> None:
        self.name, self.base, self.work, self.env = name, argv, work, env
        self.reset()

    def reset(self) -> None:
        root = self.work / f"{self.name}-root"
        if root.exists():
            subprocess.run(["umount", "-R", str(root)], capture_output=True)
            shutil.rmtree(root, ignore_errors=True)
        shutil.rmtree(self.work / f"{self.name}-run", ignore_errors=True)

    def argv(self, *args: str) -> list[str]:
        return [*self.base, "--root", str(self.work / f"{self.name}-root"),
                "--runroot", str(self.work / f"{self.name}-run"), *args]

    def run(self, *args: str) -> float:
        start = time.perf_counter()
        subprocess.run(self.argv(*args), env=self.env, check=True, stdout=subprocess.DEVNULL,
                       stderr=subprocess.DEVNULL)
        return time.perf_counter() - start


def median_of(runs: int, step: Callable[[], float], before: Callable[[], None] | None = None) -> float:
    times = []
    for _ in range(runs):
        if before:
            before()
        times.append(step())
    return statistics.median(times)


def compare(title: str, runs: int, engines: list[Engine], step: Callable[[Engine], float],
            before: Callable[[Engine], None] | None = None) -> None:
    results = {}
    for _round in range(1):
        for e in engines:
            results[e.name] = median_of(runs, lambda e=e: step(e), (lambda e=e: before(e)) if before else None)
    s, p = results["sealpod"], results["podman"]
    print(f"{title:<34} sealpod {s * 1000:9.1f} ms   podman {p * 1000:9.1f} ms   ratio {s / p:5.2f}", flush=True)


def seed_many(server: RegistryServer, count: int) -> list[str]:
    """``count`` distinct images (distinct configs) sharing one busybox layer."""
    layer = Layer(tiny_entries(BUSYBOX.read_bytes()), "gzip", "COPY busybox /")
    names = []
    for i in range(count):
        push_image(server, f"bench/img{i}", "latest", build_image([layer], labels={"bench.index": str(i)}))
        names.append(f"{server.host}/bench/img{i}:latest")
    return names


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--only", default="version,images,pull,repull")
    args = parser.parse_args()
    only = set(args.only.split(","))
    if not shutil.which("podman"):
        print("podman is not installed: apt-get install podman", file=sys.stderr)
        return 1
    work = Path(tempfile.mkdtemp(prefix="sealpod-bench-"))
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    conf = work / "containers.conf"
    conf.write_text(f'[engine]\nimage_copy_tmp_dir = "{work}"\n')
    env["CONTAINERS_CONF"] = str(conf)
    sealpod_bin = REPO / ".venv" / "bin" / "sealpod"
    engines = [Engine("sealpod", [str(sealpod_bin)], work, env), Engine("podman", ["podman"], work, env)]
    server, proc = start_registry(work / "registry")
    try:
        if "version" in only:
            compare("--version", args.runs * 4, engines, lambda e: e.run("--version"))
        if "images" in only:
            names = seed_many(server, 50)
            for e in engines:
                e.reset()
                for name in names:
                    e.run("pull", "--tls-verify=false", name)
            compare("images (50 images)", args.runs * 2, engines, lambda e: e.run("images"))
        if "pull" in only or "repull" in only:
            print("building the ~100 MB, 5-layer, 20,000-file image...", flush=True)
            push_image(server, "bench/big", "latest", big_image())
            ref = f"{server.host}/bench/big:latest"
            if "pull" in only:
                compare("cold pull (100 MB, 20k files)", args.runs, engines,
                        lambda e: e.run("pull", "--tls-verify=false", ref), lambda e: e.reset())
            if "repull" in only:
                for e in engines:
                    e.run("pull", "--tls-verify=false", ref)
                compare("re-pull of a present image", args.runs, engines,
                        lambda e: e.run("pull", "--tls-verify=false", ref))
    finally:
        stop_process(proc)
        for e in engines:
            e.reset()
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
