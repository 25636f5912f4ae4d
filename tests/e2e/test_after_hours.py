"""The SLA clock on the line: after-hours calls and outage announcements, over real SIP.

The service's clock is set with IVR_CLOCK_START (it then runs at real
speed) and core hours are back to 09:00-17:00, so each test sees the same
calendar whenever it runs. Saturday 28 November 2026, 22:00 GMT is after
hours; the office next opens on Monday 30 November at 09:00.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from tests.e2e.conftest import KNOWN_NUMBER, FaultLine
from tests.e2e.test_spine import assert_sipp_ok

CORE_HOURS = {"open": "09:00", "close": "17:00", "holidays": "GB-ENG"}
SATURDAY_NIGHT = ("IVR_CLOCK_START", "2026-11-28T22:00:00+00:00")
WEDNESDAY_MORNING = ("IVR_CLOCK_START", "2026-11-25T10:00:00+00:00")


def start_at(factory: Any, clock: tuple[str, str]) -> FaultLine:
    line: FaultLine = factory(start=False, hours=CORE_HOURS)
    line.start(clock)
    return line


def logged(line: FaultLine, text: str) -> list[str]:
    return [entry for entry in line.output if text in entry]


def test_saturday_night_standard_fault_is_told_when_the_office_opens(
    fault_line_factory: Any,
) -> None:
    line = start_at(fault_line_factory, SATURDAY_NIGHT)
    result = line.sipp("caller_presses_key.xml", [(KNOWN_NUMBER, "1", "Acme desk")])
    assert_sipp_ok(line, "caller_presses_key.xml", result)

    # Nothing was logged, and nothing the caller heard said it was.
    assert line.ivr_json("faults", "list") == []
    (call,) = line.ivr_json("calls", "list")
    assert call["outcome"] == "after_hours"
    assert call["digits"] == "1"
    assert call["verified"] is True
    assert call["fault_reference"] is None
    # The menu told the caller the next opening: Monday 30 November, 09:00.
    (opens,) = logged(line, "after hours; office opens")
    assert "2026-11-30 09:00:00+00:00" in opens


def test_saturday_night_critical_fault_is_taken_with_its_clock(fault_line_factory: Any) -> None:
    line = start_at(fault_line_factory, SATURDAY_NIGHT)
    result = line.sipp("caller_report.xml", [(KNOWN_NUMBER, "3", "Acme desk")])
    assert_sipp_ok(line, "caller_report.xml", result)

    (fault,) = line.ivr_json("faults", "list")
    assert fault["priority"] == "critical"
    reported = datetime.fromisoformat(fault["reported_at"])
    assert datetime.fromisoformat("2026-11-28T22:00:00+00:00") <= reported
    assert reported < datetime.fromisoformat("2026-11-28T22:05:00+00:00")
    # Critical faults run on the clock, weekend or not: 2 h, 3 h and 24 h.
    for key, hours in (("acknowledge_by", 2), ("respond_by", 3), ("resolve_by", 24)):
        assert datetime.fromisoformat(fault[key]) - reported == timedelta(hours=hours), key
    assert fault["next_deadline"] == "acknowledge"
    assert fault["next_deadline_at"] == fault["acknowledge_by"]

    (call,) = line.ivr_json("calls", "list")
    assert (call["outcome"], call["digits"]) == ("reported", "31")
    assert call["fault_reference"] == fault["reference"]
    assert fault["reference"] in line.ivr("faults", "list").stdout
    assert logged(line, "after hours; office opens")


def test_with_after_hours_all_a_standard_fault_is_logged_on_the_next_opening_clock(
    fault_line_factory: Any,
) -> None:
    line: FaultLine = fault_line_factory(start=False, hours={**CORE_HOURS, "after_hours": "all"})
    line.start(SATURDAY_NIGHT)
    result = line.sipp("caller_report.xml", [(KNOWN_NUMBER, "1", "Acme desk")])
    assert_sipp_ok(line, "caller_report.xml", result)

    (fault,) = line.ivr_json("faults", "list")
    assert fault["priority"] == "standard"
    # Its clock starts when the office opens on Monday 30 November, 09:00.
    opening = datetime.fromisoformat("2026-11-30T09:00:00+00:00")
    assert datetime.fromisoformat(fault["acknowledge_by"]) > opening
    (call,) = line.ivr_json("calls", "list")
    assert (call["outcome"], call["digits"]) == ("reported", "11")
    assert call["fault_reference"] == fault["reference"]


def test_callers_hear_the_current_outage_and_carry_on(fault_line_factory: Any) -> None:
    line: FaultLine = fault_line_factory(start=False, hours=CORE_HOURS)
    added = line.ivr(
        *("outages", "add", "--from", "2026-11-25T09:00", "--to", "2026-11-26T12:00"),
        *("--message", "Planned maintenance on the Leeds exchange."),
    )
    assert "message rendered into the prompt cache" in added.stdout
    line.start(WEDNESDAY_MORNING)
    assert logged(line, "outage messages ready: 1")

    result = line.sipp("caller_report.xml", [(KNOWN_NUMBER, "1", "Acme desk")])
    assert_sipp_ok(line, "caller_report.xml", result)
    assert len(logged(line, "announcing the current outage")) == 1

    # One added while the service runs is announced too (read from the cache).
    line.ivr("outages", "remove", "1")
    line.ivr(
        *("outages", "add", "--from", "2026-11-25T09:30", "--to", "2026-11-26T12:00"),
        *("--message", "A known incident is affecting calls in Leeds."),
    )
    result = line.sipp("caller_report.xml", [(KNOWN_NUMBER, "2", "Acme desk")])
    assert_sipp_ok(line, "caller_report.xml", result)
    assert len(logged(line, "announcing the current outage")) == 2
    assert not logged(line, "not announced")

    calls = line.ivr_json("calls", "list")
    assert [c["outcome"] for c in calls] == ["reported", "reported"], (calls, "".join(line.output))
    faults = line.ivr_json("faults", "list")
    assert sorted(f["priority"] for f in faults) == ["high", "standard"]
