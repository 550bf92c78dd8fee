"""Duplicating a project from the file browser's context menu, in a real browser.

Real JupyterLab on the demo world, Debian's Chromium. Vic is a Viewer of ``acme`` and an
Editor of ``lab``: the menu offers her ``lab`` only (what ``GET me`` says she may create
projects in), the server copies the project and says what it left behind, and the file
browser opens the new folder. A guest, who may create projects nowhere, sees the item
disabled.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from tests.browser.conftest import Lab, Page, SignIn, allow_errors

Shot = Callable[[Page, str], Path]
LOAD_MS = 60_000
ITEM = "Duplicate to workspace…"
DIALOG = ".jp-Dialog"


def expect(target: Any) -> Any:
    from playwright.sync_api import expect as playwright_expect

    return playwright_expect(target)


def hide_toasts(page: Page) -> None:
    """Hide the notifications in the corner (JupyterLab's news question) while a dialog
    is open, so screenshots show what is under them."""
    page.add_style_tag(content=".Toastify { display: none !important; }")


def open_menu_on_analysis(page: Page) -> Any:
    """Right-click acme/analysis in the file browser; the menu's duplicate item."""
    page.evaluate("() => window.jupyterapp.shell.activateById('filebrowser')")
    # open the folder by command, not by double-click: a listing still refreshing would
    # swallow the click on a busy machine
    page.evaluate(
        "() => window.jupyterapp.commands.execute('filebrowser:go-to-path', {path: '/acme/'})"
    )
    analysis = page.locator('.jp-DirListing-item[title^="Name: analysis"]')
    expect(analysis).to_be_visible()
    expect(page.locator(".jp-BreadCrumbs")).to_contain_text("acme")
    analysis.click(button="right")
    item = page.locator(".lm-Menu-item", has_text=ITEM)
    expect(item).to_be_visible()
    return item


def test_a_viewer_duplicates_a_project_into_a_workspace_she_edits(
    lab: Lab, sign_in: SignIn, shot: Shot
) -> None:
    analysis = lab.root / "acme" / "analysis"
    (analysis / "requirements.txt").write_text("numpy\n", encoding="utf-8")
    (analysis / ".env").write_text("TOKEN=x\n", encoding="utf-8")
    (analysis / "plans-link.md").symlink_to(lab.root / "acme" / "secret-plans" / "plans.md")

    vic = sign_in(lab, "viewer")
    hide_toasts(vic)
    open_menu_on_analysis(vic).click()
    dialog = vic.locator(DIALOG)
    target = dialog.get_by_label("Target workspace")
    expect(target).to_be_visible()
    # only the workspace where the server says she may create projects
    assert target.locator("option").all_inner_texts() == ["Acme Lab (lab)"]
    shot(vic, "duplicate-dialog")
    dialog.get_by_role("button", name="Duplicate").click()

    result = vic.locator(DIALOG, has_text="Project duplicated")
    expect(result).to_be_visible(timeout=LOAD_MS)
    left = result.get_by_role("list", name="Left behind")
    expect(left).to_contain_text("environment files: requirements.txt")
    expect(left).to_contain_text("symlinks: plans-link.md")
    expect(left).to_contain_text("hidden files: 1")
    expect(left).to_contain_text("collaborators: 2")
    expect(left).to_contain_text("integration connections")
    expect(result).to_contain_text("into lab/analysis; you are its project admin")
    shot(vic, "duplicate-result")
    result.get_by_role("button", name="Close").click()

    # the file browser shows the new folder: the notebook, without what was left behind
    browser = vic.locator("#filebrowser")
    expect(browser.locator(".jp-BreadCrumbs")).to_contain_text("analysis")
    expect(browser.locator('.jp-DirListing-item[title^="Name: forecast.ipynb"]')).to_be_visible()
    expect(browser.locator('.jp-DirListing-item[title^="Name: requirements.txt"]')).to_have_count(0)
    shot(vic, "duplicate-opened")

    copy = lab.root / "lab" / "analysis"
    assert sorted(p.name for p in copy.iterdir()) == ["forecast.ipynb"]
    project = lab.api("viewer", "GET", "workspaces/lab/projects/analysis")
    assert (project["role"], project["creator"]) == ("admin", "vic@acme.example")


def test_a_guest_who_may_create_projects_nowhere_sees_the_item_disabled(
    lab: Lab, sign_in: SignIn, shot: Shot
) -> None:
    gus = sign_in(lab, "guest")
    hide_toasts(gus)
    item = open_menu_on_analysis(gus)
    expect(item).to_have_class(re.compile(r"\blm-mod-disabled\b"))
    shot(gus, "duplicate-guest-menu")


def test_the_servers_refusal_is_shown_when_the_dialog_offered_too_much(
    lab: Lab, sign_in: SignIn, shot: Shot
) -> None:
    vic = sign_in(lab, "viewer")
    hide_toasts(vic)
    open_menu_on_analysis(vic).click()
    dialog = vic.locator(DIALOG)
    expect(dialog.get_by_label("Target workspace")).to_have_value("lab")
    # while the dialog is open, an Admin makes her a Viewer of lab: the server decides
    store = lab.store()
    try:
        with store.write("test") as w:
            w.set_member("lab", lab.emails["viewer"], "viewer")
        # the server notices the change within its refresh interval (longer when busy)
        deadline = time.monotonic() + 30
        while not any(
            w["slug"] == "lab" and w["role"] == "viewer"
            for w in lab.api("viewer", "GET", "me")["workspaces"]
        ):
            assert time.monotonic() < deadline, "the server did not notice the role change"
            time.sleep(0.05)
        allow_errors(vic, r"status of 403 .*/duplicate")  # the refusal provoked here
        dialog.get_by_label("New project name").fill("mine")
        dialog.get_by_role("button", name="Duplicate").click()
        refused = vic.locator(DIALOG, has_text="Duplicate refused")
        expect(refused).to_contain_text(
            "workspace:create_project on lab needs the editor role or above", timeout=LOAD_MS
        )
        shot(vic, "duplicate-refused")
        refused.get_by_role("button", name="Close").click()
    finally:
        with store.write("test") as w:
            w.set_member("lab", lab.emails["viewer"], "editor")
        store.close()
    assert not (lab.root / "lab" / "mine").exists()
