"""`ivr faults add`: faults from every channel on the phone's clock, paging and SLA report."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from ivr.config import load_config
from ivr.domain import Priority
from ivr.sla import deadlines
from ivr.store.db import Database
from ivr.store.faults import find_fault, timeline_entries
from tests.unit import cli

H = timedelta(hours=1)
# Monday 30 Nov 2026, 10:00 GMT: inside core hours.
NOW = datetime(2026, 11, 30, 10, 0, tzinfo=UTC)


@pytest.fixture
def conf(tmp_path: Path) -> Path:
    path = cli.write_conf(tmp_path)
    cli.ok(path, "customers", "add", "Acme Ltd", "--account", "123456")
    cli.ok(path, "engineers", "add", "Alice", "--contact", "sip:alice@192.0.2.10")
    cli.ok(path, "oncall", "rota", "set", "Alice", "--start", "2026-11-23", "--handover", "09:00")
    return path


def add(conf: Path, *args: str, now: datetime = NOW) -> dict[str, object]:
    data = json.loads(
        cli.ok(conf, "faults", "add", "--customer", "Acme Ltd", *args, "--json", now=now)
    )
    assert isinstance(data, dict)
    return data


def pages_for(conf: Path, reference: str) -> list[dict[str, object]]:
    data = json.loads(cli.ok(conf, "pages", "list", "--fault", reference, "--json", now=NOW))
    assert isinstance(data, list)
    return data


@pytest.mark.parametrize("channel", ["email", "ticket", "phone"])
@pytest.mark.parametrize("priority", ["standard", "high", "critical"])
def test_each_channel_gets_the_deadlines_the_phone_would_give(
    conf: Path, channel: str, priority: str
) -> None:
    reported = NOW - timedelta(minutes=20)
    fault = add(
        conf, "--priority", priority, "--via", channel, "--reported-at", reported.isoformat()
    )
    config = load_config(conf)
    expected = deadlines(
        Priority(priority), reported, config.hours.calendar(config.timezone), config.sla
    )
    assert fault["channel"] == channel
    assert fault["customer"] == "Acme Ltd"
    assert fault["reported_priority"] == priority
    assert fault["acknowledge_by"] == expected.acknowledge_by.isoformat()
    assert fault["respond_by"] == expected.respond_by.isoformat()
    assert fault["resolve_by"] == (expected.resolve_by and expected.resolve_by.isoformat())
    reference = str(fault["reference"])
    assert len(reference) == 6 and reference[0] != "0"
    # The same object as `faults show --json`.
    shown = json.loads(cli.ok(conf, "faults", "show", reference, "--json", now=NOW))
    assert shown == fault


def test_a_critical_fault_pages_at_once_unless_its_acknowledgement_is_past_saving(
    conf: Path,
) -> None:
    fresh = add(conf, "--priority", "critical", "--via", "email")
    pages = pages_for(conf, str(fresh["reference"]))
    assert [p["status"] for p in pages] == ["active"]

    late = add(
        conf, "--priority", "critical", "--via", "ticket", "--reported-at",
        (NOW - 5 * H).isoformat(), "--ticket-ref", "TCK-991",
    )  # fmt: skip
    assert late["ticket_ref"] == "TCK-991"
    assert pages_for(conf, str(late["reference"])) == []

    high = add(conf, "--priority", "high", "--via", "email")
    assert pages_for(conf, str(high["reference"])) == []


def test_the_channel_is_listed_and_filtered(conf: Path) -> None:
    by_mail = add(conf, "--priority", "high", "--via", "email", "--description", "Line dead")
    add(conf, "--priority", "high", "--via", "ticket")
    assert by_mail["description"] == "Line dead"
    text = cli.ok(conf, "faults", "list", now=NOW)
    assert f"{by_mail['reference']}  high     open         email" in text
    listed = json.loads(cli.ok(conf, "faults", "list", "--via", "email", "--json", now=NOW))
    assert [f["reference"] for f in listed] == [by_mail["reference"]]


def test_refusals(conf: Path) -> None:
    nobody = cli.ivr(
        conf, "faults", "add", "--customer", "Nobody", "--priority", "high", "--via", "email"
    )
    assert nobody.exit_code == 1 and "no customer called 'Nobody'" in nobody.output
    future = cli.ivr(
        conf, "faults", "add", "--customer", "123456", "--priority", "high", "--via", "email",
        "--reported-at", (NOW + H).isoformat(), now=NOW,
    )  # fmt: skip
    assert future.exit_code == 2 and "in the future" in future.output
    bad = cli.ivr(
        conf, "faults", "add", "--customer", "123456", "--priority", "high", "--via", "fax"
    )
    assert bad.exit_code == 2


def test_the_sla_report_counts_every_channel_and_splits_by_channel(conf: Path) -> None:
    add(conf, "--priority", "high", "--via", "email")
    add(conf, "--priority", "high", "--via", "ticket")
    add(conf, "--priority", "critical", "--via", "phone")
    data = json.loads(
        cli.ok(conf, "sla", "report", "--month", "2026-11", "--by-channel", "--json", now=NOW)
    )
    assert data["priorities"]["high"]["reported"] == 2
    assert data["priorities"]["critical"]["reported"] == 1
    assert data["channels"]["email"]["high"]["reported"] == 1
    assert data["channels"]["ticket"]["high"]["reported"] == 1
    assert data["channels"]["phone"]["critical"]["reported"] == 1
    assert data["channels"]["phone"]["high"]["reported"] == 0
    text = cli.ok(conf, "sla", "report", "--month", "2026-11", "--by-channel", now=NOW)
    assert "Reported by email:" in text and "Reported by ticket:" in text


# ---- CLI SECURE decides the final priority; out of scope ------------------------------


def test_reprioritising_recomputes_from_the_report_time_and_keeps_the_callers_choice(
    conf: Path,
) -> None:
    reported = NOW - timedelta(minutes=30)
    fault = add(conf, "--priority", "high", "--via", "email", "--reported-at", reported.isoformat())
    reference = str(fault["reference"])
    assert pages_for(conf, reference) == []
    later = NOW + timedelta(minutes=10)
    out = cli.ok(
        conf, "faults", "reprioritise", reference, "--priority", "critical",
        "--reason", "whole site down", "--by", "alice", now=later,
    )  # fmt: skip
    assert "now critical (reported as high)" in out
    config = load_config(conf)
    expected = deadlines(
        Priority.CRITICAL, reported, config.hours.calendar(config.timezone), config.sla
    )
    shown = json.loads(cli.ok(conf, "faults", "show", reference, "--json", now=later))
    assert (shown["priority"], shown["reported_priority"]) == ("critical", "high")
    assert shown["acknowledge_by"] == expected.acknowledge_by.isoformat()
    assert shown["respond_by"] == expected.respond_by.isoformat()
    # Raised to critical: paged at once.
    assert [p["status"] for p in pages_for(conf, reference)] == ["active"]
    entries = timeline(conf, reference)
    assert ("reprioritised", "alice", "reported as high, changed to critical by alice: "
            "whole site down") in entries  # fmt: skip

    # Lowered again: the running page is cancelled, the reason on the timeline.
    cli.ok(
        conf, "faults", "reprioritise", reference, "--priority", "standard",
        "--reason", "only one handset", "--by", "bob", now=later,
    )  # fmt: skip
    assert [p["status"] for p in pages_for(conf, reference)] == ["cancelled"]
    assert (
        "reprioritised",
        "bob",
        "reported as high, changed from critical to standard by bob: only one handset",
    ) in timeline(conf, reference)


def test_reprioritising_needs_a_reason_and_a_change(conf: Path) -> None:
    reference = str(add(conf, "--priority", "high", "--via", "email")["reference"])
    same = cli.ivr(
        conf, "faults", "reprioritise", reference, "--priority", "high", "--reason", "x", now=NOW
    )
    assert same.exit_code == 1 and "already high" in same.output
    blank = cli.ivr(
        conf, "faults", "reprioritise", reference, "--priority", "critical", "--reason", " ",
        now=NOW,
    )  # fmt: skip
    assert blank.exit_code == 1 and "give a reason" in blank.output


def test_out_of_scope_stops_paging_and_is_listed_but_neither_met_nor_missed(conf: Path) -> None:
    late = NOW - 5 * H  # its acknowledgement already missed
    missed = add(conf, "--priority", "high", "--via", "ticket", "--reported-at", late.isoformat())
    paged = add(conf, "--priority", "critical", "--via", "email")
    for fault in (missed, paged):
        cli.ok(
            conf, "faults", "close", str(fault["reference"]), "--out-of-scope",
            "--reason", "BT Openreach line fault", "--by", "carol", now=NOW,
        )  # fmt: skip
    assert [p["status"] for p in pages_for(conf, str(paged["reference"]))] == ["cancelled"]
    shown = json.loads(cli.ok(conf, "faults", "show", str(missed["reference"]), "--json", now=NOW))
    assert shown["status"] == "out_of_scope" and shown["next_deadline"] is None
    data = json.loads(cli.ok(conf, "sla", "report", "--month", "2026-11", "--json", now=NOW))
    high = data["priorities"]["high"]
    assert high["reported"] == 1 and high["out_of_scope"] == 1
    assert high["acknowledge"]["missed"] == 0 and high["acknowledge"]["met"] == 0
    text = cli.ok(conf, "sla", "report", "--month", "2026-11", now=NOW)
    assert "closed out of scope (neither met nor missed): 1 high, 1 critical" in text
    again = cli.ivr(conf, "faults", "resolve", str(missed["reference"]), now=NOW)
    assert again.exit_code == 1 and "out_of_scope" in again.output
    assert ("out_of_scope", "carol", "BT Openreach line fault") in timeline(
        conf, str(missed["reference"])
    )


def timeline(conf: Path, reference: str) -> list[tuple[str, str, str]]:
    """The fault's moves as stored: (kind, author, body)."""
    db = Database(f"sqlite:///{conf.parent}/x.db")
    try:
        with db.sessions() as session:
            fault = find_fault(session, reference)
            assert fault is not None
            return [(e.kind, e.author, e.body) for e in timeline_entries(session, fault)]
    finally:
        db.dispose()
