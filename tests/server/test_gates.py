"""The routes that never ask the Authorizer are gated (``server/gates.py``).

JupyterLab settings and layouts are stored per user; the extension manager is
read-only; plugins and builds are for server admins (the build status is readable
by everyone); the event stream is open to everyone signed in; path resolution
answers only for readable files.
"""

from __future__ import annotations

import json
from importlib import import_module
from pathlib import Path
from typing import Any

import pytest
from jupyter_server.auth.identity import IdentityProvider, User

from jupyter_workspace_perms.identity.provider import WorkspaceUser
from jupyter_workspace_perms.server.gates import user_folder
from tests.helpers.world import World, server_config

# a missing JupyterLab must fail the run, never skip it
import_module("jupyterlab")

THEMES = "@jupyterlab/apputils-extension:themes"
THEMES_FILE = Path("@jupyterlab", "apputils-extension", "themes.jupyterlab-settings")
DARK = "JupyterLab Dark"


class PlainIdentity(IdentityProvider):
    """Identifies everyone as a user the workspace policy does not know."""

    def get_user(self, handler: Any) -> User:
        return User(username="plain")


@pytest.fixture
def jp_server_config(wsp_db_url: str, request: pytest.FixtureRequest) -> dict[str, Any]:
    """JupyterLab and our extension; ``plain`` swaps in :class:`PlainIdentity`."""
    config = server_config(wsp_db_url, extensions=["jupyterlab"])
    if getattr(request, "param", None) == "plain":
        config["WorkspacePermsExtension"] = {"identity_provider_class": PlainIdentity}
    return config


def lab_app(serverapp: Any) -> Any:
    [app] = serverapp.extension_manager.extension_apps["jupyterlab"]
    return app


async def call(
    wsp_fetch: Any, who: str | None, path: str, method: str = "GET", body: Any = None
) -> Any:
    """(code, parsed JSON body or None)."""
    if body is not None:
        body = json.dumps(body)
    elif method in ("POST", "PUT", "PATCH"):
        body = "{}"
    r = await wsp_fetch(who, *path.split("/"), method=method, body=body)
    try:
        return r.code, json.loads(r.body) if r.body else None
    except ValueError:
        return r.code, None


async def test_settings_are_per_user(wsp_world: World, jp_serverapp: Any, wsp_fetch: Any) -> None:
    settings = f"lab/api/settings/{THEMES}"
    code, _ = await call(wsp_fetch, "editor", settings, "PUT", {"raw": json.dumps({"theme": DARK})})
    assert code == 204
    code, mine = await call(wsp_fetch, "editor", settings)
    assert code == 200 and mine["settings"]["theme"] == DARK
    code, theirs = await call(wsp_fetch, "viewer", settings)
    assert code == 200
    assert theirs["raw"] == "{}" and theirs["settings"].get("theme") != DARK
    code, listing = await call(wsp_fetch, "viewer", "lab/api/settings")
    themes = next(s for s in listing["settings"] if s["id"] == THEMES)
    assert themes["settings"].get("theme") != DARK

    base = lab_app(jp_serverapp).user_settings_dir
    editor = wsp_world.store.snapshot.user_named("ed@acme.test")
    assert editor is not None
    stored = Path(user_folder(base, WorkspaceUser(username=editor.username)))
    assert (stored / THEMES_FILE).is_file()
    assert not (Path(base) / THEMES_FILE).exists(), "nothing lands in the shared folder"


async def test_shared_settings_reach_nobody(
    wsp_world: World, jp_serverapp: Any, wsp_fetch: Any
) -> None:
    """A settings file in the shared folder (from before the extension) is read by nobody."""
    shared = Path(lab_app(jp_serverapp).user_settings_dir) / THEMES_FILE
    shared.parent.mkdir(parents=True, exist_ok=True)
    shared.write_text(json.dumps({"theme": DARK}))
    for who in ("admin", "viewer"):
        code, model = await call(wsp_fetch, who, f"lab/api/settings/{THEMES}")
        assert code == 200 and model["settings"].get("theme") != DARK, who


async def test_a_schema_name_cannot_leave_the_users_folder(
    wsp_world: World, jp_serverapp: Any, http_server_client: Any, jp_base_url: str
) -> None:
    for name in ("..%2F..%2F@jupyterlab%2Fapputils-extension:themes", "%2Fetc:passwd"):
        r = await http_server_client.fetch(
            f"{jp_base_url}lab/api/settings/{name}",
            method="PUT",
            body=json.dumps({"raw": "{}"}),
            headers=wsp_world.auth("editor"),
            raise_error=False,
        )
        assert r.code == 404, (name, r.code, r.body)


async def test_layouts_are_per_user(wsp_world: World, jp_serverapp: Any, wsp_fetch: Any) -> None:
    layout = {"data": {"layout-restorer:data": {"main": "acme/private/secret.ipynb"}}}
    body = {**layout, "metadata": {"id": "default"}}
    code, _ = await call(wsp_fetch, "editor", "lab/api/workspaces/default", "PUT", body)
    assert code == 204
    code, mine = await call(wsp_fetch, "editor", "lab/api/workspaces/default")
    assert code == 200 and mine["data"] == layout["data"]
    code, theirs = await call(wsp_fetch, "viewer", "lab/api/workspaces/default")
    assert code == 200 and theirs["data"] == {}
    code, listing = await call(wsp_fetch, "viewer", "lab/api/workspaces")
    assert code == 200 and listing["workspaces"]["ids"] == []
    code, _ = await call(wsp_fetch, "viewer", "lab/api/workspaces/default", "DELETE")
    assert code == 404, "the viewer has no layout of their own to delete"
    code, listing = await call(wsp_fetch, "editor", "lab/api/workspaces")
    assert listing["workspaces"]["ids"] == ["default"]
    assert list(Path(lab_app(jp_serverapp).workspaces_dir).glob("*.jupyterlab-workspace")) == []


async def test_lab_routes_refuse_requests_without_identity(
    wsp_world: World, jp_serverapp: Any, wsp_fetch: Any
) -> None:
    for path in ("lab/api/settings", "lab/api/workspaces", "lab/api/extensions"):
        code, _ = await call(wsp_fetch, None, path)
        assert code == 403, path  # Jupyter's answer to API requests without a user
    r = await wsp_fetch(None, "lab", follow_redirects=False)
    assert r.code == 302 and "/login" in r.headers["Location"]


@pytest.mark.parametrize("jp_server_config", ["plain"], indirect=True)
async def test_users_unknown_to_the_policy_are_refused(jp_serverapp: Any, jp_fetch: Any) -> None:
    for path in ("lab/api/settings", "lab/api/workspaces", "lab/api/extensions"):
        r = await jp_fetch(*path.split("/"), raise_error=False)
        assert r.code == 403, path
        assert json.loads(r.body)["reason"] == "no_identity", path


async def test_extensions_are_read_only(
    wsp_world: World, jp_serverapp: Any, wsp_fetch: Any
) -> None:
    assert lab_app(jp_serverapp).extension_manager == "readonly"
    code, _ = await call(wsp_fetch, "viewer", "lab/api/extensions")
    assert code == 200
    for who in ("admin", "viewer"):
        install = {"cmd": "install", "extension_name": "jupyterlab-evil"}
        code, reply = await call(wsp_fetch, who, "lab/api/extensions", "POST", install)
        assert code == 403 and reply["reason"] == "extensions_read_only", who
        assert reply["message"]


async def test_plugins_and_build_are_for_server_admins(
    wsp_world: World, jp_serverapp: Any, wsp_fetch: Any
) -> None:
    for who in ("editor", "contributor", "viewer", "guest", "outsider"):
        for method, path in (
            ("GET", "lab/api/plugins"),
            ("POST", "lab/api/plugins"),
            ("POST", "lab/api/build"),
            ("DELETE", "lab/api/build"),
        ):
            code, reply = await call(wsp_fetch, who, path, method)
            assert code == 403 and reply["reason"] == "admins_only", (who, method, path)
    code, _ = await call(wsp_fetch, "admin", "lab/api/plugins")
    assert code == 200
    code, status = await call(wsp_fetch, "admin", "lab/api/build")
    assert code == 200 and "status" in status


async def test_event_stream_is_for_everyone_signed_in(
    wsp_world: World, jp_serverapp: Any, jp_ws_fetch: Any
) -> None:
    """Each event goes only to whoever may see it (tests/server/test_event_stream.py)."""
    for who in ("admin", "editor", "viewer", "outsider"):
        ws = await jp_ws_fetch("api", "events", "subscribe", headers=wsp_world.auth(who))
        ws.close()


async def test_resolve_path_answers_only_for_readable_files(
    wsp_world: World, jp_serverapp: Any, wsp_fetch: Any
) -> None:
    for project in ("public", "private"):
        (wsp_world.root / "acme" / project / "nb.ipynb").write_text("{}")

    async def resolved(who: str, path: str) -> list[str]:
        r = await wsp_fetch(who, "api", "resolvePath", params={"path": path})
        assert r.code == 200, (who, path, r.code)
        return [entry["path"] for entry in json.loads(r.body)["resolved"]]

    assert await resolved("editor", "acme/private/nb.ipynb") == ["acme/private/nb.ipynb"]
    assert await resolved("viewer", "acme/public/nb.ipynb") == ["acme/public/nb.ipynb"]
    for who in ("viewer", "outsider", "guest"):
        assert await resolved(who, "acme/private/nb.ipynb") == [], who
    r = await wsp_fetch(
        "outsider", "api", "resolvePath", params={"path": "x", "kernel": "0-0-0-0-0"}
    )
    assert r.code == 200 and json.loads(r.body) == {"resolved": []}
