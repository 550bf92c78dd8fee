"""``/api/resolvePath``: where a path a notebook names lives, without probing the disk.

JupyterLab asks it to turn a path in an output (``data.csv``, a traceback's file)
into a link: ``?path=`` in the *server* scope (relative to the root) and, with
``?kernel=``, in the *kernel* scope (relative to the kernel's working folder).
jupyter_server answers the kernel scope with its provisioner, which resolves any
path the server's OS user can see (``../other-project/secret.txt``,
``/etc/shadow``), and answers "Kernel … could not be found" for unknown kernel ids:
both tell a caller what exists where they may not look.

This handler, registered on the same route (an extension's route wins), answers

- the server scope from the contents manager, which keeps only paths the user may
  read, hidden paths excepted (``WorkspaceContentsManager.resolve_path``);
- the kernel scope only when the user may run code in the kernel's project and the
  kernel's answer is a file in that project that the user may read and that is not
  hidden; the answer is then the file's real path.

Anything else is left out of ``resolved``: an unknown kernel, someone else's
kernel, a file elsewhere and a missing file all get the same answer, so nothing
is learned. ``server/gates.py`` refuses the kernel scope should the stock handler
ever serve the route.
"""

from __future__ import annotations

import json
import os
import time
from typing import Any, ClassVar

from jupyter_core.paths import is_hidden
from jupyter_core.utils import ensure_async
from jupyter_server.auth.decorator import authorized
from jupyter_server.services.api.handlers import PathResolverHandler
from tornado import web

from ..identity.provider import WorkspaceUser
from ..paths import Level, PathRefused, locate_in, real_root
from ..policy import check_project
from .authz.access import decide_location

EXECUTE = "project:execute"


class WorkspacePathResolverHandler(PathResolverHandler):
    """``GET /api/resolvePath``: only what the user may read, never an existence probe."""

    # server/gates.py lets this class answer the kernel scope
    workspace_perms_scoped_resolver: ClassVar[bool] = True

    @web.authenticated
    @authorized
    async def get(self) -> None:
        """Resolve ``path`` in the server scope and, with ``kernel``, in the kernel's."""
        path = self.get_query_argument("path")
        kernel_id = self.get_query_argument("kernel", default=None)
        resolved = []
        manager: Any = self.contents_manager  # typed as the sync base class
        server = await ensure_async(manager.resolve_path(path))
        if server is not None:
            resolved.append({"scope": "server", "path": server})
        if kernel_id:
            in_kernel = await self._in_kernel(kernel_id, path)
            if in_kernel is not None:
                resolved.append({"scope": "kernel", "path": in_kernel})
        self.finish(json.dumps({"resolved": resolved}))

    async def _in_kernel(self, kernel_id: str, path: str) -> str | None:
        """The real path of ``path`` from the kernel's folder, if the user may know it."""
        user = self.current_user
        store = self.settings.get("workspace_perms_store")
        project_of = getattr(self.kernel_manager, "project_of", None)
        if not isinstance(user, WorkspaceUser) or store is None or project_of is None:
            return None
        project_id = project_of(kernel_id)
        snap, now = store.snapshot, time.time()
        if project_id is None or project_id not in snap.projects:
            return None
        if not check_project(snap, user.subject, project_id, EXECUTE, now).allowed:
            return None
        try:
            kernel = self.kernel_manager.get_kernel(kernel_id)
            answer = await ensure_async(kernel.resolve_path(path))
        except Exception:  # the kernel went away, or its provisioner cannot tell
            return None
        if not isinstance(answer, str):
            return None
        root_dir = self.contents_manager.root_dir
        root = real_root(root_dir)
        real = os.path.realpath(answer)
        if not real.startswith(root + os.sep):
            return None
        if not getattr(self.contents_manager, "allow_hidden", False) and is_hidden(real, root):
            return None
        relative = os.path.relpath(real, root).replace(os.sep, "/")
        try:
            loc = locate_in(snap, root_dir, relative)
        except PathRefused:
            return None
        if loc.level not in (Level.project, Level.project_file):
            return None
        assert loc.workspace is not None and loc.project is not None
        in_project = snap.projects_by_name.get(
            (snap.workspaces_by_slug[loc.workspace], loc.project)
        )
        if in_project != project_id:
            return None
        if not decide_location(snap, user.subject, loc, "read", now).allowed:
            return None
        return real


default_handlers: list[tuple[str, Any]] = [(r"/api/resolvePath", WorkspacePathResolverHandler)]
