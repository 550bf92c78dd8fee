"""From a request to what it touches: paths (URL and body) and kernels.

Each handler family has one function that lists the request's
:class:`Target` objects (:mod:`.routes` says which function serves which handler;
terminals have theirs in :mod:`.terminals`). Paths go through the one canonicalizer
in :mod:`.paths`; kernels are judged on the project they were bound to when
they started (:mod:`..kernels`), never on a path a client sends later.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from ...paths import Level, Location, PathRefused, locate_in, served_root
from ...policy import PolicySnapshot
from ..copies import entry_in, ext_problem, folder_copy_refusal, move_refusal
from .fields import bad_request, json_object, object_field, refuse_legacy_notebook, string_field

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
class Shutdown:
    """Shutting down a kernel bound to ``project_id`` that user ``started_by`` started
    (decided by :func:`...policy.lifecycle.check_kernel_shutdown`)."""

    project_id: int
    started_by: int | None


@dataclass(frozen=True)
class Target:
    """One thing a request touches: ``intent`` at a location, a permission on a project,
    shutting a kernel down, or a :class:`Refusal`.

    ``hidden`` targets name an object only the allowed are ever shown (a terminal is
    listed only to those who may use it): refused, they answer 404 whatever the role.
    """

    intent: str
    where: Location | int | Shutdown | Refusal  # a project id for kernels and sessions
    hidden: bool = False


OUTSIDE_PROJECTS = Refusal("outside_projects", "kernels start only inside a project folder")
CROSS_PROJECT = Refusal("cross_project", "a session cannot join a kernel of another project")
UNKNOWN = "not found (or not visible to you)"  # as the Authorizer answers what is invisible
HIDDEN_PATH = Refusal(
    "hidden_path",
    "sessions run only notebooks at real project paths, not hidden files or checkpoints",
)


class Request:
    """What target functions need from a handler, with the snapshot to locate paths.

    ``server_admin`` answers whether the requesting user is a server admin; the
    Authorizer hands it over, asked only by routes whose targets depend on it.
    """

    def __init__(
        self,
        handler: Any,
        snap: PolicySnapshot,
        action: str,
        server_admin: Callable[[], bool] | None = None,
    ) -> None:
        self.handler = handler
        self.snap = snap
        self.action = action
        self.method = handler.request.method
        self.root = served_root(handler.settings)
        self._server_admin = server_admin

    def server_admin(self) -> bool:
        """Whether the requesting user is a server admin (see the Authorizer)."""
        return self._server_admin is not None and self._server_admin()

    def locate(self, raw: str) -> Location:
        """The canonical location of a path from the URL or the body (once per request)."""
        if not isinstance(raw, str):
            raise PathRefused("paths must be strings")
        return locate_in(self.snap, self.root, raw, self.handler)

    def body(self, required: bool = False) -> dict[str, Any]:
        """The JSON body as the handler will read it: an object, or ``{}`` when there is
        none (400 when ``required``, or when it is anything but an object)."""
        return json_object(self.handler, required) or {}

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
            # answered as a kernel the user may not see: no probing for kernel ids
            raise PathRefused(UNKNOWN, "not_found")
        return int(project_id)

    def kernel_starter(self, kernel_id: str) -> int | None:
        """The id of the user who started a kernel (None: nobody known)."""
        finder = getattr(self.handler.kernel_manager, "starter_of", None)
        return None if finder is None else finder(kernel_id)

    def session(self, session_id: str) -> tuple[str, str | None]:
        """A session's kernel id and path; an unknown session is refused (404)."""
        finder = getattr(self.handler.session_manager, "session_row", None)
        row = None if finder is None else finder(session_id)
        if row is None:
            raise PathRefused(UNKNOWN, "not_found")
        kernel_id, path = row
        return str(kernel_id), path if isinstance(path, str) else None

    def kernel_at_path(self, raw: str) -> str | None:
        """The running kernel of the session at exactly ``raw``, which ``POST
        /api/sessions`` returns instead of making a new one."""
        finder = getattr(self.handler.session_manager, "kernel_at_path", None)
        if finder is None:
            raise PathRefused("sessions are not managed by jupyter_workspace_perms")
        found = finder(raw)
        return None if found is None else str(found)


def _child(loc: Location, directory: bool) -> tuple[str, Location]:
    """The intent and location of a new entry created inside the folder ``loc``."""
    return ("mkdir" if directory else "create"), entry_in(loc)


def contents(req: Request) -> list[Target]:
    """``/api/contents``: the URL path, plus ``copy_from`` and rename targets from the body.

    Each request is decided on what Jupyter will really create: a PUT with an empty body
    on a folder makes a new file inside it, a POST a new entry inside the URL folder (or,
    for a file copy, at the URL itself), a copy what its source is (``type`` is ignored).
    """
    loc = req.locate(req.path_kwarg())
    method = req.method
    if method in ("GET", "HEAD"):
        return [Target("read", loc)]
    if method == "DELETE":
        return [Target("remove", loc)]
    if method == "PUT" and req.exists(loc):
        if _is_dir(req, loc) and not req.body():
            return [Target(*_child(loc, False))]  # Jupyter makes an untitled file inside
        # a save: decided from the path, so a large body is parsed once (by the handler)
        return [Target(save_intent(loc), loc)]
    body = req.body()  # Jupyter 500s on other shapes: refused
    if method == "PATCH":
        new_path = body.get("path")
        if new_path is None:
            return [Target("write", loc)]
        directory = _is_dir(req, loc)
        new = req.locate(new_path)
        targets = [Target("remove", loc), Target("mkdir" if directory else "create", new)]
        problem = move_refusal(loc, new, directory)
        return targets if problem is None else [*targets, Target("refuse", Refusal(*problem))]
    if method == "POST":
        copy_from = body.get("copy_from")
        if copy_from:  # "" and null make a new untitled entry, as in Jupyter
            return _copy(req, loc, copy_from)
        return _untitled(req, loc, body)
    # PUT of a new path: create a file or a folder
    return [Target("mkdir" if body.get("type") == "directory" else "create", loc)]


def _is_dir(req: Request, loc: Location) -> bool:
    return os.path.isdir(os.path.join(req.root, loc.path))


def _untitled(req: Request, loc: Location, body: Mapping[str, Any]) -> list[Target]:
    """``POST`` without ``copy_from``: a new untitled file, notebook or folder in ``loc``.

    Jupyter appends ``ext`` to the new name, so only a plain extension is accepted: the new
    entry is then a child of ``loc``, which is what is decided.
    """
    kind = body.get("type")
    if kind is not None and not isinstance(kind, str):
        raise bad_request("type must be a string: file, notebook or directory", "invalid_type")
    problem = ext_problem(body.get("ext", ""))
    if problem is not None:
        raise bad_request(problem, "invalid_ext")
    if req.exists(loc) and not _is_dir(req, loc):
        return [Target("write", loc)]  # Jupyter refuses a POST to a file (400)
    return [Target(*_child(loc, kind == "directory"))]


def _copy(req: Request, loc: Location, copy_from: Any) -> list[Target]:
    """``POST {"copy_from": ...}``: read on the source; the source decides what is made.

    A file is copied into the URL folder under a free name, or to the URL itself when it
    does not exist (``create`` there). A folder (see :mod:`..copies`) only from inside a
    project, into an existing folder of a project (``mkdir`` there); the contents manager
    copies it and decides again.
    """
    if not isinstance(copy_from, str):
        raise bad_request("copy_from must be a path (a string)", "invalid_copy_from")
    source = req.locate(copy_from)
    targets = [Target("read", source)]
    if req.exists(loc) and not _is_dir(req, loc):
        return [*targets, Target("write", loc)]  # Jupyter refuses a POST to a file (400)
    if not _is_dir(req, source):
        if _is_dir(req, loc):
            return [*targets, Target(*_child(loc, False))]
        return [*targets, Target("create", loc)]
    targets.append(Target(*_child(loc, True)))
    problem = folder_copy_refusal(source, loc)
    return targets if problem is None else [*targets, Target("refuse", Refusal(*problem))]


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
    """Kernels: start needs execute where the kernel will run; the rest, its bound project.

    Its model, interrupt, restart and its websocket need ``project:execute`` there;
    shutting it down, the shutdown rule (:class:`Shutdown`).
    """
    kernel_id = req.handler.path_kwargs.get("kernel_id")
    if kernel_id is None:  # /api/kernels
        if req.method == "GET":
            return []  # the listing shows only kernels the user may run code in
        return _start_kernel(req)
    project_id = req.kernel_project(kernel_id)
    if req.method == "DELETE":
        return [_shutdown(req, kernel_id, project_id)]
    return [Target(EXECUTE, project_id)]


def _start_kernel(req: Request) -> list[Target]:
    """``POST /api/kernels``: ``path`` is the kernel's folder; a ``kernel_id`` must name a
    running kernel the user may use (Jupyter then returns it instead of starting one)."""
    model = req.body()
    string_field(model, "name", "the kernel name", "bad_kernel_name")
    path = string_field(model, "path", "path", "bad_path")
    targets = _run_in(req, req.locate(path or ""))
    chosen = string_field(model, "kernel_id", "kernel_id", "bad_kernel_id")
    if chosen is not None:
        targets.append(Target(EXECUTE, req.kernel_project(chosen)))
    return _finish(targets)


def sessions(req: Request) -> list[Target]:
    """Sessions, decided from every body field Jupyter's handlers read (:mod:`.fields`).

    Reading one needs ``project:execute`` on its kernel's project; deleting one shuts
    its kernel down and changing one changes it for everyone (the shutdown rule);
    creating and changing one, see :func:`_new_session` and :func:`_change_session`.
    """
    session_id = req.handler.path_kwargs.get("session_id")
    if session_id is None:
        if req.method == "GET":
            return []  # the listing shows only sessions the user may run code in
        return _new_session(req)
    kernel_id, before_path = req.session(session_id)
    bound = req.kernel_project(kernel_id)
    if req.method == "DELETE":
        return [_shutdown(req, kernel_id, bound)]
    if req.method != "PATCH":
        return [Target(EXECUTE, bound)]
    return _change_session(req, kernel_id, before_path, bound)


def _session_body(req: Request) -> tuple[dict[str, Any], Mapping[str, Any] | None]:
    """A session body Jupyter reads as we do: an object without the legacy ``notebook``
    key, string (or null) names and types; and its ``kernel`` object, if any."""
    model = req.body(required=True)
    assert model is not None
    refuse_legacy_notebook(model)
    string_field(model, "name", "the session name", "bad_name")
    string_field(model, "type", "the session type", "bad_type")
    if "kernel" not in model:
        return model, None
    kernel = object_field(model, "kernel", "kernel", "bad_kernel")
    string_field(kernel, "name", "kernel.name", "bad_kernel_name")
    string_field(kernel, "id", "kernel.id", "bad_kernel_id")
    return model, kernel


def _new_session(req: Request) -> list[Target]:
    """``POST /api/sessions``: execute at ``path``; a session already at that exact path
    is returned whatever the body says, so execute on its kernel's project too; a
    ``kernel.id`` must be a running kernel the user may use."""
    model, kernel = _session_body(req)
    if "path" not in model:
        raise bad_request("sessions need the path of a file in a project", "missing_path")
    path = model["path"]
    if not isinstance(path, str):
        raise bad_request("path must be a string", "bad_path")
    targets = _session_at(req, path)
    existing = req.kernel_at_path(path)
    if existing is not None:
        targets.append(Target(EXECUTE, req.kernel_project(existing)))
    kernel_id = None if kernel is None else kernel.get("id")
    if kernel_id is not None:
        targets.append(Target(EXECUTE, req.kernel_project(kernel_id)))
    return _finish(targets)


def _change_session(
    req: Request, kernel_id: str, before_path: str | None, bound: int
) -> list[Target]:
    """``PATCH /api/sessions/{id}``: changing a session changes it for everyone using its
    kernel (which notebook feeds its runnable cells, which kernel runs it), so it needs
    what shutting that kernel down needs (the shutdown rule); a new ``path`` as for a new
    session; a new ``kernel.id`` must be usable and a ``kernel.name`` starts a kernel at
    the session's current (old) path."""
    model, kernel = _session_body(req)
    targets = [Target(EXECUTE, bound)]
    if "path" in model:
        path = model["path"]
        if not isinstance(path, str):
            raise bad_request("path must be a string", "bad_path")
        targets += _session_at(req, path)
    new_id = None if kernel is None else kernel.get("id")
    new_name = None if kernel is None else kernel.get("name")
    if new_id is not None:
        targets.append(Target(EXECUTE, req.kernel_project(new_id)))
    elif new_name is not None:
        targets += _session_at(req, before_path or "")
    # after the others, so what the user may not see answers 404 before this 403
    targets.append(_shutdown(req, kernel_id, bound))
    return _finish(targets)


def _session_at(req: Request, raw: str) -> list[Target]:
    """A session's path: execute on its project, never a hidden path (a checkpoint would
    make a notebook's old cells runnable again)."""
    loc = req.locate(raw)
    targets = _run_in(req, loc)
    if any(part.startswith(".") for part in loc.path.split("/")):
        targets.append(Target("refuse", HIDDEN_PATH))
    return targets


def _shutdown(req: Request, kernel_id: str, project_id: int) -> Target:
    return Target("shutdown", Shutdown(project_id, req.kernel_starter(kernel_id)))


def _run_in(req: Request, loc: Location) -> list[Target]:
    """Running code at ``loc``: execute on its project; outside projects, a refusal
    (after a read check, so a path the user may not see stays unknown)."""
    if loc.level not in (Level.project, Level.project_file):
        return [Target("read", loc), Target("refuse", OUTSIDE_PROJECTS)]
    return [Target(EXECUTE, _project_id(req, loc))]


def _finish(targets: list[Target]) -> list[Target]:
    """The checks first, then the refusals: a request that ties two projects' kernels
    together, and the rules broken whatever the role (so what the user may not see
    stays unknown: 404 before 403)."""
    checks = [t for t in targets if not isinstance(t.where, Refusal)]
    refusals = [t for t in targets if isinstance(t.where, Refusal)]
    projects = {t.where for t in checks if isinstance(t.where, int)}
    projects |= {t.where.project_id for t in checks if isinstance(t.where, Shutdown)}
    if len(projects) > 1:
        refusals.insert(0, Target("refuse", CROSS_PROJECT))
    return [*checks, *refusals]


def _project_id(req: Request, loc: Location) -> int:
    if loc.level not in (Level.project, Level.project_file):
        raise PathRefused(f"{loc.path!r} is not inside a project: kernels run in projects")
    assert loc.workspace is not None and loc.project is not None
    ws_id = req.snap.workspaces_by_slug[loc.workspace]
    return req.snap.projects_by_name[(ws_id, loc.project)]
