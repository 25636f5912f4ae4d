"""Handset registry: add, import (all or nothing), remove."""

from __future__ import annotations

from pathlib import Path

import pytest

from ivr.store.db import Database
from ivr.store.handsets import (
    HandsetError,
    add_handset,
    import_handsets,
    list_handsets,
    parse_handset_csv,
    remove_handset,
)

DATA = Path(__file__).parent.parent / "data" / "handsets"


@pytest.fixture
def db(tmp_path: Path) -> Database:
    database = Database(f"sqlite:///{tmp_path}/test.db")
    database.create_schema()
    return database


def test_add_normalises_and_refuses_duplicates(db: Database) -> None:
    with db.sessions.begin() as session:
        assert add_handset(session, "020 7946 0000", "Acme").number == "+442079460000"
    with db.sessions.begin() as session, pytest.raises(HandsetError, match="already"):
        add_handset(session, "00442079460000", "Acme")


def test_bad_number_is_a_clear_error(db: Database) -> None:
    with db.sessions.begin() as session, pytest.raises(HandsetError, match="not a telephone"):
        add_handset(session, "hello", "Acme")


def test_import_good_file(db: Database) -> None:
    with (DATA / "good.csv").open() as handle:
        rows = parse_handset_csv(handle)
    with db.sessions.begin() as session:
        result = import_handsets(session, rows)
    assert (result.added, result.updated) == (2, 0)
    assert result.new_customers == ["Acme Ltd", "Northern Widgets"]
    with db.sessions() as session:
        assert [h.number for h in list_handsets(session)] == ["+442079460000", "+441614960000"]


def test_import_with_a_bad_line_names_each_line_and_imports_nothing(db: Database) -> None:
    with (DATA / "bad.csv").open() as handle, pytest.raises(HandsetError) as error:
        parse_handset_csv(handle)
    assert "line 3" in str(error.value)
    assert "line 4" in str(error.value)
    with db.sessions() as session:
        assert list_handsets(session) == []


def test_remove(db: Database) -> None:
    with db.sessions.begin() as session:
        add_handset(session, "020 7946 0000", "Acme")
    with db.sessions.begin() as session:
        remove_handset(session, "+44 20 7946 0000")
    with db.sessions.begin() as session, pytest.raises(HandsetError, match="not registered"):
        remove_handset(session, "020 7946 0000")
