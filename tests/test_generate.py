"""Files generated from code must match the code."""

from __future__ import annotations

from jupyter_workspace_perms import generate
from jupyter_workspace_perms.policy.permissions import PERMISSIONS


def test_generated_files_are_fresh() -> None:
    assert generate.stale_files() == [], (
        "run `python -m jupyter_workspace_perms.generate` and commit the result"
    )


def test_permission_table_doc_lists_every_permission() -> None:
    doc = (generate.REPO / "docs" / "permissions.md").read_text(encoding="utf-8")
    for name, definition in PERMISSIONS.items():
        assert f"`{name}`" in doc
        assert definition.description in doc


def test_config_doc_has_help_for_every_option() -> None:
    doc = generate.config_markdown()
    assert "c.PolicyStore.db_url" in doc
    assert "c.WorkspaceIdentityProvider.trusted_proxy_ips" in doc
    # every option documents itself: no empty help paragraphs
    for block in doc.split("\n### ")[1:]:
        assert block.strip().split("\n\n")[2:], block
