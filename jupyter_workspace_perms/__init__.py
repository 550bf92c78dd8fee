"""Team workspaces with roles and per-project access, enforced by the Jupyter server."""

from __future__ import annotations

from typing import Any

from ._version import __version__

__all__ = ["__version__"]


def _jupyter_labextension_paths() -> list[dict[str, str]]:
    """Where the prebuilt lab extension is (for ``jupyter labextension develop``)."""
    return [{"src": "labextension", "dest": "jupyter-workspace-perms"}]


def _jupyter_server_extension_points() -> list[dict[str, Any]]:
    """Tell Jupyter Server where the extension application lives."""
    from .extension import WorkspacePermsExtension

    return [{"module": "jupyter_workspace_perms", "app": WorkspacePermsExtension}]
