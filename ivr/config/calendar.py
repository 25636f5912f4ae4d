"""sip.conf `[hours]` and `[sla]`: core hours and the SLA targets, in text form.

The calendar and the SLA rules are pure (`ivr.sla`); reading them from the
file lives here so that the SLA clock knows nothing of files.
"""

from __future__ import annotations

from datetime import date, time, timedelta
from types import MappingProxyType
from zoneinfo import ZoneInfo

from ivr.config.model import HoursConfig
from ivr.config.source import Invalid, Section
from ivr.config.values import one_of, text
from ivr.domain import AfterHours, Priority
from ivr.paging.rota import DAY_ABBREVIATIONS as DAY_NAMES
from ivr.paging.rota import parse_weekday
from ivr.sla import DEFAULT_SLA_RULES, Clock, SlaRule, SlaRules, Target

_DAYS_EXPECTED = "expected days such as mon-fri, or mon,tue,thu, or sun-thu"


def _time(raw: str) -> time:
    try:
        hours, minutes = raw.split(":")
        return time(int(hours), int(minutes))
    except ValueError:
        raise Invalid(f"expected HH:MM, got {raw!r}") from None


def _show_time(value: time) -> str:
    return value.strftime("%H:%M")


def _day(name: str, raw: str) -> int:
    try:
        return parse_weekday(name)
    except ValueError as exc:
        raise Invalid(f"{exc}; {_DAYS_EXPECTED}, got {raw!r}") from None


def _days(raw: str) -> frozenset[int]:
    """Comma-separated days and ranges of days, e.g. "mon-fri, sun"."""
    days: set[int] = set()
    for item in (part.strip() for part in raw.split(",")):
        if not item:
            continue
        first, dash, last = item.partition("-")
        start = _day(first, raw)
        # A range may run past Sunday: sun-thu is Sunday to Thursday.
        span = (_day(last, raw) - start) % 7 if dash else 0
        days.update((start + step) % 7 for step in range(span + 1))
    if not days:
        raise Invalid(f"{_DAYS_EXPECTED}, got {raw!r}")
    return frozenset(days)


def _show_days(days: frozenset[int]) -> str:
    return ", ".join(DAY_NAMES[day] for day in sorted(days))


def core_hours(section: Section, tz: ZoneInfo) -> HoursConfig:
    """Core hours, checked as a calendar so that a mistake cannot wait for the first call."""
    defaults = HoursConfig()
    hours = HoursConfig(
        open=section.get("open", _show_time(defaults.open), _time, show=_show_time),
        close=section.get("close", _show_time(defaults.close), _time, show=_show_time),
        holidays=section.get("holidays", defaults.holidays, text),
        days=section.get("days", _show_days(defaults.days), _days, show=_show_days),
        after_hours=section.get(
            "after_hours", defaults.after_hours.value, one_of(AfterHours), show=str
        ),
    )
    if not section.ok("open", "close"):
        return defaults
    if hours.close <= hours.open:
        section.problem("close", f"must be after open ({_show_time(hours.open)})")
        return defaults
    try:
        calendar = hours.calendar(tz)
        if hours.holidays == defaults.holidays:
            # Known good (tests/unit/test_sla_config.py builds it), and building
            # any table imports every country the holidays package has, which
            # would cost each CLI command more than its own work.
            return hours
        # The holiday table is built on first use: ask about one working day
        # now, so that an unknown region is refused here and not by every call.
        start = date(2026, 1, 5)  # a Monday
        working = next(start + timedelta(n) for n in range(7) if n in calendar.days)
        calendar.is_business_day(working)
    except ValueError as exc:
        section.problem("holidays", str(exc))
        return defaults
    return hours


_SLA_STAGES = {
    "ack": "acknowledge",
    "acknowledge": "acknowledge",
    "respond": "respond",
    "resolve": "resolve",
}
_SLA_EXPECTED = (
    "expected ack, respond and resolve each with HOURS and core or clock, "
    "e.g. 'ack 5 core, respond 8 core, resolve 40 core' ('resolve none' for no deadline)"
)


def _target(stage: str, words: list[str], item: str) -> Target:
    if len(words) != 3:
        raise Invalid(f"cannot read {item!r}; {_SLA_EXPECTED}")
    try:
        hours = float(words[1])
    except ValueError:
        raise Invalid(f"{stage} hours {words[1]!r} is not a number; {_SLA_EXPECTED}") from None
    try:
        clock = Clock(words[2])
    except ValueError:
        raise Invalid(
            f"{stage} counts {words[2]!r} hours; expected core (business hours only) "
            "or clock (every hour)"
        ) from None
    try:
        return Target(hours, clock)
    except ValueError as exc:
        raise Invalid(f"{stage} {exc}") from None


def _sla_rule(raw: str) -> SlaRule:
    """One priority's rule: all three stages, so that each line reads as the whole rule."""
    targets: dict[str, Target | None] = {}
    for item in (part.strip() for part in raw.replace("\n", ",").split(",")):
        if not item:
            continue
        words = item.lower().split()
        stage = _SLA_STAGES.get(words[0])
        if stage is None:
            raise Invalid(f"unknown stage {words[0]!r} in {item!r}; {_SLA_EXPECTED}")
        if stage in targets:
            raise Invalid(f"{stage} is given twice; {_SLA_EXPECTED}")
        if words[1:] == ["none"]:
            if stage != "resolve":
                raise Invalid(f"{stage} must have a deadline; only resolve may be none")
            targets[stage] = None
        else:
            targets[stage] = _target(stage, words, item)
    missing = [stage for stage in ("acknowledge", "respond", "resolve") if stage not in targets]
    if missing:
        raise Invalid(f"no {' or '.join(missing)} given; {_SLA_EXPECTED}")
    acknowledge, respond = targets["acknowledge"], targets["respond"]
    assert acknowledge is not None and respond is not None  # only resolve may be none
    try:
        return SlaRule(acknowledge=acknowledge, respond=respond, resolve=targets["resolve"])
    except ValueError as exc:
        raise Invalid(str(exc)) from None


def _show_rule(rule: SlaRule) -> str:
    def show(target: Target | None) -> str:
        return "none" if target is None else f"{target.hours:g} {target.clock.value}"

    return (
        f"ack {show(rule.acknowledge)}, respond {show(rule.respond)}, resolve {show(rule.resolve)}"
    )


def sla_rules(section: Section) -> SlaRules:
    """One key per priority; a priority left out keeps the published SLA."""
    return MappingProxyType(
        {
            priority: section.get(
                priority.value,
                _show_rule(DEFAULT_SLA_RULES[priority]),
                _sla_rule,
                show=_show_rule,
            )
            for priority in Priority
        }
    )
