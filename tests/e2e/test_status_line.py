"""A customer ringing back hears where their open fault stands, then chooses, over real SIP.

The recent-fault window is off (as in every e2e test), so the options
that follow come from the status line alone: the caller presses 1 and
adds a description to the fault they were just told of.
"""

from __future__ import annotations

from typing import Any

from tests.e2e.conftest import KNOWN_NUMBER, FaultLine
from tests.e2e.test_repeat_caller import recordings_of, write_talk
from tests.e2e.test_spine import assert_sipp_ok


def test_a_caller_with_an_open_fault_hears_its_status_and_the_call_is_logged(
    fault_line_factory: Any, database: str
) -> None:
    line: FaultLine = fault_line_factory(menu={"open_fault_status": "yes"})
    write_talk(line)
    result = line.sipp("caller_report.xml", [(KNOWN_NUMBER, "2", "Acme desk")])
    assert_sipp_ok(line, "caller_report.xml", result)
    (fault,) = line.ivr_json("faults", "list")
    reference = fault["reference"]

    scenario = "caller_adds_description.xml"
    result = line.sipp(scenario, [(KNOWN_NUMBER, "1", "Acme desk")])
    assert_sipp_ok(line, scenario, result)
    told = line.wait_for_output(r"telling the caller of fault \d+ and 0 other open fault\(s\)")
    assert reference in told[0]

    calls = {call["id"]: call for call in line.ivr_json("calls", "list")}
    second = calls[max(calls)]
    assert (second["outcome"], second["fault_reference"], second["digits"]) == (
        "updated",
        reference,
        "1",
    )
    assert second["ended_at"] is not None
    assert len(line.ivr_json("faults", "list")) == 1
    assert len(recordings_of(database, reference)) == 2
