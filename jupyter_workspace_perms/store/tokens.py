"""Personal access tokens: random secrets, of which only a hash is ever stored.

A token is ``wsp_`` followed by 32 random bytes (URL-safe base64). With that
much entropy an unsalted SHA-256 is enough (as for GitHub's tokens) and lets the
store look a token up by its hash in one indexed step.
"""

from __future__ import annotations

import hashlib
import secrets

TOKEN_PREFIX = "wsp_"


def new_token() -> tuple[str, str, str]:
    """A fresh token: (secret shown once, hash to store, short prefix to display)."""
    secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
    return secret, hash_token(secret), secret[: len(TOKEN_PREFIX) + 6]


def hash_token(secret: str) -> str:
    """The stored form of a token."""
    return hashlib.sha256(secret.encode("utf-8", "surrogatepass")).hexdigest()


def looks_like_token(value: str) -> bool:
    """Whether ``value`` has the shape of one of our tokens (cheap pre-check)."""
    return value.startswith(TOKEN_PREFIX) and 20 < len(value) < 200
