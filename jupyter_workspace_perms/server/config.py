"""Front-end config sections (``/api/config/{section}``) per user.

jupyter_server keeps one JSON file per section for the whole server
(``<jupyter_config_dir>/serverconfig/<section>.json``): whatever one user wrote,
every other user read, across workspaces. JupyterLab and Notebook 7 read a section
on every page load (``jupyterlabapputilsextensionannouncements``, which remembers
the news a user dismissed) and write it when a user dismisses one; extensions may
use other sections.

:class:`WorkspaceConfigManager` keeps writes per user, in
``<jupyter_config_dir>/serverconfig/users/<sha256(username)[:16]>/<section>.json``
(a ``users`` folder in the stock manager's ``write_config_dir``, as
``server/gates.py`` keeps JupyterLab settings). A read merges the operator's
sections (every ``serverconfig`` folder of ``jupyter_config_path()``, as
jupyter_server reads them) with the user's own on top. So writes are open to
every signed-in user (the Authorizer allows them only with this manager), and
nobody's values reach anyone else. Outside a request (server internals) it is
the stock manager.
"""

from __future__ import annotations

import os
from typing import Any, ClassVar

from jupyter_server import CallContext
from jupyter_server.config_manager import BaseJSONConfigManager, recursive_update
from jupyter_server.services.config.manager import ConfigManager
from tornado import web

from ..identity.provider import WorkspaceUser
from .gates import NO_IDENTITY, user_key


class WorkspaceConfigManager(ConfigManager):
    """The operator's config sections, with each user's own writes on top."""

    # the Authorizer opens config writes to every signed-in user for this manager only
    workspace_perms_per_user: ClassVar[bool] = True

    def get(self, section_name: str) -> dict[str, Any]:
        """The operator's section, with the requesting user's values on top."""
        config: dict[str, Any] = super().get(section_name)  # type: ignore[no-untyped-call]
        own = self._own()
        if own is not None:
            recursive_update(config, own.get(section_name))
        return config

    def set(self, section_name: str, data: Any) -> None:
        """Replace the requesting user's own section."""
        own = self._own()
        if own is None:
            super().set(section_name, data)  # type: ignore[no-untyped-call]
        else:
            own.set(section_name, data)

    def update(self, section_name: str, new_data: Any) -> dict[str, Any]:
        """Merge into the requesting user's own section (``null`` values delete keys)."""
        own = self._own()
        if own is None:
            result: dict[str, Any] = super().update(section_name, new_data)  # type: ignore[no-untyped-call]
            return result
        return own.update(section_name, new_data)

    def _own(self) -> BaseJSONConfigManager | None:
        """The requesting user's sections; None outside requests (server internals).

        A request without a workspace identity gets nothing (the Authorizer refuses
        it first).
        """
        handler = CallContext.get(CallContext.JUPYTER_HANDLER)
        if handler is None:
            return None
        user = getattr(handler, "current_user", None)
        if not isinstance(user, WorkspaceUser):
            raise web.HTTPError(403, NO_IDENTITY, reason="no_identity")
        folder = os.path.join(self.write_config_dir, "users", user_key(user))
        return BaseJSONConfigManager(config_dir=folder)
