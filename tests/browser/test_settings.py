"""Workspace settings in the browser: the settings page and the notebook panel.

Real JupyterLab on the demo world, real kernels, Debian's Chromium. Each change is made
the way a person makes it (a click in the page) and checked through the REST API; each
refusal is the server's, shown next to the control that caused it.
"""

from __future__ import annotations

import json
import re
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any

from jupyter_workspace_perms.demo.world import python_notebook
from tests.browser.conftest import Lab, Page, SignIn, allow_errors

Shot = Callable[[Page, str], Path]
LOAD_MS = 60_000  # a kernel start or a page of requests on a busy two-core machine
SETTINGS = ".jp-WorkspacePermsSettings"
LOADED = SETTINGS + '[aria-busy="false"]'
VIC = "vic@acme.example"
EDDIE = "eddie@acme.example"


def expect(target: Any) -> Any:
    from playwright.sync_api import expect as playwright_expect

    return playwright_expect(target)


def refusal(lab: Lab, persona: str, method: str, path: str, body: Any) -> tuple[int, Any]:
    """A REST call that the server must refuse: its status and JSON body."""
    request = urllib.request.Request(
        lab.url("api/workspace-perms/" + path),
        data=json.dumps(body).encode(),
        method=method,
        headers={"Authorization": f"token {lab.tokens[persona]}"},
    )
    try:
        urllib.request.urlopen(request, timeout=30)
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())
    raise AssertionError(f"{persona} {method} {path} was not refused")


def identity_of(lab: Lab, token: str) -> str | None:
    """Whom ``token`` signs in as (None when the server refuses it)."""
    request = urllib.request.Request(
        lab.url("api/workspace-perms/me"), headers={"Authorization": f"token {token}"}
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return str(json.loads(response.read())["identity"]["username"])
    except urllib.error.HTTPError as error:
        assert error.code == 401, error
        return None


def role_in(lab: Lab, persona: str, slug: str = "acme") -> Any:
    """The persona's role in a workspace, as the server says."""
    [found] = [w for w in lab.api(persona, "GET", "me")["workspaces"] if w["slug"] == slug]
    return found["role"]


def loaded(scope: Any) -> Any:
    """The settings view in ``scope`` once it has finished loading."""
    view = scope.locator(LOADED)
    expect(view).to_be_visible(timeout=LOAD_MS)
    return view


def member_row(view: Any, username: str) -> Any:
    """The row of ``username`` in the view's members table."""
    return view.get_by_role("table", name="Members").locator(f'tr[data-username="{username}"]')


def open_from_palette(page: Page) -> Any:
    """Open the settings page the way a person finds it: the command palette."""
    page.keyboard.press("Control+Shift+C")
    page.keyboard.type("Workspace settings")
    page.locator(".lm-CommandPalette-item", has_text="Workspace settings").first.click()
    return loaded(page.locator("#workspace-perms-settings"))


def screenshot(shot: Shot, page: Page, name: str) -> Path:
    """``shot``, without JupyterLab's "get notified about news?" toast over the page."""
    news = page.locator(".Toastify__toast", has_text="Jupyter news")
    if news.count():
        news.get_by_role("button", name="No", exact=True).click()
        expect(news).to_have_count(0)
    return shot(page, name)


def kernel_idle(page: Page) -> None:
    """Until the current notebook's kernel has started and is idle."""
    page.wait_for_function(
        "() => window.jupyterapp.shell.currentWidget?.sessionContext?.session?.kernel"
        "?.status === 'idle'",
        timeout=LOAD_MS,
    )


def run_all(page: Page) -> None:
    """Run every cell of the current notebook once its kernel is idle."""
    kernel_idle(page)
    page.evaluate("() => { void window.jupyterapp.commands.execute('notebook:run-all-cells'); }")


def test_admin_makes_the_viewer_a_contributor_who_can_then_run_cells(
    fresh_lab: Lab, sign_in: SignIn, shot: Shot
) -> None:
    lab = fresh_lab
    assert role_in(lab, "viewer") == "viewer"
    admin = sign_in(lab, "admin")
    settings = open_from_palette(admin)
    row = member_row(settings, VIC)
    row.get_by_label(f"Role of {VIC}").select_option("contributor")
    row.get_by_role("button", name="Save role").click()
    expect(row.get_by_role("status")).to_have_text(f"{VIC} is now Contributor.")
    expect(row.get_by_label(f"Role of {VIC}")).to_have_value("contributor")
    assert role_in(lab, "viewer") == "contributor"
    screenshot(shot, admin, "admin-settings")

    vic = sign_in(lab, "viewer", path="lab/tree/acme/analysis/forecast.ipynb")
    run_all(vic)
    forecast = vic.locator(".jp-Notebook .jp-CodeCell").nth(1)
    expect(forecast.locator(".jp-OutputArea-output")).to_contain_text("171.03", timeout=LOAD_MS)


def test_admin_turns_on_domain_invites_and_the_joiner_may_join(
    fresh_lab: Lab, sign_in: SignIn
) -> None:
    lab = fresh_lab
    lab.api("admin", "PATCH", "workspaces/acme", {"domain_invites": False})
    assert lab.api("joiner", "GET", "me")["joinable"] == []
    admin = sign_in(lab, "admin")
    settings = open_from_palette(admin)
    invites = settings.get_by_label("People with a verified @acme.example email may join as Viewer")
    expect(invites).not_to_be_checked()
    invites.focus()
    admin.keyboard.press("Space")  # the keyboard works as well as the mouse
    expect(settings.get_by_role("status")).to_have_text("Domain invites are on.")
    expect(invites).to_be_checked()
    assert [w["slug"] for w in lab.api("joiner", "GET", "me")["joinable"]] == ["acme"]
    assert lab.api("joiner", "POST", "workspaces/acme/join")["role"] == "viewer"


def test_a_viewer_sees_the_same_settings_read_only_from_sidebar_and_file_browser(
    lab: Lab, sign_in: SignIn, shot: Shot
) -> None:
    vic = sign_in(lab, "viewer")
    vic.locator('.jp-SideBar li[data-id="workspace-perms-settings-sidebar"]').click()
    side = loaded(vic.locator("#workspace-perms-settings-sidebar"))
    expect(member_row(side, VIC)).to_be_visible()
    expect(side.get_by_text("Read only:", exact=False).first).to_be_visible()
    policy = side.locator('section:not([data-section="tokens"]) :is(button, select, input)')
    assert policy.count() > 10
    expect(
        side.locator('section:not([data-section="tokens"]) :is(button, select, input):enabled')
    ).to_have_count(0)
    expect(side.get_by_role("button", name="Create token")).to_be_enabled()
    screenshot(shot, vic, "viewer-settings-sidebar")

    # her own tokens: the server bounds their lifetime; the secret is shown once
    tokens = side.locator('section[data-section="tokens"]')
    allow_errors(vic, r"status of 400 .*/api/workspace-perms/tokens\?")  # provoked below
    tokens.get_by_label("Note").fill("ci")
    tokens.get_by_label("Expires on").fill("2099-01-01")
    tokens.get_by_role("button", name="Create token").click()
    expect(tokens.get_by_role("alert")).to_contain_text(
        "tokens created through the server live at most 90 days"
    )
    tokens.get_by_label("Expires on").fill("")
    tokens.get_by_role("button", name="Create token").click()
    secret = tokens.get_by_role("textbox", name="New token")
    expect(secret).to_have_value(re.compile(r"^wsp_"))
    token = secret.input_value()
    vic.context.grant_permissions(["clipboard-read", "clipboard-write"])
    tokens.get_by_role("button", name="Copy").click()
    expect(tokens.get_by_text("Copied.")).to_be_visible()
    assert vic.evaluate("() => navigator.clipboard.readText()") == token
    assert identity_of(lab, token) == VIC
    tokens.get_by_role("button", name="Done").click()
    expect(secret).to_have_count(0)
    row = tokens.locator("tr", has_text="ci")
    row.get_by_role("button", name="Revoke").click()
    vic.locator(".jp-Dialog").get_by_role("button", name="Revoke").click()
    expect(row.get_by_role("status")).to_have_text("Revoked.")
    assert identity_of(lab, token) is None

    # the file browser's context menu on a project folder opens the page at that project
    vic.locator('.jp-SideBar li[data-id="filebrowser"]').click()
    vic.locator('.jp-DirListing-item[title^="Name: acme"]').dblclick()
    vic.locator('.jp-DirListing-item[title^="Name: analysis"]').click(button="right")
    vic.locator(".lm-Menu-item", has_text="Workspace settings").click()
    page = loaded(vic.locator("#workspace-perms-settings"))
    expect(page.locator('article[data-project="analysis"].jp-mod-focused')).to_be_visible()
    expect(page.get_by_label("Members get").first).to_be_disabled()


def test_notebook_panel_shows_the_settings_and_the_server_refuses_a_non_admin(
    fresh_lab: Lab, sign_in: SignIn, shot: Shot
) -> None:
    """Eddie opens the panel while an Admin; the owner makes him an Editor again; his
    change through the (stale) panel is refused by the server, with its message."""
    lab = fresh_lab
    notebook = python_notebook(
        [
            {
                "cell_type": "code",
                "id": cell_id,
                "metadata": {},
                "execution_count": None,
                "outputs": [],
                "source": source,
            }
            for cell_id, source in (
                (
                    "panel",
                    "from jupyter_workspace_perms.panel import WorkspacePanel\n"
                    "panel = WorkspacePanel('acme')\npanel",
                ),
                ("members", "print(sorted(m['username'] for m in panel.members))"),
                ("refresh", "panel.refresh()"),
            )
        ]
    )
    path = lab.root / "acme" / "analysis" / "panel.ipynb"
    path.write_text(json.dumps(notebook), encoding="utf-8")
    lab.api("admin", "PUT", f"workspaces/acme/members/{EDDIE}", {"role": "admin"})

    eddie = sign_in(lab, "editor", path="lab/tree/acme/analysis/panel.ipynb")
    allow_errors(eddie, r"status of 403")  # the refusal this test provokes
    cells = eddie.locator(".jp-Notebook .jp-CodeCell")
    kernel_idle(eddie)
    cells.nth(0).locator(".jp-InputArea-editor").click()
    eddie.keyboard.press("Shift+Enter")
    panel = loaded(cells.nth(0).locator(".jp-OutputArea"))
    row = member_row(panel, VIC)
    expect(row.get_by_label(f"Role of {VIC}")).to_be_enabled()

    lab.api("admin", "PUT", f"workspaces/acme/members/{EDDIE}", {"role": "editor"})
    code, body = refusal(lab, "editor", "PUT", f"workspaces/acme/members/{VIC}", {"role": "editor"})
    assert (code, body["reason"]) == (403, "role_too_low")
    row.get_by_label(f"Role of {VIC}").select_option("contributor")
    row.get_by_role("button", name="Save role").click()
    expect(row.locator('[role="alert"]')).to_have_text(body["message"], timeout=LOAD_MS)
    assert role_in(lab, "viewer") == "viewer"
    screenshot(shot, eddie, "panel-widget-refused")

    # the members reach the kernel only once Eddie chooses to share them
    panel.get_by_label("Share the member list with this notebook", exact=False).check()
    cells.nth(1).locator(".jp-InputArea-editor").click()
    eddie.keyboard.press("Shift+Enter")
    expect(cells.nth(1).locator(".jp-OutputArea-output")).to_contain_text(VIC, timeout=LOAD_MS)

    # the kernel may ask for a refresh: the view re-reads and is read-only now
    cells.nth(2).locator(".jp-InputArea-editor").click()
    eddie.keyboard.press("Shift+Enter")
    expect(row.get_by_label(f"Role of {VIC}")).to_be_disabled(timeout=LOAD_MS)
    expect(row.get_by_label(f"Role of {VIC}")).to_have_value("viewer")


def test_notebook_7_opens_the_workspace_settings(lab: Lab, sign_in: SignIn, shot: Shot) -> None:
    page = sign_in(lab, "admin", path="tree")
    # Notebook 7.6's tree page itself logs these a few seconds after it starts, with or
    # without this project's server and lab extensions (its shortcuts plugin reads the
    # schema of a plugin it never loaded)
    allow_errors(page, r"^console: Cannot convert undefined or null to object \(.*/notebook_core\.")
    allow_errors(page, r"^uncaught: Cannot read properties of undefined \(reading 'schema'\)$")
    page.evaluate("() => window.jupyterapp.commands.execute('workspace-perms:open-settings')")
    # Notebook 7 keeps its main area for the tree: the page opens in the left sidebar
    settings = loaded(page.locator("#workspace-perms-settings-sidebar"))
    expect(member_row(settings, VIC)).to_be_visible()
    screenshot(shot, page, "notebook7-settings")
