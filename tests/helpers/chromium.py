"""Debian's Chromium, as the browser tests and the lab load benchmark launch it."""

from __future__ import annotations

import os

CHROMIUM = os.environ.get("WORKSPACE_PERMS_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
VIEWPORT = {"width": 1400, "height": 900}
