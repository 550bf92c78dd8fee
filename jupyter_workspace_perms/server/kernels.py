"""Kernels bound to projects, and listings of kernels and sessions per user.

A kernel is bound to one project when it starts, from its real working folder;
a kernel that would start outside a project is refused, and so is a kernel id
chosen by the client (kernels start at ids the server picks). Routes that act
on a kernel are authorized on that binding (see :mod:`.authz.targets`), never
on a path a client sends later; the user who started each kernel is kept too,
for the shutdown rule (:mod:`..policy.lifecycle`). Listings show only the
kernels and sessions of projects where the user may run code: JupyterLab
connects to every kernel and session it is shown, and a connection the user may
not use would only hang (issue #10, item 11).
"""

from __future__ import annotations

import fnmatch
import os
import time
from collections.abc import Mapping
from typing import Any

from jupyter_client.kernelspec import NoSuchKernel
from jupyter_server import CallContext
from jupyter_server.services.kernels.kernelmanager import AsyncMappingKernelManager
from jupyter_server.services.sessions.sessionmanager import SessionManager
from tornado import web
from traitlets import Instance, List, Type, Unicode, default

from ..identity.provider import WorkspaceUser
from ..paths import Level, PathRefused, locate_in
from ..policy import PolicySnapshot, check_project, readable_project_ids
from ..sandbox import (
    PLACE,
    KernelPlace,
    KernelSandbox,
    SandboxedKernelManager,
    refuse_foreign_provisioner,
)
from .environment import IntegrationEnvironment

EXECUTE = "project:execute"


def executable_for_request(settings: Any) -> frozenset[int] | None:
    """Projects where the requesting user may run code; None outside any request
    (server internals).

    A request without a workspace user gets the empty set: it sees nothing.
    """
    handler = CallContext.get(CallContext.JUPYTER_HANDLER)
    if handler is None:
        return None
    store = settings.get("workspace_perms_store")
    user = getattr(handler, "current_user", None)
    if store is None or not isinstance(user, WorkspaceUser):
        return frozenset()
    snap, now = store.snapshot, time.time()
    return frozenset(
        project_id
        for project_id in readable_project_ids(snap, user.subject, now)
        if check_project(snap, user.subject, project_id, EXECUTE, now).allowed
    )


def request_user_id() -> int | None:
    """The id of the workspace user of the request being served, if any."""
    handler = CallContext.get(CallContext.JUPYTER_HANDLER)
    user = getattr(handler, "current_user", None)
    return user.user_id if isinstance(user, WorkspaceUser) else None


def place_at(snap: PolicySnapshot, root_dir: str, os_path: str) -> KernelPlace | None:
    """The project containing the real folder ``os_path`` (its id and real folder), if any."""
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
    project_id = snap.projects_by_name[(snap.workspaces_by_slug[loc.workspace], loc.project)]
    folder = os.path.realpath(os.path.join(root, loc.workspace, loc.project))
    return KernelPlace(project_id=project_id, project_dir=folder, root_dir=root)


def project_at(snap: PolicySnapshot, root_dir: str, os_path: str) -> int | None:
    """The id of the project containing the real folder ``os_path``, if any."""
    place = place_at(snap, root_dir, os_path)
    return None if place is None else place.project_id


def without_private(env: Mapping[str, str], patterns: list[str]) -> dict[str, str]:
    """``env`` without the variables whose names match one of ``patterns``."""
    return {
        name: value
        for name, value in env.items()
        if not any(fnmatch.fnmatchcase(name, pattern) for pattern in patterns)
    }


class WorkspaceKernelManager(AsyncMappingKernelManager):
    """Binds each kernel to the project of its working folder, remembers who started
    it, starts it in the kernel sandbox (:mod:`..sandbox`), keeps the server's secrets
    out of its environment, and lists per user."""

    sandbox_class = Type(
        default_value=KernelSandbox,
        klass=KernelSandbox,
        config=True,
        help="""The kernel sandbox (default KernelSandbox: bubblewrap). Its own options
        live on it, e.g. ``c.KernelSandbox.mode``.""",
    )
    sandbox = Instance(KernelSandbox)

    @default("kernel_manager_class")
    def _default_kernel_manager_class(self) -> str:
        return f"{SandboxedKernelManager.__module__}.{SandboxedKernelManager.__name__}"

    private_environment = List(
        Unicode(),
        default_value=[
            "WORKSPACE_PERMS_*",
            "JUPYTER_TOKEN",
            "JUPYTER_TOKEN_FILE",
            "JPY_API_TOKEN",
            "JUPYTERHUB_API_TOKEN",
        ],
        config=True,
        help="""Names (shell-style patterns) of the server's environment variables that
        kernels never receive: the policy database URL (with its password), the proxy
        secret, the server's token and a hub token would let anyone who runs code act as
        the server. Default: WORKSPACE_PERMS_*, JUPYTER_TOKEN, JUPYTER_TOKEN_FILE,
        JPY_API_TOKEN, JUPYTERHUB_API_TOKEN.""",
    )

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        chosen = "environment_class" in self.config.get("KernelSandbox", {})
        # the environment hook of this server: a project's integrations (unless configured)
        hook = {} if chosen else {"environment_class": IntegrationEnvironment}
        self.sandbox = self.sandbox_class(parent=self, **hook)
        self.bindings: dict[str, int] = {}
        self.starters: dict[str, int] = {}  # kernel id -> id of the user who started it

    @property
    def _settings(self) -> Any:
        web_app = getattr(self.parent, "web_app", None)
        return {} if web_app is None else web_app.settings

    def current_place(self, project_id: int) -> KernelPlace | None:
        """Where a project is now (None: deleted), for restarts of its kernels."""
        store = self._settings.get("workspace_perms_store")
        project = None if store is None else store.snapshot.projects.get(project_id)
        if project is None:
            return None
        snap = store.snapshot
        slug = snap.workspaces[project.workspace_id].slug
        root = os.path.realpath(self.root_dir)
        folder = os.path.realpath(os.path.join(root, slug, project.name))
        return KernelPlace(project_id=project_id, project_dir=folder, root_dir=root)

    def moved(self, kernel_id: str) -> bool:
        """Whether a running kernel's project is no longer where the kernel started (a
        restart would then be refused: see the provisioner)."""
        project_id = self.bindings.get(kernel_id)
        if project_id is None or kernel_id not in self:
            return False
        started = getattr(self.get_kernel(kernel_id), "_launch_args", {}).get(PLACE)
        now = self.current_place(project_id)
        return isinstance(started, KernelPlace) and (
            now is None or now.project_dir != started.project_dir
        )

    def project_of(self, kernel_id: str) -> int | None:
        """The project a running kernel is bound to."""
        return self.bindings.get(kernel_id)

    def starter_of(self, kernel_id: str) -> int | None:
        """The id of the user who started a running kernel (None: started by the server)."""
        return self.starters.get(kernel_id)

    async def start_kernel(  # type: ignore[override]
        self, *, kernel_id: str | None = None, path: Any = None, **kwargs: Any
    ) -> str:
        """Start (or reuse) a kernel; a new one must run inside a project, at an id the
        server picks (a client-chosen id would name the connection file and could be
        guessed or made to collide)."""
        if kernel_id is not None and kernel_id in self:
            return await super().start_kernel(kernel_id=kernel_id, path=path, **kwargs)
        if kernel_id is not None:
            raise web.HTTPError(404, "no such kernel", reason="not_found")
        store = self._settings.get("workspace_perms_store")
        cwd = self.cwd_for_path(path or "")
        place = None if store is None else place_at(store.snapshot, self.root_dir, cwd)
        if place is None:
            raise web.HTTPError(
                403, "kernels start only inside a project folder", reason="outside_projects"
            )
        refusal = self.sandbox.refusal()
        if refusal is not None:
            raise web.HTTPError(503, refusal, reason="sandbox_unavailable")
        name = kwargs.get("kernel_name") or self.default_kernel_name
        try:
            spec = self.kernel_spec_manager.get_kernel_spec(name)  # type: ignore[union-attr]
        except NoSuchKernel:
            # before anything starts: a failed start would leave its id behind
            raise web.HTTPError(
                404, f"no kernel named {name!r} on this server", reason="no_such_kernel"
            ) from None
        refuse_foreign_provisioner(name, spec)
        kwargs["env"] = without_private(kwargs.get("env") or os.environ, self.private_environment)
        kwargs[PLACE] = place
        new_id = await super().start_kernel(kernel_id=kernel_id, path=path, **kwargs)
        self.bindings[new_id] = place.project_id
        starter = request_user_id()
        if starter is not None:
            self.starters[new_id] = starter
        return str(new_id)

    def update_env(self, *, kernel_id: str, env: dict[str, str]) -> None:
        """Update a kernel's environment for its next restart, without the server's secrets
        (a session rename hands over the whole server environment)."""
        super().update_env(kernel_id=kernel_id, env=without_private(env, self.private_environment))

    async def shutdown_kernel(self, *args: Any, **kwargs: Any) -> None:  # type: ignore[override]
        """Forget the binding with the kernel."""
        kernel_id = kwargs.get("kernel_id", args[0] if args else None)
        try:
            await super().shutdown_kernel(*args, **kwargs)
        finally:
            if not kwargs.get("restart"):
                self.bindings.pop(str(kernel_id), None)
                self.starters.pop(str(kernel_id), None)

    def list_kernels(self) -> list[dict[str, Any]]:
        """Only kernels of projects where the requesting user may run code."""
        kernels: list[dict[str, Any]] = super().list_kernels()
        usable = executable_for_request(self._settings)
        if usable is None:
            return kernels
        return [k for k in kernels if self.bindings.get(k["id"]) in usable]


class WorkspaceSessionManager(SessionManager):
    """Sessions listed per user; lookups for the Authorizer."""

    def kernel_at_path(self, path: str) -> str | None:
        """The kernel of the session at exactly ``path`` (as ``session_exists`` compares),
        if that kernel is running: ``POST /api/sessions`` then returns that session."""
        row = self.cursor.execute("SELECT kernel_id FROM session WHERE path=?", (path,)).fetchone()
        if row is None or row[0] not in self.kernel_manager:
            return None
        return str(row[0])

    def session_row(self, session_id: str) -> tuple[str, str | None] | None:
        """The kernel id and path of a session (synchronous: the Authorizer cannot await)."""
        row = self.cursor.execute(
            "SELECT kernel_id, path FROM session WHERE session_id=?", (session_id,)
        ).fetchone()
        if row is None:
            return None
        return str(row[0]), row[1] if isinstance(row[1], str) else None

    async def list_sessions(self) -> list[dict[str, Any]]:
        """Only sessions whose kernel belongs to a project where the requesting user may
        run code (the same rule as the kernel listing)."""
        sessions: list[dict[str, Any]] = await super().list_sessions()
        web_app = getattr(self.parent, "web_app", None)
        usable = executable_for_request({} if web_app is None else web_app.settings)
        if usable is None:
            return sessions
        binder = getattr(self.kernel_manager, "project_of", lambda _k: None)
        return [s for s in sessions if binder(s["kernel"]["id"]) in usable]
