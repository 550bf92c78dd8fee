"""Integrations: a workspace's named bundles of secrets, and their project connections;
project ids never reused.

Values are stored only encrypted (Fernet, with a key kept outside the database).
``policy_version.last_project_id`` remembers the highest project id ever given: SQLite
reuses the highest id after a delete, and kernels, kernel homes and integration
connections follow the project's id.

Revision ID: 0003_integrations
Revises: 0002_token_parent
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003_integrations"
down_revision = "0002_token_parent"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("policy_version") as batch:
        batch.add_column(
            sa.Column("last_project_id", sa.BigInteger(), nullable=False, server_default="0")
        )
    op.create_table(
        "integrations",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column(
            "workspace_id",
            sa.Integer(),
            sa.ForeignKey("workspaces.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("name", sa.String(63), nullable=False),
        sa.Column("created_by", sa.String(255), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.UniqueConstraint("workspace_id", "name"),
    )
    op.create_table(
        "integration_variables",
        sa.Column(
            "integration_id",
            sa.Integer(),
            sa.ForeignKey("integrations.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("name", sa.String(128), primary_key=True),
        sa.Column("ciphertext", sa.Text(), nullable=False),
        sa.Column("set_by", sa.String(255), nullable=False),
        sa.Column("set_at", sa.DateTime(), nullable=False),
    )
    op.create_table(
        "project_integrations",
        sa.Column(
            "project_id",
            sa.Integer(),
            sa.ForeignKey("projects.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column(
            "integration_id",
            sa.Integer(),
            sa.ForeignKey("integrations.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("connected_by", sa.String(255), nullable=False),
        sa.Column("connected_at", sa.DateTime(), nullable=False),
    )
    op.create_index(
        "ix_project_integrations_integration_id", "project_integrations", ["integration_id"]
    )


def downgrade() -> None:
    with op.batch_alter_table("policy_version") as batch:
        batch.drop_column("last_project_id")
    op.drop_index("ix_project_integrations_integration_id", "project_integrations")
    op.drop_table("project_integrations")
    op.drop_table("integration_variables")
    op.drop_table("integrations")
