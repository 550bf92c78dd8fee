"""Access requests in the browser: asking from the notebook banner and the role popover,
deciding in the workspace settings, and the new role after a reload.

Real JupyterLab on a demo world of its own (the test changes the policy), Debian's
Chromium. Vic, a Viewer, asks for Editor on the project; the Admin approves it in the
settings page; Vic's next page load shows her as an Editor of the project.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from tests.browser.conftest import Lab, Page, SignIn, allow_errors, wait_for_lab

Shot = Callable[[Page, str], Path]
LOAD_MS = 60_000
NOTEBOOK = "acme/analysis/forecast.ipynb"
ITEM = "#jupyter-workspace-perms-whoami"
BANNER = ".jp-WorkspacePerms-banner"
POPOVER = ".jp-WorkspacePerms-whoami-popover"
DIALOG = ".jp-Dialog"
SETTINGS = "#workspace-perms-settings .jp-WorkspacePermsSettings"


def expect(target: Any) -> Any:
    from playwright.sync_api import expect as playwright_expect

    return playwright_expect(target)


def quiet(page: Page) -> None:
    """Hide the notifications in the corner (screenshots show what is under them)."""
    page.add_style_tag(content=".Toastify { display: none !important; }")


def ask(page: Page, button: Any, role: str, message: str) -> None:
    """Click "Request access", fill the dialog in and send it."""
    button.click()
    dialog = page.locator(DIALOG)
    expect(dialog).to_contain_text("Request access to acme/analysis")
    dialog.get_by_label("Role to ask for").select_option(label=role)
    dialog.get_by_label("Message (optional)").fill(message)
    dialog.get_by_role("button", name="Send request").click()
    expect(dialog).to_have_count(0)


def role_in_acme(lab: Lab, persona: str) -> Any:
    """The persona's role in acme, as the server says."""
    return next(
        w["role"] for w in lab.api(persona, "GET", "me")["workspaces"] if w["slug"] == "acme"
    )


def toast(page: Page, text: str) -> Any:
    return page.locator(".Toastify__toast", has_text=text)


def test_a_viewer_asks_for_editor_and_the_admin_approves_it(
    fresh_lab: Lab, sign_in: SignIn, shot: Shot
) -> None:
    lab = fresh_lab
    # the demo world's pending request of hers is denied: the banner says so
    [asked] = lab.api("admin", "GET", "workspaces/acme/access-requests")["requests"]
    assert (asked["username"], asked["status"]) == ("vic@acme.example", "pending")
    lab.api(
        "admin", "PATCH", f"workspaces/acme/access-requests/{asked['id']}", {"status": "denied"}
    )
    vic = sign_in(lab, "viewer", path=f"lab/tree/{NOTEBOOK}")
    banner = vic.locator(BANNER)
    expect(banner).to_contain_text("View only — you can read this notebook", timeout=LOAD_MS)
    request = banner.get_by_role("button", name="Request access")
    expect(request).to_be_visible()
    expect(banner.get_by_role("status")).to_have_text("Request for Editor: denied")

    # the dialog offers only the roles above hers
    request.click()
    dialog = vic.locator(DIALOG)
    offered = dialog.get_by_label("Role to ask for").locator("option").all_inner_texts()
    assert offered == ["Contributor", "Editor", "Admin"]
    expect(dialog).to_contain_text("You are a Viewer of acme/analysis.")
    shot(vic, "request-access-dialog")
    dialog.get_by_role("button", name="Cancel").click()

    ask(vic, request, "Editor", "I maintain the forecast model.")
    expect(toast(vic, "Request sent: Editor on acme/analysis")).to_be_visible()
    expect(banner.get_by_role("status")).to_have_text("Request for Editor: pending")
    # asking again while it is pending merges into the same request
    ask(vic, request, "Editor", "I maintain the forecast model (since March).")
    expect(toast(vic, "Merged with your pending request")).to_be_visible()
    quiet(vic)
    shot(vic, "request-access-banner")
    requests = lab.api("admin", "GET", "workspaces/acme/access-requests")["requests"]
    [pending] = [r for r in requests if r["status"] == "pending"]
    assert (pending["username"], pending["project"], pending["role"]) == (
        "vic@acme.example",
        "analysis",
        "editor",
    )
    assert pending["message"] == "I maintain the forecast model (since March)."

    # the Admin decides in the workspace settings
    admin = sign_in(lab, "admin")
    quiet(admin)
    admin.keyboard.press("Control+Shift+C")
    admin.keyboard.type("Workspace settings")
    admin.locator(".lm-CommandPalette-item", has_text="Workspace settings").first.click()
    settings = admin.locator(SETTINGS + '[aria-busy="false"]')
    expect(settings).to_be_visible(timeout=LOAD_MS)
    table = settings.get_by_role("table", name="Requests to decide")
    row = table.locator(f'tr[data-request-id="{pending["id"]}"]')
    expect(row).to_contain_text("Editor on project analysis")
    expect(row).to_contain_text("now Viewer")
    expect(row).to_contain_text("I maintain the forecast model (since March).")
    shot(admin, "request-access-settings")
    row.get_by_role("button", name="Approve").click()
    expect(row).to_contain_text(
        "Approved: vic@acme.example is now Editor on project analysis.", timeout=LOAD_MS
    )
    expect(row).to_contain_text("approved by ada@acme.example")
    expect(row.get_by_role("button", name="Approve")).to_have_count(0)
    shot(admin, "request-access-approved")

    # Vic's next page load: an Editor of the project, her cells editable, no banner
    vic.reload()
    wait_for_lab(vic)
    expect(vic.locator(ITEM)).to_contain_text("vic@acme.example · Editor", timeout=LOAD_MS)
    expect(vic.locator(BANNER)).to_be_hidden()
    quiet(vic)
    vic.locator(ITEM).click()
    popover = vic.locator(POPOVER)
    expect(popover).to_contain_text("Your request for Editor was approved by ada@acme.example")
    expect(popover.get_by_role("button", name="Request access")).to_be_visible()
    shot(vic, "request-access-after")


def test_a_refused_request_reopens_the_dialog_with_the_servers_reason(
    fresh_lab: Lab, sign_in: SignIn, shot: Shot
) -> None:
    lab = fresh_lab
    vic = sign_in(lab, "viewer", path=f"lab/tree/{NOTEBOOK}")
    allow_errors(vic, r"status of 409 .*/access-requests")  # the refusal provoked here
    quiet(vic)
    request = vic.locator(BANNER).get_by_role("button", name="Request access")
    request.click()
    dialog = vic.locator(DIALOG)
    dialog.get_by_label("Role to ask for").select_option(label="Contributor")
    dialog.get_by_label("Message (optional)").fill("To run the forecast.")

    # while the dialog is open, an Admin makes her a Contributor: the server decides
    lab.api("admin", "PUT", "workspaces/acme/members/vic@acme.example", {"role": "contributor"})
    deadline = time.monotonic() + 30
    while role_in_acme(lab, "viewer") != "contributor":
        assert time.monotonic() < deadline, "the server did not notice the role change"
        time.sleep(0.05)
    dialog.get_by_role("button", name="Send request").click()

    again = vic.locator(DIALOG)
    expect(again.get_by_role("alert")).to_contain_text("you already have the contributor role")
    # the dialog offers what is above her role now, and keeps her message
    expect(again).to_contain_text("You are a Contributor of acme/analysis.")
    role = again.get_by_label("Role to ask for")
    assert role.locator("option").all_inner_texts() == ["Editor", "Admin"]
    expect(again.get_by_label("Message (optional)")).to_have_value("To run the forecast.")
    shot(vic, "request-access-refused")
    again.get_by_role("button", name="Cancel").click()
    expect(vic.locator(DIALOG)).to_have_count(0)
    requests = lab.api("admin", "GET", "workspaces/acme/access-requests")["requests"]
    assert [r["role"] for r in requests] == ["editor"]  # the demo world's, nothing new
