"""Where a container's files live: everything under the graph root and the run root."""

from __future__ import annotations

from pathlib import Path

from sealpod.utils.record import dataclass


@dataclass(frozen=True)
class ContainerPaths:
    graph_root: Path
    run_root: Path
    driver: str
    ctr_id: str

    @property
    def userdata(self) -> Path:
        """Survives reboots: the bundle (config.json), logs, the /etc files we generate."""
        return self.graph_root / f"{self.driver}-containers" / self.ctr_id / "userdata"

    @property
    def bundle(self) -> Path:
        return self.userdata

    @property
    def log(self) -> Path:
        return self.userdata / "ctr.log"

    @property
    def rundir(self) -> Path:
        """Gone at reboot: pid files, the conmon pid. Laid out as Podman's (RUNROOT/overlay-containers/ID/userdata),
        since generated units and scripts name ``.../userdata/conmon.pid``."""
        return self.run_root / f"{self.driver}-containers" / self.ctr_id / "userdata"

    @property
    def pidfile(self) -> Path:
        return self.rundir / "pidfile"

    @property
    def conmon_pidfile(self) -> Path:
        return self.rundir / "conmon.pid"

    @property
    def exit_dir(self) -> Path:
        return self.run_root / "exits"

    @property
    def exit_file(self) -> Path:
        return self.exit_dir / self.ctr_id

    @property
    def socket_dir(self) -> Path:
        return self.run_root / "socket"

    @property
    def runtime_root(self) -> Path:
        return self.run_root / "runc"
