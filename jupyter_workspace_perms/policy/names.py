"""Validation of workspace and project names, which are also folder names.

A name is refused unless it is one plain path segment: no ``/`` or ``\\``, not
``.`` or ``..``, not hidden (leading dot), no NUL or control characters. Project
names may contain spaces (JupyterLab's "Untitled Folder"), workspace slugs may not.
"""

from __future__ import annotations

import re

_SLUG = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,62}")
_PROJECT = re.compile(r"[A-Za-z0-9_][A-Za-z0-9 ._()+,@-]{0,126}")


def validate_workspace_slug(slug: str) -> str:
    """``slug`` if it is a valid workspace folder name, else ``ValueError`` saying why."""
    _refuse_path_tricks(slug, "workspace slug")
    if not _SLUG.fullmatch(slug) or slug.endswith("."):
        raise ValueError(
            f"invalid workspace slug {slug!r}: use letters, digits, '.', '_' or '-' "
            "(up to 63, starting with a letter or digit)"
        )
    return slug


def validate_project_name(name: str) -> str:
    """``name`` if it is a valid project folder name, else ``ValueError`` saying why."""
    _refuse_path_tricks(name, "project name")
    if not _PROJECT.fullmatch(name) or name.endswith((" ", ".")):
        raise ValueError(
            f"invalid project name {name!r}: use letters, digits, spaces and ._()+,@- "
            "(up to 127, not starting with a dot or ending with a space or dot)"
        )
    return name


def _refuse_path_tricks(value: str, what: str) -> None:
    if value in ("", ".", ".."):
        raise ValueError(f"invalid {what} {value!r}: must be a folder name")
    if "/" in value or "\\" in value:
        raise ValueError(f"invalid {what} {value!r}: must not contain a slash")
    if value.startswith("."):
        raise ValueError(f"invalid {what} {value!r}: hidden names are not allowed")
    if any(ord(c) < 32 or ord(c) == 127 for c in value):
        raise ValueError(f"invalid {what} {value!r}: control characters are not allowed")
