"""The real ``podman --remote`` 4.3.1 client, pointed at a test module's ``sealpod system service``."""

from __future__ import annotations

import subprocess

from tests.rig.api import ApiService


class Remote:
    def __init__(self, api: ApiService, image: str) -> None:
        self.api, self.image = api, image

    def __call__(self, *args: str, check: bool = True, timeout: float = 120) -> subprocess.CompletedProcess[str]:
        argv = ["podman", "--remote", "--url", self.api.url, *args]
        unset = ("REGISTRY_AUTH_FILE", "DOCKER_CONFIG")  # the client stats them: they must exist if set
        env = {k: v for k, v in self.api.runner.env.items() if k not in unset}
        proc = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=timeout,
                              cwd=self.api.runner.base)
        if check and proc.returncode != 0:
            raise AssertionError(f"podman --remote {' '.join(args)} failed ({proc.returncode}):\n{proc.stdout}\n"
                                 f"{proc.stderr}\n--- service log ---\n{self.api.log_tail()}")
        return proc

    def out(self, *args: str) -> str:
        return self(*args).stdout.strip()
