"""The page call's side of descriptions, stored: which files, newest first, and the timeline."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from ivr.store.db import Database
from ivr.store.descriptions import description_paths, note_descriptions_played
from ivr.store.fault_timeline import fault_timeline
from ivr.store.faults import DESCRIPTION_PLAYED, find_fault, timeline_entries
from ivr.store.models import Fault, Recording

NOW = datetime(2026, 7, 1, 10, 0, tzinfo=UTC)


@pytest.fixture
def db(tmp_path: Path) -> Iterator[Database]:
    database = Database(f"sqlite:///{tmp_path}/faults.db")
    database.create_schema()
    with database.sessions.begin() as session:
        for reference in ("471203", "555666", "777888"):
            session.add(
                Fault(
                    reference=reference,
                    priority="critical",
                    status="open",
                    customer="Acme Widgets Ltd",
                    cli="+442079460000",
                    reported_at=NOW,
                )
            )
        session.flush()
        first = find_fault(session, "471203")
        second = find_fault(session, "555666")
        assert first is not None and second is not None
        for fault, name, minutes in ((first, "a", 1), (second, "b", 3), (first, "c", 2)):
            session.add(
                Recording(
                    fault_id=fault.id,
                    path=f"var/recordings/{name}.wav",
                    seconds=4.0,
                    sha256="0" * 64,
                    ended_by="key",
                    created_at=NOW + timedelta(minutes=minutes),
                )
            )
    yield database
    database.dispose()


def test_the_paged_faults_descriptions_come_newest_first(db: Database) -> None:
    with db.sessions() as session:
        paths = description_paths(session, ["471203", "555666"])
        assert paths == ["var/recordings/b.wav", "var/recordings/c.wav", "var/recordings/a.wav"]
        assert description_paths(session, ["777888"]) == []


def test_playing_is_on_the_timeline_of_each_fault_with_a_description(db: Database) -> None:
    played = NOW + timedelta(minutes=5)
    with db.sessions.begin() as session:
        written = note_descriptions_played(
            session, ["471203", "777888"], "alice", "2 recording(s) played", played
        )
        assert written == 1
    with db.sessions() as session:
        fault = find_fault(session, "471203")
        assert fault is not None
        (entry,) = timeline_entries(session, fault)
        assert (entry.kind, entry.author, entry.body) == (
            DESCRIPTION_PLAYED,
            "alice",
            "2 recording(s) played",
        )
        entries, _pages = fault_timeline(session, fault)
        titles = [e.title for e in entries if e.kind == DESCRIPTION_PLAYED]
        assert titles == ["The customer's description was played to the engineer"]
        other = find_fault(session, "777888")
        assert other is not None and timeline_entries(session, other) == []
