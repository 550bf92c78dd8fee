"""Widgets in a shared notebook: a Contributor's slider moves for everyone, and nothing
else a Contributor's page sends reaches another page (kernel/widgets.py).

The Admin runs the demo notebook, whose third cell shows a slider and an Output widget
the kernel prints into; the Contributor opens the same notebook (the same kernel) and
moves the slider with the keyboard: both pages show the new forecast, and the Admin's page
runs nothing it did not ask for.
"""

from __future__ import annotations

from typing import Any

from tests.browser.conftest import Lab, Page, SignIn

NOTEBOOK = "acme/analysis/forecast.ipynb"
LOAD_MS = 60_000
CURRENT = "window.jupyterapp.shell.currentWidget"
SLIDER = ".jp-NotebookPanel .widget-slider .noUi-handle"
OUTPUTS = ".jp-NotebookPanel .widget-output"


def expect(target: Any) -> Any:
    from playwright.sync_api import expect as playwright_expect

    return playwright_expect(target)


def run_all_and_wait(page: Page) -> None:
    page.wait_for_function(
        f"() => {{ const k = {CURRENT}?.sessionContext?.session?.kernel;"
        " return !!k && k.status === 'idle'; }",
        timeout=LOAD_MS,
    )
    page.evaluate("() => window.jupyterapp.commands.execute('notebook:run-all-cells')")
    page.wait_for_function(
        f"() => {CURRENT}.content.widgets.every(c => c.model.type !== 'code'"
        " || c.model.executionCount !== null)"
        f" && {CURRENT}.sessionContext.session.kernel.status === 'idle'",
        timeout=LOAD_MS,
    )


def test_a_contributors_slider_moves_for_everyone(fresh_lab: Lab, sign_in: SignIn) -> None:
    ada = sign_in(fresh_lab, "admin", path=f"lab/tree/{NOTEBOOK}")
    run_all_and_wait(ada)
    expect(ada.locator(OUTPUTS).first).to_contain_text("179.59", timeout=LOAD_MS)
    ada.evaluate("() => window.jupyterapp.commands.execute('docmanager:save')")
    ada.wait_for_function(f"() => !{CURRENT}.context.model.dirty", timeout=LOAD_MS)
    title = ada.title()

    # the Contributor opens the saved notebook on the same kernel: its widgets are live
    cora = sign_in(fresh_lab, "contributor", path=f"lab/tree/{NOTEBOOK}")
    handle = cora.locator(SLIDER).first
    expect(handle).to_be_visible(timeout=LOAD_MS)
    handle.focus()
    handle.press("ArrowRight")  # growth 0.05 -> 0.06: 100 * 1.06 ** 12
    # the kernel prints into the Output widget; the Contributor's page sends what it
    # captured (text only may be sent) and the Admin's page shows it too
    for page in (cora, ada):
        expect(page.locator(OUTPUTS).first).to_contain_text("201.22", timeout=LOAD_MS)
    assert ada.title() == title
