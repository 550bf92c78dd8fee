"""A dependency the machine lacks: under ``CI=true`` the run fails, elsewhere it skips.

CI installs everything the suite needs, so a skip there would hide a missing install
step; a developer's machine may lack PostgreSQL or Chromium and still run the rest.
"""

from __future__ import annotations

import os
from typing import NoReturn

import pytest


def missing(message: str, *, module: bool = False) -> NoReturn:
    """Fail under ``CI=true``, else skip (the whole module with ``module=True``)."""
    if os.environ.get("CI") == "true":
        pytest.fail(message, pytrace=False)
    pytest.skip(message, allow_module_level=module)
