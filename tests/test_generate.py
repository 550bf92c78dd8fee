"""Files generated from code must match the code."""

from __future__ import annotations

from pathlib import Path

from jupyter_workspace_perms import generate
from jupyter_workspace_perms.policy.decisions import CODE_MEANINGS
from jupyter_workspace_perms.policy.guards import GUARD_CODES
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


def test_lab_constants_come_from_the_permission_table_and_reason_codes() -> None:
    ts = generate.lab_constants_ts()
    assert 'export const ROLES = ["viewer", "contributor", "editor", "admin"] as const;' in ts
    for name, definition in PERMISSIONS.items():
        row = (
            f'{{ name: "{name}", scope: "{definition.scope}", '
            f'minRole: "{definition.min_role.name}", '
        )
        assert row in ts, name
    # every decision and guard code, with its meaning
    for code, meaning in {**CODE_MEANINGS, **GUARD_CODES}.items():
        assert f'  {code}: "{meaning}",\n' in ts, code
    assert '  not_found: "' in ts and '  store_unavailable: "' in ts
    # viewers get execute only through the setting
    assert '"viewers_can_execute": ["project:read", "project:comment", "project:execute"]' in ts


def test_check_reports_a_stale_generated_ts(tmp_path: Path) -> None:
    for relative, produce in generate.GENERATED.items():
        (tmp_path / relative).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / relative).write_text(produce(), encoding="utf-8")
    assert generate.stale_files(tmp_path) == []
    target = tmp_path / "labextension" / "src" / "generated.ts"
    target.write_text(target.read_text(encoding="utf-8").replace('"editor"', '"boss"'))
    assert generate.stale_files(tmp_path) == ["labextension/src/generated.ts"]
    target.unlink()
    assert generate.stale_files(tmp_path) == ["labextension/src/generated.ts"]
