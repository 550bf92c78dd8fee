"""Tokens remember the token that created them, so revoking one revokes what it made.

A token created through the server (``POST /api/workspace-perms/tokens``) is made
with another token, directly or through a login cookie made from it. Without the
link, a stolen short-lived token could mint a child that outlives its revocation.

Revision ID: 0002_token_parent
Revises: 0001_initial
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002_token_parent"
down_revision = "0001_initial"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # batch mode: SQLite adds a column with a foreign key only by rebuilding the table
    with op.batch_alter_table("tokens") as batch:
        batch.add_column(sa.Column("parent_id", sa.Integer(), nullable=True))
        batch.create_foreign_key(
            "fk_tokens_parent_id_tokens", "tokens", ["parent_id"], ["id"], ondelete="SET NULL"
        )
        batch.create_index("ix_tokens_parent_id", ["parent_id"])


def downgrade() -> None:
    with op.batch_alter_table("tokens") as batch:
        batch.drop_index("ix_tokens_parent_id")
        batch.drop_constraint("fk_tokens_parent_id_tokens", type_="foreignkey")
        batch.drop_column("parent_id")
