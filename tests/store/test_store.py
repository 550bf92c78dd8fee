"""The policy store on real databases: migrations, snapshots, versions, failures.

Every test runs on SQLite and on a real PostgreSQL server started by the suite.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Engine, text

from jupyter_workspace_perms.errors import Conflict, InvalidInput, NotFound, SchemaOutdated
from jupyter_workspace_perms.policy import Role, Subject, check_project
from jupyter_workspace_perms.store import PolicyStore, database, orm


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'policy.sqlite'}"
    return str(request.getfixturevalue("postgres_url"))


@pytest.fixture
def store(db_url: str) -> Iterator[PolicyStore]:
    store = PolicyStore(db_url=db_url).open()
    yield store
    store.close()


@pytest.fixture
def engine(db_url: str) -> Iterator[Engine]:
    engine = database.create_db_engine(db_url)
    yield engine
    engine.dispose()


@pytest.fixture
def open_stores(db_url: str) -> Iterator[Callable[[], PolicyStore]]:
    """Open stores on the test database (closed at the end), like separate processes."""
    opened: list[PolicyStore] = []

    def open_store() -> PolicyStore:
        opened.append(PolicyStore(db_url=db_url).open())
        return opened[-1]

    yield open_store
    for store in opened:
        store.close()


def test_migrations_upgrade_an_empty_database_to_head(engine: Engine) -> None:
    assert database.is_empty(engine)
    before, after = database.upgrade(engine)
    assert (before, after) == (None, database.head_revision())
    with engine.connect() as connection:
        version = connection.execute(text("SELECT version FROM policy_version")).scalar_one()
    assert version == 1


def test_models_match_the_migrated_schema(engine: Engine) -> None:
    """The ORM and the migrations describe the same tables (no drift)."""
    database.upgrade(engine)
    with engine.connect() as connection:
        diff = compare_metadata(MigrationContext.configure(connection), orm.Base.metadata)
    # Column defaults live in Python (the ORM), never as server defaults: ignore those.
    assert [d for d in diff if d[0] not in ("modify_default",)] == []


def test_open_refuses_a_database_without_a_revision(
    engine: Engine, open_stores: Callable[[], PolicyStore]
) -> None:
    with engine.begin() as connection:
        connection.execute(text("CREATE TABLE users (id INTEGER PRIMARY KEY)"))
    with pytest.raises(SchemaOutdated, match="upgrade-db"):
        open_stores()


def test_open_refuses_a_schema_newer_than_the_package(
    engine: Engine, open_stores: Callable[[], PolicyStore]
) -> None:
    database.upgrade(engine)
    with engine.begin() as connection:
        connection.execute(text("UPDATE alembic_version SET version_num = '9999_future'"))
    with pytest.raises(SchemaOutdated, match="newer"):
        open_stores()


def test_writes_bump_the_version_and_reload_this_process(store: PolicyStore) -> None:
    start = store.snapshot.version
    with store.write("t") as w:
        w.create_workspace("acme", "ada@acme.test", "google")
    assert store.snapshot.version == start + 1
    assert store.stored_version() == start + 1
    assert "acme" in store.snapshot.workspaces_by_slug


def test_a_failed_write_changes_nothing(store: PolicyStore) -> None:
    with store.write("t") as w:
        w.create_workspace("acme", "ada@acme.test")
    before = store.status()
    with pytest.raises(Conflict), store.write("t") as w:
        w.create_project("acme", "p1")
        w.set_member("acme", "ada@acme.test", "viewer")  # the owner: refused
    assert store.status() == before
    assert store.snapshot.project_named("acme", "p1") is None


def test_other_process_changes_are_seen_on_refresh(
    open_stores: Callable[[], PolicyStore],
) -> None:
    server, cli = open_stores(), open_stores()
    assert server.refresh() is False
    with cli.write("cli") as w:
        w.create_workspace("acme", "ada@acme.test")
    assert "acme" not in server.snapshot.workspaces_by_slug
    assert server.refresh() is True
    assert "acme" in server.snapshot.workspaces_by_slug
    assert server.snapshot.version == cli.snapshot.version


def test_an_untouched_sqlite_file_is_not_queried_again(
    open_stores: Callable[[], PolicyStore], db_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Polling a SQLite policy costs two ``stat`` calls until another process commits;
    other databases are always asked."""
    from jupyter_workspace_perms.store import store as store_module

    server, cli = open_stores(), open_stores()
    assert server.needs_check()  # never checked yet
    assert server.refresh() is False
    sqlite = db_url.startswith("sqlite")
    assert server.needs_check() is not sqlite
    cli.record_events([{"actor": "a", "action": "kernel.execute", "details": {}}])
    assert server.needs_check()  # audit rows touch the file: asked, version unchanged
    assert server.refresh() is False
    with cli.write("cli") as w:
        w.create_workspace("acme", "ada@acme.test")
    assert server.needs_check()
    assert server.refresh() is True
    assert server.needs_check() is not sqlite
    monkeypatch.setattr(store_module, "FULL_CHECK_SECONDS", 0.0)
    assert server.needs_check()  # the backstop: asked now and then anyway


def test_unreachable_store_keeps_the_last_snapshot_and_refuses_writes(tmp_path: Path) -> None:
    db = tmp_path / "gone" / "policy.sqlite"
    store = PolicyStore(db_url=f"sqlite:///{db}").open()
    with store.write("t") as w:
        w.create_workspace("acme", "ada@acme.test")
    snapshot = store.snapshot
    store.close()  # drop pooled connections: the next use must reconnect
    db.parent.chmod(0o000)
    for suffix in ("", "-wal", "-shm"):
        Path(f"{db}{suffix}").unlink(missing_ok=True)
    try:
        assert store.refresh() is False
        assert store.snapshot is snapshot
        from jupyter_workspace_perms.errors import StoreUnavailable

        with pytest.raises(StoreUnavailable), store.write("t") as w:
            w.create_workspace("other", "ada@acme.test")
    finally:
        db.parent.chmod(0o755)
        store.close()


def test_grant_expiry_is_decided_at_request_time(store: PolicyStore) -> None:
    expires = datetime.now(timezone.utc) + timedelta(hours=1)
    with store.write("t") as w:
        w.create_workspace("acme", "ada@acme.test")
        w.create_project("acme", "p", "none")
        w.ensure_user("gus@gmail.test", "github")
        w.set_collaborator("acme", "p", "gus@gmail.test", "editor", expires)
    snap = store.snapshot
    gus = Subject(snap.users_by_name["gus@gmail.test"], "github")
    project = snap.project_named("acme", "p")
    assert project is not None
    assert check_project(snap, gus, project.id, "project:write", time.time()).allowed
    assert not check_project(snap, gus, project.id, "project:read", expires.timestamp()).allowed
    grant = snap.grants[(project.id, gus.user_id)]
    assert grant.role is Role.editor
    assert grant.expires_at == pytest.approx(expires.timestamp())


def test_writer_refuses_bad_input(store: PolicyStore) -> None:
    with store.write("t") as w:
        w.create_workspace("acme", "ada@acme.test")
    cases = [
        (InvalidInput, lambda w: w.create_workspace("a/b", "x@y.test")),
        (InvalidInput, lambda w: w.create_workspace("..", "x@y.test")),
        (InvalidInput, lambda w: w.create_workspace(".hidden", "x@y.test")),
        (InvalidInput, lambda w: w.create_workspace("ok", "not-an-email")),
        (Conflict, lambda w: w.create_workspace("acme", "x@y.test")),
        (InvalidInput, lambda w: w.set_member("acme", "ada@acme.test", "boss")),
        (NotFound, lambda w: w.set_member("nope", "ada@acme.test", "viewer")),
        (NotFound, lambda w: w.set_member("acme", "nobody@acme.test", "viewer")),
        (Conflict, lambda w: w.remove_member("acme", "ada@acme.test")),
        (InvalidInput, lambda w: w.create_project("acme", "p", "secret")),
        (InvalidInput, lambda w: w.create_project("acme", "../etc", "full")),
        (NotFound, lambda w: w.remove_collaborator("acme", "missing", "ada@acme.test")),
        (NotFound, lambda w: w.revoke_token(12345)),
        (
            InvalidInput,
            lambda w: w.create_token("ada@acme.test", expires_at=datetime(2030, 1, 1)),
        ),
        (
            InvalidInput,
            lambda w: w.create_token(
                "ada@acme.test", expires_at=datetime(2001, 1, 1, tzinfo=timezone.utc)
            ),
        ),
    ]
    before = store.status()
    for error, change in cases:
        with pytest.raises(error), store.write("t") as w:
            change(w)
    assert store.status() == before


def test_every_change_is_an_audit_event(store: PolicyStore) -> None:
    with store.write("alice") as w:
        w.create_workspace("acme", "ada@acme.test")
        w.ensure_user("bob@acme.test")
        w.set_member("acme", "bob@acme.test", "editor")
        w.create_project("acme", "p", creator="bob@acme.test")
        w.set_project_access("acme", "p", "view")
        w.set_collaborator("acme", "p", "ada@acme.test", "viewer")
        w.remove_collaborator("acme", "p", "ada@acme.test")
        w.remove_member("acme", "bob@acme.test")
        token, _secret = w.create_token("ada@acme.test")
        w.revoke_token(token.id)
    with store.engine.connect() as connection:
        rows = connection.execute(text("SELECT actor, action FROM audit_events ORDER BY id"))
        actions = [action for actor, action in rows if actor == "alice"]
    assert actions == [
        "user.create",
        "workspace.create",
        "user.create",
        "member.set",
        "project.create",
        "project.access",
        "collaborator.set",
        "collaborator.remove",
        "member.remove",
        "token.create",
        "token.revoke",
    ]


def test_tokens_are_stored_hashed(store: PolicyStore) -> None:
    with store.write("t") as w:
        w.create_workspace("acme", "ada@acme.test")
        _token, secret = w.create_token("ada@acme.test")
    with store.engine.connect() as connection:
        stored = connection.execute(text("SELECT hashed, prefix FROM tokens")).one()
    assert secret not in stored.hashed and len(stored.hashed) == 64
    assert secret.startswith(stored.prefix) and len(stored.prefix) < len(secret) // 3


def test_set_owner_moves_ownership_and_keeps_the_old_owner_admin(store: PolicyStore) -> None:
    with store.write("t") as w:
        w.create_workspace("acme", "ada@acme.test")
        w.set_owner("acme", "bea@acme.test", "okta")
    snap = store.snapshot
    acme = snap.workspaces[snap.workspaces_by_slug["acme"]]
    assert acme.owner_id == snap.users_by_name["bea@acme.test"]
    assert snap.memberships[(acme.id, snap.users_by_name["ada@acme.test"])] is Role.admin
    with store.write("t") as w:
        w.set_member("acme", "ada@acme.test", "viewer")  # no longer the owner
    assert store.snapshot.memberships[(acme.id, snap.users_by_name["ada@acme.test"])] is (
        Role.viewer
    )


def test_audit_rows_are_appended_without_moving_the_policy_version(store: PolicyStore) -> None:
    """Execution records arrive for every cell run: no server may reload for them."""
    from jupyter_workspace_perms.kernel.audit import ExecutionAuditor

    with store.write("t") as w:
        project = w.create_project(w.create_workspace("acme", "ada@acme.test").slug, "p")
    version = store.stored_version()
    rows = [{"actor": "a", "action": "kernel.execute", "workspace_id": None, "target": "t"}] * 2
    assert store.record_events(rows) == 2
    auditor = ExecutionAuditor(store=store)
    auditor.record(  # longer than the columns: cut, never refused by the database
        "u" * 300, project.workspace_id, project.id, "n/" * 300, "c", "x = 1", True, "ok", "k"
    )
    assert auditor.flush() == 1
    assert store.stored_version() == version == store.snapshot.version
    with store.engine.connect() as connection:
        query = "SELECT actor, target, details FROM audit_events WHERE action = 'kernel.execute'"
        stored = connection.execute(text(query + " ORDER BY id")).all()
    assert len(stored) == 3
    actor, target, details = stored[-1]
    assert (len(actor), len(target)) == (255, 512)
    assert "x = 1" not in str(details)


def test_a_deleted_projects_id_is_never_given_again(store: PolicyStore) -> None:
    """Kernels, kernel homes and integration connections follow a project's id: a new
    project (in any workspace) must never get the id of a deleted one, which SQLite
    would reuse when it was the highest."""
    with store.write("t") as w:
        w.create_workspace("acme", "ada@acme.test")
        w.create_workspace("beta", "bob@beta.test")
        first = w.create_project("acme", "one").id
        last = w.create_project("acme", "two").id
    with store.write("t") as w:
        w.delete_project("acme", "two")
    with store.write("t") as w:
        again = w.create_project("beta", "new").id
    assert first < last < again


def test_audit_rows_of_different_shapes_keep_every_column(store: PolicyStore) -> None:
    """A batch mixes rows with and without ``details``: none loses a column."""
    rows = [
        {"actor": "a", "action": "shape.test", "workspace_id": None, "target": "first"},
        {
            "actor": "b",
            "action": "shape.test",
            "workspace_id": None,
            "target": "second",
            "details": {"reason": "kept"},
        },
    ]
    assert store.record_events(rows) == 2
    with store.engine.connect() as connection:
        query = "SELECT target, details FROM audit_events WHERE action = 'shape.test'"
        stored = dict(connection.execute(text(query)).all())
    details = stored["second"]
    details = json.loads(details) if isinstance(details, str) else details
    assert details == {"reason": "kept"}
