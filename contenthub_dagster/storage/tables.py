"""Table definitions: ContentHub's ``accounts`` (read, or created only when embedded) and ours."""

from __future__ import annotations

import sqlalchemy as sa

# ContentHub owns these two; we create them only where they do not exist yet.
content_metadata = sa.MetaData()
account_metadata = sa.MetaData()

accounts = sa.Table(
    "accounts",
    account_metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("name", sa.String(100), nullable=False),
    sa.Column("description", sa.String(255)),
    sa.Column("platform", sa.String(50)),
    sa.Column("is_active", sa.Boolean, nullable=False, server_default=sa.true()),
)

content_generation_tasks = sa.Table(
    "content_generation_tasks",
    content_metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("task_id", sa.String(64), nullable=False, unique=True),
    sa.Column("account_id", sa.Integer, nullable=False, index=True),
    sa.Column("topic", sa.String(500), nullable=False),
    sa.Column("keywords", sa.String(500)),
    sa.Column("category", sa.String(50)),
    sa.Column("requirements", sa.Text),
    sa.Column("tone", sa.String(255)),
    sa.Column("status", sa.String(20), nullable=False, index=True),
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

# Ours. Not "contents": ContentHub's database already has a table of that name.
generated_contents = sa.Table(
    "generated_contents",
    content_metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("task_id", sa.String(64), nullable=False, unique=True),
    sa.Column("account_id", sa.Integer, nullable=False, index=True),
    sa.Column("scheduled_task", sa.String(200)),
    sa.Column("topic", sa.String(500), nullable=False),
    sa.Column("category", sa.String(50)),
    sa.Column("title", sa.String(500), nullable=False),
    sa.Column("body", sa.Text, nullable=False),
    sa.Column("status", sa.String(20), nullable=False, index=True),
    sa.Column("generator", sa.String(50), nullable=False),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    # The images the body links to, [{"url", "prompt"}], so ContentHub can publish them with it;
    # NULL when the generator made none.
    sa.Column("images", sa.JSON, nullable=True),
)
