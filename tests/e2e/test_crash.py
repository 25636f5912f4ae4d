"""kill -9 at many points of a call: nothing spoken is lost, nothing is half-written.

Each trial rings the fault line with a critical report, kills the service
with SIGKILL at a different moment (before the commit, just after it,
while the caller describes the fault, during the reference, during the
page), restarts it, and checks the invariants on the database the next
service instance works from.
"""

from __future__ import annotations

import re
import signal
import threading
from typing import Any

from tests.e2e.conftest import KNOWN_NUMBER, FaultLine
from tests.e2e.test_paging import engineers

# Seconds after the caller's INVITE at which the service is killed. The
# caller presses 3 at ~0.6 s and confirms at ~1.5 s; the fault is committed
# then, the description and reference follow, then the engineer is paged.
KILL_POINTS = (0.9, 1.6, 2.2, 3.5, 5.0, 7.0)
PAGING = {
    "levels": "oncall:3:3:1:0",
    "repeats": "1",
    "message_plays": "2",
    "key_timeout": "1",
}


def spoken_references(output: list[str]) -> set[str]:
    found = set()
    for line in output:
        match = re.search(r"reading reference (\d+) to the caller", line)
        if match:
            found.add(match.group(1))
    return found


def test_kill_9_at_many_points_loses_nothing(fault_line_factory: Any) -> None:
    line: FaultLine = fault_line_factory(start=False, paging=PAGING)
    engineers(line, line.phone("engineer_presses_1.xml", 50), line.phone("engineer_busy.xml", 50))
    spoken: set[str] = set()
    for kill_at in KILL_POINTS:
        line.start()
        caller = line.sipp_background("caller_report.xml", [(KNOWN_NUMBER, "3", "Acme desk")])
        killed = threading.Event()
        killed.wait(kill_at)  # the moment of the crash, not a wait for a result
        line.stop(signal.SIGKILL)
        spoken |= spoken_references(line.output)
        caller.kill()
        caller.wait()

    # One last clean start: every pending page must be carried out.
    line.start()
    faults = {f["reference"]: f for f in line.ivr_json("faults", "list")}
    assert spoken <= set(faults), "a reference was read to a caller but is not in the database"

    calls = line.ivr_json("calls", "list")
    by_reference = {c["fault_reference"]: c for c in calls if c["fault_reference"]}
    # Each restart closed the calls its crash cut off: none is left "in progress".
    outcomes = [c["outcome"] for c in calls]
    assert "in_progress" not in outcomes, outcomes
    assert "interrupted" in outcomes, outcomes
    for reference, fault in faults.items():
        # Written in one transaction with the fault: the call points at it and
        # the SLA clock is set.
        assert reference in by_reference, f"fault {reference} without its call"
        assert fault["acknowledge_by"] and fault["respond_by"] and fault["resolve_by"]
        assert fault["priority"] == "critical"

    def all_alerts_done() -> bool:
        pages = line.ivr_json("pages", "list")
        return all(page["status"] != "active" for page in pages if page["kind"] == "alert")

    line.wait_until(all_alerts_done, timeout=90)
    for reference in faults:
        pages = line.ivr_json("pages", "list", "--fault", reference)
        alerts = [page for page in pages if page["kind"] == "alert"]
        assert len(alerts) == 1, f"fault {reference} has {len(alerts)} pages"
        assert alerts[0]["status"] == "acknowledged"
        steps = [tuple(a["step"].values()) for a in alerts[0]["attempts"]]
        assert len(steps) == len(set(steps)), f"a step of {reference}'s page was dialled twice"
        # Its acknowledgement timeout is set once, for the response deadline.
        reminders = [(p["kind"], p["status"], p["target"]) for p in pages if p is not alerts[0]]
        assert reminders == [("reminder", "active", alerts[0]["acknowledged_by"])]
