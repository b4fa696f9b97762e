"""``contenthub-dagster db upgrade`` and ``db current``."""

import json
import subprocess
import sys
from pathlib import Path

import pytest
import sqlalchemy as sa
from click.testing import CliRunner

from contenthub_dagster.cli import main
from contenthub_dagster.storage.engine import normalize_url
from contenthub_dagster.storage.schema import VERSION_TABLE, head_revision

HEAD = head_revision()


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, ["db", *args])
    return result.exit_code, result.stdout, result.stderr


def with_password(pg_url: str) -> str:
    # Trust authentication ignores it; it is only here to be masked.
    return pg_url.replace("postgres@", "postgres:s3cret-pw@", 1)


@pytest.mark.unit
def test_upgrade_and_current_on_postgres(pg_url: str) -> None:
    url = with_password(pg_url)

    code, out, err = run("current", "--database-url", url)
    assert code == 0, err
    assert "revision: none" in out

    code, out, err = run("upgrade", "--database-url", url, "--json")
    assert code == 0, err
    report = json.loads(out)
    assert report["previous"] is None
    assert report["revision"] == report["head"] == HEAD
    assert report["version_table"] == VERSION_TABLE
    assert report["database"].startswith("postgresql+psycopg://postgres:***@127.0.0.1:5432/")
    assert "s3cret-pw" not in out

    engine = sa.create_engine(normalize_url(pg_url))
    with engine.connect() as conn:
        stored = conn.execute(sa.text(f"SELECT version_num FROM {VERSION_TABLE}")).scalars()
        assert list(stored) == [HEAD]
    engine.dispose()

    code, out, err = run("current", "--database-url", url)
    assert code == 0, err
    assert "postgres:***@127.0.0.1" in out and "s3cret-pw" not in out
    assert f"revision: {HEAD} (head)" in out

    code, out, err = run("upgrade", "--database-url", url)
    assert code == 0, err
    assert f"revision: {HEAD} (already the newest)" in out


@pytest.mark.unit
def test_upgrade_defaults_to_the_environment_then_the_embedded_file(
    clean_env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    code, out, err = run("upgrade")
    assert code == 0, err
    embedded = clean_env / ".contenthub" / "contenthub.db"
    assert f"database: sqlite:///{embedded}" in out
    assert f"revision: none -> {HEAD}" in out
    assert VERSION_TABLE in sa.inspect(sa.create_engine(f"sqlite:///{embedded}")).get_table_names()

    other = clean_env / "other.db"
    monkeypatch.setenv("CONTENTHUB_DATABASE_URL", f"sqlite:///{other}")
    code, out, err = run("current", "--json")
    assert code == 0, err
    assert json.loads(out)["database"] == f"sqlite:///{other}"
    assert json.loads(out)["revision"] is None


@pytest.mark.unit
def test_upgrade_fails_clearly_on_contenthub_table_without_our_columns(pg_url: str) -> None:
    engine = sa.create_engine(normalize_url(pg_url))
    with engine.begin() as conn:
        conn.execute(
            sa.text(
                "CREATE TABLE content_generation_tasks (id SERIAL PRIMARY KEY, "
                "task_id VARCHAR(64) NOT NULL, status VARCHAR(20) NOT NULL)"
            )
        )
    engine.dispose()

    code, _, err = run("upgrade", "--database-url", with_password(pg_url))

    assert code == 1
    assert err.startswith("error: database postgresql+psycopg://postgres:***@")
    assert "table content_generation_tasks lacks the column(s) account_id, topic" in err
    assert "s3cret-pw" not in err


@pytest.mark.unit
def test_unreachable_database_is_one_error_line(clean_env: Path) -> None:
    url = "postgresql://postgres:s3cret-pw@127.0.0.1:5432/no_such_database_here"
    code, _, err = run("current", "--database-url", url)
    assert code == 1
    assert err.startswith("error: database postgresql://postgres:***@127.0.0.1:5432/")
    assert "no_such_database_here" in err and "s3cret-pw" not in err
    assert len(err.strip().splitlines()) == 1


@pytest.mark.e2e  # a fresh interpreter
def test_db_command_module_imports_no_dagster() -> None:
    # The cli package's __init__ registers every command (some need Dagster), so load db.py
    # and what it imports without running that __init__.
    code = (
        "import importlib.util, sys, types\n"
        "spec = importlib.util.find_spec('contenthub_dagster.cli')\n"
        "package = types.ModuleType('contenthub_dagster.cli')\n"
        "package.__path__ = list(spec.submodule_search_locations)\n"
        "import contenthub_dagster\n"
        "sys.modules['contenthub_dagster.cli'] = package\n"
        "import contenthub_dagster.cli.db\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] == 'dagster'))\n"
    )
    completed = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120
    )
    assert completed.returncode == 0, completed.stderr
    assert completed.stdout.strip() == "[]"
