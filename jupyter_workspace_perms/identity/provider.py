"""The identity provider: every request resolves to a known user, or to nobody.

Sources, in order:

1. **trusted proxy headers**, only from a configured proxy address *and* with the
   shared secret header (loopback is not trusted unless configured: kernels run there);
2. **personal access tokens** in ``Authorization: token …`` (or ``bearer``) only. A
   token-shaped secret there that signs nobody in (unknown, revoked, expired) is
   answered with 401 and a reason at once, on every route (before Jupyter's XSRF
   check, which would otherwise answer a misleading "'_xsrf' argument missing");
3. **the login cookie**, re-checked against the policy on every request (a
   revoked token or a deleted user logs the browser out).

A ``token`` in a URL or a form body never authenticates a request and never sets
the cookie: a link or a cross-site form could otherwise sign a victim's browser
into someone else's account (login CSRF), and a form field would skip the XSRF
check. A *page* load with ``?token=`` shows a confirmation page instead
(:mod:`.pages`); its button POSTs to :class:`.sign_in.SignInHandler`, which sets
the cookie. An API or websocket request whose only credential is such a token is
answered with 401 ``token_not_in_header``.

The stock server token is not an identity (JupyterLab sends it in every request's
``Authorization`` header, so only token-*shaped* secrets get the 401), and anonymous
users do not exist: both get ``None``, which Jupyter Server answers with 403 (API)
or a redirect to the login page.
"""

from __future__ import annotations

import asyncio
import hmac
import ipaddress
import json
import math
import time
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import TYPE_CHECKING, Any, NoReturn

from jupyter_server.auth.identity import IdentityProvider, User
from jupyter_server.base.handlers import APIHandler
from tornado import web
from tornado.websocket import WebSocketHandler
from traitlets import Bool, Float, List, TraitError, Unicode, default, validate

from ..policy import PolicySnapshot, Subject, UserFacts
from ..store.tokens import hash_token, looks_like_token
from . import lifetime, pages

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

    token_max_lifetime_days = Float(
        90.0,
        config=True,
        help="""Longest lifetime, in days, of a token created through the server (the
        REST API's ``POST tokens``; default 90). A new token also never outlives the
        token its creator signed in with (in the ``Authorization`` header, or the one
        their login cookie was made from); a sign-in through the trusted proxy is
        bounded by this maximum only. Without ``expires_at`` a new token gets the
        latest allowed expiry; a later one is refused with 400. Tokens an operator
        creates with ``jupyter workspace-perms token create`` are not bounded by it.""",
    )

    @validate("token_max_lifetime_days")
    def _positive_lifetime(self, proposal: dict[str, Any]) -> float:
        value = float(proposal["value"])
        if not (math.isfinite(value) and value > 0):
            raise TraitError(f"token_max_lifetime_days must be a positive number, not {value}")
        return value

    @default("proxy_secret")
    def _proxy_secret_default(self) -> str:
        import os

        return os.environ.get("WORKSPACE_PERMS_PROXY_SECRET", "")

    @default("cookie_options")
    def _cookie_options_default(self) -> dict[str, Any]:
        return {"samesite": "Lax"}

    store: PolicyStore | None = None  # attached by the server extension
    _refresh_lock: asyncio.Lock | None = None  # made on first use, in the server's loop
    #: The server's own token once :meth:`hide_server_token` took it from ``token``.
    server_token: str = ""

    def hide_server_token(self) -> None:
        """Keep the server's token here and give Jupyter none to hand out.

        Jupyter writes ``token`` into every page it renders for a signed-in person
        (JupyterLab's and Notebook's page config, its own page template), for its own
        requests. Here the token identifies nobody, but it is still a secret: in demo
        mode it opens the persona page, so a person signed in with a personal token must
        not read it from a page. Called once the server has started with it (Binder's
        link, ``jupyter server list`` and the startup log keep showing it); nothing of
        this product reads ``token`` afterwards.
        """
        if self.token:
            self.server_token, self.token = self.token, ""

    @property
    def login_available(self) -> bool:
        """The sign-in page always takes a personal access token (not Jupyter's token)."""
        return True

    @property
    def auth_enabled(self) -> bool:
        """Every request is identified, with or without a server token."""
        return True

    # -- the hook Jupyter Server calls -------------------------------------------------

    async def get_user(self, handler: RequestHandler) -> WorkspaceUser | None:
        """The user making this request, or None (denied).

        Raises 401 for a token-shaped ``Authorization`` secret that signs nobody in
        (a page gets the sign-in problem page instead), and answers a page load
        with ``?token=`` with the confirmation page (:mod:`.pages`).
        """
        cached = getattr(handler, "_jupyter_current_user", None)
        if isinstance(cached, WorkspaceUser):
            return cached
        if self.store is None:
            return None  # the extension did not load: nobody gets in
        user = self._user_from_proxy(handler)
        if user is not None:
            return user  # the proxy decides every request: a link cannot change that
        user = await self._user_from_header(handler)
        if user is not None:
            return user
        if _is_page_load(handler) and looks_like_token(_link_token(handler)):
            await self._show_sign_in_page(handler, _link_token(handler))
        user = self._user_from_cookie(handler)
        if user is None and not _is_page(handler) and looks_like_token(_argument_token(handler)):
            _refuse(
                handler,
                "a token in the URL or a form is not accepted: send it as "
                "'Authorization: token …' (in a browser, open a page link with ?token= "
                "and confirm the sign-in)",
                "token_not_in_header",
            )
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

    def get_token(self, handler: RequestHandler) -> str | None:
        """The ``Authorization: token …`` (or ``bearer``) secret; never a URL or form field."""
        match = self.auth_header_pat.match(handler.request.headers.get("Authorization", ""))
        return match.group(2).strip() if match else None

    async def _user_from_header(self, handler: RequestHandler) -> WorkspaceUser | None:
        secret = self.get_token(handler)
        if not secret or not looks_like_token(secret):
            return None  # e.g. the server's own token, which JupyterLab sends everywhere
        user, problem = await self.lookup_token(secret)
        if problem is not None:
            if _is_page_load(handler):
                pages.render_problem(handler, problem)
                raise web.Finish()
            _refuse(handler, f"{problem.message} {problem.what_next}", problem.reason)
        handler._token_authenticated = True  # type: ignore[attr-defined]
        return user

    async def lookup_token(
        self, secret: str
    ) -> tuple[WorkspaceUser, None] | tuple[None, pages.TokenProblem]:
        """The user a token-shaped secret signs in, or why it signs nobody in.

        A token created a moment ago by another process (the CLI) is not in the
        snapshot until the next refresh: on a miss the store's version is checked
        again (two ``stat`` calls for an unchanged SQLite file) before answering.
        """
        hashed = hash_token(secret)
        snap = self._snapshot()
        token = snap.tokens.get(hashed)
        if token is None:
            await self._refresh_after_miss()
            snap = self._snapshot()
            token = snap.tokens.get(hashed)
        if token is None:
            return None, pages.unknown_token()
        if not token.usable(time.time()):
            if token.expires_at is not None:
                return None, pages.expired_token(token.expires_at)
            return None, pages.unknown_token()
        facts = snap.users.get(token.user_id)
        if facts is None:
            return None, pages.unknown_token()
        return user_from_facts(facts, token.login_provider, token.id), None

    async def _refresh_after_miss(self) -> None:
        """Re-read the policy if another process changed it.

        One check at a time, each started after the request arrived, so it sees a
        token committed before the request was sent (a reload already under way
        may have read the database before that commit).
        """
        assert self.store is not None
        store = self.store
        async with self._miss_lock():
            if store.needs_check():
                await asyncio.get_running_loop().run_in_executor(None, store.refresh)

    def _miss_lock(self) -> asyncio.Lock:
        if self._refresh_lock is None:
            self._refresh_lock = asyncio.Lock()
        return self._refresh_lock

    def user_for_token(self, secret: str) -> WorkspaceUser | None:
        """The user a personal access token stands for, if it is valid now (snapshot only)."""
        snap = self._snapshot()
        token = snap.tokens.get(hash_token(secret))
        if token is None or not token.usable(time.time()):
            return None
        facts = snap.users.get(token.user_id)
        return None if facts is None else user_from_facts(facts, token.login_provider, token.id)

    # -- sign-in links -----------------------------------------------------------------

    async def _show_sign_in_page(self, handler: RequestHandler, secret: str) -> None:
        """Answer a page load with ``?token=``: confirm who to become, or say why not."""
        next_url = pages.link_target(handler)
        user, problem = await self.lookup_token(secret)
        if user is None:
            assert problem is not None
            pages.render_problem(handler, problem, next_url)
            raise web.Finish()
        current = self.get_user_cookie(handler)  # only to say who is signed in now
        now = time.time()
        person = pages.SignInPerson(
            name=user.display_name,
            email=user.email,
            login_provider=user.login_provider,
            roles=pages.roles_in_words(self._snapshot(), user.subject, now),
        )
        current_name = None
        if isinstance(current, WorkspaceUser):
            current_name = f"{current.display_name} ({current.email})"
        pages.render_confirmation(handler, person, secret, next_url, current_name)
        raise web.Finish()

    def get_handlers(self) -> list[tuple[str, object]]:
        """Jupyter's login and logout pages, plus the sign-in confirmation's POST."""
        from .sign_in import SignInHandler  # it imports this module

        return [*super().get_handlers(), ("/" + pages.SIGN_IN_PATH, SignInHandler)]

    # -- new tokens --------------------------------------------------------------------

    def new_token_expiry(self, user: WorkspaceUser, requested: datetime | None) -> datetime:
        """The expiry of a token ``user`` creates now (see :mod:`.lifetime`).

        Raises :class:`~..errors.InvalidInput` (400) for a requested expiry in the
        past or beyond what the creator's credential and the maximum lifetime allow.
        """
        return lifetime.new_token_expiry(
            requested,
            datetime.now(timezone.utc),
            timedelta(days=self.token_max_lifetime_days),
            self._credential_expiry(user),
        )

    def latest_token_expiry(self, user: WorkspaceUser) -> datetime:
        """The latest expiry a token ``user`` creates now may get (see :mod:`.lifetime`):
        the settings page offers no later day to pick."""
        latest, _bound = lifetime.latest_expiry(
            datetime.now(timezone.utc),
            timedelta(days=self.token_max_lifetime_days),
            self._credential_expiry(user),
        )
        return latest

    def _credential_expiry(self, user: WorkspaceUser) -> datetime | None:
        """When the token ``user`` signed in with expires (None: never, or no token)."""
        if user.token_id is None:
            return None
        token = self._snapshot().tokens_by_id.get(user.token_id)
        if token is None or token.revoked:
            raise web.HTTPError(
                401, "the token you signed in with was revoked", reason="revoked_token"
            )
        if token.expires_at is None:
            return None
        return datetime.fromtimestamp(token.expires_at, timezone.utc)

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


def _refuse(handler: RequestHandler, message: str, reason: str) -> NoReturn:
    """Answer 401 with ``{"message", "reason"}`` now, on any route (API, websocket, page).

    Written here rather than raised as an ``HTTPError``: tornado logs an error's
    request URI, which may hold the secret (Jupyter's access log scrubs it).
    """
    handler.set_status(401)
    handler.set_header("Content-Type", "application/json")
    web.RequestHandler.finish(handler, json.dumps({"message": message, "reason": reason}))
    raise web.Finish()


def _is_page(handler: RequestHandler) -> bool:
    """A page for people (HTML), not the REST API or a websocket."""
    return not isinstance(handler, (APIHandler, WebSocketHandler))


def _is_page_load(handler: RequestHandler) -> bool:
    return handler.request.method == "GET" and _is_page(handler)


def _link_token(handler: RequestHandler) -> str:
    """``?token=`` of the URL (the last one, as Jupyter reads it)."""
    return str(handler.get_query_argument(pages.LINK_ARGUMENT, "")).strip()


def _argument_token(handler: RequestHandler) -> str:
    """A ``token`` in the URL or a form body: never a credential, only a hint for the 401."""
    return str(handler.get_argument(pages.LINK_ARGUMENT, "")).strip()


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
