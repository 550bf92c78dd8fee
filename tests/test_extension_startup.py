"""Starting a real ``jupyter server`` process: it refuses unsafe or outdated stores.

These run the server as a user would (a subprocess), because refusing to start
means exiting with a message, which an in-process fixture cannot show.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest
from sqlalchemy import text

from jupyter_workspace_perms.store import database
from tests.helpers.missing import missing
from tests.helpers.servers import start_server


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


REPLACED_PARTS = {
    # a contents manager set on the command line would silently switch listings off
    "contents manager": (
        "--ServerApp.contents_manager_class="
        "jupyter_server.services.contents.largefilemanager.AsyncLargeFileManager",
        "ServerApp.contents_manager_class = AsyncLargeFileManager",
    ),
    # the stock websocket connection would pass every message to the kernel unjudged
    "kernel hook": (
        "--ServerApp.kernel_websocket_connection_class="
        "jupyter_server.services.kernels.connection.channels.ZMQChannelsWebsocketConnection",
        "ServerApp.kernel_websocket_connection_class = ZMQChannelsWebsocketConnection",
    ),
}


@pytest.mark.parametrize("part", REPLACED_PARTS)
def test_server_refuses_to_run_when_config_replaces_an_enforcing_part(
    tmp_path: Path, part: str
) -> None:
    option, named = REPLACED_PARTS[part]
    root = tmp_path / "root"
    root.mkdir()
    db_url = f"sqlite:///{tmp_path / 'policy.sqlite'}"
    extra = ["--ServerApp.jpserver_extensions=jupyterlab=True", option]
    result = start_server(root, db_url, tmp_path, *extra)
    assert result.returncode != 0
    assert named in result.stderr


@pytest.mark.parametrize(
    ("setting", "what"),
    [
        ("--SQLiteYStore.db_path={root}/.ystore.db", "the collaboration store"),
        (
            "--YDocExtension.session_store_path={root}/.sessions.json",
            "the collaboration session file",
        ),
        ("--BaseFileIdManager.db_path={root}/.file_id.db", "the file id database"),
    ],
)
def test_server_refuses_collaboration_stores_inside_root_dir(
    tmp_path: Path, setting: str, what: str
) -> None:
    """jupyter-collaboration's stores hold every document's content and history."""
    if importlib.util.find_spec("jupyter_server_ydoc") is None:
        missing("jupyter-collaboration (the test extra) is needed for this test")
    root = tmp_path / "root"
    root.mkdir()
    result = start_server(
        root,
        f"sqlite:///{tmp_path / 'policy.sqlite'}",
        tmp_path,
        "--ServerApp.jpserver_extensions=jupyter_server_ydoc=True",
        "--ServerApp.jpserver_extensions=jupyter_server_fileid=True",
        setting.format(root=root),
    )
    assert result.returncode != 0
    assert f"{what} " in result.stderr and "inside root_dir" in result.stderr
