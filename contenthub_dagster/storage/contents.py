"""Generation task lifecycle rows and generated articles."""

from __future__ import annotations

import functools
import itertools
import json
import logging
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

from contenthub_dagster.domain.article import Article, content_status
from contenthub_dagster.domain.chunks import chunked
from contenthub_dagster.domain.messages import GenerationRequest
from contenthub_dagster.settings import GENERATION_MAX_RETRIES
from contenthub_dagster.storage.engine import error_reason, retry_on_disconnect
from contenthub_dagster.storage.schema import ensure_schema
from contenthub_dagster.storage.tables import content_generation_tasks, generated_contents

log = logging.getLogger("contenthub_dagster.storage")

PENDING = "pending"
SUBMITTED = "submitted"
PROCESSING = "processing"
COMPLETED = "completed"
FAILED = "failed"
TIMEOUT = "timeout"
# How a task the queue did not take is recorded (docs/domain.md §6): ``not queued: {reason}``.
NOT_QUEUED = "not queued:"
# Ids per IN list and rows per INSERT. PostgreSQL takes at most 65,535 bound parameters per
# statement; an insert row binds 13, so 1,000 rows (13,000) and 5,000 ids stay far below it
# while keeping round trips few (100,000 tasks: 20 selects, 100 inserts).
IDS_PER_STATEMENT = 5_000
ROWS_PER_INSERT = 1_000
# Statuses a worker attempt may still take the row from; the others are final.
OPEN = (PENDING, SUBMITTED, PROCESSING)
_PG = postgresql.dialect()


def _now() -> datetime:
    return datetime.now(UTC)


# ``status IN ('pending', 'submitted', 'processing')`` rendered inline: no expanding parameter
# to render again on every execution.
_IS_OPEN = content_generation_tasks.c.status.in_([sa.literal_column(f"'{s}'") for s in OPEN])


def _article_row(request: GenerationRequest, article: Article, now: datetime) -> dict[str, Any]:
    """The ``generated_contents`` row of a completed task."""
    return {
        "task_id": request.task_id,
        "account_id": request.account_id,
        "scheduled_task": request.scheduled_task,
        "topic": request.topic,
        "category": request.category,
        "title": article.title,
        "body": article.body,
        "status": content_status(request.auto_approve),
        "generator": article.generator,
        "created_at": now,
        "images": [image.to_json() for image in article.images] or None,
    }


_JSON_COLUMNS = frozenset(c.name for c in generated_contents.c if isinstance(c.type, sa.JSON))
_STATUS_SQL = f"SELECT status FROM {content_generation_tasks.name} WHERE task_id = %s"


@functools.cache
def _one_statement_complete(columns: tuple[str, ...]) -> str:
    """PostgreSQL: take and close an open row and, if that happened, insert its article (unless
    one exists); returns how many rows were closed (0 or 1). Built once per article column set.
    """
    tasks, contents = content_generation_tasks, generated_contents
    open_statuses = ", ".join(f"'{s}'" for s in OPEN)
    # Typed: PostgreSQL would read an untyped parameter in a SELECT list as text.
    values = ", ".join(f"CAST(%(a_{c})s AS {contents.c[c].type.compile(_PG)})" for c in columns)
    return f"""
        WITH closed AS (
            UPDATE {tasks.name}
            SET status = '{COMPLETED}', completed_at = %(completed_at)s, error_message = NULL,
                result = CAST(%(result)s AS JSON), started_at = %(started_at)s,
                timeout_at = %(timeout_at)s, retry_count = %(retry_count)s
            WHERE task_id = %(task_id)s AND status IN ({open_statuses})
            RETURNING task_id
        ), stored AS (
            INSERT INTO {contents.name} ({", ".join(columns)})
            SELECT {values}
            FROM closed
            ON CONFLICT (task_id) DO NOTHING
            RETURNING id
        )
        SELECT count(*) FROM closed
    """


# Columns of a pending row that come from its request: the keys of _PENDING_SQL's JSON rows.
_REQUEST_COLUMNS = (
    "task_id",
    "account_id",
    "topic",
    "keywords",
    "category",
    "requirements",
    "tone",
    "priority",
    "auto_approve",
)
# ``failed`` because the queue did not take the job (an earlier attempt or run): the producer's.
_NOT_QUEUED_SQL = f"(status = '{FAILED}' AND error_message LIKE '{NOT_QUEUED}%%')"


@functools.cache
def _pending_sql() -> str:
    """PostgreSQL, one statement per chunk: insert the ``pending`` row of each request that has
    none, reopen (back to ``pending``) each row failed as not queued, and return the ids of the
    inserted rows, whose jobs no attempt can have added yet.

    The requests travel as one JSON array of row objects (a constant statement of 3 parameters,
    however many rows), which ``json_to_recordset`` turns back into typed rows on the server.
    Kept beside the Core path for speed (BENCHMARKS.md, "One SQL path per write"). Both writes
    see the rows as they were before the statement, so a row inserted here is never reopened
    here; the statement is its own transaction and safe to repeat.
    """
    tasks = content_generation_tasks
    typed = ", ".join(f"{c} {tasks.c[c].type.compile(_PG)}" for c in _REQUEST_COLUMNS)
    columns = ", ".join(_REQUEST_COLUMNS)
    return f"""
        WITH input AS (
            SELECT * FROM json_to_recordset(CAST(%(rows)s AS json)) AS r({typed})
        ), inserted AS (
            INSERT INTO {tasks.name} ({columns}, status, retry_count, max_retries, submitted_at)
            SELECT {columns}, '{PENDING}', 0, %(max_retries)s, %(submitted_at)s FROM input
            ON CONFLICT (task_id) DO NOTHING
            RETURNING task_id
        ), reopened AS (
            UPDATE {tasks.name} AS t
            SET status = '{PENDING}', error_message = NULL, completed_at = NULL
            FROM input
            WHERE t.task_id = input.task_id AND t.status = '{FAILED}'
                AND t.error_message LIKE '{NOT_QUEUED}%%'
            RETURNING t.task_id
        )
        SELECT task_id FROM inserted
    """


_MARK_QUEUED_SQL = f"""
    UPDATE {content_generation_tasks.name}
    SET status = '{SUBMITTED}', error_message = NULL, completed_at = NULL
    WHERE task_id = ANY(%s) AND (status = '{PENDING}' OR {_NOT_QUEUED_SQL})
"""


@dataclass(frozen=True)
class AttemptClaim:
    """What an attempt writes into its task's row when it takes it (status ``processing``)."""

    task_id: str
    retry_count: int
    started_at: datetime
    timeout_at: datetime

    @classmethod
    def starting_now(cls, task_id: str, attempt: int, timeout_seconds: float) -> AttemptClaim:
        """The claim of attempt number ``attempt`` (from 1), its clock starting now."""
        now = _now()
        return cls(task_id, max(attempt - 1, 0), now, now + timedelta(seconds=timeout_seconds))

    def values(self) -> dict[str, Any]:
        return {
            "started_at": self.started_at,
            "timeout_at": self.timeout_at,
            "retry_count": self.retry_count,
        }


class ContentStore:
    """Our rows in ContentHub's database: one lifecycle row per task, one article per success."""

    def __init__(self, engine: sa.Engine) -> None:
        self.engine = engine
        # Single statements (reads, the worker's closing write) run without an explicit
        # transaction: one round trip each, no BEGIN/COMMIT/ROLLBACK around them.
        self._autocommit = engine.execution_options(isolation_level="AUTOCOMMIT")
        self._on_postgresql = engine.dialect.driver == "psycopg"

    @retry_on_disconnect
    def ensure_schema(self) -> None:
        """Migrate our tables to the newest revision and check ContentHub's, once per engine.

        Raises storage.schema.SchemaMismatchError when content_generation_tasks lacks a column.
        """
        ensure_schema(self.engine)

    @retry_on_disconnect
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
        with self._autocommit.connect() as conn:
            for ids in itertools.chain([first], chunks):
                query = sa.select(*columns).where(content_generation_tasks.c.task_id.in_(ids))
                found.update((row.task_id, row.status) for row in conn.execute(query))
        return found

    @retry_on_disconnect
    def status(self, task_id: str) -> str | None:
        """The lifecycle status of one task, or None when it has no row."""
        # Plain equality, not statuses()' IN list: this runs once per job, and an expanding
        # IN costs several times more CPU to render.
        if self._on_postgresql:
            row = self._on_driver(_STATUS_SQL, (task_id,))
            return None if row is None else str(row[0])
        tasks = content_generation_tasks
        query = sa.select(tasks.c.status).where(tasks.c.task_id == task_id)
        with self._autocommit.connect() as conn:
            return conn.execute(query).scalar_one_or_none()

    @retry_on_disconnect
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

    @retry_on_disconnect
    def record_pending(
        self, requests: Sequence[GenerationRequest], max_retries: int = GENERATION_MAX_RETRIES
    ) -> set[str] | None:
        """Before a chunk's jobs are added: each request gets its ``pending`` row unless it has
        one, and a row failed as not queued is reopened (``pending``), so a worker finds every
        row open. Returns the ids of the rows written now (their jobs cannot be in the queue
        yet), or None when that is not known (not PostgreSQL): then any may be.
        """
        if not requests:
            return set()
        if not self._on_postgresql:
            self.record_submitted(requests, PENDING, max_retries)
            self.reopen_not_queued(r.task_id for r in requests)
            return None
        values = [{c: getattr(r, c) for c in _REQUEST_COLUMNS} for r in requests]
        params = {
            "rows": json.dumps(values, ensure_ascii=False, separators=(",", ":")),
            "max_retries": max_retries,
            "submitted_at": _now(),
        }
        rows = self._on_driver(_pending_sql(), params, lambda cursor: cursor.fetchall())
        return {row[0] for row in rows}

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

    def claim(self, claim: AttemptClaim) -> bool:
        """Mark a task processing for this attempt, unless its row is final already."""
        return self._update(
            claim.task_id,
            content_generation_tasks.c.status.in_(OPEN),
            status=PROCESSING,
            error_message=None,
            **claim.values(),
        )

    @retry_on_disconnect
    def complete(
        self, request: GenerationRequest, article: Article, claim: AttemptClaim | None = None
    ) -> bool:
        """Store the article and close the lifecycle row, in one transaction.

        Only an attempt that still owns the row (status ``processing``) may close it: an attempt
        that was timed out, handed back to the queue or cancelled meanwhile stores nothing and
        gets False, so no task ever ends with two outcomes.

        With ``claim`` the attempt also takes the row in the same transaction (see
        :meth:`_closing`); its caller then guarantees it was not abandoned meanwhile.
        """
        if claim is not None and self._on_postgresql:
            return self._complete_in_one_statement(request, article, claim)
        now = _now()
        with self.engine.begin() as conn:
            closed = conn.execute(
                self._closing(request.task_id, claim).values(
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
                    generated_contents.insert().values(**_article_row(request, article, now))
                )
        return True

    def _complete_in_one_statement(
        self, request: GenerationRequest, article: Article, claim: AttemptClaim
    ) -> bool:
        """:meth:`complete` with a claim, on PostgreSQL: take the row, close it and store the
        article in a single statement, which is its own transaction (one round trip)."""
        now = _now()
        row = _article_row(request, article, now)
        params = {
            # psycopg would send a list or dict as an array or hstore: JSON columns go as text.
            **{
                f"a_{name}": json.dumps(value)
                if value is not None and name in _JSON_COLUMNS
                else value
                for name, value in row.items()
            },
            "task_id": request.task_id,
            "completed_at": now,
            "result": json.dumps(article.summary()),
            **claim.values(),
        }
        closed = self._on_driver(_one_statement_complete(tuple(row)), params)
        return bool(closed and closed[0])

    def _on_driver(
        self,
        sql: str,
        params: Mapping[str, Any] | Sequence[Any],
        read: Callable[[Any], Any] | None = None,
    ) -> Any:
        """PostgreSQL: one statement straight on a pooled psycopg connection, in autocommit
        (its own transaction, one round trip); returns ``read`` of its cursor (default: its
        first row).

        The worker runs two statements per job, and SQLAlchemy's work around each statement
        (compiled-cache lookup, parameter and result processing) cost more CPU than the whole
        rest of a job on a busy worker. A connection found dead is discarded and the statement
        run once more on a fresh one (as :func:`retry_on_disconnect` does): both statements
        are safe to repeat.
        """
        import psycopg  # here, not at import: only this PostgreSQL path needs the driver

        for attempt in (1, 2):
            pooled = self.engine.raw_connection()
            driver = pooled.driver_connection
            try:
                driver.autocommit = True
                try:
                    cursor = driver.execute(sql, params)
                    return read(cursor) if read else cursor.fetchone()
                finally:
                    if not driver.broken:
                        driver.autocommit = False
            except psycopg.OperationalError as exc:
                if attempt == 2 or not driver.broken:
                    raise
                log.warning("database connection lost (%s); retrying once", error_reason(exc))
                pooled.invalidate()
            finally:
                pooled.close()
        raise AssertionError("unreachable")

    def _closing(self, task_id: str, claim: AttemptClaim | None) -> sa.Update:
        """The update that closes a row: from ``processing``, or, for an attempt that claims
        the row in its closing transaction, from any status not final yet."""
        tasks = content_generation_tasks
        if claim is None:
            return tasks.update().where(tasks.c.task_id == task_id, tasks.c.status == PROCESSING)
        return tasks.update().where(tasks.c.task_id == task_id, _IS_OPEN).values(**claim.values())

    def fail(
        self,
        task_id: str,
        error: str,
        status: str = FAILED,
        *,
        from_statuses: Sequence[str] | None = None,
        claim: AttemptClaim | None = None,
    ) -> bool:
        """Record a failed or timed-out attempt (``status`` stays processing while retrying).

        ``from_statuses`` limits the update to rows in one of those statuses; a completed row is
        never touched. ``claim`` writes the attempt's start, deadline and retry count too (for
        an attempt that had not claimed the row yet). Returns whether a row was updated.
        """
        values: dict[str, Any] = {"status": status, "error_message": error[:2000]}
        if claim is not None:
            values.update(claim.values())
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
        if self._on_postgresql:
            # Straight on the driver, the ids as one array: one small statement per chunk.
            return sum(
                self._on_driver(_MARK_QUEUED_SQL, (ids,), lambda cursor: cursor.rowcount)
                for ids in chunked(task_ids, IDS_PER_STATEMENT)
            )
        return self._update_producer_rows(
            task_ids, status=SUBMITTED, error_message=None, completed_at=None
        )

    def reopen_not_queued(self, task_ids: Iterable[str]) -> int:
        """Rows ``failed`` as not queued go back to ``pending`` before their jobs are added again.

        So the row is open (a status a worker takes a row from) before any worker can see the
        job; :meth:`mark_queued` then makes it ``submitted``.
        """
        return self._update_producer_rows(
            task_ids, only_not_queued=True, status=PENDING, error_message=None, completed_at=None
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

    def _update_producer_rows(
        self, task_ids: Iterable[str], *, only_not_queued: bool = False, **values: Any
    ) -> int:
        table = content_generation_tasks
        not_queued = sa.and_(table.c.status == FAILED, table.c.error_message.startswith(NOT_QUEUED))
        producer_rows = (
            not_queued if only_not_queued else sa.or_(table.c.status == PENDING, not_queued)
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
        """Hand a task back to the queue: its row, unless final, is ``submitted`` again."""
        return self._update(
            task_id,
            content_generation_tasks.c.status.in_(OPEN),
            status=SUBMITTED,
            error_message=note[:2000],
        )

    @retry_on_disconnect
    def _update(self, task_id: str, *conditions: Any, **values: Any) -> bool:
        with self.engine.begin() as conn:
            result = conn.execute(
                content_generation_tasks.update()
                .where(content_generation_tasks.c.task_id == task_id, *conditions)
                .values(**values)
            )
        return result.rowcount > 0
