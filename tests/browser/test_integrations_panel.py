"""Integrations in the workspace settings, in the browser.

Ada (Admin) creates an integration with a secret through the page: the secret is in no
DOM attribute, text or input afterwards. Eddie (Editor) connects it to ``analysis``
while a kernel of it runs: the page says to restart it, and after the restart the
kernel holds the secret. Vic (Viewer) sees the integration and the connection, with no
control. Each change is checked through the REST API (and the stored values through
the store, with the server's key: values never come back through the API).

The tests share one JupyterLab (``lab``) and each works on integrations of its own.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from jupyter_workspace_perms.store.integrations import Integrations
from tests.browser.conftest import Lab, Page, SignIn, allow_errors
from tests.browser.test_settings import (
    LOAD_MS,
    expect,
    kernel_idle,
    open_from_palette,
    refusal,
    screenshot,
)

Shot = Callable[[Page, str], Path]
SECRET = "wsp-8c41f2e7-secret-never-in-the-page"
ADA = "ada@acme.example"
EDDIE = "eddie@acme.example"
FORECAST = "lab/tree/acme/analysis/forecast.ipynb"


def section(view: Any) -> Any:
    """The Integrations section of a settings view."""
    return view.locator('section[data-section="integrations"]')


def card(view: Any, name: str) -> Any:
    """The card of integration ``name`` in the Integrations section."""
    return section(view).locator(f'article[data-integration="{name}"]')


def connections(view: Any, project: str) -> Any:
    """The "Integrations connected to …" part of a project's card."""
    return view.locator(f'article[data-project="{project}"]').get_by_role(
        "group", name=f"Integrations connected to {project}"
    )


def integrations(lab: Lab, persona: str = "viewer") -> dict[str, Any]:
    """The workspace's integrations by name, as ``persona`` reads them through the API."""
    found = lab.api(persona, "GET", "workspaces/acme/integrations")["integrations"]
    return {i["name"]: i for i in found}


def connected(lab: Lab, project: str, persona: str = "viewer") -> list[str]:
    """The names of the integrations connected to ``project``, through the API."""
    found = lab.api(persona, "GET", f"workspaces/acme/projects/{project}/integrations")
    return [c["name"] for c in found["integrations"]]


def stored(lab: Lab, project: str) -> dict[str, str]:
    """The decrypted variables kernels of ``project`` get (the server's own key)."""
    store = lab.store()
    try:
        found = store.snapshot.project_named("acme", project)
        assert found is not None
        key = lab.root.parent / "data" / "workspace_perms" / "integrations.key"
        return Integrations(store=store, key_file=str(key)).secrets_for(found.id).variables
    finally:
        store.close()


def secret_anywhere(page: Page, secret: str) -> list[str]:
    """Where ``secret`` is in the page: its HTML, or the value of any input."""
    found = ["html"] if secret in page.content() else []
    values: list[str] = page.evaluate(
        "(s) => Array.from(document.querySelectorAll('input, textarea'))"
        " .filter(i => i.value.includes(s)).map(i => i.outerHTML)",
        secret,
    )
    return found + values


def run_in_kernel(page: Page, code: str) -> str:
    """Run ``code`` in the kernel of the notebook open in the page; its printed output."""
    out: str = page.evaluate(
        """async (code) => {
          const shell = window.jupyterapp.shell;
          const notebook = Array.from(shell.widgets('main')).find(w => w.sessionContext);
          const kernel = notebook.sessionContext.session.kernel;
          const future = kernel.requestExecute({ code, store_history: false });
          let out = '';
          future.onIOPub = msg => {
            if (msg.header.msg_type === 'stream') { out += msg.content.text; }
            if (msg.header.msg_type === 'error') { out += msg.content.evalue; }
          };
          await future.done;
          return out;
        }""",
        code,
    )
    return out.strip()


def restart_kernel(page: Page) -> None:
    """Restart the notebook's kernel (no dialog) and wait until it is idle again."""
    page.evaluate(
        """async () => {
          const shell = window.jupyterapp.shell;
          const notebook = Array.from(shell.widgets('main')).find(w => w.sessionContext);
          await notebook.sessionContext.session.kernel.restart();
        }"""
    )
    page.wait_for_function(
        "() => Array.from(window.jupyterapp.shell.widgets('main'))"
        " .find(w => w.sessionContext)?.sessionContext?.session?.kernel?.status === 'idle'",
        timeout=LOAD_MS,
    )


def test_admin_creates_editor_connects_viewer_sees_and_the_secret_stays_hidden(
    lab: Lab, sign_in: SignIn, shot: Shot
) -> None:
    # Ada creates "warehouse" with a secret, through the page
    admin = sign_in(lab, "admin")
    allow_errors(admin, r"status of 409")  # the duplicate name provoked below
    settings = open_from_palette(admin)
    create = section(settings).get_by_role("form", name="Create an integration")
    create.get_by_label("Name", exact=True).fill("warehouse")
    create.get_by_label("Name of new variable 1 of the new integration").fill("DB_PASSWORD")
    value = create.get_by_label("Value of new variable 1 of the new integration")
    expect(value).to_have_attribute("type", "password")
    expect(value).to_have_attribute("autocomplete", "off")
    value.fill(SECRET)
    assert SECRET not in admin.content()  # typed, yet in no attribute
    create.get_by_role("button", name="Add another variable").click()
    create.get_by_label("Name of new variable 2 of the new integration").fill("DB_USER")
    create.get_by_label("Value of new variable 2 of the new integration").fill("analyst")
    screenshot(shot, admin, "integrations-admin-typing")
    create.get_by_role("button", name="Create integration").click()
    expect(create.get_by_role("status")).to_have_text(
        "Created warehouse with DB_PASSWORD, DB_USER.", timeout=LOAD_MS
    )

    made = integrations(lab)["warehouse"]
    assert [v["name"] for v in made["variables"]] == ["DB_PASSWORD", "DB_USER"]
    assert (made["created_by"], made["projects"]) == (ADA, [])
    assert stored(lab, "analysis") == {}  # not connected yet

    warehouse = card(settings, "warehouse")
    row = warehouse.get_by_role("table", name="Variables of warehouse").locator(
        'tr[data-variable="DB_PASSWORD"]'
    )
    expect(row).to_contain_text(f"••••• set by {ADA} on ")
    expect(warehouse).to_contain_text("Not connected to any project you can see")
    assert secret_anywhere(admin, SECRET) == []
    assert secret_anywhere(admin, "analyst") == []
    expect(section(settings).locator('input[type="password"]')).not_to_have_count(0)
    for field in section(settings).locator('input[type="password"]').all():
        expect(field).to_have_value("")
    warehouse.scroll_into_view_if_needed()
    screenshot(shot, admin, "integrations-admin-created")

    # a refusal is the server's, shown beside the form that caused it
    code, body = refusal(
        lab, "admin", "POST", "workspaces/acme/integrations", {"name": "warehouse"}
    )
    assert code == 409, body
    create.get_by_label("Name", exact=True).fill("warehouse")
    create.get_by_role("button", name="Create integration").click()
    expect(create.get_by_role("alert")).to_have_text(body["message"], timeout=LOAD_MS)
    create.scroll_into_view_if_needed()
    screenshot(shot, admin, "integrations-admin-refused")

    # Eddie has a kernel of analysis running, then connects warehouse to analysis
    eddie = sign_in(lab, "editor", path=FORECAST)
    kernel_idle(eddie)
    assert run_in_kernel(eddie, "import os; print('DB_PASSWORD' in os.environ)") == "False"
    page = open_from_palette(eddie)
    expect(section(page).get_by_role("form", name="Create an integration")).to_have_count(0)
    expect(section(page).get_by_text("Read only:", exact=False)).to_be_visible()
    analysis = connections(page, "analysis")
    expect(analysis).to_contain_text("None: kernels of analysis get no workspace secrets.")
    analysis.get_by_label("Connect", exact=True).select_option("warehouse")
    analysis.get_by_role("button", name="Connect", exact=True).click()
    hint = analysis.get_by_role("status")
    expect(hint).to_contain_text("Connected warehouse.", timeout=LOAD_MS)
    expect(hint).to_contain_text("started or restarted from now on")
    expect(hint).to_contain_text("1 kernel of analysis is running now: restart it to apply")
    item = analysis.get_by_role("list", name="Integrations connected to analysis").locator(
        'li[data-integration="warehouse"]'
    )
    expect(item).to_contain_text(f"warehouse (DB_PASSWORD, DB_USER) · connected by {EDDIE}")
    expect(card(page, "warehouse")).to_contain_text("Connected to analysis")
    analysis.scroll_into_view_if_needed()
    screenshot(shot, eddie, "integrations-editor-connected")

    assert connected(lab, "analysis") == ["warehouse"]
    assert integrations(lab)["warehouse"]["projects"] == ["analysis"]
    assert stored(lab, "analysis") == {"DB_PASSWORD": SECRET, "DB_USER": "analyst"}
    # what the hint says: the running kernel has not got it, a restarted one has
    digest = hashlib.sha256(SECRET.encode()).hexdigest()
    check = (
        "import hashlib, os\n"
        "print(hashlib.sha256(os.environ.get('DB_PASSWORD', '').encode()).hexdigest()"
        f" == {digest!r})"
    )
    assert run_in_kernel(eddie, check) == "False"
    restart_kernel(eddie)
    assert run_in_kernel(eddie, check) == "True"
    assert secret_anywhere(eddie, SECRET) == []

    # Vic sees the integration and where it is connected, and no control
    vic = sign_in(lab, "viewer")
    view = open_from_palette(vic)
    expect(card(view, "warehouse")).to_contain_text("Connected to analysis")
    expect(card(view, "warehouse").locator('tr[data-variable="DB_USER"]')).to_contain_text(
        "••••• set by "
    )
    expect(section(view).locator("button, input, select, textarea")).to_have_count(0)
    vic_analysis = connections(view, "analysis")
    expect(vic_analysis.locator('li[data-integration="warehouse"]')).to_be_visible()
    expect(vic_analysis.locator("button, input, select, textarea")).to_have_count(0)
    assert secret_anywhere(vic, SECRET) == []
    section(view).scroll_into_view_if_needed()
    screenshot(shot, vic, "integrations-viewer")
    vic_analysis.scroll_into_view_if_needed()
    screenshot(shot, vic, "integrations-viewer-project")
    # and the server refuses her what the page does not offer
    code, body = refusal(
        lab, "viewer", "PUT", "workspaces/acme/projects/analysis/integrations/warehouse", {}
    )
    assert code == 403, body


def test_admin_sets_removes_renames_and_deletes_and_every_value_field_is_emptied(
    lab: Lab, sign_in: SignIn, shot: Shot
) -> None:
    lab.api(
        "admin",
        "POST",
        "workspaces/acme/integrations",
        {"name": "scratch", "variables": {"API_KEY": "key-one", "API_USER": "user-one"}},
    )
    lab.api("admin", "PUT", "workspaces/acme/projects/reports/integrations/scratch")
    admin = sign_in(lab, "admin")
    settings = open_from_palette(admin)
    scratch = card(settings, "scratch")
    expect(scratch).to_contain_text("Connected to reports")

    # an empty value field keeps the stored value; another form's typed value goes too
    create = section(settings).get_by_role("form", name="Create an integration")
    pending = create.get_by_label("Value of new variable 1 of the new integration")
    pending.fill("typed-but-never-sent")
    scratch.get_by_label("New value of API_USER in scratch").fill("user-two")
    scratch.get_by_label("Name of new variable 1 in scratch").fill("API_REGION")
    scratch.get_by_label("Value of new variable 1 in scratch").fill("eu-west")
    scratch.get_by_role("button", name="Save variables").click()
    expect(scratch.get_by_role("status")).to_have_text(
        "Saved API_USER, API_REGION in scratch.", timeout=LOAD_MS
    )
    assert stored(lab, "reports") == {
        "API_KEY": "key-one",
        "API_REGION": "eu-west",
        "API_USER": "user-two",
    }
    for field in section(settings).locator('input[type="password"]').all():
        expect(field).to_have_value("")
    assert secret_anywhere(admin, "typed-but-never-sent") == []
    assert secret_anywhere(admin, "user-two") == []

    # the same section in the (narrow) left sidebar
    admin.locator('.jp-SideBar li[data-id="workspace-perms-settings-sidebar"]').click()
    side = admin.locator(
        '#workspace-perms-settings-sidebar .jp-WorkspacePermsSettings[aria-busy="false"]'
    )
    expect(side).to_be_visible(timeout=LOAD_MS)
    card(side, "scratch").scroll_into_view_if_needed()
    expect(card(side, "scratch").get_by_role("button", name="Save variables")).to_be_disabled()
    expect(card(side, "scratch").get_by_role("button", name="Rename", exact=True)).to_be_disabled()
    screenshot(shot, admin, "integrations-admin-sidebar")
    admin.locator('.jp-SideBar li[data-id="workspace-perms-settings-sidebar"]').click()

    # a new variable without a value is not sent (nor is anything else): the form says why
    expect(scratch.get_by_role("button", name="Save variables")).to_be_disabled()
    scratch.get_by_label("Name of new variable 1 in scratch").fill("API_TOKEN")
    scratch.get_by_label("New value of API_KEY in scratch").fill("key-two")
    scratch.get_by_role("button", name="Save variables").click()
    expect(scratch.get_by_role("alert")).to_have_text(
        "Type a value for API_TOKEN, or clear its name."
    )
    assert stored(lab, "reports")["API_KEY"] == "key-one"
    scratch.get_by_label("Name of new variable 1 in scratch").fill("")
    scratch.get_by_label("New value of API_KEY in scratch").fill("")
    expect(scratch.get_by_role("button", name="Save variables")).to_be_disabled()

    # remove a variable
    scratch.get_by_role("button", name="Remove API_REGION from scratch").click()
    expect(scratch.get_by_role("status")).to_have_text(
        "Removed API_REGION from scratch.", timeout=LOAD_MS
    )
    assert [v["name"] for v in integrations(lab)["scratch"]["variables"]] == [
        "API_KEY",
        "API_USER",
    ]

    # rename: the connection follows
    scratch.get_by_label("Rename to").fill("scratch-2")
    scratch.get_by_role("button", name="Rename", exact=True).click()
    expect(section(settings).get_by_role("status")).to_have_text(
        "Renamed scratch to scratch-2.", timeout=LOAD_MS
    )
    assert "scratch" not in integrations(lab)
    assert connected(lab, "reports") == ["scratch-2"]
    expect(card(settings, "scratch-2")).to_be_visible()
    card(settings, "scratch-2").scroll_into_view_if_needed()
    screenshot(shot, admin, "integrations-admin-renamed")

    # delete, after a confirmation
    card(settings, "scratch-2").get_by_role("button", name="Delete scratch-2").click()
    dialog = admin.locator(".jp-Dialog")
    expect(dialog).to_contain_text("Delete scratch-2 and its stored values?")
    expect(dialog).to_contain_text("disconnected from reports")
    screenshot(shot, admin, "integrations-admin-delete-dialog")
    dialog.get_by_role("button", name="Cancel").click()
    expect(card(settings, "scratch-2")).to_be_visible()
    assert "scratch-2" in integrations(lab)
    card(settings, "scratch-2").get_by_role("button", name="Delete scratch-2").click()
    admin.locator(".jp-Dialog").get_by_role("button", name="Delete").click()
    expect(
        section(settings).get_by_role("status").filter(has_text="Deleted scratch-2.")
    ).to_be_visible(timeout=LOAD_MS)
    expect(card(settings, "scratch-2")).to_have_count(0)
    assert "scratch-2" not in integrations(lab)
    assert connected(lab, "reports") == []
    assert stored(lab, "reports") == {}
    assert "key-one" not in json.dumps(integrations(lab, "admin"))
