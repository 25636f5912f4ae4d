"""A customer who rings again while their fault is open adds to it, over real SIP.

Every other e2e test turns the repeat-caller question off
(`recent_fault_minutes = 0`); here it is on, as it is in production.
"""

from __future__ import annotations

import hashlib
import subprocess
from typing import Any

from sqlalchemy import select

from ivr.store.db import Database
from ivr.store.models import Fault, Recording
from tests.e2e.conftest import KNOWN_CUSTOMER, KNOWN_NUMBER, FaultLine
from tests.e2e.test_spine import assert_sipp_ok

ADD_TO_IT = "1"  # the repeat-caller question: 1 adds to the open fault, 2 reports a new one


def write_talk(line: FaultLine) -> None:
    """5 s of a voice-band sound for the second caller to say."""
    subprocess.run(
        ["sox", "-D", "-n", "-r", "8000", "-c", "1", "-t", "ul", str(line.workdir / "talk.ul"),
         "synth", "5", "sine", "300-900", "tremolo", "4", "gain", "-12"],
        check=True,
    )  # fmt: skip


def recordings_of(database: str, reference: str) -> list[tuple[int | None, str, str]]:
    """(call id, path, sha256) of each recording attached to the fault, oldest first."""
    db = Database(database)
    try:
        with db.sessions() as session:
            rows = session.execute(
                select(Recording.call_id, Recording.path, Recording.sha256)
                .join(Fault, Recording.fault_id == Fault.id)
                .where(Fault.reference == reference)
                .order_by(Recording.id)
            ).all()
            return [(row.call_id, row.path, row.sha256) for row in rows]
    finally:
        db.dispose()


def test_a_repeat_caller_adds_a_description_to_their_open_fault(
    fault_line_factory: Any, database: str
) -> None:
    line: FaultLine = fault_line_factory(menu={"recent_fault_minutes": "30"})
    write_talk(line)

    # First call: a high-priority fault, reported as usual (nothing open yet).
    result = line.sipp("caller_report.xml", [(KNOWN_NUMBER, "2", "Acme desk")])
    assert_sipp_ok(line, "caller_report.xml", result)
    (fault,) = line.ivr_json("faults", "list")
    reference = fault["reference"]
    assert fault["priority"] == "high"
    assert fault["customer"] == KNOWN_CUSTOMER
    (first_call,) = line.ivr_json("calls", "list")
    assert first_call["outcome"] == "reported"
    assert first_call["digits"] == "21"  # the menu was asked, not the repeat-caller question
    assert len(recordings_of(database, reference)) == 1

    # Second call from the same handset: asked about the open fault, adds to it.
    scenario = "caller_adds_description.xml"
    result = line.sipp(scenario, [(KNOWN_NUMBER, ADD_TO_IT, "Acme desk")])
    assert_sipp_ok(line, scenario, result)

    calls = {call["id"]: call for call in line.ivr_json("calls", "list")}
    assert len(calls) == 2
    second_call = calls[max(calls)]
    assert second_call["id"] != first_call["id"]
    assert second_call["outcome"] == "updated"
    assert second_call["fault_reference"] == reference
    assert second_call["digits"] == ADD_TO_IT
    assert second_call["ended_at"] is not None

    # No second fault; the first one is as it was.
    (after,) = line.ivr_json("faults", "list")
    assert after["reference"] == reference
    assert after["priority"] == fault["priority"]
    assert after["status"] == "open"
    assert after["reported_at"] == fault["reported_at"]

    # A second recording, made on the second call, attached to the first fault.
    attached = recordings_of(database, reference)
    assert [call_id for call_id, _, _ in attached] == [first_call["id"], second_call["id"]]
    shown = line.ivr_json("faults", "show", reference)["recordings"]
    assert len(shown) == 2
    added = next(r for r in shown if r["path"] == attached[1][1])
    assert added["seconds"] > 0.5, "the second caller's words were recorded"
    with open(added["path"], "rb") as stored:
        assert added["sha256"] == hashlib.sha256(stored.read()).hexdigest()
    assert added["path"] != attached[0][1]
