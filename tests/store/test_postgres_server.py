"""A real server on a real PostgreSQL policy database, changed by another process."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest

from tests.helpers.world import World

pytestmark = pytest.mark.postgres


@pytest.fixture
def wsp_db_url(postgres_url: str) -> str:
    """The server and the test's own store share one PostgreSQL database."""
    return postgres_url


async def role_in_acme(wsp_fetch: Any, who: str) -> Any:
    r = await wsp_fetch(who, "api", "workspace-perms", "me")
    assert r.code == 200
    return {w["slug"]: w["role"] for w in json.loads(r.body)["workspaces"]}.get("acme")


async def test_server_on_postgres_answers_me(wsp_fetch: Any) -> None:
    assert await role_in_acme(wsp_fetch, "contributor") == "contributor"
    assert (await wsp_fetch(None, "api", "workspace-perms", "me")).code == 401


async def test_a_change_by_another_process_reaches_the_server_without_a_restart(
    wsp_fetch: Any, wsp_world: World
) -> None:
    assert await role_in_acme(wsp_fetch, "viewer") == "viewer"
    with wsp_world.store.write("another-server") as w:
        w.set_member("acme", "vic@acme.test", "editor")
    for _ in range(100):  # the server polls every 0.1 s in tests; wait at most 10 s
        if await role_in_acme(wsp_fetch, "viewer") == "editor":
            break
        await asyncio.sleep(0.1)
    assert await role_in_acme(wsp_fetch, "viewer") == "editor"


async def test_a_token_revoked_elsewhere_stops_working(wsp_fetch: Any, wsp_world: World) -> None:
    snap = wsp_world.store.snapshot
    editor_id = snap.users_by_name["ed@acme.test"]
    [token_id] = [t.id for t in snap.tokens.values() if t.user_id == editor_id]
    with wsp_world.store.write("another-server") as w:
        w.revoke_token(token_id)
    for _ in range(100):
        if (await wsp_fetch("editor", "api", "workspace-perms", "me")).code == 401:
            break
        await asyncio.sleep(0.1)
    assert (await wsp_fetch("editor", "api", "workspace-perms", "me")).code == 401
