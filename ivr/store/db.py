"""Database engine set-up: durable by default, one place that knows the dialects.

SQLite runs in WAL mode with synchronous=FULL so that a committed fault
survives a power cut or kill -9; PostgreSQL is durable as it comes.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple, TypeVar

from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import (
    ArgumentError,
    DBAPIError,
    IntegrityError,
    NoSuchModuleError,
    OperationalError,
)

if TYPE_CHECKING:
    from sqlalchemy.orm import Session, sessionmaker

T = TypeVar("T")

# SQLite's result code for "database or disk is full" (SQLITE_FULL).
SQLITE_FULL = 13
# How long a PostgreSQL connection attempt, or an unanswered packet on an open
# connection, may take before the database counts as unreachable: without
# these a dropped network would hold the writer thread for minutes.
PG_CONNECT_TIMEOUT_SECONDS = 5
PG_TCP_USER_TIMEOUT_MS = 10_000


class Conflict(RuntimeError):
    """A unique row another writer committed first (e.g. the same fault reference)."""


class Unavailable(RuntimeError):
    """The database could not be reached or used; the same work may succeed later.

    Raised instead of the driver's own errors so that code outside the store
    can wait and retry without knowing the driver. Whether the failed
    transaction committed is unknown (the answer to COMMIT may be what was
    lost): work retried after this must be idempotent.
    """


class StorageFull(Unavailable):
    """The database's disk is full: no write will succeed until space is freed."""


def _unavailable(exc: DBAPIError) -> Unavailable | None:
    """The driver error as Unavailable/StorageFull, or None if it is a bug of ours."""
    if getattr(exc.orig, "sqlite_errorcode", None) == SQLITE_FULL:
        return StorageFull(f"the database's disk is full ({exc.orig})")
    if isinstance(exc, OperationalError) or exc.connection_invalidated:
        return Unavailable(f"{type(exc.orig).__name__}: {str(exc.orig).strip()[:300]}")
    return None


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
    return create_engine(
        url,
        pool_pre_ping=True,
        pool_size=10,
        max_overflow=20,
        connect_args={
            "connect_timeout": PG_CONNECT_TIMEOUT_SECONDS,
            "tcp_user_timeout": PG_TCP_USER_TIMEOUT_MS,
            "keepalives": 1,
            "keepalives_idle": 5,
            "keepalives_interval": 2,
            "keepalives_count": 3,
        },
    )


class Database:
    """The engine and a session factory; callers own their transactions."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.engine = make_engine(url)

    @cached_property
    def sessions(self) -> sessionmaker[Session]:
        """Made on first use: a listing that reads on a Connection (`ivr.store.calls`)
        never imports the ORM."""
        from sqlalchemy.orm import sessionmaker

        return sessionmaker(self.engine, expire_on_commit=False)

    def transaction(self, work: Callable[[Session], T]) -> T:
        """Run `work` in one transaction, committed when this returns.

        A unique constraint another writer won is raised as `Conflict`, so
        callers outside the store can retry without knowing the driver; a
        database that cannot be reached, or a full disk, as `Unavailable`.
        """
        try:
            with self.sessions.begin() as session:
                return work(session)
        except IntegrityError as exc:
            raise Conflict(str(exc.orig)) from exc
        except DBAPIError as exc:
            unavailable = _unavailable(exc)
            if unavailable is None:
                raise
            raise unavailable from exc

    def read(self, work: Callable[[Session], T]) -> T:
        """Run `work` in a short read-only session of its own."""
        try:
            with self.sessions() as session:
                return work(session)
        except DBAPIError as exc:
            unavailable = _unavailable(exc)
            if unavailable is None:
                raise
            raise unavailable from exc

    def ping(self) -> None:
        """Raise Unavailable unless the database answers a trivial query now."""
        self.read(lambda session: session.execute(text("SELECT 1")))

    def create_schema(self) -> None:
        """Bring the schema to the newest migration (safe with several processes at once)."""
        # Imported here: Alembic costs a CLI command more than its own work,
        # and only the service and `ivr db upgrade` migrate.
        from ivr.store import migrations

        migrations.upgrade(self.engine)

    def dispose(self) -> None:
        self.engine.dispose()
