"""The extension loads for every persona, in JupyterLab and in Notebook 7, without errors."""

from __future__ import annotations

from typing import Any

import pytest

from tests.browser.conftest import Lab, SignIn, activated_plugins, allow_errors

# Notebook 7.6's own pages report these at start without this extension too (a stock
# `jupyter notebook` shows both on /tree: some of JupyterLab's plugins have no settings
# schema there)
NOTEBOOK_7_OWN_ERRORS = (
    r"uncaught: Cannot read properties of undefined \(reading 'schema'\)",
    r"console: Cannot convert undefined or null to object \(.*/static/notebook/",
)

PERSONAS = ("admin", "editor", "contributor", "viewer", "guest", "joiner", "blocked")


@pytest.mark.parametrize("persona", PERSONAS)
def test_jupyterlab_starts_with_the_extension_for_every_persona(
    lab: Lab, sign_in: SignIn, persona: str, shot: Any
) -> None:
    page = sign_in(lab, persona)
    assert "jupyter-workspace-perms:core" in activated_plugins(page)
    shot(page, f"lab-{persona}")


@pytest.mark.parametrize("path", ["tree", "notebooks/acme/analysis/forecast.ipynb"])
def test_notebook_7_starts_with_the_extension(lab: Lab, sign_in: SignIn, path: str) -> None:
    page = sign_in(lab, "contributor", path=path)
    for known in NOTEBOOK_7_OWN_ERRORS:
        allow_errors(page, known)
    assert "jupyter-workspace-perms:core" in activated_plugins(page)
    if path.endswith(".ipynb"):  # the Contributor's kernel starts and settles
        page.wait_for_function(
            "() => window.jupyterapp.shell.currentWidget?.sessionContext?.session?.kernel"
            "?.status === 'idle'",
            timeout=90_000,
        )
