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
from tests.browser.conftest import Lab, Page, SignIn, allow_errors, running_lab

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
    path = panel_notebook(
        lab,
        "panel.ipynb",
        [
            (
                "panel",
                "from jupyter_workspace_perms.panel import WorkspacePanel\n"
                "panel = WorkspacePanel('acme')\npanel",
            ),
            ("members", "print(sorted(m['username'] for m in panel.members))"),
            ("refresh", "panel.refresh()"),
        ],
    )
    lab.api("admin", "PUT", f"workspaces/acme/members/{EDDIE}", {"role": "admin"})

    eddie = sign_in(lab, "editor", path=path)
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
    panel.get_by_label("Share the member list of acme with this notebook", exact=False).check()
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


def panel_notebook(lab: Lab, name: str, cells: list[tuple[str, str]]) -> str:
    """A notebook of code ``cells`` (id, source) in acme/analysis; its lab path."""
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
            for cell_id, source in cells
        ]
    )
    (lab.root / "acme" / "analysis" / name).write_text(json.dumps(notebook), encoding="utf-8")
    return f"lab/tree/acme/analysis/{name}"


def run_cell(page: Page, cells: Any, n: int) -> Any:
    """Run cell ``n`` the way a person does (click, Shift+Enter); its output area."""
    cells.nth(n).locator(".jp-InputArea-editor").click()
    page.keyboard.press("Shift+Enter")
    return cells.nth(n).locator(".jp-OutputArea")


def test_adding_a_member_never_changes_a_role_and_says_when_the_newcomer_is_blocked(
    fresh_lab: Lab, sign_in: SignIn, shot: Shot
) -> None:
    """ "Add member" is for new members only: Cora (a Contributor) stays one and the page
    says why; a newcomer to acme (which enforces google) is told to be SSO-blocked."""
    lab = fresh_lab
    admin = sign_in(lab, "admin")
    allow_errors(admin, r"status of 409")  # the refusal this test provokes
    settings = open_from_palette(admin)
    add = settings.get_by_role("form", name="Add a member")
    add.get_by_label("Add a member by email").fill("cora@acme.example")
    expect(add.get_by_label("Role of the new member")).to_have_value("viewer")
    add.get_by_role("button", name="Add member").click()
    expect(add.get_by_role("alert")).to_have_text(
        "cora@acme.example is already a Contributor of acme: change their role in the "
        "members table instead",
        timeout=LOAD_MS,
    )
    assert role_in(lab, "contributor") == "contributor"
    expect(
        member_row(settings, "cora@acme.example").get_by_label("Role of cora@acme.example")
    ).to_have_value("contributor")
    screenshot(shot, admin, "add-existing-member-refused")

    add.get_by_label("Add a member by email").fill("nia@acme.example")
    add.get_by_role("button", name="Add member").click()
    expect(add.get_by_role("status")).to_have_text(
        "nia@acme.example is now a member (Viewer); they are blocked until they sign in "
        "with google.",
        timeout=LOAD_MS,
    )
    [nia] = [
        m
        for m in lab.api("admin", "GET", "workspaces/acme/members")["members"]
        if m["username"] == "nia@acme.example"
    ]
    assert (nia["role"], nia["sso_blocked"]) == ("viewer", True)
    expect(member_row(settings, "nia@acme.example")).to_contain_text("SSO-blocked")
    screenshot(shot, admin, "add-member-sso-blocked")


def test_the_owners_row_is_locked_and_date_pickers_offer_only_allowed_days(
    lab: Lab, sign_in: SignIn, shot: Shot
) -> None:
    admin = sign_in(lab, "admin")
    settings = open_from_palette(admin)
    why = "the owner's role moves only with jupyter workspace-perms set-owner"
    own = member_row(settings, "ada@acme.example")
    for control in (
        own.get_by_label("Role of ada@acme.example"),
        own.get_by_role("button", name="Save role"),
        own.get_by_role("button", name="Remove ada@acme.example"),
    ):
        expect(control).to_be_disabled()
        expect(control).to_have_attribute("title", why)
    expect(member_row(settings, VIC).get_by_label(f"Role of {VIC}")).to_be_enabled()
    expect(member_row(settings, VIC).get_by_role("button", name=f"Remove {VIC}")).to_be_enabled()

    def local_day(iso: str | None = None) -> str:
        day: str = admin.evaluate(
            "(iso) => { const d = iso ? new Date(iso) : new Date();"
            " const p = n => String(n).padStart(2, '0');"
            " return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}`; }",
            iso,
        )
        return day

    today = local_day()
    expect(settings.get_by_label("until (optional)").first).to_have_attribute("min", today)
    tokens = settings.locator('section[data-section="tokens"]')
    until = tokens.get_by_label("Expires on")
    latest = lab.api("admin", "GET", "tokens")["latest_expiry"]
    expect(until).to_have_attribute("min", today)
    expect(until).to_have_attribute("max", local_day(latest))
    screenshot(shot, admin, "owner-row-locked")

    # the last day offered works: the token ends on it, at the latest moment allowed
    until.fill(local_day(latest))
    tokens.get_by_label("Note").fill("longest")
    tokens.get_by_role("button", name="Create token").click()
    expect(tokens.get_by_role("textbox", name="New token")).to_have_value(re.compile("^wsp_"))
    [made] = [t for t in lab.api("admin", "GET", "tokens")["tokens"] if t["note"] == "longest"]
    assert local_day(made["expires_at"]) == local_day(latest)
    tokens.get_by_role("button", name="Done").click()


def test_sharing_members_with_the_kernel_is_consent_for_the_workspace_shown(
    lab: Lab, sign_in: SignIn, shot: Shot
) -> None:
    """Ticking "share" for acme does not share lab's members when a cell (or the
    workspace picker) shows lab: the consent starts over, naming the workspace."""
    path = panel_notebook(
        lab,
        "consent.ipynb",
        [
            (
                "panel",
                "from jupyter_workspace_perms.panel import WorkspacePanel\n"
                "panel = WorkspacePanel('acme')\npanel",
            ),
            ("members", "print(sorted(m['username'] for m in panel.members))"),
            ("switch", "panel.workspace = 'lab'"),
            ("again", "print(sorted(m['username'] for m in panel.members))"),
        ],
    )
    admin = sign_in(lab, "admin", path=path)
    cells = admin.locator(".jp-Notebook .jp-CodeCell")
    kernel_idle(admin)
    panel = loaded(run_cell(admin, cells, 0))
    consent = panel.locator(".jp-WorkspacePermsSettings-share")
    share = consent.get_by_role("checkbox")
    expect(consent).to_contain_text("Share the member list")
    share.check()
    expect(run_cell(admin, cells, 1)).to_contain_text(VIC, timeout=LOAD_MS)

    run_cell(admin, cells, 2)
    lab_panel = cells.nth(0).locator(LOADED + '[data-workspace="lab"]')
    expect(lab_panel).to_be_visible(timeout=LOAD_MS)
    expect(run_cell(admin, cells, 3).locator(".jp-OutputArea-output")).to_have_text(
        "[]", timeout=LOAD_MS
    )
    expect(share).not_to_be_checked()
    expect(consent).to_contain_text("Share the member list of lab with this notebook")
    consent.scroll_into_view_if_needed()
    screenshot(shot, admin, "panel-consent-reset")

    # the same when the person picks another workspace in the panel itself
    share.check()
    expect(run_cell(admin, cells, 3)).to_contain_text(VIC, timeout=LOAD_MS)
    lab_panel.get_by_label("Workspace", exact=True).select_option("acme")
    expect(cells.nth(0).locator(LOADED + '[data-workspace="acme"]')).to_be_visible(timeout=LOAD_MS)
    expect(share).not_to_be_checked()
    expect(consent).to_contain_text("Share the member list of acme with this notebook")
    expect(run_cell(admin, cells, 3).locator(".jp-OutputArea-output")).to_have_text(
        "[]", timeout=LOAD_MS
    )


def test_the_settings_say_whether_kernels_run_in_the_sandbox(
    lab: Lab, sign_in: SignIn, shot: Shot, tmp_path: Path
) -> None:
    vic = sign_in(lab, "viewer")
    note = open_from_palette(vic).locator(".jp-WorkspacePermsSettings-sandbox")
    expect(note).to_have_attribute("data-confined", "true")
    expect(note).to_contain_text("Kernel sandbox on.")
    expect(note).to_contain_text("each sees only its own project folder")
    screenshot(shot, vic, "settings-kernel-sandbox-on")

    # bubblewrap broken: kernels still run (auto), and everyone is told what it means
    with running_lab(
        tmp_path / "unconfined", "--KernelSandbox.bwrap_path=/nonexistent/bwrap"
    ) as bare:
        admin = sign_in(bare, "admin")
        warning = (
            open_from_palette(admin).get_by_role("alert").filter(has_text="Kernel sandbox off.")
        )
        expect(warning).to_be_visible()
        expect(warning).to_contain_text("can read every file the server's OS user can read")
        expect(warning).to_contain_text("'/nonexistent/bwrap' is not installed")
        screenshot(shot, admin, "settings-kernel-sandbox-off")
        status = bare.api("admin", "GET", "status")["isolation"]
        assert (status["kernels"], status["mode"]) == ("none", "auto")
