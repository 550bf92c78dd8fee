"""The caller's own personal access tokens."""

from __future__ import annotations

import asyncio
from typing import Any

from ...errors import Forbidden, NotFound
from ...identity.provider import WorkspaceIdentityProvider
from ...store import PolicyWriter, orm
from ...timestamps import iso, parse_expiry
from .base import Call, WorkspacePermsHandler, api, route


def token_model(token: orm.Token) -> dict[str, Any]:
    """A token without its secret."""
    return {
        "id": token.id,
        "prefix": token.prefix,
        "note": token.note,
        "login_provider": token.login_provider,
        "created_at": iso(token.created_at),
        "expires_at": iso(token.expires_at),
        "revoked": token.revoked_at is not None,
    }


class TokensHandler(WorkspacePermsHandler):
    """``/tokens``."""

    @api("tokens.list")
    async def get(self, call: Call) -> None:
        """The caller's tokens, revoked ones included, and the latest expiry a new one may
        get now (so the settings page offers no day the server would refuse)."""
        loop = asyncio.get_running_loop()
        tokens = await loop.run_in_executor(None, self.store.tokens_of, call.user.user_id)
        provider = self.identity_provider
        if not isinstance(provider, WorkspaceIdentityProvider):  # the extension refuses to start
            raise Forbidden("tokens need the workspace identity provider", "no_identity")
        self.write_json(
            {
                "tokens": [token_model(t) for t in tokens],
                "latest_expiry": iso(provider.latest_token_expiry(call.user)),
            }
        )

    @api("tokens.create")
    async def post(self, call: Call) -> None:
        """A new token for the caller, recording the provider of this sign-in.

        It never outlives the credential of this request, nor the server's maximum
        token lifetime (``identity/lifetime.py``); without ``expires_at`` it gets
        the latest expiry those allow. It is the child of the token this request signed
        in with (directly or through a login cookie made from it): revoking that token
        revokes this one.
        """
        raw_expiry = call.body.get("expires_at")
        requested = None if raw_expiry is None else parse_expiry(raw_expiry)
        provider = self.identity_provider
        if not isinstance(provider, WorkspaceIdentityProvider):  # the extension refuses to start
            raise Forbidden("tokens need the workspace identity provider", "no_identity")
        expires_at = provider.new_token_expiry(call.user, requested)
        note = call.body.get("note", "")
        user = call.user

        def create(writer: PolicyWriter) -> dict[str, Any]:
            token, secret = writer.create_token(
                user.username, user.login_provider, expires_at, note, parent_id=user.token_id
            )
            return {**token_model(token), "token": secret}

        self.write_json(await self.change(create, user), 201)


class TokenHandler(WorkspacePermsHandler):
    """``/tokens/{token_id}``."""

    @api("token.delete")
    async def delete(self, call: Call) -> None:
        """Revoke one of the caller's own tokens (others' tokens do not exist for them)."""
        try:
            token_id = int(call.args["token_id"])
        except ValueError:
            raise NotFound(f"no token {call.args['token_id']!r}") from None
        username = call.user.username
        await self.change(lambda w: w.revoke_token(token_id, owner=username), call.user)
        self.set_status(204)
        self.finish()


default_handlers = [
    (route("/tokens"), TokensHandler),
    (route("/tokens/{token_id}"), TokenHandler),
]
