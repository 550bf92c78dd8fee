"""What a terminal request touches: the project a terminal opens in, or is bound to.

A terminal is a shell. Opened from a folder of a project (``POST /api/terminals``
with ``{"cwd": "acme/forecast/data"}``, relative to the server's root), it runs in
that project's kernel sandbox and belongs to that project for as long as it runs
(:mod:`..terminals`). Anywhere else it would be a shell that is not confined and
reads every workspace, which only server admins may open. What each request needs:

- ``POST /api/terminals`` with a ``cwd`` in a project: ``project:write`` there (404
  or 403 as for files); while the sandbox does not confine (mode ``auto`` with a
  failed self-test, or ``off``), being a server admin too, since the shell would run
  unconfined. With the sandbox required but broken, the terminal manager refuses
  the terminal for everyone (503), as kernels are refused;
- ``POST /api/terminals`` without a ``cwd`` in a project (none, the root, a
  workspace folder): being a server admin (403 ``outside_projects`` for others);
- ``GET /api/terminals``: nothing; the listing shows only the terminals of projects
  where the user has ``project:write`` (server admins: all);
- one terminal (``GET`` or ``DELETE /api/terminals/{name}``, its websocket): being a
  server admin, or ``project:write`` on its project; anyone else gets 404, as for a
  terminal that does not exist, because the listing never shows it to them.

The body of ``POST`` may hold only ``cwd``: jupyter_server_terminals hands the
whole body to the terminal manager, where ``name`` would replace a running terminal
of that name and ``shell_command`` or ``extra_env`` would choose the program and its
environment. Any other key answers 400 (names are chosen by the server).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from ...paths import Level, Location, PathRefused
from ...sandbox import KernelSandbox
from .fields import bad_request, json_object, string_field
from .targets import UNKNOWN, Refusal, Request, Target

WRITE = "project:write"
PROJECT_LEVELS = (Level.project, Level.project_file)

OUTSIDE_PROJECTS = Refusal(
    "outside_projects",
    "terminals open in a project folder: send the folder as cwd, e.g. "
    '{"cwd": "<workspace>/<project>"}. A shell anywhere else is not confined and reads '
    "every workspace, so only server admins may open one",
)
NOT_CONFINED = Refusal(
    "sandbox_not_confining",
    "terminals cannot be confined to a project on this server (the kernel sandbox is off "
    "or failed its self-test: see GET /api/workspace-perms/status), and a shell that is "
    "not confined reads every workspace, so only server admins may open one",
)


def requested_cwd(handler: Any) -> str | None:
    """The ``cwd`` of a ``POST /api/terminals`` body, as the client sent it (None: none).

    jupyter_server_terminals rewrites ``cwd`` before the manager sees it (resolving it
    against the server process's own folder first), so the Authorizer and the
    terminal manager both read the client's spelling from here instead.
    """
    body = json_object(handler, required=False) or {}
    others = sorted(set(body) - {"cwd"})
    if others:
        raise bad_request(
            f"a new terminal takes only 'cwd', not {', '.join(map(repr, others))} "
            "(terminal names are chosen by the server)",
            "unknown_field",
        )
    cwd = string_field(body, "cwd", "cwd", "bad_cwd")
    if cwd is not None and cwd.startswith("/"):
        raise bad_request(
            "cwd is a folder relative to the server's root, e.g. 'acme/forecast', "
            "not an absolute path",
            "absolute_cwd",
        )
    return cwd or None


def sandbox_of(settings: Mapping[str, Any]) -> KernelSandbox | None:
    """The kernel sandbox of the server's kernel manager, which terminals share."""
    sandbox = getattr(settings.get("kernel_manager"), "sandbox", None)
    return sandbox if isinstance(sandbox, KernelSandbox) else None


def confines(sandbox: KernelSandbox | None) -> bool:
    """Whether a project's terminal would run confined (or be refused with a 503)."""
    return sandbox is not None and (sandbox.confining or sandbox.refusal() is not None)


def in_project(loc: Location | None) -> bool:
    """Whether ``loc`` lies in a project (its folder or anything inside)."""
    return loc is not None and loc.level in PROJECT_LEVELS


def terminals(req: Request) -> list[Target]:
    """``/api/terminals``: the listing is filtered per user; ``POST`` opens a terminal."""
    if req.method == "GET":
        return []
    cwd = requested_cwd(req.handler)
    loc = None if cwd is None else req.locate(cwd)
    if loc is None or not in_project(loc):
        return [] if req.server_admin() else [Target("refuse", OUTSIDE_PROJECTS)]
    assert loc.workspace is not None and loc.project is not None
    workspace_id = req.snap.workspaces_by_slug[loc.workspace]
    project_id = req.snap.projects_by_name[(workspace_id, loc.project)]
    targets = [Target(WRITE, project_id)]
    if not confines(sandbox_of(req.handler.settings)) and not req.server_admin():
        targets.append(Target("refuse", NOT_CONFINED))
    return targets


def terminal(req: Request) -> list[Target]:
    """One running terminal: decided on the project it was bound to when it opened."""
    name = str(req.handler.path_args[0]) if req.handler.path_args else ""
    manager = req.handler.settings.get("terminal_manager")
    binder = getattr(manager, "project_of", None)
    project_id = binder(name) if binder is not None else None
    if req.server_admin():
        return []  # every terminal is listed to them (an unknown name: the handler's 404)
    if project_id is None or project_id not in req.snap.projects:
        raise PathRefused(UNKNOWN, "not_found")
    return [Target(WRITE, int(project_id), hidden=True)]


# handler class name -> target function
TERMINAL_HANDLERS: dict[str, Callable[[Request], list[Target]]] = {
    "TerminalRootHandler": terminals,
    "TerminalHandler": terminal,
    "TermSocket": terminal,
}
