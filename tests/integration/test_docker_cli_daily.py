"""The real Docker CLI against `sealpod system service`: start failures and their exit codes, the
prune commands, and the lifecycle commands a Docker user types every day."""

from __future__ import annotations

import json
import time

from tests.rig.api import ApiService

IMAGE = "sealtest/tiny"


def test_run_of_a_missing_executable_exits_127_with_the_runtime_message(api: ApiService) -> None:
    """`docker run` maps the start error's text to 127/126: the attach before start must not fail first."""
    missing = api.docker("run", "--rm", IMAGE, "no-such-program", check=False)
    assert missing.returncode == 127, missing.stderr
    assert 'docker: Error response from daemon: ' in missing.stderr
    assert 'exec: "no-such-program": executable file not found in $PATH' in missing.stderr
    not_executable = api.docker("run", "--name", "dd-notexec", IMAGE, "/etc", check=False)
    assert not_executable.returncode == 126, not_executable.stderr
    assert "permission denied" in not_executable.stderr
    names = api.docker("ps", "-a", "--format", "{{.Names}}").stdout.split()
    assert "dd-notexec" in names and len(names) == 1  # the --rm one is gone, the named one stays
    api.docker("rm", "dd-notexec")


def test_system_and_builder_prune(api: ApiService) -> None:
    """`docker system prune` also prunes the build cache (POST /build/prune): an unknown route broke it."""
    api.docker("create", "--name", "dd-prunable", IMAGE, "true")
    pruned = api.docker("system", "prune", "-f")
    assert "dd-prunable" not in api.docker("ps", "-a", "--format", "{{.Names}}").stdout
    assert "Total reclaimed space:" in pruned.stdout
    assert "Total reclaimed space: 0B" in api.docker("builder", "prune", "-f").stdout


def test_pause_update_restart_and_health(api: ApiService) -> None:
    """The everyday verbs on one container, each seen through inspect or ps as Docker shows them."""
    api.docker("run", "-d", "--name", "dd-life", "--restart", "on-failure:3", "--health-cmd", "true",
               "--health-interval", "1s", IMAGE, "sleep", "300")
    api.docker("pause", "dd-life")
    assert "(Paused)" in api.docker("ps", "--filter", "status=paused", "--format", "{{.Status}}").stdout
    api.docker("unpause", "dd-life")
    api.docker("update", "--memory", "64m", "--cpus", "0.5", "dd-life")
    shown = api.docker("inspect", "-f", "{{.HostConfig.Memory}} {{.HostConfig.NanoCpus}} "
                       "{{.HostConfig.RestartPolicy.Name}}:{{.HostConfig.RestartPolicy.MaximumRetryCount}}",
                       "dd-life").stdout
    assert shown == "67108864 500000000 on-failure:3\n"
    api.docker("restart", "-t", "1", "dd-life")
    assert api.docker("inspect", "-f", "{{.State.Running}}", "dd-life").stdout == "true\n"
    for _ in range(100):  # the first check runs within the 1s interval
        health = api.docker("inspect", "-f", "{{.State.Health.Status}}", "dd-life").stdout
        if health == "healthy\n":
            break
        time.sleep(0.1)
    assert health == "healthy\n"
    api.docker("rm", "-f", "dd-life")


def test_logs_of_a_container_that_keeps_none_is_podmans_500(api: ApiService) -> None:
    """Podman 4.3.1's service: 500, naming the container, before any stream (the remote client then says
    "lost synchronization with multiplexed stream", as it does against Podman)."""
    api.runner.run("run", "--name", "dd-nolog", "--log-driver", "none", IMAGE, "true")
    try:
        status, body = api.request("GET", "/v4.3.1/libpod/containers/dd-nolog/logs?stdout=true")
        assert status == 500
        assert json.loads(body)["message"] == ("failed to obtain logs for Container 'dd-nolog': this container is "
                                               "using the 'none' log driver, cannot read logs: this container is "
                                               "not logging output")
    finally:
        api.runner.run("rm", "dd-nolog")
