"""Our tables are Alembic migrations in a version table of our own, on SQLite and PostgreSQL."""

import subprocess
import sys
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from contenthub_dagster.storage.contents import ContentStore
from contenthub_dagster.storage.engine import normalize_url
from contenthub_dagster.storage.schema import (
    VERSION_TABLE,
    SchemaMismatchError,
    current_revision,
    head_revision,
    upgrade_schema,
)
from contenthub_dagster.storage.tables import content_generation_tasks, content_metadata

OUR_TABLES = {"content_generation_tasks", "generated_contents"}
HEAD = head_revision()

pytestmark = pytest.mark.unit


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A fresh, empty database of each kind."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'contenthub.db'}"
    return normalize_url(request.getfixturevalue("pg_url"))


@pytest.fixture
def engine(db_url: str):
    engine = sa.create_engine(db_url)
    yield engine
    engine.dispose()


def versions(engine: sa.Engine, table: str = VERSION_TABLE) -> list[str]:
    with engine.connect() as conn:
        return list(conn.execute(sa.text(f"SELECT version_num FROM {table}")).scalars())


def test_fresh_database_upgraded_to_head(engine: sa.Engine) -> None:
    assert current_revision(engine).revision is None

    state = upgrade_schema(engine)

    assert (state.previous, state.revision, state.head) == (None, HEAD, HEAD)
    tables = set(sa.inspect(engine).get_table_names())
    assert {*OUR_TABLES, VERSION_TABLE} <= tables
    # Never Alembic's default table, and never ContentHub's accounts outside the demo database.
    assert "alembic_version" not in tables
    assert "accounts" not in tables
    assert versions(engine) == [HEAD]
    assert current_revision(engine).up_to_date
    indexes = {i["name"] for i in sa.inspect(engine).get_indexes("generated_contents")}
    assert {"ix_generated_contents_account_id", "ix_generated_contents_status"} <= indexes

    again = upgrade_schema(engine)
    assert (again.previous, again.revision) == (HEAD, HEAD)
    assert versions(engine) == [HEAD]


def test_head_matches_tables_py(engine: sa.Engine) -> None:
    """A column added to tables.py without a revision that adds it fails here."""
    upgrade_schema(engine)
    with engine.connect() as conn:
        context = MigrationContext.configure(
            conn,
            opts={
                "include_object": lambda obj, name, type_, reflected, compare_to: (
                    not (type_ == "table" and reflected and compare_to is None)
                )
            },
        )
        assert compare_metadata(context, content_metadata) == []


def test_someone_elses_alembic_version_is_left_alone(engine: sa.Engine) -> None:
    with engine.begin() as conn:
        conn.execute(sa.text("CREATE TABLE alembic_version (version_num VARCHAR(32) NOT NULL)"))
        conn.execute(sa.text("INSERT INTO alembic_version VALUES ('contenthub_9f3e2a')"))

    upgrade_schema(engine)

    assert versions(engine, "alembic_version") == ["contenthub_9f3e2a"]
    assert versions(engine) == [HEAD]
    assert set(sa.inspect(engine).get_table_names()) >= OUR_TABLES


# tables.py as it was when create_all made the schema (frozen here: tables.py moves on with
# later revisions, which such a database must then receive).
LEGACY = sa.MetaData()
sa.Table(
    "content_generation_tasks",
    LEGACY,
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
sa.Table(
    "generated_contents",
    LEGACY,
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
)


def test_database_made_by_the_old_create_all_is_adopted(engine: sa.Engine) -> None:
    LEGACY.create_all(engine)
    now = datetime.now(UTC)
    with engine.begin() as conn:
        conn.execute(
            sa.text(
                "INSERT INTO content_generation_tasks (task_id, account_id, topic, status, "
                "priority) VALUES ('t-1', 49, '旧', 'completed', 5)"
            )
        )
        conn.execute(
            sa.text(
                "INSERT INTO generated_contents (task_id, account_id, topic, title, body, "
                "status, generator, created_at) VALUES ('t-1', 49, '旧', 'T', 'B', 'draft', "
                "'offline', :now)"
            ),
            {"now": now},
        )

    ContentStore(engine).ensure_schema()

    assert versions(engine) == [HEAD]
    assert ContentStore(engine).statuses(["t-1"]) == {"t-1": "completed"}
    with engine.connect() as conn:
        row = conn.execute(
            sa.select(content_generation_tasks).where(content_generation_tasks.c.task_id == "t-1")
        ).one()
        assert row.auto_approve in (True, 1)
        assert conn.execute(sa.text("SELECT count(*) FROM generated_contents")).scalar() == 1
        assert conn.execute(sa.text("SELECT count(*) FROM content_generation_tasks")).scalar() == 1


CONTENTHUB_TASKS_TABLE = """
CREATE TABLE content_generation_tasks (
    id INTEGER PRIMARY KEY,
    task_id VARCHAR(64) NOT NULL UNIQUE,
    account_id INTEGER NOT NULL,
    topic VARCHAR(500) NOT NULL,
    keywords VARCHAR(500),
    category VARCHAR(50),
    requirements TEXT,
    tone VARCHAR(255),
    status VARCHAR(20) NOT NULL,
    priority INTEGER NOT NULL,
    retry_count INTEGER NOT NULL DEFAULT 0,
    max_retries INTEGER NOT NULL DEFAULT 3,
    submitted_at TIMESTAMP,
    started_at TIMESTAMP,
    completed_at TIMESTAMP,
    timeout_at TIMESTAMP,
    error_message TEXT,
    created_by VARCHAR(50)
)
"""


def contenthub_style_postgres(pg_url: str) -> str:
    """The test database with ContentHub's older table (no result, no auto_approve)."""
    engine = sa.create_engine(normalize_url(pg_url))
    with engine.begin() as conn:
        conn.execute(sa.text(CONTENTHUB_TASKS_TABLE))
    engine.dispose()
    # Trust authentication ignores the password; it is only here to be masked.
    return normalize_url(pg_url.replace("postgres@", "postgres:s3cret-pw@", 1))


def test_contenthub_table_missing_columns_fails_clearly(pg_url: str) -> None:
    url = contenthub_style_postgres(pg_url)
    engine = sa.create_engine(url)
    try:
        with pytest.raises(SchemaMismatchError) as raised:
            ContentStore(engine).ensure_schema()
        message = str(raised.value)
        assert "s3cret-pw" not in message
        assert "postgresql+psycopg://postgres:***@127.0.0.1:5432/" in message
        assert "content_generation_tasks" in message
        assert "result, auto_approve" in message
        assert "keywords" not in message
        assert "ContentHub's own migrations" in message
        # ContentHub's table is never changed by us; our own table is there regardless.
        columns = {c["name"] for c in sa.inspect(engine).get_columns("content_generation_tasks")}
        assert "auto_approve" not in columns and "created_by" in columns
        assert "generated_contents" in sa.inspect(engine).get_table_names()

        # Once ContentHub's migrations add the columns, the same engine starts without restart.
        with engine.begin() as conn:
            conn.execute(sa.text("ALTER TABLE content_generation_tasks ADD COLUMN result JSON"))
            conn.execute(
                sa.text(
                    "ALTER TABLE content_generation_tasks "
                    "ADD COLUMN auto_approve BOOLEAN NOT NULL DEFAULT true"
                )
            )
        ContentStore(engine).ensure_schema()
    finally:
        engine.dispose()


def test_ensure_schema_runs_once_per_engine(engine: sa.Engine) -> None:
    ContentStore(engine).ensure_schema()
    statements: list[str] = []
    sa.event.listen(
        engine, "before_cursor_execute", lambda *args: statements.append(args[2]), named=False
    )
    ContentStore(engine).ensure_schema()
    assert statements == []
    upgrade_schema(engine)
    assert statements, "the listener sees statements, so the empty list above means something"


FIRST_RUN = """
import sys, time
from pathlib import Path
import sqlalchemy as sa
from contenthub_dagster.storage.contents import ContentStore
url, ready, go = sys.argv[1], Path(sys.argv[2]), Path(sys.argv[3])
engine = sa.create_engine(url)
ready.touch()
while not go.exists():
    time.sleep(0.005)
ContentStore(engine).ensure_schema()
"""


def test_processes_starting_together_on_a_fresh_database_all_succeed(
    db_url: str, tmp_path: Path
) -> None:
    count = 4
    go = tmp_path / "go"
    ready = [tmp_path / f"ready-{i}" for i in range(count)]
    processes = [
        subprocess.Popen(
            [sys.executable, "-c", FIRST_RUN, db_url, str(r), str(go)],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        for r in ready
    ]
    try:
        deadline = time.monotonic() + 60
        while not all(r.exists() for r in ready) and time.monotonic() < deadline:
            time.sleep(0.01)
        go.touch()
        outputs = [p.communicate(timeout=90)[0] for p in processes]
    finally:
        for p in processes:
            p.kill()
    assert [p.returncode for p in processes] == [0] * count, "\n".join(outputs)[-3000:]
    engine = sa.create_engine(db_url)
    try:
        assert set(sa.inspect(engine).get_table_names()) >= OUR_TABLES
        assert versions(engine) == [HEAD]
    finally:
        engine.dispose()


def test_threads_upgrading_different_databases_at_once(tmp_path: Path) -> None:
    """Alembic's proxies are module-wide; one process may still migrate several databases."""
    engines = [sa.create_engine(f"sqlite:///{tmp_path / f'db{i}.db'}") for i in range(4)]
    barrier = threading.Barrier(len(engines))
    errors: list[BaseException] = []

    def first_run(engine: sa.Engine) -> None:
        try:
            barrier.wait(timeout=30)
            ContentStore(engine).ensure_schema()
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=first_run, args=(e,), daemon=True) for e in engines]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    try:
        assert errors == []
        for engine in engines:
            assert versions(engine) == [HEAD]
            assert set(sa.inspect(engine).get_table_names()) >= OUR_TABLES
    finally:
        for engine in engines:
            engine.dispose()
