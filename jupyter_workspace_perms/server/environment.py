"""Kernels of a project receive the variables of the integrations connected to it.

:class:`IntegrationEnvironment` is the kernel sandbox's environment hook
(:meth:`~..sandbox.KernelEnvironment.project_variables`) as this server fills it:
at every kernel start and restart it reads the project's connections and decrypts
their values (:mod:`..store.integrations`). The values travel only in the kernel's
environment, never on a command line nor in a log.
"""

from __future__ import annotations

from typing import Any

from tornado import web

from ..sandbox import KernelEnvironment, KernelPlace
from ..store.integrations import Integrations, KeyMissing


class IntegrationEnvironment(KernelEnvironment):
    """The allow-listed environment plus the project's integrations."""

    def project_variables(self, place: KernelPlace) -> dict[str, str]:
        """The decrypted variables of the project's connected integrations."""
        integrations = self._integrations()
        if integrations is None:
            return {}
        try:
            secrets = integrations.secrets_for(place.project_id)
        except KeyMissing as e:
            self.log.error("kernel of project %s: %s", place.project_id, e.message)
            raise web.HTTPError(
                500,
                "the integrations connected to this project cannot be decrypted (the "
                "server's integration key is missing or not theirs): ask the server's "
                "operator; the server's log says more",
                reason=e.reason,
            ) from None
        if secrets.variables:
            self.log.info(
                "kernel of project %s gets %s from %s",
                place.project_id,
                ", ".join(sorted(secrets.variables)),
                ", ".join(sorted(set(secrets.sources.values()))),
            )
        return secrets.variables

    def _integrations(self) -> Integrations | None:
        kernel_manager: Any = getattr(self.parent, "parent", None)
        web_app = getattr(getattr(kernel_manager, "parent", None), "web_app", None)
        found = None if web_app is None else web_app.settings.get("workspace_perms_integrations")
        return found if isinstance(found, Integrations) else None
