"""The worker's writes on PostgreSQL: the claiming completion, abandoned attempts, and a
connection the server dropped (no pre-ping: the failure path reconnects)."""

from __future__ import annotations

import psycopg
import pytest
import sqlalchemy as sa

from contenthub_dagster.domain.article import Article
from contenthub_dagster.generation.pipeline import (
    AttemptSupersededError,
    OwnedAttempt,
    generate_and_store,
)
from contenthub_dagster.storage.contents import SUBMITTED, AttemptClaim, ContentStore
from contenthub_dagster.storage.engine import engine_for
from tests.services import PG_ADMIN_URL
from tests.worker_harness import content_rows, make_request, task_rows

pytestmark = pytest.mark.unit


class _Fixed:
    name = "fixed"

    def generate(self, request: object) -> Article:
        return Article("标题", "正文", "fixed")


@pytest.fixture
def store(pg_url: str) -> ContentStore:
    store = ContentStore(engine_for(pg_url, 2))
    store.ensure_schema()
    return store


def test_one_statement_completion_takes_open_rows_only_and_stores_once(
    store: ContentStore, pg_url: str
) -> None:
    fresh, done = make_request(1, "fresh"), make_request(2, "done")
    store.record_submitted([fresh, done], SUBMITTED)
    claim = AttemptClaim.starting_now(fresh.task_id, 3, 60)
    assert store.complete(fresh, Article("t", "b", "fixed"), claim)
    assert store.complete(
        done, Article("t", "b", "fixed"), AttemptClaim.starting_now(done.task_id, 1, 60)
    )
    # A second completion (another worker, a retried commit) changes nothing.
    assert not store.complete(fresh, Article("other", "other", "fixed"), claim)
    row = task_rows(pg_url)[fresh.task_id]
    assert (row["status"], row["retry_count"], row["result"]["title"]) == ("completed", 2, "t")
    assert row["started_at"] == claim.started_at
    assert sorted((c["task_id"], c["body"]) for c in content_rows(pg_url)) == sorted(
        [(fresh.task_id, "b"), (done.task_id, "b")]
    )


def test_an_abandoned_attempt_stores_nothing_even_on_a_handed_back_row(
    store: ContentStore, pg_url: str
) -> None:
    request = make_request(3, "handed back")
    store.record_submitted([request], SUBMITTED)
    owned = OwnedAttempt(store, request.task_id, 1)
    owned.start(60)
    assert owned.claim()
    assert owned.abandon()
    assert store.requeue(request.task_id, "handed back")  # the row is submitted again
    with pytest.raises(AttemptSupersededError):
        generate_and_store(request, _Fixed(), store, owned=owned)
    assert task_rows(pg_url)[request.task_id]["status"] == SUBMITTED
    assert content_rows(pg_url) == []


def test_a_dropped_connection_is_replaced_without_pre_ping(
    store: ContentStore, pg_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    request = make_request(4, "reconnect")
    store.record_submitted([request], SUBMITTED)
    assert store.status(request.task_id) == SUBMITTED  # a pooled connection now exists
    database = sa.make_url(pg_url).database
    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as admin:
        killed = admin.execute(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
            "WHERE datname = %s AND pid <> pg_backend_pid()",
            (database,),
        ).fetchone()
    assert killed is not None and killed[0] >= 1
    assert store.status(request.task_id) == SUBMITTED
    claim = AttemptClaim.starting_now(request.task_id, 1, 60)
    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as admin:
        admin.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE datname = %s AND pid <> pg_backend_pid()",
            (database,),
        )
    assert store.complete(request, Article("t", "b", "fixed"), claim)
    assert task_rows(pg_url)[request.task_id]["status"] == "completed"
    assert caplog.text.count("database connection lost") == 2
