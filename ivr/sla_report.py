"""The monthly SLA report: for each priority, how many deadlines were met and missed.

Pure: it takes the faults' times and `now`, never the database or the clock,
so a test states a month of faults and reads the exact counts.

Each fault reported in the month is counted once per stage (acknowledge,
respond, resolve):
- met: done at or before its deadline;
- missed: done after it, or not done and the deadline has passed;
- pending: not done, and not yet due;
- no_deadline: the SLA sets none (standard faults' resolution);

A fault closed as out of scope is listed (`out_of_scope` on its priority's
line, and in `reported`) but none of its stages is counted: neither met nor
missed.

Each verdict is `ivr.faults.clock.stage_outcome`, the rule the web page's
verdicts and the fault list use too: a fault responded to (or resolved)
without an acknowledgement counts as acknowledged at that moment.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

from ivr.domain import Priority, Stage
from ivr.faults.clock import FaultTimes, StageOutcome, stage_outcome

_MONTH = re.compile(r"^(\d{4})-(\d{2})$")


@dataclass
class StageCounts:
    met: int = 0
    missed: int = 0
    pending: int = 0
    no_deadline: int = 0

    def add(self, outcome: StageOutcome) -> None:
        setattr(self, outcome.value, getattr(self, outcome.value) + 1)

    def as_dict(self) -> dict[str, int]:
        return {
            outcome.value: getattr(self, outcome.value)
            for outcome in StageOutcome
            if outcome is not StageOutcome.OUT_OF_SCOPE
        }


@dataclass
class PriorityLine:
    priority: Priority
    reported: int = 0
    out_of_scope: int = 0  # of `reported`, closed out of scope
    stages: dict[Stage, StageCounts] = field(
        default_factory=lambda: {stage: StageCounts() for stage in Stage}
    )

    def as_dict(self) -> dict[str, object]:
        return {
            "reported": self.reported,
            "out_of_scope": self.out_of_scope,
            **{stage.value: counts.as_dict() for stage, counts in self.stages.items()},
        }


@dataclass(frozen=True)
class Month:
    """A calendar month in the service's time zone, as the half-open UTC span it covers."""

    year: int
    month: int
    tz: ZoneInfo

    @classmethod
    def parse(cls, text: str, tz: ZoneInfo) -> Month:
        match = _MONTH.match(text.strip())
        if match is None or not 1 <= int(match.group(2)) <= 12:
            raise ValueError(f"{text!r} is not a month; give YYYY-MM, e.g. 2026-11")
        return cls(int(match.group(1)), int(match.group(2)), tz)

    @classmethod
    def containing(cls, instant: datetime, tz: ZoneInfo) -> Month:
        local = instant.astimezone(tz)
        return cls(local.year, local.month, tz)

    @property
    def label(self) -> str:
        return f"{self.year:04d}-{self.month:02d}"

    @property
    def start(self) -> datetime:
        return datetime(self.year, self.month, 1, tzinfo=self.tz).astimezone(UTC)

    @property
    def end(self) -> datetime:
        first = date(self.year + self.month // 12, self.month % 12 + 1, 1)
        return datetime(first.year, first.month, 1, tzinfo=self.tz).astimezone(UTC)

    def __contains__(self, instant: datetime) -> bool:
        return self.start <= instant < self.end


@dataclass(frozen=True)
class SlaReport:
    month: Month
    now: datetime
    lines: dict[Priority, PriorityLine]

    def as_dict(self) -> dict[str, object]:
        return {
            "month": self.month.label,
            "timezone": self.month.tz.key,
            "from": self.month.start.astimezone(self.month.tz).isoformat(),
            "to": self.month.end.astimezone(self.month.tz).isoformat(),
            "as_of": self.now.astimezone(self.month.tz).isoformat(),
            "priorities": {p.value: line.as_dict() for p, line in self.lines.items()},
        }


def sla_report(faults: Iterable[FaultTimes], month: Month, now: datetime) -> SlaReport:
    """Count each stage of the faults reported in `month` as of `now`.

    Faults reported outside the month are ignored, so the caller may pass a
    wider selection. Every priority has a line, even with nothing reported.
    """
    if now.tzinfo is None or now.utcoffset() is None:
        raise ValueError("now must be timezone-aware")
    lines = {priority: PriorityLine(priority) for priority in Priority}
    for fault in faults:
        if fault.reported_at not in month:
            continue
        line = lines[fault.priority]
        line.reported += 1
        if stage_outcome(fault, Stage.ACKNOWLEDGE, now) is StageOutcome.OUT_OF_SCOPE:
            line.out_of_scope += 1
            continue
        for stage in Stage:
            line.stages[stage].add(stage_outcome(fault, stage, now))
    return SlaReport(month, now, lines)
