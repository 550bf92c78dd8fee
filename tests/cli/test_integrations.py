"""``jupyter workspace-perms integration …``: values go in through standard input (never
the command line) and never come out; and a server whose integration key is missing
refuses to start, saying how to recover, rather than run without the secrets.

Real subprocesses: the CLI, and a real ``jupyter server`` for the start-up refusal.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from cryptography.fernet import Fernet
from sqlalchemy import select

from jupyter_workspace_perms.store import PolicyStore, database, orm
from tests.helpers.servers import start_server

SECRET = "cli-secret-6d1e0b"
ADA = "ada@acme.test"


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    """Jupyter folders and the key file of the test's own."""
    base = {k: v for k, v in os.environ.items() if k != database.DB_URL_ENV}
    return {
        **base,
        "JUPYTER_CONFIG_DIR": str(tmp_path / "jupyter-config"),
        "JUPYTER_DATA_DIR": str(tmp_path / "jupyter-data"),
        "WORKSPACE_PERMS_INTEGRATIONS_KEY_FILE": str(tmp_path / "keys" / "integrations.key"),
    }


@pytest.fixture
def world(wsp_store: PolicyStore, tmp_path: Path) -> PolicyStore:
    with wsp_store.write("test") as w:
        w.create_workspace("acme", ADA)
        w.create_project("acme", "reports", "full")
    (tmp_path / "root" / "acme" / "reports").mkdir(parents=True)
    return wsp_store


def cli(
    env: dict[str, str], db_url: str, command: list[str], stdin: str = "", expect: int = 0
) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(
        [sys.executable, "-m", "jupyter_workspace_perms.cli.app", *command, "--db-url", db_url],
        input=stdin,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        start_new_session=True,
        check=False,
    )
    assert done.returncode == expect, (command, done.stdout, done.stderr)
    assert SECRET not in done.stdout + done.stderr
    return done


def test_values_go_in_through_stdin_and_never_come_out(
    world: PolicyStore, env: dict[str, str], tmp_path: Path
) -> None:
    url = world.db_url
    made = cli(
        env,
        url,
        ["integration", "create", "acme", "dwh", "DB_PASSWORD", "DB_URL"],
        f"{SECRET}\npostgresql://db/x\n",
    )
    assert made.stdout.strip() == "acme: integration dwh created (DB_PASSWORD, DB_URL)"
    key = Path(env["WORKSPACE_PERMS_INTEGRATIONS_KEY_FILE"])
    assert oct(key.stat().st_mode & 0o777) == "0o600"
    cli(env, url, ["integration", "connect", "acme", "reports", "dwh"])
    listed = json.loads(cli(env, url, ["integration", "list", "acme", "--json"]).stdout)
    [dwh] = listed["integrations"]
    assert [v["name"] for v in dwh["variables"]] == ["DB_PASSWORD", "DB_URL"]
    assert dwh["variables"][0]["set_by"].startswith("cli:")
    assert dwh["projects"] == ["reports"]
    assert "DB_PASSWORD" in cli(env, url, ["integration", "list", "acme"]).stdout

    cli(env, url, ["integration", "set", "acme", "dwh", "DB_URL", "--remove"])
    cli(env, url, ["integration", "set", "acme", "dwh", "API_KEY"], "k-1\n")
    listed = json.loads(cli(env, url, ["integration", "list", "acme", "--json"]).stdout)
    assert [v["name"] for v in listed["integrations"][0]["variables"]] == ["API_KEY", "DB_PASSWORD"]

    short = cli(env, url, ["integration", "set", "acme", "dwh", "A", "B"], "only-one\n", 1)
    assert "no value for B" in short.stderr
    reserved = cli(env, url, ["integration", "set", "acme", "dwh", "HOME"], "x\n", 1)
    assert "HOME is set by the kernel sandbox" in reserved.stderr
    cli(env, url, ["integration", "disconnect", "acme", "reports", "dwh"])
    cli(env, url, ["integration", "disconnect", "acme", "reports", "dwh"], expect=1)
    cli(env, url, ["integration", "delete", "acme", "dwh"])
    assert json.loads(cli(env, url, ["integration", "list", "acme", "--json"]).stdout) == {
        "workspace": "acme",
        "integrations": [],
    }
    with world.engine.connect() as connection:
        details = connection.execute(select(orm.AuditEvent.details)).scalars().all()
    assert SECRET not in json.dumps(details)


def test_a_server_without_its_integration_key_refuses_to_start(
    world: PolicyStore, env: dict[str, str], tmp_path: Path
) -> None:
    cli(env, world.db_url, ["integration", "create", "acme", "dwh", "DB_PASSWORD"], SECRET + "\n")
    key = Path(env["WORKSPACE_PERMS_INTEGRATIONS_KEY_FILE"])
    key.unlink()
    result = start_server(
        tmp_path / "root",
        world.db_url,
        tmp_path / "server-home",
        f"--Integrations.key_file={key}",
    )
    assert result.returncode != 0
    assert "is missing: restore that file" in result.stderr
    assert SECRET not in result.stderr + result.stdout

    # another key: refused too, never decrypted into nonsense
    key.write_bytes(Fernet.generate_key())
    other = start_server(
        tmp_path / "root", world.db_url, tmp_path / "server-home", f"--Integrations.key_file={key}"
    )
    assert other.returncode != 0
    assert "does not open the stored values" in other.stderr
