"""``POST /workspace-perms/sign-in``: the button of the sign-in confirmation page.

The confirmation page (:mod:`.pages`) is shown wherever a sign-in link points;
only this handler sets the login cookie for a link's token, and only for a POST
that passed Jupyter's XSRF check (the page's form carries the ``_xsrf`` field, a
cross-site form cannot). The token arrives in the form field
:data:`~.pages.SIGN_IN_FIELD`, never ``token``, which no other route reads as a
credential. ``next`` is checked by Jupyter's own login handler logic
(``_redirect_safe``: a path below the base URL, or an allowed origin).

The identity provider registers this handler (``get_handlers``), like Jupyter's
login and logout pages.
"""

from __future__ import annotations

from jupyter_server.auth.decorator import allow_unauthenticated
from jupyter_server.auth.login import LoginFormHandler
from tornado import web

from ..store.tokens import looks_like_token
from . import pages
from .provider import WorkspaceIdentityProvider


class SignInHandler(LoginFormHandler):
    """Sets the login cookie for a token the person confirmed on the sign-in page."""

    @allow_unauthenticated
    def get(self) -> None:
        """Nothing to show at this address: the page is shown where the link points."""
        next_url = self.get_query_argument("next", self.base_url)
        self._redirect_safe(next_url)  # type: ignore[no-untyped-call]

    @allow_unauthenticated
    async def post(self) -> None:
        """Sign in as the confirmed token's user, then go where the link pointed."""
        provider = self.identity_provider
        if not isinstance(provider, WorkspaceIdentityProvider) or provider.store is None:
            raise web.HTTPError(403, "sign-in links are not available", reason="no_identity")
        secret = self.get_body_argument(pages.SIGN_IN_FIELD, "").strip()
        next_url = self.get_body_argument("next", self.base_url)
        if not looks_like_token(secret):
            pages.render_problem(self, pages.unknown_token(), next_url)
            return
        user, problem = await provider.lookup_token(secret)
        if user is None:
            assert problem is not None
            pages.render_problem(self, problem, next_url)
            return
        provider.set_login_cookie(self, user)
        self.log.info("%s signed in through a confirmed sign-in link", user.username)
        self._redirect_safe(next_url)  # type: ignore[no-untyped-call]
