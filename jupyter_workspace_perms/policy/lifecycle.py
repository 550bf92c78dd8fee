"""Who may end a kernel: the one rule behind REST and the kernel websocket.

Interrupting and restarting a kernel are ``project:execute`` on the project the
kernel is bound to: people who run code there need them to recover a stuck
kernel, and neither ends the kernel for the others who use it. Shutting a kernel
down ends it for everyone, so it needs ``project:write``, or being the user who
started the kernel (who still needs ``project:execute``). The REST routes
(``DELETE /api/kernels/{id}``, ``DELETE /api/sessions/{id}``, a ``PATCH`` of a
session that replaces its kernel) and a websocket ``shutdown_request`` without
``restart`` all ask :func:`check_kernel_shutdown`. Pure, like :mod:`.decisions`.
"""

from __future__ import annotations

from dataclasses import replace

from .decisions import Decision, check_project
from .facts import PolicySnapshot, Subject

EXECUTE = "project:execute"
WRITE = "project:write"
NOT_STARTER = "not_kernel_starter"


def check_kernel_shutdown(
    snap: PolicySnapshot,
    subject: Subject,
    project_id: int,
    started_by: int | None,
    now: float,
) -> Decision:
    """May ``subject`` shut down a kernel of ``project_id`` started by user ``started_by``?

    ``started_by`` is None for a kernel started outside any request (nobody is its
    starter). The refusal of someone who may not read the project is invisible (404).
    """
    write = check_project(snap, subject, project_id, WRITE, now)
    if write.allowed:
        return write
    execute = check_project(snap, subject, project_id, EXECUTE, now)
    if not execute.allowed:
        return execute
    if started_by is not None and started_by == subject.user_id:
        return replace(execute, source="kernel starter")
    return Decision(
        False,
        WRITE,
        NOT_STARTER,
        write.role,
        True,
        write.source,
        write.workspace,
        write.project,
        note=(
            f"shutting down a kernel another user started needs {WRITE} on {write.target}; "
            "you may interrupt or restart it"
        ),
    )
