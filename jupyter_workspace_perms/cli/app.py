"""``jupyter workspace-perms``: the operator's command line for the policy database.

The command tree is traitlets subcommands, as in JupyterHub (``jupyterhub
upgrade-db``): each entry maps a name to ``(AppClass, help)``. Groups such as
``member`` only dispatch; the leaves live in :mod:`.commands`, except the two
that must also run on an outdated schema (``status``, ``upgrade-db``), which
live here like JupyterHub's ``UpgradeDB``.

Run ``jupyter workspace-perms --help`` (or ``... member --help``) for the tree,
and any command with ``--json`` for output meant for scripts.
"""

from __future__ import annotations

import tempfile

from alembic.util import CommandError

from .._version import __version__
from ..errors import SchemaOutdated
from ..sandbox import KernelSandbox
from ..store import database
from . import audit, commands, integrations, users
from .base import PROG, Command, Group, Result
from .demo import Demo, DemoWorld

# -- the database: these two also run on an outdated schema -----------------------------


class Status(Command):
    """``status``: works on an outdated or empty database too, to show what is there."""

    name = f"{PROG} status"
    description = (
        "Show the policy database: URL (password hidden), schema revision, policy version, "
        "counts; and whether kernels would run in the kernel sandbox here (its self-test, "
        "with this configuration's KernelSandbox settings). A database with no schema yet "
        "(a new SQLite file, an empty PostgreSQL database) is reported as such, with exit "
        "status 0, and left as it is: the first command that writes (or the server's first "
        "start, or upgrade-db) creates the schema. An outdated schema exits 1, naming "
        "upgrade-db."
    )
    opens_store = False
    writes = False

    def run(self) -> Result:
        sandbox = KernelSandbox(parent=self)
        with tempfile.TemporaryDirectory(prefix="wsperms-status-") as private:
            sandbox.start([], private)
            sandbox.stop()
        answer: Result = {
            "db_url": database.redact(self.store.db_url),
            "schema": None,
            "schema_head": database.head_revision(),
            "policy_version": None,
            "counts": None,
            "kernel_sandbox": sandbox.status(),
        }
        if not self.schema_exists():
            return answer
        engine = self.store.engine
        try:
            database.check_schema(engine, create_if_empty=False)
        except SchemaOutdated:
            self.partial = {**answer, "schema": database.current_revision(engine)}
            raise
        return {**self.store.status(), "kernel_sandbox": answer["kernel_sandbox"]}

    def render(self, result: Result) -> str:
        counts = result["counts"] or {}
        schema = f"{result['schema'] or 'none'} (head {result['schema_head']})"
        if result["schema"] is None and self.partial is None:
            schema += ": created by the first command that writes"
        lines = [
            ("database", result["db_url"]),
            ("schema", schema),
            ("policy version", "-" if result["counts"] is None else result["policy_version"]),
            *((name.replace("_", " "), count) for name, count in counts.items()),
        ]
        sandbox = result.get("kernel_sandbox")
        if sandbox is not None:
            lines.append(("kernel sandbox", f"{sandbox['kernels']} (mode {sandbox['mode']})"))
            lines.append(("", sandbox["message"]))
        width = max(len(label) for label, _ in lines)
        return "\n".join(f"{label.ljust(width)}  {value}" for label, value in lines)


class UpgradeDB(Command):
    """``upgrade-db``: like JupyterHub's ``UpgradeDB``, it only delegates to the migrations."""

    name = f"{PROG} upgrade-db"
    description = (
        "Upgrade the policy database schema to this version's (creating it when empty). "
        "Back up the database first."
    )
    opens_store = False

    def run(self) -> Result:
        try:
            before, after = database.upgrade(self.store.engine)
        except CommandError as e:
            raise SchemaOutdated(
                f"cannot upgrade {database.redact(self.store.db_url)}: {e}"
            ) from None
        return {"db_url": database.redact(self.store.db_url), "from": before, "to": after}

    def render(self, result: Result) -> str:
        if result["from"] == result["to"]:
            return f"{result['db_url']}: schema already at {result['to']}"
        return (
            f"{result['db_url']}: schema upgraded from {result['from'] or 'none'} to {result['to']}"
        )


# -- the command tree ------------------------------------------------------------------


class UserGroup(Group):
    """``user create|list``."""

    name = f"{PROG} user"
    description = "Create and list users (people who may not be members of anything yet)."
    subcommands = {
        "create": (users.UserCreate, "Create a user from an email, with no access yet."),
        "list": (users.UserList, "List users with their roles and grants."),
    }


class WorkspaceGroup(Group):
    """``workspace create|list``."""

    name = f"{PROG} workspace"
    description = "Create and list workspaces (teams, each a top-level folder)."
    subcommands = {
        "create": (commands.WorkspaceCreate, "Create a workspace, its owner and its folder."),
        "list": (commands.WorkspaceList, "List workspaces with owners and sizes."),
    }


class MemberGroup(Group):
    """``member set|remove|list``."""

    name = f"{PROG} member"
    description = "Manage the members of a workspace and their roles."
    subcommands = {
        "set": (commands.MemberSet, "Give a user a workspace role (creates the user if new)."),
        "remove": (commands.MemberRemove, "Remove a member (never the owner)."),
        "list": (commands.MemberList, "List members and guests of a workspace."),
    }


class ProjectGroup(Group):
    """``project create|access|list``."""

    name = f"{PROG} project"
    description = "Manage the projects of a workspace and what members get on them."
    subcommands = {
        "create": (commands.ProjectCreate, "Create a project and its folder."),
        "access": (commands.ProjectSetAccess, "Set a project's access: full, view or none."),
        "list": (commands.ProjectList, "List projects with access and collaborators."),
    }


class CollaboratorGroup(Group):
    """``collaborator set|remove``."""

    name = f"{PROG} collaborator"
    description = "Share single projects with users (guests or members), optionally until a time."
    subcommands = {
        "set": (commands.CollaboratorSet, "Grant a role on a project (creates the user if new)."),
        "remove": (commands.CollaboratorRemove, "Revoke a collaborator grant."),
    }


class IntegrationGroup(Group):
    """``integration create|set|list|delete|connect|disconnect``."""

    name = f"{PROG} integration"
    description = (
        "Manage a workspace's integrations: named secrets (environment variables) that "
        "kernels of connected projects receive. Values are never printed."
    )
    subcommands = {
        "create": (integrations.IntegrationCreate, "Create an integration with variables."),
        "set": (integrations.IntegrationSet, "Set or --remove variables of an integration."),
        "list": (integrations.IntegrationList, "List integrations (never their values)."),
        "delete": (integrations.IntegrationDelete, "Delete an integration."),
        "connect": (integrations.IntegrationConnect, "Connect an integration to a project."),
        "disconnect": (integrations.IntegrationDisconnect, "Disconnect it from a project."),
    }


class AuditGroup(Group):
    """``audit export|prune``."""

    name = f"{PROG} audit"
    description = "Export a workspace's audit log (JSON lines or CSV); delete old rows."
    subcommands = {
        "export": (audit.AuditExportCommand, "Write a workspace's audit log to stdout."),
        "prune": (audit.AuditPrune, "Delete audit rows older than the retention."),
    }


class TokenGroup(Group):
    """``token create|revoke|list``."""

    name = f"{PROG} token"
    description = "Issue, revoke and list personal access tokens (`Authorization: token ...`)."
    subcommands = {
        "create": (
            commands.TokenCreate,
            "Issue a token and print it (shown only once); creates the user if new.",
        ),
        "revoke": (commands.TokenRevoke, "Revoke a token by id."),
        "list": (commands.TokenList, "List a user's tokens (without secrets)."),
    }


class WorkspacePermsApp(Group):
    """The root of the tree: ``jupyter workspace-perms <command> ...``."""

    name = PROG
    version = __version__
    description = (
        "Manage team workspaces, members, projects, collaborators, users and tokens in the "
        "policy database that jupyter-workspace-perms enforces. Every command takes "
        "--json and --db-url (default: PolicyStore.db_url from jupyter_server_config or "
        "jupyter_workspace_perms_config, else $WORKSPACE_PERMS_DB_URL, else a SQLite file "
        "in the Jupyter data directory). Exit status: 0 done, 1 refused (nothing was "
        "changed), 2 malformed command line. Errors are one 'error: ...' line on stderr; "
        'with --json, one JSON document {"error": ..., "reason": ...} on stdout instead. '
        "A database with no schema yet gets it from the first command that writes; "
        "status and the list commands only read and never create it."
    )
    examples = """
jupyter workspace-perms workspace create acme --owner alice@example.com
jupyter workspace-perms member set acme bob@example.com editor
jupyter workspace-perms user create carol@example.com --provider google --name 'Carol'
jupyter workspace-perms project create acme q3 --access view --creator bob@example.com
jupyter workspace-perms collaborator set acme q3 eve@guest.org viewer --expires 2027-01-01T00:00:00Z
jupyter workspace-perms token create bob@example.com --json
jupyter workspace-perms status
"""
    subcommands = {
        "workspace": (WorkspaceGroup, WorkspaceGroup.description),
        "member": (MemberGroup, MemberGroup.description),
        "project": (ProjectGroup, ProjectGroup.description),
        "collaborator": (CollaboratorGroup, CollaboratorGroup.description),
        "integration": (IntegrationGroup, IntegrationGroup.description),
        "token": (TokenGroup, TokenGroup.description),
        "audit": (AuditGroup, AuditGroup.description),
        "user": (UserGroup, UserGroup.description),
        "set-owner": (commands.SetOwner, "Transfer ownership of a workspace."),
        "status": (Status, "Show the database, its schema and policy counts."),
        "upgrade-db": (UpgradeDB, "Upgrade the database schema to this version's."),
        "demo": (Demo, "Serve a sample workspace with one login link per persona."),
        "demo-world": (DemoWorld, "Build the demo's sample world without serving it."),
    }


def main(argv: list[str] | None = None) -> None:
    """Console-script entry point (``jupyter-workspace-perms``)."""
    WorkspacePermsApp.launch_instance(argv)


if __name__ == "__main__":
    main()
