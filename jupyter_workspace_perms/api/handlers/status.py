"""``/status`` and ``/spec.yaml``: what is running, and the API's own description."""

from __future__ import annotations

from ..._version import __version__
from ...policy import holds_anywhere
from ...store.database import head_revision, redact, sqlite_path
from ..openapi import document_yaml
from .base import Call, WorkspacePermsHandler, api, route

ISOLATION_MESSAGE = (
    "Kernels are not sandboxed: anyone who can run code (Editors, and Contributors through "
    "saved cells) can read every file the server's OS user can read, other projects included."
)


class StatusHandler(WorkspacePermsHandler):
    """Version, store and isolation; store details only for workspace Admins."""

    @api("status.get")
    async def get(self, call: Call) -> None:
        """Everyone sees the version; Admins of some workspace see where the policy lives."""
        details = holds_anywhere(
            call.snap, call.user.subject, "workspace:manage_settings", call.now
        )
        url = self.store.db_url
        store = {"backend": "sqlite" if sqlite_path(url) is not None else self.store.engine.name}
        if details:
            store["db_url"] = redact(url)
            store["schema"] = head_revision()  # the server refuses to run on any other
        self.write_json(
            {
                "version": __version__,
                "policy_version": call.snap.version,
                "store": store,
                "isolation": {"kernels": "none", "message": ISOLATION_MESSAGE},
                "details": details,
            }
        )


class SpecHandler(WorkspacePermsHandler):
    """The OpenAPI document of this API."""

    @api("spec.get")
    async def get(self, call: Call) -> None:
        """The document, as YAML."""
        # APIHandler.finish would otherwise label the YAML application/json
        self.finish(document_yaml(), set_content_type="application/yaml")


default_handlers = [(route("/status"), StatusHandler), (route("/spec.yaml"), SpecHandler)]
