"""REST handlers under ``/api/workspace-perms/``, one module per resource."""

from __future__ import annotations

from typing import Any

from . import me

default_handlers: list[tuple[str, Any]] = [*me.default_handlers]
