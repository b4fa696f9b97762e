"""generated_contents.images: the article's images (url, prompt), for publishing.

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Databases that ran the old create_all with this column already have it.
    columns = sa.inspect(op.get_bind()).get_columns("generated_contents")
    if "images" not in {c["name"] for c in columns}:
        op.add_column("generated_contents", sa.Column("images", sa.JSON, nullable=True))


def downgrade() -> None:
    op.drop_column("generated_contents", "images")
