"""``integration create|set|list|delete|connect|disconnect``: a workspace's secrets.

Values never appear on the command line (any local user may read a process's
arguments, and shells keep a history): ``create`` and ``set`` name the variables,
and read each value from the terminal without echo, or one line per variable from
standard input when it is not a terminal::

    printf '%s\\n' "$DB_URL" "$DB_PASSWORD" |
        jupyter workspace-perms integration create acme warehouse DB_URL DB_PASSWORD

No command prints a value.
"""

from __future__ import annotations

import getpass
import sys
from typing import ClassVar

from traitlets import Bool
from traitlets.config.application import StrDict

from ..errors import InvalidInput, NotFound
from ..policy import PolicySnapshot
from ..store.integrations import IntegrationInfo, Integrations
from ..timestamps import iso
from .base import PROG, Command, Result, UsageError, cli_actor, table


def _workspace_id(snap: PolicySnapshot, slug: str) -> int:
    ws_id = snap.workspaces_by_slug.get(slug)
    if ws_id is None:
        raise NotFound(f"no workspace {slug!r}")
    return ws_id


def _project_id(snap: PolicySnapshot, slug: str, name: str) -> int:
    project_id = snap.projects_by_name.get((_workspace_id(snap, slug), name))
    if project_id is None:
        raise NotFound(f"no project {name!r} in workspace {slug!r}")
    return project_id


def read_values(names: tuple[str, ...]) -> dict[str, str]:
    """The value of each variable: asked without echo on a terminal, else one line each
    from standard input."""
    values: dict[str, str] = {}
    for name in names:
        if sys.stdin.isatty():
            values[name] = getpass.getpass(f"value of {name}: ")
            continue
        line = sys.stdin.readline()
        if not line:
            raise InvalidInput(
                f"no value for {name} on standard input (one line per variable, in order)",
                "missing_value",
            )
        values[name] = line.rstrip("\n")
    return values


class IntegrationCommand(Command):
    """What the integration commands share: the integrations of the store."""

    aliases: StrDict = {**Command.aliases, "key-file": "Integrations.key_file"}
    classes = [*Command.classes, Integrations]

    def integrations(self) -> Integrations:
        return Integrations(parent=self, store=self.store)

    def info(self, info: IntegrationInfo, snap: PolicySnapshot) -> Result:
        """An integration without values, with the names of its projects."""
        return {
            "name": info.name,
            "created_by": info.created_by,
            "created_at": iso(info.created_at),
            "variables": [
                {"name": v.name, "set_by": v.set_by, "set_at": iso(v.set_at)}
                for v in info.variables
            ],
            "projects": sorted(
                snap.projects[p].name for p in info.project_ids if p in snap.projects
            ),
        }


class IntegrationCreate(IntegrationCommand):
    """``integration create SLUG NAME [VARIABLE ...]`` (values from the terminal or stdin)."""

    name = f"{PROG} integration create"
    description = (
        "Create an integration in a workspace with the named variables; each value is read "
        "without echo from the terminal, or one line per variable from standard input."
    )
    arguments = ("SLUG", "NAME")
    more_arguments = "VARIABLE"

    def run(self) -> Result:
        slug, name = self.args
        snap = self.store.snapshot
        ws_id = _workspace_id(snap, slug)
        values = read_values(self.more_args)
        info = self.integrations().create(ws_id, name, values, cli_actor())
        return {"workspace": slug, **self.info(info, snap)}

    def render(self, result: Result) -> str:
        names = ", ".join(v["name"] for v in result["variables"]) or "no variables"
        return f"{result['workspace']}: integration {result['name']} created ({names})"


class IntegrationSet(IntegrationCommand):
    """``integration set SLUG NAME VARIABLE ... [--remove]``."""

    name = f"{PROG} integration set"
    description = (
        "Set variables of an integration (values read as for create), or remove them with "
        "--remove; the other variables keep their values."
    )
    arguments = ("SLUG", "NAME")
    more_arguments = "VARIABLE"

    remove = Bool(False, config=True, help="Remove the named variables instead of setting them.")
    flags: StrDict = {
        **Command.flags,
        "remove": ({"IntegrationSet": {"remove": True}}, remove.help),
    }

    def run(self) -> Result:
        slug, name = self.args
        if not self.more_args:
            raise UsageError(f"name at least one VARIABLE: usage: {self.usage()}")
        snap = self.store.snapshot
        ws_id = _workspace_id(snap, slug)
        changes: dict[str, str | None] = (
            dict.fromkeys(self.more_args) if self.remove else dict(read_values(self.more_args))
        )
        info = self.integrations().update(ws_id, name, cli_actor(), variables=changes)
        return {"workspace": slug, **self.info(info, snap)}

    def render(self, result: Result) -> str:
        names = ", ".join(v["name"] for v in result["variables"]) or "no variables"
        return f"{result['workspace']}: integration {result['name']} now holds {names}"


class IntegrationList(IntegrationCommand):
    """``integration list SLUG``."""

    name = f"{PROG} integration list"
    description = "List a workspace's integrations: variable names, who set them, projects."
    arguments = ("SLUG",)
    writes = False

    def run(self) -> Result:
        (slug,) = self.args
        snap = self.store.snapshot
        ws_id = _workspace_id(snap, slug)
        found = self.integrations().of_workspace(ws_id)
        return {"workspace": slug, "integrations": [self.info(i, snap) for i in found]}

    def render(self, result: Result) -> str:
        rows = [
            [
                i["name"],
                ", ".join(f"{v['name']} ({v['set_by'] or '?'})" for v in i["variables"]),
                ", ".join(i["projects"]),
            ]
            for i in result["integrations"]
        ]
        return table(("INTEGRATION", "VARIABLES (SET BY)", "CONNECTED TO"), rows)


class IntegrationDelete(IntegrationCommand):
    """``integration delete SLUG NAME``."""

    name = f"{PROG} integration delete"
    description = "Delete an integration, its values and its project connections."
    arguments = ("SLUG", "NAME")

    def run(self) -> Result:
        slug, name = self.args
        ws_id = _workspace_id(self.store.snapshot, slug)
        self.integrations().delete(ws_id, name, cli_actor())
        return {"workspace": slug, "integration": name, "deleted": True}

    def render(self, result: Result) -> str:
        return f"{result['workspace']}: integration {result['integration']} deleted"


class IntegrationConnect(IntegrationCommand):
    """``integration connect SLUG PROJECT NAME``."""

    name = f"{PROG} integration connect"
    description = (
        "Connect an integration to a project: its kernels started or restarted from now on "
        "receive the variables."
    )
    arguments = ("SLUG", "PROJECT", "NAME")
    connecting: ClassVar[bool] = True

    def run(self) -> Result:
        slug, project, name = self.args
        snap = self.store.snapshot
        ws_id, project_id = _workspace_id(snap, slug), _project_id(snap, slug, project)
        if self.connecting:
            self.integrations().connect(ws_id, project_id, name, cli_actor())
        else:
            self.integrations().disconnect(ws_id, project_id, name, cli_actor())
        return {
            "workspace": slug,
            "project": project,
            "integration": name,
            "connected": self.connecting,
        }

    def render(self, result: Result) -> str:
        done = "connected to" if result["connected"] else "disconnected from"
        return (
            f"{result['integration']} {done} {result['workspace']}/{result['project']}: "
            "kernels started or restarted from now on follow"
        )


class IntegrationDisconnect(IntegrationConnect):
    """``integration disconnect SLUG PROJECT NAME``."""

    name = f"{PROG} integration disconnect"
    description = (
        "Disconnect an integration from a project: its kernels started or restarted from now "
        "on lack the variables."
    )
    connecting = False
