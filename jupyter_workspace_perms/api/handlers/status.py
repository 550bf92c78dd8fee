"""``/status`` and ``/spec.yaml``: what is running, and the API's own description."""

from __future__ import annotations

from typing import Any

from ..._version import __version__
from ...policy import holds_anywhere
from ...sandbox import KernelSandbox
from ...store.database import head_revision, redact, sqlite_path
from ..openapi import document_yaml
from .base import Call, WorkspacePermsHandler, api, route


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
        isolation = self.kernel_isolation()
        if not details:
            isolation.pop("self_test", None)
        self.write_json(
            {
                "version": __version__,
                "policy_version": call.snap.version,
                "store": store,
                "isolation": isolation,
                "details": details,
            }
        )

    def kernel_isolation(self) -> dict[str, Any]:
        """The kernel sandbox's verdict (see :mod:`...sandbox.confinement`)."""
        sandbox = getattr(self.settings.get("kernel_manager"), "sandbox", None)
        if isinstance(sandbox, KernelSandbox):
            return sandbox.status()
        return {  # another kernel manager: nothing is known to confine kernels
            "kernels": "none",
            "confined": False,
            "mode": "off",
            "configured_mode": "default",
            "network": "shared",
            "message": "Kernels are not sandboxed: this server's kernel manager has no sandbox.",
        }


class SpecHandler(WorkspacePermsHandler):
    """The OpenAPI document of this API."""

    @api("spec.get")
    async def get(self, call: Call) -> None:
        """The document, as YAML."""
        # APIHandler.finish would otherwise label the YAML application/json
        self.finish(document_yaml(), set_content_type="application/yaml")


default_handlers = [(route("/status"), StatusHandler), (route("/spec.yaml"), SpecHandler)]
