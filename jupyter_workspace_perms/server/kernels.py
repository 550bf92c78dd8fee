"""Kernels bound to projects, and listings of kernels and sessions per user.

A kernel is bound to one project when it starts, from its real working folder;
a kernel that would start outside a project is refused. Routes that act on a
kernel are authorized on that binding (see :mod:`.authz.targets`), never on a
path a client sends later. Listings show only the kernels and sessions of
projects the user may read.
"""

from __future__ import annotations

import os
import time
from typing import Any

from jupyter_server import CallContext
from jupyter_server.services.kernels.kernelmanager import AsyncMappingKernelManager
from jupyter_server.services.sessions.sessionmanager import SessionManager
from tornado import web

from ..identity.provider import WorkspaceUser
from ..paths import Level, PathRefused, locate_in
from ..policy import PolicySnapshot, readable_project_ids


def readable_for_request(settings: Any) -> frozenset[int] | None:
    """Projects the requesting user may read; None outside any request (server internals).

    A request without a workspace user gets the empty set: it sees nothing.
    """
    handler = CallContext.get(CallContext.JUPYTER_HANDLER)
    if handler is None:
        return None
    store = settings.get("workspace_perms_store")
    user = getattr(handler, "current_user", None)
    if store is None or not isinstance(user, WorkspaceUser):
        return frozenset()
    return readable_project_ids(store.snapshot, user.subject, time.time())


def project_at(snap: PolicySnapshot, root_dir: str, os_path: str) -> int | None:
    """The id of the project containing the real folder ``os_path``, if any."""
    root = os.path.realpath(root_dir)
    real = os.path.realpath(os_path)
    if real != root and not real.startswith(root + os.sep):
        return None
    relative = os.path.relpath(real, root).replace(os.sep, "/")
    try:
        loc = locate_in(snap, root, "" if relative == "." else relative)
    except PathRefused:
        return None
    if loc.level not in (Level.project, Level.project_file):
        return None
    assert loc.workspace is not None and loc.project is not None
    return snap.projects_by_name[(snap.workspaces_by_slug[loc.workspace], loc.project)]


class WorkspaceKernelManager(AsyncMappingKernelManager):
    """Binds each kernel to the project of its working folder, and lists per user."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.bindings: dict[str, int] = {}

    @property
    def _settings(self) -> Any:
        web_app = getattr(self.parent, "web_app", None)
        return {} if web_app is None else web_app.settings

    def project_of(self, kernel_id: str) -> int | None:
        """The project a running kernel is bound to."""
        return self.bindings.get(kernel_id)

    async def start_kernel(  # type: ignore[override]
        self, *, kernel_id: str | None = None, path: Any = None, **kwargs: Any
    ) -> str:
        """Start (or reuse) a kernel; a new one must run inside a project."""
        if kernel_id is not None and kernel_id in self:
            return await super().start_kernel(kernel_id=kernel_id, path=path, **kwargs)
        store = self._settings.get("workspace_perms_store")
        cwd = self.cwd_for_path(path or "")
        project_id = None if store is None else project_at(store.snapshot, self.root_dir, cwd)
        if project_id is None:
            raise web.HTTPError(
                403, "kernels start only inside a project folder", reason="outside_projects"
            )
        new_id = await super().start_kernel(kernel_id=kernel_id, path=path, **kwargs)
        self.bindings[new_id] = project_id
        return str(new_id)

    async def shutdown_kernel(self, *args: Any, **kwargs: Any) -> None:  # type: ignore[override]
        """Forget the binding with the kernel."""
        kernel_id = kwargs.get("kernel_id", args[0] if args else None)
        try:
            await super().shutdown_kernel(*args, **kwargs)
        finally:
            if not kwargs.get("restart"):
                self.bindings.pop(str(kernel_id), None)

    def list_kernels(self) -> list[dict[str, Any]]:
        """Only kernels of projects the requesting user may read."""
        kernels: list[dict[str, Any]] = super().list_kernels()
        readable = readable_for_request(self._settings)
        if readable is None:
            return kernels
        return [k for k in kernels if self.bindings.get(k["id"]) in readable]


class WorkspaceSessionManager(SessionManager):
    """Sessions listed per user; lookups for the Authorizer."""

    def kernel_of_session(self, session_id: str) -> str | None:
        """The kernel id of a session (synchronous: the Authorizer cannot await)."""
        row = self.cursor.execute(
            "SELECT kernel_id FROM session WHERE session_id=?", (session_id,)
        ).fetchone()
        return None if row is None else str(row[0])

    async def list_sessions(self) -> list[dict[str, Any]]:
        """Only sessions whose kernel belongs to a project the requesting user may read."""
        sessions: list[dict[str, Any]] = await super().list_sessions()
        web_app = getattr(self.parent, "web_app", None)
        readable = readable_for_request({} if web_app is None else web_app.settings)
        if readable is None:
            return sessions
        binder = getattr(self.kernel_manager, "project_of", lambda _k: None)
        return [s for s in sessions if binder(s["kernel"]["id"]) in readable]
