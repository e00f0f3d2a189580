"""One container through conmon and runc with nothing of sealpod around it: the floor of `run`.

Why: the ratio targets of `run` are set against Podman, and part of both engines' time is the
same fixed work (a Python interpreter's start for us, conmon, ``runc create``).  This script does
only that fixed part, with a bundle some engine already prepared (its config.json and mounted
root), so that bench/compare.py can say how much of a `run` any Python engine could still save.

    python -I -S bench/floor_once.py BUNDLE_CONFIG WORKDIR NAME [--rm]

Without ``--rm`` it stops where ``run -d`` does (the process started); with it, it waits for the
exit as ``run --rm`` does and deletes the runtime's container.  Only the standard library, as
few modules as it can.
"""

import json
import os
import select
import sys


def main() -> int:
    config, work, name = sys.argv[1], sys.argv[2], sys.argv[3]
    remove = "--rm" in sys.argv[4:]
    bundle = os.path.join(work, name)
    state = os.path.join(work, "runc")
    exits = os.path.join(work, "exits")
    os.makedirs(bundle, exist_ok=True)
    os.makedirs(exits, exist_ok=True)
    with open(config) as f:
        spec = json.load(f)
    spec["linux"]["cgroupsPath"] = f"/sealpod_floor/{name}"
    if remove:
        spec["process"]["args"] = ["true"]
    with open(os.path.join(bundle, "config.json"), "w") as f:
        json.dump(spec, f)
    sync_r, sync_w = os.pipe()
    start_r, start_w = os.pipe()
    os.set_inheritable(sync_w, True)
    os.set_inheritable(start_r, True)
    env = dict(os.environ, _OCI_SYNCPIPE=str(sync_w), _OCI_STARTPIPE=str(start_r))
    argv = ["/usr/bin/conmon", "--api-version", "1", "-c", name, "-u", name, "-r", "/usr/bin/runc", "-b", bundle,
            "-p", os.path.join(bundle, "pidfile"), "-n", name, "--exit-dir", exits, "--full-attach",
            "-l", f"k8s-file:{bundle}/ctr.log", "--log-level", "error", "--runtime-arg=--root",
            f"--runtime-arg={state}", "--conmon-pidfile", os.path.join(bundle, "conmon.pid")]
    null = [(os.POSIX_SPAWN_OPEN, fd, os.devnull, os.O_RDWR, 0) for fd in (0, 1, 2)]
    pid = os.posix_spawn(argv[0], argv, env, file_actions=null)
    os.close(sync_w)
    os.close(start_r)
    os.write(start_w, b"0")
    os.waitpid(pid, 0)  # conmon double-forks: its first process returns at once
    buf = b""
    while b"\n" not in buf:
        select.select([sync_r], [], [])
        chunk = os.read(sync_r, 65536)
        if not chunk:
            break
        buf += chunk
    message = json.loads(buf.split(b"\n")[0] or b"{}")
    if message.get("data", -1) < 0:
        sys.stderr.write(f"floor: {message}\n")
        return 1
    fifo = os.open(os.path.join(state, name, "exec.fifo"), os.O_RDONLY)  # what `runc start` does
    os.read(fifo, 1)
    os.close(fifo)
    if remove:
        exit_file = os.path.join(exits, name)
        while not os.path.exists(exit_file):  # conmon writes it when the process ended
            select.select([], [], [], 0.001)
        child = os.posix_spawn("/usr/bin/runc", ["runc", "--root", state, "delete", "--force", name],
                               dict(os.environ), file_actions=null)
        os.waitpid(child, 0)
    return 0


if __name__ == "__main__":
    sys.exit(main())
