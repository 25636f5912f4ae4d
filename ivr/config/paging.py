"""sip.conf `[paging]`: the escalation policy and how a page call sounds.

The policy itself is pure (`ivr.paging.policy`); its text form lives here so
that the policy knows nothing of files. The ranges are the operator's limits
(a ring of a day is a typo); the policy keeps only its own invariants.
"""

from __future__ import annotations

from collections.abc import Callable

from ivr.addresses import InvalidAddress, check_emails
from ivr.config.model import PageCallConfig
from ivr.config.source import Invalid, Section
from ivr.config.values import boolean, decimal, whole, yes_no
from ivr.domain import Priority
from ivr.paging.policy import Level, Policy, Targets

# WHO:RING:ATTEMPTS:RETRY:WAIT; the defaults are the policy's.
_DEFAULT_LEVEL = Level("oncall")
_FIELDS = (
    ("RING", whole(1, 300, " seconds"), _DEFAULT_LEVEL.ring_seconds),
    ("ATTEMPTS", whole(1, 20), _DEFAULT_LEVEL.attempts),
    ("RETRY", whole(0, 86400, " seconds"), _DEFAULT_LEVEL.retry_delay_seconds),
    ("WAIT", whole(0, 86400, " seconds"), _DEFAULT_LEVEL.wait_before_next_seconds),
)
_LEVEL_FORM = "WHO:RING:ATTEMPTS:RETRY:WAIT"
MAX_LEASE_SECONDS = 86400


def _level(text: str, position: int) -> Level:
    where = f"level {position} ({text!r})"
    who, *numbers = (part.strip() for part in text.split(":"))
    if len(numbers) > len(_FIELDS):
        raise Invalid(f"{where}: expected {_LEVEL_FORM}, got too many fields")
    targets: Targets
    if who in ("oncall", "next"):
        targets = "oncall" if who == "oncall" else "next"
    elif who.startswith("name="):
        targets = tuple(name.strip() for name in who[len("name=") :].split("|"))
        if not all(targets):
            raise Invalid(f"{where}: name= needs engineer names separated by |")
    else:
        raise Invalid(f"{where}: who must be oncall, next or name=NAME|NAME, got {who!r}")
    values = [default for _, _, default in _FIELDS]
    for index, raw in enumerate(numbers):
        name, parse, _ = _FIELDS[index]
        try:
            values[index] = parse(raw)
        except Invalid as exc:
            raise Invalid(f"{where}: {name} {exc}") from None
    return Level(targets, *values)


def _levels(raw: str) -> tuple[Level, ...]:
    """Comma- or newline-separated levels."""
    items = [item.strip() for item in raw.replace("\n", ",").split(",")]
    levels = tuple(_level(item, i + 1) for i, item in enumerate(i for i in items if i))
    if not levels:
        raise Invalid("at least one level is needed")
    return levels


def _show_level(level: Level) -> str:
    who = level.targets if isinstance(level.targets, str) else "name=" + "|".join(level.targets)
    numbers = (
        level.ring_seconds,
        level.attempts,
        level.retry_delay_seconds,
        level.wait_before_next_seconds,
    )
    return ":".join((who, *map(str, numbers)))


def _priorities(raw: str) -> frozenset[str]:
    names = {p.strip().lower() for p in raw.split(",") if p.strip()}
    names.discard("none")  # "none" turns paging off without deleting the levels
    known = [p.value for p in Priority]
    unknown = names - set(known)
    if unknown:
        raise Invalid(f"unknown {', '.join(sorted(unknown))} (choose from {', '.join(known)})")
    return frozenset(names)


def _show_priorities(priorities: frozenset[str]) -> str:
    return ", ".join(p.value for p in Priority if p.value in priorities) or "none"


def _minutes(low: float, high: float) -> Callable[[str], float]:
    """Minutes in the file, seconds in the policy; fractions allowed (tests use seconds)."""
    parse = decimal(low, high, " minutes")
    return lambda raw: parse(raw) * 60


def _show_minutes(seconds: float) -> str:
    return f"{seconds / 60:g}"


def _addresses(raw: str) -> tuple[str, ...]:
    try:
        return tuple(check_emails(a for a in raw.replace("\n", ",").split(",") if a.strip()))
    except InvalidAddress as exc:
        raise Invalid(str(exc)) from None


def paging_policy(section: Section) -> Policy:
    """Who is called, in what order and how often, when a fault pages."""
    defaults = Policy()
    return Policy(
        levels=section.get(
            "levels",
            ", ".join(map(_show_level, defaults.levels)),
            _levels,
            show=lambda levels: ", ".join(map(_show_level, levels)),
        ),
        repeats=section.get("repeats", str(defaults.repeats), whole(1, 20)),
        priorities=section.get(
            "priorities",
            _show_priorities(defaults.priorities),
            _priorities,
            show=_show_priorities,
        ),
        ack_timeout=section.get("ack_timeout", yes_no(defaults.ack_timeout), boolean),
        retry_failed_seconds=section.get(
            "retry_failed_minutes",
            _show_minutes(defaults.retry_failed_seconds),
            _minutes(0.01, 1440),
            show=_show_minutes,
        ),
        give_up_after_seconds=section.get(
            "give_up_after_minutes",
            _show_minutes(defaults.give_up_after_seconds),
            _minutes(0, 10080),
            show=_show_minutes,
        ),
        reminder_lead_seconds=section.get(
            "reminder_lead_minutes",
            _show_minutes(defaults.reminder_lead_seconds),
            _minutes(0, 1440),
            show=_show_minutes,
        ),
        failed_notify=section.get("failed_notify", "", _addresses, show=", ".join),
    )


def page_call(section: Section, policy: Policy) -> PageCallConfig:
    """How a page call sounds, and how long a node holds a page while it calls."""
    longest_ring = max(level.ring_seconds for level in policy.levels)
    lease_seconds = section.get("lease_seconds", "", _lease(longest_ring))
    return PageCallConfig(
        message_plays=section.get("message_plays", "3", whole(1, 20)),
        key_timeout=section.get("key_timeout", "5", decimal(1, 120, " seconds")),
        lease_seconds=lease_seconds,
        callback=section.get("callback", "yes", boolean),
    )


def _lease(longest_ring: int) -> Callable[[str], float | None]:
    def parse(raw: str) -> float | None:
        if not raw:
            return None  # the scheduler's default: the longest ring plus a margin
        seconds = decimal(1, MAX_LEASE_SECONDS, " seconds")(raw)
        if seconds <= longest_ring:
            raise Invalid(
                f"must be longer than the longest ring ({longest_ring} s), or another node "
                "takes a page over while its phone still rings"
            )
        return seconds

    return parse
