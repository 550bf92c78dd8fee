"""Gates for the routes that never ask the Authorizer.

JupyterLab's server routes (jupyterlab_server's settings and workspaces, jupyterlab's
extension manager, plugin manager and build) and Notebook 7's tree and notebook pages
only check that *someone* is signed in (``@web.authenticated``): no Authorizer call,
so without this module any member could change every user's settings and layouts,
pip-install extensions, rebuild JupyterLab, or probe which files exist in projects
they cannot see.

Tornado creates every request's handler through ``Application.get_handler_delegate``
(``find_handler`` and ``_ApplicationRouter.get_target_delegate`` both look it up on
the application, tornado 6.6 ``web.py``). :func:`install` wraps that method on the
server's ``web_app``, so handlers registered after us (JupyterLab and Notebook load
after ``jupyter_workspace_perms``, alphabetically) are covered too. A handler class
whose ancestry matches :data:`GATES` is served by a subclass whose ``prepare`` runs
the gate once Jupyter has identified the user and before any method runs (websocket
upgrades included). Matching on the ancestry covers subclasses as well.

Rules:

- every gated request needs a workspace identity (403 ``no_identity`` otherwise;
  anonymous requests keep Jupyter's own answer: 403, or the login page), unless
  its gate is listed in :data:`OPEN_WHEN` and the operator opened the route;
- settings and workspaces (layouts) are stored **per user**, in
  ``<LabApp.user_settings_dir or workspaces_dir>/users/<sha256(username)[:16]>``
  (JupyterLab creates it on the first save): one user's theme, shortcuts or open
  files never reach another user; a user without stored settings gets the defaults
  (and the operator's ``overrides.json``), never the shared folder or someone else's;
- the extension manager is read-only (listing is fine; installing runs pip);
- the plugin manager and building are server-wide: the Authorizer's ``server``
  resource decides (server admins); reading the build status is open to every
  signed-in user (JupyterLab asks on every page load, and it names no file);
- Notebook's ``/tree`` and ``/notebooks`` pages redirect by whether a path exists:
  the Authorizer decides them as a ``contents`` read of that path;
- ``/api/resolvePath?kernel=`` is answered by this extension's own handler
  (:mod:`.resolver`), which filters the kernel's answer; should the stock handler
  ever serve the route, the kernel scope is refused;
- creating a session or a kernel while the kernel sandbox refuses every kernel
  (``required`` mode, bubblewrap broken) answers 503 ``sandbox_unavailable`` with
  the sandbox's message: the session handler would turn the kernel manager's
  refusal into a bare 500; restarting a kernel whose project folder was renamed, moved
  or deleted answers 409 ``project_moved`` (another project may sit at the old path);
- ``/metrics`` (jupyter_server's Prometheus counters of every workspace, which
  checks only that someone is signed in) is for server admins; when the operator
  turned ``ServerApp.authenticate_prometheus`` off, it stays open to anyone, as
  they asked.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Awaitable, Callable
from typing import Any, ClassVar, cast

from jupyter_core.utils import ensure_async
from jupyter_server.auth.utils import HTTP_METHOD_TO_AUTH_ACTION
from jupyter_server.base.handlers import JupyterHandler
from tornado import httputil, web

from ..identity.provider import WorkspaceUser

Gate = Callable[[JupyterHandler, WorkspaceUser], Awaitable[None]]

NO_IDENTITY = "no workspace identity: sign in with a personal access token"
READ_METHODS = ("GET", "HEAD", "OPTIONS")


def user_key(user: WorkspaceUser) -> str:
    """The name of a user's own folder: a hash, since usernames are emails."""
    return hashlib.sha256(user.username.encode("utf-8")).hexdigest()[:16]


def user_folder(base: str, user: WorkspaceUser) -> str:
    """The user's own folder under ``base``."""
    return os.path.join(base, "users", user_key(user))


async def per_user_settings(handler: Any, user: WorkspaceUser) -> None:
    """Settings (and the locale translations read from them) come from the user's folder."""
    name = handler.path_kwargs.get("schema_name") or ""
    parts = name.replace("\\", "/").split("/")
    if name and (name.startswith("/") or any(p in ("", ".", "..") for p in parts)):
        # the schema name becomes a path below the folder: it must stay there
        raise web.HTTPError(404, f"no settings {name!r}", reason="not_found")
    if handler.settings_dir:
        handler.settings_dir = user_folder(handler.settings_dir, user)


async def per_user_workspaces(handler: Any, user: WorkspaceUser) -> None:
    """Layouts (JupyterLab "workspaces": open files, panels) come from the user's folder."""
    from jupyterlab_server.workspaces_handler import WorkspacesManager

    base = str(handler.manager.workspaces_dir)
    handler.manager = WorkspacesManager(user_folder(base, user))


async def read_only_extensions(handler: Any, user: WorkspaceUser) -> None:
    """Listing extensions is fine; installing, removing or toggling them is the operator's."""
    if handler.request.method not in READ_METHODS:
        raise web.HTTPError(
            403,
            "extensions are managed by the server's operator, not through JupyterLab",
            reason="extensions_read_only",
        )


async def server_admins_only(handler: Any, user: WorkspaceUser) -> None:
    """Plugins and builds change JupyterLab for everyone: the ``server`` resource decides."""
    action = HTTP_METHOD_TO_AUTH_ACTION.get(handler.request.method, "write")
    await _ask(handler, user, action, "server")


async def build_status_for_everyone(handler: Any, user: WorkspaceUser) -> None:
    """Reading the build status is harmless (JupyterLab asks on every page load);
    building and cancelling a build are the server admins'."""
    if handler.request.method not in READ_METHODS:
        await server_admins_only(handler, user)


async def metrics_for_server_admins(handler: Any, user: WorkspaceUser) -> None:
    """The server's counters cover every workspace: server admins only."""
    await _ask(handler, user, "read", "server")


async def kernels_may_start(handler: Any, user: WorkspaceUser) -> None:
    """A new session or kernel needs a kernel sandbox that lets kernels start."""
    if handler.request.method != "POST":
        return
    sandbox = getattr(handler.settings.get("kernel_manager"), "sandbox", None)
    refusal = None if sandbox is None else sandbox.refusal()
    if refusal is not None:
        raise web.HTTPError(503, refusal, reason="sandbox_unavailable")


async def restarts_in_place(handler: Any, user: WorkspaceUser) -> None:
    """A restart replays the kernel's first start: refuse it, with the reason, once the
    kernel's project folder moved (the kernel manager's refusal inside the restart would
    reach the person as a bare 500)."""
    if handler.request.method != "POST" or handler.path_kwargs.get("action") != "restart":
        return
    # the Authorizer first: nobody learns of a kernel they may not use
    await _ask(handler, user, "execute", "kernels")
    moved = getattr(handler.settings.get("kernel_manager"), "moved", None)
    if moved is not None and moved(handler.path_kwargs.get("kernel_id", "")):
        raise web.HTTPError(
            409,
            "this kernel's project was renamed, moved or deleted since the kernel started: "
            "shut the kernel down and start a new one from the project",
            reason="project_moved",
        )


def metrics_made_public(handler: Any) -> bool:
    """The operator turned ``ServerApp.authenticate_prometheus`` off: anyone may scrape."""
    return handler.settings.get("authenticate_prometheus", True) is False


async def reads_its_path(handler: Any, user: WorkspaceUser) -> None:
    """A page that answers by whether its path exists: a ``contents`` read of that path."""
    await _ask(handler, user, "read", "contents")


async def kernel_scope_filtered(handler: Any, user: WorkspaceUser) -> None:
    """``?kernel=`` makes the kernel resolve any OS path from its folder: only this
    extension's handler (:mod:`.resolver`), which keeps what the user may read in the
    kernel's project, may answer it. The server scope is the contents manager's,
    which answers only for files the user may read."""
    if getattr(type(handler), "workspace_perms_scoped_resolver", False) is True:
        return
    if handler.get_query_argument("kernel", None):
        raise web.HTTPError(404, "not found (or not visible to you)", reason="not_found")


async def _ask(handler: Any, user: WorkspaceUser, action: str, resource: str) -> None:
    allowed = await ensure_async(handler.authorizer.is_authorized(handler, user, action, resource))
    if not allowed:
        raise web.HTTPError(403, f"{action} on {resource} is not allowed", reason="forbidden")


# "module.QualName" of a handler class or of one of its ancestors -> its gate
GATES: dict[str, Gate] = {
    "jupyterlab_server.settings_utils.SchemaHandler": per_user_settings,
    "jupyterlab_server.workspaces_handler.WorkspacesHandler": per_user_workspaces,
    "jupyterlab.handlers.extension_manager_handler.ExtensionHandler": read_only_extensions,
    "jupyterlab.handlers.plugin_manager_handler.PluginHandler": server_admins_only,
    "jupyterlab.handlers.build_handler.BuildHandler": build_status_for_everyone,
    "notebook.app.TreeHandler": reads_its_path,
    "notebook.app.NotebookHandler": reads_its_path,
    "jupyter_server.services.api.handlers.PathResolverHandler": kernel_scope_filtered,
    "jupyter_server.base.handlers.PrometheusMetricsHandler": metrics_for_server_admins,
    "jupyter_server.services.sessions.handlers.SessionRootHandler": kernels_may_start,
    "jupyter_server.services.kernels.handlers.MainKernelHandler": kernels_may_start,
    "jupyter_server.services.kernels.handlers.KernelActionHandler": restarts_in_place,
}
# gate -> when its route is open without a workspace identity, as the operator configured
OPEN_WHEN: dict[Gate, Callable[[Any], bool]] = {
    metrics_for_server_admins: metrics_made_public,
}


class GatedHandler(JupyterHandler):
    """Mixed in front of a gated handler class: identity, then the gate, then the method."""

    workspace_perms_gate: ClassVar[Gate]

    async def prepare(self, *args: Any, **kwargs: Any) -> None:
        """Jupyter's own checks first (user, XSRF, login redirect), then the gate."""
        # awaited once, as tornado does (JupyterHandler.prepare is typed loosely)
        await ensure_async(cast(Any, super().prepare(*args, **kwargs)))
        if self._finished:  # redirected to the login page
            return
        gate = type(self).workspace_perms_gate
        made_public = OPEN_WHEN.get(gate)
        if made_public is not None and made_public(self):
            return
        user = self.current_user
        if not isinstance(user, WorkspaceUser):
            raise web.HTTPError(403, NO_IDENTITY, reason="no_identity")
        await gate(self, user)


_gated: dict[type[web.RequestHandler], type[web.RequestHandler]] = {}


def gate_for(cls: type) -> Gate | None:
    """The gate of a handler class, from the first ancestor listed in :data:`GATES`."""
    for ancestor in cls.__mro__:
        gate = GATES.get(f"{ancestor.__module__}.{ancestor.__qualname__}")
        if gate is not None:
            return gate
    return None


def gated(cls: type[web.RequestHandler]) -> type[web.RequestHandler]:
    """``cls``, or (once per class) its gated subclass with the same name."""
    found = _gated.get(cls)
    if found is None:
        gate = gate_for(cls)
        if gate is None or issubclass(cls, GatedHandler) or not issubclass(cls, JupyterHandler):
            found = cls
        else:
            namespace = {
                "workspace_perms_gate": staticmethod(gate),
                "__module__": cls.__module__,
                "__qualname__": cls.__qualname__,
                "__doc__": cls.__doc__,
            }
            found = type(cls.__name__, (GatedHandler, cls), namespace)
        _gated[cls] = found
    return found


# handler classes served by a class of this extension instead (jupyter_server_ydoc's room
# socket by the guarded one), swapped where every handler passes, before its gate
_REPLACED: dict[type[web.RequestHandler], type[web.RequestHandler]] = {}


def replace_handler(
    original: type[web.RequestHandler], replacement: type[web.RequestHandler]
) -> None:
    """Serve every request routed to ``original`` with ``replacement``: the swap happens
    when tornado picks the handler class, so it holds whichever order the extensions
    loaded their routes in."""
    _REPLACED[original] = replacement


def install(web_app: web.Application) -> None:
    """Route every handler the application creates through :func:`gated`, after the
    replacements of :func:`replace_handler` (idempotent)."""
    if getattr(web_app, "_workspace_perms_gates", False):
        return
    original = web_app.get_handler_delegate

    def get_handler_delegate(
        request: httputil.HTTPServerRequest,
        target_class: type[web.RequestHandler],
        target_kwargs: dict[str, Any] | None = None,
        path_args: list[bytes] | None = None,
        path_kwargs: dict[str, bytes] | None = None,
    ) -> Any:
        served = _REPLACED.get(target_class, target_class)
        return original(request, gated(served), target_kwargs, path_args, path_kwargs)

    web_app.get_handler_delegate = get_handler_delegate  # type: ignore[method-assign]
    web_app._workspace_perms_gates = True  # type: ignore[attr-defined]
