"""Our tables in ContentHub's PostgreSQL database: created once, even by runs starting together."""

import threading

import pytest
import sqlalchemy as sa

from contenthub_dagster.storage.contents import ContentStore
from contenthub_dagster.storage.engine import normalize_url

pytestmark = pytest.mark.unit


def test_concurrent_first_runs_create_tables_once(pg_url: str) -> None:
    workers = 6
    barrier = threading.Barrier(workers)
    errors: list[BaseException] = []
    engines = [sa.create_engine(normalize_url(pg_url)) for _ in range(workers)]

    def first_run(engine: sa.Engine) -> None:
        barrier.wait(timeout=30)
        try:
            ContentStore(engine).ensure_schema()
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=first_run, args=(e,)) for e in engines]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    try:
        assert errors == []
        tables = set(sa.inspect(engines[0]).get_table_names())
        assert {"content_generation_tasks", "generated_contents"} <= tables
        assert "accounts" not in tables
    finally:
        for engine in engines:
            engine.dispose()
