"""The code stays ruff- and mypy-clean; modules stay small enough to read."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
PACKAGE = REPO / "jupyter_workspace_perms"
MAX_MODULE_LINES = 600


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", *args], cwd=REPO, capture_output=True, text=True, timeout=600
    )


def test_ruff_check_is_clean() -> None:
    result = run("ruff", "check", ".")
    assert result.returncode == 0, result.stdout + result.stderr


def test_ruff_format_is_clean() -> None:
    result = run("ruff", "format", "--check", ".")
    assert result.returncode == 0, result.stdout + result.stderr


def test_mypy_strict_is_clean() -> None:
    result = run("mypy")
    assert result.returncode == 0, result.stdout + result.stderr


def test_modules_stay_under_the_size_budget() -> None:
    too_long = {
        str(path.relative_to(REPO)): n
        for path in PACKAGE.rglob("*.py")
        if (n := len(path.read_text(encoding="utf-8").splitlines())) > MAX_MODULE_LINES
    }
    assert too_long == {}


PURE_IMPORTS = {"__future__", "collections.abc", "dataclasses", "enum", "re", "types", "typing"}
# pure modules outside the policy core, and the extra (pure) standard modules they use
PURE_KERNEL_MODULES = {
    "cells.py": {"ast"},
    "judge.py": set(),
    "merge.py": {"bisect", "hashlib", "json"},
}


def _pure_modules() -> list[tuple[Path, set[str]]]:
    policy = [(path, PURE_IMPORTS) for path in (PACKAGE / "policy").glob("*.py")]
    kernel = [
        (PACKAGE / "kernel" / name, PURE_IMPORTS | extra)
        for name, extra in PURE_KERNEL_MODULES.items()
        if (PACKAGE / "kernel" / name).exists()
    ]
    return policy + kernel


def test_pure_modules_import_nothing_that_does_io() -> None:
    """The policy core and the kernel rules may import only pure standard modules."""
    modules = _pure_modules()
    assert len(modules) > len(list((PACKAGE / "policy").glob("*.py")))
    for path, allowed in modules:
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                names = {alias.name for alias in node.names}
            elif isinstance(node, ast.ImportFrom) and node.level == 0:
                names = {node.module or ""}
            else:
                continue
            assert names <= allowed, (path.name, names)
        assert "open(" not in path.read_text(encoding="utf-8"), path.name
