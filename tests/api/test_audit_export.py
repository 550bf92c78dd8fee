"""The audit export over real HTTP, denials recorded with rate limiting, and retention.

A real server and a real kernel: a Contributor runs a saved cell (``kernel.execute``) and
an edited one (``kernel.execute_refused``), people are refused on Jupyter's routes and on
the REST API (``denied``), then an Admin exports the log as JSON lines and CSV and finds
them all. Rows inserted directly test the time filter, a long log (streamed in chunks),
the rate limit (a flood of refusals by one person) and retention.
"""

from __future__ import annotations

import asyncio
import csv
import io
import itertools
import json
import time
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest
from sqlalchemy import func, select

from jupyter_workspace_perms.store import PolicyStore, orm
from jupyter_workspace_perms.store.audit import COLUMNS, AuditLog
from jupyter_workspace_perms.store.denials import DenialRecorder
from tests.helpers.api import Api, RouteCase, check_refusals
from tests.helpers.http import Http, put_file, start_session
from tests.helpers.kernel_ws import KernelSocket, write_notebook
from tests.helpers.world import World, server_config

AUDIT = ["api", "workspace-perms", "workspaces", "acme", "audit"]
NOTEBOOK = "acme/public/audited.ipynb"
SAVED = "print('saved cell ran')"
LIMIT = 20
TIMEOUT = 30.0  # a guard against a hang, not a timing assertion


@pytest.fixture
def jp_server_config(wsp_db_url: str) -> dict[str, Any]:
    """Denials limited to 20 per person and reason per (long) window; the test ends
    windows itself by draining with a later clock."""
    return server_config(
        wsp_db_url,
        DenialRecorder={"limit": LIMIT, "window": 3600.0},
        ExecutionAuditor={"flush_interval": 0.1},
    )


async def export(api: Api, who: str, **params: str) -> Any:
    """``GET …/audit`` with ``params``; the raw response."""
    return await api.fetch(who, *AUDIT, params=params)


def lines(response: Any) -> list[dict[str, Any]]:
    assert response.code == 200, (response.code, response.body[:500])
    assert response.headers["Content-Type"].startswith("application/x-ndjson")
    return [json.loads(line) for line in response.body.decode().splitlines()]


def csv_rows(response: Any) -> list[dict[str, str]]:
    assert response.code == 200, (response.code, response.body[:500])
    assert response.headers["Content-Type"].startswith("text/csv")
    reader = csv.reader(io.StringIO(response.body.decode(), newline=""))
    header = next(reader)
    assert tuple(header) == COLUMNS
    return [dict(zip(header, row, strict=True)) for row in reader]


async def wait_for(condition: Any, what: str) -> None:
    deadline = time.monotonic() + TIMEOUT
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        await asyncio.sleep(0.05)


def count(store: PolicyStore, **where: Any) -> int:
    e = orm.AuditEvent
    query = select(func.count()).select_from(e)
    for name, value in where.items():
        query = query.where(getattr(e, name) == value)
    with store.engine.connect() as connection:
        return int(connection.scalar(query) or 0)


def acme_id(store: PolicyStore) -> int:
    return store.snapshot.workspaces_by_slug["acme"]


def bulk(at: datetime, n: int, action: str = "test.bulk", workspace_id: int = 1) -> Iterator[Any]:
    for i in range(n):
        yield {
            "at": at + timedelta(microseconds=i),
            "actor": "bulk@acme.test",
            "action": action,
            "workspace_id": workspace_id,
            "target": f"row {i}",
            "details": {"i": i},
        }


async def test_the_export_holds_executions_and_denials_as_jsonl_and_csv(
    api: Api, http: Http, jp_ws_fetch: Any, wsp_world: World, jp_serverapp: Any
) -> None:
    store = api.store
    write_notebook(wsp_world.root / NOTEBOOK, {"saved": SAVED})
    kernel_id = str((await start_session(http, "contributor", NOTEBOOK))["kernel"]["id"])
    socket = await KernelSocket.open(jp_ws_fetch, wsp_world, "contributor", kernel_id, "v1")
    try:
        ran = await socket.execute(SAVED, cell_id="saved")
        assert ran.status == "ok", ran
        refused = await socket.execute("print('my own code')", cell_id="saved")
        assert refused.status == "error", refused
    finally:
        socket.close()
    put = await http("viewer", "PUT", "api/contents/acme/public/x.txt", put_file("no"))
    assert put.code == 403, put
    assert (await http("outsider", "GET", "api/contents/acme/public")).code == 404
    members = "workspaces/acme/members/x@y.test"
    assert (await api("viewer", "PUT", members, {"role": "admin"})).code == 403
    await wait_for(lambda: count(store, action="denied") >= 3, "denied rows")
    await wait_for(lambda: count(store, action="kernel.execute_refused") >= 1, "executions")

    # only holders of workspace:audit export
    assert (await export(api, "editor")).code == 403
    assert (await export(api, "outsider")).code == 404
    events = lines(await export(api, "admin"))
    assert all(a["at"] <= b["at"] for a, b in itertools.pairwise(events))
    assert {e["workspace"] for e in events} == {"acme"}
    by_action: dict[str, list[dict[str, Any]]] = {}
    for event in events:
        assert set(event) == set(COLUMNS)
        by_action.setdefault(event["action"], []).append(event)
    [ran_row] = by_action["kernel.execute"]
    [refused_row] = by_action["kernel.execute_refused"]
    assert ran_row["actor"] == refused_row["actor"] == "cora@acme.test"
    assert ran_row["target"] == NOTEBOOK and ran_row["details"]["cell_id"] == "saved"
    denied = {
        (e["actor"], e["details"]["reason"], e["details"]["status"]) for e in by_action["denied"]
    }
    assert ("vic@acme.test", "role_too_low", 403) in denied  # Jupyter's contents route
    assert ("otto@else.test", "not_found", 404) in denied  # invisible: recorded all the same
    assert ("vic@acme.test", "role_too_low", 403) in denied
    vic_put = [e for e in by_action["denied"] if e["target"].endswith("/members/x%40y.test")]
    assert [(e["details"]["method"], e["details"]["status"]) for e in vic_put] == [("PUT", 403)]
    assert any(e["target"].endswith("/api/contents/acme/public/x.txt") for e in by_action["denied"])

    table = csv_rows(await export(api, "admin", format="csv"))
    assert [int(r["id"]) for r in table] == [e["id"] for e in events]
    for row, event in zip(table, events, strict=True):
        assert json.loads(row["details"]) == event["details"]
        assert (row["action"], row["actor"], row["at"]) == (
            event["action"],
            event["actor"],
            event["at"],
        )


async def test_since_and_until_filter_and_bad_parameters_say_why(api: Api) -> None:
    store = api.store
    ws = acme_id(store)
    start = datetime(2026, 1, 1, tzinfo=timezone.utc)
    rows = [
        {**row, "at": start + timedelta(days=i)}
        for i, row in enumerate(bulk(start, 5, "test.day", ws))
    ]
    store.record_events(rows)
    window = lines(
        await export(api, "admin", since="2026-01-02T00:00:00Z", until="2026-01-04T00:00:00+00:00")
    )
    assert [e["target"] for e in window if e["action"] == "test.day"] == ["row 1", "row 2"]
    later = lines(await export(api, "admin", since="2026-01-04T01:00:00+01:00"))
    assert [e["target"] for e in later if e["action"] == "test.day"] == ["row 3", "row 4"]
    for params, reason in (
        ({"format": "xml"}, "bad_format"),
        ({"since": "yesterday"}, "bad_since"),
        ({"until": "2026-01-04T00:00:00"}, "bad_until"),  # no time zone
    ):
        response = await export(api, "admin", **params)
        body = json.loads(response.body)
        assert (response.code, body["reason"]) == (400, reason), body
        assert body["message"]


async def test_a_long_log_is_streamed_whole(api: Api) -> None:
    store = api.store
    ws = acme_id(store)
    total = 50_000
    at = datetime(2026, 3, 1, tzinfo=timezone.utc)
    rows = list(bulk(at, total, workspace_id=ws))
    for start in range(0, total, 10_000):
        store.record_events(rows[start : start + 10_000])
    chunks: list[bytes] = []
    response = await api.fetch(
        "admin",
        *AUDIT,
        params={"since": "2026-03-01T00:00:00Z", "until": "2026-03-02T00:00:00Z"},
        streaming_callback=chunks.append,
    )
    assert response.code == 200
    body = b"".join(chunks).decode()
    targets = [json.loads(line)["target"] for line in body.splitlines()]
    assert targets == [f"row {i}" for i in range(total)]
    assert len(chunks) > 1 and response.headers.get("Transfer-Encoding") == "chunked"
    table = csv_rows(
        await export(
            api, "admin", format="csv", since="2026-03-01T00:00:00Z", until="2026-03-02T00:00:00Z"
        )
    )
    assert len(table) == total and table[-1]["target"] == f"row {total - 1}"


async def test_a_flood_of_refusals_records_the_limit_and_one_summary(
    api: Api, http: Http, jp_serverapp: Any
) -> None:
    store = api.store
    recorder = jp_serverapp.web_app.settings["workspace_perms_denials"]
    assert isinstance(recorder, DenialRecorder) and recorder.limit == LIMIT
    flood = 500
    for _ in range(flood):
        assert (await http("outsider", "GET", "api/contents/acme/public")).code == 404
    assert recorder.tracked <= 2  # one window for otto's not_found (+ none other)
    # end the window: the rows it sums up are written like any other
    store.record_events(recorder.drain(now=time.time() + recorder.window + 1))
    otto = {"actor": "otto@else.test"}
    await wait_for(lambda: count(store, action="denied", **otto) == LIMIT, "the recorded denials")
    e = orm.AuditEvent
    with store.engine.connect() as connection:
        [(details, ws)] = connection.execute(
            select(e.details, e.workspace_id).where(
                e.action == "denied.suppressed", e.actor == "otto@else.test"
            )
        ).all()
    assert details["count"] == flood - LIMIT and details["reason"] == "not_found"
    assert ws == acme_id(store)
    assert count(store, action="denied", **otto) == LIMIT
    assert recorder.tracked == 0


def test_retention_deletes_old_rows_and_keeps_new(wsp_store: PolicyStore) -> None:
    now = datetime.now(timezone.utc)
    wsp_store.record_events(list(bulk(now - timedelta(days=400), 7, "test.old")))
    wsp_store.record_events(list(bulk(now - timedelta(days=300), 3, "test.recent")))
    assert AuditLog(retention_days=0).prune(wsp_store.engine) == 0  # 0 keeps everything
    assert AuditLog(retention_days=365).prune(wsp_store.engine) == 7
    assert count(wsp_store, action="test.old") == 0
    assert count(wsp_store, action="test.recent") == 3
    assert AuditLog(retention_days=30).prune(wsp_store.engine, now=now) == 3


@pytest.fixture
def old_rows(wsp_world: World, wsp_store: PolicyStore) -> PolicyStore:
    """Rows from two years ago, written before the server starts."""
    past = datetime.now(timezone.utc) - timedelta(days=730)
    wsp_store.record_events(list(bulk(past, 5, "test.ancient")))
    wsp_store.record_events(list(bulk(datetime.now(timezone.utc), 2, "test.today")))
    return wsp_store


async def test_the_server_prunes_at_start(old_rows: PolicyStore, jp_serverapp: Any) -> None:
    await wait_for(lambda: count(old_rows, action="test.ancient") == 0, "pruning at start")
    assert count(old_rows, action="test.today") == 2


ROUTES = [
    pytest.param(
        RouteCase(
            "audit.export",
            "GET",
            "workspaces/acme/audit",
            (
                ("editor", 403, "role_too_low"),
                ("contributor", 403, "role_too_low"),
                ("viewer", 403, "role_too_low"),
                ("guest", 403, "guest"),
                ("outsider", 404, "not_found"),
            ),
        ),
        id="only-admins-export",
    ),
]


@pytest.mark.parametrize("case", ROUTES)
async def test_route_refuses_who_may_not_use_it(api: Api, case: RouteCase) -> None:
    await check_refusals(api, case)
