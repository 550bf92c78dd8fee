"""The verdict on one kernel websocket message, and what to answer when it is refused.

Pure: no I/O, no Jupyter imports. The websocket hook (:mod:`.connection`) parses a
message, asks :func:`judge` with the sender's :class:`Access` on the kernel's
project, forwards what is allowed and sends the :func:`answers` to the sender for
what is not, so a refused request ends like any failed request in JupyterLab
instead of leaving a cell waiting forever.

Rules, by permission (never by role name):

- without ``project:execute`` nothing reaches the kernel;
- with ``project:write`` everything does (as without this package);
- with ``project:execute`` only, :data:`RULES` lists what may be sent: saved cells
  (or new ``parameters`` values, see :mod:`.cells`) without ``user_expressions``,
  widget comm traffic, ``input_reply``, introspection, interrupt and restart, and
  a ``shutdown_request`` without restart from whoever may shut the kernel down
  (``Access.can_shut_down``: the user who started it; the rule of
  :mod:`..policy.lifecycle`, the same as on REST). Everything else is refused:
  the debugger (``debugInfo`` is answered by the server, saying the debugger is
  not started), the shared command history, shell requests on the control
  channel, unknown types.

Messages sent on ``iopub`` are refused for everyone: that channel only carries
output from the kernel.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from enum import Enum
from types import MappingProxyType
from typing import Any

from ..notebook.cells import CodeCheck, NotebookIndex
from .widgets import CONTROL, CONTROL_TARGETS, NOT_YOURS, comm_msg_refusal

Comms = Callable[[str], str | None]  # comm id -> what it is (see .widgets)

CHANNELS = frozenset({"shell", "control", "stdin", "iopub"})
NEEDS_WRITE = "needs edit rights in this project"


class Rule(Enum):
    """What a user who may run but not edit may send, per (channel, type)."""

    allow = "allow"
    saved_code = "saved_code"  # execute_request: a saved cell or new parameter values
    widget_comm = "widget_comm"  # comm_open: only the widget manager's control comms
    widget_msg = "widget_msg"  # comm_msg: inputs of the kernel's widgets (.widgets)
    own_comm_close = "own_comm_close"  # comm_close: only comms the socket opened
    restart = "restart"  # shutdown_request: with restart true, or by who may shut down
    debug_info = "debug_info"  # debug_request: only debugInfo, answered by the server


RULES: Mapping[tuple[str, str], Rule] = MappingProxyType(
    {
        ("shell", "execute_request"): Rule.saved_code,
        ("shell", "comm_open"): Rule.widget_comm,
        ("shell", "comm_msg"): Rule.widget_msg,
        ("shell", "comm_close"): Rule.own_comm_close,
        ("shell", "kernel_info_request"): Rule.allow,
        ("shell", "comm_info_request"): Rule.allow,
        ("shell", "is_complete_request"): Rule.allow,
        ("shell", "inspect_request"): Rule.allow,
        ("shell", "complete_request"): Rule.allow,
        ("stdin", "input_reply"): Rule.allow,
        ("control", "interrupt_request"): Rule.allow,
        ("control", "kernel_info_request"): Rule.allow,
        ("control", "shutdown_request"): Rule.restart,
        # subshells (JupyterLab sends each comm target's messages on one): making one
        # runs no code, and what is sent on it is judged like anything on shell
        ("control", "create_subshell_request"): Rule.allow,
        ("control", "delete_subshell_request"): Rule.allow,
        ("control", "list_subshell_request"): Rule.allow,
        ("control", "debug_request"): Rule.debug_info,
    }
)

# refusals of messages the table does not list: (channel or "*", type or "*") -> (code, reason)
REFUSALS: Mapping[tuple[str, str], tuple[str, str]] = MappingProxyType(
    {
        ("iopub", "*"): ("iopub", "the iopub channel only carries output from the kernel"),
        ("*", "debug_request"): ("debugger", f"the debugger can run any code: it {NEEDS_WRITE}"),
        ("*", "history_request"): (
            "history",
            f"the kernel's command history is shared between projects: it {NEEDS_WRITE}",
        ),
        ("control", "*"): (
            "control",
            "only interrupt, restart and kernel info requests may be sent on the control "
            f"channel; anything else {NEEDS_WRITE}",
        ),
        ("*", "*"): ("unknown_type", f"this message type {NEEDS_WRITE}"),
    }
)

NO_EXECUTE = "you may not run code in this project"
USER_EXPRESSIONS = f"user expressions are code: sending them {NEEDS_WRITE}"
COMM_TARGET = (
    "only the widget manager's control comm may be opened; other comms (widgets made in "
    "the browser among them) need edit rights"
)
SHUTDOWN = (
    f"shutting down a kernel another user started {NEEDS_WRITE}; "
    "interrupting and restarting it are allowed"
)
NO_NOTEBOOK = (
    "Contributors can only run cells saved in the notebook; "
    "this kernel's notebook could not be read"
)
DEBUG_INFO = "the debugger is not available without edit rights"
UNKNOWN_CHANNEL = "unknown channel"
# when several notebooks refuse a cell, the most telling reason wins
_REFUSAL_ORDER = {"cell_differs": 0, "not_saved": 1, "unknown_cell": 2}


@dataclass(frozen=True, slots=True)
class Access:
    """What the sender may do on the kernel's project, from the policy at that moment.

    ``can_shut_down``: whether they may end the kernel for everyone
    (:func:`..policy.lifecycle.check_kernel_shutdown`).
    """

    can_write: bool
    can_execute: bool
    refusal: str = NO_EXECUTE  # why not, when ``can_execute`` is false
    can_shut_down: bool = False


@dataclass(frozen=True, slots=True)
class Verdict:
    """Whether a message goes to the kernel, why, and how to answer it when it does not.

    ``reply`` is the message type sent back on ``reply_channel`` (None for messages
    that expect no answer); ``harmless`` marks an answer the server gives instead of
    the kernel (``debugInfo``). ``notebook`` is the position, in the notebooks
    given to :func:`judge`, of the one whose cell allowed an ``execute_request``.
    """

    allowed: bool
    code: str
    reason: str
    reply: str | None = None
    reply_channel: str | None = None
    harmless: bool = False
    notebook: int | None = None
    cell_id: str | None = None


@dataclass(frozen=True, slots=True)
class Answer:
    """One message the server sends to the client instead of the kernel."""

    channel: str
    msg_type: str
    content: dict[str, Any]


def _allowed(code: str, reason: str) -> Verdict:
    return Verdict(True, code, reason)


def _refused(channel: str, msg_type: str, code: str, reason: str, **extra: Any) -> Verdict:
    """A refusal with the reply its request expects (``*_request`` -> ``*_reply``)."""
    reply: str | None = None
    reply_channel: str | None = None
    if channel in ("shell", "control") and msg_type.endswith("_request"):
        reply, reply_channel = msg_type[: -len("_request")] + "_reply", channel
    elif channel == "shell" and msg_type == "comm_open":
        reply, reply_channel = "comm_close", "iopub"  # tell the client the comm is dead
    return Verdict(False, code, reason, reply, reply_channel, **extra)


def judge(
    channel: str,
    msg_type: str,
    content: Mapping[str, Any],
    metadata: Mapping[str, Any],
    access: Access,
    notebooks: Callable[[], Sequence[NotebookIndex]],
    comms: Comms = lambda _comm_id: None,
) -> Verdict:
    """The verdict on one message from a client of a kernel.

    ``notebooks`` is called only when a saved cell must be looked up, so callers
    can read the session's notebooks lazily; ``comms`` says what a comm id is (a
    widget's ``module:ModelName``, :data:`.widgets.CONTROL` for a control comm the
    socket opened, None when unknown: see :mod:`.widgets`).
    """
    if channel not in CHANNELS:
        return Verdict(False, "unknown_channel", UNKNOWN_CHANNEL)
    if channel == "iopub":
        return _refused(channel, msg_type, *_refusal(channel, msg_type))
    if not access.can_execute:
        return _refused(channel, msg_type, "no_execute", access.refusal)
    if access.can_write:
        return _allowed("write", "may edit the project")
    rule = RULES.get((channel, msg_type))
    if rule is None:
        return _refused(channel, msg_type, *_refusal(channel, msg_type))
    if rule is Rule.restart and access.can_shut_down:
        return _allowed("shutdown", "may shut this kernel down")
    return _CHECKS[rule](channel, msg_type, content, metadata, notebooks, comms)


def _refusal(channel: str, msg_type: str) -> tuple[str, str]:
    for key in ((channel, msg_type), ("*", msg_type), (channel, "*"), ("*", "*")):
        found = REFUSALS.get(key)
        if found is not None:
            return found
    raise AssertionError("REFUSALS has a catch-all entry")  # pragma: no cover


Check = Callable[
    [
        str,
        str,
        Mapping[str, Any],
        Mapping[str, Any],
        Callable[[], Sequence[NotebookIndex]],
        Comms,
    ],
    Verdict,
]


def _allow(channel: str, msg_type: str, *_: Any) -> Verdict:
    return _allowed("allowed", f"{msg_type} on {channel}")


def _saved_code(
    channel: str,
    msg_type: str,
    content: Mapping[str, Any],
    metadata: Mapping[str, Any],
    notebooks: Callable[[], Sequence[NotebookIndex]],
    _comms: Comms,
) -> Verdict:
    code = content.get("code")
    if not isinstance(code, str):
        return _refused(channel, msg_type, "malformed", "the request has no code")
    if content.get("user_expressions"):
        return _refused(channel, msg_type, "user_expressions", USER_EXPRESSIONS)
    cell_id = metadata.get("cellId")
    cell_id = cell_id if isinstance(cell_id, str) else None
    checks = [index.check_code(code, cell_id) for index in notebooks()]
    for position, check in enumerate(checks):
        if check.allowed:
            return Verdict(True, check.code, check.reason, notebook=position, cell_id=cell_id)
    if not checks:
        return _refused(channel, msg_type, "no_notebook", NO_NOTEBOOK, cell_id=cell_id)
    best: CodeCheck = min(checks, key=lambda c: _REFUSAL_ORDER.get(c.code, 9))
    return _refused(channel, msg_type, best.code, best.reason, cell_id=cell_id)


def _widget_comm(channel: str, msg_type: str, content: Mapping[str, Any], *_: Any) -> Verdict:
    target = content.get("target_name")
    if target in CONTROL_TARGETS:
        return _allowed("widget_comm", f"a {target} comm")
    return _refused(channel, msg_type, "comm_target", COMM_TARGET)


def _widget_msg(
    channel: str, msg_type: str, content: Mapping[str, Any], _m: Any, _n: Any, comms: Comms
) -> Verdict:
    comm_id = content.get("comm_id")
    kind = comms(comm_id) if isinstance(comm_id, str) else None
    refusal = comm_msg_refusal(content, kind)
    if refusal is None:
        return _allowed("widget_input", "a widget input")
    return _refused(channel, msg_type, "widget_state", refusal)


def _own_comm_close(
    channel: str, msg_type: str, content: Mapping[str, Any], _m: Any, _n: Any, comms: Comms
) -> Verdict:
    comm_id = content.get("comm_id")
    if isinstance(comm_id, str) and comms(comm_id) == CONTROL:
        return _allowed("own_comm", "closing a comm this socket opened")
    return _refused(channel, msg_type, "comm_close", NOT_YOURS)


def _restart(channel: str, msg_type: str, content: Mapping[str, Any], *_: Any) -> Verdict:
    if content.get("restart") is True:
        return _allowed("restart", "restarting the kernel")
    return _refused(channel, msg_type, "shutdown", SHUTDOWN)


def _debug_info(channel: str, msg_type: str, content: Mapping[str, Any], *_: Any) -> Verdict:
    if content.get("command") == "debugInfo":
        return _refused(channel, msg_type, "debug_info", DEBUG_INFO, harmless=True)
    return _refused(channel, msg_type, *_refusal(channel, msg_type))


_CHECKS: Mapping[Rule, Check] = MappingProxyType(
    {
        Rule.allow: _allow,
        Rule.saved_code: _saved_code,
        Rule.widget_comm: _widget_comm,
        Rule.widget_msg: _widget_msg,
        Rule.own_comm_close: _own_comm_close,
        Rule.restart: _restart,
        Rule.debug_info: _debug_info,
    }
)


# -- answers -------------------------------------------------------------------------------


def answers(verdict: Verdict, msg_type: str, content: Mapping[str, Any]) -> list[Answer]:
    """What the client receives instead of the kernel's answer to a refused message.

    A refused request gets its reply with ``status: error`` (and, for code, the
    iopub ``error`` that shows in the cell) followed by the iopub ``idle`` status
    that ends the request in JupyterLab. ``debugInfo`` gets a success reply saying
    the debugger is not started.
    """
    if verdict.allowed or verdict.reply is None or verdict.reply_channel is None:
        return []
    if verdict.reply == "comm_close":
        comm_id = content.get("comm_id")
        return [Answer("iopub", "comm_close", {"comm_id": comm_id, "data": {}})]
    found: list[Answer] = []
    if msg_type == "execute_request":
        found.append(Answer("iopub", "error", _error(verdict.reason)))
    found.append(Answer(verdict.reply_channel, verdict.reply, _reply(verdict, content)))
    found.append(Answer("iopub", "status", {"execution_state": "idle"}))
    return found


def _error(reason: str) -> dict[str, Any]:
    return {
        "ename": "PermissionError",
        "evalue": reason,
        "traceback": [f"PermissionError: {reason}"],
    }


def _reply(verdict: Verdict, content: Mapping[str, Any]) -> dict[str, Any]:
    if verdict.reply == "debug_reply":
        return _debug_reply(verdict, content)
    reply: dict[str, Any] = {"status": "error", **_error(verdict.reason)}
    if verdict.reply == "execute_reply":
        reply.update(execution_count=None, user_expressions={}, payload=[])
    return reply


def _debug_reply(verdict: Verdict, content: Mapping[str, Any]) -> dict[str, Any]:
    """A Debug Adapter Protocol response: ``debugInfo`` says "not started", others fail."""
    seq = content.get("seq")
    reply: dict[str, Any] = {
        "type": "response",
        "seq": 0,
        "request_seq": seq if isinstance(seq, int) else 0,
        "command": content.get("command") if isinstance(content.get("command"), str) else "",
        "success": verdict.harmless,
    }
    if verdict.harmless:
        reply["body"] = {
            "isStarted": False,
            "hashMethod": "Murmur2",
            "hashSeed": 0,
            "tmpFilePrefix": "",
            "tmpFileSuffix": ".py",
            "breakpoints": [],
            "stoppedThreads": [],
            "richRendering": False,
            "exceptionPaths": [],
            "copyToGlobals": False,
        }
    else:
        reply["message"] = verdict.reason
        reply["body"] = {}
    return reply
