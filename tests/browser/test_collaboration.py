"""Two people in one notebook in real time: an Editor and a Contributor, two Chromium pages.

JupyterLab with jupyter-collaboration (installed by the test extra) on the demo world: each
page's notebook is the same shared document. The Editor's typing reaches the Contributor;
the Contributor's parameter value and outputs reach the Editor and the file; a code edit
forced through the Contributor's shared model is refused (the dialog says so) and reaches
neither the Editor nor the file.
"""

from __future__ import annotations

import importlib.util
import json
import time
from typing import Any

from tests.browser.conftest import Lab, SignIn, allow_errors
from tests.browser.test_core_ui import (
    CURRENT,
    LOAD_MS,
    NOTEBOOK,
    collaborative,
    editor,
    expect,
    stored,
    wait_for_idle_kernel,
)
from tests.helpers.missing import missing

if importlib.util.find_spec("jupyter_server_ydoc") is None:
    missing("jupyter-collaboration (the test extra) is needed for these tests", module=True)


def shared_source(page: Any, cell_id: str) -> str:
    found: str = page.evaluate(
        f"""() => {CURRENT}.content.widgets
            .find(c => c.model.id === {json.dumps(cell_id)}).model.sharedModel.getSource()"""
    )
    return found


def on_disk(lab: Lab, cell_id: str) -> str:
    for _ in range(50):
        try:
            text = stored(lab)[cell_id]["source"]
            return "".join(text) if isinstance(text, list) else str(text)
        except (ValueError, KeyError):
            time.sleep(0.1)
    raise AssertionError("the notebook on disk stays unreadable")


def wait_until(check: Any, timeout: float = 20.0) -> bool:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if check():
            return True
        time.sleep(0.1)
    return bool(check())


def test_editor_and_contributor_edit_one_notebook(lab: Lab, sign_in: SignIn) -> None:
    ed = sign_in(lab, "editor", path=f"lab/tree/{NOTEBOOK}")
    wait_for_idle_kernel(ed)
    assert collaborative(ed), "jupyter-collaboration is installed: the page must use rooms"
    cora = sign_in(lab, "contributor", path=f"lab/tree/{NOTEBOOK}")
    wait_for_idle_kernel(cora)
    # both pages share the notebook's kernel: comms the other page opened are unknown here
    allow_errors(ed, "Comm not found for comm id")
    forecast = shared_source(ed, "forecast")

    # the Editor's typing reaches the Contributor's page, and the file
    editor(ed, "forecast").click()
    ed.keyboard.press("Control+End")
    ed.keyboard.type("\n# shared")
    cora.wait_for_function(
        f"() => {CURRENT}.content.widgets.find(c => c.model.id === 'forecast')"
        ".model.sharedModel.getSource().endsWith('# shared')",
        timeout=LOAD_MS,
    )
    assert wait_until(lambda: on_disk(lab, "forecast").endswith("# shared"))

    # the Contributor's new parameter value reaches the Editor's page and the file
    editor(cora, "parameters").click()
    cora.keyboard.press("Control+Home")
    cora.keyboard.press("End")
    for _ in "0.05":
        cora.keyboard.press("Backspace")
    cora.keyboard.type("0.09")
    ed.wait_for_function(
        f"() => {CURRENT}.content.widgets.find(c => c.model.id === 'parameters')"
        ".model.sharedModel.getSource().startsWith('growth_rate = 0.09')",
        timeout=LOAD_MS,
    )
    assert wait_until(lambda: on_disk(lab, "parameters").startswith("growth_rate = 0.09"))

    # a code edit forced through the Contributor's shared model is refused and goes nowhere
    allow_errors(cora, "Document provider closed")
    cora.evaluate(
        f"() => {CURRENT}.content.widgets.find(c => c.model.id === 'forecast')"
        ".model.sharedModel.updateSource(0, 0, 'import os\\n')"
    )
    expect(cora.locator(".jp-Dialog", has_text="Refused: ")).to_be_visible(timeout=LOAD_MS)
    time.sleep(2)  # longer than the room's save delay
    assert not shared_source(ed, "forecast").startswith("import os")
    assert not on_disk(lab, "forecast").startswith("import os")
    assert shared_source(ed, "forecast") == forecast + "\n# shared"
