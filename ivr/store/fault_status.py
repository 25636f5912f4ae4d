"""A customer's open faults, read for the status line they hear when they ring.

Selected by the customer the caller was verified as, and nothing else, so
no caller ever hears of another customer's fault. What the SLA owes next
is the one clock's answer (`ivr.faults.clock.next_owed`), so the caller is
told the same deadline the web page shows.
"""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ivr.domain import UNRESOLVED_STATUSES, Priority
from ivr.faults.clock import next_owed
from ivr.flow.status import OpenFault, OpenFaults
from ivr.store.faults import fault_times
from ivr.store.models import Fault


def open_fault_summary(
    session: Session, customer: str, now: datetime, tz: ZoneInfo
) -> OpenFaults | None:
    """The customer's newest unresolved fault and how many others; None if they have none."""
    open_faults = (Fault.customer == customer, Fault.status.in_(UNRESOLVED_STATUSES))
    newest = session.scalar(
        select(Fault)
        .where(*open_faults)
        .order_by(Fault.reported_at.desc(), Fault.id.desc())
        .limit(1)
    )
    if newest is None:
        return None
    count = session.scalar(select(func.count()).select_from(Fault).where(*open_faults)) or 1
    owed = next_owed(fault_times(newest), now)
    acknowledged = newest.acknowledged_at
    return OpenFaults(
        newest=OpenFault(
            reference=newest.reference,
            priority=Priority(newest.priority),
            acknowledged_at=acknowledged.astimezone(tz) if acknowledged is not None else None,
            next_stage=owed.stage if owed is not None else None,
            due=owed.due.astimezone(tz) if owed is not None else None,
            overdue=owed.overdue if owed is not None else False,
        ),
        others=count - 1,
        local_now=now.astimezone(tz),
    )
