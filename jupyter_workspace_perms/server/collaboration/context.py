"""Set while a collaboration room loads and saves its document.

The room's saves hold what people without write contributed (outputs among
them), so the contents manager never signs a notebook it saves for a room: such
outputs must not become trusted for the next reader.
"""

from __future__ import annotations

from contextvars import ContextVar

ROOM_SAVE: ContextVar[bool] = ContextVar("workspace_perms_room_save", default=False)
