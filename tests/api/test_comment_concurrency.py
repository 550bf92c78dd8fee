"""Fifty comments posted at once over HTTP are all stored, none lost: on SQLite (WAL,
one writer at a time behind a busy timeout) and on PostgreSQL (a real server started by
the suite; under ``CI=true`` a missing PostgreSQL fails the run instead of skipping)."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pytest
from sqlalchemy import func, select

from jupyter_workspace_perms.store import orm
from tests.helpers.http import Http
from tests.helpers.world import World

POSTS = 50
PATH = "acme/public/shared.txt"
PEOPLE = ("admin", "editor", "contributor", "viewer", "guest")


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def wsp_db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """The server and the test's own store share one database of each kind."""
    if request.param == "postgres":
        return str(request.getfixturevalue("postgres_url"))
    folder = tmp_path / "policy-db"
    folder.mkdir()
    return f"sqlite:///{folder / 'policy.sqlite'}"


async def test_fifty_concurrent_posts_are_all_stored(http: Http, wsp_world: World) -> None:
    (wsp_world.root / PATH).write_text("line one\nline two\n")
    first = await http.raw("viewer", "POST", "api/workspace-perms/comments", _body("root", None))
    assert first.code == 201, first
    root = first.json["id"]

    async def post(n: int) -> Any:
        who = PEOPLE[n % len(PEOPLE)]
        parent = root if n % 2 else None  # half start threads, half reply to one
        reply = await http.raw(
            who, "POST", "api/workspace-perms/comments", _body(f"post {n}", parent)
        )
        assert reply.code == 201, (n, reply)
        return reply.json

    posted = await asyncio.gather(*(post(n) for n in range(POSTS)))
    ids = [p["id"] for p in posted]
    assert len(set(ids)) == POSTS and root not in ids
    listed = await http.raw(
        "guest", "GET", "api/workspace-perms/comments?" + urlencode({"path": PATH})
    )
    assert listed.code == 200, listed
    threads = listed.json["threads"]
    bodies = {t["body"] for t in threads} | {r["body"] for t in threads for r in t["replies"]}
    assert bodies == {"root"} | {f"post {n}" for n in range(POSTS)}
    by_id = {t["id"]: t for t in threads}
    assert len(by_id[root]["replies"]) == POSTS // 2
    with wsp_world.store.engine.connect() as connection:
        stored = connection.scalar(select(func.count()).select_from(orm.Comment))
        audited = connection.scalar(
            select(func.count()).where(orm.AuditEvent.action == "comment.posted")
        )
    assert (stored, audited) == (POSTS + 1, POSTS + 1)


def _body(text: str, parent: int | None) -> str:
    body: dict[str, Any] = {"path": PATH, "body": text}
    if parent is not None:
        body["parent_id"] = parent
    return json.dumps(body)
