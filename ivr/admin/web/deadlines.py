"""A fault row seen through the SLA clock: countdowns, stages, monthly verdicts.

These adapt the store's `Fault` rows to the pure verdicts in `reports`, so
the views and the store never compute a deadline themselves.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from ivr.admin.web.reports import Countdown, FaultTimes, countdown, sla_verdict
from ivr.store.models import Fault


def times_of(fault: Fault) -> FaultTimes:
    return FaultTimes(
        acknowledge_by=fault.acknowledge_by,
        respond_by=fault.respond_by,
        resolve_by=fault.resolve_by,
        acknowledged_at=fault.acknowledged_at,
        responded_at=fault.responded_at,
        resolved_at=fault.resolved_at,
    )


@dataclass(frozen=True)
class OpenFault:
    fault: Fault
    countdown: Countdown | None


def most_pressing_first(faults: Iterable[Fault], now: datetime) -> list[OpenFault]:
    """Unresolved faults, the most pressing first: overdue, then soonest deadline."""
    rows = [OpenFault(f, countdown(times_of(f), now)) for f in faults]
    far = datetime.max.replace(tzinfo=UTC)
    rows.sort(key=lambda r: (r.countdown.due if r.countdown else far, -r.fault.id))
    return rows


def sla_by_month(
    faults: Iterable[Fault], starts: Sequence[datetime], now: datetime
) -> dict[tuple[int, str, str], int]:
    """SLA verdicts per month (index into `starts`) and priority: (month, priority, verdict)."""
    counts: dict[tuple[int, str, str], int] = {}
    for fault in faults:
        verdict = sla_verdict(times_of(fault), now)
        if verdict is None:
            continue
        month = max(i for i, start in enumerate(starts) if fault.reported_at >= start)
        key = (month, fault.priority, verdict)
        counts[key] = counts.get(key, 0) + 1
    return counts


@dataclass(frozen=True)
class Stage:
    name: str
    due: datetime | None
    done: datetime | None
    verdict: str  # met, missed, due, none


def stages(fault: Fault, now: datetime) -> list[Stage]:
    """Each SLA stage with its deadline, when it was done, and whether that was in time."""
    out: list[Stage] = []
    rows: Sequence[tuple[str, datetime | None, datetime | None]] = (
        ("Acknowledge", fault.acknowledge_by, fault.acknowledged_at),
        ("Respond", fault.respond_by, fault.responded_at),
        ("Resolve", fault.resolve_by, fault.resolved_at),
    )
    for name, due, done in rows:
        if due is None:
            verdict = "none"
        elif done is not None:
            verdict = "met" if done <= due else "missed"
        else:
            verdict = "missed" if now > due else "due"
        out.append(Stage(name, due, done, verdict))
    return out
