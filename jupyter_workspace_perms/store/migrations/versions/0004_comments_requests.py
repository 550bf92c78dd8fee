"""Comments on files and cells, access requests, and an index for audit retention.

Comments live in the policy database, never in the notebook or a sidecar file:
writing the notebook would need write access, and file routes would serve a
sidecar. Access requests record who asked for which role and how it was decided;
a person has at most one pending request per place (partial unique indexes).
``ix_audit_events_at`` lets retention delete old audit rows without a full scan.

Revision ID: 0004_comments_requests
Revises: 0003_integrations
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004_comments_requests"
down_revision = "0003_integrations"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "comments",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column(
            "project_id",
            sa.Integer(),
            sa.ForeignKey("projects.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("path", sa.String(1024), nullable=False),
        sa.Column(
            "parent_id",
            sa.Integer(),
            sa.ForeignKey("comments.id", ondelete="CASCADE"),
            nullable=True,
        ),
        sa.Column("cell_id", sa.String(64), nullable=True),
        sa.Column("anchor_start", sa.Integer(), nullable=True),
        sa.Column("anchor_end", sa.Integer(), nullable=True),
        sa.Column("quote", sa.Text(), nullable=False),
        sa.Column("source_hash", sa.String(64), nullable=False),
        sa.Column("anchor_state", sa.String(16), nullable=False),
        sa.Column("author", sa.String(255), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("edited_at", sa.DateTime(), nullable=True),
        sa.Column("resolved", sa.Boolean(), nullable=False),
        sa.Column("resolved_by", sa.String(255), nullable=False),
        sa.Column("resolved_at", sa.DateTime(), nullable=True),
    )
    op.create_index("ix_comments_project_path", "comments", ["project_id", "path"])
    op.create_index("ix_comments_parent_id", "comments", ["parent_id"])
    op.create_table(
        "comment_mentions",
        sa.Column(
            "comment_id",
            sa.Integer(),
            sa.ForeignKey("comments.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("username", sa.String(255), primary_key=True),
    )
    op.create_index("ix_comment_mentions_username", "comment_mentions", ["username"])
    op.create_table(
        "access_requests",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column(
            "workspace_id",
            sa.Integer(),
            sa.ForeignKey("workspaces.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column(
            "project_id",
            sa.Integer(),
            sa.ForeignKey("projects.id", ondelete="CASCADE"),
            nullable=True,
        ),
        sa.Column(
            "user_id",
            sa.Integer(),
            sa.ForeignKey("users.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.Column("decided_by", sa.String(255), nullable=False),
        sa.Column("decided_at", sa.DateTime(), nullable=True),
    )
    op.create_index(
        "ix_access_requests_workspace_status", "access_requests", ["workspace_id", "status"]
    )
    op.create_index("ix_access_requests_user_id", "access_requests", ["user_id"])
    for name, columns, where in (
        ("project", ["workspace_id", "user_id", "project_id"], "IS NOT NULL"),
        ("workspace", ["workspace_id", "user_id"], "IS NULL"),
    ):
        condition = sa.text(f"status = 'pending' AND project_id {where}")
        op.create_index(
            f"uq_access_requests_pending_{name}",
            "access_requests",
            columns,
            unique=True,
            sqlite_where=condition,
            postgresql_where=condition,
        )
    op.create_index("ix_audit_events_at", "audit_events", ["at"])


def downgrade() -> None:
    op.drop_index("ix_audit_events_at", "audit_events")
    op.drop_index("uq_access_requests_pending_workspace", "access_requests")
    op.drop_index("uq_access_requests_pending_project", "access_requests")
    op.drop_index("ix_access_requests_user_id", "access_requests")
    op.drop_index("ix_access_requests_workspace_status", "access_requests")
    op.drop_table("access_requests")
    op.drop_index("ix_comment_mentions_username", "comment_mentions")
    op.drop_table("comment_mentions")
    op.drop_index("ix_comments_parent_id", "comments")
    op.drop_index("ix_comments_project_path", "comments")
    op.drop_table("comments")
