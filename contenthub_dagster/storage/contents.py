"""Generation task lifecycle rows and generated articles."""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa

from contenthub_dagster.domain.article import Article, content_status
from contenthub_dagster.domain.chunks import chunked
from contenthub_dagster.domain.messages import GenerationRequest
from contenthub_dagster.settings import GENERATION_MAX_RETRIES
from contenthub_dagster.storage.tables import (
    content_generation_tasks,
    content_metadata,
    generated_contents,
)

PENDING = "pending"
SUBMITTED = "submitted"
PROCESSING = "processing"
COMPLETED = "completed"
FAILED = "failed"
TIMEOUT = "timeout"
# How a task the queue did not take is recorded (docs/domain.md §6): ``not queued: {reason}``.
NOT_QUEUED = "not queued:"
SCHEMA_LOCK = 0x436F6E74656E74  # an arbitrary key of our own for pg_advisory_xact_lock
# Ids per IN list and rows per INSERT. PostgreSQL takes at most 65,535 bound parameters per
# statement; an insert row binds 13, so 1,000 rows (13,000) and 5,000 ids stay far below it
# while keeping round trips few (100,000 tasks: 20 selects, 100 inserts).
IDS_PER_STATEMENT = 5_000
ROWS_PER_INSERT = 1_000


def _now() -> datetime:
    return datetime.now(UTC)


class ContentStore:
    """Our rows in ContentHub's database: one lifecycle row per task, one article per success."""

    def __init__(self, engine: sa.Engine) -> None:
        self.engine = engine

    def ensure_schema(self) -> None:
        """Create our tables where they are missing; existing ones are left as they are."""
        with self.engine.begin() as conn:
            if conn.dialect.name == "postgresql":
                # Runs starting together on a fresh database would otherwise race in CREATE TABLE.
                conn.execute(sa.text("SELECT pg_advisory_xact_lock(:key)"), {"key": SCHEMA_LOCK})
            content_metadata.create_all(conn, checkfirst=True)

    def statuses(self, task_ids: Iterable[str]) -> dict[str, str]:
        """The lifecycle status of each of these task ids that has a row.

        Asked in chunks of :data:`IDS_PER_STATEMENT` ids, so any number of ids stays within the
        database's parameter limit.
        """
        found: dict[str, str] = {}
        chunks = chunked(task_ids, IDS_PER_STATEMENT)
        first = next(chunks, None)
        if first is None:
            return found
        columns = (content_generation_tasks.c.task_id, content_generation_tasks.c.status)
        with self.engine.connect() as conn:
            for ids in itertools.chain([first], chunks):
                query = sa.select(*columns).where(content_generation_tasks.c.task_id.in_(ids))
                found.update((row.task_id, row.status) for row in conn.execute(query))
        return found

    def status(self, task_id: str) -> str | None:
        """The lifecycle status of one task, or None when it has no row."""
        return self.statuses([task_id]).get(task_id)

    def record_submitted(
        self,
        requests: Iterable[GenerationRequest],
        status: str,
        max_retries: int = GENERATION_MAX_RETRIES,
    ) -> None:
        """Write the first lifecycle row of each request not recorded yet, in bounded chunks."""
        for chunk in chunked(requests, ROWS_PER_INSERT):
            self._record_chunk(chunk, status, max_retries)

    def _record_chunk(
        self, requests: Sequence[GenerationRequest], status: str, max_retries: int
    ) -> None:
        known = self.statuses(r.task_id for r in requests)
        rows = [
            {
                "task_id": r.task_id,
                "account_id": r.account_id,
                "topic": r.topic,
                "keywords": r.keywords,
                "category": r.category,
                "requirements": r.requirements,
                "tone": r.tone,
                "status": status,
                "priority": r.priority,
                "retry_count": 0,
                "max_retries": max_retries,
                "submitted_at": _now(),
                "auto_approve": r.auto_approve,
            }
            for r in requests
            if r.task_id not in known
        ]
        if rows:
            with self.engine.begin() as conn:
                conn.execute(content_generation_tasks.insert(), rows)

    def start_attempt(self, task_id: str, attempt: int, timeout_at: datetime) -> None:
        """Mark a task processing; ``attempt`` counts from 1, so retries are ``attempt - 1``."""
        self._update(
            task_id,
            status=PROCESSING,
            started_at=_now(),
            timeout_at=timeout_at,
            retry_count=max(attempt - 1, 0),
            error_message=None,
        )

    def complete(self, request: GenerationRequest, article: Article) -> bool:
        """Store the article and close the lifecycle row, in one transaction.

        Only an attempt that still owns the row (status ``processing``) may close it: an attempt
        that was timed out, handed back to the queue or cancelled meanwhile stores nothing and
        gets False, so no task ever ends with two outcomes.
        """
        now = _now()
        with self.engine.begin() as conn:
            closed = conn.execute(
                content_generation_tasks.update()
                .where(
                    content_generation_tasks.c.task_id == request.task_id,
                    content_generation_tasks.c.status == PROCESSING,
                )
                .values(
                    status=COMPLETED,
                    completed_at=now,
                    error_message=None,
                    result=article.summary(),
                )
            )
            if closed.rowcount != 1:
                return False
            exists = conn.execute(
                sa.select(generated_contents.c.id).where(
                    generated_contents.c.task_id == request.task_id
                )
            ).first()
            if exists is None:
                conn.execute(
                    generated_contents.insert().values(
                        task_id=request.task_id,
                        account_id=request.account_id,
                        scheduled_task=request.scheduled_task,
                        topic=request.topic,
                        category=request.category,
                        title=article.title,
                        body=article.body,
                        status=content_status(request.auto_approve),
                        generator=article.generator,
                        created_at=now,
                        images=[image.to_json() for image in article.images] or None,
                    )
                )
        return True

    def fail(
        self,
        task_id: str,
        error: str,
        status: str = FAILED,
        *,
        from_statuses: Sequence[str] | None = None,
    ) -> bool:
        """Record a failed or timed-out attempt (``status`` stays processing while retrying).

        ``from_statuses`` limits the update to rows in one of those statuses; a completed row is
        never touched. Returns whether a row was updated.
        """
        values: dict[str, Any] = {"status": status, "error_message": error[:2000]}
        if status in (FAILED, TIMEOUT):
            values["completed_at"] = _now()
        where = [content_generation_tasks.c.status != COMPLETED]
        if from_statuses is not None:
            where.append(content_generation_tasks.c.status.in_(list(from_statuses)))
        return self._update(task_id, *where, **values)

    def fail_many(self, errors: Mapping[str, str], status: str = FAILED) -> None:
        """Record ``status`` with each task's error; completed rows are never touched.

        One UPDATE per distinct error and chunk of ids instead of one per task: when a whole
        chunk is refused, its tasks usually share the reason.
        """
        by_error: dict[str, list[str]] = {}
        for task_id, error in errors.items():
            by_error.setdefault(error[:2000], []).append(task_id)
        values: dict[str, Any] = {"status": status}
        if status in (FAILED, TIMEOUT):
            values["completed_at"] = _now()
        with self.engine.begin() as conn:
            for error, task_ids in by_error.items():
                for ids in chunked(task_ids, IDS_PER_STATEMENT):
                    conn.execute(
                        content_generation_tasks.update()
                        .where(
                            content_generation_tasks.c.task_id.in_(ids),
                            content_generation_tasks.c.status != COMPLETED,
                        )
                        .values(error_message=error, **values)
                    )

    def mark_queued(self, task_ids: Iterable[str]) -> int:
        """These tasks' jobs are in the queue now: their rows say ``submitted``.

        Only a row the producer left behind moves: ``pending`` (written before its job was
        added) or ``failed`` because it was not queued (an earlier attempt or run). A worker may
        already have taken the job and moved the row on; that row is left as it is.
        """
        return self._update_producer_rows(
            task_ids, status=SUBMITTED, error_message=None, completed_at=None
        )

    def mark_not_queued(self, errors: Mapping[str, str]) -> None:
        """These tasks' jobs could not be added: ``failed`` with ``not queued: {reason}``.

        Like :meth:`mark_queued`, only rows the producer left behind: a row a worker moved on
        (its job reached the queue after all) is left as it is.
        """
        by_error: dict[str, list[str]] = {}
        for task_id, error in errors.items():
            by_error.setdefault(error[:2000], []).append(task_id)
        for error, task_ids in by_error.items():
            self._update_producer_rows(
                task_ids, status=FAILED, error_message=error, completed_at=_now()
            )

    def _update_producer_rows(self, task_ids: Iterable[str], **values: Any) -> int:
        table = content_generation_tasks
        producer_rows = sa.or_(
            table.c.status == PENDING,
            sa.and_(table.c.status == FAILED, table.c.error_message.startswith(NOT_QUEUED)),
        )
        updated = 0
        with self.engine.begin() as conn:
            for ids in chunked(task_ids, IDS_PER_STATEMENT):
                result = conn.execute(
                    table.update().where(table.c.task_id.in_(ids), producer_rows).values(**values)
                )
                updated += result.rowcount
        return updated

    def requeue(self, task_id: str, note: str) -> bool:
        """Hand a processing task back to the queue: its row is ``submitted`` again."""
        return self._update(
            task_id,
            content_generation_tasks.c.status == PROCESSING,
            status=SUBMITTED,
            error_message=note[:2000],
        )

    def _update(self, task_id: str, *conditions: Any, **values: Any) -> bool:
        with self.engine.begin() as conn:
            result = conn.execute(
                content_generation_tasks.update()
                .where(content_generation_tasks.c.task_id == task_id, *conditions)
                .values(**values)
            )
        return result.rowcount > 0
