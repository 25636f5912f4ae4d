"""Who is on call: a weekly rotation with overrides, as pure functions of time.

Pure for the same reason as `ivr.sla`: the pager, `ivr oncall now` and the
tests must give the same answer for the same instant, and a test has to be
able to stand on either side of a handover or a clock change without waiting.

Handovers happen at a local wall-clock time (09:00 stays 09:00 across the
change to and from summer time), so the gap between two handovers is not
always exactly 7 x 24 hours; everything is computed from local dates and
converted to an instant only at the end. A handover time the clock change
skips (01:30 on the spring-forward day) happens at the first instant after
the gap; one the change repeats happens the first time round.

Every instant is compared in UTC: Python compares two datetimes of the same
zone by wall clock, ignoring `fold`, which is wrong in the repeated hour.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

DAY_ABBREVIATIONS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_DAY_NAMES = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")

# Local-date arithmetic lands within one slot of the answer (a clock change
# moves a handover by an hour, never by a day); a few steps settle it.
_MAX_SEARCH_SLOTS = 3


def _require_aware(value: datetime, name: str) -> None:
    """Naive instants are refused: guessing their zone moves the answer by an hour."""
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{name} must be timezone-aware, got {value!r}")


def _local_instant(day: date, at: time, tz: ZoneInfo) -> datetime:
    """The instant (in UTC) `at` happens on `day` in `tz`.

    A wall-clock time inside a spring-forward gap lands on the real instant
    just after the gap; a repeated one (fold=0) on its first occurrence.
    """
    return datetime.combine(day, at, tzinfo=tz).astimezone(UTC)


def _utc(value: datetime, name: str) -> datetime:
    _require_aware(value, name)
    return value.astimezone(UTC)


@dataclass(frozen=True)
class Rota:
    """A rotation: `engineers[k % n]` is on call from handover k to handover k+1.

    Handover 0 is `start`; handover k is at `handover` local time on the local
    date `period_days * k` days after the start's. `start` must itself fall on
    `weekday` at `handover` (use `first_handover` to find it), so the stored
    fields can never disagree about when handovers are.
    """

    engineers: tuple[str, ...]
    start: datetime
    handover: time
    weekday: int
    period_days: int = 7
    tz: ZoneInfo = field(default_factory=lambda: ZoneInfo("Europe/London"))

    def __post_init__(self) -> None:
        if not self.engineers:
            raise ValueError("a rota needs at least one engineer")
        if any(not name.strip() for name in self.engineers):
            raise ValueError("engineer names must not be empty")
        object.__setattr__(self, "start", _utc(self.start, "start"))
        if not 0 <= self.weekday <= 6:
            raise ValueError(f"weekday must be 0 (Monday) to 6 (Sunday), got {self.weekday}")
        if self.period_days < 1:
            raise ValueError(f"period_days must be at least 1, got {self.period_days}")
        if self.handover.tzinfo is not None:
            raise ValueError("handover is a local wall-clock time; give it without a zone")
        local = self.start.astimezone(self.tz)
        expected = _local_instant(local.date(), self.handover, self.tz)
        if expected != self.start or local.weekday() != self.weekday:
            raise ValueError(
                f"start {local.isoformat()} is not a handover: expected "
                f"{DAY_ABBREVIATIONS[self.weekday]} at {self.handover:%H:%M} in {self.tz.key}"
            )

    def handover_at(self, index: int) -> datetime:
        """The instant (UTC) of handover `index`; 0 is `start`."""
        first = self.start.astimezone(self.tz).date()
        return _local_instant(
            first + timedelta(days=self.period_days * index), self.handover, self.tz
        )


@dataclass(frozen=True)
class Override:
    """`engineer` is on call in [starts_at, ends_at), whatever the rota says.

    Overlapping overrides are allowed (a swap inside a holiday cover); the one
    created last wins, because it is the most recent thing someone asked for.
    """

    engineer: str
    starts_at: datetime
    ends_at: datetime
    created_at: datetime

    def __post_init__(self) -> None:
        object.__setattr__(self, "starts_at", _utc(self.starts_at, "starts_at"))
        object.__setattr__(self, "ends_at", _utc(self.ends_at, "ends_at"))
        object.__setattr__(self, "created_at", _utc(self.created_at, "created_at"))
        if self.ends_at <= self.starts_at:
            raise ValueError("an override must end after it starts")

    def covers(self, at: datetime) -> bool:
        return self.starts_at <= at < self.ends_at


@dataclass(frozen=True)
class Slot:
    """One turn of the rota: who, and from which handover to which."""

    index: int
    engineer: str
    starts_at: datetime
    ends_at: datetime


def first_handover(
    not_before: datetime,
    handover: time,
    weekday: int,
    tz: ZoneInfo,
) -> datetime:
    """The first `weekday` at `handover` local time at or after `not_before`, in UTC.

    Lets an operator say "from the 5th, handover Mondays 09:00" without
    working out the exact first instant; the result is a valid `Rota.start`.
    """
    not_before = _utc(not_before, "not_before")
    local = not_before.astimezone(tz)
    day = local.date() + timedelta(days=(weekday - local.weekday()) % 7)
    candidate = _local_instant(day, handover, tz)
    while candidate < not_before:
        day += timedelta(days=7)
        candidate = _local_instant(day, handover, tz)
    return candidate


def slot_at(rota: Rota, at: datetime) -> Slot | None:
    """The rota's turn in force at `at`, ignoring overrides; None before it starts."""
    at = _utc(at, "at")
    if at < rota.start:
        return None
    days = (at.astimezone(rota.tz).date() - rota.start.astimezone(rota.tz).date()).days
    index = days // rota.period_days
    # The date arithmetic is right to within one slot; settle the edges by instant.
    for _ in range(_MAX_SEARCH_SLOTS):
        if rota.handover_at(index) > at:
            index -= 1
        elif rota.handover_at(index + 1) <= at:
            index += 1
        else:
            break
    return Slot(
        index=index,
        engineer=rota.engineers[index % len(rota.engineers)],
        starts_at=rota.handover_at(index),
        ends_at=rota.handover_at(index + 1),
    )


def override_at(overrides: Sequence[Override], at: datetime) -> Override | None:
    """The override in force at `at`: the latest created of those covering it.

    Equal creation times are settled by position, later in the sequence winning,
    so callers that list overrides in insertion order get insertion order.
    """
    at = _utc(at, "at")
    best: tuple[datetime, int] | None = None
    winner: Override | None = None
    for position, override in enumerate(overrides):
        if override.covers(at) and (best is None or (override.created_at, position) >= best):
            best, winner = (override.created_at, position), override
    return winner


def on_call(rota: Rota | None, overrides: Sequence[Override], at: datetime) -> str | None:
    """Who is on call at `at`: an override if one covers it, else the rota's turn."""
    override = override_at(overrides, at)
    if override is not None:
        return override.engineer
    if rota is None:
        return None
    slot = slot_at(rota, at)
    return slot.engineer if slot is not None else None


def on_call_until(
    rota: Rota | None, overrides: Sequence[Override], at: datetime
) -> datetime | None:
    """When the answer `on_call` gives at `at` next changes; None if it never does.

    Only handovers and override edges can change it, so those are the only
    instants looked at: every override edge after `at`, and handovers until
    a full turn of the rota past the last override.
    """
    current = on_call(rota, overrides, at)
    candidates = {edge for o in overrides for edge in (o.starts_at, o.ends_at) if edge > at}
    if rota is not None:
        horizon = max(candidates, default=at)
        slot = slot_at(rota, at)
        index = slot.index + 1 if slot is not None else 0
        extra = len(rota.engineers)
        while extra > 0:
            instant = rota.handover_at(index)
            candidates.add(instant)
            if instant > horizon:
                extra -= 1
            index += 1
    for instant in sorted(c for c in candidates if c > at):
        if on_call(rota, overrides, instant) != current:
            return instant
    return None


def escalation_chain(rota: Rota | None, overrides: Sequence[Override], at: datetime) -> list[str]:
    """Whom to page, in order: the on-call engineer, then the rota onwards.

    After the on-call engineer come the rota's engineers from the one after
    the current turn, wrapping round, so "next" is whoever takes over at the
    next handover. When an override is covering, the displaced rota engineer
    therefore comes last (they are usually away: that is why there is an
    override). Nobody appears twice. Empty when nobody is on call (before the
    rota starts and with no override), so that "oncall" and `on_call` agree.
    """
    first = on_call(rota, overrides, at)
    if first is None:
        return []
    chain = [first]
    if rota is None:
        return chain
    slot = slot_at(rota, at)
    start = slot.index + 1 if slot is not None else 0
    count = len(rota.engineers)
    for offset in range(count):
        name = rota.engineers[(start + offset) % count]
        if name not in chain:
            chain.append(name)
    return chain


def parse_weekday(text: str) -> int:
    """0 for Monday; accepts the first three letters or the full English name."""
    key = text.strip().lower()
    if key in DAY_ABBREVIATIONS:
        return DAY_ABBREVIATIONS.index(key)
    if key in _DAY_NAMES:
        return _DAY_NAMES.index(key)
    raise ValueError(f"{text!r} is not a weekday (mon, tue, ... sun)")
