"""What each person sees of their own standing: the role item, read-only notebooks, the
view-only banner and the join and SSO prompts.

Real JupyterLab (and Notebook 7) on the demo world, real kernels, Debian's Chromium. The
page only mirrors what the server answered; where it locks something, the test checks the
file on disk too (the lock is never written into the notebook).
"""

from __future__ import annotations

import json
import re
import urllib.request
from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest

from tests.browser.conftest import Lab, Page, SignIn, allow_errors

Shot = Callable[[Page, str], Path]
LOAD_MS = 60_000  # a kernel start or a page of requests on a busy two-core machine
NOTEBOOK = "acme/analysis/forecast.ipynb"
ITEM = "#jupyter-workspace-perms-whoami"
BANNER = ".jp-WorkspacePerms-banner-text"  # the banner's sentence (a button follows)
PANEL = ".jp-NotebookPanel"
TOOLBAR = ".jp-NotebookPanel-toolbar"
CURRENT = "window.jupyterapp.shell.currentWidget"
VIEW_ONLY = "View only — you can read this notebook"
CONTRIBUTOR_BANNER = (
    "Contributors can run cells and change parameters; ask an Editor to change cells"
)
CELL_TYPE = f'{TOOLBAR} [data-jp-item-name="cellType"] select'
POPOVER = ".jp-WorkspacePerms-whoami-popover"


def expect(target: Any) -> Any:
    from playwright.sync_api import expect as playwright_expect

    return playwright_expect(target)


def hide_toasts(page: Page) -> None:
    """Hide the notifications in the corner, so a screenshot shows what is under them."""
    page.add_style_tag(content=".Toastify { display: none !important; }")


def wait_for_idle_kernel(page: Page) -> None:
    """Until the current notebook has a kernel and it is idle."""
    page.wait_for_function(
        f"() => {{ const k = {CURRENT}?.sessionContext?.session?.kernel;"
        " return !!k && k.status === 'idle'; }",
        timeout=LOAD_MS,
    )


def cells(page: Page) -> list[dict[str, Any]]:
    """The current notebook's cells as the page holds them."""
    found: list[dict[str, Any]] = page.evaluate(
        f"""() => {CURRENT}.content.widgets.map(c => ({{
            id: c.model.id,
            type: c.model.type,
            readOnly: c.readOnly,
            editable: c.model.getMetadata('editable'),
            source: c.model.sharedModel.getSource(),
            count: c.model.type === 'code' ? c.model.executionCount : null,
        }}))"""
    )
    return found


def collaborative(page: Page) -> bool:
    """Whether the page edits documents in real-time collaboration (jupyter-collaboration
    is installed: its rooms, not REST saves, then carry every change)."""
    found: bool = page.evaluate(
        "() => { const c = document.getElementById('jupyter-config-data');"
        " return !!c && JSON.parse(c.textContent).disableRTC === false; }"
    )
    return found


def stored(lab: Lab) -> dict[str, dict[str, Any]]:
    """The notebook's cells as saved on disk, by id."""
    notebook = json.loads((lab.root / NOTEBOOK).read_text(encoding="utf-8"))
    return {cell["id"]: cell for cell in notebook["cells"]}


def source(cell: dict[str, Any]) -> str:
    text = cell["source"]
    return "".join(text) if isinstance(text, list) else str(text)


def sessions(lab: Lab, persona: str) -> list[dict[str, Any]]:
    """Jupyter's ``GET /api/sessions`` as ``persona``."""
    request = urllib.request.Request(
        lab.url("api/sessions"), headers={"Authorization": f"token {lab.tokens[persona]}"}
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        found: list[dict[str, Any]] = json.loads(response.read())
    return found


def editor(page: Page, cell_id: str) -> Any:
    """The code editor of the cell with ``cell_id`` (once the notebook has it: in a
    collaboration room its cells arrive after the panel)."""
    page.wait_for_function(
        f"() => ({CURRENT}?.content?.widgets ?? []).some(c => c.model.id === {cell_id!r})",
        timeout=LOAD_MS,
    )
    index = [c["id"] for c in cells(page)].index(cell_id)
    return page.locator(f"{PANEL} .jp-Cell").nth(index).locator(".cm-content")


def test_contributor_changes_only_the_parameters_runs_all_and_saves(
    lab: Lab, sign_in: SignIn, shot: Shot
) -> None:
    page = sign_in(lab, "contributor", path=f"lab/tree/{NOTEBOOK}")
    wait_for_idle_kernel(page)
    expect(page.locator(ITEM)).to_have_text("cora@acme.example · Contributor · membership")
    before = stored(lab)

    locked = {c["id"]: c["readOnly"] for c in cells(page)}
    assert locked == {"intro": True, "parameters": False, "forecast": True, "controls": True}
    assert all(c["editable"] is None for c in cells(page))
    expect(page.locator(BANNER)).to_have_text(CONTRIBUTOR_BANNER)

    # typing into a code cell changes nothing; the parameters cell takes a new value
    editor(page, "forecast").click()
    page.keyboard.type("import os")
    editor(page, "parameters").click()
    page.keyboard.press("Control+Home")
    page.keyboard.press("End")
    for _ in "0.05":
        page.keyboard.press("Backspace")
    page.keyboard.type("0.07")
    sources = {c["id"]: c["source"] for c in cells(page)}
    assert sources["forecast"] == source(before["forecast"])
    assert sources["parameters"].splitlines()[0] == "growth_rate = 0.07"

    # adding, deleting, moving cells is disabled and says why; its shortcut explains
    insert = page.locator(f'{TOOLBAR} jp-button[data-command="notebook:insert-cell-below"]')
    expect(insert).to_have_attribute("aria-disabled", "true")
    expect(insert).to_have_attribute("title", re.compile("ask an Editor to change cells"))
    page.keyboard.press("Escape")
    page.keyboard.press("b")
    toast = page.locator(".Toastify__toast", has_text="ask an Editor to change cells")
    expect(toast).to_be_visible()
    assert len(cells(page)) == 4

    page.get_by_role("menuitem", name="Run", exact=True).click()
    page.get_by_role("menuitem", name="Run All Cells", exact=True).click()
    page.wait_for_function(
        f"() => {CURRENT}.content.widgets.every(c => c.model.type !== 'code'"
        " || c.model.executionCount !== null)"
        f" && {CURRENT}.sessionContext.session.kernel.status === 'idle'",
        timeout=LOAD_MS,
    )
    assert "210.49" in page.locator(f"{PANEL} .jp-OutputArea-output").nth(0).inner_text()
    assert not page.locator(f"{PANEL} .jp-InputPrompt", has_text="*").count()
    expect(page.locator(PANEL, has_text="Loading widget")).to_have_count(0, timeout=LOAD_MS)
    # the widget renders: JupyterLab opens a subshell for its comms, which a Contributor
    # may (what is sent on it is judged like anything else)
    expect(page.locator(f"{PANEL} .widget-slider").first).to_be_visible(timeout=LOAD_MS)
    expect(page.locator(PANEL, has_text="Error displaying widget")).to_have_count(0)
    shot(page, "contributor-notebook")

    page.keyboard.press("Control+s")
    page.wait_for_function(f"() => !{CURRENT}.context.model.dirty", timeout=LOAD_MS)
    after = stored(lab)
    assert source(after["parameters"]).splitlines()[0] == "growth_rate = 0.07"
    for cell_id in ("intro", "forecast", "controls"):
        assert source(after[cell_id]) == source(before[cell_id]), cell_id
    assert after["forecast"]["outputs"], "the run's outputs were saved"
    assert all("editable" not in c["metadata"] for c in after.values())

    hide_toasts(page)
    page.locator(ITEM).click()
    popover = page.locator(POPOVER)
    expect(popover).to_contain_text("Acme Analytics (acme) — Contributor")
    expect(popover).to_contain_text("full: members act with their workspace role")
    expect(popover).to_contain_text("Contributor (membership)")
    expect(popover.locator('li[data-permission="project:execute"]')).to_contain_text(
        "run saved cells"
    )
    assert not popover.locator('li[data-permission="project:write"]').count()
    expect(popover.locator('li[data-permission="project:comment"]')).to_contain_text(
        "Post comments"
    )
    expect(popover.locator("li[data-permission]")).to_have_count(3)  # read, comment, execute
    # a higher role exists: she may ask for it (tests/browser/test_access_requests.py)
    expect(popover.get_by_role("button", name="Request access")).to_be_visible()
    shot(page, "contributor-notebook-popover")

    # a cell added by other means (a collaborator, an undo) is locked too, in the page only
    if collaborative(page):
        # a collaborator's change reaches the room from the file (the room watches it):
        # made in this page, the server would refuse it from a Contributor
        saved = (lab.root / NOTEBOOK).read_text(encoding="utf-8")
        notebook = json.loads(saved)
        added = {"cell_type": "code", "id": "added", "metadata": {}, "source": "x = 1"}
        notebook["cells"].append({**added, "outputs": [], "execution_count": None})
        (lab.root / NOTEBOOK).write_text(json.dumps(notebook), encoding="utf-8")
        page.wait_for_function(f"() => {CURRENT}.content.widgets.length === 5", timeout=LOAD_MS)
        assert (cells(page)[4]["readOnly"], cells(page)[4]["editable"]) == (True, None)
        (lab.root / NOTEBOOK).write_text(saved, encoding="utf-8")  # as the next tests expect
        page.wait_for_function(f"() => {CURRENT}.content.widgets.length === 4", timeout=LOAD_MS)
    else:
        page.evaluate(
            f"() => {CURRENT}.content.model.sharedModel.insertCell(4,"
            " {cell_type: 'code', source: 'x = 1'})"
        )
        assert (cells(page)[4]["readOnly"], cells(page)[4]["editable"]) == (True, None)


def test_viewer_opening_a_notebook_whose_kernel_runs_sees_the_banner_and_no_dialog(
    lab: Lab, sign_in: SignIn, shot: Shot
) -> None:
    contributor = sign_in(lab, "contributor", path=f"lab/tree/{NOTEBOOK}")
    wait_for_idle_kernel(contributor)
    assert [s["path"] for s in sessions(lab, "contributor")] == [NOTEBOOK]

    page = sign_in(lab, "viewer", path=f"lab/tree/{NOTEBOOK}", wait=False)
    page.wait_for_selector(PANEL, timeout=LOAD_MS)
    expect(page.locator(BANNER)).to_have_text(VIEW_ONLY, timeout=2000)
    # Kernel dialogs would open once the session context has initialized: wait for that.
    page.wait_for_function(
        f"() => {CURRENT}.sessionContext.ready.then(() => true)", timeout=LOAD_MS
    )
    page.wait_for_function(f"() => {CURRENT}.sessionContext.isReady", timeout=LOAD_MS)
    assert page.locator(".jp-Dialog").count() == 0
    assert page.evaluate(f"() => {CURRENT}.sessionContext.session") is None
    expect(page.locator(ITEM)).to_have_text("vic@acme.example · Viewer · membership")
    assert all(c["readOnly"] for c in cells(page))

    run = page.locator(f'{TOOLBAR} jp-button[data-command="notebook:run-cell-and-select-next"]')
    expect(run).to_have_attribute("aria-disabled", "true")
    page.locator(f"{PANEL} .jp-Cell").nth(2).click()
    page.keyboard.press("Escape")
    page.keyboard.press("Shift+Enter")  # command mode: JupyterLab's run menu shortcut
    expect(page.locator(".Toastify__toast", has_text="running cells needs")).to_be_visible()
    assert not page.locator(f"{PANEL} .jp-InputPrompt", has_text="*").count()
    assert page.locator(".jp-Dialog").count() == 0
    shot(page, "viewer-banner")

    # find, but nothing to replace in: every cell is read-only
    page.keyboard.press("Control+h")
    expect(page.get_by_placeholder("Find")).to_be_visible()
    expect(page.get_by_placeholder("Replace")).to_have_count(0)
    expect(page.locator(".jp-DocumentSearch-replace-toggle")).to_have_count(0)
    page.keyboard.press("Escape")
    hide_toasts(page)
    shot(page, "viewer-banner-quiet")


def test_joiner_joins_acme_from_the_prompt(lab: Lab, sign_in: SignIn, shot: Shot) -> None:
    page = sign_in(lab, "joiner")
    prompt = page.locator(".jp-WorkspacePerms-prompt.jp-mod-join")
    expect(prompt).to_contain_text("You can join acme as a Viewer")
    expect(page.locator(ITEM)).to_have_text("jo@acme.example")
    shot(page, "joiner-prompt")
    prompt.get_by_role("button", name="Join").click()
    expect(prompt).to_have_count(0)
    expect(page.locator(".jp-DirListing-item", has_text="acme")).to_be_visible()
    me = lab.api("joiner", "GET", "me")
    assert [(w["slug"], w["role"]) for w in me["workspaces"]] == [("acme", "viewer")]
    assert me["joinable"] == []
    page.locator(".jp-DirListing-item", has_text="acme").dblclick()
    expect(page.locator(ITEM)).to_have_text("jo@acme.example · Viewer in acme · membership")
    shot(page, "joiner-joined")


def test_member_blocked_by_enforced_sso_sees_why_the_file_browser_is_empty(
    lab: Lab, sign_in: SignIn, shot: Shot
) -> None:
    page = sign_in(lab, "blocked")
    notice = page.locator(".jp-WorkspacePerms-prompt.jp-mod-sso")
    expect(notice).to_contain_text("acme requires signing in with google")
    expect(notice).to_contain_text("You signed in with github")
    assert page.locator(".jp-DirListing-item", has_text="acme").count() == 0
    expect(page.locator(ITEM)).to_have_text("gil@acme.example")
    shot(page, "blocked-sso")


def _in_days(days: int) -> str:
    return (datetime.now(timezone.utc) + timedelta(days=days)).isoformat()


@pytest.mark.parametrize(
    ("persona", "folder", "expected"),
    [
        ("admin", "acme/analysis", "ada@acme.example · Admin · membership"),
        # the creator of a project is its project admin (a grant above the membership)
        ("editor", "acme/analysis", "eddie@acme.example · Admin of this project · creator"),
        ("editor", "acme/reports", "eddie@acme.example · Viewer · membership"),
        ("contributor", "acme/reports", "cora@acme.example · Viewer · membership"),
        ("contributor", "acme/secret-plans", "cora@acme.example · Viewer of this project · grant"),
        ("viewer", "acme", "vic@acme.example · Viewer in acme · membership"),
        ("guest", "acme/analysis", "gus.guest@gmail.com · Viewer of this project · guest"),
        (
            "guest",
            "acme/reports",
            re.compile(r"^gus\.guest@gmail\.com · Contributor of this project · guest until "),
        ),
    ],
)
def test_role_item_says_each_personas_role_and_how_it_was_obtained(
    lab: Lab, sign_in: SignIn, shot: Shot, persona: str, folder: str, expected: Any
) -> None:
    if folder == "acme/reports" and persona == "guest":
        lab.api(
            "admin",
            "PUT",
            "workspaces/acme/projects/reports/collaborators/gus.guest@gmail.com",
            {"role": "contributor", "expires_at": _in_days(30)},
        )
    # a layout of its own: the file browser's folder, no document restored from earlier tests
    page = sign_in(lab, persona, path=f"lab/workspaces/{persona}-role/tree/{folder}")
    expect(page.locator(ITEM)).to_have_text(expected)
    hide_toasts(page)
    page.locator(ITEM).click()
    popover = page.locator(POPOVER)
    expect(popover).to_contain_text(lab.emails[persona])
    if (persona, folder) == ("editor", "acme/analysis"):
        expect(popover.locator("dt:has-text('Your role') + dd")).to_have_text(
            "Admin of this project (creator)"
        )
        expect(popover).to_contain_text("Acme Analytics (acme) — Editor")
    readable_to_the_end(page, popover)
    shot(page, f"role-{persona}-{folder.replace('/', '-')}")
    if persona == "admin":  # the longest list, in a window too short for it: it scrolls
        page.set_viewport_size({"width": 1400, "height": 480})
        readable_to_the_end(page, popover)
        shot(page, "role-admin-short-window")


def readable_to_the_end(page: Page, popover: Any) -> None:
    """However long the popover's list, its last line can be scrolled into view inside
    the popover, and the popover is inside the window."""
    last = popover.locator("li").last
    last.scroll_into_view_if_needed()
    inside, item = popover.bounding_box(), last.bounding_box()
    assert inside is not None and item is not None
    assert inside["y"] >= 0 and item["y"] >= inside["y"], (item, inside)
    assert item["y"] + item["height"] <= inside["y"] + inside["height"] + 1, (item, inside)
    assert inside["y"] + inside["height"] <= page.viewport_size["height"]


def notebook_7_errors(page: Page) -> None:
    """Excuse what Notebook 7 7.6 throws now and then with or without this extension
    (seen with the lab extension disabled): its shortcuts plugin reading the schema of
    a plugin not loaded yet, and the default file browser, active on the notebook page
    too, opening the page's path with a file browser command that page lacks."""
    allow_errors(page, r"Cannot read properties of undefined \(reading 'schema'\)")
    allow_errors(page, r"Command 'filebrowser:open-path' not registered")


def test_notebook_7_shows_the_role_and_the_view_only_banner(
    lab: Lab, sign_in: SignIn, shot: Shot
) -> None:
    page = sign_in(lab, "viewer", path=f"notebooks/{NOTEBOOK}")
    notebook_7_errors(page)
    page.wait_for_selector(PANEL, timeout=LOAD_MS)
    expect(page.locator(BANNER)).to_have_text(VIEW_ONLY)
    expect(page.locator(ITEM)).to_have_text("vic@acme.example · Viewer · membership")
    page.wait_for_function(f"() => {CURRENT}.sessionContext.isReady", timeout=LOAD_MS)
    assert page.locator(".jp-Dialog").count() == 0
    assert all(c["readOnly"] for c in cells(page))
    shot(page, "notebook7-viewer")

    tree = sign_in(lab, "blocked", path="tree")
    notebook_7_errors(tree)
    expect(tree.locator(".jp-WorkspacePerms-prompt.jp-mod-sso")).to_contain_text(
        "acme requires signing in with google"
    )
    expect(tree.locator(ITEM)).to_have_text("gil@acme.example")
    shot(tree, "notebook7-blocked")


def test_viewer_promoted_to_contributor_runs_a_cell_on_the_next_try(
    fresh_lab: Lab, sign_in: SignIn, shot: Shot
) -> None:
    page = sign_in(fresh_lab, "viewer", path=f"lab/tree/{NOTEBOOK}")
    page.wait_for_selector(PANEL, timeout=LOAD_MS)
    expect(page.locator(BANNER)).to_have_text(VIEW_ONLY)
    fresh_lab.api(
        "admin", "PUT", "workspaces/acme/members/vic@acme.example", {"role": "contributor"}
    )

    # The next try asks the server again: the page follows, starts a kernel and runs.
    editor(page, "forecast").click()
    page.keyboard.press("Escape")
    page.keyboard.press("Shift+Enter")
    page.wait_for_function(
        f"() => {CURRENT}.content.widgets[2].model.executionCount !== null", timeout=LOAD_MS
    )
    expect(page.locator(BANNER)).to_have_text(CONTRIBUTOR_BANNER)
    expect(page.locator(ITEM)).to_have_text("vic@acme.example · Contributor · membership")
    assert page.locator(".jp-Dialog").count() == 0
    shot(page, "viewer-promoted")


def test_contributor_cannot_retype_a_locked_cell_from_the_toolbar(
    lab: Lab, sign_in: SignIn, shot: Shot
) -> None:
    page = sign_in(lab, "contributor", path=f"lab/tree/{NOTEBOOK}")
    expect(page.locator(BANNER)).to_have_text(CONTRIBUTOR_BANNER)
    dropdown = page.locator(CELL_TYPE)
    page.locator(f"{PANEL} .jp-Cell").nth(0).click()  # the markdown cell
    expect(dropdown).to_have_value("markdown")
    expect(dropdown).to_be_disabled()
    expect(dropdown).to_have_attribute("title", re.compile("ask an Editor to change cells$"))
    # the parameters cell keeps its type too (the server would refuse the save)
    editor(page, "parameters").click()
    expect(dropdown).to_have_value("code")
    expect(dropdown).to_be_disabled()
    shot(page, "contributor-cell-type")
    assert [c["type"] for c in cells(page)] == ["markdown", "code", "code", "code"]

    # where cells may change, the dropdown works as JupyterLab made it
    editor_page = sign_in(lab, "editor", path=f"lab/tree/{NOTEBOOK}")
    editor_page.wait_for_selector(PANEL, timeout=LOAD_MS)
    editor_page.locator(f"{PANEL} .jp-Cell").nth(0).click()
    other = editor_page.locator(CELL_TYPE)
    expect(other).to_have_value("markdown")
    expect(other).to_be_enabled()
    expect(other).to_have_attribute("title", "Select the cell type")


def test_find_and_replace_leaves_read_only_cells_alone(
    lab: Lab, sign_in: SignIn, shot: Shot
) -> None:
    page = sign_in(lab, "contributor", path=f"lab/tree/{NOTEBOOK}")
    expect(page.locator(BANNER)).to_have_text(CONTRIBUTOR_BANNER)
    page.wait_for_function(f"() => {CURRENT}.context.isReady", timeout=LOAD_MS)
    before = {c["id"]: c["source"] for c in cells(page)}

    editor(page, "forecast").click()
    page.keyboard.press("Escape")
    page.keyboard.press("Control+h")
    page.get_by_placeholder("Find").fill("forecast")
    page.get_by_placeholder("Replace").fill("HACK")
    counter = page.locator(".jp-DocumentSearch-index-counter")
    expect(counter).to_have_text(re.compile(r"/\s*3$"))  # in the markdown and the code
    page.get_by_role("button", name="Replace All").click()
    # the replacement runs as the click is handled: read the cells right after it
    after = {c["id"]: c["source"] for c in cells(page)}
    assert after == before
    toast = page.locator(".Toastify__toast", has_text="Not replaced in read-only cells")
    expect(toast).to_contain_text("ask an Editor to change cells")
    expect(toast).to_be_in_viewport(ratio=1)  # slid in
    shot(page, "replace-read-only")

    # "Replace" steps over a match in a read-only cell instead of changing it
    page.get_by_role("button", name="Replace", exact=True).click()
    assert {c["id"]: c["source"] for c in cells(page)} == before

    # a parameter value still takes a replacement, and saves
    page.get_by_placeholder("Find").fill("= 100.0")
    page.get_by_placeholder("Replace").fill("= 100.00")
    expect(counter).to_have_text(re.compile(r"/\s*1$"))
    page.get_by_role("button", name="Replace All").click()
    changed = {c["id"]: c["source"] for c in cells(page)}
    assert changed == {**before, "parameters": before["parameters"].replace("= 100.0", "= 100.00")}
    page.keyboard.press("Escape")
    editor(page, "parameters").click()
    page.keyboard.press("Control+s")
    page.wait_for_function(f"() => !{CURRENT}.context.model.dirty", timeout=LOAD_MS)
    assert "start_revenue = 100.00" in source(stored(lab)["parameters"])
    assert source(stored(lab)["forecast"]) == before["forecast"]


def refused_live(lab: Lab, page: Page, shot: Shot, on_disk: str) -> None:
    """In a collaboration room the change itself is refused, before any save: the dialog
    says so, nothing reaches the file, and Reload brings the current document back."""
    allow_errors(page, "Document provider closed")  # the room socket the server closed
    dialog = page.locator(".jp-Dialog", has_text="Refused: ")
    expect(dialog).to_contain_text("editing code or text needs write access")
    expect(dialog).to_contain_text("Reload to resync")
    shot(page, "change-refused")
    page.wait_for_timeout(1500)  # longer than the room's save delay
    assert source(stored(lab)["forecast"]) == on_disk
    with page.expect_navigation():
        dialog.get_by_role("button", name="Reload", exact=True).click()
    page.wait_for_function(f"() => {CURRENT}?.context?.isReady", timeout=LOAD_MS)
    page.wait_for_function(f"() => {CURRENT}.content.widgets.length === 4", timeout=LOAD_MS)
    assert {c["id"]: c["source"] for c in cells(page)}["forecast"] == on_disk


def test_a_refused_save_says_how_to_get_back(lab: Lab, sign_in: SignIn, shot: Shot) -> None:
    page = sign_in(lab, "contributor", path=f"lab/tree/{NOTEBOOK}")
    allow_errors(page, r"status of 403 \(merge_refused\)")  # the refused PUT itself
    expect(page.locator(BANNER)).to_have_text(CONTRIBUTOR_BANNER)
    page.wait_for_function(f"() => {CURRENT}.context.isReady", timeout=LOAD_MS)
    on_disk = source(stored(lab)["forecast"])

    # a read-only cell changed by other means than typing (a script, another extension)
    page.evaluate(
        f"() => {CURRENT}.content.widgets[2].model.sharedModel.setSource('forecast = []')"
    )
    if collaborative(page):
        refused_live(lab, page, shot, on_disk)
        return
    editor(page, "parameters").click()
    page.keyboard.press("Control+s")
    # JupyterLab's own dialog, with the server's message naming the cell
    dialog = page.locator(".jp-Dialog", has_text="File Save Error")
    expect(dialog).to_contain_text('cell 3 ("forecast = []") was edited')
    dialog.get_by_role("button", name="Close").click()
    toast = page.locator(".Toastify__toast", has_text="Save refused")
    expect(toast).to_contain_text(
        "Undo your changes to those cells, or use File → Reload Notebook from Disk;"
        " your outputs are saved once the cells match."
    )
    expect(toast).to_be_in_viewport(ratio=1)  # slid in
    shot(page, "save-refused")
    assert page.evaluate(f"() => {CURRENT}.context.model.dirty") is True
    assert source(stored(lab)["forecast"]) == on_disk

    toast.get_by_role("button", name="Reload from disk").click()
    page.locator(".jp-Dialog").get_by_role("button", name="Reload", exact=True).click()
    page.wait_for_function(f"() => !{CURRENT}.context.model.dirty", timeout=LOAD_MS)
    assert {c["id"]: c["source"] for c in cells(page)}["forecast"] == on_disk
    expect(toast).to_have_count(0)
    page.keyboard.press("Control+s")
    page.wait_for_function(f"() => !{CURRENT}.context.model.dirty", timeout=LOAD_MS)
    assert page.locator(".jp-Dialog").count() == 0
