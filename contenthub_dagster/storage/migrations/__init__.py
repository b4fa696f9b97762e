"""Alembic migrations of our tables; run through contenthub_dagster.storage.schema."""
