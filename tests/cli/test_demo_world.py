"""``jupyter workspace-perms demo-world ROOT``: the demo's world without a server (Binder)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

from jupyter_workspace_perms.demo.world import FORECAST, PERSONAS
from jupyter_workspace_perms.store import PolicyStore, database
from jupyter_workspace_perms.store.access_requests import AccessRequests
from jupyter_workspace_perms.store.comments import Comments
from tests.helpers.servers import jupyter_env, run

MODULE = "jupyter_workspace_perms.cli.app"


def demo_world(tmp_path: Path, root: Path, db_url: str) -> tuple[int, dict[str, str], str]:
    env = jupyter_env(tmp_path / "home")
    env.pop(database.DB_URL_ENV, None)
    args = [sys.executable, "-m", MODULE, "demo-world", str(root), "--db-url", db_url, "--json"]
    done = run(args, env, timeout=120)
    return done.returncode, json.loads(done.stdout), done.stderr


def test_it_builds_the_world_without_tokens(tmp_path: Path, wsp_db_url: str) -> None:
    root = tmp_path / "served"
    code, answer, err = demo_world(tmp_path, root, wsp_db_url)
    assert code == 0, err
    assert [p["persona"] for p in answer["personas"]] == [p.key for p in PERSONAS]
    assert answer["landing"] == "workspace-perms/demo"
    assert (root / FORECAST).is_file()
    store = PolicyStore(db_url=wsp_db_url).open()
    try:
        snap = store.snapshot
        assert "acme" in snap.workspaces_by_slug
        assert all(snap.user_named(p.email) is not None for p in PERSONAS)
        assert not snap.tokens_by_id  # personas sign in from the landing page only
        analysis = snap.project_named("acme", "analysis")
        assert analysis is not None
        rows, mentions = Comments(store=store).of_file(analysis.id, "forecast.ipynb")
        assert len(rows) == 2  # the Viewer's thread on the parameters cell, the Editor's reply
        assert list(mentions.values()) == [["eddie@acme.example"]]
        pending = AccessRequests(store).of_workspace(analysis.workspace_id, "pending")
        assert [(r.project_id, r.role) for r in pending] == [(analysis.id, "editor")]
    finally:
        store.close()


def test_it_refuses_a_second_world_and_a_used_folder(tmp_path: Path, wsp_db_url: str) -> None:
    code, _answer, err = demo_world(tmp_path, tmp_path / "first", wsp_db_url)
    assert code == 0, err
    again = tmp_path / "second"
    code, answer, _err = demo_world(tmp_path, again, wsp_db_url)
    assert (code, answer["reason"]) == (1, "demo_world_exists")
    assert "already" in answer["error"] and not again.exists()  # nothing made
    used = tmp_path / "used"
    used.mkdir()
    (used / "keep.txt").write_text("mine", encoding="utf-8")
    other_db = f"sqlite:///{tmp_path / 'other.sqlite'}"
    code, answer, _err = demo_world(tmp_path, used, other_db)
    assert code == 2 and "not an empty folder" in answer["error"]
    assert sorted(p.name for p in used.iterdir()) == ["keep.txt"]
