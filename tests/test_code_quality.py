"""The code stays ruff- and mypy-clean; modules stay small enough to read."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

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
# pure packages (no I/O, no Jupyter): the policy core and the notebook rules, plus the
# kernel hook's verdict table; with the extra (pure) standard modules each module uses
PURE_MODULES = {
    "policy/*.py": set(),
    "notebook/*.py": set(),
    "notebook/cells.py": {"ast"},
    "notebook/merge.py": {"bisect", "hashlib", "json"},
    "notebook/anchors.py": {"hashlib"},
    "kernel/judge.py": set(),
    "kernel/widgets.py": set(),
}

# The layers, lowest first. A module may import from lower layers and from its own
# package; never from a higher layer, nor from another package of its own layer.
LAYERS: tuple[frozenset[str], ...] = tuple(
    frozenset(layer.split())
    for layer in (
        "_version errors",  # what every layer may raise
        # small helpers without policy; the notebook admin panel (an ipywidget that only
        # names its view: it must never reach the server layers, the view calls the API)
        "timestamps gc_pause folders domains watching panel",
        "policy notebook",  # pure rules: the permission table and decisions; notebook rules
        "paths store",  # the one path canonicalizer; the database and its snapshot
        "identity",  # who is asking
        "sandbox",  # kernel confinement: what a kernel sees (knows no policy)
        "server kernel",  # Jupyter's own routes; the kernel websocket hook
        "api demo",  # the REST API; the demo's sample world
        "extension cli",  # what wires it all together: the server extension, the CLI
        "generate __init__",  # the generated docs; the package's entry point for Jupyter
    )
)


def _module_names() -> dict[Path, str]:
    """Each module of the package and its dotted name."""
    found = {}
    for path in PACKAGE.rglob("*.py"):
        if "migrations" in path.parts:
            continue
        parts = list(path.relative_to(PACKAGE).with_suffix("").parts)
        if parts[-1] == "__init__" and len(parts) > 1:
            parts.pop()
        found[path] = ".".join(parts)
    return found


def _imports(source: str, module: str, is_package: bool = False) -> set[str]:
    """The package modules ``source`` (the module ``module``) imports, as dotted names."""
    package = module.split(".") if is_package else module.split(".")[:-1]
    names = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                target = package[: len(package) - node.level + 1]
                target = [*target, *node.module.split(".")] if node.module else target
            elif (node.module or "").startswith("jupyter_workspace_perms"):
                target = (node.module or "").split(".")[1:]
            else:
                continue
            if node.module is None:  # ``from . import x``: the modules x
                names.update(".".join([*target, alias.name]) for alias in node.names)
            else:
                names.add(".".join(target))
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.startswith("jupyter_workspace_perms."):
                    names.add(alias.name.split(".", 1)[1])
    return names


def _layer(module: str) -> int:
    top = module.split(".")[0] or "__init__"
    for n, layer in enumerate(LAYERS):
        if top in layer:
            return n
    raise AssertionError(f"{module} belongs to no layer: add its package to LAYERS")


def _upward(module: str, imported: str) -> bool:
    mine, theirs = _layer(module), _layer(imported)
    same_package = imported.split(".")[0] == module.split(".")[0]
    return theirs > mine or (theirs == mine and not same_package)


def test_every_import_points_down() -> None:
    """Imports follow LAYERS: nothing imports from above, nor across one layer's packages."""
    modules = _module_names()
    upward = [
        f"{module} imports {imported}"
        for path, module in modules.items()
        for imported in _imports(
            path.read_text(encoding="utf-8"), module, path.name == "__init__.py"
        )
        if _upward(module, imported)
    ]
    assert len(modules) > 50
    assert upward == []


@pytest.mark.parametrize(
    ("module", "source", "imported", "upward"),
    [
        (
            "kernel.notebooks",
            "from ..server.authz.paths import split_path",
            "server.authz.paths",
            True,
        ),
        ("store.writer", "from ..identity.tokens import new_token", "identity.tokens", True),
        ("cli.app", "from ..demo.world import build_world", "demo.world", False),
        ("demo.command", "from ..cli.base import Command", "cli.base", True),
        ("server.kernels", "import jupyter_workspace_perms.kernel.audit", "kernel.audit", True),
        ("kernel.judge", "from ..notebook.cells import NotebookIndex", "notebook.cells", False),
        ("api.handlers", "from . import me", "api.handlers.me", False),
    ],
)
def test_the_layer_check_tells_up_from_down(
    module: str, source: str, imported: str, upward: bool
) -> None:
    """The check itself, on the imports this layering was made to remove and keep."""
    assert imported in _imports(source, module, module == "api.handlers")
    assert _upward(module, imported) is upward


def _pure_modules() -> list[tuple[Path, set[str]]]:
    found: dict[Path, set[str]] = {}
    for pattern, extra in PURE_MODULES.items():
        for path in PACKAGE.glob(pattern):
            found[path] = found.get(path, set(PURE_IMPORTS)) | extra
    return sorted(found.items())


def test_pure_modules_import_nothing_that_does_io() -> None:
    """The policy core, the notebook rules and the kernel verdicts import only pure modules."""
    modules = _pure_modules()
    assert {p.parent.name for p, _ in modules} == {"policy", "notebook", "kernel"}
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
