"""Paging that does not end as it began: a page nobody acknowledged starts
again from level 1 while the SLA can still be kept; a page stopped during its
call hangs that call up. SIPp plays the engineers."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from ivr.store.db import Database
from ivr.store.faults import timeline_entries
from ivr.store.models import Fault
from tests.e2e.test_paging import attempts, engineers, report_critical

# One level, one try: each round is one busy call; the restart 3 s later.
PAGING = {
    "levels": "oncall:3:1:0:0",
    "repeats": "1",
    "message_plays": "1",
    "key_timeout": "1",
    "retry_failed_minutes": "0.05",
}


def test_a_failed_page_starts_again_from_level_one(fault_line_factory: Any, database: str) -> None:
    line = fault_line_factory(start=False, paging=PAGING)
    # Three calls' worth of busy: the third, should it come before the fault
    # is acknowledged below, is answered like the others.
    engineers(line, line.phone("engineer_busy.xml", 3), line.phone("engineer_busy.xml"))
    line.start()
    fault = report_critical(line)
    reference = fault["reference"]
    line.wait_for_output(r"busy \(alice\) -> page failed")
    line.wait_for_output(r"page \d+: nobody acknowledged; page \d+ starts again from level 1")
    # The second INVITE to the level-1 engineer is the restart.
    line.wait_for_output(r"busy \(alice\) -> page failed", count=2)
    line.ivr("faults", "ack", reference, "--by", "carol")  # stops further restarts
    pages = line.ivr_json("pages", "list", "--fault", reference)
    calls = sorted(
        (a["started_at"], p["restart"], a["engineer"], a["result"])
        for p in pages
        for a in p["attempts"]
    )
    # Oldest first; more restarts may have come before the acknowledgement.
    assert [call[1:] for call in calls[:2]] == [(0, "alice", "busy"), (1, "alice", "busy")]
    db = Database(database)
    try:
        with db.sessions() as session:
            row = session.scalars(select(Fault).where(Fault.reference == reference)).one()
            kinds = [n.kind for n in timeline_entries(session, row)]
    finally:
        db.dispose()
    assert kinds[:3] == ["page_failed", "paging_restarted", "failed_again"]
    # A restart can begin in the same moment as the acknowledgement (its claim
    # read the fault before the acknowledgement committed, and both are stamped
    # when their transactions began), so its note may sort after it; nothing
    # else may come after the acknowledgement.
    after = kinds[kinds.index("acknowledged") + 1 :]
    assert after in ([], ["paging_restarted"]), kinds


def test_lowering_the_priority_hangs_up_the_page_call_in_progress(
    fault_line_factory: Any,
) -> None:
    # Alice answers and says nothing; the message would be said for minutes.
    paging = {**PAGING, "levels": "oncall:10:1:0:0, next:3:1:0:0", "message_plays": "20"}
    line = fault_line_factory(start=False, paging=paging)
    engineers(line, line.phone("engineer_silent.xml"), line.phone("engineer_busy.xml"))
    line.start()
    reference = report_critical(line)["reference"]
    line.wait_for_output(r"page \d+: alice answered")
    line.ivr(
        "faults", "reprioritise", reference, "--priority", "high",
        "--reason", "the customer's own router", "--by", "carol",
    )  # fmt: skip
    line.wait_for_output(r"page \d+ was stopped during its call; hanging up")
    line.wait_for_output(r"stopped \(alice\); the page was cancelled during the call")
    # Alice's phone ends cleanly only if it was sent a BYE.
    assert line.phones[0].wait(timeout=30) == 0
    assert attempts(line, reference) == [("alice", "stopped", None)]
    (page,) = line.ivr_json("pages", "list", "--fault", reference)
    assert page["status"] == "cancelled"
    (attempt,) = page["attempts"]
    assert attempt["detail"] == "hung up: the page was stopped"
