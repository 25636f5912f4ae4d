"""Paging on-call engineers for critical faults, with SIPp playing the engineers' phones."""

from __future__ import annotations

import signal
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import update

from ivr.store.db import Database
from ivr.store.models import Page
from tests.e2e.conftest import KNOWN_NUMBER, FaultLine
from tests.e2e.test_spine import assert_sipp_ok

OTHER_NUMBER = "02079460001"
ONE_TRY_EACH = "oncall:3:1:0:0, next:3:1:0:0"

# Short rings and waits so that a whole escalation takes seconds.
PAGING = {
    "levels": "oncall:3:2:1:0, next:3:1:0:0",
    "repeats": "1",
    "message_plays": "2",
    "key_timeout": "1",
}


def engineers(line: FaultLine, alice: str, bob: str) -> None:
    line.ivr("engineers", "add", "alice", "--contact", alice)
    line.ivr("engineers", "add", "bob", "--contact", bob)
    # Handover at midnight today: alice's turn is the one running now.
    today = datetime.now().date().isoformat()
    line.ivr("oncall", "rota", "set", "alice", "bob", "--start", today, "--handover", "00:00")
    assert line.ivr_json("oncall", "now")["on_call"] == "alice"


def report_critical(line: FaultLine) -> dict[str, Any]:
    result = line.sipp("caller_report.xml", [(KNOWN_NUMBER, "3", "Acme desk")])
    assert_sipp_ok(line, "caller_report.xml", result)
    (fault,) = line.ivr_json("faults", "list")
    assert fault["priority"] == "critical"
    return dict(fault)


def critical_paged(
    fault_line_factory: Any, alice: str, bob: str, levels: str, **paging: str
) -> tuple[FaultLine, dict[str, Any]]:
    """A line whose alice and bob answer with these phone scenarios, and the critical fault."""
    settings = {**PAGING, "levels": levels, **paging}
    line: FaultLine = fault_line_factory(start=False, paging=settings)
    engineers(line, line.phone(alice), line.phone(bob))
    line.start()
    return line, report_critical(line)


def attempts(line: FaultLine, reference: str) -> list[tuple[str, str, int | None]]:
    rows = line.ivr_json("pages", "list", "--fault", reference)
    found = []
    for page in rows:
        for attempt in page["attempts"]:
            found.append((attempt["engineer"], attempt["result"], attempt["sip_status"]))
    return found


def test_engineer_presses_1_and_acknowledges(fault_line_factory: Any) -> None:
    line: FaultLine = fault_line_factory(start=False, paging=PAGING)
    engineers(line, line.phone("engineer_presses_1.xml"), line.phone("engineer_busy.xml", 5))
    line.start()
    fault = report_critical(line)
    line.wait_for_output(r"page \d+ step .*: acknowledged \(alice\) -> page acknowledged")
    assert attempts(line, fault["reference"]) == [("alice", "acknowledged", 200)]
    shown = line.ivr_json("faults", "show", fault["reference"])
    assert shown["acknowledged_by"] == "alice"
    assert shown["acknowledged_at"] is not None
    assert shown["status"] == "acknowledged"


def test_busy_is_retried_then_escalated(fault_line_factory: Any) -> None:
    line: FaultLine = fault_line_factory(start=False, paging=PAGING)
    engineers(line, line.phone("engineer_busy.xml", 2), line.phone("engineer_presses_1.xml"))
    line.start()
    fault = report_critical(line)
    line.wait_for_output(r"acknowledged \(bob\) -> page acknowledged")
    assert attempts(line, fault["reference"]) == [
        ("alice", "busy", 486),
        ("alice", "busy", 486),
        ("bob", "acknowledged", 200),
    ]
    assert line.ivr_json("faults", "show", fault["reference"])["acknowledged_by"] == "bob"


def test_no_answer_is_cancelled_and_pressing_2_passes_it_on(fault_line_factory: Any) -> None:
    line, fault = critical_paged(
        fault_line_factory, "engineer_no_answer.xml", "engineer_presses_2.xml", ONE_TRY_EACH
    )
    # Bob passes it on, there is nobody after him: the page has failed.
    line.wait_for_output(r"passed \(bob\) -> page failed")
    assert attempts(line, fault["reference"]) == [
        ("alice", "no_answer", None),
        ("bob", "passed", 200),
    ]
    assert line.ivr_json("faults", "show", fault["reference"])["status"] == "page_failed"
    # Alice's phone ends cleanly only if the ringing call was CANCELled.
    assert line.phones[0].wait(timeout=30) == 0


def test_pressing_2_rings_the_next_engineer_at_once(fault_line_factory: Any) -> None:
    # Levels with a long wait between them: only a pass skips it.
    line, fault = critical_paged(
        fault_line_factory,
        "engineer_presses_2.xml",
        "engineer_presses_1.xml",
        "oncall:3:1:0:600, next:3:1:0:0",
    )
    line.wait_for_output(r"acknowledged \(bob\) -> page acknowledged")
    assert attempts(line, fault["reference"]) == [
        ("alice", "passed", 200),
        ("bob", "acknowledged", 200),
    ]


def test_critical_faults_from_two_customers_are_paged_at_the_same_time(
    fault_line_factory: Any,
) -> None:
    line: FaultLine = fault_line_factory(start=False, paging=PAGING)
    line.ivr("handsets", "add", OTHER_NUMBER, "--customer", "Brightwater Logistics")
    # Alice's phone takes both page calls; she listens 2.5 s before pressing 1.
    engineers(line, line.phone("engineer_presses_1_late.xml", 2), line.phone("engineer_busy.xml"))
    line.start()
    callers = [(KNOWN_NUMBER, "3", "Acme desk"), (OTHER_NUMBER, "3", "Brightwater desk")]
    result = line.sipp("caller_report.xml", callers, concurrent=2)
    assert_sipp_ok(line, "caller_report.xml", result)
    line.wait_for_output(r"acknowledged \(alice\) -> page acknowledged", count=2)
    faults = line.ivr_json("faults", "list")
    assert len(faults) == 2
    calls = [
        attempt
        for fault in faults
        for page in pages(line, fault["reference"])
        for attempt in page["attempts"]
    ]
    assert [(a["engineer"], a["result"]) for a in calls] == [("alice", "acknowledged")] * 2
    first, second = sorted(calls, key=lambda a: a["started_at"])
    # Two pages, not one queued behind the other: the second call was placed
    # while the first was still going on.
    assert datetime.fromisoformat(second["started_at"]) < datetime.fromisoformat(first["ended_at"])


def test_voicemail_that_presses_nothing_is_not_an_acknowledgement(fault_line_factory: Any) -> None:
    # Said once (not twice) and not answered: as good a test, in half the time.
    line, fault = critical_paged(
        fault_line_factory,
        "engineer_silent.xml",
        "engineer_silent.xml",
        ONE_TRY_EACH,
        message_plays="1",
    )
    line.wait_for_output(r"no_key \(bob\) -> page failed")
    assert attempts(line, fault["reference"]) == [
        ("alice", "no_key", 200),
        ("bob", "no_key", 200),
    ]
    shown = line.ivr_json("faults", "show", fault["reference"])
    assert shown["status"] == "page_failed"
    assert shown["acknowledged_at"] is None


def test_page_resumes_after_kill_9_without_calling_a_step_twice(fault_line_factory: Any) -> None:
    # Alice is busy once; the retry is due 20 s later (the caller is still
    # describing the fault and hearing the reference for part of that). The
    # service is killed in between and restarted: the retry happens once,
    # then Bob acknowledges.
    paging = {**PAGING, "levels": "oncall:3:2:20:0, next:3:1:0:0"}
    line: FaultLine = fault_line_factory(start=False, paging=paging)
    engineers(line, line.phone("engineer_busy.xml", 2), line.phone("engineer_presses_1.xml"))
    line.start()
    fault = report_critical(line)
    line.wait_for_output(r"busy \(alice\) -> page active")
    line.stop(signal.SIGKILL)
    line.start()
    line.wait_for_output(r"acknowledged \(bob\) -> page acknowledged")
    assert attempts(line, fault["reference"]) == [
        ("alice", "busy", 486),
        ("alice", "busy", 486),
        ("bob", "acknowledged", 200),
    ]


def test_an_acknowledged_fault_not_responded_to_rings_the_acknowledger_again(
    fault_line_factory: Any, database: str
) -> None:
    line: FaultLine = fault_line_factory(start=False, paging=PAGING)
    engineers(line, line.phone("engineer_presses_1.xml", 2), line.phone("engineer_busy.xml", 5))
    line.start()
    fault = report_critical(line)
    line.wait_for_output(r"reminder page \d+ will ring alice at ")
    (reminder,) = [p for p in pages(line, fault["reference"]) if p["kind"] == "reminder"]
    due = datetime.fromisoformat(reminder["next_action_at"])
    # [paging] reminder_lead_minutes, 15 by default, before the response deadline.
    assert due == datetime.fromisoformat(fault["respond_by"]) - timedelta(minutes=15)
    # The response deadline is hours away: bring it to now, as if those hours
    # had passed with nobody responding. The service finds it due by itself.
    db = Database(database)
    with db.sessions.begin() as session:
        session.execute(
            update(Page).where(Page.id == reminder["id"]).values(next_action_at=datetime.now(UTC))
        )
    db.dispose()
    line.wait_for_output(r"acknowledged \(alice\) -> page acknowledged", count=2)
    found = {p["kind"]: p for p in pages(line, fault["reference"])}
    assert [(a["engineer"], a["result"]) for a in found["alert"]["attempts"]] == [
        ("alice", "acknowledged")
    ]
    assert [(a["engineer"], a["result"]) for a in found["reminder"]["attempts"]] == [
        ("alice", "acknowledged")
    ]
    assert found["reminder"]["status"] == "acknowledged"
    assert len(found) == 2, "acknowledging a reminder sets no further reminder"


def test_responding_in_time_cancels_the_reminder(fault_line_factory: Any) -> None:
    line: FaultLine = fault_line_factory(start=False, paging=PAGING)
    engineers(line, line.phone("engineer_presses_1.xml"), line.phone("engineer_busy.xml", 5))
    line.start()
    fault = report_critical(line)
    line.wait_for_output(r"reminder page \d+ will ring alice at ")
    line.ivr("faults", "respond", fault["reference"])
    statuses = {p["kind"]: p["status"] for p in pages(line, fault["reference"])}
    assert statuses == {"alert": "acknowledged", "reminder": "cancelled"}


def pages(line: FaultLine, reference: str) -> list[dict[str, Any]]:
    return list(line.ivr_json("pages", "list", "--fault", reference))


def test_page_test_rings_an_engineer_by_hand(fault_line_factory: Any) -> None:
    line: FaultLine = fault_line_factory(start=False, paging=PAGING)
    line.ivr("engineers", "add", "alice", "--contact", line.phone("engineer_presses_1.xml"))
    line.ivr("engineers", "add", "bob", "--contact", line.phone("engineer_busy.xml"))
    acknowledged = line.ivr("page", "test", "alice", "--ring", "5")
    assert "alice" in acknowledged.stdout and "acknowledged" in acknowledged.stdout
    busy = line.ivr("page", "test", "bob", "--ring", "5", check=False)
    assert busy.returncode == 1 and "busy" in busy.stdout
    unknown = line.ivr("page", "test", "carol", check=False)
    assert unknown.returncode != 0 and "no engineer called 'carol'" in unknown.stderr
