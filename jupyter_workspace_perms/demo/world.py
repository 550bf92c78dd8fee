"""The sample world of the demo, built through the same writer the CLI uses.

Workspace ``acme`` is owned by an Admin who signs in with Google and enforces that
provider; it has an Editor, a Contributor, a Viewer, a member signed in with GitHub
(blocked by the enforced provider), a Guest with a gmail address on one project and a
colleague from the same domain who is not a member yet. Projects: ``analysis`` (full
access, with a notebook that has a ``parameters`` cell and widgets), ``reports``
(locked: view only) and ``secret-plans`` (private). A second workspace, ``lab``, is
where members may duplicate projects to. The Viewer has started a comment thread on the
parameters cell, which the Editor answered, and asks the Admin for the Editor role on
``analysis``: the comments sidebar and the settings page show both.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..notebook.anchors import quote_of, source_hash
from ..store import PolicyStore
from ..store.access_requests import AccessRequests
from ..store.comments import Comments, NewComment

DOMAIN = "acme.example"


#: Where the sample notebook is, below the served folder.
FORECAST = "acme/analysis/forecast.ipynb"


@dataclass(frozen=True)
class Persona:
    """Somebody to sign in as, and what the demo shows them to be."""

    key: str
    email: str
    provider: str
    shows: str  # the role (or situation) the login link demonstrates
    tries: str = ""  # what to try as them, for the demo's landing page
    start: str = f"lab/tree/{FORECAST}"  # the page they land on, below the base URL


PERSONAS = (
    Persona(
        "admin",
        f"ada@{DOMAIN}",
        "google",
        "Admin and owner of acme",
        "Manage members, domain invites and enforced SSO in Workspace settings (the gear "
        "in the left bar), and decide Vic's request for the Editor role there. Even the "
        "Admin does not see the private project secret-plans.",
    ),
    Persona(
        "editor",
        f"eddie@{DOMAIN}",
        "google",
        "Editor",
        "Edit and run any cell of the forecast notebook; open the private project "
        "secret-plans, which Eddie created.",
    ),
    Persona(
        "contributor",
        f"cora@{DOMAIN}",
        "google",
        "Contributor",
        "Run the saved cells, move the slider, change the numbers in the parameters cell "
        "and save the outputs. Code cells are read-only; changed code is refused.",
    ),
    Persona(
        "viewer",
        f"vic@{DOMAIN}",
        "google",
        "Viewer",
        "Read the forecast notebook view-only: no kernel starts and no cell can change. "
        "Comment on a cell in the comments sidebar (the speech bubble on the right), and "
        "ask for a higher role from the banner.",
    ),
    Persona(
        "guest",
        "gus.guest@gmail.com",
        "google",
        "Guest (viewer of acme/analysis only)",
        "A guest from outside the company: sees the project analysis and nothing else of acme.",
    ),
    Persona(
        "joiner",
        f"jo@{DOMAIN}",
        "google",
        "same domain, not a member yet (can join)",
        "Not a member yet: JupyterLab offers to join acme, because the email is on the "
        "company's domain.",
        start="lab",
    ),
    Persona(
        "blocked",
        f"gil@{DOMAIN}",
        "github",
        "Editor blocked by enforced SSO (google)",
        "An Editor who signed in with GitHub while acme requires Google: JupyterLab says "
        "why nothing of acme opens.",
        start="lab",
    ),
)

MEMBERS = {"editor": "editor", "contributor": "contributor", "viewer": "viewer"}


def build_world(store: PolicyStore, root: Path, *, tokens: bool = True) -> dict[str, str]:
    """Create the sample world in ``store`` and its folders in ``root``.

    Returns one personal access token per persona key (none with ``tokens=False``: a
    server in demo mode signs personas in from its landing page instead).
    """
    people = {p.key: p for p in PERSONAS}
    admin = people["admin"]
    with store.write("demo") as w:
        for persona in PERSONAS:
            w.ensure_user(persona.email, persona.provider)
        w.create_workspace("acme", admin.email, admin.provider, name="Acme Analytics")
        for key, role in MEMBERS.items():
            w.set_member("acme", people[key].email, role)
        w.set_member("acme", people["blocked"].email, "editor")
        w.set_settings("acme", domain_invites=True, enforced_sso_provider=admin.provider)
        w.create_project("acme", "analysis", "full", creator=people["editor"].email)
        w.create_project("acme", "reports", "view", creator=admin.email)
        w.create_project("acme", "secret-plans", "none", creator=people["editor"].email)
        w.set_collaborator("acme", "analysis", people["guest"].email, "viewer")
        w.set_collaborator("acme", "secret-plans", people["contributor"].email, "viewer")
        w.create_workspace("lab", admin.email, admin.provider, name="Acme Lab")
        for key in MEMBERS:
            w.set_member("lab", people[key].email, "editor")
    secrets: dict[str, str] = {}
    if tokens:
        with store.write("demo") as w:
            secrets = {p.key: w.create_token(p.email, p.provider, note="demo")[1] for p in PERSONAS}
    _write_files(root)
    _start_conversations(store, people)
    return secrets


def _start_conversations(store: PolicyStore, people: dict[str, Persona]) -> None:
    """A comment thread on the parameters cell and a pending access request."""
    snap = store.snapshot
    analysis = snap.project_named("acme", "analysis")
    assert analysis is not None
    viewer, editor = people["viewer"].email, people["editor"].email
    source = forecast_notebook()["cells"][1]["source"]
    path = FORECAST.split("/", 2)[2]

    def comment(author: str, body: str, mentions: tuple[str, ...], parent: int | None) -> int:
        assert analysis is not None
        return (
            Comments(store=store)
            .post(
                NewComment(
                    project_id=analysis.id,
                    workspace_id=analysis.workspace_id,
                    path=path,
                    target=FORECAST,
                    author=author,
                    body=body,
                    mentions=mentions,
                    parent_id=parent,
                    cell_id=None if parent else "parameters",
                    anchor=None if parent else (0, 18),
                    quote="" if parent else quote_of(source, (0, 18)),
                    source_hash="" if parent else source_hash(source),
                )
            )
            .id
        )

    thread = comment(
        viewer,
        f"Is **5%** growth still right after Q3? @{editor}",
        (editor,),
        None,
    )
    comment(editor, "Good point: Cora, try 0.04 and save the outputs.", (), thread)
    AccessRequests(store).ask(
        analysis.workspace_id,
        analysis.id,
        snap.users_by_name[viewer],
        "editor",
        "I would like to fix the chart labels myself.",
        viewer,
        "acme/analysis",
    )


def _write_files(root: Path) -> None:
    for folder in ("acme/analysis", "acme/reports", "acme/secret-plans", "lab"):
        (root / folder).mkdir(parents=True, exist_ok=True)
    (root / "acme" / "README.md").write_text(
        "# Acme Analytics\n\nProjects: analysis (everyone), reports (locked), "
        "secret-plans (private).\n",
        encoding="utf-8",
    )
    notebook = root / FORECAST
    notebook.write_text(json.dumps(forecast_notebook(), indent=1), encoding="utf-8")
    (root / "acme" / "reports" / "q3.md").write_text(
        "# Q3 report\n\nRevenue grew 12%.\n", encoding="utf-8"
    )
    (root / "acme" / "secret-plans" / "plans.md").write_text(
        "# Secret plans\n\nOnly collaborators can read this.\n", encoding="utf-8"
    )


def _cell(cell_id: str, source: str, tags: list[str] | None = None) -> dict[str, Any]:
    metadata: dict[str, Any] = {"tags": tags} if tags else {}
    return {
        "cell_type": "code",
        "id": cell_id,
        "metadata": metadata,
        "execution_count": None,
        "outputs": [],
        "source": source,
    }


def forecast_notebook() -> dict[str, Any]:
    """A notebook with a papermill ``parameters`` cell and ipywidgets controls."""
    cells = [
        {
            "cell_type": "markdown",
            "id": "intro",
            "metadata": {},
            "source": "# Revenue forecast\n\nContributors may change the parameters and run the "
            "saved cells; only Editors may change the code.",
        },
        _cell(
            "parameters", "growth_rate = 0.05\nmonths = 12\nstart_revenue = 100.0", ["parameters"]
        ),
        _cell(
            "forecast",
            "forecast = [round(start_revenue * (1 + growth_rate) ** m, 2) for m in range(months)]\n"
            "forecast[-1]",
        ),
        _cell(
            "controls",
            "import ipywidgets as widgets\n\n"
            "rate = widgets.FloatSlider(value=growth_rate, min=0, max=0.2, step=0.01,"
            " description='growth')\n"
            "out = widgets.Output()\n\n"
            "def show(change=None):\n"
            "    out.clear_output()\n"
            "    with out:\n"
            "        print(round(start_revenue * (1 + rate.value) ** months, 2))\n\n"
            "rate.observe(show, 'value')\nshow()\nwidgets.VBox([rate, out])",
        ),
    ]
    return python_notebook(cells)


def python_notebook(cells: list[dict[str, Any]]) -> dict[str, Any]:
    """An nbformat 4.5 notebook of ``cells`` for the python3 kernel (cells have ids)."""
    return {
        "cells": cells,
        "metadata": {
            "kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"},
            "language_info": {"name": "python"},
        },
        "nbformat": 4,
        "nbformat_minor": 5,
    }
