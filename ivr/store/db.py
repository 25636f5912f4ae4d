"""Database engine set-up: durable by default, one place that knows the dialects.

SQLite runs in WAL mode with synchronous=FULL so that a committed fault
survives a power cut or kill -9; PostgreSQL is durable as it comes.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any, NamedTuple, TypeVar

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, IntegrityError, NoSuchModuleError
from sqlalchemy.orm import Session, sessionmaker

from ivr.store import migrations

T = TypeVar("T")

__all__ = ["Conflict", "Database", "Session"]


class Conflict(RuntimeError):
    """A unique row another writer committed first (e.g. the same fault reference)."""


class DatabaseUrl(NamedTuple):
    """What sip.conf needs to know of a database URL, without touching the database."""

    masked: str  # the URL with its password hidden, for display
    sqlite_path: Path | None  # the SQLite file, or None for a server or an in-memory database


def check_database_url(url: str) -> DatabaseUrl:
    """Parse `url` as the engine will, so a mistake is refused when sip.conf is
    loaded rather than as a traceback from the first command that opens it.

    Raises ValueError saying what is wrong: a URL that does not parse, an
    unknown kind of database, or a driver that is not installed.
    """
    expected = "expected sqlite:///PATH or postgresql+psycopg://USER:PASSWORD@HOST/NAME"
    try:
        parsed = make_url(url)
    except ArgumentError:
        # The URL itself is not repeated: it may hold a password.
        raise ValueError(f"cannot read it as a database URL; {expected}") from None
    try:
        dialect = parsed.get_dialect()
    except NoSuchModuleError:
        raise ValueError(f"unknown kind of database {parsed.drivername!r}; {expected}") from None
    try:
        dialect.import_dbapi()
    except ImportError as exc:
        raise ValueError(f"the driver for {parsed.drivername} is not installed ({exc})") from None
    database = parsed.database
    in_file = parsed.get_backend_name() == "sqlite" and database and database != ":memory:"
    return DatabaseUrl(
        masked=parsed.render_as_string(hide_password=True),
        sqlite_path=Path(database) if in_file and database else None,
    )


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=FULL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.close()


def make_engine(url: str) -> Engine:
    if url.startswith("sqlite"):
        path = url.split("///", 1)[-1]
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"check_same_thread": False})
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    return create_engine(url, pool_pre_ping=True, pool_size=10, max_overflow=20)


class Database:
    """The engine and a session factory; callers own their transactions."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.engine = make_engine(url)
        self.sessions: sessionmaker[Session] = sessionmaker(self.engine, expire_on_commit=False)

    def transaction(self, work: Callable[[Session], T]) -> T:
        """Run `work` in one transaction, committed when this returns.

        A unique constraint another writer won is raised as `Conflict`, so
        callers outside the store can retry without knowing the driver.
        """
        try:
            with self.sessions.begin() as session:
                return work(session)
        except IntegrityError as exc:
            raise Conflict(str(exc.orig)) from exc

    def read(self, work: Callable[[Session], T]) -> T:
        """Run `work` in a short read-only session of its own."""
        with self.sessions() as session:
            return work(session)

    def create_schema(self) -> None:
        """Bring the schema to the newest migration (safe with several processes at once)."""
        migrations.upgrade(self.engine)

    def dispose(self) -> None:
        self.engine.dispose()
