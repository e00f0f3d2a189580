"""The project's own rules, checked mechanically: linters, types and the import
boundaries of shared/DESIGN.md (dependencies point downwards only)."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
SRC = REPO / "src" / "sealpod"

# package -> sealpod packages it may import (besides itself, errors and utils)
ALLOWED: dict[str, set[str]] = {
    "cli": {"engine", "kube", "systemd", "build", "api"},
    "api": {"engine", "kube", "build", "systemd"},  # DESIGN.md: api, like cli, may use kube, build, systemd
    "kube": {"engine"},
    "systemd": {"engine"},
    "build": {"engine"},
    "engine": {"image", "storage", "runtime", "network", "rootless", "config"},
    "image": {"storage", "config"},
    "storage": {"rootless", "config"},
    "runtime": {"rootless", "config"},
    "network": {"rootless", "config"},
    "rootless": {"config"},
    "config": set(),
    "utils": set(),
    "errors": set(),
}
# Narrower exceptions DESIGN.md names: only these modules may cross these lines.
ONLY_FROM: dict[tuple[str, str], tuple[str, ...]] = {
    ("cli", "api"): ("cli/system.py",),
    ("image", "storage"): ("image/transports/containers_storage.py",),
}


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(), str(path))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
    return {m for m in found if m == "sealpod" or m.startswith("sealpod.")}


def _package_of(path: Path) -> str:
    rel = path.relative_to(SRC)
    return rel.parts[0].removesuffix(".py") if len(rel.parts) > 1 or rel.stem != "__main__" else "cli"


def test_import_boundaries() -> None:
    violations = []
    for path in sorted(SRC.rglob("*.py")):
        if path.parent == SRC and path.stem in ("__init__", "__main__"):
            continue
        own = _package_of(path)
        rel = path.relative_to(SRC).as_posix()
        for module in _imports(path):
            parts = module.split(".")
            if len(parts) < 2:
                continue
            target = parts[1]
            if target in (own, "errors", "utils") or (target == "__init__"):
                continue
            if target not in ALLOWED.get(own, set()):
                violations.append(f"{rel}: imports {module} ({own} may not import {target})")
            elif (own, target) in ONLY_FROM and rel not in ONLY_FROM[(own, target)]:
                violations.append(f"{rel}: imports {module} (only {ONLY_FROM[(own, target)]} may)")
    assert not violations, "\n".join(violations)


def test_errors_and_utils_import_nothing_above() -> None:
    for path in [SRC / "errors.py", *sorted((SRC / "utils").rglob("*.py"))]:
        bad = [m for m in _imports(path) if m.split(".")[1] not in ("errors", "utils")]
        assert not bad, f"{path.relative_to(SRC)} imports {bad}"


def test_subprocesses_only_through_utils_proc() -> None:
    offenders = []
    for path in sorted(SRC.rglob("*.py")):
        if path == SRC / "utils" / "proc.py":
            continue
        text = path.read_text()
        if "import subprocess" in text and "subprocess.Popen(" in text or "subprocess.run(" in text \
                or "os.system(" in text:
            offenders.append(str(path.relative_to(SRC)))
    assert not offenders, f"start processes through sealpod.utils.proc: {offenders}"


@pytest.mark.slow
def test_ruff() -> None:
    proc = subprocess.run([sys.executable, "-m", "ruff", "check", "src", "tests", "bench", "scripts"],
                          cwd=REPO, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout + proc.stderr


@pytest.mark.slow
def test_mypy() -> None:
    proc = subprocess.run([sys.executable, "-m", "mypy", "src/sealpod"], cwd=REPO, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_every_module_imports() -> None:
    """Names used only by type checkers live under ``if TYPE_CHECKING``: a module that still
    imports one at run time (or any other broken import) fails here, not in a user's command."""
    import importlib
    import pkgutil

    import sealpod

    broken = []
    for info in pkgutil.walk_packages(sealpod.__path__, "sealpod."):
        try:
            importlib.import_module(info.name)
        except Exception as e:  # noqa: BLE001 - every failure is a finding
            broken.append(f"{info.name}: {e!r}")
    assert not broken, "\n".join(broken)
