"""Shared fixtures: real services, a working directory of the test's own, clean environment."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from contenthub_dagster.settings import DAGSTER_PG_URL, ENV_PREFIX, Settings, env_name
from tests.services import postgres_database, redis_database

# Settings' variables that do not start with CONTENTHUB_ (OPENAI_*), and Dagster's own.
OTHER_ENV = (
    *(n for n in map(env_name, Settings.model_fields) if not n.startswith(ENV_PREFIX)),
    "DAGSTER_HOME",
    DAGSTER_PG_URL,
)
REPO_ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """Every test starts with no ContentHub settings, in an empty working directory."""
    for name in [n for n in os.environ if n.startswith(ENV_PREFIX)] + list(OTHER_ENV):
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


# The tests' own copy of the example tasks: the checkout's tasks.yaml is the operator's to edit.
EXAMPLE_TASKS = """\
tasks:
  - key: daily_generation
    name: 每日内容生成
    description: 每天早上8点生成技术内容
    task_type: async_content_generation
    cron_expression: "0 8 * * *"
    params:
      account_ids: [49, 50, 51]
      count_per_account: 3
      category: 技术
      auto_approve: false
      priority: 8
  - key: high_frequency
    name: 高频更新
    task_type: async_content_generation
    interval: 2
    interval_unit: hours
    params: {account_ids: [49], count_per_account: 1}
  - key: custom_topics
    name: 自定义选题
    task_type: async_content_generation
    cron_expression: "0 9 * * *"
    params:
      account_ids: [49]
      topics: [{topic: AI 技术未来趋势, keywords: "AI,人工智能", requirements: 深度分析, tone: 专业}]
  - key: weekday_marketing
    name: 工作日营销内容
    task_type: async_content_generation
    cron_expression: "0 8 * * 1-5"
    params: {account_ids: [49, 50], count_per_account: 2, category: 营销, priority: 6}
"""


def write_example_tasks(path: Path) -> Path:
    path.write_text(EXAMPLE_TASKS, encoding="utf-8")
    return path


@pytest.fixture
def example_tasks(tmp_path: Path) -> Path:
    """A task file of this test's own with the four example tasks (as the shipped tasks.yaml)."""
    return write_example_tasks(tmp_path / "example-tasks.yaml")


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
