"""How the package installs: a wheel carries the prebuilt lab extension (no Node.js needed
to install it), and Jupyter lists the extension enabled.

Real commands, each in its own process group with Jupyter folders of its own.
"""

from __future__ import annotations

import os
import sys
import zipfile
from pathlib import Path

from tests.helpers.servers import jupyter_env, run

REPO = Path(__file__).resolve().parent.parent
LABEXTENSION = "share/jupyter/labextensions/jupyter-workspace-perms"


def test_jupyter_lists_the_lab_extension_enabled(tmp_path: Path) -> None:
    listed = run([sys.executable, "-m", "jupyter", "labextension", "list"], jupyter_env(tmp_path))
    lines = (listed.stdout + listed.stderr).splitlines()
    ours = [line for line in lines if "jupyter-workspace-perms" in line]
    assert len(ours) == 1, lines
    assert "enabled" in ours[0] and "OK" in ours[0], ours


def test_a_wheel_carries_the_prebuilt_extension_and_builds_without_node(tmp_path: Path) -> None:
    """With the extension built in the tree, making a wheel runs no Node.js (``node`` is not
    on the PATH here), and the wheel holds what JupyterLab loads: installing it needs no
    Node.js either, since a wheel is only unpacked."""
    env = {
        **jupyter_env(tmp_path),
        "PATH": str(Path(sys.executable).parent),  # the venv's tools only: no node, no npm
    }
    built = run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "--no-build-isolation",
            "--wheel-dir",
            str(tmp_path / "dist"),
            str(REPO),
        ],
        env,
        timeout=300,
    )
    assert built.returncode == 0, built.stdout + built.stderr
    [wheel] = list((tmp_path / "dist").glob("jupyter_workspace_perms-*.whl"))
    with zipfile.ZipFile(wheel) as archive:
        names = archive.namelist()
    data = [n.split(".data/data/", 1)[1] for n in names if ".data/data/" in n]
    assert f"{LABEXTENSION}/package.json" in data, data
    assert f"{LABEXTENSION}/install.json" in data, data
    assert any(n.startswith(f"{LABEXTENSION}/static/remoteEntry.") for n in data), data
    assert "etc/jupyter/jupyter_server_config.d/jupyter_workspace_perms.json" in data, data
    assert not any("node_modules" in n for n in names)
    assert os.path.getsize(wheel) < 5_000_000
