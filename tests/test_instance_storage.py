"""Dagster's storage accepts the plain postgresql:// URLs users paste."""

import dagster as dg
import pytest
import yaml

from contenthub_dagster.lib.instance_storage import dagster_storage_url
from tests.conftest import REPO_ROOT

pytestmark = pytest.mark.unit


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("postgresql://u:p@h:5432/db", "postgresql+psycopg2://u:p@h:5432/db?connect_timeout=10"),
        (
            "postgres://h/db?sslmode=require",
            "postgresql+psycopg2://h/db?connect_timeout=10&sslmode=require",
        ),
        ("postgresql+psycopg://h/db", "postgresql+psycopg2://h/db?connect_timeout=10"),
        (
            "postgresql+psycopg2://h/db?connect_timeout=3",
            "postgresql+psycopg2://h/db?connect_timeout=3",
        ),
    ],
)
def test_storage_url(url: str, expected: str) -> None:
    assert dagster_storage_url(url) == expected


def test_production_instance_on_a_plain_url(
    tmp_path, pg_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    home = tmp_path / "home"
    home.mkdir()
    (home / "dagster.yaml").write_text((REPO_ROOT / "dagster.yaml").read_text(encoding="utf-8"))
    config = yaml.safe_load((home / "dagster.yaml").read_text())["storage"]["custom"]["config"]
    assert config["postgres_url_env"] == "DAGSTER_PG_URL"
    monkeypatch.setenv("DAGSTER_HOME", str(home))
    monkeypatch.setenv("DAGSTER_PG_URL", pg_url)  # plain postgresql://
    with dg.DagsterInstance.get() as instance:
        run = instance.create_run_for_job(dg.GraphDefinition(name="g").to_job(name="probe"))
        assert instance.get_run_by_id(run.run_id).job_name == "probe"
        assert type(instance.run_coordinator).__name__ == "QueuedRunCoordinator"
        assert type(instance.run_storage).__name__ == "PostgresRunStorage"


def test_same_dagster_yaml_is_local_sqlite_without_dagster_pg_url(
    tmp_path, monkeypatch: pytest.MonkeyPatch
) -> None:
    home = tmp_path / "home"
    home.mkdir()
    (home / "dagster.yaml").write_text((REPO_ROOT / "dagster.yaml").read_text(encoding="utf-8"))
    monkeypatch.setenv("DAGSTER_HOME", str(home))
    monkeypatch.delenv("DAGSTER_PG_URL", raising=False)
    with dg.DagsterInstance.get() as instance:
        run = instance.create_run_for_job(dg.GraphDefinition(name="g").to_job(name="probe"))
        assert instance.get_run_by_id(run.run_id).job_name == "probe"
        assert type(instance.run_storage).__name__ == "SqliteRunStorage"
    # Beside the working folder, where `dagster dev` in the repo keeps it across restarts.
    assert (tmp_path / ".dagster" / "history" / "runs.db").is_file()
