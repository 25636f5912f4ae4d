"""A real call end to end: SIPp rings the running fault line over loopback."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from tests.e2e.conftest import KNOWN_CUSTOMER, KNOWN_NUMBER, FaultLine

UNKNOWN_NUMBER = "01614960999"


def assert_sipp_ok(line: FaultLine, scenario: str, result: Any) -> None:
    assert result.returncode == 0, (
        f"sipp exit {result.returncode}\n{result.stdout[-2000:]}\n{result.stderr[-2000:]}\n"
        f"{line.sipp_errors(scenario)}\nservice:\n{''.join(line.output[-60:])}"
    )


def test_known_handset_reports_a_critical_fault(fault_line: FaultLine) -> None:
    result = fault_line.sipp("caller_report.xml", [(KNOWN_NUMBER, "3", "Acme desk")])
    assert_sipp_ok(fault_line, "caller_report.xml", result)

    faults = fault_line.ivr_json("faults", "list")
    assert len(faults) == 1
    fault = faults[0]
    assert fault["priority"] == "critical"
    assert fault["customer"] == KNOWN_CUSTOMER
    assert fault["cli"] == "+442079460000"

    calls = fault_line.ivr_json("calls", "list")
    assert len(calls) == 1
    call = calls[0]
    assert call["outcome"] == "reported"
    assert call["verified"] is True
    assert call["digits"] == "31"
    assert call["display_name"] == "Acme desk"
    assert call["source_address"] == "127.0.0.1"
    assert call["answered_at"] and call["ended_at"]
    # The reference the call log keeps is the fault's, and the service
    # spoke exactly that one (it logs what it reads out).
    assert call["fault_reference"] == fault["reference"]
    spoken = [line for line in fault_line.output if "reading reference" in line]
    assert spoken and fault["reference"] in spoken[-1]

    shown = fault_line.ivr_json("faults", "show", fault["reference"])
    assert shown["reference"] == fault["reference"]


def test_unknown_handset_is_turned_away(fault_line: FaultLine) -> None:
    result = fault_line.sipp("caller_listens.xml", [(UNKNOWN_NUMBER, "", "Stranger")])
    assert_sipp_ok(fault_line, "caller_listens.xml", result)
    assert fault_line.ivr_json("faults", "list") == []
    (call,) = fault_line.ivr_json("calls", "list")
    assert call["outcome"] == "rejected"
    assert call["verified"] is False
    assert call["cli"] == "+441614960999"
    assert "not a registered handset" in call["verification"]


def test_withheld_number_is_turned_away(fault_line: FaultLine) -> None:
    result = fault_line.sipp("caller_listens.xml", [("anonymous", "", "Anonymous")])
    assert_sipp_ok(fault_line, "caller_listens.xml", result)
    (call,) = fault_line.ivr_json("calls", "list")
    assert call["outcome"] == "rejected"
    assert call["cli"] is None
    assert call["verification"] == "caller ID withheld"


def test_caller_hangs_up_mid_menu(fault_line: FaultLine) -> None:
    result = fault_line.sipp("caller_hangs_up.xml", [(KNOWN_NUMBER, "3", "Acme desk")])
    assert_sipp_ok(fault_line, "caller_hangs_up.xml", result)
    assert fault_line.ivr_json("faults", "list") == []
    (call,) = fault_line.ivr_json("calls", "list")
    assert call["outcome"] == "abandoned"
    assert call["digits"] == "3"
    assert call["ended_at"] is not None
    assert call["fault_reference"] is None


def test_no_key_pressed_ends_with_no_choice(fault_line: FaultLine) -> None:
    result = fault_line.sipp("caller_listens.xml", [(KNOWN_NUMBER, "", "Acme desk")])
    assert_sipp_ok(fault_line, "caller_listens.xml", result)
    (call,) = fault_line.ivr_json("calls", "list")
    assert call["outcome"] == "no_choice"
    assert fault_line.ivr_json("faults", "list") == []


def test_twenty_concurrent_callers_get_distinct_references(fault_line: FaultLine) -> None:
    callers = [(KNOWN_NUMBER, "123"[i % 3], f"Desk {i}") for i in range(20)]
    result = fault_line.sipp("caller_report.xml", callers, concurrent=20)
    assert_sipp_ok(fault_line, "caller_report.xml", result)
    faults = fault_line.ivr_json("faults", "list")
    references = {fault["reference"] for fault in faults}
    assert len(faults) == 20
    assert len(references) == 20
    calls = fault_line.ivr_json("calls", "list")
    assert len(calls) == 20
    assert {call["outcome"] for call in calls} == {"reported"}
    assert {call["fault_reference"] for call in calls} == references
    by_priority = {
        p: sum(f["priority"] == p for f in faults) for p in ("standard", "high", "critical")
    }
    assert by_priority == {"standard": 7, "high": 7, "critical": 6}


def test_the_service_keeps_the_sla_targets_set_in_sip_conf(fault_line_factory: Any) -> None:
    sla = {"critical": "ack 0.5 clock, respond 1 clock, resolve 4 clock"}
    line: FaultLine = fault_line_factory(sla=sla)
    result = line.sipp("caller_report.xml", [(KNOWN_NUMBER, "3", "Acme desk")])
    assert_sipp_ok(line, "caller_report.xml", result)
    (fault,) = line.ivr_json("faults", "list")
    reported = datetime.fromisoformat(fault["reported_at"])
    due = {
        stage: datetime.fromisoformat(fault[f"{stage}_by"]) - reported
        for stage in ("acknowledge", "respond", "resolve")
    }
    assert due == {
        "acknowledge": timedelta(minutes=30),
        "respond": timedelta(hours=1),
        "resolve": timedelta(hours=4),
    }
