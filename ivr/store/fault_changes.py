"""CLI SECURE's own decisions on a fault: its final priority, and closing it as out of scope.

The SLA lets CLI SECURE decide a fault's priority whatever the caller
chose, and excludes third parties' problems. Both are lifecycle moves
(`Action.REPRIORITISE`, `Action.CLOSE_OUT_OF_SCOPE`) applied by
`move_fault`, so the timeline entry (who, when, why) is written the same
way from the command line and the web page; this module adds what each
does to the deadlines and to paging. The caller owns the transaction.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from ivr.domain import Priority
from ivr.faults.lifecycle import Action, IllegalMove, Move, decide
from ivr.paging.policy import Policy
from ivr.sla import Deadlines
from ivr.store.faults import fault_state, move_fault, require_reason
from ivr.store.models import Fault, Page
from ivr.store.page_state import cancel_pages_for
from ivr.store.pages import open_page


def reprioritise(
    session: Session,
    fault: Fault,
    priority: Priority,
    clock: Deadlines,
    policy: Policy,
    *,
    at: datetime,
    by: str,
    reason: str,
) -> Move:
    """Give `fault` the priority CLI SECURE decided, with `clock` (recomputed by the caller
    from the original report time) as its deadlines.

    The caller's choice stays on the fault (`reported_priority`) and in the
    timeline entry. A priority that pages starts paging at once (unless the
    fault is already acknowledged); one that does not stops a running page,
    the reason on the timeline.
    """
    require_reason(fault, Action.REPRIORITISE, reason)
    before = Priority(fault.priority)
    if priority is before:
        raise IllegalMove(f"fault {fault.reference} is already {priority.value} priority")
    reported = fault.reported_priority or before.value
    change = f"changed to {priority.value}"
    if before.value != reported:
        change = f"changed from {before.value} to {priority.value}"
    comment = f"reported as {reported}, {change} by {by}: {reason.strip()}"
    # Asked first, so that nothing changes when the lifecycle refuses; the new
    # priority is in place before the move, so its e-mail tells the new deadlines.
    decide(fault_state(fault), Action.REPRIORITISE, at, by)
    fault.reported_priority = reported
    fault.priority = priority.value
    fault.acknowledge_by = clock.acknowledge_by
    fault.respond_by = clock.respond_by
    fault.resolve_by = clock.resolve_by
    move = move_fault(session, fault, Action.REPRIORITISE, at, by=by, comment=comment)
    if policy.pages(priority.value):
        if fault.acknowledged_at is None:
            open_page(session, fault, at)
    else:
        cancel_pages_for(session, fault, at, lambda f: policy.pages(f.priority))
    return move


def close_out_of_scope(
    session: Session, fault: Fault, *, at: datetime, by: str, reason: str
) -> tuple[Move, list[Page]]:
    """Close `fault` as not CLI SECURE's to fix; its running pages stop.

    The SLA report lists it but counts it neither met nor missed
    (`ivr.faults.clock`).
    """
    move = move_fault(session, fault, Action.CLOSE_OUT_OF_SCOPE, at, by=by, comment=reason)
    stopped = cancel_pages_for(session, fault, at, lambda f: f.closed_at is None)
    return move, stopped
