"""Outages: the store, `ivr outages`, the service's lookup, and announcing one on a call."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import numpy
import pytest
from click.testing import CliRunner, Result

from ivr import session as session_module
from ivr.admin import outages_cli
from ivr.admin.cli import main
from ivr.config import load_config
from ivr.db_writer import DbWriter
from ivr.flow.call_flow import FlowSettings
from ivr.paging.policy import Policy
from ivr.prompts import PromptError, PromptLibrary
from ivr.prompts import library as prompt_library
from ivr.session import CallSession, SessionDeps
from ivr.sla import BusinessCalendar
from ivr.store.db import Database
from ivr.store.outages import (
    MAX_MESSAGE_CHARS,
    OutageError,
    add_outage,
    current_outage,
    list_outages,
    remove_outage,
)

ROOT = Path(__file__).resolve().parents[2]
SHORT_PROMPTS = ROOT / "tests" / "data" / "prompts-short"
H = timedelta(hours=1)
# Wednesday 25 Nov 2026, 10:00 GMT.
T0 = datetime(2026, 11, 25, 10, 0, tzinfo=UTC)


@pytest.fixture
def db(tmp_path: Path) -> Iterator[Database]:
    database = Database(f"sqlite:///{tmp_path}/outages.db")
    database.create_schema()
    yield database
    database.dispose()


def add(db: Database, start: datetime, end: datetime, message: str) -> int:
    with db.sessions.begin() as session:
        return add_outage(session, start, end, message, T0).id


def current(db: Database, now: datetime) -> str | None:
    with db.sessions() as session:
        outage = current_outage(session, now)
        return outage.message if outage else None


# ---- store ----------------------------------------------------------------------------------


def test_current_is_half_open_and_the_latest_start_wins(db: Database) -> None:
    add(db, T0, T0 + 4 * H, "Maintenance   tonight.\n")
    add(db, T0 + H, T0 + 2 * H, "Known incident.")
    assert current(db, T0 - timedelta(seconds=1)) is None
    assert current(db, T0) == "Maintenance tonight."  # whitespace normalised as spoken
    assert current(db, T0 + H) == "Known incident."
    assert current(db, T0 + 2 * H) == "Maintenance tonight."
    assert current(db, T0 + 4 * H) is None


def test_list_hides_past_outages_unless_asked(db: Database) -> None:
    add(db, T0 - 3 * H, T0 - H, "Over.")
    add(db, T0 + H, T0 + 2 * H, "Later.")
    add(db, T0 - H, T0 + H, "Now.")
    with db.sessions() as session:
        assert [o.message for o in list_outages(session, T0)] == ["Now.", "Later."]
        every = list_outages(session, T0, include_past=True)
        assert [o.message for o in every] == ["Over.", "Now.", "Later."]


@pytest.mark.parametrize(
    ("start", "end", "message", "error"),
    [
        (T0, T0, "Hello.", "must end after it starts"),
        (T0, T0 - H, "Hello.", "must end after it starts"),
        (T0, T0 + H, "  \n ", "message is empty"),
        (T0, T0 + H, "x" * (MAX_MESSAGE_CHARS + 1), "keep it under"),
    ],
)
def test_bad_outages_are_refused(
    db: Database, start: datetime, end: datetime, message: str, error: str
) -> None:
    with pytest.raises(OutageError, match=error):
        add(db, start, end, message)


def test_remove(db: Database) -> None:
    outage_id = add(db, T0, T0 + H, "Gone soon.")
    with db.sessions.begin() as session:
        assert remove_outage(session, outage_id).message == "Gone soon."
    with db.sessions.begin() as session, pytest.raises(OutageError, match="no outage with id"):
        remove_outage(session, outage_id)


async def test_records_looks_up_the_current_outage(db: Database) -> None:
    add(db, T0, T0 + H, "Lines are down in Leeds.")
    records = DbWriter(db, BusinessCalendar(), Policy())
    try:
        assert await records.current_outage(T0 + H / 2) == "Lines are down in Leeds."
        assert await records.current_outage(T0 + 2 * H) is None
    finally:
        records.close()


# ---- announcing it on a call -----------------------------------------------------------------


class FakeWriter:
    def __init__(self, message: str | None, error: Exception | None = None) -> None:
        self.message = message
        self.error = error
        self.asked: list[datetime] = []

    async def current_outage(self, now: datetime) -> str | None:
        self.asked.append(now)
        if self.error is not None:
            raise self.error
        return self.message


def call_session(records: FakeWriter, prepare: Any) -> CallSession:
    deps = SessionDeps(
        writer=records,  # type: ignore[arg-type]
        speech=SimpleNamespace(),  # type: ignore[arg-type]
        trunk=SimpleNamespace(),  # type: ignore[arg-type]
        calendar=BusinessCalendar(),
        flow_settings=FlowSettings(),
        clock=lambda: T0,
        source_of=None,  # type: ignore[arg-type]
        prepare_text=prepare,
    )
    return CallSession(SimpleNamespace(call_id="c1"), deps)  # type: ignore[arg-type]


async def test_the_message_is_made_ready_off_the_event_loop() -> None:
    threads: list[int] = []
    session = call_session(
        FakeWriter("Maintenance."), lambda text: threads.append(threading.get_ident())
    )
    assert await session._announcement(T0) == "Maintenance."
    assert threads and threads[0] != threading.get_ident()


async def test_no_outage_prepares_nothing() -> None:
    prepared: list[str] = []
    records = FakeWriter(None)
    assert await call_session(records, prepared.append)._announcement(T0) is None
    assert prepared == [] and records.asked == [T0]


async def test_a_message_not_ready_in_time_is_left_out(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(session_module, "ANNOUNCEMENT_WAIT", 0.05)
    release = threading.Event()
    finished = threading.Event()

    def slow_synthesis(text: str) -> None:
        release.wait(10)
        finished.set()

    session = call_session(FakeWriter("Slow."), slow_synthesis)
    try:
        assert await session._announcement(T0) is None
        # The caller went on while synthesis was still running.
        assert not finished.is_set()
    finally:
        release.set()


@pytest.mark.parametrize(
    ("records", "prepare_error"),
    [
        (FakeWriter("Broken voice."), PromptError("no espeak")),
        (FakeWriter(None, error=RuntimeError("database is locked")), None),
    ],
)
async def test_failures_leave_the_announcement_out(
    records: FakeWriter, prepare_error: Exception | None
) -> None:
    def prepare(text: str) -> None:
        if prepare_error is not None:
            raise prepare_error

    assert await call_session(records, prepare)._announcement(T0) is None


# ---- the command line --------------------------------------------------------------------------


@pytest.fixture
def conf(tmp_path: Path) -> Path:
    path = tmp_path / "sip.conf"
    path.write_text(
        f"[general]\ndatabase = sqlite:///{tmp_path}/x.db\ntimezone = Europe/London\n"
        f"[prompts]\ncatalogue_dir = {SHORT_PROMPTS}\ncache_dir = {tmp_path}/cache\n"
        f"recorded_dir = {tmp_path}/recorded\n",
        encoding="utf-8",
    )
    ok(path, "db", "upgrade")  # only `db upgrade` and `serve` migrate
    return path


@pytest.fixture
def rendered(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Messages `ivr outages add` asked to render (without running the synthesiser)."""
    texts: list[str] = []
    monkeypatch.setattr(outages_cli, "prepare_message", lambda app, text: texts.append(text))
    return texts


def ivr(conf: Path, *args: str) -> Result:
    return CliRunner().invoke(main, ["--config", str(conf), *args], obj=lambda: T0)


def ok(conf: Path, *args: str) -> str:
    result = ivr(conf, *args)
    assert result.exit_code == 0, result.output
    return result.output


def test_cli_add_list_remove(conf: Path, rendered: list[str]) -> None:
    out = ok(
        conf,
        *("outages", "add", "--from", "2026-11-25T09:00", "--to", "2026-11-25T12:00"),
        *("--message", "Our  network is under maintenance until noon."),
    )
    assert "added outage 1: Wed 25 Nov 2026 09:00 GMT to Wed 25 Nov 2026 12:00 GMT" in out
    assert "message rendered into the prompt cache" in out
    assert rendered == ["Our network is under maintenance until noon."]
    ok(
        conf,
        *("outages", "add", "--from", "2026-12-01T22:00Z", "--to", "2026-12-02T02:00Z"),
        *("--message", "Planned work on the first of December."),
    )
    rows = json.loads(ok(conf, "outages", "list", "--json"))
    assert [(r["id"], r["current"], r["starts_at"]) for r in rows] == [
        (1, True, "2026-11-25T09:00:00+00:00"),
        (2, False, "2026-12-01T22:00:00+00:00"),
    ]
    text = ok(conf, "outages", "list").splitlines()
    assert text[0].startswith("   1  NOW ") and text[0].endswith("maintenance until noon.")
    assert text[1].startswith("   2  next")
    assert "removed outage 1" in ok(conf, "outages", "remove", "1")
    assert [r["id"] for r in json.loads(ok(conf, "outages", "list", "--json"))] == [2]
    result = ivr(conf, "outages", "remove", "1")
    assert result.exit_code == 1 and "no outage with id 1" in result.output


def test_cli_past_outages_and_overlaps(conf: Path, rendered: list[str]) -> None:
    result = ivr(
        conf, "outages", "add", "--from", "2026-11-24T09:00", "--to", "2026-11-24T10:00",
        "--message", "Yesterday.",
    )  # fmt: skip
    assert result.exit_code == 0
    assert "already over" in result.output
    ok(conf, "outages", "add", "--from", "2026-11-25T09:00", "--to", "2026-11-25T18:00",
       "--message", "All day.")  # fmt: skip
    result = ivr(
        conf, "outages", "add", "--from", "2026-11-25T11:00", "--to", "2026-11-25T12:00",
        "--message", "Incident.",
    )  # fmt: skip
    assert "overlaps outage 2" in result.output
    assert ok(conf, "outages", "list").count("\n") == 2
    rows = json.loads(ok(conf, "outages", "list", "--all", "--json"))
    assert [r["message"] for r in rows] == ["Yesterday.", "All day.", "Incident."]
    assert "over" in ok(conf, "outages", "list", "--all").splitlines()[0]


@pytest.mark.parametrize(
    ("args", "error"),
    [
        (("--from", "soon", "--to", "2026-11-25T12:00"), "'--from'"),
        (("--from", "2026-11-25T09:00", "--to", "2026-03-29T01:30"), "does not exist"),
        (("--from", "2026-11-25T12:00", "--to", "2026-11-25T09:00"), "must end after it starts"),
    ],
)
def test_cli_add_refuses_bad_input(
    conf: Path, rendered: list[str], args: tuple[str, ...], error: str
) -> None:
    result = ivr(conf, "outages", "add", *args, "--message", "Hello.")
    assert result.exit_code != 0
    assert error in result.output
    assert rendered == []


class SteadyVoice:
    """Stands in for espeak, whose pyttsx3 driver now and then gives no audio in a
    busy test process: this test is about the cache the CLI and the service share."""

    def __init__(self, voice: str, rate: int, volume: float) -> None:
        pass

    def render(self, text: str) -> tuple[Any, int]:
        seconds = numpy.arange(8000) / 8000
        return numpy.sin(2 * numpy.pi * 440 * seconds), 8000

    def close(self) -> None:
        pass


def test_cli_add_renders_the_message_into_the_cache(
    conf: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(prompt_library, "Synthesiser", SteadyVoice)
    message = "Outage test message for the cache."
    out = ok(conf, "outages", "add", "--from", "2026-11-25T09:00", "--to", "2026-11-25T12:00",
             "--message", message)  # fmt: skip
    assert "message rendered into the prompt cache" in out, out
    config = load_config(conf)
    library = PromptLibrary(config.prompts, config.support)
    assert library.cache_path(message).stat().st_size > 0
    library.prepare_text(message)
    assert library.renders == 0  # the service would find it cached


def test_cli_add_keeps_the_outage_when_rendering_fails(
    conf: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(app: object, text: str) -> None:
        raise PromptError("espeak is not installed")

    monkeypatch.setattr(outages_cli, "prepare_message", broken)
    result = ivr(conf, "outages", "add", "--from", "2026-11-25T09:00", "--to", "2026-11-25T12:00",
                 "--message", "Still saved.")  # fmt: skip
    assert result.exit_code == 0
    assert "could not be rendered now: espeak is not installed" in result.output
    assert len(json.loads(ok(conf, "outages", "list", "--json"))) == 1


def test_the_outages_table_is_created_with_the_schema(tmp_path: Path) -> None:
    db = Database(f"sqlite:///{tmp_path}/fresh.db")
    db.create_schema()
    with db.sessions() as session:
        assert list_outages(session, T0) == []
    db.dispose()
