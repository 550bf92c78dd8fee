"""From a request to what it touches: paths (URL and body) and kernels.

Each handler family has one function that lists the request's
:class:`Target` objects; :func:`targets_for` returns None for a handler it does
not know, which the Authorizer refuses. Paths go through the one canonicalizer
in :mod:`.paths`; kernels are judged on the project they were bound to when
they started (:mod:`..kernels`), never on a path a client sends later.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ...paths import Level, Location, PathRefused, locate_in
from ...policy import PolicySnapshot

EXECUTE = "project:execute"
READ = "project:read"


@dataclass(frozen=True)
class Refusal:
    """A rule the request breaks whatever the user's role (e.g. a kernel outside projects).

    Listed after the request's other targets, so the Authorizer answers 404 for what the
    user may not see before it answers this refusal's 403.
    """

    code: str
    message: str


@dataclass(frozen=True)
class Target:
    """One thing a request touches: ``intent`` at a location, a permission on a project,
    or a :class:`Refusal`."""

    intent: str
    where: Location | int | Refusal  # a project id for kernels and sessions


OUTSIDE_PROJECTS = Refusal("outside_projects", "kernels start only inside a project folder")
CROSS_PROJECT = Refusal("cross_project", "a session cannot join a kernel of another project")


class Request:
    """What target functions need from a handler, with the snapshot to locate paths."""

    def __init__(self, handler: Any, snap: PolicySnapshot, action: str) -> None:
        self.handler = handler
        self.snap = snap
        self.action = action
        self.method = handler.request.method
        self.root = str(handler.settings.get("server_root_dir", ""))

    def locate(self, raw: str) -> Location:
        """The canonical location of a path from the URL or the body (once per request)."""
        if not isinstance(raw, str):
            raise PathRefused("paths must be strings")
        return locate_in(self.snap, self.root, raw, self.handler)

    def body(self) -> dict[str, Any]:
        """The JSON body (parsed once by Jupyter), or an empty dict."""
        if not self.handler.request.body:
            return {}
        model = self.handler.get_json_body()
        return model if isinstance(model, dict) else {}

    def path_kwarg(self) -> str:
        """The path in the URL of contents-like routes."""
        kwargs = self.handler.path_kwargs
        if "path" in kwargs:
            return str(kwargs["path"] or "")
        return str(self.handler.path_args[0] if self.handler.path_args else "")

    def exists(self, loc: Location) -> bool:
        """Whether the path exists on disk (links included)."""
        return os.path.lexists(os.path.join(self.root, loc.path))

    def kernel_bound(self, kernel_id: str) -> bool:
        """Whether ``kernel_id`` names a running kernel bound to a project."""
        binder = getattr(self.handler.kernel_manager, "project_of", None)
        return binder is not None and binder(kernel_id) is not None

    def kernel_project(self, kernel_id: str) -> int:
        """The project a kernel was bound to at start; refuse unbound kernels."""
        binder = getattr(self.handler.kernel_manager, "project_of", None)
        project_id = None if binder is None else binder(kernel_id)
        if project_id is None or project_id not in self.snap.projects:
            raise PathRefused(f"kernel {kernel_id!r} is not bound to a project")
        return int(project_id)


def _child(loc: Location, directory: bool) -> tuple[str, Location]:
    """The intent and location of a new entry created inside the folder ``loc``."""
    if loc.level is Level.workspace:
        return ("mkdir" if directory else "create"), Location(
            loc.path + "/?", Level.workspace_file, loc.workspace, None
        )
    if loc.level in (Level.project, Level.project_file):
        return ("mkdir" if directory else "create"), Location(
            loc.path + "/?", Level.project_file, loc.workspace, loc.project
        )
    return "create", loc  # refused by the access table (root, outside, …)


def contents(req: Request) -> list[Target]:
    """``/api/contents``: the URL path, plus ``copy_from`` and rename targets from the body."""
    loc = req.locate(req.path_kwarg())
    method = req.method
    if method in ("GET", "HEAD"):
        return [Target("read", loc)]
    if method == "DELETE":
        return [Target("remove", loc)]
    if method == "PUT" and req.exists(loc):
        # a save: decided from the path, so a large body is parsed once (by the handler)
        return [Target(save_intent(loc), loc)]
    body = req.body()
    if method == "PATCH":
        new_path = body.get("path")
        if new_path is None:
            return [Target("write", loc)]
        directory = os.path.isdir(os.path.join(req.root, loc.path))
        return [
            Target("remove", loc),
            Target("mkdir" if directory else "create", req.locate(new_path)),
        ]
    if method == "POST":
        targets = []
        if body.get("copy_from") is not None:
            targets.append(Target("read", req.locate(body["copy_from"])))
        intent, child = _child(loc, body.get("type") == "directory")
        return [*targets, Target(intent, child)]
    # PUT of a new path: create a file or a folder
    return [Target("mkdir" if body.get("type") == "directory" else "create", loc)]


def save_intent(loc: Location) -> str:
    """Saving an existing path: ``save_outputs`` for a project's notebook, else ``write``.

    ``save_outputs`` lets users who may run but not edit reach the contents manager,
    which merges their save onto the stored notebook (outputs and parameter values
    only) and refuses anything else; users with write save as usual. Decided from
    the path alone, so the body of a save is never parsed here.
    """
    if loc.level is Level.project_file and loc.path.endswith(".ipynb"):
        return "save_outputs"
    return "write"


def checkpoints(req: Request) -> list[Target]:
    """Checkpoints: listing reads; creating one is part of a save (JupyterLab makes one
    after each save); restoring and deleting write."""
    loc = req.locate(req.path_kwarg())
    if req.method in ("GET", "HEAD"):
        return [Target("read", loc)]
    if req.method == "POST" and "checkpoint_id" not in req.handler.path_kwargs:
        return [Target(save_intent(loc), loc)]
    return [Target("write", loc)]


def read_path(req: Request) -> list[Target]:
    """``/files``, ``/view``, ``/nbconvert/{format}{path}``: reading one path."""
    return [Target("read", req.locate(req.path_kwarg()))]


def write_path(req: Request) -> list[Target]:
    """``/api/contents/{path}/trust``: changes the file's signature."""
    return [Target("write", req.locate(req.path_kwarg()))]


def no_file(req: Request) -> list[Target]:
    """Routes that touch no stored file (converting a notebook sent in the body)."""
    return []


def kernels(req: Request) -> list[Target]:
    """Kernels: start needs execute where the kernel will run; the rest, its bound project."""
    kernel_id = req.handler.path_kwargs.get("kernel_id")
    if kernel_id is None:  # /api/kernels
        if req.method == "GET":
            return []  # the listing shows only the user's kernels
        body = req.body()
        targets = _run_in(req, req.locate(body.get("path") or ""))
        chosen = body.get("kernel_id")  # a running kernel's id makes "start" reuse it
        if chosen is not None and req.kernel_bound(str(chosen)):
            targets.append(Target(EXECUTE, req.kernel_project(str(chosen))))
        return _same_project(targets)
    project_id = req.kernel_project(kernel_id)
    return [Target(READ if req.action == "read" else EXECUTE, project_id)]


def sessions(req: Request) -> list[Target]:
    """Sessions: the notebook's project, and the same project for any kernel named."""
    session_id = req.handler.path_kwargs.get("session_id")
    if session_id is None and req.method == "GET":
        return []  # the listing shows only the user's sessions
    body = req.body()
    targets = []
    if session_id is not None:
        kernel_id = _session_kernel(req, session_id)
        bound = req.kernel_project(kernel_id)
        targets.append(Target(READ if req.method == "GET" else EXECUTE, bound))
        if req.method != "PATCH":
            return targets
    path = body.get("path")
    if path is not None:
        targets += _run_in(req, req.locate(path))
    kernel = body.get("kernel")
    named_kernel = kernel.get("id") if isinstance(kernel, dict) else None
    if named_kernel:
        targets.append(Target(EXECUTE, req.kernel_project(str(named_kernel))))
    if session_id is None and path is None:
        raise PathRefused("sessions need the path of a file in a project")
    return _same_project(targets)


def _run_in(req: Request, loc: Location) -> list[Target]:
    """Running code at ``loc``: execute on its project; outside projects, a refusal
    (after a read check, so a path the user may not see stays unknown)."""
    if loc.level not in (Level.project, Level.project_file):
        return [Target("read", loc), Target("refuse", OUTSIDE_PROJECTS)]
    return [Target(EXECUTE, _project_id(req, loc))]


def _same_project(targets: list[Target]) -> list[Target]:
    """Refuse (after the other checks) a request that ties two projects' kernels together."""
    projects = {t.where for t in targets if isinstance(t.where, int)}
    if len(projects) > 1:
        return [*targets, Target("refuse", CROSS_PROJECT)]
    return targets


def _session_kernel(req: Request, session_id: str) -> str:
    finder = getattr(req.handler.session_manager, "kernel_of_session", None)
    kernel_id = None if finder is None else finder(session_id)
    if kernel_id is None:
        raise PathRefused(f"no session {session_id!r}")
    return str(kernel_id)


def _project_id(req: Request, loc: Location) -> int:
    if loc.level not in (Level.project, Level.project_file):
        raise PathRefused(f"{loc.path!r} is not inside a project: kernels run in projects")
    assert loc.workspace is not None and loc.project is not None
    ws_id = req.snap.workspaces_by_slug[loc.workspace]
    return req.snap.projects_by_name[(ws_id, loc.project)]


# handler class name -> target function, per resource
CONTENTS_HANDLERS: dict[str, Callable[[Request], list[Target]]] = {
    "ContentsHandler": contents,
    "CheckpointsHandler": checkpoints,
    "ModifyCheckpointsHandler": checkpoints,
    "TrustNotebooksHandler": write_path,
    "AuthenticatedFileHandler": read_path,
    "ViewHandler": read_path,
    "NotebooksRedirectHandler": read_path,
    # Notebook 7's /tree and /notebooks pages (asked by server/gates.py): they redirect
    # by whether the path exists
    "TreeHandler": read_path,
    "NotebookHandler": read_path,
}
NBCONVERT_HANDLERS: dict[str, Callable[[Request], list[Target]]] = {
    "NbconvertFileHandler": read_path,
    "NbconvertPostHandler": no_file,
    "NbconvertRootHandler": no_file,
}
RESOURCE_TARGETS: dict[str, Callable[[Request], list[Target]] | dict[str, Any]] = {
    "contents": CONTENTS_HANDLERS,
    "nbconvert": NBCONVERT_HANDLERS,
    "kernels": kernels,
    "sessions": sessions,
}


def targets_for(
    handler: Any, resource: str, action: str, snap: PolicySnapshot
) -> list[Target] | None:
    """The targets of a request, or None when this resource or handler is unknown."""
    found = RESOURCE_TARGETS.get(resource)
    if isinstance(found, dict):
        found = found.get(type(handler).__name__)
    if found is None:
        return None
    return found(Request(handler, snap, action))
