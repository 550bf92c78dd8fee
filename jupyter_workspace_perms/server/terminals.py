"""Terminals confined to one project, bound to it, and listed per user.

A terminal is a shell as the server's OS user: unconfined, it reads every
workspace and the policy database. So a terminal opened from a project's folder
(``POST /api/terminals`` with ``{"cwd": "acme/forecast"}``) runs in the same
bubblewrap sandbox as that project's kernels (:mod:`..sandbox`): the project folder
read-write, the rest of the root and the server's own files hidden, the
environment from the kernels' allow-list with the project's home. It is bound to
that project when it opens, and every later request on it (its model, closing it,
its websocket) is decided on that binding (:mod:`.authz.terminals`), never on a
folder a client names later.

Only server admins open a shell elsewhere (without a ``cwd`` in a project: at the
root, as Jupyter opens one), or in a project while the sandbox does not confine;
such a shell belongs to no project (its Editors never see it), and
:meth:`WorkspaceTerminalManager.create` decides it again itself, since it reads
everything. With the sandbox required but broken, project terminals are refused
(503) as kernels are.

The listing shows each user only the terminals of projects where they have
``project:write`` (server admins: all), and a websocket never opens a terminal:
terminado would start a new, unconfined one under any name a socket asks for.
Jupyter authorizes a terminal's websocket once, when it opens, so the sockets of
people who lose the right to it (``project:write``, their token, being a server
admin for a shell outside projects) are closed within a second; the shell itself
keeps running, as a kernel does.
"""

from __future__ import annotations

import os
import time
from typing import Any

from jupyter_server import CallContext
from jupyter_server_terminals.terminalmanager import TerminalManager
from terminado.management import PtyWithClients
from tornado import web
from tornado.ioloop import PeriodicCallback

from ..identity.provider import WorkspaceUser
from ..paths import Location, PathRefused, locate_in, served_root
from ..policy import PolicySnapshot, check_project
from ..sandbox import PLACE, KernelPlace
from .authz.access import refused
from .authz.authorizer import WorkspaceAuthorizer
from .authz.terminals import (
    NOT_CONFINED,
    OUTSIDE_PROJECTS,
    WRITE,
    in_project,
    requested_cwd,
)
from .kernels import WorkspaceKernelManager, place_at, without_private

# what terminado sets for the terminal itself, kept in a confined shell's environment
TERMINAL_VARIABLES = ("TERM", "COLUMNS", "LINES", "PYXTERM_DIMENSIONS")


class WorkspaceTerminalManager(TerminalManager):
    """Opens each project's terminals in its sandbox, binds them to it, and lists them
    per user (see the module's docstring)."""

    watch_interval = 0.5  # seconds between two re-checks of the open sockets

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.bindings: dict[str, int] = {}  # terminal name -> project id
        self._watcher: PeriodicCallback | None = None

    def project_of(self, name: str) -> int | None:
        """The project a running terminal is bound to (None: a server admin's shell)."""
        return self.bindings.get(name) if name in self.terminals else None

    # -- opening --------------------------------------------------------------------------

    def create(self, **kwargs: Any) -> dict[str, Any]:
        """Open a terminal where the request's ``cwd`` says.

        The handler's own reading of ``cwd`` (in ``kwargs``) is ignored: it resolves
        the path against the server process's folder first. The client's spelling is
        located again with the one path canonicalizer, and nothing else from the
        body reaches terminado (the Authorizer refused any other key).
        """
        handler = CallContext.get(CallContext.JUPYTER_HANDLER)
        if handler is None:
            raise web.HTTPError(403, OUTSIDE_PROJECTS.message, reason=OUTSIDE_PROJECTS.code)
        folder, place = self._where(handler)
        if place is None:
            model: dict[str, Any] = super().create(cwd=folder)
            self.bindings.pop(model["name"], None)
        else:
            model = super().create(cwd=folder, **{PLACE: place})
            self.bindings[model["name"]] = place.project_id
        if self._watcher is None:  # on the server's loop, now that it runs
            self._watcher = PeriodicCallback(self._tick, self.watch_interval * 1000)
            self._watcher.start()
        return model

    def _where(self, handler: Any) -> tuple[str, KernelPlace | None]:
        """The real folder a new terminal opens in and the project it is confined to
        (None: a server admin's shell, which is not confined), decided again: whatever
        let the request through, an unconfined shell opens only for a server admin."""
        store = handler.settings.get("workspace_perms_store")
        user = getattr(handler, "current_user", None)
        if store is None or not isinstance(user, WorkspaceUser):
            raise web.HTTPError(403, "no policy, no terminal", reason="no_policy")
        snap, now = store.snapshot, time.time()
        root = served_root(handler.settings)
        cwd = requested_cwd(handler)
        try:
            loc: Location | None = None if cwd is None else locate_in(snap, root, cwd, handler)
        except PathRefused as e:
            raise web.HTTPError(404, e.message, reason=e.reason) from None
        folder = os.path.realpath(root if loc is None else os.path.join(root, loc.path))
        if not os.path.isdir(folder):
            raise web.HTTPError(404, f"no folder {cwd!r} to open a terminal in", reason="not_found")
        admin = self._server_admin(handler, snap, user, now)
        if not in_project(loc):
            if not admin:
                raise web.HTTPError(403, OUTSIDE_PROJECTS.message, reason=OUTSIDE_PROJECTS.code)
            return folder, None
        place = place_at(snap, root, folder)
        if place is None:
            raise web.HTTPError(404, "not found (or not visible to you)", reason="not_found")
        decision = check_project(snap, user.subject, place.project_id, WRITE, now)
        if not decision.allowed:
            raise refused(decision)
        sandbox = self._kernels().sandbox
        refusal = sandbox.refusal("Terminals")
        if refusal is not None:
            raise web.HTTPError(503, refusal, reason="sandbox_unavailable")
        if not sandbox.confining:
            if not admin:
                raise web.HTTPError(403, NOT_CONFINED.message, reason=NOT_CONFINED.code)
            # a shell that reads everything belongs to no project: the project's
            # Editors must never be shown it, only server admins
            return folder, None
        return folder, place

    @staticmethod
    def _server_admin(handler: Any, snap: PolicySnapshot, user: WorkspaceUser, now: float) -> bool:
        authorizer = getattr(handler, "authorizer", None)
        return isinstance(authorizer, WorkspaceAuthorizer) and authorizer.is_server_admin(
            handler, snap, user, now
        )

    def _kernels(self) -> WorkspaceKernelManager:
        """The server's kernel manager: terminals share its sandbox and its list of the
        server's private variables."""
        kernels = getattr(self.parent, "kernel_manager", None)
        if not isinstance(kernels, WorkspaceKernelManager):
            raise web.HTTPError(
                503, "the server's kernels are not sandboxed", reason="sandbox_unavailable"
            )
        return kernels

    def new_terminal(self, **kwargs: Any) -> PtyWithClients:
        """A project's shell, confined to it like its kernels; a server admin's shell
        (no project) as Jupyter opens it, with the server's environment."""
        place = kwargs.pop(PLACE, None)
        if not isinstance(place, KernelPlace):
            return super().new_terminal(**kwargs)
        kernels = self._kernels()
        sandbox = kernels.sandbox
        options = {**self.term_settings, "shell_command": self.shell_command, **kwargs}
        terminal_env = self.make_term_env(**options)
        server_env = without_private(os.environ, kernels.private_environment)
        env = sandbox.environment.build(server_env, place)
        env.update({k: v for k, v in terminal_env.items() if k in TERMINAL_VARIABLES})
        cwd = str(options["cwd"])
        command = sandbox.wrap(list(options["shell_command"]), place, cwd, [])
        return PtyWithClients(command, env, cwd)

    # -- running terminals ------------------------------------------------------------------

    def get_terminal(self, term_name: str) -> PtyWithClients:  # type: ignore[override]
        """The running terminal ``term_name``, never a new one (terminado would open an
        unconfined shell under any name a websocket asks for)."""
        if term_name not in self.terminals:
            raise web.HTTPError(404, "no such terminal", reason="not_found")
        return self.terminals[term_name]

    def on_eof(self, ptywclients: PtyWithClients) -> None:
        """Forget the binding with the terminal."""
        name = ptywclients.term_name
        mine = name is not None and self.terminals.get(name) is ptywclients
        super().on_eof(ptywclients)
        if mine:
            self.bindings.pop(str(name), None)

    async def kill_all(self) -> None:
        """Close every terminal and forget their bindings."""
        await super().kill_all()
        self.bindings.clear()
        self._stop_watching()

    async def terminate_all(self) -> None:
        """Close every terminal (the server stops) and stop watching their sockets."""
        await super().terminate_all()
        self._stop_watching()

    def _stop_watching(self) -> None:
        if self._watcher is not None:
            self._watcher.stop()
            self._watcher = None

    def _tick(self) -> None:
        self.close_lost_sockets()

    def close_lost_sockets(self) -> int:
        """Close the sockets of people who may no longer use their terminal; the number
        closed. Their shells keep running for those who still may."""
        closed = 0
        for name, term in list(self.terminals.items()):
            project_id = self.bindings.get(name)
            for client in list(term.clients):
                if not self._may_use(client, project_id):
                    who = getattr(client.current_user, "username", "?")
                    self.log.info("closing a socket of terminal %s: %s lost it", name, who)
                    client.close()
                    closed += 1
        return closed

    def _may_use(self, client: Any, project_id: int | None) -> bool:
        """Whether the person of an open socket may still use a terminal of
        ``project_id`` (None: a server admin's shell), under the policy in force now."""
        store = client.settings.get("workspace_perms_store")
        user = getattr(client, "current_user", None)
        if store is None or not isinstance(user, WorkspaceUser):
            return False
        snap, now = store.snapshot, time.time()
        if user.token_id is not None:
            token = snap.tokens_by_id.get(user.token_id)
            if token is None or token.user_id != user.user_id or not token.usable(now):
                return False
        if self._server_admin(client, snap, user, now):
            return True
        return (
            project_id is not None
            and project_id in snap.projects
            and check_project(snap, user.subject, project_id, WRITE, now).allowed
        )

    def list(self) -> list[dict[str, Any]]:
        """Only the terminals of projects where the requesting user has ``project:write``
        (server admins: all; the server's own bookkeeping: all)."""
        models: list[dict[str, Any]] = super().list()
        handler = CallContext.get(CallContext.JUPYTER_HANDLER)
        if handler is None:
            return models
        store = handler.settings.get("workspace_perms_store")
        user = getattr(handler, "current_user", None)
        if store is None or not isinstance(user, WorkspaceUser):
            return []
        snap, now = store.snapshot, time.time()
        if self._server_admin(handler, snap, user, now):
            return models
        writable = {
            project_id
            for project_id in set(self.bindings.values())
            if project_id in snap.projects
            and check_project(snap, user.subject, project_id, WRITE, now).allowed
        }
        return [m for m in models if self.bindings.get(m["name"]) in writable]
