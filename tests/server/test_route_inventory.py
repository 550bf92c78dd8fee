"""Every route of a full server is either enforced (and proved so) or deliberately public.

The server runs with every extension a deployment typically has (JupyterLab,
Notebook 7, terminals, jupyter-lsp, jupyter-collaboration, jupyter_server_fileid and
ours). Its routes are read from tornado's routers, recursively; :data:`ROUTES` must classify each
pattern, or the test fails with "new route: classify it".

An :class:`Enforced` route names the mechanism that decides it and carries a real
request as someone who must be refused (403/404; anonymous requests get
Jupyter's 403, our API's 401, or a redirect to the login page) and, for many
routes, one as someone who must be allowed. ``sees`` is the (action, resource)
our Authorizer must be asked during that request, recorded by wrapping it.
"""

from __future__ import annotations

import importlib.util
import json
import re
import warnings
from collections.abc import Iterator
from dataclasses import dataclass, field
from importlib import import_module
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode

import nbformat
import pytest
from tornado.httpclient import HTTPClientError

from tests.helpers.missing import missing
from tests.helpers.world import World, server_config

# every extension the inventory covers must be installed: a missing one fails, never skips
with warnings.catch_warnings():  # as importorskip does: jupyter_lsp warns on import
    warnings.simplefilter("ignore", DeprecationWarning)
    for _module in ("notebook", "jupyter_lsp", "jupyter_server_fileid", "jupyter_server_terminals"):
        import_module(_module)
# jupyter-collaboration is optional for the package: without it its routes are not served
# (test_collaboration_is_installed fails under CI, where the test extra installs it)
COLLABORATION = importlib.util.find_spec("jupyter_server_ydoc") is not None

pytestmark = [
    # jupyter_lsp 2.3 builds traitlets the 4.x way when it is imported
    pytest.mark.filterwarnings("ignore:Keyword `trait` is deprecated:DeprecationWarning"),
    pytest.mark.filterwarnings("ignore:Traits should be given as instances:DeprecationWarning"),
    # jupyter_lsp's and jupyter_server_terminals' websockets check identity in their own
    # get(); Jupyter warns about their missing decorators at load time. The probes below
    # prove both refuse whoever must be refused.
    pytest.mark.filterwarnings(
        "ignore:Extension endpoints without:jupyter_server.utils.JupyterServerAuthWarning"
    ),
    # jupyterlab_server's LicensesHandler.finish() needs a MIME type, so Jupyter's error
    # reply (our anonymous probe's 403) leaves an un-awaited coroutine behind
    pytest.mark.filterwarnings(
        "ignore:Exception ignored in. <coroutine object LicensesHandler.finish"
        ":pytest.PytestUnraisableExceptionWarning"
    ),
]

Label = tuple[str, str]


@dataclass(frozen=True)
class Probe:
    """One real request; ``{kernel}``, ``{session}``, ``{terminal}``, ``{checkpoint}``,
    ``{token}`` in the path are filled in from objects made for the test."""

    who: str | None
    method: str
    path: str
    body: Any = None
    params: dict[str, str] = field(default_factory=dict)
    sees: Label | None = None
    expect: tuple[int, ...] = ()  # non-2xx/3xx codes that still mean "allowed"
    timeout: float = 60  # seconds; 599 (no answer) then counts as refused when so noted
    no_answer: str = ""  # why a refusal may get no answer at all
    reason: str = ""  # the refusal's JSON reason, when it must be this one


@dataclass(frozen=True)
class Enforced:
    """Decided by ``by``; ``refused`` must get 403/404 (or the login redirect)."""

    by: str
    refused: Probe
    allowed: Probe | None = None


@dataclass(frozen=True)
class Public:
    """Served without identity on purpose."""

    reason: str


AUTHZ = "WorkspaceAuthorizer"
GATE = "server/gates.py"
LOGIN = "sign-in only (@web.authenticated): any identified user"
OURS = "our REST API (@api: label, then the policy)"

NB = "acme/public/nb.ipynb"
PRIVATE_NB = "acme/private/nb.ipynb"
NOTEBOOK = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("1 + 1")])
SESSION_BODY = {"path": NB, "type": "notebook", "name": NB, "kernel": {"name": "python3"}}
CONTENTS = r"(?P<path>(?:(?:/[^/]+)+|/?))"
UUID = r"\w+-\w+-\w+-\w+-\w+"
API = "api/workspace-perms/"
WS = r"workspaces/(?P<ws>[^/]+)"


def anon(path: str, method: str = "GET") -> Probe:
    """A request without identity."""
    return Probe(None, method, path)


STATIC = "static files of the server, JupyterLab or Notebook: no user data"

ROUTES: dict[str, Enforced | Public] = {
    # -- jupyter_server core -----------------------------------------------------------
    "api/spec.yaml": Enforced(
        AUTHZ,
        anon("api/spec.yaml"),
        Probe("outsider", "GET", "api/spec.yaml", sees=("read", "api")),
    ),
    "api/status": Enforced(
        AUTHZ, anon("api/status"), Probe("outsider", "GET", "api/status", sees=("read", "api"))
    ),
    "api/me": Enforced(LOGIN, anon("api/me"), Probe("outsider", "GET", "api/me")),
    "api/resolvePath": Enforced(
        f"{AUTHZ} (api read) + server/resolver.py (the kernel scope only for runners, in "
        "the kernel's project) + contents manager filter; refusals are empty answers",
        Probe(None, "GET", "api/resolvePath", params={"path": "nb.ipynb"}),
        Probe(
            "viewer",
            "GET",
            "api/resolvePath",
            params={"path": "nb.ipynb", "kernel": "{kernel}"},
            sees=("read", "api"),
        ),
    ),
    r"api/config/(?P<section_name>\w+)": Enforced(
        f"{AUTHZ}: any identified user; sections are per user (server/config.py)",
        anon("api/config/notebook", "PATCH"),
        Probe("viewer", "PATCH", "api/config/notebook", body={}, sees=("write", "config")),
    ),
    f"api/contents{CONTENTS}/checkpoints": Enforced(
        AUTHZ,
        Probe(
            "outsider", "GET", f"api/contents/{PRIVATE_NB}/checkpoints", sees=("read", "contents")
        ),
        Probe("editor", "GET", f"api/contents/{NB}/checkpoints", sees=("read", "contents")),
    ),
    f"api/contents{CONTENTS}/checkpoints/(?P<checkpoint_id>[\\w-]+)": Enforced(
        AUTHZ,
        Probe(
            "viewer",
            "POST",
            f"api/contents/{NB}/checkpoints/{{checkpoint}}",
            sees=("write", "contents"),
        ),
        Probe("editor", "POST", f"api/contents/{NB}/checkpoints/{{checkpoint}}"),
    ),
    f"api/contents{CONTENTS}/trust": Enforced(
        AUTHZ, Probe("viewer", "POST", f"api/contents/{NB}/trust", sees=("write", "contents"))
    ),
    f"api/contents{CONTENTS}": Enforced(
        AUTHZ,
        Probe("outsider", "GET", f"api/contents/{PRIVATE_NB}", sees=("read", "contents")),
        Probe("viewer", "GET", f"api/contents/{NB}", sees=("read", "contents")),
    ),
    "api/notebooks/?(.*)": Public("redirects to /api/contents/…, which is checked"),
    "api/kernels": Enforced(
        f"{AUTHZ}; the listing shows only kernels the user may run code in",
        Probe(
            "viewer",
            "POST",
            "api/kernels",
            body={"name": "python3", "path": "acme/public"},
            sees=("write", "kernels"),
        ),
        Probe("outsider", "GET", "api/kernels", sees=("read", "kernels")),
    ),
    f"api/kernels/(?P<kernel_id>{UUID})": Enforced(
        AUTHZ,
        Probe("viewer", "GET", "api/kernels/{kernel}", sees=("read", "kernels")),
        Probe("contributor", "GET", "api/kernels/{kernel}", sees=("read", "kernels")),
    ),
    f"api/kernels/(?P<kernel_id>{UUID})/(?P<action>restart|interrupt)": Enforced(
        AUTHZ,
        Probe("viewer", "POST", "api/kernels/{kernel}/interrupt", sees=("write", "kernels")),
        Probe("editor", "POST", "api/kernels/{kernel}/interrupt", sees=("write", "kernels")),
    ),
    f"api/kernels/(?P<kernel_id>{UUID})/channels": Enforced(
        f"{AUTHZ} at the upgrade, then per message (kernel_websocket_connection_class)",
        Probe("viewer", "GET", "api/kernels/{kernel}/channels", sees=("execute", "kernels")),
    ),
    r"kernelspecs/(?P<kernel_name>[\w\.\-%]+)/(?P<path>.*)": Enforced(
        AUTHZ,
        anon("kernelspecs/python3/logo-64x64.png"),
        Probe(
            "outsider", "GET", "kernelspecs/python3/logo-64x64.png", sees=("read", "kernelspecs")
        ),
    ),
    "api/kernelspecs": Enforced(
        AUTHZ,
        anon("api/kernelspecs"),
        Probe("outsider", "GET", "api/kernelspecs", sees=("read", "kernelspecs")),
    ),
    r"api/kernelspecs/(?P<kernel_name>[\w\.\-%]+)": Enforced(
        AUTHZ,
        anon("api/kernelspecs/python3"),
        Probe("outsider", "GET", "api/kernelspecs/python3", sees=("read", "kernelspecs")),
    ),
    r"nbconvert/(?P<format>\w+)": Enforced(
        f"{AUTHZ}: converts the notebook in the body, touches no file",
        anon("nbconvert/html", "POST"),
        Probe(
            "outsider",
            "POST",
            "nbconvert/html",
            body={"content": NOTEBOOK},
            sees=("write", "nbconvert"),
        ),
    ),
    rf"nbconvert/(?P<format>\w+){CONTENTS}": Enforced(
        f"{AUTHZ}: a contents read of the path",
        Probe("outsider", "GET", f"nbconvert/html/{PRIVATE_NB}", sees=("read", "nbconvert")),
        Probe("viewer", "GET", f"nbconvert/html/{NB}", sees=("read", "nbconvert")),
    ),
    "api/nbconvert": Enforced(
        AUTHZ,
        anon("api/nbconvert"),
        Probe("outsider", "GET", "api/nbconvert", sees=("read", "nbconvert")),
    ),
    "api/security/csp-report": Enforced(
        AUTHZ,
        anon("api/security/csp-report", "POST"),
        Probe("outsider", "POST", "api/security/csp-report", body={}, sees=("write", "csp")),
    ),
    f"api/sessions/(?P<session_id>{UUID})": Enforced(
        AUTHZ,
        Probe("viewer", "GET", "api/sessions/{session}", sees=("read", "sessions")),
        Probe("contributor", "GET", "api/sessions/{session}", sees=("read", "sessions")),
    ),
    "api/sessions": Enforced(
        f"{AUTHZ}; the listing shows only sessions the user may run code in",
        Probe("viewer", "POST", "api/sessions", body=SESSION_BODY, sees=("write", "sessions")),
        Probe("outsider", "GET", "api/sessions", sees=("read", "sessions")),
    ),
    "api/shutdown": Enforced(
        f"{AUTHZ}: server admins",
        Probe("viewer", "POST", "api/shutdown", sees=("write", "server"), reason="admins_only"),
    ),
    f"view{CONTENTS}": Enforced(
        AUTHZ,
        Probe("outsider", "GET", f"view/{PRIVATE_NB}", sees=("read", "contents")),
        Probe("viewer", "GET", f"view/{NB}", sees=("read", "contents")),
    ),
    "api/events": Enforced(
        f"{AUTHZ}: server admins",
        Probe(
            "viewer", "POST", "api/events", body={}, sees=("write", "events"), reason="admins_only"
        ),
    ),
    "api/events/subscribe": Enforced(
        f"{AUTHZ}: any identified user; each event only to whoever may see it (server/events.py)",
        anon("api/events/subscribe"),
        # a plain GET passes the Authorizer, then is no websocket upgrade
        Probe("viewer", "GET", "api/events/subscribe", sees=("execute", "events"), expect=(400,)),
    ),
    "files/(.*)": Enforced(
        AUTHZ,
        Probe("outsider", "GET", f"files/{PRIVATE_NB}", sees=("read", "contents")),
        Probe("viewer", "GET", f"files/{NB}", sees=("read", "contents")),
    ),
    "metrics": Enforced(
        f"{GATE}: the Authorizer's server resource (server admins)",
        Probe("outsider", "GET", "metrics", sees=("read", "server"), reason="admins_only"),
        Probe("admin", "GET", "metrics", sees=("read", "server")),
    ),
    "login": Public("the sign-in page"),
    "logout": Public("signs out"),
    "workspace-perms/demo": Public(
        "demo mode only: the persona page, opened only with the server's own token "
        "(tests/demo/test_landing.py)"
    ),
    "workspace-perms/demo/sign-in": Public(
        "demo mode only: an XSRF-checked POST that signs in as a demo persona, for "
        "browsers that opened the persona page with the server's token"
    ),
    "workspace-perms/demo/personas": Public(
        "demo mode only: the personas, for browsers that opened the persona page"
    ),
    "workspace-perms/sign-in": Public(
        "the sign-in link's confirmation: an XSRF-checked POST of a token, which sets the "
        "login cookie only for that token's own user (tests/identity/test_sign_in_links.py)"
    ),
    ".*/": Public("redirects to the same URL without the trailing slash, which is checked"),
    "api": Public("the server's version, nothing else"),
    "": Public("redirects to the default page, which needs a sign-in"),
    r"(robots\.txt|favicon\.ico)": Public(STATIC),
    r"/(robots\.txt)": Public(STATIC),
    r"/(favicon\.ico)": Public(STATIC),
    "(.*)": Public("404 for any path outside the server's base URL"),
    "static/(.*)": Public(STATIC),
    # -- JupyterLab (jupyterlab, jupyterlab_server), also registered by Notebook 7 ------
    "lab/api/build": Enforced(
        f"{GATE}: the status for any identified user; building is the Authorizer's server "
        "resource (server admins)",
        Probe("viewer", "POST", "lab/api/build", sees=("write", "server"), reason="admins_only"),
        Probe("viewer", "GET", "lab/api/build"),
    ),
    "lab/api/plugins": Enforced(
        f"{GATE}: the Authorizer's server resource (server admins)",
        Probe(
            "viewer",
            "POST",
            "lab/api/plugins",
            body={"cmd": "enable"},
            sees=("write", "server"),
            reason="admins_only",
        ),
        Probe("admin", "GET", "lab/api/plugins", sees=("read", "server")),
    ),
    "lab/api/extensions": Enforced(
        f"{GATE}: read-only (LabApp.extension_manager='readonly' too)",
        Probe(
            "viewer",
            "POST",
            "lab/api/extensions",
            body={"cmd": "install", "extension_name": "x"},
            reason="extensions_read_only",
        ),
        Probe("viewer", "GET", "lab/api/extensions"),
    ),
    "lab/api/settings/?": Enforced(
        f"{GATE}: per-user folder",
        anon("lab/api/settings"),
        Probe("outsider", "GET", "lab/api/settings"),
    ),
    "lab/api/settings/(?P<schema_name>.+)": Enforced(
        f"{GATE}: per-user folder",
        anon("lab/api/settings/@jupyterlab/apputils-extension:themes"),
        Probe("viewer", "GET", "lab/api/settings/@jupyterlab/apputils-extension:themes"),
    ),
    "lab/api/translations/?": Enforced(
        f"{GATE}: per-user folder (the locale is a setting)",
        anon("lab/api/translations"),
        Probe("outsider", "GET", "lab/api/translations"),
    ),
    "lab/api/translations/(?P<locale>.*)": Enforced(
        f"{GATE}: per-user folder (the locale is a setting)", anon("lab/api/translations/en")
    ),
    "lab/api/workspaces/?": Enforced(
        f"{GATE}: per-user folder",
        anon("lab/api/workspaces"),
        Probe("outsider", "GET", "lab/api/workspaces"),
    ),
    "lab/api/workspaces/(?P<space_name>.+)": Enforced(
        f"{GATE}: per-user folder",
        anon("lab/api/workspaces/default", "PUT"),
        Probe("outsider", "GET", "lab/api/workspaces/default"),
    ),
    "lab/api/listings/(.*)": Enforced(LOGIN, anon("lab/api/listings/x.json")),
    "lab/api/licenses/(.*)": Enforced(
        LOGIN,
        Probe(
            None,
            "GET",
            "lab/api/licenses/",
            timeout=2,
            no_answer="jupyterlab_server 2.28: LicensesHandler.finish() breaks error replies",
        ),
    ),
    "lab/api/update": Enforced(LOGIN, anon("lab/api/update")),
    "lab/api/news": Enforced(LOGIN, anon("lab/api/news")),
    "lab/api/themes/(.*)": Public("theme CSS shipped with JupyterLab"),
    "lab/extensions/(.*)": Public("JavaScript of installed JupyterLab extensions"),
    (r"(?P<mode>lab|doc)(?P<workspace>/workspaces/[a-zA-Z0-9\-\_]+)?(?P<tree>/tree/.*)?"): Enforced(
        LOGIN + "; the page holds no user data", anon("lab"), Probe("outsider", "GET", "lab")
    ),
    "lab/.*": Enforced(
        LOGIN, anon("lab/nowhere"), Probe("outsider", "GET", "lab/nowhere", expect=(404,))
    ),
    "static/lab/(.*)": Public(STATIC),
    "static/notebook/(.*)": Public(STATIC),
    # -- Notebook 7 ---------------------------------------------------------------------
    "tree(.*)": Enforced(
        f"{GATE}: a contents read of the path (the page redirects by existence)",
        Probe("outsider", "GET", "tree/acme/private", sees=("read", "contents")),
        Probe("viewer", "GET", "tree/acme/public", sees=("read", "contents")),
    ),
    "notebooks(.*)": Enforced(
        f"{GATE}: a contents read of the path (the page redirects by existence)",
        Probe("outsider", "GET", f"notebooks/{PRIVATE_NB}", sees=("read", "contents")),
        Probe("viewer", "GET", f"notebooks/{NB}", sees=("read", "contents")),
    ),
    "edit(.*)": Enforced(
        LOGIN + "; an empty page", anon("edit/x.txt"), Probe("outsider", "GET", "edit/x.txt")
    ),
    "consoles/(.*)": Enforced(LOGIN + "; an empty page", anon("consoles/x")),
    "terminals/(.*)": Enforced(LOGIN + "; an empty page", anon("terminals/1")),
    "custom/custom.css": Enforced(LOGIN, anon("custom/custom.css")),
    # -- jupyter_server_terminals (on: WorkspacePermsExtension.terminals_enabled) --------
    # {terminal} is a server admin's shell outside projects: nobody else may know it
    r"terminals/websocket/(\w+)": Enforced(
        f"{AUTHZ}: project:write on the terminal's project (server admins: every terminal)",
        Probe("editor", "GET", "terminals/websocket/{terminal}", sees=("execute", "terminals")),
    ),
    "api/terminals": Enforced(
        f"{AUTHZ}: project:write where it opens, confined to that project (a shell outside "
        "projects: server admins); the listing shows only terminals the user may use",
        Probe(
            "viewer",
            "POST",
            "api/terminals",
            body={"cwd": "acme/public"},
            sees=("write", "terminals"),
            reason="role_too_low",
        ),
        Probe("editor", "POST", "api/terminals", body={"cwd": "acme/public"}),
    ),
    r"api/terminals/(\w+)": Enforced(
        f"{AUTHZ}: project:write on the terminal's project (server admins: every terminal)",
        Probe(
            "editor",
            "GET",
            "api/terminals/{terminal}",
            sees=("read", "terminals"),
            reason="not_found",
        ),
        Probe("admin", "GET", "api/terminals/{terminal}", sees=("read", "terminals")),
    ),
    # -- jupyter-lsp ----------------------------------------------------------------------
    "lsp/status": Enforced(
        f"{AUTHZ}: any identified user (lists language servers)",
        anon("lsp/status"),
        Probe("outsider", "GET", "lsp/status", sees=("read", "lsp")),
    ),
    "lsp/ws/(?P<language_server>.*)": Enforced(
        f"{AUTHZ}: server admins (the language server reads any file)",
        Probe("viewer", "GET", "lsp/ws/pylsp", sees=("execute", "lsp")),
    ),
    # -- jupyter_server_fileid: the path asked, or the path of the id asked, must be readable
    "api/fileid/id": Enforced(
        f"{AUTHZ}: read on the path (404 when not visible)",
        Probe("viewer", "GET", "api/fileid/id", params={"path": PRIVATE_NB}),
        Probe("viewer", "GET", "api/fileid/id", params={"path": NB}, sees=("read", "contents")),
    ),
    "api/fileid/path": Enforced(
        f"{AUTHZ}: read on the file the id names (404 when not visible or unknown)",
        Probe("viewer", "GET", "api/fileid/path", params={"id": "{private_file}"}),
        Probe(
            "viewer", "GET", "api/fileid/path", params={"id": "{file}"}, sees=("read", "contents")
        ),
    ),
    # -- ours -----------------------------------------------------------------------------
    f"{API}me": Enforced(
        OURS,
        anon(f"{API}me"),
        Probe("outsider", "GET", f"{API}me", sees=("read", "jupyter_workspace_perms:me")),
    ),
    f"{API}workspaces": Enforced(
        OURS, Probe("outsider", "POST", f"{API}workspaces", body={"slug": "mine", "name": "Mine"})
    ),
    f"{API}{WS}": Enforced(OURS, Probe("outsider", "GET", f"{API}workspaces/acme")),
    f"{API}{WS}/members": Enforced(OURS, Probe("outsider", "GET", f"{API}workspaces/acme/members")),
    f"{API}{WS}/members/(?P<user>[^/]+)": Enforced(
        OURS,
        Probe(
            "viewer",
            "PUT",
            f"{API}workspaces/acme/members/otto@else.test",
            body={"role": "viewer"},
        ),
    ),
    f"{API}{WS}/join": Enforced(
        OURS, Probe("outsider", "POST", f"{API}workspaces/acme/join", body={})
    ),
    f"{API}{WS}/projects": Enforced(
        OURS, Probe("outsider", "GET", f"{API}workspaces/acme/projects")
    ),
    f"{API}{WS}/projects/(?P<project>[^/]+)": Enforced(
        OURS,
        Probe("outsider", "GET", f"{API}workspaces/acme/projects/private"),
        Probe("viewer", "GET", f"{API}workspaces/acme/projects/public"),
    ),
    f"{API}{WS}/projects/(?P<project>[^/]+)/collaborators/(?P<user>[^/]+)": Enforced(
        OURS,
        Probe(
            "viewer",
            "PUT",
            f"{API}workspaces/acme/projects/public/collaborators/otto@else.test",
            body={"role": "viewer"},
        ),
    ),
    f"{API}{WS}/projects/(?P<project>[^/]+)/duplicate": Enforced(
        OURS,
        Probe(
            "viewer",
            "POST",
            f"{API}workspaces/acme/projects/public/duplicate",
            body={"to_workspace": "acme"},
        ),
    ),
    f"{API}{WS}/integrations": Enforced(
        OURS, Probe("outsider", "GET", f"{API}workspaces/acme/integrations")
    ),
    f"{API}{WS}/integrations/(?P<integration>[^/]+)": Enforced(
        OURS,
        Probe("editor", "PATCH", f"{API}workspaces/acme/integrations/dwh", body={"name": "x"}),
    ),
    f"{API}{WS}/projects/(?P<project>[^/]+)/integrations": Enforced(
        OURS, Probe("outsider", "GET", f"{API}workspaces/acme/projects/public/integrations")
    ),
    f"{API}{WS}/projects/(?P<project>[^/]+)/integrations/(?P<integration>[^/]+)": Enforced(
        OURS, Probe("viewer", "PUT", f"{API}workspaces/acme/projects/public/integrations/dwh")
    ),
    f"{API}comments": Enforced(
        OURS,
        Probe("outsider", "GET", f"{API}comments", params={"path": NB}, reason="not_found"),
        Probe("viewer", "GET", f"{API}comments", params={"path": NB}),
    ),
    f"{API}comments/(?P<comment_id>[^/]+)": Enforced(
        OURS, Probe("outsider", "DELETE", f"{API}comments/1", reason="not_found")
    ),
    f"{API}{WS}/comments": Enforced(
        OURS,
        Probe("outsider", "GET", f"{API}workspaces/acme/comments", params={"mentions": "me"}),
        Probe("guest", "GET", f"{API}workspaces/acme/comments", params={"mentions": "me"}),
    ),
    f"{API}{WS}/access-requests": Enforced(
        OURS,
        Probe("outsider", "GET", f"{API}workspaces/acme/access-requests", reason="not_found"),
        Probe("guest", "GET", f"{API}workspaces/acme/access-requests"),
    ),
    f"{API}{WS}/access-requests/(?P<request_id>[^/]+)": Enforced(
        OURS,
        Probe(
            "outsider",
            "PATCH",
            f"{API}workspaces/acme/access-requests/1",
            body={"status": "approved"},
            reason="not_found",
        ),
    ),
    f"{API}{WS}/audit": Enforced(
        OURS,
        Probe("editor", "GET", f"{API}workspaces/acme/audit", reason="role_too_low"),
        Probe("admin", "GET", f"{API}workspaces/acme/audit", params={"format": "csv"}),
    ),
    f"{API}tokens": Enforced(OURS, anon(f"{API}tokens"), Probe("outsider", "GET", f"{API}tokens")),
    f"{API}tokens/(?P<token_id>[^/]+)": Enforced(
        OURS, Probe("outsider", "DELETE", f"{API}tokens/{{token}}")
    ),
    f"{API}status": Enforced(OURS, anon(f"{API}status"), Probe("outsider", "GET", f"{API}status")),
    rf"{API}spec\.yaml": Enforced(OURS, anon(f"{API}spec.yaml")),
}


COLLABORATION_ROUTES: dict[str, Enforced | Public] = {
    # -- jupyter-collaboration: decided on the document a room or path names ---------------
    "api/collaboration/room/(.*)": Enforced(
        f"{AUTHZ} (read on the room's document) + server/collaboration/handler.py (each "
        "message judged against its sender)",
        Probe(
            "viewer",
            "GET",
            "api/collaboration/room/json:notebook:{private_file}",
            sees=("read", "contents"),
        ),
        # a plain GET is not a websocket upgrade: tornado answers 400 once allowed
        Probe(
            "viewer",
            "GET",
            "api/collaboration/room/json:notebook:{file}",
            sees=("read", "contents"),
            expect=(400,),
        ),
    ),
    "api/collaboration/session/(.*)": Enforced(
        f"{AUTHZ}: read on the path (it only looks the file id up)",
        Probe(
            "outsider",
            "PUT",
            f"api/collaboration/session/{NB}",
            body={"format": "json", "type": "notebook"},
        ),
        Probe(
            "viewer",
            "PUT",
            f"api/collaboration/session/{NB}",
            body={"format": "json", "type": "notebook"},
            sees=("write", "contents"),
        ),
    ),
    "api/collaboration/fork/(.*)": Enforced(
        f"{AUTHZ}: listing reads the document; making, deleting, merging writes it",
        Probe(
            "contributor",
            "PUT",
            "api/collaboration/fork/json:notebook:{file}",
            sees=("write", "contents"),
        ),
        Probe(
            "viewer",
            "GET",
            "api/collaboration/fork/json:notebook:{file}",
            sees=("read", "contents"),
        ),
    ),
    "api/collaboration/timeline/(.*)": Enforced(
        f"{AUTHZ}: read on the path (history of the document)",
        Probe(
            "viewer",
            "GET",
            f"api/collaboration/timeline/{PRIVATE_NB}",
            params={"format": "json", "type": "notebook"},
            sees=("read", "contents"),
        ),
    ),
    "api/collaboration/undo_redo/(.*)": Enforced(
        f"{AUTHZ}: write on the room's document",
        Probe(
            "contributor",
            "PUT",
            "api/collaboration/undo_redo/json:notebook:{file}",
            params={"action": "undo", "steps": "1", "forkRoom": "f"},
            sees=("write", "contents"),
        ),
    ),
}
if COLLABORATION:
    ROUTES.update(COLLABORATION_ROUTES)


def test_collaboration_is_installed() -> None:
    """The test extra installs jupyter-collaboration: CI covers its routes."""
    if not COLLABORATION:
        missing("jupyter-collaboration (the test extra) is needed to classify its routes")


@pytest.fixture
def jp_server_config(wsp_db_url: str) -> dict[str, Any]:
    """Every extension a typical deployment runs, terminals and the demo on."""
    extensions = ["jupyterlab", "notebook", "jupyter_server_terminals", "jupyter_lsp"]
    return server_config(
        wsp_db_url,
        extensions=[
            *extensions,
            "jupyter_server_fileid",
            *(["jupyter_server_ydoc"] if COLLABORATION else []),
        ],
        WorkspacePermsExtension={"terminals_enabled": True, "demo_mode": True},
    )


def route_patterns(router: Any) -> Iterator[str]:
    """Every rule's path pattern, through nested routers."""
    for rule in router.rules:
        if hasattr(rule.target, "rules"):
            yield from route_patterns(rule.target)
        else:
            regex = getattr(rule.matcher, "regex", None)
            assert regex is not None, f"a rule without a path pattern: {rule!r}"
            yield regex.pattern


def served_routes(serverapp: Any, base_url: str) -> set[str]:
    """The route patterns, relative to the base URL, without tornado's closing ``$``."""
    found = set()
    for pattern in route_patterns(serverapp.web_app.default_router):
        pattern = pattern.removesuffix("$")
        found.add(pattern.removeprefix(base_url) if pattern.startswith(base_url) else pattern)
    return found


async def test_every_route_is_classified(jp_serverapp: Any, jp_base_url: str) -> None:
    served = served_routes(jp_serverapp, jp_base_url)
    unclassified = sorted(served - ROUTES.keys())
    assert not unclassified, "new route: classify it in ROUTES:\n" + "\n".join(unclassified)
    stale = sorted(ROUTES.keys() - served)
    assert not stale, "ROUTES lists routes the server no longer has:\n" + "\n".join(stale)


def test_every_route_pattern_matches_its_probes() -> None:
    """Probes exercise the route they are listed under, and labelled checks are asked."""
    for pattern, entry in ROUTES.items():
        if isinstance(entry, Public):
            assert entry.reason
            continue
        probes = [p for p in (entry.refused, entry.allowed) if p is not None]
        for probe in probes:
            path = probe.path.format(
                kernel="0-0-0-0-0",
                session="0-0-0-0-0",
                terminal="1",
                checkpoint="c",
                token="1",
                file="f",
                private_file="p",
            )
            assert re.fullmatch(pattern, path), f"{path} is not a {pattern} request"
        if entry.by.startswith(AUTHZ):
            assert any(p.sees for p in probes if p.who is not None), f"{pattern}: no label proved"


class Server:
    """Requests as the world's people, recording what the Authorizer is asked."""

    def __init__(self, client: Any, base_url: str, world: World, serverapp: Any) -> None:
        self.client = client
        self.base_url = base_url
        self.world = world
        self.asked: list[Label] = []
        self.values: dict[str, str] = {}
        self.file_ids = serverapp.web_app.settings["file_id_manager"]
        authorizer = serverapp.authorizer
        original = authorizer.is_authorized

        def recording(handler: Any, user: Any, action: str, resource: str) -> Any:
            self.asked.append((action, resource))
            return original(handler, user, action, resource)

        authorizer.is_authorized = recording

    async def send(self, probe: Probe) -> Answer:
        """One probe's answer, with the labels the Authorizer was asked meanwhile."""
        path = quote(probe.path.format(**self.values), safe="/@:")
        params = {k: v.format(**self.values) for k, v in probe.params.items()}
        url = self.base_url + path + ("?" + urlencode(params) if params else "")
        headers = self.world.auth(probe.who) if probe.who else {"Authorization": ""}
        body = None
        if probe.method in ("POST", "PUT", "PATCH"):
            body = json.dumps(probe.body if probe.body is not None else {})
        start = len(self.asked)
        try:
            r = await self.client.fetch(
                url,
                method=probe.method,
                body=body,
                headers=headers,
                raise_error=False,
                follow_redirects=False,
                request_timeout=probe.timeout,
            )
        except HTTPClientError as e:  # no answer (timeouts are raised even so)
            return Answer(e.code, "", None, set(self.asked[start:]))
        return Answer(
            r.code, r.headers.get("Location", ""), reason_of(r.body), set(self.asked[start:])
        )


def reason_of(body: bytes | None) -> Any:
    """The refusal's reason: JSON ``reason`` (API routes) or the HTML page's heading."""
    try:
        return json.loads(body or b"").get("reason")
    except (ValueError, AttributeError):
        found = re.search(rb"<h1>\d+ : ([^<]*)</h1>", body or b"")
        return found.group(1).decode().strip() if found else None


@dataclass
class Answer:
    """What a probe got back."""

    code: int
    location: str
    reason: Any
    asked: set[Label]

    def refused(self, probe: Probe) -> bool:
        """403/404 for a person; Jupyter's 403, our 401 or the login page for nobody."""
        if self.code == 599 and probe.no_answer:
            return True
        if probe.reason and self.reason != probe.reason:
            return False
        if probe.who is not None:
            return self.code in (403, 404)
        return self.code in (401, 403) or (self.code == 302 and "/login" in self.location)

    def allowed(self, probe: Probe) -> bool:
        """Neither refused nor broken."""
        return self.code < 400 or self.code in probe.expect


def make_files(root: Path) -> None:
    for path in (NB, PRIVATE_NB):
        (root / path).write_text(nbformat.writes(NOTEBOOK))


async def make_objects(http: Any, server: Server, world: World) -> None:
    """A kernel and session in acme/public (editor), a checkpoint, a terminal, a token id,
    the file ids of both notebooks."""

    async def post(who: str, path: str, body: Any) -> Any:
        r = await http.fetch(
            server.base_url + path,
            method="POST",
            body=json.dumps(body),
            headers=world.auth(who),
            raise_error=False,
        )
        assert r.code in (200, 201), f"{who} POST {path}: {r.code} {r.body[:300]!r}"
        return json.loads(r.body)

    session = await post("editor", "api/sessions", SESSION_BODY)
    server.values["session"] = session["id"]
    server.values["kernel"] = session["kernel"]["id"]
    checkpoint = await post("editor", f"api/contents/{NB}/checkpoints", {})
    server.values["checkpoint"] = checkpoint["id"]
    terminal = await post("admin", "api/terminals", {})
    server.values["terminal"] = terminal["name"]
    tokens = world.store.snapshot.tokens_by_id
    server.values["token"] = str(min(tokens))
    for key, path in (("file", NB), ("private_file", PRIVATE_NB)):
        server.values[key] = server.file_ids.index(path)


async def test_enforced_routes_refuse_and_allow(
    wsp_world: World, jp_serverapp: Any, http_server_client: Any, jp_base_url: str
) -> None:
    make_files(wsp_world.root)
    server = Server(http_server_client, jp_base_url, wsp_world, jp_serverapp)
    await make_objects(http_server_client, server, wsp_world)
    failures = []
    for pattern, entry in ROUTES.items():
        if isinstance(entry, Public):
            continue
        for probe, must_refuse in ((entry.refused, True), (entry.allowed, False)):
            if probe is None:
                continue
            answer = await server.send(probe)
            ok = answer.refused(probe) if must_refuse else answer.allowed(probe)
            if not ok:
                what = "refused" if must_refuse else "allowed"
                failures.append(
                    f"{pattern}: {probe.who} {probe.method} {probe.path} must be {what}, "
                    f"got {answer.code} {answer.reason!r}"
                )
            if probe.sees and probe.sees not in answer.asked:
                failures.append(f"{pattern}: asked {sorted(answer.asked)}, not {probe.sees}")
    assert not failures, "\n".join(failures)
