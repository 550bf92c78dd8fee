"""Checkpoints that never follow a symbolic link.

A checkpoint lives at ``<folder>/.ipynb_checkpoints/<name>-checkpoint<ext>``, a path the
stock manager builds itself after the Authorizer decided on the file's own path. Code
that may write the folder (a kernel that runs unconfined, or anyone before the kernel
sandbox refused links) could make ``.ipynb_checkpoints`` or the checkpoint file a link
to another project or to the server's secrets: restoring would then read through it,
creating a checkpoint would write through it. Here a checkpoint whose folder or file is
a link, or whose real path leaves the file's folder, is refused with 404.
"""

from __future__ import annotations

import os

from jupyter_server.services.contents.filecheckpoints import AsyncFileCheckpoints
from tornado import web


class WorkspaceCheckpoints(AsyncFileCheckpoints):
    """File checkpoints beside each file, refused when reached through a link."""

    def checkpoint_path(self, checkpoint_id: str, path: str) -> str:
        """The checkpoint's real path, inside the file's own folder."""
        found: str = super().checkpoint_path(checkpoint_id, path)  # type: ignore[no-untyped-call]
        parent = path.strip("/").rpartition("/")[0]
        folder = os.path.realpath(self._get_os_path(path=parent))  # type: ignore[no-untyped-call]
        inside = os.path.realpath(found).startswith(folder + os.sep)
        linked = os.path.islink(found) or os.path.islink(os.path.dirname(found))
        if linked or not inside:
            raise web.HTTPError(
                404, "no such checkpoint (its folder or file is a link)", reason="not_found"
            )
        return found
