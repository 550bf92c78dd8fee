"""``jupyter workspace-perms audit export|prune``: the same export as the REST route, on
standard output, and retention on demand. Real subprocesses on a real SQLite database."""

from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import sys
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from sqlalchemy import func, select

from jupyter_workspace_perms.store import PolicyStore, database, orm
from jupyter_workspace_perms.store.audit import COLUMNS

ADA = "ada@acme.test"


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    base = {k: v for k, v in os.environ.items() if k != database.DB_URL_ENV}
    return {
        **base,
        "JUPYTER_CONFIG_DIR": str(tmp_path / "jupyter-config"),
        "JUPYTER_DATA_DIR": str(tmp_path / "jupyter-data"),
    }


@pytest.fixture
def world(wsp_store: PolicyStore) -> PolicyStore:
    """acme and beta, each with its own rows: two old ones in acme, a day apart."""
    with wsp_store.write("test") as w:
        w.create_workspace("acme", ADA)
        w.create_workspace("beta", "bob@beta.test")
    snap = wsp_store.snapshot
    acme, beta = snap.workspaces_by_slug["acme"], snap.workspaces_by_slug["beta"]
    old = datetime(2025, 1, 1, tzinfo=timezone.utc)
    rows = [
        {
            "at": old,
            "actor": "x",
            "action": "test.old",
            "workspace_id": acme,
            "target": "t0",
            "details": {},
        },
        {
            "at": old + timedelta(days=1),
            "actor": "y",
            "action": "test.old",
            "workspace_id": acme,
            "target": 't1, "quoted"',
            "details": {"reason": "a,b"},
        },
        {
            "at": old,
            "actor": "z",
            "action": "test.beta",
            "workspace_id": beta,
            "target": "b",
            "details": {},
        },
    ]
    wsp_store.record_events(rows)
    return wsp_store


def cli(
    env: dict[str, str], db_url: str, *command: str, expect: int = 0
) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(
        [sys.executable, "-m", "jupyter_workspace_perms.cli.app", *command, "--db-url", db_url],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        start_new_session=True,
        check=False,
    )
    assert done.returncode == expect, (command, done.stdout, done.stderr)
    return done


def test_export_writes_the_workspaces_rows_oldest_first(
    world: PolicyStore, env: dict[str, str]
) -> None:
    url = world.db_url
    events = [
        json.loads(line)
        for line in cli(env, url, "audit", "export", "acme").stdout.split("\n")
        if line
    ]
    assert [e["action"] for e in events] == ["test.old", "test.old", "workspace.create"]
    assert {e["workspace"] for e in events} == {"acme"}  # never beta's rows
    assert events[1]["details"] == {"reason": "a,b"}

    out = cli(
        env, url, "audit", "export", "acme", "--format", "csv", "--until", "2025-06-01T00:00:00Z"
    )
    rows = list(csv.reader(io.StringIO(out.stdout, newline="")))
    assert tuple(rows[0]) == COLUMNS
    assert [r[5] for r in rows[1:]] == ["t0", 't1, "quoted"']
    assert json.loads(rows[2][6]) == {"reason": "a,b"}

    since = cli(env, url, "audit", "export", "acme", "--since", "2025-01-01T12:00:00+00:00")
    assert [json.loads(line)["target"] for line in since.stdout.splitlines()][:1] == [
        't1, "quoted"'
    ]


def test_export_refusals_are_one_line(world: PolicyStore, env: dict[str, str]) -> None:
    url = world.db_url
    missing = cli(env, url, "audit", "export", "nope", expect=1)
    assert missing.stderr.strip() == "error: no workspace 'nope'" and missing.stdout == ""
    bad = cli(env, url, "audit", "export", "acme", "--since", "yesterday", expect=1)
    assert bad.stderr.startswith("error: since must be an ISO 8601 time") and bad.stdout == ""
    fmt = cli(env, url, "audit", "export", "acme", "--format", "xml", "--json", expect=1)
    assert json.loads(fmt.stdout)["reason"] == "bad_format"


def test_prune_deletes_rows_past_the_retention(world: PolicyStore, env: dict[str, str]) -> None:
    url = world.db_url
    kept = cli(env, url, "audit", "prune", "--retention-days", "0", "--json")
    assert json.loads(kept.stdout) == {"retention_days": 0, "before": None, "deleted": 0}
    done = json.loads(cli(env, url, "audit", "prune", "--json").stdout)
    assert (done["retention_days"], done["deleted"]) == (365, 3)
    with world.engine.connect() as connection:
        left = connection.execute(select(orm.AuditEvent.action)).scalars().all()
        total = connection.scalar(select(func.count()).select_from(orm.AuditEvent))
    assert "test.old" not in left and "test.beta" not in left
    assert total == len(left) and "workspace.create" in left
    again = cli(env, url, "audit", "prune")
    assert again.stdout.startswith("deleted 0 audit rows older than ")
