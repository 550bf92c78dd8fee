"""REST handlers under ``/api/workspace-perms/``, one module per resource."""

from __future__ import annotations

from typing import Any

from . import (
    access_requests,
    audit,
    comments,
    duplicate,
    integrations,
    me,
    members,
    projects,
    status,
    tokens,
    workspaces,
)

default_handlers: list[tuple[str, Any]] = [
    *me.default_handlers,
    *workspaces.default_handlers,
    *members.default_handlers,
    *projects.default_handlers,
    *duplicate.default_handlers,
    *integrations.default_handlers,
    *comments.default_handlers,
    *access_requests.default_handlers,
    *audit.default_handlers,
    *tokens.default_handlers,
    *status.default_handlers,
]
