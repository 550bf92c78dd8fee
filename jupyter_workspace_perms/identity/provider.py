"""The identity provider: every request resolves to a known user, or to nobody.

Sources, in order:

1. **trusted proxy headers**, only from a configured proxy address *and* with the
   shared secret header (loopback is not trusted unless configured: kernels run there);
2. **personal access tokens** in ``Authorization: token …`` (or ``bearer``), or
   ``?token=`` on a page load, which also sets the login cookie;
3. **the login cookie**, re-checked against the policy on every request (a
   revoked token or a deleted user logs the browser out).

The stock server token is not an identity (JupyterLab prints it into every
page), and anonymous users do not exist: both get ``None``, which Jupyter
Server answers with 403 (API) or a redirect to the login page.
"""

from __future__ import annotations

import hmac
import ipaddress
import json
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from jupyter_server.auth.identity import IdentityProvider, User
from traitlets import Bool, List, Unicode, default

from ..policy import PolicySnapshot, Subject, UserFacts
from ..store.tokens import hash_token, looks_like_token

if TYPE_CHECKING:
    from tornado.web import RequestHandler

    from ..store import PolicyStore

PROXY_ACTOR = "proxy"


@dataclass
class WorkspaceUser(User):
    """A Jupyter user with what workspace rules need (docs/design.md#identity)."""

    email: str = ""
    email_verified: bool = False
    login_provider: str = ""
    user_id: int = 0
    token_id: int | None = None

    @property
    def subject(self) -> Subject:
        """Who asks, as the policy core knows them."""
        return Subject(self.user_id, self.login_provider)


def user_from_facts(facts: UserFacts, login_provider: str, token_id: int | None) -> WorkspaceUser:
    """The request's user for a stored user signed in with ``login_provider``."""
    return WorkspaceUser(
        username=facts.username,
        name=facts.display_name or facts.username,
        display_name=facts.display_name or facts.username,
        email=facts.email,
        email_verified=facts.email_verified,
        login_provider=login_provider,
        user_id=facts.id,
        token_id=token_id,
    )


class WorkspaceIdentityProvider(IdentityProvider):
    """Personal access tokens, trusted proxy headers and login cookies."""

    trusted_proxy_ips = List(
        Unicode(),
        config=True,
        help="""Addresses (or CIDR networks) of reverse proxies whose identity headers
        are trusted, e.g. ``["10.0.0.5"]``. Default: none, so proxy headers are
        ignored. Loopback is deliberately not trusted unless listed here, because
        kernels run on loopback too.""",
    )
    proxy_secret = Unicode(
        config=True,
        help="""Shared secret the proxy must send in ``proxy_secret_header``. Proxy
        headers are ignored while it is empty (the default). Defaults to
        ``$WORKSPACE_PERMS_PROXY_SECRET``.""",
    )
    proxy_secret_header = Unicode(
        "X-Workspace-Perms-Proxy-Secret",
        config=True,
        help="Header carrying the proxy's shared secret (default X-Workspace-Perms-Proxy-Secret).",
    )
    proxy_email_header = Unicode(
        "X-Forwarded-Email",
        config=True,
        help="Header with the signed-in user's email (default X-Forwarded-Email, oauth2-proxy's).",
    )
    proxy_provider_header = Unicode(
        "X-Forwarded-Provider",
        config=True,
        help="""Header naming the login provider of this sign-in (default
        X-Forwarded-Provider). When absent, ``proxy_default_provider`` is used.""",
    )
    proxy_default_provider = Unicode(
        "proxy",
        config=True,
        help="Login provider recorded when the proxy sends none (default 'proxy').",
    )
    proxy_email_verified = Bool(
        True,
        config=True,
        help="""Whether emails from the proxy count as verified (default True: the
        proxy signed the user in with their identity provider).""",
    )

    @default("proxy_secret")
    def _proxy_secret_default(self) -> str:
        import os

        return os.environ.get("WORKSPACE_PERMS_PROXY_SECRET", "")

    @default("cookie_options")
    def _cookie_options_default(self) -> dict[str, Any]:
        return {"samesite": "Lax"}

    store: PolicyStore | None = None  # attached by the server extension

    # -- the hook Jupyter Server calls -------------------------------------------------

    async def get_user(self, handler: RequestHandler) -> WorkspaceUser | None:
        """The user making this request, or None (denied)."""
        cached = getattr(handler, "_jupyter_current_user", None)
        if isinstance(cached, WorkspaceUser):
            return cached
        if self.store is None:
            return None  # the extension did not load: nobody gets in
        user = self._user_from_proxy(handler) or self._user_from_token(handler)
        if user is None:
            user = self._user_from_cookie(handler)
        return user

    def _snapshot(self) -> PolicySnapshot:
        assert self.store is not None
        return self.store.snapshot

    def identity_model(self, user: User) -> dict[str, Any]:
        """``/api/me``'s identity: the Jupyter fields plus email and provider, no internal ids."""
        model = super().identity_model(user)
        model.pop("user_id", None)
        model.pop("token_id", None)
        return model

    # -- tokens ------------------------------------------------------------------------

    def _user_from_token(self, handler: RequestHandler) -> WorkspaceUser | None:
        secret = self.get_token(handler)
        if not secret or not looks_like_token(secret):
            return None
        user = self.user_for_token(secret)
        if user is None:
            return None
        if handler.get_argument("token", ""):
            self.set_login_cookie(handler, user)  # a page load with ?token= logs the browser in
        handler._token_authenticated = True  # type: ignore[attr-defined]
        return user

    def user_for_token(self, secret: str) -> WorkspaceUser | None:
        """The user a personal access token stands for, if it is valid now."""
        snap = self._snapshot()
        token = snap.tokens.get(hash_token(secret))
        if token is None or not token.usable(time.time()):
            return None
        facts = snap.users.get(token.user_id)
        return None if facts is None else user_from_facts(facts, token.login_provider, token.id)

    def process_login_form(self, handler: RequestHandler) -> WorkspaceUser | None:
        """The login page accepts a personal access token in its password field."""
        secret = handler.get_argument("password", default="").strip()
        if self.store is None or not looks_like_token(secret):
            return None
        return self.user_for_token(secret)

    # -- cookies -----------------------------------------------------------------------

    def user_to_cookie(self, user: User) -> str:
        """Only what is needed to find the user again; everything else is re-read."""
        assert isinstance(user, WorkspaceUser)
        return json.dumps(
            {"username": user.username, "provider": user.login_provider, "token": user.token_id}
        )

    def user_from_cookie(self, cookie_value: str) -> WorkspaceUser | None:
        """The cookie's user, if they still exist and their token is still valid."""
        data = json.loads(cookie_value)
        snap = self._snapshot()
        facts = snap.user_named(str(data.get("username", "")))
        if facts is None:
            return None
        token_id = data.get("token")
        if token_id is not None and not _token_id_usable(snap, facts.id, token_id):
            return None
        return user_from_facts(facts, str(data.get("provider") or facts.login_provider), token_id)

    def _user_from_cookie(self, handler: RequestHandler) -> WorkspaceUser | None:
        if self.store is None:
            return None
        user = self.get_user_cookie(handler)
        if user is None and handler.get_cookie(self.get_cookie_name(handler)) is not None:
            self.clear_login_cookie(handler)
        return user if isinstance(user, WorkspaceUser) else None

    # -- trusted proxy -----------------------------------------------------------------

    def _user_from_proxy(self, handler: RequestHandler) -> WorkspaceUser | None:
        if not self.proxy_secret or not self.trusted_proxy_ips:
            return None
        headers = handler.request.headers
        sent_secret = headers.get(self.proxy_secret_header, "")
        email = headers.get(self.proxy_email_header, "").strip()
        if not email or not hmac.compare_digest(sent_secret.encode(), self.proxy_secret.encode()):
            return None
        if not self._from_trusted_proxy(handler):
            self.log.warning(
                "ignoring identity headers from untrusted address %s", _peer_address(handler)
            )
            return None
        provider = headers.get(self.proxy_provider_header, "").strip() or (
            self.proxy_default_provider
        )
        facts = self._known_proxy_user(email.lower(), provider)
        return None if facts is None else user_from_facts(facts, provider, None)

    def _from_trusted_proxy(self, handler: RequestHandler) -> bool:
        peer = _peer_address(handler)
        if peer is None:
            return False
        try:
            address = ipaddress.ip_address(peer)
        except ValueError:
            return False
        return any(
            address in ipaddress.ip_network(net, strict=False) for net in self.trusted_proxy_ips
        )

    def _known_proxy_user(self, email: str, provider: str) -> UserFacts | None:
        """The stored user for a proxy sign-in, recorded on first sight."""
        facts = self._snapshot().user_named(email)
        if facts is not None and facts.login_provider == provider:
            return facts
        assert self.store is not None
        with self.store.write(PROXY_ACTOR) as writer:
            writer.ensure_user(email, provider, email_verified=self.proxy_email_verified)
        return self._snapshot().user_named(email)


def _token_id_usable(snap: PolicySnapshot, user_id: int, token_id: Any) -> bool:
    token = snap.tokens_by_id.get(token_id) if isinstance(token_id, int) else None
    return token is not None and token.user_id == user_id and token.usable(time.time())


def _peer_address(handler: RequestHandler) -> str | None:
    """The socket peer of the request, never a client-supplied X-Forwarded-For."""
    context = getattr(handler.request.connection, "context", None)
    address = getattr(context, "address", None)
    if isinstance(address, tuple) and address:
        return str(address[0])
    return None
