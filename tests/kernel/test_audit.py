"""The execution audit: records reach ``audit_events`` and the event logger, cheaply.

Unit tests use a real SQLite store and a real ``jupyter_events.EventLogger``; the
last tests start a real Jupyter server with the extension.
"""

from __future__ import annotations

import asyncio
import hashlib
import io
import json
import logging
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import jsonschema
import nbformat
import pytest
import yaml
from jupyter_events import EventLogger
from sqlalchemy import select
from sqlalchemy.orm import Session

from jupyter_workspace_perms.errors import StoreUnavailable
from jupyter_workspace_perms.kernel import audit
from jupyter_workspace_perms.kernel.audit import (
    EXECUTION_SCHEMA_ID,
    EXECUTION_SCHEMA_PATH,
    ExecutionAuditor,
    register_execution_schema,
)
from jupyter_workspace_perms.store import PolicyStore, orm
from tests.helpers.http import Http, plant, start_session
from tests.helpers.world import PEOPLE, World

CODE = "secret = 'hunter2'\nprint(secret)\n"
CODE_HASH = hashlib.sha256(CODE.encode()).hexdigest()
SCHEMA = yaml.safe_load(EXECUTION_SCHEMA_PATH.read_text(encoding="utf-8"))


@pytest.fixture
def ids(wsp_store: PolicyStore) -> tuple[int, int]:
    """(workspace id, project id) of ``acme/public``."""
    with wsp_store.write("test") as w:
        w.create_workspace("acme", "ada@acme.test")
        project = w.create_project("acme", "public")
    return project.workspace_id, project.id


@pytest.fixture
def make_auditor(wsp_store: PolicyStore) -> Iterator[Callable[..., ExecutionAuditor]]:
    made: list[ExecutionAuditor] = []

    def make(**kwargs: Any) -> ExecutionAuditor:
        made.append(ExecutionAuditor(store=kwargs.pop("store", wsp_store), **kwargs))
        return made[-1]

    yield make
    for auditor in made:
        auditor.stop()


def run(auditor: ExecutionAuditor, ids: tuple[int, int], **overrides: Any) -> None:
    """One ``record`` call as the websocket filter makes it."""
    workspace_id, project_id = ids
    args: dict[str, Any] = {
        "username": "cora@acme.test",
        "workspace_id": workspace_id,
        "project_id": project_id,
        "notebook": "acme/public/nb.ipynb",
        "cell_id": "cell-1",
        "code": CODE,
        "allowed": True,
        "reason": "saved cell",
        "kernel_id": "k-1",
    }
    auditor.record(**{**args, **overrides})


def audit_rows(store: PolicyStore) -> list[orm.AuditEvent]:
    """The execution rows in ``audit_events``, oldest first."""
    with Session(store.engine) as session:
        query = select(orm.AuditEvent).order_by(orm.AuditEvent.id)
        return [e for e in session.scalars(query) if e.action.startswith("kernel.")]


def test_records_become_audit_events_with_the_hash_never_the_code(
    wsp_store: PolicyStore, ids: tuple[int, int], make_auditor: Callable[..., ExecutionAuditor]
) -> None:
    auditor = make_auditor()
    before = time.time()
    run(auditor, ids)
    run(auditor, ids, allowed=False, reason="this cell differs from the saved version")
    run(auditor, ids, notebook=None, cell_id=None, username="ed@acme.test", reason="editor")
    assert auditor.flush() == 3
    allowed, refused, bare = audit_rows(wsp_store)
    assert (allowed.action, refused.action) == ("kernel.execute", "kernel.execute_refused")
    assert allowed.actor == "cora@acme.test" and allowed.workspace_id == ids[0]
    assert allowed.target == "acme/public/nb.ipynb"
    assert allowed.details == {
        "project_id": ids[1],
        "notebook": "acme/public/nb.ipynb",
        "cell_id": "cell-1",
        "code_sha256": CODE_HASH,
        "allowed": True,
        "reason": "saved cell",
        "kernel_id": "k-1",
    }
    assert refused.details["allowed"] is False
    assert refused.details["reason"] == "this cell differs from the saved version"
    assert before - 1 <= allowed.at.timestamp() <= time.time() + 1
    # without a notebook, the target is the project, named as elsewhere in the audit
    assert (bare.target, bare.actor, bare.details["notebook"]) == (
        "acme/public",
        "ed@acme.test",
        None,
    )
    db_file = Path(wsp_store.db_url.removeprefix("sqlite:///"))
    for path in (db_file, Path(f"{db_file}-wal")):
        if path.exists():
            assert b"hunter2" not in path.read_bytes()


def test_audit_writes_never_move_the_policy_version(
    wsp_store: PolicyStore, ids: tuple[int, int], make_auditor: Callable[..., ExecutionAuditor]
) -> None:
    version = wsp_store.stored_version()
    assert wsp_store.snapshot.version == version
    auditor = make_auditor()
    for _ in range(5):
        run(auditor, ids)
    assert auditor.flush() == 5
    assert wsp_store.stored_version() == version
    assert wsp_store.refresh() is False  # no other server would reload either


def test_a_full_queue_drops_and_counts_without_raising_or_blocking(
    ids: tuple[int, int],
    make_auditor: Callable[..., ExecutionAuditor],
    caplog: pytest.LogCaptureFixture,
) -> None:
    auditor = make_auditor(max_queue_length=3)
    with caplog.at_level(logging.WARNING):
        for _ in range(10):
            run(auditor, ids)
    assert (auditor.queued, auditor.dropped_full, auditor.dropped) == (3, 7, 7)
    warnings = [r for r in caplog.records if "queue is full" in r.getMessage()]
    assert len(warnings) == 1  # once per drop_warning_interval, not once per drop
    assert auditor.flush() == 3
    run(auditor, ids)
    assert auditor.queued == 1


def test_record_never_raises(
    ids: tuple[int, int], make_auditor: Callable[..., ExecutionAuditor]
) -> None:
    auditor = make_auditor()
    run(auditor, ids, code=None)  # a caller's bug costs one record, never the message
    assert auditor.dropped_full == 1
    run(auditor, ids, code="x = '\ud800'")  # lone surrogates are valid JSON strings
    assert auditor.flush() == 1


def test_the_worker_flushes_in_the_background(
    wsp_store: PolicyStore, ids: tuple[int, int], make_auditor: Callable[..., ExecutionAuditor]
) -> None:
    auditor = make_auditor(flush_interval=0.05)
    auditor.start()
    run(auditor, ids)
    deadline = time.monotonic() + 10
    while not audit_rows(wsp_store) and time.monotonic() < deadline:
        time.sleep(0.02)
    assert len(audit_rows(wsp_store)) == 1


def test_stop_writes_what_is_still_queued(
    wsp_store: PolicyStore, ids: tuple[int, int], make_auditor: Callable[..., ExecutionAuditor]
) -> None:
    auditor = make_auditor(flush_interval=3600)
    auditor.start()
    for _ in range(3):
        run(auditor, ids)
    auditor.stop()
    assert len(audit_rows(wsp_store)) == 3
    assert auditor.written == 3 and auditor.queued == 0


class FlakyStore:
    """A store that is unreachable until told otherwise, then writes to a real one."""

    def __init__(self, store: PolicyStore) -> None:
        self.real, self.up, self.calls = store, False, 0
        self.snapshot = store.snapshot

    def record_events(self, rows: Any) -> int:
        self.calls += 1
        if not self.up:
            raise StoreUnavailable("the policy database is unavailable")
        return self.real.record_events(rows)


def test_an_unreachable_store_keeps_records_for_a_retry(
    wsp_store: PolicyStore,
    ids: tuple[int, int],
    make_auditor: Callable[..., ExecutionAuditor],
    caplog: pytest.LogCaptureFixture,
) -> None:
    flaky = FlakyStore(wsp_store)
    auditor = make_auditor(store=flaky, max_queue_length=4)
    with caplog.at_level(logging.WARNING):
        for _ in range(3):
            run(auditor, ids)
        assert auditor.flush() == 0
        for _ in range(3):
            run(auditor, ids)
        assert auditor.flush() == 0
    assert (auditor.queued, auditor.dropped_unwritten) == (4, 2)  # the newest 4 kept
    assert sum("wait for a retry" in r.getMessage() for r in caplog.records) == 1
    flaky.up = True
    assert auditor.flush() == 4
    assert len(audit_rows(wsp_store)) == 4


def test_records_the_store_refuses_are_dropped_not_retried_forever(
    ids: tuple[int, int], make_auditor: Callable[..., ExecutionAuditor], wsp_store: PolicyStore
) -> None:
    class Broken(FlakyStore):
        def record_events(self, rows: Any) -> int:
            raise ValueError("not a database outage")

    auditor = make_auditor(store=Broken(wsp_store))
    run(auditor, ids)
    assert auditor.flush() == 0
    assert (auditor.queued, auditor.dropped_unwritten) == (0, 1)


def test_stop_drops_and_counts_what_an_unreachable_store_never_took(
    ids: tuple[int, int], make_auditor: Callable[..., ExecutionAuditor], wsp_store: PolicyStore
) -> None:
    auditor = make_auditor(store=FlakyStore(wsp_store))
    run(auditor, ids)
    auditor.stop()
    assert (auditor.queued, auditor.dropped_unwritten) == (0, 1)


# -- jupyter_events --------------------------------------------------------------------


def test_the_published_schema_is_a_valid_event_schema() -> None:
    assert SCHEMA["$id"] == EXECUTION_SCHEMA_ID
    assert SCHEMA["version"] == "1" and SCHEMA["additionalProperties"] is False
    assert set(SCHEMA["required"]) == set(SCHEMA["properties"])
    assert all(spec.get("description") for spec in SCHEMA["properties"].values())
    logger = EventLogger()
    register_execution_schema(logger)
    register_execution_schema(logger)  # idempotent
    assert EXECUTION_SCHEMA_ID in logger.schemas


def test_events_reach_a_logging_handler_and_match_the_schema(
    ids: tuple[int, int], make_auditor: Callable[..., ExecutionAuditor]
) -> None:
    stream = io.StringIO()
    logger = EventLogger()
    register_execution_schema(logger)
    logger.register_handler(logging.StreamHandler(stream))
    auditor = make_auditor(event_logger=logger)
    run(auditor, ids)
    run(auditor, ids, allowed=False, notebook=None, cell_id=None, reason="no")
    auditor.flush()
    lines = [json.loads(line) for line in stream.getvalue().splitlines()]
    assert [e["__schema__"] for e in lines] == [EXECUTION_SCHEMA_ID] * 2
    payloads = [{k: v for k, v in e.items() if not k.startswith("__")} for e in lines]
    for payload in payloads:
        jsonschema.validate(payload, SCHEMA)
    assert payloads[0] == {
        "username": "cora@acme.test",
        "workspace_id": ids[0],
        "project_id": ids[1],
        "notebook": "acme/public/nb.ipynb",
        "cell_id": "cell-1",
        "code_sha256": CODE_HASH,
        "allowed": True,
        "reason": "saved cell",
        "kernel_id": "k-1",
    }
    assert payloads[1]["allowed"] is False and payloads[1]["notebook"] is None
    assert CODE not in stream.getvalue()


async def test_listeners_run_on_the_event_loop_with_the_request_time(
    ids: tuple[int, int], make_auditor: Callable[..., ExecutionAuditor]
) -> None:
    logger = EventLogger()
    register_execution_schema(logger)
    seen: list[tuple[dict[str, Any], int]] = []
    got = asyncio.Event()

    async def listener(logger: EventLogger, schema_id: str, data: dict[str, Any]) -> None:
        seen.append((data, threading.get_ident()))
        if len(seen) == audit.EMIT_CHUNK + 5:
            got.set()

    logger.add_listener(schema_id=EXECUTION_SCHEMA_ID, listener=listener)
    auditor = make_auditor(event_logger=logger, flush_interval=0.05)
    auditor.start()  # takes the running loop
    for _ in range(audit.EMIT_CHUNK + 5):  # more than one chunk
        run(auditor, ids)
    await asyncio.wait_for(got.wait(), 10)
    assert {thread for _, thread in seen} == {threading.get_ident()}
    assert all(data["code_sha256"] == CODE_HASH for data, _ in seen)


def test_record_is_cheap_when_nobody_listens(
    ids: tuple[int, int], make_auditor: Callable[..., ExecutionAuditor]
) -> None:
    """A loose bound (a busy test machine): the benchmark measures the real figure."""
    auditor = make_auditor(event_logger=EventLogger(), max_queue_length=100_000)
    start = time.perf_counter()
    for _ in range(10_000):
        run(auditor, ids)
    assert (time.perf_counter() - start) / 10_000 < 100e-6


# -- a real server ---------------------------------------------------------------------


@pytest.fixture
def jp_server_config(
    jp_server_config: dict[str, Any], request: pytest.FixtureRequest
) -> dict[str, Any]:
    """The server's config with a short flush interval (or the one a test passes)."""
    interval = getattr(request, "param", 0.05)
    return {**jp_server_config, "ExecutionAuditor": {"flush_interval": interval}}


async def test_the_server_audits_executions(
    jp_serverapp: Any, wsp_world: World, wsp_store: PolicyStore
) -> None:
    settings = jp_serverapp.web_app.settings
    auditor = settings["workspace_perms_auditor"]
    assert isinstance(auditor, ExecutionAuditor)
    assert auditor.flush_interval == 0.05  # configured through the server's config
    assert EXECUTION_SCHEMA_ID in jp_serverapp.event_logger.schemas
    received: list[dict[str, Any]] = []

    async def listener(logger: EventLogger, schema_id: str, data: dict[str, Any]) -> None:
        received.append(data)

    jp_serverapp.event_logger.add_listener(schema_id=EXECUTION_SCHEMA_ID, listener=listener)
    project = wsp_store.snapshot.project_named("acme", "public")
    assert project is not None
    ids = (project.workspace_id, project.id)
    version = wsp_store.stored_version()
    run(auditor, ids)
    deadline = time.monotonic() + 10
    while (not received or not audit_rows(wsp_store)) and time.monotonic() < deadline:
        await asyncio.sleep(0.05)
    assert [row.details["code_sha256"] for row in audit_rows(wsp_store)] == [CODE_HASH]
    assert [data["code_sha256"] for data in received] == [CODE_HASH]
    assert wsp_store.stored_version() == version


@pytest.mark.parametrize("jp_server_config", [3600.0], indirect=True)
async def test_stopping_the_server_writes_the_queued_records(
    jp_serverapp: Any, wsp_world: World, wsp_store: PolicyStore
) -> None:
    auditor = jp_serverapp.web_app.settings["workspace_perms_auditor"]
    assert auditor.flush_interval == 3600.0
    project = wsp_store.snapshot.project_named("acme", "public")
    assert project is not None
    run(auditor, (project.workspace_id, project.id))
    await asyncio.sleep(0.2)
    assert audit_rows(wsp_store) == []
    (extension,) = jp_serverapp.extension_manager.extension_apps["jupyter_workspace_perms"]
    await extension.stop_extension()  # what the server does when it shuts down
    assert [row.details["code_sha256"] for row in audit_rows(wsp_store)] == [CODE_HASH]


async def execute(ws: Any, session_id: str, code: str, cell_id: str) -> dict[str, Any]:
    """Send one ``execute_request`` (legacy JSON protocol); its ``execute_reply`` content."""
    msg_id = uuid.uuid4().hex
    header = {
        "msg_id": msg_id,
        "msg_type": "execute_request",
        "session": session_id,
        "username": "",
        "version": "5.3",
        "date": "2026-01-01T00:00:00Z",
    }
    content = {"code": code, "silent": False, "store_history": True, "user_expressions": {}}
    await ws.write_message(
        json.dumps(
            {
                "header": header,
                "parent_header": {},
                "metadata": {"cellId": cell_id},
                "content": {**content, "allow_stdin": False, "stop_on_error": True},
                "channel": "shell",
                "buffers": [],
            }
        )
    )
    while True:
        raw = await asyncio.wait_for(ws.read_message(), 30)
        assert raw is not None, "the kernel socket closed"
        msg = json.loads(raw)
        if msg["msg_type"] == "execute_reply" and msg["parent_header"].get("msg_id") == msg_id:
            return dict(msg["content"])


async def test_runs_over_the_kernel_websocket_are_audited(
    wsp_world: World,  # before the server: it starts with the world's tokens loaded
    wsp_store: PolicyStore,
    http_server_client: Any,
    jp_base_url: str,
    jp_ws_fetch: Any,
) -> None:
    """A contributor runs a saved cell (allowed) and an edited one (refused)."""
    cell = nbformat.v4.new_code_cell(CODE)
    nb = nbformat.v4.new_notebook(cells=[cell])
    plant(wsp_world.root, "acme/public/audit.ipynb", nbformat.writes(nb))
    http = Http(http_server_client, jp_base_url, wsp_world)
    session = await start_session(http, "contributor", "acme/public/audit.ipynb")
    session_id = uuid.uuid4().hex
    ws = await jp_ws_fetch(
        "api",
        "kernels",
        session["kernel"]["id"],
        "channels",
        params={"session_id": session_id},
        headers=wsp_world.auth("contributor"),
    )
    try:
        assert (await execute(ws, session_id, CODE, cell.id))["status"] == "ok"
        edited = await execute(ws, session_id, CODE + "1", cell.id)
        assert (edited["status"], edited["ename"]) == ("error", "PermissionError")
    finally:
        ws.close()
    deadline = time.monotonic() + 10
    while len(audit_rows(wsp_store)) < 2 and time.monotonic() < deadline:
        await asyncio.sleep(0.05)
    allowed, refused = audit_rows(wsp_store)
    contributor = wsp_world.store.snapshot.user_named(PEOPLE["contributor"][0])
    assert contributor is not None
    for row in (allowed, refused):
        assert (row.actor, row.target) == (contributor.username, "acme/public/audit.ipynb")
        assert row.details["cell_id"] == cell.id
        assert row.details["kernel_id"] == session["kernel"]["id"]
    assert (allowed.action, allowed.details["code_sha256"]) == ("kernel.execute", CODE_HASH)
    assert refused.action == "kernel.execute_refused"
    assert refused.details["code_sha256"] == hashlib.sha256((CODE + "1").encode()).hexdigest()
    assert refused.details["reason"]
