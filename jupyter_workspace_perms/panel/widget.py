"""The ``WorkspacePanel`` ipywidget: the lab extension's settings page inside a notebook."""

from __future__ import annotations

from typing import Any

from traitlets import Dict, List, Unicode

from .._version import __version__

try:
    from ipywidgets import DOMWidget  # type: ignore[import-untyped]
except ImportError as error:  # ipywidgets is optional (the ``demo`` extra has it)
    raise ImportError(
        "WorkspacePanel is an ipywidget: install ipywidgets (pip install ipywidgets)"
    ) from error

#: The npm package whose prebuilt lab extension registers the panel's model and view.
MODULE_NAME = "jupyter-workspace-perms"
#: The semver range of that package's version the model and view must match.
MODULE_VERSION = f"^{__version__}"


class WorkspacePanel(DOMWidget):  # type: ignore[misc]  # ipywidgets is untyped
    """The workspace settings page (members, domain invites, enforced SSO, projects,
    access tokens) shown in a notebook: ``WorkspacePanel("acme")``.

    Why it is built this way:

    - **No code from the kernel.** The view is ``WorkspacePanelView`` of the npm package
      ``jupyter-workspace-perms``, installed by the operator with this Python package
      (a prebuilt lab extension). The kernel only names it. A widget whose JavaScript
      came from the kernel (anywidget's ``_esm``) would let anyone who can run code in
      a notebook run script in the browser of every Admin who opens it, with that
      Admin's session.
    - **The person looking acts, never the kernel.** The view calls the REST API from
      the browser with the session of the person looking at it, so they see and may
      change exactly what the server lets *them*; every rule is checked on the server.
      The kernel holds no credential. The view performs a change only on that person's
      own click or key press, never because of a trait change or a message from the
      kernel: from the kernel it takes only which workspace to show (:attr:`workspace`)
      and a request to re-read (:meth:`refresh`).
    - **Read-only conveniences.** :attr:`members` and :attr:`error` are filled in by the
      view after it loads, but only while the person looking ticks "share the member
      list of <workspace> with this notebook's kernel": anyone who can run code in the
      kernel can read them, and that may be somebody who may not list the members. The
      consent is for the workspace it names: showing another one (setting
      :attr:`workspace`, or the panel's own picker) ends it and empties them. They are
      read-only here; assigning them changes nothing anywhere (the view ignores them).

    Without JupyterLab's widget manager (e.g. a plain ``python`` prompt) the object is
    inert: it shows as text and never talks to the server.
    """

    _model_name = Unicode("WorkspacePanelModel").tag(sync=True)
    _model_module = Unicode(MODULE_NAME).tag(sync=True)
    _model_module_version = Unicode(MODULE_VERSION).tag(sync=True)
    _view_name = Unicode("WorkspacePanelView").tag(sync=True)
    _view_module = Unicode(MODULE_NAME).tag(sync=True)
    _view_module_version = Unicode(MODULE_VERSION).tag(sync=True)

    workspace = Unicode(
        "",
        help="The slug of the workspace to show ('' for the first of the viewer's).",
    ).tag(sync=True)
    members = List(
        Dict(),
        read_only=True,
        help="Members and guests as the person looking sees them (filled by the view "
        "while they share them for the workspace shown; empty otherwise).",
    ).tag(sync=True, echo_update=False)
    error = Unicode(
        "",
        read_only=True,
        help="Why the view could not load, as the server said (shared like members).",
    ).tag(sync=True, echo_update=False)

    def __init__(self, workspace: str = "", **kwargs: Any) -> None:
        super().__init__(workspace=workspace, **kwargs)

    def refresh(self) -> None:
        """Ask every view to re-read the settings from the server (a read, nothing else)."""
        self.send({"kind": "refresh"})

    def __repr__(self) -> str:
        return f"WorkspacePanel({self.workspace!r}, members={len(self.members)})"
