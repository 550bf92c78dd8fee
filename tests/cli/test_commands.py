"""The operator CLI, ``jupyter workspace-perms``, run the way operators run it.

Commands that touch the database run the real CLI in a subprocess against a
temporary SQLite file and root folder; the effect is then read back through a
:class:`PolicyStore` on the same URL. Parsing (usage errors, help) and small
helpers are tested in-process, where a test costs milliseconds.
"""

from __future__ import annotations

import getpass
import json
import os
import shlex
import shutil
import sqlite3
import subprocess
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session
from traitlets.config import Application

from jupyter_workspace_perms.cli import app as cli_app
from jupyter_workspace_perms.cli.base import Command
from jupyter_workspace_perms.errors import InvalidInput
from jupyter_workspace_perms.folders import make_folders
from jupyter_workspace_perms.policy import ProjectAccess, Role
from jupyter_workspace_perms.store import PolicyStore, database, orm
from jupyter_workspace_perms.store.tokens import hash_token
from jupyter_workspace_perms.timestamps import parse_expiry
from tests.helpers.missing import missing

MODULE = "jupyter_workspace_perms.cli.app"
ALICE, BOB, CAROL = "alice@example.com", "bob@example.com", "carol@other.org"
PAST = datetime(2020, 1, 1, tzinfo=timezone.utc)


# -- running the CLI ---------------------------------------------------------------------


@dataclass
class Run:
    """What one CLI run printed and returned."""

    code: int
    out: str
    err: str

    def json(self) -> Any:
        return json.loads(self.out)

    def error_line(self) -> str:
        """The single ``error:`` line a refused command prints on stderr."""
        lines = self.err.splitlines()
        assert len(lines) == 1 and lines[0].startswith("error: "), self.err
        assert self.out == ""
        return lines[0]


@dataclass
class CLI:
    """Runs ``python -m jupyter_workspace_perms.cli.app`` in a subprocess."""

    db_url: str
    root: Path
    env: dict[str, str]

    def __call__(
        self, command: str, expect: int = 0, db: bool = True, env: dict[str, str] | None = None
    ) -> Run:
        """Run ``command`` (shell words) on the test database (no ``--db-url`` if not ``db``)."""
        db_args = ["--db-url", self.db_url] if db else []
        return self.run(
            [sys.executable, "-m", MODULE, *shlex.split(command), *db_args], expect, env
        )

    def run(self, argv: list[str], expect: int = 0, env: dict[str, str] | None = None) -> Run:
        """Run ``argv`` from inside the root folder; assert its exit status."""
        proc = subprocess.run(
            argv,
            cwd=self.root,
            env={**self.env, **(env or {})},
            capture_output=True,
            text=True,
            timeout=120,
        )
        result = Run(proc.returncode, proc.stdout, proc.stderr)
        assert result.code == expect, f"{argv[3:]} exited {result.code}: {result.err}"
        return result


def _jupyter_env(tmp_path: Path) -> dict[str, str]:
    """Config and data dirs of our own, so no real user's config reaches the CLI."""
    (tmp_path / "jupyter-config").mkdir(exist_ok=True)
    return {
        "JUPYTER_CONFIG_DIR": str(tmp_path / "jupyter-config"),
        "JUPYTER_DATA_DIR": str(tmp_path / "jupyter-data"),
    }


@pytest.fixture
def root(tmp_path: Path) -> Path:
    """The folder that holds workspace folders (the server's root_dir)."""
    path = tmp_path / "root"
    path.mkdir()
    return path


@pytest.fixture
def cli(wsp_db_url: str, root: Path, tmp_path: Path) -> CLI:
    """The real CLI on the test database, run from inside ``root``."""
    env = {k: v for k, v in os.environ.items() if k != database.DB_URL_ENV}
    return CLI(wsp_db_url, root, {**env, **_jupyter_env(tmp_path)})


@pytest.fixture
def world(wsp_store: PolicyStore, root: Path) -> PolicyStore:
    """Workspace ``acme`` (owner alice, editor bob), project ``reports`` shared with carol."""
    with wsp_store.write("test") as w:
        w.create_workspace("acme", ALICE)
        w.ensure_user(BOB)
        w.set_member("acme", BOB, "editor")
        w.create_project("acme", "reports", "full", creator=BOB)
        w.ensure_user(CAROL, "github")
        w.set_collaborator("acme", "reports", CAROL, "viewer")
    (root / "acme" / "reports").mkdir(parents=True)
    return wsp_store


def snapshot_of(store: PolicyStore) -> Any:
    """The store's policy as the CLI left it."""
    return store.reload()


def state(store: PolicyStore) -> tuple[int, dict[str, int]]:
    """Policy version and row counts: equal before and after means nothing was written."""
    status = store.status()
    return status["policy_version"], status["counts"]


def tree(root: Path) -> list[str]:
    """Every path under ``root``, to prove no folder was created."""
    return sorted(str(p.relative_to(root)) for p in root.rglob("*"))


# -- in-process runs (parsing, config) ---------------------------------------------------


def command_classes(
    cls: type[Application] = cli_app.WorkspacePermsApp,
) -> Iterator[type[Application]]:
    """Every class of the command tree."""
    yield cls
    if isinstance(cls.subcommands, dict):
        for sub, _help in cls.subcommands.values():
            yield from command_classes(sub)


@pytest.fixture
def main(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> Callable[..., Run]:
    """``main(argv)`` in this process; traitlets singletons are cleared after each run."""
    for key, value in _jupyter_env(tmp_path).items():
        monkeypatch.setenv(key, value)
    monkeypatch.setenv(database.DB_URL_ENV, f"sqlite:///{tmp_path / 'untouched.sqlite'}")

    def run(command: str, expect: int = 0) -> Run:
        code: int | str | None = 0
        argv = shlex.split(command)
        try:
            cli_app.main(argv)
        except SystemExit as e:
            code = e.code
        finally:
            for cls in command_classes():
                cls.clear_instance()
        out, err = capsys.readouterr()
        result = Run(int(code or 0), out, err)
        assert result.code == expect, f"{argv} exited {result.code}: {err}"
        return result

    return run


USAGE_ERRORS = {
    "missing-positional": (f"member set acme {BOB}", "missing ROLE: usage: "),
    "missing-two-positionals": ("collaborator set acme p", "missing EMAIL ROLE"),
    "extra-positional": (f"member set acme {BOB} editor x", "unexpected argument 'x'"),
    "extra-positional-no-args": ("workspace list acme", "unexpected argument 'acme'"),
    "mistyped-option": (
        f"collaborator set acme p {BOB} viewer --expire=2030-01-01T00:00:00Z",
        "unknown option '--expire'",
    ),
    "flag-with-value": ("status --json=1", "--json"),
    "option-without-value": (f"member set acme {BOB} viewer --provider", "provider"),
    "missing-owner": ("workspace create acme", "missing --owner EMAIL"),
    "unknown-subcommand": ("member promote", "unknown command 'promote'"),
    "unknown-command": ("frobnicate", "unknown command 'frobnicate'"),
    "missing-subcommand": ("member", "needs a command: one of set, remove, list"),
    "missing-command": ("", "needs a command: one of workspace, member"),
}


@pytest.mark.parametrize(("command", "message"), USAGE_ERRORS.values(), ids=USAGE_ERRORS)
def test_usage_errors_exit_2_with_one_line_and_touch_nothing(
    main: Callable[..., Run], tmp_path: Path, command: str, message: str
) -> None:
    line = main(command, expect=2).error_line()
    assert message in line
    assert not (tmp_path / "untouched.sqlite").exists()


def test_help_shows_the_tree_and_each_commands_usage(main: Callable[..., Run]) -> None:
    top = main("--help").out
    assert "Usage: jupyter workspace-perms <command>" in top
    for name in ("workspace", "member", "project", "collaborator", "token", "upgrade-db"):
        assert f"\n{name}\n" in top
    leaf = main("collaborator set --help").out
    assert "Usage: jupyter workspace-perms collaborator set SLUG PROJECT EMAIL ROLE" in leaf
    assert "--expires" in leaf and "--db-url" in leaf and "--json" in leaf


def test_every_option_documents_itself() -> None:
    for cls in command_classes():
        assert cls.__doc__, cls
        for name, trait in cls.class_own_traits(config=True).items():
            assert trait.help, f"{cls.__name__}.{name} has no help"
        if issubclass(cls, Command):
            assert cls.description, cls


@pytest.mark.parametrize("config_file", ["jupyter_server_config", "jupyter_workspace_perms_config"])
def test_the_servers_config_files_name_the_database(
    main: Callable[..., Run], world: PolicyStore, tmp_path: Path, config_file: str
) -> None:
    config = tmp_path / "jupyter-config" / f"{config_file}.py"
    config.write_text(f"c.PolicyStore.db_url = {world.db_url!r}\n", encoding="utf-8")
    listed = main("workspace list --json").json()
    assert [w["slug"] for w in listed["workspaces"]] == ["acme"]


def test_commands_refuse_an_outdated_schema_and_upgrade_db_fixes_it(
    main: Callable[..., Run], tmp_path: Path
) -> None:
    path = tmp_path / "old.sqlite"
    with sqlite3.connect(path) as connection:  # tables but no schema revision
        connection.execute("CREATE TABLE leftover (id INTEGER)")
    db = f"--db-url sqlite:///{path}"
    line = main(f"workspace list {db}", expect=1).error_line()
    assert "jupyter workspace-perms upgrade-db" in line
    status = main(f"status --json {db}", expect=1)
    assert status.json()["schema"] is None and "upgrade-db" in status.json()["error"]
    upgraded = main(f"upgrade-db --json {db}").json()
    assert (upgraded["from"], upgraded["to"]) == (None, database.head_revision())
    assert main(f"workspace list --json {db}").json() == {"workspaces": []}


def test_upgrade_db_refuses_a_schema_from_a_newer_version(
    main: Callable[..., Run], tmp_path: Path
) -> None:
    path = tmp_path / "newer.sqlite"
    with sqlite3.connect(path) as connection:
        connection.execute("CREATE TABLE alembic_version (version_num VARCHAR(32))")
        connection.execute("INSERT INTO alembic_version VALUES ('9999_future')")
    line = main(f"upgrade-db --db-url sqlite:///{path}", expect=1).error_line()
    assert "9999_future" in line


def test_parse_expiry_needs_a_zone_and_a_future_time() -> None:
    assert parse_expiry("2030-01-02T03:04:05Z") == datetime(
        2030, 1, 2, 3, 4, 5, tzinfo=timezone.utc
    )
    with_offset = parse_expiry("2030-01-02T05:04:05+02:00")
    assert with_offset.timestamp() == datetime(2030, 1, 2, 3, 4, 5, tzinfo=timezone.utc).timestamp()
    for bad, why in [
        ("2030-01-02T03:04:05", "time zone"),
        ("2030-01-02", "time zone"),
        ("next week", "invalid expiry"),
        ("2000-01-01T00:00:00Z", "in the past"),
    ]:
        with pytest.raises(InvalidInput, match=why):
            parse_expiry(bad)


def test_make_folders_adopts_folders_and_refuses_links(root: Path, tmp_path: Path) -> None:
    folder, created = make_folders(str(root), ["acme", "reports"])
    assert folder == root.resolve() / "acme" / "reports" and len(created) == 2
    assert make_folders(str(root), ["acme", "reports"]) == (folder, [])
    (tmp_path / "elsewhere").mkdir()
    (root / "acme" / "out").symlink_to(tmp_path / "elsewhere")
    (root / "acme" / "alias").symlink_to(folder)
    with pytest.raises(InvalidInput, match="outside the root dir"):
        make_folders(str(root), ["acme", "out"])
    with pytest.raises(InvalidInput, match="is a link"):
        make_folders(str(root), ["acme", "alias"])


# -- every command's happy path (subprocess) ---------------------------------------------


def test_workspace_create_adds_owner_membership_folder_and_audit(
    cli: CLI, wsp_store: PolicyStore, root: Path, tmp_path: Path
) -> None:
    other_root = tmp_path / "srv"
    other_root.mkdir()
    result = cli(
        f"workspace create acme --owner {ALICE} --provider google --name 'Acme Corp'"
        f" --root-dir {shlex.quote(str(other_root))} --json"
    )
    folder = other_root.resolve() / "acme"
    assert result.json() == {
        "workspace": "acme",
        "name": "Acme Corp",
        "owner": ALICE,
        "folder": str(folder),
    }
    assert folder.is_dir() and tree(root) == []
    snap = snapshot_of(wsp_store)
    ws = snap.workspaces[snap.workspaces_by_slug["acme"]]
    alice = snap.user_named(ALICE)
    assert (ws.name, ws.owner_id) == ("Acme Corp", alice.id)
    assert (alice.login_provider, alice.email_verified) == ("google", True)
    assert snap.memberships[(ws.id, alice.id)] is Role.admin
    with Session(wsp_store.engine) as session:
        actors = set(session.scalars(select(orm.AuditEvent.actor)))
    assert actors == {f"cli:{getpass.getuser()}"}


def test_workspace_create_adopts_an_existing_folder_in_the_current_directory(
    cli: CLI, wsp_store: PolicyStore, root: Path
) -> None:
    (root / "beta").mkdir()
    (root / "beta" / "notes.md").write_text("kept", encoding="utf-8")
    out = cli(f"workspace create beta --owner {ALICE}").out
    assert out == f"created workspace beta (owner {ALICE}) at {root.resolve() / 'beta'}\n"
    assert (root / "beta" / "notes.md").read_text(encoding="utf-8") == "kept"
    assert "beta" in snapshot_of(wsp_store).workspaces_by_slug


def test_workspace_list(cli: CLI, world: PolicyStore) -> None:
    assert cli("workspace list --json").json() == {
        "workspaces": [
            {"slug": "acme", "name": "acme", "owner": ALICE, "members": 2, "projects": 1}
        ]
    }


def test_member_set_creates_the_user_from_the_email(cli: CLI, world: PolicyStore) -> None:
    dan = "dan@example.com"
    result = cli(f"member set acme {dan} contributor --provider github --json")
    assert result.json() == {"workspace": "acme", "user": dan, "role": "contributor"}
    snap = snapshot_of(world)
    user = snap.user_named(dan)
    assert (user.email, user.email_verified, user.login_provider) == (dan, True, "github")
    assert snap.memberships[(snap.workspaces_by_slug["acme"], user.id)] is Role.contributor


def test_member_remove(cli: CLI, world: PolicyStore) -> None:
    assert cli(f"member remove acme {BOB}").out == f"acme: removed {BOB}\n"
    snap = snapshot_of(world)
    assert (snap.workspaces_by_slug["acme"], snap.users_by_name[BOB]) not in snap.memberships


def test_member_list_shows_members_then_guests(cli: CLI, world: PolicyStore) -> None:
    listed = cli("member list acme --json").json()
    assert listed == {
        "workspace": "acme",
        "members": [
            {
                "user": ALICE,
                "email": ALICE,
                "role": "admin",
                "login_provider": "token",
                "owner": True,
            },
            {
                "user": BOB,
                "email": BOB,
                "role": "editor",
                "login_provider": "token",
                "owner": False,
            },
        ],
        "guests": [{"user": CAROL, "projects": ["reports"]}],
    }
    text = cli("member list acme").out.splitlines()
    assert text[0].split() == ["USER", "ROLE", "PROVIDER", "NOTE"]
    assert text[1].split() == [ALICE, "admin", "token", "owner"]
    assert text[3].split() == [CAROL, "guest", "-", "reports"]
    assert text[0].index("ROLE") == text[1].index("admin")  # aligned columns


def test_member_list_agrees_with_the_api_on_expired_grants(cli: CLI, world: PolicyStore) -> None:
    """A collaborator whose only grant has expired is nobody's guest, here as in the REST API."""
    with world.write("test") as w:
        w.ensure_user("dora@other.org")
        w.create_project("acme", "archive", "full", creator=BOB)
        w.set_collaborator("acme", "archive", "dora@other.org", "viewer", expires_at=PAST)
        w.set_collaborator("acme", "archive", CAROL, "editor", expires_at=PAST)
    listed = cli("member list acme --json").json()
    assert listed["guests"] == [{"user": CAROL, "projects": ["reports"]}]


def test_project_create_with_access_and_creator(cli: CLI, world: PolicyStore, root: Path) -> None:
    result = cli(
        f"project create acme secret --access none --creator {BOB}"
        f" --root-dir {shlex.quote(str(root))} --json"
    )
    folder = root.resolve() / "acme" / "secret"
    assert result.json() == {
        "workspace": "acme",
        "project": "secret",
        "access": "none",
        "creator": BOB,
        "folder": str(folder),
    }
    assert folder.is_dir()
    snap = snapshot_of(world)
    project = snap.project_named("acme", "secret")
    bob = snap.users_by_name[BOB]
    assert (project.access, project.creator_id) == (ProjectAccess.none, bob)
    assert snap.grants[(project.id, bob)].role is Role.admin


def test_project_access(cli: CLI, world: PolicyStore) -> None:
    assert cli("project access acme reports view").out == "acme/reports: access view\n"
    assert snapshot_of(world).project_named("acme", "reports").access is ProjectAccess.view


def test_project_list(cli: CLI, world: PolicyStore) -> None:
    assert cli("project list acme --json").json() == {
        "workspace": "acme",
        "projects": [
            {
                "name": "reports",
                "access": "full",
                "creator": BOB,
                "collaborators": [
                    {"user": BOB, "role": "admin", "expires_at": None},
                    {"user": CAROL, "role": "viewer", "expires_at": None},
                ],
            }
        ],
    }


def test_collaborator_set_with_expiry_then_remove(cli: CLI, world: PolicyStore) -> None:
    eve = "eve@guest.org"
    result = cli(
        f"collaborator set acme reports {eve} editor --expires 2030-06-01T12:00:00+02:00 --json"
    )
    assert result.json() == {
        "workspace": "acme",
        "project": "reports",
        "user": eve,
        "role": "editor",
        "expires_at": "2030-06-01T10:00:00+00:00",
    }
    snap = snapshot_of(world)
    project, user = snap.project_named("acme", "reports"), snap.user_named(eve)
    grant = snap.grants[(project.id, user.id)]
    assert grant.role is Role.editor
    assert grant.expires_at == datetime(2030, 6, 1, 10, tzinfo=timezone.utc).timestamp()
    assert user.login_provider == "token" and user.email_verified

    cli(f"collaborator remove acme reports {eve}")
    assert (project.id, user.id) not in snapshot_of(world).grants


def test_token_create_list_and_revoke(cli: CLI, world: PolicyStore) -> None:
    created = cli(
        f"token create {BOB} --provider google --expires 2031-01-01T00:00:00Z --json"
    ).json()
    assert set(created) == {"token", "id", "user", "login_provider", "expires_at"}
    assert (created["user"], created["login_provider"]) == (BOB, "google")
    assert created["expires_at"] == "2031-01-01T00:00:00+00:00"
    stored = snapshot_of(world).tokens[hash_token(created["token"])]
    assert (stored.id, stored.login_provider) == (created["id"], "google")

    plain = cli(f"token create {BOB}").out.splitlines()
    assert len(plain) == 1 and plain[0].startswith("wsp_")

    revoked = cli(f"token revoke {created['id']} --json").json()
    assert (revoked["id"], revoked["user"]) == (created["id"], BOB)
    tokens = snapshot_of(world).tokens
    assert hash_token(created["token"]) not in tokens and hash_token(plain[0]) in tokens

    listed = cli(f"token list {BOB} --json").json()
    assert [(t["id"], t["revoked_at"] is not None) for t in listed["tokens"]] == [
        (created["id"], True),
        (created["id"] + 1, False),
    ]
    assert all("token" not in t and t["prefix"].startswith("wsp_") for t in listed["tokens"])


def test_set_owner_transfers_ownership(cli: CLI, world: PolicyStore) -> None:
    result = cli(f"set-owner acme {BOB} --json").json()
    assert result == {"workspace": "acme", "owner": BOB, "previous_owner": ALICE}
    snap = snapshot_of(world)
    ws = snap.workspaces[snap.workspaces_by_slug["acme"]]
    assert ws.owner_id == snap.users_by_name[BOB]
    assert snap.memberships[(ws.id, snap.users_by_name[ALICE])] is Role.admin


def test_status_redacts_the_url_and_counts_rows(cli: CLI, world: PolicyStore) -> None:
    status = cli("status --json").json()
    sandbox = status.pop("kernel_sandbox")
    assert status == world.status()
    assert status["schema"] == status["schema_head"] == database.head_revision()
    assert status["counts"]["workspaces"] == 1
    text = cli("status").out
    assert f"schema          {status['schema']} (head {status['schema_head']})" in text
    assert f"kernel sandbox  {sandbox['kernels']} (mode {sandbox['mode']})" in text


def test_status_runs_the_kernel_sandbox_self_test(cli: CLI, world: PolicyStore) -> None:
    if shutil.which("bwrap") is None:
        missing("bubblewrap is not installed (Debian: apt-get install bubblewrap)")
    working = cli("status --json").json()["kernel_sandbox"]
    assert (working["kernels"], working["mode"], working["self_test"]["working"]) == (
        "bubblewrap",
        "required",
        True,
    )
    broken = cli("status --json --KernelSandbox.bwrap_path=/nonexistent/bwrap").json()
    sandbox = broken["kernel_sandbox"]
    assert (sandbox["kernels"], sandbox["mode"], sandbox["confined"]) == ("none", "auto", False)
    assert "NOT sandboxed" in sandbox["message"] and "not installed" in sandbox["message"]
    refusing = cli(
        "status --KernelSandbox.bwrap_path=/nonexistent/bwrap --KernelSandbox.mode=required"
    ).out
    assert "kernel sandbox  none (mode required)" in refusing
    assert "Kernels cannot start" in refusing


def test_upgrade_db_on_a_fresh_file_reaches_head(cli: CLI, tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'fresh' / 'policy.sqlite'}"
    upgraded = cli(f"upgrade-db --db-url {url}", db=False).out
    head = database.head_revision()
    assert upgraded == f"{url}: schema upgraded from none to {head}\n"
    status = cli(f"status --json --db-url {url}", db=False).json()
    assert status["schema"] == status["schema_head"] == head


def test_the_db_url_can_come_from_the_environment(cli: CLI, world: PolicyStore) -> None:
    env = {database.DB_URL_ENV: world.db_url}
    listed = cli("workspace list --json", db=False, env=env).json()
    assert [w["slug"] for w in listed["workspaces"]] == ["acme"]


def test_jupyter_finds_the_command(cli: CLI, world: PolicyStore) -> None:
    jupyter = Path(sys.executable).with_name("jupyter")
    assert jupyter.exists(), "jupyter_core's launcher is installed with the package"
    command = ["workspace-perms", "member", "list", "acme", "--json", "--db-url", world.db_url]
    run = cli.run([str(jupyter), *command])
    assert [m["user"] for m in run.json()["members"]] == [ALICE, BOB]


# -- refused operations change nothing (subprocess) --------------------------------------

OWNER_HINT = "transfer ownership first with `jupyter workspace-perms set-owner`"
REFUSED = {
    "unknown-role": (
        f"member set acme {BOB} boss",
        "error: unknown role 'boss': use one of viewer, contributor, editor, admin",
    ),
    "unknown-role-new-user": ("member set acme new@example.com boss", "boss"),
    "unknown-workspace": (f"member set nope {BOB} viewer", "no workspace 'nope'"),
    "unknown-user": ("member remove acme nobody@example.com", "no user"),
    "unknown-access": (
        "project access acme reports everyone",
        "unknown project access 'everyone': use one of full, view, none",
    ),
    "unknown-access-on-create": ("project create acme new --access x", "'x'"),
    "unknown-project": ("project access acme nope view", "no project 'nope'"),
    "unknown-collaborator-project": (f"collaborator set acme nope {CAROL} viewer", "no project"),
    "not-a-collaborator": (f"collaborator remove acme reports {ALICE}", "not a collaborator"),
    "slug-with-slash": (f"workspace create a/b --owner {BOB}", "must not contain a slash"),
    "slug-dotdot": (f"workspace create .. --owner {BOB}", "must be a folder name"),
    "slug-hidden": (f"workspace create .x --owner {BOB}", "hidden names"),
    "project-escapes": ("project create acme ../x", "must not contain a slash"),
    "workspace-exists": (f"workspace create acme --owner {BOB}", "already exists"),
    "date-without-zone": (
        f"collaborator set acme reports {CAROL} editor --expires 2030-01-01T00:00:00",
        "needs a time and a time zone",
    ),
    "date-garbage": (f"token create {BOB} --expires tomorrow", "invalid expiry"),
    "token-for-unknown-non-email": ("token create nobody", "no user 'nobody'"),
    "token-id-not-a-number": ("token revoke 12x", "invalid token id '12x'"),
    "owner-demoted": (f"member set acme {ALICE} editor", OWNER_HINT),
    "owner-removed": (f"member remove acme {ALICE}", OWNER_HINT),
}


@pytest.mark.parametrize(("command", "message"), REFUSED.values(), ids=REFUSED)
def test_refused_operations_exit_1_with_one_line_and_change_nothing(
    cli: CLI, world: PolicyStore, root: Path, command: str, message: str
) -> None:
    before, folders = state(world), tree(root)
    line = cli(command, expect=1).error_line()
    assert message in line
    assert state(world) == before
    assert tree(root) == folders


def test_a_folder_that_cannot_be_made_writes_nothing(
    cli: CLI, world: PolicyStore, root: Path
) -> None:
    (root / "gamma").write_text("a file, not a folder", encoding="utf-8")
    before = state(world)
    line = cli(f"workspace create gamma --owner {BOB}", expect=1).error_line()
    assert "exists and is not a folder" in line
    assert state(world) == before


def test_a_project_folder_linking_out_of_the_root_is_refused(
    cli: CLI, world: PolicyStore, root: Path, tmp_path: Path
) -> None:
    (tmp_path / "outside").mkdir()
    (root / "acme" / "leak").symlink_to(tmp_path / "outside")
    before = state(world)
    line = cli("project create acme leak", expect=1).error_line()
    assert "outside the root dir" in line
    assert state(world) == before and list((tmp_path / "outside").iterdir()) == []
