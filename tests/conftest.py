"""Loads the shared fixtures, gives helper modules pytest's assertion rewriting, and keeps
everything the suite writes to temporary folders in one folder that it removes at the end.

Jupyter and the processes the tests start write temporary files of their own (Jupyter
falls back to ``$TMPDIR/jupyter_checkpoints`` for checkpoints of folders it cannot write),
so ``TMPDIR`` points there for them too.
"""

from __future__ import annotations

import os
import shutil
import tempfile

import pytest

pytest.register_assert_rewrite("tests.helpers")

pytest_plugins = ["pytest_jupyter.jupyter_server", "tests.fixtures", "tests.helpers.postgres"]

_SESSION_TMP = pytest.StashKey[str]()


def pytest_configure(config: pytest.Config) -> None:
    """Every temporary folder of this run (pytest's ``tmp_path`` included) goes in one."""
    base = tempfile.mkdtemp(prefix="workspace-perms-tests-")
    os.chmod(base, 0o755)  # the PostgreSQL helper's server runs as another OS user
    config.stash[_SESSION_TMP] = base
    os.environ["TMPDIR"] = base
    tempfile.tempdir = base


def pytest_unconfigure(config: pytest.Config) -> None:
    """Remove the run's temporary folder, whatever the tests left in it."""
    base = config.stash.get(_SESSION_TMP, None)
    if base is not None:
        tempfile.tempdir = None
        shutil.rmtree(base, ignore_errors=True)
