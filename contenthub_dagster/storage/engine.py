"""Engines for ContentHub's database, with timeouts, plain ``postgresql://`` URLs accepted."""

from __future__ import annotations

import functools
import logging
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import ParamSpec, TypeVar

import sqlalchemy as sa
from sqlalchemy.engine import make_url

from contenthub_dagster.domain.problems import TransientError
from contenthub_dagster.masking import redact
from contenthub_dagster.settings import EMBEDDED_DATABASE, configured_secrets

log = logging.getLogger("contenthub_dagster.storage")

P = ParamSpec("P")
R = TypeVar("R")

CONNECT_TIMEOUT_SECONDS = 10
STATEMENT_TIMEOUT_MS = 30_000
SQLITE_BUSY_TIMEOUT_SECONDS = 30
# A server or a proxy may drop idle connections; a pooled one is replaced before this age.
POOL_RECYCLE_SECONDS = 1800


def normalize_url(url: str) -> str:
    """Map ``postgres://`` and ``postgresql://`` onto the psycopg 3 driver we ship."""
    parsed = make_url(url.strip())
    if parsed.drivername in ("postgres", "postgresql"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    return parsed.render_as_string(hide_password=False)


def error_reason(exc: BaseException) -> str:
    """The first line of a database error's own message (the driver's, not SQLAlchemy's wrap),
    without any configured secret or URL password (a URL that does not parse is quoted whole)."""
    original = getattr(exc, "orig", None) or exc
    lines = [line.strip() for line in str(original).splitlines() if line.strip()]
    return redact(lines[0], *configured_secrets()) if lines else type(exc).__name__


class StoreUnavailableError(TransientError):
    """ContentHub's database could not be reached, lost the connection, or timed out."""


def is_transient_db_error(exc: BaseException) -> bool:
    """A connection or timeout error (a later try may succeed), not a wrong query or schema.

    The drivers raise both kinds as OperationalError (a refused connection, a server restart, a
    statement timeout, SQLite's "database is locked"); a missing table is a ProgrammingError.
    psycopg's own errors count too: some statements run straight on the driver.
    """
    transient: tuple[type[BaseException], ...] = (
        sa.exc.OperationalError,
        sa.exc.InterfaceError,
        sa.exc.DisconnectionError,
        sa.exc.TimeoutError,
        ConnectionError,
        TimeoutError,
    )
    # Not imported here: a process that never loaded the driver cannot have its errors.
    driver = sys.modules.get("psycopg")
    if driver is not None:
        transient += (driver.OperationalError, driver.InterfaceError)
    return isinstance(exc, transient) or bool(getattr(exc, "connection_invalidated", False))


@contextmanager
def transient_as(error: type[TransientError], what: str) -> Iterator[None]:
    """Re-raise a transient database error as ``error`` with ``what``, the reason appended."""
    try:
        yield
    except Exception as exc:
        if not is_transient_db_error(exc):
            raise
        raise error(f"{what}: {type(exc).__name__}: {error_reason(exc)}") from exc


def embedded_url(base_dir: Path | None = None) -> str:
    """The embedded SQLite database used when no URL is configured."""
    path = (base_dir or Path.cwd()) / EMBEDDED_DATABASE
    path.parent.mkdir(parents=True, exist_ok=True)
    return f"sqlite:///{path.resolve()}"


@functools.cache
def engine_for(url: str, pool_size: int | None = None) -> sa.Engine:
    """One pooled engine per URL (and pool size) per process.

    ``pool_size`` sizes the pool for that many concurrent users (the worker's concurrency): as
    many connections kept, as many again allowed at peaks, instead of SQLAlchemy's 5 + 10.

    No ``pool_pre_ping``: it costs a round trip on every checkout, i.e. on every statement the
    worker runs. A dropped connection is handled on the failure path instead: ``pool_recycle``
    retires connections before a server or proxy idle limit is likely to cut them, and the one
    that still fails surfaces as ``DBAPIError.connection_invalidated``, on which SQLAlchemy
    invalidates the pool's older connections and :func:`retry_on_disconnect` tries once more.
    """
    normalized = normalize_url(url)
    if normalized.startswith("sqlite"):
        return sa.create_engine(normalized, connect_args={"timeout": SQLITE_BUSY_TIMEOUT_SECONDS})
    connect_args: dict[str, object] = {}
    if normalized.startswith("postgresql"):
        connect_args = {
            "connect_timeout": CONNECT_TIMEOUT_SECONDS,
            "options": f"-c statement_timeout={STATEMENT_TIMEOUT_MS}",
        }
    sizing: dict[str, int] = {}
    if pool_size is not None:
        sizing = {"pool_size": max(pool_size, 1), "max_overflow": max(pool_size, 1)}
    return sa.create_engine(
        normalized, connect_args=connect_args, pool_recycle=POOL_RECYCLE_SECONDS, **sizing
    )


def retry_on_disconnect(operation: Callable[P, R]) -> Callable[P, R]:
    """Run ``operation`` again, once, when its connection turned out to be dead.

    Only for operations that are safe to repeat as a whole: each opens its own transaction, and
    every write is conditional or checks first, so a commit whose answer was lost is not doubled.
    """

    @functools.wraps(operation)
    def run(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return operation(*args, **kwargs)
        except sa.exc.DBAPIError as exc:
            if not exc.connection_invalidated:
                raise
            log.warning("database connection lost (%s); retrying once", error_reason(exc))
            return operation(*args, **kwargs)

    return run
