"""SQLite is set up to keep a committed fault through a power cut or kill -9.

Every connection the engine hands out (not only the first) runs in WAL
mode with synchronous=FULL, and enforces foreign keys.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path

import pytest
from sqlalchemy import text

from ivr.store.db import Database, _sqlite_pragmas

SYNCHRONOUS_FULL = 2


@pytest.fixture
def db(tmp_path: Path) -> Iterator[Database]:
    database = Database(f"sqlite:///{tmp_path}/var/faultline.db")
    database.create_schema()
    yield database
    database.dispose()


def test_every_connection_is_in_wal_mode_with_synchronous_full(db: Database) -> None:
    with ExitStack() as stack:
        # Several connections open at once, so the pool has to make new ones.
        connections = [stack.enter_context(db.engine.connect()) for _ in range(3)]
        for connection in connections:
            assert connection.scalar(text("PRAGMA journal_mode")) == "wal"
            assert connection.scalar(text("PRAGMA synchronous")) == SYNCHRONOUS_FULL
            assert connection.scalar(text("PRAGMA foreign_keys")) == 1


def test_sessions_get_the_same_settings(db: Database) -> None:
    with db.sessions() as session:
        assert session.scalar(text("PRAGMA journal_mode")) == "wal"
        assert session.scalar(text("PRAGMA synchronous")) == SYNCHRONOUS_FULL


def test_the_database_file_is_in_wal_mode_for_other_programs_too(
    db: Database, tmp_path: Path
) -> None:
    # WAL is a property of the file: a plain sqlite3 connection sees it too
    # (synchronous is per connection, so it is not checked here).
    with db.sessions.begin() as session:
        session.execute(text("SELECT 1"))
    plain = sqlite3.connect(tmp_path / "var" / "faultline.db")
    try:
        assert plain.execute("PRAGMA journal_mode").fetchone() == ("wal",)
    finally:
        plain.close()


def test_the_pragmas_set_full_even_where_the_build_defaults_to_less(tmp_path: Path) -> None:
    # SQLite's compiled-in default for synchronous varies between builds; the
    # set-up must not rely on it.
    raw = sqlite3.connect(tmp_path / "raw.db")
    try:
        raw.execute("PRAGMA synchronous=OFF")
        raw.execute("PRAGMA journal_mode=DELETE")
        _sqlite_pragmas(raw, None)
        assert raw.execute("PRAGMA journal_mode").fetchone() == ("wal",)
        assert raw.execute("PRAGMA synchronous").fetchone() == (SYNCHRONOUS_FULL,)
    finally:
        raw.close()
