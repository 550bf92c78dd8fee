"""The saved-cell and ``parameters`` rules, driven by ``cases/cells.yaml``."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from jupyter_workspace_perms.notebook.cells import (
    MAX_PARAMETERS_SOURCE,
    NotebookIndex,
    names_while_typing,
    normalize,
    parameter_values_only,
)

DATA = yaml.safe_load((Path(__file__).parent / "cases" / "cells.yaml").read_text())


def _notebook(cells: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "nbformat": 4,
        "nbformat_minor": 5,
        "metadata": {},
        "cells": [
            {"cell_type": "markdown", "id": "intro", "metadata": {}, "source": "x = 1\n"},
            *(
                {
                    "cell_type": "code",
                    "id": c["id"],
                    "metadata": {"tags": c.get("tags", [])},
                    "source": c["source"],
                    "outputs": [],
                    "execution_count": None,
                }
                for c in cells
            ),
        ],
    }


INDEX = NotebookIndex.from_notebook(_notebook(DATA["notebook"]))


@pytest.mark.parametrize("case", DATA["cases"], ids=[c["name"] for c in DATA["cases"]])
def test_check_code(case: dict[str, Any]) -> None:
    check = INDEX.check_code(case["code"], case["cell_id"])
    assert (check.allowed, check.code) == (case["allowed"], case["result"])
    assert check.reason
    if not check.allowed:
        assert check.reason.startswith("Contributors can only run cells saved in the notebook")


def test_cases_cover_every_result() -> None:
    assert {c["result"] for c in DATA["cases"]} == {
        "saved_cell",
        "parameters",
        "cell_differs",
        "unknown_cell",
        "not_saved",
    }


def test_markdown_source_never_runs() -> None:
    assert not INDEX.check_code("x = 1\n", "intro").allowed
    assert not INDEX.check_code("x = 1\n", None).allowed


def test_odd_cells_are_skipped_not_trusted() -> None:
    index = NotebookIndex.from_notebook(
        {
            "cells": [
                "not a cell",
                {"cell_type": "code", "id": "n", "source": 5},
                {"cell_type": "code", "id": "m", "source": ["a", 1]},
                {"cell_type": "code", "id": 7, "source": "ok = 1\n", "metadata": {"tags": "x"}},
            ]
        }
    )
    assert [c.position for c in index.cells] == [4]
    assert index.by_id == {}
    assert index.check_code("ok = 1\n", None).allowed
    assert not index.check_code("5", "n").allowed
    assert NotebookIndex.from_notebook({"cells": "nope"}).cells == ()


def test_normalize() -> None:
    assert normalize(["a\r\n", "b\r", "c"]) == "a\nb\nc"
    assert normalize("plain") == "plain"


def test_oversized_parameters_are_refused_without_parsing() -> None:
    big = "a = '" + "x" * MAX_PARAMETERS_SOURCE + "'\n"
    assert not parameter_values_only("a = 1\n", big)
    assert parameter_values_only("a = 1\n", "a = 2  # two\n")


def test_a_notebook_without_cell_ids_is_matched_by_code() -> None:
    """JupyterLab gives id-less cells (nbformat 4.4) ids the file does not have."""
    cells = [{"cell_type": "code", "metadata": {}, "source": "x = 1\n"}]
    index = NotebookIndex.from_notebook({"nbformat": 4, "nbformat_minor": 4, "cells": cells})
    assert index.check_code("x = 1\n", "browser-made-id").allowed
    refused = index.check_code("x = 2\n", "browser-made-id")
    assert (refused.allowed, refused.code) == (False, "not_saved")


@pytest.mark.parametrize(
    ("source", "names"),
    [
        ("rate = 0.05", ("rate",)),
        ("rate = ", ("rate",)),  # the old value deleted, the new one not typed yet
        ("rate = 0.", ("rate",)),
        ("rate = -", ("rate",)),
        ("name = 'ab", ("name",)),
        ("xs = [1, 2", ("xs",)),
        ("xs = [1,\n2", ("xs",)),
        ("a = 1\nb = ", ("a", "b")),
        ('a = """\nimport os\n', ("a",)),  # an open string: a syntax error, never code
        ("rate = Non", None),  # runs: a name, not a literal
        ("rate = 1 +", None),
        ("rate = f'{1}", None),
        ("rate = 1\nimport os", None),
        ("rate = 1; import os", None),
        ("rate = 1\nimport os;x=", None),
        ("rate = __import__('os')", None),
    ],
)
def test_names_while_typing(source: str, names: tuple[str, ...] | None) -> None:
    """A parameters cell mid-edit keeps its names; anything that would run as other code,
    or becomes literals only by more than a closing character, has none."""
    assert names_while_typing(source) == names
