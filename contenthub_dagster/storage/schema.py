"""Our tables as Alembic migrations shipped in the package, and the check of ContentHub's table.

``upgrade_schema`` brings a database to the newest revision; ``check_schema`` verifies that
``content_generation_tasks`` (often ContentHub's own) has every column we use; ``ensure_schema``
does both once per engine per process, and is what the job and the worker call at start.
"""

from __future__ import annotations

import threading
import weakref
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory

from contenthub_dagster.masking import mask_url
from contenthub_dagster.storage.tables import content_generation_tasks

# Not Alembic's default ``alembic_version``: ContentHub's database may keep its own revision there.
VERSION_TABLE = "contenthub_dagster_alembic_version"
SCHEMA_LOCK = 0x436F6E74656E74  # an arbitrary key of our own for pg_advisory_xact_lock
# Alembic's ``op`` and ``context`` are module-wide proxies: two upgrades running at once in one
# process (threads, or two databases) would run each other's operations.
_alembic_guard = threading.Lock()
# Resolved from the package, so an installed wheel (which has no alembic.ini) finds them too.
MIGRATIONS_DIR = Path(__file__).resolve().with_name("migrations")


class SchemaMismatchError(RuntimeError):
    """ContentHub's ``content_generation_tasks`` lacks columns we write or read."""


@dataclass(frozen=True)
class SchemaState:
    """Where a database stands: masked URL, its revision before and after, the newest one."""

    database: str
    revision: str | None
    head: str
    previous: str | None = None

    @property
    def up_to_date(self) -> bool:
        return self.revision == self.head

    def as_dict(self) -> dict[str, object]:
        return {
            "database": self.database,
            "revision": self.revision,
            "previous": self.previous,
            "head": self.head,
            "up_to_date": self.up_to_date,
            "version_table": VERSION_TABLE,
        }


def alembic_config(connection: sa.Connection | None = None) -> Config:
    """An Alembic config for our migrations; env.py migrates ``connection`` (never a URL)."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    if connection is not None:
        config.attributes["connection"] = connection
    return config


def head_revision() -> str:
    """The newest revision shipped with this package."""
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    if head is None:
        raise RuntimeError(f"no migrations found in {MIGRATIONS_DIR}")
    return head


def database_name(engine: sa.Engine) -> str:
    """The engine's URL with its password masked, for messages."""
    return mask_url(engine.url.render_as_string(hide_password=False))


def current_revision(engine: sa.Engine) -> SchemaState:
    """The database's revision in our version table (None before the first upgrade)."""
    with engine.connect() as conn:
        revision = _revision(conn)
    return SchemaState(database_name(engine), revision, head_revision())


def upgrade_schema(engine: sa.Engine) -> SchemaState:
    """Bring our tables to the newest revision; safe when several processes start at once.

    A database whose tables the old ``create_all`` made has no version row yet: revision 0001
    creates only missing tables, so it is adopted as it is.
    """
    with _alembic_guard, _schema_transaction(engine) as conn:
        previous = _revision(conn)
        command.upgrade(alembic_config(conn), "head")
        revision = _revision(conn)
    return SchemaState(database_name(engine), revision, head_revision(), previous)


def missing_task_columns(engine: sa.Engine) -> list[str]:
    """Columns of tables.py's ``content_generation_tasks`` that the database's table lacks."""
    inspector = sa.inspect(engine)
    present: set[str] = set()
    if inspector.has_table(content_generation_tasks.name):
        present = {c["name"] for c in inspector.get_columns(content_generation_tasks.name)}
    # Every column, not only the inserted ones: ContentStore.task() selects the whole row.
    return [c.name for c in content_generation_tasks.columns if c.name not in present]


def check_schema(engine: sa.Engine) -> None:
    """Raise SchemaMismatchError when ``content_generation_tasks`` lacks a column we use."""
    missing = missing_task_columns(engine)
    if missing:
        table = content_generation_tasks.name
        raise SchemaMismatchError(
            f"database {database_name(engine)}: table {table} lacks the column(s) "
            f"{', '.join(missing)} that contenthub-dagster writes. It is ContentHub's table: "
            f"run ContentHub's own migrations, or add the columns (definitions in "
            f"contenthub_dagster/storage/tables.py), then start again."
        )


_ready: weakref.WeakSet[sa.Engine] = weakref.WeakSet()
_ready_guard = threading.Lock()


def ensure_schema(engine: sa.Engine) -> None:
    """Upgrade and check once per engine per process; a failed check is retried next call."""
    with _ready_guard:
        if engine in _ready:
            return
    upgrade_schema(engine)
    check_schema(engine)
    with _ready_guard:
        _ready.add(engine)


def _revision(conn: sa.Connection) -> str | None:
    return MigrationContext.configure(
        conn, opts={"version_table": VERSION_TABLE}
    ).get_current_revision()


@contextmanager
def _schema_transaction(engine: sa.Engine) -> Iterator[sa.Connection]:
    """One transaction for the whole upgrade, holding a lock that other upgraders wait for."""
    with engine.connect() as conn:
        sqlite = conn.dialect.name == "sqlite"
        if sqlite:
            # pysqlite begins its implicit transaction only before DML, so DDL would autocommit
            # and two processes could both find no version row; with the driver's transaction
            # handling off, our own BEGIN IMMEDIATE takes SQLite's write lock for the upgrade.
            conn.execution_options(isolation_level="AUTOCOMMIT")
        with conn.begin():
            if sqlite:
                conn.exec_driver_sql("BEGIN IMMEDIATE")
            elif conn.dialect.name == "postgresql":
                # Released at commit; DDL is transactional there, so waiters see the finished
                # schema and the version row together.
                conn.execute(sa.text("SELECT pg_advisory_xact_lock(:key)"), {"key": SCHEMA_LOCK})
            yield conn
