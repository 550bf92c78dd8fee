"""Which code a user who may run but not edit may send: the saved cells of a notebook.

Pure: no I/O, no Jupyter imports. The websocket filter asks
:meth:`NotebookIndex.check_code` for every ``execute_request`` of such a user,
and the contributor merge-save asks :func:`parameter_values_only` for every
``parameters`` cell whose source changed.

Two rules, both from the issue that introduced the Contributor role:

- the code equals the stored source of a code cell (the cell named by
  ``metadata.cellId`` when the client sends one); line endings may differ,
  nothing else may;
- or the stored cell is tagged ``parameters`` (papermill's tag) and the new
  source is the same sequence of ``name = <literal>`` assignments with only the
  literal values changed. Literals are numbers, strings, bools, None and
  lists/tuples/dicts/sets of those; comments do not matter.
"""

from __future__ import annotations

import ast
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

PARAMETERS_TAG = "parameters"
# a parameters cell is small; anything larger is refused before parsing
MAX_PARAMETERS_SOURCE = 100_000

CELL_DIFFERS = (
    "Contributors can only run cells saved in the notebook; "
    "this cell differs from the saved version"
)
UNKNOWN_CELL = (
    "Contributors can only run cells saved in the notebook; "
    "this cell is not in the saved notebook (ask an Editor to add and save it)"
)
SAVED_CELL = "the code of a saved cell"
NOT_SAVED = (
    "Contributors can only run cells saved in the notebook; "
    "this code is not a saved cell of the notebook"
)


def normalize(source: str | Sequence[str]) -> str:
    """One string with ``\\n`` line endings (nbformat may store a list of lines)."""
    text = source if isinstance(source, str) else "".join(source)
    if "\r" in text:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    return text


# -- the parameters rule -------------------------------------------------------------------


def _is_literal(node: ast.expr) -> bool:
    """Numbers, strings, bools, None, signed numbers, and containers of those."""
    if isinstance(node, ast.Constant):
        return node.value is None or isinstance(node.value, (bool, int, float, complex, str))
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)):
        operand = node.operand
        return isinstance(operand, ast.Constant) and isinstance(
            operand.value, (int, float, complex)
        )
    if isinstance(node, (ast.List, ast.Tuple, ast.Set)):
        return all(_is_literal(e) for e in node.elts)
    if isinstance(node, ast.Dict):
        return all(k is not None and _is_literal(k) for k in node.keys) and all(
            _is_literal(v) for v in node.values
        )
    return False


def assigned_names(source: str) -> tuple[str, ...] | None:
    """The names of a ``name = <literal>`` sequence, or None when ``source`` is not one."""
    if len(source) > MAX_PARAMETERS_SOURCE:
        return None
    try:
        module = ast.parse(source)
        return _names_of_literal_assignments(module)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return None


def _names_of_literal_assignments(module: ast.Module) -> tuple[str, ...] | None:
    names = []
    for statement in module.body:
        if not (
            isinstance(statement, ast.Assign)
            and len(statement.targets) == 1
            and isinstance(statement.targets[0], ast.Name)
            and _is_literal(statement.value)
        ):
            return None
        names.append(statement.targets[0].id)
    return tuple(names)


# what a value being typed may lack to be a literal: a digit, a closing quote or bracket
COMPLETIONS = ("0", "'", '"', "]", ")", "}", "0]", "0)", "0}", "'''", '"""', "']", '"]')


def names_while_typing(source: str) -> tuple[str, ...] | None:
    """The names of a parameters cell as someone edits its values one key at a time.

    ``source`` is a ``name = <literal>`` sequence, or one whose values are being
    typed: it does not parse, and each line (or the whole) becomes literal
    assignments once a digit, a quote or a bracket is added (``rate = `` while
    ``0.05`` becomes ``0.07``). Such a source is a syntax error, never code that
    runs; anything else is None.
    """
    source = normalize(source)
    names = assigned_names(source)
    if names is not None or len(source) > MAX_PARAMETERS_SOURCE:
        return names
    try:
        ast.parse(source)
        return None  # it runs, and it is not literal assignments
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        pass
    lines = [_completed(line) for line in source.split("\n")]
    if all(line is not None for line in lines):
        names = assigned_names("\n".join(line for line in lines if line is not None))
        if names is not None:
            return names
    for end in COMPLETIONS:
        names = assigned_names(source + end)
        if names is not None:
            return names
    return None


def _completed(line: str) -> str | None:
    """``line`` if it parses as literal assignments (or nothing), else the line completed."""
    if assigned_names(line) is not None:
        return line
    for end in COMPLETIONS:
        if assigned_names(line + end):
            return line + end
    return None


def parameter_values_only(stored: str, new: str) -> bool:
    """Whether ``new`` changes only literal values of the assignments in ``stored``.

    Both must be plain ``name = <literal>`` sequences with the same names in the
    same order; ``stored`` not being one means only the exact source may run.
    """
    stored, new = normalize(stored), normalize(new)
    if stored == new:
        return True
    stored_names = assigned_names(stored)
    return stored_names is not None and assigned_names(new) == stored_names


# -- the notebook index --------------------------------------------------------------------


@dataclass(frozen=True)
class StoredCell:
    """One code cell of the saved notebook, as the rules need it."""

    id: str | None
    position: int  # 1-based, as people count cells
    source: str  # normalized
    is_parameters: bool


@dataclass(frozen=True)
class CodeCheck:
    """The answer for one ``execute_request``: allowed or not, a stable code, the reason."""

    allowed: bool
    code: str  # saved_cell | parameters | cell_differs | unknown_cell | not_saved
    reason: str
    cell_id: str | None = None


def _tags(cell: Mapping[str, Any]) -> Sequence[Any]:
    metadata = cell.get("metadata")
    tags = metadata.get("tags") if isinstance(metadata, Mapping) else None
    return tags if isinstance(tags, list) else ()


def _stored_cell(position: int, cell: Mapping[str, Any]) -> StoredCell | None:
    source = cell.get("source", "")
    if not isinstance(source, (str, list)) or not all(isinstance(s, str) for s in source):
        return None
    cell_id = cell.get("id")
    return StoredCell(
        id=cell_id if isinstance(cell_id, str) else None,
        position=position,
        source=normalize(source),
        is_parameters=PARAMETERS_TAG in _tags(cell),
    )


class NotebookIndex:
    """The code cells of one saved notebook, indexed for :meth:`check_code`.

    Built once per version of the file (the caller caches it by mtime and size),
    so each check is a dictionary lookup and one string comparison; only a
    ``parameters`` edit parses code.
    """

    def __init__(self, cells: Sequence[StoredCell]) -> None:
        self.cells = tuple(cells)
        self.by_id: dict[str, StoredCell] = {c.id: c for c in self.cells if c.id is not None}
        # the answer for each saved cell run as saved, built once: most checks end here
        self._saved: dict[str, CodeCheck] = {
            cell_id: CodeCheck(True, "saved_cell", SAVED_CELL, cell_id) for cell_id in self.by_id
        }
        self.sources = frozenset(c.source for c in self.cells)
        self.parameter_cells = tuple(c for c in self.cells if c.is_parameters)

    @classmethod
    def from_notebook(cls, notebook: Mapping[str, Any]) -> NotebookIndex:
        """The index of an nbformat 4 notebook (a parsed ``.ipynb``); odd cells are skipped."""
        raw_cells = notebook.get("cells")
        cells: list[StoredCell] = []
        if isinstance(raw_cells, list):
            for position, cell in enumerate(raw_cells, start=1):
                if isinstance(cell, Mapping) and cell.get("cell_type") == "code":
                    stored = _stored_cell(position, cell)
                    if stored is not None:
                        cells.append(stored)
        return cls(cells)

    def check_code(self, code: str, cell_id: str | None) -> CodeCheck:
        """May a user without write run ``code`` (sent for ``cell_id``, when known)?"""
        if not isinstance(code, str):
            return CodeCheck(False, "not_saved", NOT_SAVED, None)
        code = normalize(code)
        # a notebook saved without cell ids (nbformat < 4.5) gets ids in the browser
        # that the file does not know: match its cells by code alone
        if isinstance(cell_id, str) and cell_id and self.by_id:
            return self._check_cell(code, cell_id)
        if code in self.sources:
            return _SAVED_ANY
        for cell in self.parameter_cells:
            if parameter_values_only(cell.source, code):
                return CodeCheck(True, "parameters", "new parameter values", cell.id)
        return CodeCheck(False, "not_saved", NOT_SAVED, None)

    def _check_cell(self, code: str, cell_id: str) -> CodeCheck:
        cell = self.by_id.get(cell_id)
        if cell is None:
            return CodeCheck(False, "unknown_cell", UNKNOWN_CELL, cell_id)
        if code == cell.source:
            return self._saved[cell_id]
        if cell.is_parameters and parameter_values_only(cell.source, code):
            return CodeCheck(True, "parameters", "new parameter values", cell_id)
        return CodeCheck(False, "cell_differs", CELL_DIFFERS, cell_id)


_SAVED_ANY = CodeCheck(True, "saved_cell", SAVED_CELL, None)
