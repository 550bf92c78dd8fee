"""The contributor merge-save, driven by ``cases/merge.yaml``.

Besides each case's expected cells or refusal, every accepted merge is checked for the
rule that makes it safe: no input the user sent reaches the file, except a
``parameters`` cell's new literal values.
"""

from __future__ import annotations

import copy
import random
import re
import time
from pathlib import Path
from typing import Any

import pytest
import yaml

from jupyter_workspace_perms.notebook.cells import normalize, parameter_values_only
from jupyter_workspace_perms.notebook.merge import (
    Base,
    InvalidNotebook,
    MergeRefused,
    base_of,
    fingerprint,
    merge_contributor_save,
)

DATA = yaml.safe_load((Path(__file__).parent / "cases" / "merge.yaml").read_text())
CASES = DATA["cases"]


def cell(short: dict[str, Any]) -> dict[str, Any]:
    """A full nbformat 4.5 cell from the short form used in the YAML."""
    kind = short.get("type", "code")
    metadata = dict(short.get("meta", {}))
    if "tags" in short:
        metadata["tags"] = short["tags"]
    full: dict[str, Any] = {"cell_type": kind, "metadata": metadata, "source": short.get("src", "")}
    if short.get("id") is not None:
        full["id"] = short["id"]
    if kind == "code":
        out = short.get("out")
        full["outputs"] = [] if out is None else [stream(out)]
        full["execution_count"] = short.get("count")
    if "att" in short:
        full["attachments"] = short["att"]
    full.update(short.get("raw", {}))
    return full


def stream(text: str) -> dict[str, Any]:
    return {"output_type": "stream", "name": "stdout", "text": text}


def notebook(cells: list[dict[str, Any]], metadata: dict[str, Any] | None = None) -> dict[str, Any]:
    return {
        "cells": [cell(c) for c in cells],
        "metadata": metadata or {},
        "nbformat": 4,
        "nbformat_minor": 5,
    }


def inputs(case: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any], Base | None]:
    stored = notebook(case["stored"], case.get("stored_meta"))
    sent = notebook(case["sent"], case.get("sent_meta"))
    base = case["base"]
    if base == "stored":
        return stored, sent, base_of(stored)
    return stored, sent, None if base is None else base_of(notebook(base))


@pytest.mark.parametrize("case", CASES, ids=[c["name"] for c in CASES])
def test_merge(case: dict[str, Any]) -> None:
    stored, sent, base = inputs(case)
    before = copy.deepcopy((stored, sent))
    if "refused" in case:
        with pytest.raises(MergeRefused) as refused:
            merge_contributor_save(stored, sent, base)
        assert refused.value.cells == case["refused"]["cells"]
        for text in case["refused"]["says"]:
            assert text in refused.value.message
        assert refused.value.message.startswith(
            "Contributors can only change outputs and parameter values; "
        )
    elif "invalid" in case:
        with pytest.raises(InvalidNotebook, match=re.escape(case["invalid"])):
            merge_contributor_save(stored, sent, base)
    else:
        merged = merge_contributor_save(stored, sent, base)
        assert merged["cells"] == [cell(c) for c in case["expect"]]
        assert merged["metadata"] == case.get("expect_meta", {})
        assert (merged["nbformat"], merged["nbformat_minor"]) == (4, 5)
        assert_no_input_reaches_the_file(stored, merged)
    assert (stored, sent) == before, "the merge changed its inputs"


def assert_no_input_reaches_the_file(stored: dict[str, Any], merged: dict[str, Any]) -> None:
    """Every written cell is a stored cell, in the stored order, with its stored input."""
    by_id = {c["id"]: c for c in stored["cells"]}
    ids = [c["id"] for c in merged["cells"]]
    assert ids == [c["id"] for c in stored["cells"] if c["id"] in ids]
    for written in merged["cells"]:
        original = by_id[written["id"]]
        assert written["cell_type"] == original["cell_type"]
        assert "trusted" not in written["metadata"]
        old, new = normalize(original["source"]), normalize(written["source"])
        if old != new:
            assert "parameters" in original["metadata"].get("tags", [])
            assert parameter_values_only(old, new)
        view = {"collapsed", "scrolled", "execution", "jupyter", "trusted"}
        assert {k: v for k, v in written["metadata"].items() if k not in view} == {
            k: v for k, v in original["metadata"].items() if k not in view
        }


def test_cases_cover_every_outcome() -> None:
    says = " ".join(t for c in CASES if "refused" in c for t in c["refused"]["says"])
    for what in ("was edited", "was added", "was removed", "was moved", "changed its type"):
        assert what in says, what
    assert "changed its metadata" in says
    assert any("expect" in c for c in CASES)
    assert any("invalid" in c for c in CASES)


def test_fingerprint_ignores_what_the_user_may_change() -> None:
    plain = cell({"id": "a", "src": "x = 1\n", "meta": {"keep": 1}})
    same = [
        cell({"id": "a", "src": "x = 1\r\n", "meta": {"keep": 1}}),
        cell({"id": "a", "src": ["x = 1\n"], "meta": {"keep": 1}}),
        cell({"id": "a", "src": "x = 1\n", "out": "1\n", "count": 3, "meta": {"keep": 1}}),
        cell({"id": "a", "src": "x = 1\n", "meta": {"keep": 1, "trusted": True}}),
        cell({"id": "a", "src": "x = 1\n", "meta": {"keep": 1, "collapsed": True}}),
        cell({"id": "other", "src": "x = 1\n", "meta": {"keep": 1}}),
    ]
    different = [
        cell({"id": "a", "src": "x = 2\n", "meta": {"keep": 1}}),
        cell({"id": "a", "src": "x = 1\n", "meta": {"keep": 2}}),
        cell({"id": "a", "src": "x = 1\n", "meta": {"keep": 1}, "type": "raw"}),
        cell({"id": "a", "src": "x = 1\n", "meta": {"keep": 1}, "tags": ["parameters"]}),
    ]
    assert all(fingerprint(c) == fingerprint(plain) for c in same)
    assert all(fingerprint(c) != fingerprint(plain) for c in different)


def test_base_keeps_order_and_fingerprints() -> None:
    nb = notebook([{"id": "b", "src": "2\n"}, {"id": "a", "src": "1\n"}])
    base = base_of(nb)
    assert base.order == ("b", "a")
    assert base.prints == {c["id"]: fingerprint(c) for c in nb["cells"]}


def test_a_notebook_without_cells_is_invalid() -> None:
    with pytest.raises(InvalidNotebook, match="no list of cells"):
        merge_contributor_save({"cells": []}, {"content": "x"}, None)
    with pytest.raises(InvalidNotebook, match="not an object"):
        merge_contributor_save({"cells": []}, {"cells": ["x"]}, None)


def random_case(rng: random.Random) -> tuple[dict[str, Any], dict[str, Any], Base]:
    """A stored notebook, an older base, and a sent notebook mutated at random."""
    sources = ["x = 1\n", "y = 2\n", "print(x)\n", "alpha = 0.5\n", "# note\n", "z = f()\n"]
    base_cells = [
        {"id": f"c{i}", "src": rng.choice(sources)}
        | ({"tags": ["parameters"]} if rng.random() < 0.2 else {})
        for i in range(rng.randint(0, 6))
    ]
    stored_cells = [dict(c) for c in base_cells]
    if stored_cells and rng.random() < 0.5:  # an editor edits, adds or deletes
        stored_cells[rng.randrange(len(stored_cells))]["src"] = rng.choice(sources)
    if rng.random() < 0.3:
        stored_cells.insert(rng.randint(0, len(stored_cells)), {"id": "new", "src": "n = 1\n"})
    if stored_cells and rng.random() < 0.3:
        del stored_cells[rng.randrange(len(stored_cells))]
    sent_cells = [dict(c, out="out\n", count=1) for c in base_cells]
    for n in range(rng.randint(0, 3)):  # the user edits, adds, deletes or moves
        kind = rng.choice(["edit", "add", "delete", "move", "meta"])
        if kind == "add" or not sent_cells:
            sent_cells.insert(rng.randint(0, len(sent_cells)), {"id": f"mine{n}", "src": "bad()\n"})
        elif kind == "edit":
            sent_cells[rng.randrange(len(sent_cells))]["src"] = rng.choice(
                [*sources, "alpha = 9\n", "import os\n"]
            )
        elif kind == "delete":
            del sent_cells[rng.randrange(len(sent_cells))]
        elif kind == "move":
            sent_cells.insert(rng.randint(0, len(sent_cells)), sent_cells.pop())
        else:
            sent_cells[rng.randrange(len(sent_cells))]["meta"] = {"evil": True}
    return notebook(stored_cells), notebook(sent_cells), base_of(notebook(base_cells))


def test_random_saves_never_write_the_users_input() -> None:
    rng = random.Random(20261127)
    outcomes = {"merged": 0, "refused": 0}
    for _ in range(3000):
        stored, sent, base = random_case(rng)
        try:
            merged = merge_contributor_save(stored, sent, base)
        except MergeRefused as e:
            assert e.cells and e.message
            outcomes["refused"] += 1
            continue
        assert_no_input_reaches_the_file(stored, merged)
        outcomes["merged"] += 1
    assert min(outcomes.values()) > 300, outcomes


def test_big_refusals_stay_fast() -> None:
    """Every cell removed, or every cell moved, in a 20,000-cell notebook: refused quickly,
    and the message stays short."""
    stored = notebook([{"id": f"c{i}", "src": f"x = {i}\n"} for i in range(20_000)])
    base = base_of(stored)
    reversed_cells = {**stored, "cells": stored["cells"][::-1]}
    for sent in ({**stored, "cells": []}, reversed_cells):
        started = time.perf_counter()
        with pytest.raises(MergeRefused) as refused:
            merge_contributor_save(stored, sent, base)
        assert time.perf_counter() - started < 5.0
        assert len(refused.value.cells) >= 19_999
        assert len(refused.value.message) < 400
