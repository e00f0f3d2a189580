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
    def __init__(self, name: str, argv: list[str], work: Path, env: dict[str, str],
                 run_flags: tuple[str, ...] = ()) -> None:
        self.name, self.base, self.work, self.env = name, argv, work, env
        self.run_flags = run_flags  # what this engine needs on this host to run a container at all
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

    def output(self, *args: str) -> str:
        return subprocess.run(self.argv(*args), env=self.env, check=True, capture_output=True, text=True).stdout

    def conmon_pss_kb(self) -> list[int]:
        """PSS of the conmon processes watching this engine's containers."""
        out = []
        for pid in os.listdir("/proc"):
            if not pid.isdigit():
                continue
            try:
                cmd = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
                if not cmd[0].endswith(b"conmon") or str(self.work / self.name).encode() not in b" ".join(cmd):
                    continue
                for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
                    if line.startswith("Pss:"):
                        out.append(int(line.split()[1]))
            except OSError:
                continue
        return out


def compare(title: str, runs: int, engines: list[Engine], step: Callable[[Engine], float],
            before: Callable[[Engine], None] | None = None, floor: Callable[[], float] | None = None) -> None:
    """Median of ``runs`` per engine, the engines taking turns run by run: a machine that slows
    down for a while slows both, not one.  ``floor``: the same workload's fixed part alone
    (bench/floor_once.py), shown as its own ratio to Podman."""
    times: dict[str, list[float]] = {e.name: [] for e in engines}
    floors: list[float] = []
    for _ in range(runs):
        for e in engines:
            if before:
                before(e)
            times[e.name].append(step(e))
        if floor:
            floors.append(floor())
    s, p = statistics.median(times["sealpod"]), statistics.median(times["podman"])
    line = f"{title:<34} sealpod {s * 1000:9.1f} ms   podman {p * 1000:9.1f} ms   ratio {s / p:5.2f}"
    if floors:
        f = statistics.median(floors)
        line += f"   (floor {f * 1000:.1f} ms, {f / p:.2f} of podman)"
    print(line, flush=True)


class Floor:
    """The fixed part of a run, without any engine: a bare Python start, conmon and runc on a bundle
    sealpod prepared once (bench/floor_once.py).  What sealpod does beyond it is what it can still save."""

    def __init__(self, sealpod: Engine, ref: str) -> None:
        self.sealpod, self.work, self.count = sealpod, sealpod.work / "floor", 0
        cid = sealpod.output("create", "--name", "floorbase", *sealpod.run_flags, ref, "sleep", "1000").strip()
        sealpod.run("init", cid)  # config.json written, root mounted: what runc needs
        self.config = sealpod.work / "sealpod-root" / "overlay-containers" / cid / "userdata" / "config.json"

    def once(self, remove: bool) -> float:
        self.count += 1
        argv = [sys.executable, "-I", "-S", str(REPO / "bench" / "floor_once.py"), str(self.config), str(self.work),
                f"floor{self.count}", *(["--rm"] if remove else [])]
        start = time.perf_counter()
        subprocess.run(argv, check=True)
        return time.perf_counter() - start

    def clean(self) -> None:
        state = self.work / "runc"
        if state.is_dir():
            for name in os.listdir(state):
                subprocess.run(["runc", "--root", str(state), "delete", "--force", name], capture_output=True)
        shutil.rmtree(self.work, ignore_errors=True)

    def close(self) -> None:
        self.clean()
        subprocess.run(self.sealpod.argv("rm", "-f", "-t", "0", "floorbase"), env=self.sealpod.env,
                       capture_output=True)


def seed_many(server: RegistryServer, count: int) -> list[str]:
    """``count`` distinct images (distinct configs) sharing one busybox layer."""
    layer = Layer(tiny_entries(BUSYBOX.read_bytes()), "gzip", "COPY busybox /")
    names = []
    for i in range(count):
        push_image(server, f"bench/img{i}", "latest", build_image([layer], labels={"bench.index": str(i)}))
        names.append(f"{server.host}/bench/img{i}:latest")
    return names


def containers(server: RegistryServer, engines: list[Engine], runs: int, only: set[str], ps_count: int) -> None:
    tiny = BUSYBOX.read_bytes()
    push_image(server, "bench/tiny", "latest", build_image([Layer(tiny_entries(tiny), "gzip", "COPY busybox /")]))
    ref = f"{server.host}/bench/tiny:latest"
    for e in engines:
        e.reset()
        e.run("pull", "--tls-verify=false", ref)
    floor = Floor(engines[0], ref) if only & {"run", "rund"} else None
    if "run" in only and floor:
        compare("run --rm IMAGE true", runs * 2, engines, lambda e: e.run("run", "--rm", *e.run_flags, ref, "true"),
                floor=lambda: floor.once(remove=True))
        floor.clean()
    if "bridge" in only:  # the default bridge network on both sides (netavark for both)
        compare("run --rm IMAGE true (bridge)", runs, engines,
                lambda e: e.run("run", "--rm", *[f for f in e.run_flags if f not in ("--network", "none")],
                                ref, "true"))
    if "exec" in only:
        for e in engines:
            e.run("run", "-d", "--name", "execbench", *e.run_flags, ref, "sleep", "1000")
        compare("exec CTR true", runs * 2, engines, lambda e: e.run("exec", "execbench", "true"))
        for e in engines:
            e.run("rm", "-f", "-t", "0", "execbench")
    if "rund" in only or "memory" in only:
        def fifty(e: Engine) -> float:
            start = time.perf_counter()
            for i in range(50):
                e.run("run", "-d", "--name", f"d{i}", *e.run_flags, ref, "sleep", "1000")
            took = time.perf_counter() - start
            return took

        def clean(e: Engine) -> None:
            subprocess.run(e.argv("rm", "-af", "-t", "0"), env=e.env, capture_output=True)

        f = 0.0
        if floor:  # before `rm -af` takes the floor's bundle away
            f = sum(floor.once(remove=False) for _ in range(50))
            floor.close()
        results = {}
        for e in engines:
            clean(e)
            results[e.name] = fifty(e)
        s, p = results["sealpod"], results["podman"]
        line = f"{'50 x run -d':<34} sealpod {s * 1000:9.1f} ms   podman {p * 1000:9.1f} ms   ratio {s / p:5.2f}"
        if f:
            line += f"   (floor {f * 1000:.1f} ms, {f / p:.2f} of podman)"
        print(line, flush=True)
        pss = {e.name: e.conmon_pss_kb() for e in engines}
        sp, pp = statistics.mean(pss["sealpod"] or [0]), statistics.mean(pss["podman"] or [0])
        print(f"{'memory per detached container':<34} sealpod {sp:9.0f} kB   podman {pp:9.0f} kB   "
              f"ratio {sp / pp if pp else float('nan'):5.2f}  (conmon PSS; no sealpod process stays)")
        for e in engines:
            clean(e)
    if floor:
        floor.close()
    if "pod" in only:
        pods(engines, ref, runs)
    if "rootless" in only:
        rootless(server, engines, runs)
    if "ps" in only:
        for e in engines:
            for i in range(ps_count):
                subprocess.run(e.argv("create", "--name", f"ps{i}", *e.run_flags, ref, "true"), env=e.env,
                               check=True, capture_output=True)
        compare(f"ps -a ({ps_count} containers)", runs, engines, lambda e: e.run("ps", "-a"))
        for e in engines:
            subprocess.run(e.argv("rm", "-af"), env=e.env, capture_output=True)


def rootless(server: RegistryServer, engines: list[Engine], runs: int) -> None:
    """``run --rm IMAGE true`` as the unprivileged user `sealtest` (scripts/setup.sh), both engines in
    their own user namespace (pause process) and storage owned by the user."""
    import pwd

    try:
        user = pwd.getpwnam("sealtest")
    except KeyError:
        print("rootless: no user sealtest (run scripts/setup.sh)", flush=True)
        return
    work = engines[0].work / "rootless"
    home, xdg, tmp = work / "home", work / "xdg", work / "tmp"
    for d in (work, home, xdg, tmp):
        d.mkdir(mode=0o700, exist_ok=True)
        os.chown(d, user.pw_uid, user.pw_gid)
    engines[0].work.chmod(0o711)
    conf = work / "containers.conf"
    conf.write_text(f'[engine]\nimage_copy_tmp_dir = "{tmp}"\n')
    conf.chmod(0o644)
    env = {**engines[0].env, "HOME": str(home), "XDG_RUNTIME_DIR": str(xdg), "USER": "sealtest",
           "CONTAINERS_CONF": str(conf)}
    setpriv = ["setpriv", f"--reuid={user.pw_uid}", f"--regid={user.pw_gid}", "--init-groups", "--"]
    users = [Engine(e.name, setpriv + e.base, work, env, e.run_flags) for e in engines]
    ref = f"{server.host}/bench/tiny:latest"
    try:
        for e in users:
            e.run("pull", "--tls-verify=false", ref)
        compare("rootless run --rm IMAGE true", runs * 2, users,
                lambda e: e.run("run", "--rm", *e.run_flags, ref, "true"))
    finally:
        for e in users:  # end each user namespace (pause process): their mounts go with it
            subprocess.run(e.argv("system", "migrate"), env=e.env, capture_output=True)
            e.reset()


def pods(engines: list[Engine], ref: str, runs: int) -> None:
    """``pod create`` (no network) and three containers started in it; the infra container starts
    with the first.  Podman's infra takes no --ulimit: its defaults come from a containers.conf."""
    def one(e: Engine) -> float:
        took = e.run("pod", "create", "--name", "benchpod", "--network", "none")
        flags = [f for f in e.run_flags if f not in ("--network", "none")]
        for i in range(3):
            took += e.run("run", "-d", "--name", f"benchpod{i}", "--pod", "benchpod", *flags, ref, "sleep", "1000")
        return took

    def clean(e: Engine) -> None:
        subprocess.run(e.argv("pod", "rm", "-af", "-t", "0"), env=e.env, capture_output=True)

    podman = next(e for e in engines if e.name == "podman")
    conf = podman.work / "podman-pod.conf"
    conf.write_text(Path(podman.env["CONTAINERS_CONF"]).read_text() +
                    '[containers]\ndefault_ulimits = ["nofile=1024:1024", "nproc=1024:1024"]\n')
    saved, podman.env = podman.env, {**podman.env, "CONTAINERS_CONF": str(conf)}
    try:
        compare("pod create + 3 x run -d --pod", runs, engines, one, clean)
        for e in engines:
            clean(e)
    finally:
        podman.env = saved


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--only", default="version,images,pull,repull,run,bridge,exec,rund,memory,pod,ps,rootless")
    parser.add_argument("--ps-count", type=int, default=500, help="containers for the ps -a workload")
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
    # Podman needs these here: crun refuses hybrid cgroups and its default ulimits are refused by this
    # sandbox.  Container workloads run with --network none on both sides, except "bridge".
    podman_flags = ("--network", "none", "--ulimit", "nofile=1024:1024", "--ulimit", "nproc=1024:1024")
    engines = [Engine("sealpod", [str(sealpod_bin)], work, env, ("--network", "none")),
               Engine("podman", ["podman", "--runtime", "runc", "--cgroup-manager", "cgroupfs"], work, env,
                      podman_flags)]
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
        if only & {"run", "bridge", "ps", "exec", "rund", "memory", "pod", "rootless"}:
            containers(server, engines, args.runs, only, args.ps_count)
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
