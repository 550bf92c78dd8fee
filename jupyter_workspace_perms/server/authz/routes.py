"""Which target function lists what a request touches, per resource and handler class.

The Authorizer asks :func:`targets_for` for every request it does not answer from the
resource alone. A resource or handler missing here gets None, which the Authorizer
refuses (``unknown_resource``): a route nobody described is never let through.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ...policy import PolicySnapshot
from . import collaboration
from .targets import (
    Request,
    Target,
    checkpoints,
    contents,
    kernels,
    no_file,
    read_path,
    sessions,
    write_path,
)
from .terminals import TERMINAL_HANDLERS

TargetFunction = Callable[[Request], list[Target]]

# handler class name -> target function, per resource
CONTENTS_HANDLERS: dict[str, TargetFunction] = {
    "ContentsHandler": contents,
    "CheckpointsHandler": checkpoints,
    "ModifyCheckpointsHandler": checkpoints,
    "TrustNotebooksHandler": write_path,
    "AuthenticatedFileHandler": read_path,
    "ViewHandler": read_path,
    "NotebooksRedirectHandler": read_path,
    # Notebook 7's /tree and /notebooks pages (asked by server/gates.py): they redirect
    # by whether the path exists
    "TreeHandler": read_path,
    "NotebookHandler": read_path,
    # jupyter-collaboration (its room route is served by our guarded handler: the stock
    # one is unknown here, so it is refused) and jupyter_server_fileid
    "GuardedRoomHandler": collaboration.room,
    "DocSessionHandler": collaboration.session,
    "TimelineHandler": collaboration.session,
    "DocForkHandler": collaboration.fork,
    "UndoRedoHandler": collaboration.undo_redo,
    "FileIDHandler": collaboration.file_id,
    "FilePathHandler": collaboration.file_id_path,
}
NBCONVERT_HANDLERS: dict[str, TargetFunction] = {
    "NbconvertFileHandler": read_path,
    "NbconvertPostHandler": no_file,
    "NbconvertRootHandler": no_file,
}
RESOURCE_TARGETS: dict[str, TargetFunction | dict[str, TargetFunction]] = {
    "contents": CONTENTS_HANDLERS,
    "nbconvert": NBCONVERT_HANDLERS,
    "kernels": kernels,
    "sessions": sessions,
    "terminals": TERMINAL_HANDLERS,
}


def targets_for(
    handler: Any,
    resource: str,
    action: str,
    snap: PolicySnapshot,
    server_admin: Callable[[], bool] | None = None,
) -> list[Target] | None:
    """The targets of a request, or None when this resource or handler is unknown."""
    found = RESOURCE_TARGETS.get(resource)
    if isinstance(found, dict):
        found = found.get(type(handler).__name__)
    if found is None:
        return None
    return found(Request(handler, snap, action, server_admin))
