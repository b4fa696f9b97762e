"""Shared fixtures: real services, a working directory of the test's own, clean environment."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from tests.services import postgres_database, redis_database

CONTENTHUB_ENV = (
    "CONTENTHUB_TASKS",
    "CONTENTHUB_TASKS_DATABASE_URL",
    "CONTENTHUB_DATABASE_URL",
    "CONTENTHUB_REDIS_URL",
    "CONTENTHUB_MODE",
    "CONTENTHUB_QUEUE",
    "CONTENTHUB_QUEUE_PREFIX",
    "CONTENTHUB_TIMEZONE",
    "CONTENTHUB_GENERATOR",
    "CONTENTHUB_ALERT_WEBHOOK",
    "CONTENTHUB_LOG_DIR",
    "CONTENTHUB_CREATOR_URL",
    "CONTENTHUB_CREATOR_TIMEOUT",
    "CONTENTHUB_MODEL",
    "CONTENTHUB_OPENAI_TIMEOUT",
    "CONTENTHUB_RETRY_BACKOFF_MS",
    "CONTENTHUB_GENERATION_TIMEOUT",
    "CONTENTHUB_WORKER_CONCURRENCY",
    "CONTENTHUB_WORKER_SHUTDOWN_GRACE",
    "CONTENTHUB_WORKER_LOCK_MS",
    "CONTENTHUB_WORKER_STALLED_MS",
    "CONTENTHUB_MAX_TASKS_PER_RUN",
    "CONTENTHUB_RUN_RETENTION_DAYS",
    "CONTENTHUB_OP_MAX_RETRIES",
    "CONTENTHUB_OP_RETRY_DELAY",
    "OPENAI_BASE_URL",
    "OPENAI_API_KEY",
    "DAGSTER_HOME",
)
REPO_ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """Every test starts with no ContentHub settings, in an empty working directory."""
    for name in CONTENTHUB_ENV:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)
    return tmp_path


@pytest.fixture
def pg_url() -> Iterator[str]:
    """A fresh PostgreSQL database of this test's own (plain postgresql:// URL)."""
    with postgres_database() as url:
        yield url


@pytest.fixture
def redis_queue() -> Iterator[tuple[str, str]]:
    """A Redis DB of this test's own and a unique BullMQ prefix: (url, prefix)."""
    with redis_database() as pair:
        yield pair


@pytest.fixture
def shipped_tasks() -> Path:
    """The task file shipped at the top of the repository."""
    return REPO_ROOT / "tasks.yaml"


TIERS = ("unit", "e2e", "browser", "daemon")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Refuse tests without exactly one tier marker: no test lands in a tier by default."""
    wrong = [
        f"{item.nodeid}: {names or 'none'}"
        for item in items
        if len(names := [m.name for m in item.iter_markers() if m.name in TIERS]) != 1
    ]
    if wrong:
        raise pytest.UsageError(
            "every test needs exactly one of the markers "
            + ", ".join(TIERS)
            + " (see pyproject.toml):\n  "
            + "\n  ".join(wrong)
        )


@pytest.fixture
def contenthub_url() -> Iterator[str]:
    """ContentHub's own database holding its accounts table; our tables are left to the runs."""
    with postgres_database("chd_test_hub") as url:
        with psycopg.connect(url, autocommit=True, connect_timeout=5) as conn:
            conn.execute(
                "CREATE TABLE accounts (id INTEGER PRIMARY KEY, name VARCHAR(100) NOT NULL,"
                " description VARCHAR(255), platform VARCHAR(50), is_active BOOLEAN DEFAULT TRUE)"
            )
            conn.execute(
                "INSERT INTO accounts (id, name, description) VALUES"
                " (49, '车界显眼包', '幽默风趣的汽车评测'), (50, '科技前沿观察', '科技趋势解读')"
            )
        yield url
