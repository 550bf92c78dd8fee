"""A workspace's integrations and their connections to projects.

Values are write-only through every route: answers carry names, variable names and
who set them, never a value. Connecting or disconnecting changes what kernels get
when they start or restart; running kernels keep their environment, and the answer
says how many there are.
"""

from __future__ import annotations

from typing import Any

from ...errors import Forbidden
from ...policy import PolicySnapshot, ProjectFacts, check_project, check_workspace
from ...store.integrations import Connection, IntegrationInfo, Integrations
from ...timestamps import iso
from .base import Call, WorkspacePermsHandler, api, route

WS = "/workspaces/{ws}"
PROJECT = WS + "/projects/{project}"

APPLIES = (
    "Kernels of the project started or restarted from now on follow the change; running "
    "kernels keep the environment they started with."
)


def integration_model(
    info: IntegrationInfo, snap: PolicySnapshot, user_subject: Any, now: float
) -> dict[str, Any]:
    """An integration as the caller may see it: connected projects they may read only."""
    projects = []
    for project_id in info.project_ids:
        project = snap.projects.get(project_id)
        if project is None:
            continue
        if check_project(snap, user_subject, project_id, "project:read", now).allowed:
            projects.append(project.name)
    return {
        "name": info.name,
        "created_by": info.created_by,
        "created_at": iso(info.created_at),
        "variables": [
            {"name": v.name, "set_by": v.set_by, "set_at": iso(v.set_at)} for v in info.variables
        ],
        "projects": sorted(projects),
    }


def connection_model(connection: Connection) -> dict[str, Any]:
    """A connection: the integration's name and variable names, who connected it."""
    return {
        "name": connection.integration.name,
        "variables": [v.name for v in connection.integration.variables],
        "connected_by": connection.connected_by,
        "connected_at": iso(connection.connected_at),
    }


class IntegrationsBase(WorkspacePermsHandler):
    """What the integration routes share: the store of integrations."""

    @property
    def integrations(self) -> Integrations:
        found = self.settings["workspace_perms_integrations"]
        assert isinstance(found, Integrations)
        return found

    def running_kernels(self, project: ProjectFacts) -> int:
        """How many kernels of the project run now (they keep their environment)."""
        bindings = getattr(self.settings.get("kernel_manager"), "bindings", {})
        return sum(1 for bound in bindings.values() if bound == project.id)


class IntegrationsHandler(IntegrationsBase):
    """``/workspaces/{ws}/integrations``."""

    @api("integrations.list")
    async def get(self, call: Call) -> None:
        """Every integration of the workspace, without values."""
        ws = call.workspace
        assert ws is not None
        found = await self.off_loop(lambda: self.integrations.of_workspace(ws.id))
        models = [integration_model(i, call.snap, call.user.subject, call.now) for i in found]
        self.write_json({"integrations": models})

    @api("integrations.create")
    async def post(self, call: Call) -> None:
        """Create an integration."""
        ws = call.workspace
        assert ws is not None
        name, variables = call.body["name"], call.body.get("variables", {})
        info = await self.off_loop(
            lambda: self.integrations.create(ws.id, name, variables, call.user.username)
        )
        self.write_json(integration_model(info, call.snap, call.user.subject, call.now), 201)


class IntegrationHandler(IntegrationsBase):
    """``/workspaces/{ws}/integrations/{integration}``."""

    @api("integration.patch")
    async def patch(self, call: Call) -> None:
        """Rename and/or set variables; variables not named keep their values."""
        ws = call.workspace
        assert ws is not None
        info = await self.off_loop(
            lambda: self.integrations.update(
                ws.id,
                call.args["integration"],
                call.user.username,
                new_name=call.body.get("name"),
                variables=call.body.get("variables"),
            )
        )
        self.write_json(integration_model(info, call.snap, call.user.subject, call.now))

    @api("integration.delete")
    async def delete(self, call: Call) -> None:
        """Delete an integration and its connections."""
        ws = call.workspace
        assert ws is not None
        await self.off_loop(
            lambda: self.integrations.delete(ws.id, call.args["integration"], call.user.username)
        )
        self.set_status(204)
        self.finish()


class ProjectIntegrationsHandler(IntegrationsBase):
    """``/workspaces/{ws}/projects/{project}/integrations``."""

    @api("project_integrations.list")
    async def get(self, call: Call) -> None:
        """The integrations connected to the project."""
        project = call.project
        assert project is not None
        found = await self.off_loop(lambda: self.integrations.connections(project.id))
        self.write_json({"integrations": [connection_model(c) for c in found], "message": APPLIES})


class ProjectIntegrationHandler(IntegrationsBase):
    """``/workspaces/{ws}/projects/{project}/integrations/{integration}``."""

    def _members_only(self, call: Call) -> None:
        """Guests (a grant on a project, no membership) may not reach the workspace's
        integrations: they cannot list them, and connecting one would hand them its
        values by name."""
        ws = call.workspace
        assert ws is not None
        decision = check_workspace(call.snap, call.user.subject, ws.id, "workspace:read", call.now)
        if not decision.allowed:
            raise Forbidden(
                "only members of the workspace connect its integrations: " + decision.reason,
                decision.code,
            )

    @api("project_integration.put")
    async def put(self, call: Call) -> None:
        """Connect an integration to the project."""
        project, ws = call.project, call.workspace
        assert project is not None and ws is not None
        self._members_only(call)
        name = call.args["integration"]
        await self.off_loop(
            lambda: self.integrations.connect(ws.id, project.id, name, call.user.username)
        )
        self.write_json(self._answer(name, project, True))

    @api("project_integration.delete")
    async def delete(self, call: Call) -> None:
        """Disconnect an integration from the project."""
        project, ws = call.project, call.workspace
        assert project is not None and ws is not None
        self._members_only(call)
        name = call.args["integration"]
        await self.off_loop(
            lambda: self.integrations.disconnect(ws.id, project.id, name, call.user.username)
        )
        self.write_json(self._answer(name, project, False))

    def _answer(self, name: str, project: ProjectFacts, connected: bool) -> dict[str, Any]:
        running = self.running_kernels(project)
        done = "Connected" if connected else "Disconnected"
        message = f"{done} {name}. " + APPLIES
        if running:
            message += (
                f" {running} kernel{'s' if running != 1 else ''} of {project.name} "
                f"{'are' if running != 1 else 'is'} running now: restart "
                f"{'them' if running != 1 else 'it'} to apply the change."
            )
        return {
            "integration": name,
            "project": project.name,
            "connected": connected,
            "running_kernels": running,
            "message": message,
        }


default_handlers = [
    (route(WS + "/integrations"), IntegrationsHandler),
    (route(WS + "/integrations/{integration}"), IntegrationHandler),
    (route(PROJECT + "/integrations"), ProjectIntegrationsHandler),
    (route(PROJECT + "/integrations/{integration}"), ProjectIntegrationHandler),
]
