"""How long a token created through the server may live.

A token created with a credential must not outlive it: otherwise a one-hour
token (or a login cookie made from one) mints permanent tokens, and taking the
short-lived credential away achieves nothing. So a new token's expiry is at the
latest the earliest of

- the expiry of the token the request signed in with (an ``Authorization``
  header token, or the token a login cookie was made from), and
- now plus the server's maximum token lifetime
  (``WorkspaceIdentityProvider.token_max_lifetime_days``).

A sign-in through a trusted proxy has no expiry the server knows of (the proxy
re-checks every request), so only the maximum lifetime bounds its tokens.
Without a requested expiry the token gets that latest allowed moment; a
requested expiry beyond it is refused with 400 and a reason, never shortened
silently (the caller would believe the token lasts longer than it does).
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from ..errors import InvalidInput
from ..timestamps import spoken

# the latest moment the database and ``datetime`` can hold
LATEST = datetime(9999, 12, 31, 23, 59, 59, tzinfo=timezone.utc)


def latest_expiry(
    now: datetime, max_lifetime: timedelta, credential_expires: datetime | None
) -> tuple[datetime, str]:
    """The latest expiry a new token may get, and what sets it (``credential`` or ``maximum``)."""
    try:
        maximum = min(now + max_lifetime, LATEST)
    except OverflowError:
        maximum = LATEST
    if credential_expires is not None and credential_expires < maximum:
        return credential_expires, "credential"
    return maximum, "maximum"


def new_token_expiry(
    requested: datetime | None,
    now: datetime,
    max_lifetime: timedelta,
    credential_expires: datetime | None,
) -> datetime:
    """The expiry to store for a new token, or :class:`InvalidInput` saying why not.

    ``requested`` must be aware (``timestamps.parse_expiry`` makes it so).
    """
    latest, bound = latest_expiry(now, max_lifetime, credential_expires)
    if latest <= now:
        raise InvalidInput(
            "the token you signed in with has expired: sign in again", "expired_token"
        )
    if requested is None:
        return latest
    if requested <= now:
        raise InvalidInput(
            f"the expiry {spoken(requested)} is in the past: pick a later date", "invalid_expiry"
        )
    if requested <= latest:
        return requested
    # said as people say it (the settings page shows it as is): no ISO, no field names
    if bound == "credential":
        raise InvalidInput(
            "a new token cannot outlive the token you signed in with, which expires on "
            f"{spoken(latest)}: pick that day or an earlier one, or give no expiry to get "
            "that one",
            "expiry_beyond_credential",
        )
    days = max_lifetime / timedelta(days=1)
    raise InvalidInput(
        f"tokens created through the server live at most {days:g} days: pick a day up to "
        f"{spoken(latest)}, or give no expiry to get the longest",
        "expiry_beyond_max_lifetime",
    )
