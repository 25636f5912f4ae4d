"""Database engine set-up: durable by default, one place that knows the dialects.

SQLite runs in WAL mode with synchronous=FULL so that a committed fault
survives a power cut or kill -9; PostgreSQL is durable as it comes.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from ivr.store import migrations

T = TypeVar("T")

__all__ = ["Conflict", "Database", "Session"]


class Conflict(RuntimeError):
    """A unique row another writer committed first (e.g. the same fault reference)."""


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
