"""`ivr engineers`, `ivr oncall` and `ivr pages` through the real command line."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from ivr.config import Config
from ivr.paging.policy import AttemptResult
from ivr.store.db import Database
from ivr.store.models import Fault
from ivr.store.pages import begin_attempt, finish_attempt, open_page
from tests.unit.cli import ivr, ok, write_conf


@pytest.fixture
def conf(tmp_path: Path) -> Path:
    return write_conf(tmp_path)


def team(conf: Path) -> None:
    ok(conf, "engineers", "add", "Alice", "--contact", "sip:alice@192.0.2.10")
    ok(conf, "engineers", "add", "Bob", "--contact", "020 7946 0001")
    ok(conf, "engineers", "add", "Carol", "--contact", "tel:+442079460002")
    ok(
        conf,
        *("oncall", "rota", "set", "Alice", "Bob", "Carol"),
        *("--start", "2026-01-05", "--handover", "09:00", "--weekday", "mon"),
    )


# ---- engineers -----------------------------------------------------------------------------


def test_engineers_add_list_remove(conf: Path) -> None:
    assert "added Bob (+442079460001)" in ok(
        conf, "engineers", "add", "Bob", "--contact", "020 7946 0001"
    )
    ok(conf, "engineers", "add", "Alice", "--contact", "sip:alice@pbx.example")
    rows = json.loads(ok(conf, "engineers", "list", "--json"))
    assert [(r["name"], r["contact"], r["active"]) for r in rows] == [
        ("Alice", "sip:alice@pbx.example", True),
        ("Bob", "+442079460001", True),
    ]
    assert "Alice" in ok(conf, "engineers", "list")
    assert "removed Bob" in ok(conf, "engineers", "remove", "Bob")
    assert [r["name"] for r in json.loads(ok(conf, "engineers", "list", "--json"))] == ["Alice"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("add", "Dave", "--contact", "call me maybe"), "telephone number"),
        (("add", "Dave", "--contact", "sip:"), "not a SIP URI"),
        (("remove", "Nobody"), "no engineer called 'Nobody'"),
    ],
)
def test_engineers_bad_input_fails_clearly(conf: Path, args: tuple[str, ...], message: str) -> None:
    result = ivr(conf, "engineers", *args)
    assert result.exit_code != 0
    assert message in result.output


def test_engineer_in_the_rota_cannot_be_removed(conf: Path) -> None:
    team(conf)
    result = ivr(conf, "engineers", "remove", "Alice")
    assert result.exit_code == 1
    assert "in the rota" in result.output


# ---- rota, overrides, now ------------------------------------------------------------------


def test_rota_set_reports_the_first_handover_and_shows(conf: Path) -> None:
    ok(conf, "engineers", "add", "Alice", "--contact", "sip:alice@host")
    ok(conf, "engineers", "add", "Bob", "--contact", "sip:bob@host")
    out = ok(
        conf,
        "oncall",
        "rota",
        "set",
        "Alice",
        "Bob",
        "--start",
        "2026-01-07",
        "--handover",
        "09:00",
        "--weekday",
        "mon",
    )
    assert "first handover Mon 12 Jan 2026 09:00 GMT to Alice" in out
    shown = json.loads(ok(conf, "oncall", "rota", "show", "--json"))
    assert shown["engineers"] == ["Alice", "Bob"]
    assert shown["start"] == "2026-01-12T09:00:00+00:00"
    assert (shown["handover"], shown["weekday"], shown["period_days"]) == ("09:00", "mon", 7)
    assert shown["timezone"] == "Europe/London"
    assert "engineers: Alice, Bob" in ok(conf, "oncall", "rota", "show")


def test_rota_show_without_a_rota(conf: Path) -> None:
    assert "no rota set" in ok(conf, "oncall", "rota", "show")


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (
            ("Alice", "Zed", "--start", "2026-01-05", "--handover", "09:00"),
            1,
            "no engineer called 'Zed'",
        ),
        (("Alice", "--start", "2026-01-05", "--handover", "9am"), 2, "not a time of day"),
        (("Alice", "--start", "2026-01-05", "--handover", "25:00"), 2, "not a time of day"),
        (("Alice", "--start", "soon", "--handover", "09:00"), 2, "not an ISO 8601"),
        (
            ("Alice", "--start", "2026-01-05", "--handover", "09:00", "--weekday", "funday"),
            2,
            "not a weekday",
        ),
    ],
)
def test_rota_set_bad_input(conf: Path, args: tuple[str, ...], code: int, message: str) -> None:
    ok(conf, "engineers", "add", "Alice", "--contact", "sip:alice@host")
    result = ivr(conf, "oncall", "rota", "set", *args)
    assert result.exit_code == code, result.output
    assert message in result.output


def test_now_at_handover_and_across_summer_time(conf: Path) -> None:
    team(conf)

    def now(at: str) -> dict[str, object]:
        answer: dict[str, object] = json.loads(ok(conf, "oncall", "now", "--at", at, "--json"))
        return answer

    assert now("2026-01-12T08:59")["on_call"] == "Alice"
    monday = now("2026-01-12T09:00")
    assert monday == {
        "at": "2026-01-12T09:00:00+00:00",
        "on_call": "Bob",
        "source": "rota",
        "until": "2026-01-19T09:00:00+00:00",
        "chain": ["Bob", "Carol", "Alice"],
        "pageable": ["Bob", "Carol"],
    }
    # 09:00 local on Mon 30 Mar 2026 is 08:00 UTC: the handover keeps to the wall clock.
    assert now("2026-03-30T07:59Z")["on_call"] == "Carol"
    assert now("2026-03-30T08:00Z")["on_call"] == "Alice"
    # Before the rota starts nobody is on call: an alarm for scripts, exit 1.
    nobody = ivr(conf, "oncall", "now", "--at", "2026-01-01T12:00", "--json")
    assert nobody.exit_code == 1
    assert json.loads(nobody.stdout)["pageable"] == []
    said = ivr(conf, "oncall", "now", "--at", "2026-01-01T12:00")
    assert said.exit_code == 1
    assert "nobody is on call" in said.stdout
    assert "nobody can be paged for a critical fault" in said.stderr


def test_override_wins_and_is_shown(conf: Path) -> None:
    team(conf)
    out = ok(
        conf,
        "oncall",
        "override",
        "Carol",
        "--from",
        "2026-01-13T18:00",
        "--to",
        "2026-01-14T09:00",
    )
    assert "Carol on call from Tue 13 Jan 2026 18:00 GMT" in out
    during = json.loads(ok(conf, "oncall", "now", "--at", "2026-01-13T20:00", "--json"))
    assert (during["on_call"], during["source"], during["until"]) == (
        "Carol",
        "override",
        "2026-01-14T09:00:00+00:00",
    )
    assert during["chain"] == ["Carol", "Alice", "Bob"]
    text = ok(conf, "oncall", "now", "--at", "2026-01-13T20:00")
    assert text.splitlines() == [
        "Carol (override) until Wed 14 Jan 2026 09:00 GMT",
        "then: Alice, Bob",
    ]


def test_overrides_are_listed_and_can_be_removed(conf: Path) -> None:
    team(conf)
    ok(
        conf,
        "oncall",
        "override",
        "Carol",
        "--from",
        "2026-01-13T18:00",
        "--to",
        "2026-01-14T09:00",
    )
    (row,) = json.loads(ok(conf, "oncall", "overrides", "--all", "--json"))
    assert (row["engineer"], row["from"], row["to"]) == (
        "Carol",
        "2026-01-13T18:00:00+00:00",
        "2026-01-14T09:00:00+00:00",
    )
    assert ok(conf, "oncall", "overrides", "--all").split() == [
        str(row["id"]), "Tue", "13", "Jan", "2026", "18:00", "GMT", "-",
        "Wed", "14", "Jan", "2026", "09:00", "GMT", "Carol",
    ]  # fmt: skip
    assert ok(conf, "oncall", "overrides") == "no overrides\n"  # it is over
    removed = ok(conf, "oncall", "remove-override", str(row["id"]))
    assert removed.startswith(f"removed override {row['id']}: Carol Tue 13 Jan 2026 18:00 GMT")
    during = json.loads(ok(conf, "oncall", "now", "--at", "2026-01-13T20:00", "--json"))
    assert (during["on_call"], during["source"]) == ("Bob", "rota")  # the rota again
    again = ivr(conf, "oncall", "remove-override", str(row["id"]))
    assert again.exit_code == 1 and f"no override with id {row['id']}" in again.output
    assert ivr(conf, "oncall", "remove-override", "x").exit_code == 2


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (
            ("Zed", "--from", "2026-01-13T18:00", "--to", "2026-01-14T09:00"),
            1,
            "no engineer called 'Zed'",
        ),
        (("Bob", "--from", "2026-01-14T18:00", "--to", "2026-01-14T09:00"), 1, "end after"),
        (("Bob", "--from", "2026-10-25T01:30", "--to", "2026-10-26T09:00"), 2, "happens twice"),
        (("Bob", "--from", "2026-03-29T01:30", "--to", "2026-03-30T09:00"), 2, "does not exist"),
        (("Bob", "--from", "yesterday", "--to", "2026-03-30T09:00"), 2, "not an ISO 8601"),
    ],
)
def test_override_bad_input(conf: Path, args: tuple[str, ...], code: int, message: str) -> None:
    team(conf)
    result = ivr(conf, "oncall", "override", *args)
    assert result.exit_code == code, result.output
    assert message in result.output


# ---- pages ---------------------------------------------------------------------------------


def test_pages_list_shows_attempts(conf: Path, tmp_path: Path) -> None:
    team(conf)
    now = datetime(2026, 1, 13, 2, 0, tzinfo=UTC)  # Bob's week
    database = Database(f"sqlite:///{tmp_path}/x.db")
    with database.sessions.begin() as session:
        fault = Fault(reference="123456", priority="critical", customer="Acme", reported_at=now)
        session.add(fault)
        session.flush()
        page = open_page(session, fault, now)
        attempt = begin_attempt(session, page, Config().paging, now)
        finish_attempt(session, attempt, AttemptResult.BUSY, now, sip_status=486)
    database.dispose()

    rows = json.loads(ok(conf, "pages", "list", "--fault", "123456", "--json"))
    assert len(rows) == 1
    assert rows[0]["faults"] == ["123456"]
    assert rows[0]["status"] == "active"
    assert [
        (a["engineer"], a["contact"], a["result"], a["sip_status"]) for a in rows[0]["attempts"]
    ] == [("Bob", "+442079460001", "busy", 486)]
    text = ok(conf, "pages", "list")
    assert "page 1  fault 123456  active" in text
    assert "r1 l1 a1  Bob" in text and "busy 486" in text


def test_pages_list_shows_a_restart(conf: Path, tmp_path: Path) -> None:
    team(conf)
    now = datetime(2026, 1, 13, 2, 0, tzinfo=UTC)
    database = Database(f"sqlite:///{tmp_path}/x.db")
    with database.sessions.begin() as session:
        fault = Fault(reference="123456", priority="critical", customer="Acme", reported_at=now)
        session.add(fault)
        session.flush()
        open_page(session, fault, now).restart = 2
    database.dispose()
    assert "page 1  restart 2 from level 1  fault 123456  active" in ok(conf, "pages", "list")
    (row,) = json.loads(ok(conf, "pages", "list", "--json"))
    assert row["restart"] == 2


def test_pages_list_unknown_fault(conf: Path) -> None:
    result = ivr(conf, "pages", "list", "--fault", "999999")
    assert result.exit_code == 1
    assert "no fault with reference 999999" in result.output
    assert "no pages" in ok(conf, "pages", "list")


@pytest.fixture
def four_pages(conf: Path, tmp_path: Path) -> Path:
    """Pages 1-4 opened an hour apart from 09:00 GMT on Tue 13 Jan 2026, one in each state."""
    database = Database(f"sqlite:///{tmp_path}/x.db")
    database.create_schema()
    start = datetime(2026, 1, 13, 9, 0, tzinfo=UTC)
    statuses = ["failed", "acknowledged", "cancelled", "active"]
    with database.sessions.begin() as session:
        for n, status in enumerate(statuses):
            at = start + timedelta(hours=n)
            fault = Fault(
                reference=f"20000{n + 1}", priority="critical", customer=f"C{n}", reported_at=at
            )
            session.add(fault)
            open_page(session, fault, at).status = status
    database.dispose()
    return conf


def page_ids(conf: Path, *args: str) -> list[int]:
    return [row["id"] for row in json.loads(ok(conf, "pages", "list", *args, "--json"))]


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        ((), [4, 3, 2, 1]),
        (("--since", "2026-01-13T10:00"), [4, 3, 2]),
        (("--until", "2026-01-13T11:00"), [2, 1]),  # before, not at, 11:00
        (("--since", "2026-01-13T09:30Z", "--until", "2026-01-13T11:30+00:00"), [3, 2]),
        (("--status", "active"), [4]),
        (("--status", "acknowledged"), [2]),
        (("--status", "failed"), [1]),
        (("--status", "cancelled"), [3]),
        (("--status", "failed", "--since", "2026-01-13T10:00"), []),
        (("--status", "cancelled", "--fault", "200003"), [3]),
        (("--status", "active", "--fault", "200003"), []),
    ],
)
def test_pages_list_filters(four_pages: Path, args: tuple[str, ...], expected: list[int]) -> None:
    assert page_ids(four_pages, *args) == expected


def test_pages_list_filters_in_text(four_pages: Path) -> None:
    text = ok(four_pages, "pages", "list", "--status", "failed")
    assert text.startswith("page 1  fault 200001  FAILED: nobody acknowledged")
    assert ok(four_pages, "pages", "list", "--since", "2026-01-14").strip() == "no pages"


@pytest.mark.parametrize(
    ("args", "option", "message"),
    [
        (("--since", "Tuesday"), "'--since'", "is not an ISO 8601 date-time"),
        (("--until", "2026-01-32"), "'--until'", "is not an ISO 8601 date-time"),
        (("--status", "ringing"), "'--status'", "is not one of"),
    ],
)
def test_pages_list_bad_filters_are_usage_errors(
    conf: Path, args: tuple[str, ...], option: str, message: str
) -> None:
    result = ivr(conf, "pages", "list", *args)
    assert result.exit_code == 2, result.output
    assert option in result.output and message in result.output


def test_bad_paging_config_is_reported_with_its_key(conf: Path) -> None:
    conf.write_text(
        conf.read_text(encoding="utf-8") + "[paging]\nrepeats = lots\n", encoding="utf-8"
    )
    result = ivr(conf, "oncall", "now")
    assert result.exit_code == 1
    assert "[paging] repeats" in result.output
