"""``contenthub-dagster db``: migrate our tables in ContentHub's database. Imports no Dagster."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

import click
import sqlalchemy as sa
from sqlalchemy import exc as sa_exc

from contenthub_dagster.cli.output import emit_json, fail
from contenthub_dagster.masking import mask_url
from contenthub_dagster.settings import SettingsError, get_settings
from contenthub_dagster.storage.engine import embedded_url, engine_for, error_reason
from contenthub_dagster.storage.schema import (
    VERSION_TABLE,
    SchemaMismatchError,
    SchemaState,
    check_schema,
    current_revision,
    upgrade_schema,
)

T = TypeVar("T")

# The same flag as cli.tasks.json_option, not imported: that module pulls in Dagster.
json_option = click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")

database_url_option = click.option(
    "--database-url",
    help="ContentHub's database (default: CONTENTHUB_DATABASE_URL, else the embedded "
    ".contenthub/contenthub.db of the working directory).",
)


@click.group("db")
def db_group() -> None:
    """Our tables in ContentHub's database (Alembic migrations)."""


@db_group.command("upgrade")
@database_url_option
@json_option
def upgrade_command(database_url: str | None, as_json: bool) -> None:
    """Bring our tables to the newest revision, then check ContentHub's content_generation_tasks.

    Jobs and workers do the same at start; run this to migrate ahead of a deployment.
    """
    state = _with_engine(database_url, _upgrade_and_check)
    if as_json:
        emit_json(state.as_dict())
        return
    click.echo(f"database: {state.database}")
    if state.previous == state.revision:
        click.echo(f"revision: {state.revision} (already the newest)")
    else:
        click.echo(f"revision: {state.previous or 'none'} -> {state.revision}")
    click.echo(f"content_generation_tasks has every column we write; versions in {VERSION_TABLE}")


@db_group.command("current")
@database_url_option
@json_option
def current_command(database_url: str | None, as_json: bool) -> None:
    """Print the database's revision of our tables and the newest one shipped."""
    state = _with_engine(database_url, current_revision)
    if as_json:
        emit_json(state.as_dict())
        return
    click.echo(f"database: {state.database}")
    if state.revision is None:
        click.echo(f"revision: none (run `contenthub-dagster db upgrade`; head is {state.head})")
    elif state.up_to_date:
        click.echo(f"revision: {state.revision} (head)")
    else:
        click.echo(f"revision: {state.revision} (head is {state.head}: run `db upgrade`)")


def _upgrade_and_check(engine: sa.Engine) -> SchemaState:
    state = upgrade_schema(engine)
    check_schema(engine)
    return state


def _with_engine(configured: str | None, action: Callable[[sa.Engine], T]) -> T:
    try:
        url = configured or get_settings().database_url or embedded_url()
    except SettingsError as exc:
        fail(str(exc))
    try:
        engine = engine_for(url)
    except (sa_exc.ArgumentError, ValueError) as exc:
        fail(f"invalid database URL {mask_url(url)}: {exc}")
    try:
        return action(engine)
    except SchemaMismatchError as exc:
        fail(str(exc))
    except sa_exc.SQLAlchemyError as exc:
        fail(f"database {mask_url(url)}: {error_reason(exc)}")
    finally:
        engine.dispose()
