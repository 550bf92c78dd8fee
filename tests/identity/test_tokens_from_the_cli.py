"""A token the CLI just created works on the very next request to a running server.

The server notices other processes' policy changes every ``PolicyStore.refresh_interval``;
here that is an hour, so only the re-check on a token miss can make the new token work.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Any

import pytest

from jupyter_workspace_perms.store import database
from tests.helpers.servers import jupyter_env, run
from tests.helpers.world import World, server_config


@pytest.fixture
def jp_server_config(wsp_db_url: str) -> dict[str, Any]:
    """The usual test server, but it never polls the database by itself."""
    return server_config(wsp_db_url, refresh_interval=3600)


def cli_token(db_url: str, home: Path, email: str) -> str:
    """``jupyter workspace-perms token create EMAIL --json``, in its own process group."""
    env = jupyter_env(home)
    env.pop(database.DB_URL_ENV, None)
    done = run(
        [
            sys.executable,
            "-m",
            "jupyter_workspace_perms.cli.app",
            "token",
            "create",
            email,
            "--json",
            "--db-url",
            db_url,
        ],
        env,
    )
    assert done.returncode == 0, done.stderr
    return str(json.loads(done.stdout)["token"])


async def test_a_token_made_by_the_cli_works_on_the_next_request(
    wsp_world: World, wsp_db_url: str, jp_fetch: Any, tmp_path: Path
) -> None:
    # the server is up and has loaded the policy before the CLI runs
    r = await jp_fetch(
        "api", "workspace-perms", "me", headers=wsp_world.auth("viewer"), raise_error=False
    )
    assert r.code == 200
    for email in ("vic@acme.test", "otto@else.test"):
        secret = cli_token(wsp_db_url, tmp_path / "cli-home", email)
        headers = {"Authorization": f"token {secret}", "Content-Type": "application/json"}
        me = await jp_fetch("api", "workspace-perms", "me", headers=headers, raise_error=False)
        assert me.code == 200, me.body
        assert json.loads(me.body)["identity"]["username"] == email
    # a POST (no XSRF token needed with a token) right after creation works as well
    secret = cli_token(wsp_db_url, tmp_path / "cli-home", "ed@acme.test")
    created = await jp_fetch(
        "api",
        "contents",
        "acme",
        "public",
        method="POST",
        body=json.dumps({"type": "file"}),
        headers={"Authorization": f"token {secret}"},
        raise_error=False,
    )
    assert created.code == 201, created.body
    assert os.listdir(wsp_world.root / "acme" / "public") == ["untitled"]
