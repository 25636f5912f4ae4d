"""Schema migrations (Alembic), run from code: no alembic.ini, no working directory.

`upgrade(engine)` brings a database to the newest revision. It is what
`Database.create_schema()` does on every start, so it must be safe when
several processes start at once on one database (the CLI and the service,
say): on a SQLite file they take turns on a lock file beside it; on
PostgreSQL on an advisory lock. A database made by `create_all` before
migrations existed is adopted by the first revision (see its docstring).

Every table is in `ivr.store.models`, so the tests compare that one module
against the migrations. `ivr db` reads and writes revisions through the
functions here, so that only `ivr.store` imports Alembic; where a database
stands is read by `ivr.store.revisions`, which does not import it.
"""

from __future__ import annotations

import fcntl
import logging
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from alembic.util import CommandError
from sqlalchemy import Connection, Engine, MetaData, text

from ivr.store.models import Base
from ivr.store.revisions import Status, current, heads, known, status

__all__ = ["MigrationError", "Status", "current", "heads", "status", "upgrade", "write_revision"]

MIGRATIONS_DIR = Path(__file__).resolve().parent
# One number for every fault line process that migrates a PostgreSQL database.
_PG_LOCK_KEY = zlib.crc32(b"ivr.store.migrations")

log = logging.getLogger(__name__)


class MigrationError(RuntimeError):
    """The database cannot be brought to the requested revision; the message says why."""


def load_models() -> MetaData:
    return Base.metadata


def alembic_config(connection: Connection | None = None) -> Config:
    """An Alembic configuration pointing at this directory, using `connection` if given."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.set_main_option("path_separator", "os")
    config.attributes["connection"] = connection
    return config


def script() -> ScriptDirectory:
    return ScriptDirectory.from_config(alembic_config())


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Apply the migrations up to `revision`, holding the migration lock meanwhile."""
    with migration_lock(engine) as connection:
        before = current(connection)
        connection.rollback()  # end the read: Alembic begins and commits its own transaction
        if revision == "head" and set(before) == set(heads()):
            return
        if unknown := sorted(set(before) - known()):
            raise MigrationError(
                f"the database is at revision {', '.join(unknown)}, which this version of the "
                "fault line does not have: it was migrated by a newer version"
            )
        try:
            command.upgrade(alembic_config(connection), revision)
        except CommandError as exc:
            raise MigrationError(str(exc)) from None
        except AssertionError:
            # Alembic asserts, instead of raising its own error, on some
            # relative revisions it cannot resolve (head+5).
            raise MigrationError(f"cannot upgrade to {revision!r}: no such revision") from None
        if connection.in_transaction():
            connection.commit()
        after = current(connection)
        connection.rollback()
        if after != before:
            log.info("database migrated from %s to %s", _show(before), _show(after))


def _show(revisions: tuple[str, ...]) -> str:
    return ",".join(revisions) or "empty"


def write_revision(engine: Engine, message: str) -> None:
    """Write the migration from the newest revision to the models (for developers).

    The database is upgraded first, then compared with the models; the
    difference becomes the next numbered file in `versions/`, formatted
    like the rest of the code (ruff is a dev dependency).
    """
    upgrade(engine)
    with migration_lock(engine) as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        if not compare_metadata(context, load_models()):
            raise MigrationError("the models match the migrations: nothing to write")
        number = len(list(script().walk_revisions())) + 1
        config = alembic_config(connection)
        for key, value in {
            "hooks": "ruff",
            "ruff.type": "module",
            "ruff.module": "ruff",
            "ruff.options": "format REVISION_SCRIPT_FILENAME",
        }.items():
            config.set_section_option("post_write_hooks", key, value)
        command.revision(config, message=message, autogenerate=True, rev_id=f"{number:04d}")


@contextmanager
def migration_lock(engine: Engine) -> Iterator[Connection]:
    """A connection nobody else migrates through while it is held (per database)."""
    dialect = engine.dialect.name
    if dialect == "sqlite":
        with (
            _file_lock(engine.url.database),
            engine.connect() as connection,
            _foreign_keys_off(connection),
        ):
            yield connection
    elif dialect == "postgresql":
        with engine.connect() as connection:
            connection.execute(text("SELECT pg_advisory_lock(:key)"), {"key": _PG_LOCK_KEY})
            connection.commit()
            try:
                yield connection
            finally:
                if connection.in_transaction():
                    connection.rollback()
                connection.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": _PG_LOCK_KEY})
                connection.commit()
    else:
        with engine.connect() as connection:
            yield connection


@contextmanager
def _file_lock(database: str | None) -> Iterator[None]:
    if not database or database == ":memory:" or database.startswith("file:"):
        yield  # private to this process: nobody to race with
        return
    # Not the database file itself: closing any descriptor of that file
    # would drop SQLite's own POSIX locks held by this process.
    with open(f"{database}.migrate-lock", "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


@contextmanager
def _foreign_keys_off(connection: Connection) -> Iterator[None]:
    """Batch migrations copy and drop tables; with foreign keys on, a drop would cascade."""
    connection.exec_driver_sql("PRAGMA foreign_keys=OFF")
    try:
        yield
        if connection.in_transaction():
            connection.commit()
        broken = connection.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
        if broken:
            raise MigrationError(f"migration left rows with dangling foreign keys: {broken[:5]}")
    finally:
        if connection.in_transaction():
            connection.rollback()
        connection.exec_driver_sql("PRAGMA foreign_keys=ON")
