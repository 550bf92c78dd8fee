"""Timestamps in and out: ISO 8601 with a time zone, always."""

from __future__ import annotations

from datetime import datetime, timezone

from .errors import InvalidInput


def parse_expiry(value: str) -> datetime:
    """An aware, future datetime from ISO 8601.

    A time without a zone is refused: it would silently mean the zone of
    whichever machine reads it. ``Z`` is accepted on every Python version.
    """
    text = value.strip()
    if text[-1:] in ("Z", "z"):
        text = text[:-1] + "+00:00"
    try:
        when = datetime.fromisoformat(text)
    except ValueError:
        raise InvalidInput(
            f"invalid expiry {value!r}: use ISO 8601 like 2026-12-31T18:00:00Z", "invalid_expiry"
        ) from None
    if when.utcoffset() is None or "T" not in text.upper():
        raise InvalidInput(
            f"expiry {value!r} needs a time and a time zone: e.g. 2026-12-31T18:00:00Z "
            "(UTC) or 2026-12-31T18:00:00+02:00",
            "invalid_expiry",
        )
    try:
        when.astimezone(timezone.utc)  # stored in UTC: 9999-12-31T23:00-02:00 is past year 9999
    except OverflowError:
        raise InvalidInput(f"expiry {value!r} is too far in the future") from None
    if when <= datetime.now(timezone.utc):
        raise InvalidInput(
            f"the expiry {spoken(when)} is in the past: pick a later date", "invalid_expiry"
        )
    return when


def spoken(value: datetime) -> str:
    """A moment as people say it, in UTC to the minute: ``31 December 2026, 18:00 UTC``.

    Refusals shown in the settings page use it: a raw ISO timestamp reads like code.
    Minutes are truncated, so a "latest" moment said this way is never too late.
    """
    utc = value.astimezone(timezone.utc)
    return f"{utc.day} {utc:%B %Y, %H:%M} UTC"


def iso(value: datetime | float | None) -> str | None:
    """A timestamp (datetime or POSIX seconds) as ISO 8601 in UTC, for output."""
    if value is None:
        return None
    if not isinstance(value, datetime):
        value = datetime.fromtimestamp(value, timezone.utc)
    return value.astimezone(timezone.utc).isoformat()
