"""Comments in the browser: the right sidebar, live refresh, cell markers, anchors.

Real JupyterLab on the demo world, Debian's Chromium, two people at once (each in a
browser context of their own). Every comment is posted the way a person posts it (the
sidebar's form) and read the way the other person reads it (their own sidebar, which
polls while it is open). What each may do with a thread is the server's ``can``: the
page shows only those buttons.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from tests.browser.conftest import Lab, Page, SignIn, allow_errors
from tests.browser.test_core_ui import notebook_7_errors

Shot = Callable[[Page, str], Path]
LOAD_MS = 60_000
LIVE_MS = 2_000  # another person's comment shows within two seconds
NOTEBOOK = "acme/analysis/forecast.ipynb"
SIDEBAR = "#jupyter-workspace-perms-comments"
THREAD = ".jp-WorkspacePerms-thread"
MARKER = ".jp-wsp-comment-marker"
PANEL = ".jp-NotebookPanel"
CURRENT = "window.jupyterapp.shell.currentWidget"
OUTDATED = "outdated — the cell changed since"
# a comment whose HTML would run script if it were rendered as given
HOSTILE = (
    "**Check** the growth rate <img src=x onerror=\"window.__wspPwned='img'\">"
    "<script>window.__wspPwned='script'</script>"
)


def expect(target: Any) -> Any:
    from playwright.sync_api import expect as playwright_expect

    return playwright_expect(target)


def quiet(page: Page) -> None:
    """Hide the notifications in the corner, so screenshots show what is under them."""
    page.add_style_tag(content=".Toastify { display: none !important; }")


def open_notebook(lab: Lab, sign_in: SignIn, persona: str) -> Page:
    page = sign_in(lab, persona, path=f"lab/tree/{NOTEBOOK}")
    page.wait_for_selector(f"{PANEL} .jp-Cell", timeout=LOAD_MS)
    page.wait_for_function(f"() => {CURRENT}?.context?.isReady", timeout=LOAD_MS)
    quiet(page)
    return page


def open_sidebar(page: Page) -> Any:
    """Open the comments sidebar from its tab in the right side bar."""
    page.locator('.jp-SideBar.jp-mod-right .lm-TabBar-tab[title="Comments"]').click()
    sidebar = page.locator(SIDEBAR)
    expect(sidebar).to_be_visible()
    expect(sidebar.locator('[aria-busy="false"]')).to_be_visible(timeout=LOAD_MS)
    return sidebar


def cell(page: Page, cell_id: str) -> Any:
    """The cell widget (its DOM node) with ``cell_id`` in the current notebook."""
    ids: list[str] = page.evaluate(f"() => {CURRENT}.content.widgets.map(c => c.model.id)")
    return page.locator(f"{PANEL} .jp-Cell").nth(ids.index(cell_id))


def select_first_word(page: Page, cell_id: str) -> None:
    """Put the cursor in the cell's editor and select its first word, as a person does."""
    cell(page, cell_id).locator(".cm-content").click()
    page.keyboard.press("Control+Home")
    page.keyboard.press("Control+Shift+ArrowRight")


def post(sidebar: Any, body: str) -> None:
    form = sidebar.get_by_role("region", name="New comment")
    form.get_by_label("New comment").fill(body)
    form.get_by_role("button", name="Comment", exact=True).click()


def test_a_viewers_comment_reaches_an_editor_live_and_goes_outdated_when_the_cell_changes(
    lab: Lab, sign_in: SignIn, shot: Shot
) -> None:
    vic = open_notebook(lab, sign_in, "viewer")
    eddie = open_notebook(lab, sign_in, "editor")
    eddie_sidebar = open_sidebar(eddie)
    forecast_threads = '.jp-WorkspacePerms-comments-group[data-cell-id="forecast"]'
    expect(eddie_sidebar.locator(forecast_threads)).to_have_count(0)

    # Vic, who may not edit the notebook, comments on a word of the forecast cell
    vic_sidebar = open_sidebar(vic)
    select_first_word(vic, "forecast")
    form = vic_sidebar.get_by_role("region", name="New comment")
    expect(form.get_by_role("heading")).to_contain_text("Comment on Cell 3 · forecast = [")
    post(vic_sidebar, HOSTILE)
    mine = vic_sidebar.locator(THREAD, has_text="the growth rate")
    expect(mine).to_be_visible(timeout=LOAD_MS)

    # Eddie's open sidebar shows it within two seconds, with its quote and author
    theirs = eddie_sidebar.locator(THREAD, has_text="the growth rate")
    expect(theirs).to_be_visible(timeout=LIVE_MS)
    expect(theirs.locator(".jp-WorkspacePerms-thread-quote")).to_have_text("forecast")
    expect(theirs).to_contain_text("vic@acme.example")
    group = eddie_sidebar.locator(forecast_threads)
    expect(group.locator("h3")).to_contain_text("Cell 3 · forecast = [")

    # the Markdown is rendered, its HTML sanitized: no script ran in either page
    body = theirs.locator(".jp-WorkspacePerms-comment-body")
    expect(body.locator("strong")).to_have_text("Check")
    assert body.locator("script").count() == 0
    img = body.locator("img")
    assert img.count() == 0 or img.first.get_attribute("onerror") is None
    for page in (vic, eddie):
        assert page.evaluate("() => window.__wspPwned") is None

    # the server decides who may do what: Vic, the author, edits, resolves and
    # deletes her own thread; Eddie (an Editor) resolves it but may not edit it
    for button in ("Reply", "Resolve", "Edit", "Delete"):
        expect(mine.get_by_role("button", name=button, exact=True)).to_be_visible()
    for button in ("Reply", "Resolve"):
        expect(theirs.get_by_role("button", name=button, exact=True)).to_be_visible()
    expect(theirs.get_by_role("button", name="Edit", exact=True)).to_have_count(0)

    # the commented cell carries a marker in Eddie's notebook
    marker = cell(eddie, "forecast").locator(MARKER)
    expect(marker).to_have_text("1")
    assert cell(eddie, "intro").locator(MARKER).count() == 0
    shot(eddie, "comments-editor-sidebar")
    shot(vic, "comments-viewer-sidebar")

    # Eddie replies; Vic sees the reply
    theirs.get_by_role("button", name="Reply", exact=True).click()
    theirs.get_by_label("Reply").fill("Good catch, I will *fix* it.")
    theirs.get_by_role("button", name="Reply", exact=True).click()
    expect(mine.locator(".jp-mod-reply")).to_contain_text("Good catch, I will fix it.")
    expect(mine.locator(".jp-mod-reply em")).to_have_text("fix")

    # Eddie changes the cell and saves: the thread is outdated, for both of them
    cell(eddie, "forecast").locator(".cm-content").click()
    eddie.keyboard.press("Control+End")
    eddie.keyboard.type("  # checked")
    eddie.keyboard.press("Control+s")
    eddie.wait_for_function(f"() => !{CURRENT}.context.model.dirty", timeout=LOAD_MS)
    expect(theirs.locator(".jp-WorkspacePerms-thread-anchor")).to_have_text(
        OUTDATED, timeout=LOAD_MS
    )
    expect(mine.locator(".jp-WorkspacePerms-thread-anchor")).to_have_text(OUTDATED)
    expect(theirs.locator(".jp-WorkspacePerms-thread-quote")).to_have_text("forecast")
    shot(eddie, "comments-outdated")

    # Eddie resolves it: it leaves the open threads, and the marker goes
    theirs.get_by_role("button", name="Resolve", exact=True).click()
    expect(theirs).to_have_count(0)
    expect(marker).to_have_count(0)
    expect(mine).to_have_count(0)
    vic_sidebar.get_by_label("Which threads to show").select_option("resolved")
    resolved = vic_sidebar.locator(THREAD, has_text="the growth rate")
    expect(resolved).to_contain_text("Resolved by eddie@acme.example")
    expect(resolved.get_by_role("button", name="Reopen", exact=True)).to_be_visible()
    for page in (vic, eddie):
        assert page.evaluate("() => window.__wspPwned") is None


def test_an_editors_thread_offers_a_viewer_only_a_reply_and_refusals_show_inline(
    lab: Lab, sign_in: SignIn, shot: Shot
) -> None:
    thread = lab.api(
        "editor",
        "POST",
        "comments",
        {"path": NOTEBOOK, "cell_id": "forecast", "body": "Should months be 24?"},
    )
    vic = open_notebook(lab, sign_in, "viewer")

    # the marker opens the sidebar at the cell's threads
    marker = cell(vic, "forecast").locator(MARKER)
    expect(marker).to_have_text("1", timeout=LOAD_MS)
    marker.click()
    sidebar = vic.locator(SIDEBAR)
    expect(sidebar).to_be_visible()
    group = sidebar.locator('.jp-WorkspacePerms-comments-group[data-cell-id="forecast"]')
    expect(group).to_have_class("jp-WorkspacePerms-comments-group jp-mod-focused")
    found = group.locator(THREAD, has_text="Should months be 24?")
    expect(found).to_be_visible()

    # not hers and no project:write: she may reply, nothing else
    expect(found.get_by_role("button", name="Reply", exact=True)).to_be_visible()
    for button in ("Resolve", "Edit", "Delete"):
        expect(found.get_by_role("button", name=button, exact=True)).to_have_count(0)
    shot(vic, "comments-marker-opened")

    # a refusal is the server's sentence, shown next to the form that caused it. The
    # browser sends what it considers text (its trim() keeps an information separator);
    # the server's rule is Python's whitespace, so the body is blank and refused.
    allow_errors(vic, r"status of 400 .*/api/workspace-perms/comments")
    cell(vic, "parameters").locator(".cm-content").click()
    post(sidebar, "\x1f")
    alert = sidebar.get_by_role("region", name="New comment").get_by_role("alert")
    expect(alert).to_contain_text("a comment needs some text", timeout=LOAD_MS)
    shot(vic, "comments-refused")

    # the Editor deletes the thread: it leaves her sidebar, and the marker goes
    lab.api("editor", "DELETE", f"comments/{thread['id']}")
    expect(sidebar.locator(THREAD, has_text="Should months be 24?")).to_have_count(0)
    expect(marker).to_have_count(0)


def test_notebook_7_shows_markers_and_the_sidebar(lab: Lab, sign_in: SignIn, shot: Shot) -> None:
    lab.api(
        "contributor",
        "POST",
        "comments",
        {"path": NOTEBOOK, "cell_id": "controls", "body": "The slider could go to 0.3."},
    )
    vic = sign_in(lab, "viewer", path=f"notebooks/{NOTEBOOK}")
    notebook_7_errors(vic)
    vic.wait_for_selector(f"{PANEL} .jp-Cell", timeout=LOAD_MS)
    quiet(vic)
    marker = cell(vic, "controls").locator(MARKER)
    expect(marker).to_have_text("1", timeout=LOAD_MS)
    marker.click()
    sidebar = vic.locator(SIDEBAR)
    expect(sidebar).to_be_visible()
    expect(sidebar.locator(THREAD, has_text="The slider could go to 0.3.")).to_be_visible()
    # a new comment goes to the cell whose marker was clicked
    form = sidebar.get_by_role("region", name="New comment")
    expect(form.get_by_role("heading")).to_contain_text("Comment on Cell 4 · import ipywidgets")
    shot(vic, "comments-notebook7")


def test_a_comment_on_a_text_file_quotes_the_selected_text(
    lab: Lab, sign_in: SignIn, shot: Shot
) -> None:
    report = "acme/reports/q3.md"
    vic = sign_in(lab, "viewer", path=f"lab/tree/{report}")
    editor = vic.locator(".jp-FileEditor .cm-content")
    expect(editor).to_contain_text("Revenue grew 12%.", timeout=LOAD_MS)
    quiet(vic)
    sidebar = open_sidebar(vic)
    form = sidebar.get_by_role("region", name="New comment")
    expect(form.get_by_role("heading")).to_have_text("Comment on this file")
    editor.click()
    for key in ("Control+Home", "ArrowDown", "ArrowDown", "Shift+End"):  # the third line
        vic.keyboard.press(key)
    post(sidebar, "Which quarter is this compared with?")
    thread = sidebar.locator(THREAD, has_text="Which quarter")
    expect(thread).to_be_visible(timeout=LOAD_MS)
    expect(thread.locator(".jp-WorkspacePerms-thread-quote")).to_have_text("Revenue grew 12%.")
    [stored] = lab.api("viewer", "GET", f"comments?path={report}")["threads"]
    assert (stored["cell_id"], stored["anchor_state"]) == (None, "current")
    shot(vic, "comments-text-file")


def test_a_thread_whose_cell_is_deleted_is_kept_as_orphaned(
    lab: Lab, sign_in: SignIn, shot: Shot
) -> None:
    lab.api(
        "viewer",
        "POST",
        "comments",
        {"path": NOTEBOOK, "cell_id": "intro", "body": "Say which currency."},
    )
    eddie = open_notebook(lab, sign_in, "editor")
    sidebar = open_sidebar(eddie)
    thread = sidebar.locator(THREAD, has_text="Say which currency.")
    expect(thread).to_be_visible()

    # Eddie deletes the commented cell and saves
    cell(eddie, "intro").click()
    eddie.keyboard.press("Escape")
    eddie.keyboard.press("d")
    eddie.keyboard.press("d")
    eddie.wait_for_function(f"() => !{CURRENT}.content.widgets.some(c => c.model.id === 'intro')")
    eddie.keyboard.press("Control+s")
    eddie.wait_for_function(f"() => !{CURRENT}.context.model.dirty", timeout=LOAD_MS)

    gone = sidebar.locator(".jp-WorkspacePerms-comments-group:not([data-cell-id])").filter(
        has_text="Cells no longer in the notebook"
    )
    orphan = gone.locator(THREAD, has_text="Say which currency.")
    expect(orphan.locator(".jp-WorkspacePerms-thread-anchor")).to_have_text(
        "orphaned — the cell or file is gone", timeout=LOAD_MS
    )
    expect(orphan.locator(".jp-WorkspacePerms-thread-quote")).to_contain_text("# Revenue forecast")
    shot(eddie, "comments-orphaned")
