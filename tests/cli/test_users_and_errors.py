"""Issue #10 item 13: users who are nobody's member yet, a new database, errors as JSON.

Every command runs as the real ``python -m jupyter_workspace_perms.cli.app`` in a
process group of its own (:func:`tests.helpers.servers.run`); what it did is read
back from the database with a :class:`PolicyStore` on the same URL.
"""

from __future__ import annotations

import json
import shlex
import sqlite3
import sys
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from jupyter_workspace_perms.store import PolicyStore, database
from tests.helpers.servers import jupyter_env, run

MODULE = "jupyter_workspace_perms.cli.app"
ALICE, BOB = "alice@example.com", "bob@example.com"


@dataclass
class Answer:
    """What one run printed and returned."""

    code: int
    out: str
    err: str

    def json(self) -> Any:
        return json.loads(self.out)

    def json_error(self) -> dict[str, str]:
        """A refusal under ``--json``: one JSON document on stdout, nothing on stderr."""
        assert self.err == "", self.err
        answer = self.json()
        assert set(answer) >= {"error", "reason"}, answer
        assert "\n" not in answer["error"]
        return dict(answer)


@pytest.fixture
def cli(tmp_path: Path) -> Any:
    """``cli("member set ...", db_url, expect=0)``: the real CLI in its own process group."""
    home = tmp_path / "home"
    (home / "config").mkdir(parents=True)
    env = jupyter_env(home)
    env.pop(database.DB_URL_ENV, None)

    def call(command: str, db_url: str | None = None, expect: int = 0) -> Answer:
        db = ["--db-url", db_url] if db_url else []
        args = [sys.executable, "-m", MODULE, *shlex.split(command), *db]
        done = run(args, env, timeout=120)
        answer = Answer(done.returncode, done.stdout, done.stderr)
        assert answer.code == expect, f"{command} exited {answer.code}: {answer.out}{answer.err}"
        return answer

    return call


@pytest.fixture
def acme(wsp_store: PolicyStore) -> PolicyStore:
    """Workspace ``acme`` owned by Alice, Bob its Editor."""
    with wsp_store.write("test") as w:
        w.create_workspace("acme", ALICE)
        w.ensure_user(BOB)
        w.set_member("acme", BOB, "editor")
    return wsp_store


def state(store: PolicyStore) -> tuple[int, dict[str, int]]:
    """Policy version and row counts: equal before and after means nothing was written."""
    status = store.status()
    return status["policy_version"], status["counts"]


def tree(folder: Path) -> list[str]:
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*"))


# -- user create / user list / token create for a new email ------------------------------


def test_user_create_makes_a_user_with_no_access_whom_member_set_then_uses(
    cli: Any, acme: PolicyStore
) -> None:
    created = cli(
        "user create Jo@Example.com --provider google --name 'Jo Smith' --json", acme.db_url
    )
    assert created.json() == {
        "user": "jo@example.com",
        "email": "jo@example.com",
        "name": "Jo Smith",
        "login_provider": "google",
        "email_verified": True,
    }
    snap = acme.reload()
    jo = snap.user_named("jo@example.com")
    assert jo is not None and (jo.display_name, jo.email_verified) == ("Jo Smith", True)
    assert not [k for k in snap.memberships if k[1] == jo.id]
    assert not [k for k in snap.grants if k[1] == jo.id]

    listed = {u["user"]: u for u in cli("user list --json", acme.db_url).json()["users"]}
    assert listed["jo@example.com"]["workspaces"] == []
    cli("member set acme jo@example.com contributor", acme.db_url)
    listed = {u["user"]: u for u in cli("user list --json", acme.db_url).json()["users"]}
    assert listed["jo@example.com"]["workspaces"] == [{"workspace": "acme", "role": "contributor"}]
    assert listed["jo@example.com"]["login_provider"] == "google"  # member set kept it
    assert listed[ALICE]["workspaces"] == [{"workspace": "acme", "role": "admin"}]
    text = cli("user list", acme.db_url).out.splitlines()
    assert text[0].split() == ["USER", "PROVIDER", "WORKSPACES", "PROJECTS"]
    assert (
        "created user jo2@example.com (provider token)"
        in cli("user create jo2@example.com", acme.db_url).out
    )


REFUSED_USERS = {
    "existing-user": (f"user create {ALICE.upper()}", "already exists", "exists"),
    "not-an-email": ("user create nobody", "invalid email", "invalid_email"),
    "long-name": ("user create x@example.com --name " + "n" * 300, "--name", "invalid"),
    "long-provider": ("user create x@example.com --provider " + "p" * 65, "--provider", "invalid"),
}


@pytest.mark.parametrize(
    ("command", "message", "reason"), REFUSED_USERS.values(), ids=REFUSED_USERS
)
def test_user_create_refuses_and_changes_nothing(
    cli: Any, acme: PolicyStore, command: str, message: str, reason: str
) -> None:
    before = state(acme)
    line = cli(command, acme.db_url, expect=1).err
    assert line.startswith("error: ") and message in line and line.count("\n") == 1
    error = cli(f"{command} --json", acme.db_url, expect=1).json_error()
    assert message in error["error"] and error["reason"] == reason
    assert state(acme) == before


def test_token_create_makes_an_unknown_emails_user_as_member_set_does(
    cli: Any, acme: PolicyStore
) -> None:
    created = cli("token create New@Example.org --provider github --json", acme.db_url).json()
    assert (created["user"], created["login_provider"]) == ("new@example.org", "github")
    snap = acme.reload()
    new = snap.user_named("new@example.org")
    assert new is not None and (new.email_verified, new.login_provider) == (True, "github")
    assert snap.tokens_by_id[created["id"]].user_id == new.id

    # an existing user keeps their login provider: --provider is the token's only
    token = cli(f"token create {BOB} --provider google --json", acme.db_url).json()
    assert token["login_provider"] == "google"
    bob = acme.reload().user_named(BOB)
    assert bob is not None and bob.login_provider == "token"


# -- a new database: status reads, the first write creates ------------------------------


@pytest.fixture(
    params=["missing-file", "empty-file", pytest.param("postgres", marks=pytest.mark.postgres)]
)
def new_db(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A database with no schema: a SQLite file (and folder) that does not exist yet, an
    empty SQLite file, an empty PostgreSQL database."""
    if request.param == "postgres":
        return str(request.getfixturevalue("postgres_url"))
    folder = tmp_path / "new" / "deeper"
    if request.param == "empty-file":
        folder.mkdir(parents=True)
        (folder / "policy.sqlite").touch()
    return f"sqlite:///{folder / 'policy.sqlite'}"


def assert_still_new(url: str, tmp_path: Path) -> None:
    """No file or folder was created for ``url``; the database it names has no table."""
    path = database.sqlite_path(url)
    if path is not None and not path.exists():
        assert not (tmp_path / "new").exists()
        return
    store = PolicyStore(db_url=url)
    try:
        assert database.is_empty(store.engine)
    finally:
        store.close()


def test_status_on_a_new_database_exits_0_and_creates_nothing(
    cli: Any, tmp_path: Path, new_db: str
) -> None:
    before = tree(tmp_path / "home")
    status = cli("status --json", new_db).json()
    assert status.pop("kernel_sandbox")["mode"] in ("required", "auto")  # see test_commands
    assert status == {
        "db_url": database.redact(new_db),
        "schema": None,
        "schema_head": database.head_revision(),
        "policy_version": None,
        "counts": None,
    }
    assert "created by the first command that writes" in cli("status", new_db).out
    assert cli("workspace list --json", new_db).json() == {"workspaces": []}
    assert cli("user list --json", new_db).json() == {"users": []}
    cli("member list acme", new_db, expect=1)
    assert_still_new(new_db, tmp_path)
    assert tree(tmp_path / "home") == before

    cli(f"user create {ALICE}", new_db)  # the first write creates the schema
    status = cli("status --json", new_db).json()
    assert status["schema"] == database.head_revision() and status["counts"]["users"] == 1


@pytest.mark.parametrize(
    "command",
    ["member set nope x@example.com viewer", "token create nobody", "user create not-an-email"],
)
def test_a_refused_write_on_a_new_database_leaves_it_new(
    cli: Any, tmp_path: Path, new_db: str, command: str
) -> None:
    cli(command, new_db, expect=1)
    assert_still_new(new_db, tmp_path)
    status = cli("status --json", new_db).json()
    assert (status["schema"], status["counts"]) == (None, None)


# -- --json errors: one JSON document on stdout, same exit codes -------------------------

USAGE = {
    "missing-positional": f"member set acme {BOB}",
    "extra-positional": "workspace list acme",
    "unknown-option": f"collaborator set acme p {BOB} viewer --expire=2030-01-01T00:00:00Z",
    "unknown-command": "frobnicate",
    "unknown-subcommand": "member promote",
    "missing-subcommand": "member",
    "missing-owner": "workspace create beta",
    "not-an-int": "demo --port abc",
}


@pytest.mark.parametrize("command", USAGE.values(), ids=USAGE)
def test_usage_errors_under_json_are_json_and_exit_2(
    cli: Any, acme: PolicyStore, command: str
) -> None:
    before = state(acme)
    error = cli(f"{command} --json", acme.db_url, expect=2).json_error()
    assert error["reason"] == "usage" and error["error"]
    assert state(acme) == before


def test_a_value_of_the_wrong_type_is_a_one_line_usage_error(cli: Any, acme: PolicyStore) -> None:
    answer = cli("demo --port abc", acme.db_url, expect=2)
    assert answer.out == ""
    assert answer.err.startswith("error: invalid option value") and answer.err.count("\n") == 1


REFUSED = {
    "unknown-role": (f"member set acme {BOB} boss", "invalid_role"),
    "unknown-workspace": (f"member set nope {BOB} viewer", "not_found"),
    "owner-demoted": (f"member set acme {ALICE} editor", "owner_protected"),
    "workspace-exists": (f"workspace create acme --owner {BOB}", "exists"),
    "bad-expiry": (f"token create {BOB} --expires tomorrow", "invalid_expiry"),
    "token-id": ("token revoke 12x", "invalid"),
    "unknown-user": ("token list nobody@example.com", "not_found"),
}


@pytest.mark.parametrize(("command", "reason"), REFUSED.values(), ids=REFUSED)
def test_refusals_under_json_are_json_exit_1_and_change_nothing(
    cli: Any, acme: PolicyStore, tmp_path: Path, command: str, reason: str
) -> None:
    before, folders = state(acme), tree(tmp_path)
    error = cli(f"{command} --json", acme.db_url, expect=1).json_error()
    assert error["reason"] == reason and error["error"]
    assert state(acme) == before and tree(tmp_path) == folders


def test_an_outdated_schema_under_json_is_one_document_with_the_status(
    cli: Any, tmp_path: Path
) -> None:
    path = tmp_path / "old.sqlite"
    with closing(sqlite3.connect(path)) as connection:  # tables but no schema revision
        connection.execute("CREATE TABLE leftover (id INTEGER)")
    url = f"sqlite:///{path}"
    answer = cli("status --json", url, expect=1).json_error()
    assert answer["reason"] == "schema_outdated" and "upgrade-db" in answer["error"]
    assert answer["schema"] is None and answer["db_url"] == url
    assert cli("workspace list --json", url, expect=1).json_error()["reason"] == "schema_outdated"
