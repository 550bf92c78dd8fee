"""The project duplicate's copier: staged out of sight, placed by name, or gone.

The REST API (``tests/api/test_duplicate.py``) proves what a duplicate copies and leaves
behind; here, on real folders, that a staged copy never stays half-done: a copy that is
not placed, or whose placement is undone because its project could not be registered,
leaves nothing in the target workspace.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from jupyter_workspace_perms.server.copies import CopyRefused, CopyRules
from jupyter_workspace_perms.server.project_copies import stage_project_copy

RULES = CopyRules(100, 1 << 20, "max_copy_entries", "max_copy_folder_size_mb")


@pytest.fixture
def root(tmp_path: Path) -> Path:
    """``src/proj`` with a file and a folder; an empty workspace ``dst``."""
    (tmp_path / "src" / "proj" / "sub").mkdir(parents=True)
    (tmp_path / "src" / "proj" / "a.txt").write_text("a")
    (tmp_path / "src" / "proj" / "sub" / "b.txt").write_text("bb")
    (tmp_path / "dst").mkdir()
    return tmp_path


def test_a_placed_copy_has_the_files_and_no_temporary_folder(root: Path) -> None:
    staged, left = stage_project_copy(str(root), ("src", "proj"), "dst", RULES)
    try:
        [temporary] = os.listdir(root / "dst")
        assert temporary.startswith(".~duplicate-")
        staged.place("copy")
    finally:
        staged.close()
    assert sorted(os.listdir(root / "dst")) == ["copy"]
    assert (root / "dst" / "copy" / "sub" / "b.txt").read_text() == "bb"
    assert (staged.copied.files, staged.copied.folders, staged.copied.bytes) == (2, 1, 3)
    assert left.links == [] and left.hidden == 0


def test_a_copy_that_is_not_placed_or_is_undone_leaves_nothing(root: Path) -> None:
    staged, _ = stage_project_copy(str(root), ("src", "proj"), "dst", RULES)
    staged.close()  # e.g. the project could not be registered before placing
    assert os.listdir(root / "dst") == []

    staged, _ = stage_project_copy(str(root), ("src", "proj"), "dst", RULES)
    try:
        staged.place("copy")
        staged.remove_placed()  # the policy transaction failed after the rename
    finally:
        staged.close()
    assert os.listdir(root / "dst") == []


def test_a_name_taken_meanwhile_is_refused_and_the_copy_removed(root: Path) -> None:
    (root / "dst" / "copy").mkdir()
    staged, _ = stage_project_copy(str(root), ("src", "proj"), "dst", RULES)
    try:
        with pytest.raises(CopyRefused) as refused:
            staged.place("copy")
    finally:
        staged.close()
    assert (refused.value.status, refused.value.reason) == (409, "exists")
    assert os.listdir(root / "dst") == ["copy"]
    assert os.listdir(root / "dst" / "copy") == []


def test_over_the_limits_nothing_is_written(root: Path) -> None:
    for rules in (
        CopyRules(2, 1 << 20, "max_copy_entries", "max_copy_folder_size_mb"),
        CopyRules(100, 2, "max_copy_entries", "max_copy_folder_size_mb"),
    ):
        with pytest.raises(CopyRefused) as refused:
            stage_project_copy(str(root), ("src", "proj"), "dst", rules)
        assert (refused.value.status, refused.value.reason) == (413, "copy_too_large")
        assert os.listdir(root / "dst") == []


def test_a_link_on_the_way_to_either_folder_is_refused(root: Path) -> None:
    (root / "linked").symlink_to(root / "src")
    (root / "dst-link").symlink_to(root / "dst")
    for source, target in ((("linked", "proj"), "dst"), (("src", "proj"), "dst-link")):
        with pytest.raises(CopyRefused) as refused:
            stage_project_copy(str(root), source, target, RULES)
        assert refused.value.reason == "copy_failed", (source, target)
    assert os.listdir(root / "dst") == []
