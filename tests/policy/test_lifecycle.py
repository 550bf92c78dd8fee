"""Who may shut a kernel down (``policy/lifecycle.py``), and the websocket judge using the
same rule through ``Access.can_shut_down`` (issue #10, item 3).

``project:write``, or ``project:execute`` and being the user who started the kernel;
interrupt and restart stay ``project:execute``. Pure: a hand-made snapshot, no server.
"""

from __future__ import annotations

import pytest

from jupyter_workspace_perms.kernel.judge import Access, judge
from jupyter_workspace_perms.policy import (
    MembershipFacts,
    PolicySnapshot,
    ProjectFacts,
    Role,
    Subject,
    UserFacts,
    WorkspaceFacts,
)
from jupyter_workspace_perms.policy.decisions import check_project
from jupyter_workspace_perms.policy.lifecycle import check_kernel_shutdown
from jupyter_workspace_perms.policy.permissions import ProjectAccess

NOW = 1_750_000_000.0
USERS = {"ada": 101, "ed": 102, "cora": 103, "vic": 104, "otto": 105}
ROLES = {"ada": Role.admin, "ed": Role.editor, "cora": Role.contributor, "vic": Role.viewer}
PUBLIC, PRIVATE = 301, 302


def snapshot(viewers_can_execute: bool = False) -> PolicySnapshot:
    return PolicySnapshot.build(
        version=1,
        users=[
            UserFacts(i, name, f"{name}@acme.test", True, "google") for name, i in USERS.items()
        ],
        workspaces=[WorkspaceFacts(201, "acme", 101, viewers_can_execute=viewers_can_execute)],
        projects=[
            ProjectFacts(PUBLIC, 201, "public", ProjectAccess.full),
            ProjectFacts(PRIVATE, 201, "private", ProjectAccess.none),
        ],
        memberships=[MembershipFacts(201, USERS[n], role) for n, role in ROLES.items()],
    )


def subject(name: str) -> Subject:
    return Subject(USERS[name], "google")


# (who, started by, project) -> (allowed, code)
CASES = [
    ("ed", "cora", PUBLIC, True, "allowed"),  # project:write: any kernel
    ("ada", None, PUBLIC, True, "allowed"),  # started outside any request
    ("cora", "cora", PUBLIC, True, "allowed"),  # her own kernel
    ("cora", "ed", PUBLIC, False, "not_kernel_starter"),
    ("cora", None, PUBLIC, False, "not_kernel_starter"),
    ("vic", "vic", PUBLIC, False, "role_too_low"),  # started it, then lost execute
    ("vic", "ed", PUBLIC, False, "role_too_low"),
    ("otto", "ed", PUBLIC, False, "no_access"),  # invisible: 404
    ("cora", "cora", PRIVATE, False, "private"),  # invisible too
]


@pytest.mark.parametrize(("who", "starter", "project", "allowed", "code"), CASES)
def test_shutdown_needs_write_or_being_the_starter(
    who: str, starter: str | None, project: int, allowed: bool, code: str
) -> None:
    started_by = None if starter is None else USERS[starter]
    decision = check_kernel_shutdown(snapshot(), subject(who), project, started_by, NOW)
    assert (decision.allowed, decision.code) == (allowed, code)
    assert decision.visible == (code not in ("no_access", "private"))
    if code == "not_kernel_starter":
        assert decision.reason.startswith("shutting down a kernel another user started")


def test_viewers_who_may_run_code_may_end_their_own_kernels_only() -> None:
    snap = snapshot(viewers_can_execute=True)
    vic = subject("vic")
    assert check_project(snap, vic, PUBLIC, "project:execute", NOW).allowed
    assert check_kernel_shutdown(snap, vic, PUBLIC, USERS["vic"], NOW).allowed
    assert check_kernel_shutdown(snap, vic, PUBLIC, USERS["ed"], NOW).code == "not_kernel_starter"


@pytest.mark.parametrize("can_shut_down", [False, True])
def test_the_judge_lets_a_shutdown_through_for_who_may_shut_down(can_shut_down: bool) -> None:
    access = Access(can_write=False, can_execute=True, can_shut_down=can_shut_down)
    verdict = judge("control", "shutdown_request", {"restart": False}, {}, access, list)
    assert verdict.allowed is can_shut_down, verdict
    if not can_shut_down:
        assert "another user started" in verdict.reason
    # a restart needs execute only; shutdown on the shell channel never
    assert judge("control", "shutdown_request", {"restart": True}, {}, access, list).allowed
    on_shell = judge("shell", "shutdown_request", {"restart": False}, {}, access, list)
    assert not on_shell.allowed and on_shell.code == "unknown_type"
    # without execute, nothing (a starter who lost access)
    lost = Access(can_write=False, can_execute=False, can_shut_down=can_shut_down)
    assert not judge("control", "shutdown_request", {"restart": False}, {}, lost, list).allowed
