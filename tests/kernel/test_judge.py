"""The kernel websocket filter's verdicts, from the truth table in ``cases/``.

The table (``messages.yaml``) is the readable specification: one message per case and
the verdict for each kind of sender. The tests below it check what a refused message
is answered with, and that the judge decides from permissions alone.
"""

from __future__ import annotations

import ast
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest
import yaml

from jupyter_workspace_perms.kernel import judge as judge_module
from jupyter_workspace_perms.kernel.judge import Access, Verdict, answers, judge
from jupyter_workspace_perms.notebook.cells import NotebookIndex

TABLE = yaml.safe_load(
    (Path(__file__).parent / "cases" / "messages.yaml").read_text(encoding="utf-8")
)
SENDERS = {
    "write": Access(can_write=True, can_execute=True),
    "execute": Access(can_write=False, can_execute=True),
    "none": Access(can_write=False, can_execute=False, refusal="lost access to acme/public"),
}


def notebook(cells: list[dict[str, Any]]) -> NotebookIndex:
    """The index of a notebook made of the table's code cells."""
    return NotebookIndex.from_notebook(
        {
            "nbformat": 4,
            "cells": [
                {
                    "cell_type": "code",
                    "id": c["id"],
                    "source": c["source"],
                    "metadata": {"tags": c.get("tags", [])},
                }
                for c in cells
            ],
        }
    )


NOTEBOOKS = {
    "notebook": notebook(TABLE["notebook"]),
    "other_notebook": notebook(TABLE["other_notebook"]),
}


def case_notebooks(case: dict[str, Any]) -> Sequence[NotebookIndex]:
    return [NOTEBOOKS[name] for name in case.get("notebooks", ["notebook"])]


def decide(case: dict[str, Any], sender: str) -> Verdict:
    return judge(
        case["channel"],
        case["msg_type"],
        case.get("content", {}),
        case.get("metadata", {}),
        SENDERS[sender],
        lambda: case_notebooks(case),
        lambda comm_id: case.get("comms", {}).get(comm_id),
    )


CASES = [
    pytest.param(case, sender, id=f"{case['name']} [{sender}]")
    for case in TABLE["cases"]
    for sender in SENDERS
]


@pytest.mark.parametrize(("case", "sender"), CASES)
def test_verdicts_follow_the_table(case: dict[str, Any], sender: str) -> None:
    outcome, code = case["expect"][sender].split()
    verdict = decide(case, sender)
    assert (("ok" if verdict.allowed else "no"), verdict.code) == (outcome, code)
    assert verdict.reason and "\n" not in verdict.reason
    if "from_notebook" in case and verdict.allowed and sender == "execute":
        assert verdict.notebook == case["from_notebook"]


@pytest.mark.parametrize(
    "case", [c for c in TABLE["cases"] if "reply" in c], ids=lambda c: c["name"]
)
def test_refused_requests_get_the_reply_they_expect(case: dict[str, Any]) -> None:
    verdict = decide(case, "execute")
    expected = None if case["reply"] == "-" else case["reply"]
    assert verdict.reply == expected
    sent = answers(verdict, case["msg_type"], case.get("content", {}))
    if expected is None:
        assert sent == []
    else:
        assert expected in [a.msg_type for a in sent]


def test_a_refused_cell_shows_the_error_and_ends_with_idle() -> None:
    case = next(c for c in TABLE["cases"] if c["name"] == "one character changed")
    verdict = decide(case, "execute")
    sent = answers(verdict, "execute_request", case["content"])
    assert [(a.channel, a.msg_type) for a in sent] == [
        ("iopub", "error"),
        ("shell", "execute_reply"),
        ("iopub", "status"),
    ]
    error, reply, idle = (a.content for a in sent)
    assert error["ename"] == reply["ename"] == "PermissionError"
    assert error["evalue"] == reply["evalue"] == verdict.reason
    assert "differs from the saved version" in verdict.reason
    assert reply["status"] == "error" and reply["execution_count"] is None
    assert reply["traceback"] == [f"PermissionError: {verdict.reason}"]
    assert idle == {"execution_state": "idle"}


def test_control_refusals_answer_on_control() -> None:
    case = next(c for c in TABLE["cases"] if c["name"] == "shutdown without restart")
    sent = answers(decide(case, "execute"), "shutdown_request", case["content"])
    assert [(a.channel, a.msg_type) for a in sent] == [
        ("control", "shutdown_reply"),
        ("iopub", "status"),
    ]
    assert sent[0].content["status"] == "error"


def test_debug_info_gets_a_harmless_answer_and_evaluate_a_failure() -> None:
    info = next(c for c in TABLE["cases"] if c["name"].startswith("the debugger's debugInfo"))
    verdict = decide(info, "execute")
    assert not verdict.allowed and verdict.harmless
    reply = answers(verdict, "debug_request", info["content"])[0]
    assert (reply.channel, reply.msg_type) == ("control", "debug_reply")
    assert reply.content["success"] is True and reply.content["request_seq"] == 1
    assert reply.content["body"]["isStarted"] is False

    evaluate = next(c for c in TABLE["cases"] if c["name"] == "debugger evaluate")
    verdict = decide(evaluate, "execute")
    assert not verdict.harmless
    reply = answers(verdict, "debug_request", evaluate["content"])[0]
    assert reply.content["success"] is False and reply.content["command"] == "evaluate"
    assert reply.content["message"] == verdict.reason


def test_a_refused_comm_is_closed_for_the_client() -> None:
    case = next(c for c in TABLE["cases"] if c["name"] == "another comm target")
    sent = answers(decide(case, "execute"), "comm_open", case["content"])
    assert [(a.channel, a.msg_type, a.content) for a in sent] == [
        ("iopub", "comm_close", {"comm_id": "c3", "data": {}})
    ]


def test_users_without_execute_see_the_policy_reason() -> None:
    case = TABLE["cases"][0]
    verdict = decide(case, "none")
    assert verdict.reason == "lost access to acme/public"
    assert answers(verdict, "execute_request", case["content"])[0].content["evalue"] == (
        "lost access to acme/public"
    )


def test_notebooks_are_read_only_when_a_cell_must_be_found() -> None:
    calls: list[int] = []

    def lookup() -> Sequence[NotebookIndex]:
        calls.append(1)
        return [NOTEBOOKS["notebook"]]

    for channel, msg_type in (("shell", "comm_msg"), ("shell", "kernel_info_request")):
        judge(channel, msg_type, {}, {}, SENDERS["execute"], lookup)
    judge("shell", "execute_request", {"code": "x"}, {}, SENDERS["write"], lookup)
    assert calls == []
    judge("shell", "execute_request", {"code": "x"}, {}, SENDERS["execute"], lookup)
    assert calls == [1]


def test_every_table_entry_and_refusal_is_covered_by_a_case() -> None:
    covered = {(c["channel"], c["msg_type"]) for c in TABLE["cases"]}
    assert set(judge_module.RULES) <= covered
    codes = {c["expect"]["execute"].split()[1] for c in TABLE["cases"]}
    assert {code for code, _reason in judge_module.REFUSALS.values()} <= codes


PURE_IMPORTS = {"__future__", "collections.abc", "dataclasses", "enum", "types", "typing"}


def test_the_judge_decides_from_permissions_only() -> None:
    """Pure: standard modules, the cell and widget rules; no role names, no I/O."""
    source = Path(judge_module.__file__).read_text(encoding="utf-8")
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.ImportFrom):
            relative = (node.level, node.module) in ((2, "notebook.cells"), (1, "widgets"))
            assert relative or node.module in PURE_IMPORTS, node.module
        assert not isinstance(node, ast.Import)
        if isinstance(node, ast.Name):
            assert node.id not in {"Role", "open"}
