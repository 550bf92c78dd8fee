"""The admin panel in a notebook: ``WorkspacePanel("acme")`` shows the workspace settings.

The panel is an ipywidgets ``DOMWidget`` whose view ships in this package's prebuilt
JupyterLab extension; see :class:`WorkspacePanel` for why the kernel holds no
credential and cannot change the policy.
"""

from __future__ import annotations

from .widget import MODULE_NAME, MODULE_VERSION, WorkspacePanel

__all__ = ["MODULE_NAME", "MODULE_VERSION", "WorkspacePanel"]
