"""The README's first command: build an image from /bin/busybox, push it to a local
registry, and let sealpod pull it, list it and run a container from it."""

from __future__ import annotations

import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.rig.images import build_seed_set, push_image  # noqa: E402
from tests.rig.registry import start_registry, stop_process  # noqa: E402


def main() -> int:
    with tempfile.TemporaryDirectory(prefix="sealpod-demo-") as tmp:
        work = Path(tmp)
        server, proc = start_registry(work / "registry")
        try:
            image = build_seed_set().images["sealtest/tiny:latest"]
            push_image(server, "demo/busybox", "latest", image)
            sealpod = [sys.executable, "-m", "sealpod", "--root", str(work / "root"),
                       "--runroot", str(work / "run")]
            ref = f"{server.host}/demo/busybox:latest"
            print(f"$ sealpod pull --tls-verify=false {ref}", flush=True)
            subprocess.run([*sealpod, "pull", "--tls-verify=false", ref], check=True)
            print("$ sealpod images", flush=True)
            subprocess.run([*sealpod, "images"], check=True)
            print(f"$ sealpod run --rm {ref} sh -c 'echo hello from $(hostname); busybox | head -1'", flush=True)
            subprocess.run([*sealpod, "run", "--rm", ref, "sh", "-c", "echo hello from $(hostname); busybox | head -1"],
                           check=True)
        finally:
            stop_process(proc)
    return 0


if __name__ == "__main__":
    sys.exit(main())
