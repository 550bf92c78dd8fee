"""Starting a real ``jupyter server`` process: it refuses unsafe or outdated stores.

These run the server as a user would (a subprocess), because refusing to start
means exiting with a message, which an in-process fixture cannot show.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from sqlalchemy import text

from jupyter_workspace_perms.store import database

JUPYTER = [sys.executable, "-m", "jupyter_server"]


def start_server(
    root: Path, db_url: str, tmp_path: Path, *extra: str
) -> subprocess.CompletedProcess[str]:
    """Run the server until it exits by itself (a good start would hang: stop it quickly)."""
    env = {
        **os.environ,
        "JUPYTER_CONFIG_DIR": str(tmp_path / "config"),
        "JUPYTER_DATA_DIR": str(tmp_path / "data"),
        "JUPYTER_RUNTIME_DIR": str(tmp_path / "runtime"),
        "WORKSPACE_PERMS_DB_URL": db_url,
    }
    args = [
        *JUPYTER,
        f"--ServerApp.root_dir={root}",
        "--ServerApp.open_browser=False",
        "--ServerApp.port=0",
        "--ServerApp.jpserver_extensions=jupyter_workspace_perms=True",
        "--ServerApp.jpserver_extensions=jupyter_server_terminals=False",
        *extra,
    ]
    return subprocess.run(args, env=env, capture_output=True, text=True, timeout=60)


def test_server_refuses_a_sqlite_database_inside_root_dir(tmp_path: Path) -> None:
    root = tmp_path / "root"
    root.mkdir()
    result = start_server(root, f"sqlite:///{root / 'policy.sqlite'}", tmp_path)
    assert result.returncode != 0
    assert "inside root_dir" in result.stderr
    assert not (root / "policy.sqlite").exists()


def test_server_refuses_an_outdated_schema_and_names_upgrade_db(tmp_path: Path) -> None:
    root = tmp_path / "root"
    root.mkdir()
    url = f"sqlite:///{tmp_path / 'policy.sqlite'}"
    engine = database.create_db_engine(url)
    with engine.begin() as connection:  # tables from before any migration
        connection.execute(text("CREATE TABLE users (id INTEGER PRIMARY KEY)"))
    engine.dispose()
    result = start_server(root, url, tmp_path)
    assert result.returncode != 0
    assert "jupyter workspace-perms upgrade-db" in result.stderr


def test_server_refuses_to_run_when_config_replaces_an_enforcing_part(tmp_path: Path) -> None:
    """A contents manager set on the command line would silently switch listings off."""
    root = tmp_path / "root"
    root.mkdir()
    result = start_server(
        root,
        f"sqlite:///{tmp_path / 'policy.sqlite'}",
        tmp_path,
        "--ServerApp.jpserver_extensions=jupyterlab=True",
        "--ServerApp.contents_manager_class="
        "jupyter_server.services.contents.largefilemanager.AsyncLargeFileManager",
    )
    assert result.returncode != 0
    assert "ServerApp.contents_manager_class = AsyncLargeFileManager" in result.stderr
