"""``GET /libpod/generate/{name}/systemd``: the units of ``generate systemd`` as a JSON map, unit
name to text.  The query parameters are libpod's names for the CLI's flags."""

from __future__ import annotations

import os

from sealpod.api.http import Request, Response, Router, json_response


def systemd(req: Request) -> Response:
    from sealpod import __version__
    from sealpod.systemd.generate import executable, generate, timestamp
    from sealpod.systemd.units import Invocation, UnitOptions

    template = req.flag("templateUnitFile")
    restart = req.arg("restartPolicy")
    opts = UnitOptions(new=req.flag("new") or template, name=req.flag("useName"), no_header=req.flag("noHeader"),
                       restart_policy=restart or None, restart_sec=req.int_arg("restartSec"),
                       start_timeout=req.int_arg("startTimeout"), stop_timeout=req.int_arg("stopTimeout"),
                       container_prefix=req.arg("containerPrefix", "container") or "",
                       pod_prefix=req.arg("podPrefix", "pod") or "", separator=req.arg("separator", "-") or "",
                       wants=tuple(req.args("wants")), after=tuple(req.args("after")),
                       requires=tuple(req.args("requires")), env=tuple(req.args("additionalEnvVariables")),
                       template=template)
    storage = req.engine.config.storage
    # the service's own store, named explicitly: the unit's commands run outside the service
    flags = ("--root", os.fspath(storage.graph_root), "--runroot", os.fspath(storage.run_root))
    units = generate(req.engine, req.params["name"], opts, Invocation(executable(), flags, __version__, timestamp()))
    return json_response({u.name: u.text for u in units})


def register(r: Router) -> None:
    r.add("GET", "/generate/{name}/systemd", systemd)
