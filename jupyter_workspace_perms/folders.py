"""Workspace and project folders under the server's ``root_dir``.

A workspace is a folder directly under ``root_dir`` and a project a folder directly
inside it. Both the CLI and the REST API create them inside the same transaction as
the policy change, so a refused change leaves no folder behind.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager, suppress
from pathlib import Path

from .errors import InvalidInput


def make_folders(root: str, parts: Sequence[str]) -> tuple[Path, list[Path]]:
    """Create ``root/part/...`` one level at a time; return the folder and those created.

    Existing folders are adopted. Each level must be a real folder inside the real
    ``root``: the server maps a file to its workspace and project by real path, so
    a symlink (pointing out of the root or to another workspace) is refused.
    """
    real_root = Path(root).expanduser().resolve()
    if not real_root.is_dir():
        raise InvalidInput(f"root dir {root!r} is not an existing folder")
    created: list[Path] = []
    path = real_root
    for part in parts:
        expected = path / part
        path = expected.resolve()
        if real_root not in path.parents:
            raise InvalidInput(f"{expected} resolves to {path}, outside the root dir {real_root}")
        if path != expected:
            raise InvalidInput(f"{expected} is a link to {path}: use a real folder")
        if path.is_dir():
            continue
        if path.exists():
            raise InvalidInput(f"{path} exists and is not a folder")
        try:
            path.mkdir()
        except OSError as e:
            raise InvalidInput(f"cannot create folder {path}: {e.strerror}") from None
        created.append(path)
    return path, created


@contextmanager
def folders_removed_on_error() -> Iterator[list[Path]]:
    """Collect created folders; remove them (if still empty) when the block fails.

    Wrapped around ``store.write(...)``, a failed commit leaves no new folder behind.
    """
    created: list[Path] = []
    try:
        yield created
    except BaseException:
        for path in reversed(created):
            with suppress(OSError):
                path.rmdir()
        raise
