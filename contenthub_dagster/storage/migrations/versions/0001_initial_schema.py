"""The schema create_all used to make: generated_contents, and content_generation_tasks.

Each table is created, with its indexes, only where it does not exist: ContentHub's database
usually has its own content_generation_tasks, and databases that the old create_all prepared
already have both, so they are adopted as they are. The columns are spelled out rather than
taken from tables.py, so that later revisions can change tables.py without changing this one.

Revision ID: 0001
Revises:
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def _missing(table: str) -> bool:
    return not sa.inspect(op.get_bind()).has_table(table)


def upgrade() -> None:
    if _missing("content_generation_tasks"):
        op.create_table(
            "content_generation_tasks",
            sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
            sa.Column("task_id", sa.String(64), nullable=False, unique=True),
            sa.Column("account_id", sa.Integer, nullable=False),
            sa.Column("topic", sa.String(500), nullable=False),
            sa.Column("keywords", sa.String(500)),
            sa.Column("category", sa.String(50)),
            sa.Column("requirements", sa.Text),
            sa.Column("tone", sa.String(255)),
            sa.Column("status", sa.String(20), nullable=False),
            sa.Column("priority", sa.Integer, nullable=False),
            sa.Column("retry_count", sa.Integer, nullable=False, server_default="0"),
            sa.Column("max_retries", sa.Integer, nullable=False, server_default="3"),
            sa.Column("submitted_at", sa.DateTime(timezone=True)),
            sa.Column("started_at", sa.DateTime(timezone=True)),
            sa.Column("completed_at", sa.DateTime(timezone=True)),
            sa.Column("timeout_at", sa.DateTime(timezone=True)),
            sa.Column("result", sa.JSON),
            sa.Column("error_message", sa.Text),
            sa.Column("auto_approve", sa.Boolean, nullable=False, server_default=sa.true()),
        )
        op.create_index(
            "ix_content_generation_tasks_account_id", "content_generation_tasks", ["account_id"]
        )
        op.create_index(
            "ix_content_generation_tasks_status", "content_generation_tasks", ["status"]
        )

    if _missing("generated_contents"):
        op.create_table(
            "generated_contents",
            sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
            sa.Column("task_id", sa.String(64), nullable=False, unique=True),
            sa.Column("account_id", sa.Integer, nullable=False),
            sa.Column("scheduled_task", sa.String(200)),
            sa.Column("topic", sa.String(500), nullable=False),
            sa.Column("category", sa.String(50)),
            sa.Column("title", sa.String(500), nullable=False),
            sa.Column("body", sa.Text, nullable=False),
            sa.Column("status", sa.String(20), nullable=False),
            sa.Column("generator", sa.String(50), nullable=False),
            sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        )
        op.create_index("ix_generated_contents_account_id", "generated_contents", ["account_id"])
        op.create_index("ix_generated_contents_status", "generated_contents", ["status"])


def downgrade() -> None:
    # content_generation_tasks is left alone: it is usually ContentHub's, with its rows.
    op.drop_table("generated_contents")
