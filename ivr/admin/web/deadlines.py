"""A fault row seen through the SLA clock: countdowns, stages, monthly verdicts.

These adapt the store's `Fault` rows to the one SLA clock in
`ivr.faults.clock`, so the views and the store never compute a deadline
or a verdict themselves.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from ivr.admin.web.reports import Countdown, countdown
from ivr.domain import Stage as SlaStage
from ivr.faults.clock import StageOutcome, sla_verdict, stage_outcome
from ivr.store.faults import fault_times
from ivr.store.models import Fault


@dataclass(frozen=True)
class OpenFault:
    fault: Fault
    countdown: Countdown | None


def most_pressing_first(faults: Iterable[Fault], now: datetime) -> list[OpenFault]:
    """Unresolved faults, the most pressing first: overdue, then soonest deadline."""
    rows = [OpenFault(f, countdown(fault_times(f), now)) for f in faults]
    far = datetime.max.replace(tzinfo=UTC)
    rows.sort(key=lambda r: (r.countdown.due if r.countdown else far, -r.fault.id))
    return rows


def sla_by_month(
    faults: Iterable[Fault],
    starts: Sequence[datetime],
    now: datetime,
    split: Callable[[Fault], str] = lambda fault: fault.priority,
) -> dict[tuple[int, str, str], int]:
    """SLA verdicts per month (index into `starts`) and `split` (the priority unless
    told otherwise, e.g. the channel): (month, split, verdict)."""
    counts: dict[tuple[int, str, str], int] = {}
    for fault in faults:
        verdict = sla_verdict(fault_times(fault), now)
        if verdict is None:
            continue
        month = max(i for i, start in enumerate(starts) if fault.reported_at >= start)
        key = (month, split(fault), verdict.value)
        counts[key] = counts.get(key, 0) + 1
    return counts


@dataclass(frozen=True)
class Stage:
    name: str
    due: datetime | None
    done: datetime | None
    verdict: str  # met, missed, due, none, out of scope


_SHOWN = {
    StageOutcome.MET: "met",
    StageOutcome.MISSED: "missed",
    StageOutcome.PENDING: "due",
    StageOutcome.NO_DEADLINE: "none",
    StageOutcome.OUT_OF_SCOPE: "out of scope",
}


def stages(fault: Fault, now: datetime) -> list[Stage]:
    """Each SLA stage with its deadline, when it was done, and whether that was in time."""
    times = fault_times(fault)
    return [
        Stage(
            stage.value.capitalize(),
            times.due(stage),
            times.done_at(stage),
            _SHOWN[stage_outcome(times, stage, now)],
        )
        for stage in SlaStage
    ]
