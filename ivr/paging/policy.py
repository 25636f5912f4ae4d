"""The escalation policy and the state machine that walks it.

A page is a position in the policy, a `Step` (repeat, level, attempt), and
each call attempt ends with an `AttemptResult`. `after(policy, step, result)`
is the whole rule book: it says whether the page is acknowledged, which step
comes next and how long to wait for it, or that everyone has been tried.
It is pure so that the scheduler, the restart recovery and the tests apply
exactly the same rules; the dialer and the database sit outside it.

Steps only ever move forward, which is what lets the store guarantee that
no step is dialled twice: a step that was interrupted is finished as
`INTERRUPTED` and the page moves on, rather than being tried again.
"""

from __future__ import annotations

import enum
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Literal, TypeAlias

from ivr.domain import Priority

TargetKind: TypeAlias = Literal["oncall", "next"]
Targets: TypeAlias = TargetKind | tuple[str, ...]

# Field defaults for a level written with fewer fields: WHO[:RING[:ATTEMPTS[:RETRY[:WAIT]]]].
DEFAULT_RING_SECONDS = 30
DEFAULT_ATTEMPTS = 2
DEFAULT_RETRY_DELAY_SECONDS = 60
DEFAULT_WAIT_BEFORE_NEXT_SECONDS = 0

# When paging has run out: start again from level 1 this often, for as long
# as the acknowledge deadline is no more than this far behind.
DEFAULT_RETRY_FAILED_SECONDS = 600.0
DEFAULT_GIVE_UP_AFTER_SECONDS = 3600.0
# The acknowledgement reminder rings this long before the response deadline.
DEFAULT_REMINDER_LEAD_SECONDS = 900.0


class AttemptResult(enum.Enum):
    """How one call to one engineer ended. Only a key press acknowledges."""

    ACKNOWLEDGED = "acknowledged"  # pressed 1
    PASSED = "passed"  # pressed 2: hand it to the next level at once
    BUSY = "busy"  # 486 Busy Here / 600 Busy Everywhere
    NO_ANSWER = "no_answer"  # rang out; we sent CANCEL
    REJECTED = "rejected"  # 603 Decline or another 4xx-6xx final response
    FAILED = "failed"  # network or transport failure, or nobody to call
    NO_KEY = "no_key"  # answered, message repeated, no key (likely voicemail)
    HUNG_UP = "hung_up"  # answered, hung up without a key
    INTERRUPTED = "interrupted"  # the service died mid-attempt
    STOPPED = "stopped"  # the page was stopped during the call (no longer critical): we hung up


@dataclass(frozen=True)
class Level:
    """One rung of the escalation ladder: whom to call and how persistently.

    `targets` is "oncall" (the rota's current engineer, or an override),
    "next" (the one after them in the rota) or a tuple of engineer names.
    """

    targets: Targets
    ring_seconds: int = DEFAULT_RING_SECONDS
    attempts: int = DEFAULT_ATTEMPTS
    retry_delay_seconds: int = DEFAULT_RETRY_DELAY_SECONDS
    wait_before_next_seconds: int = DEFAULT_WAIT_BEFORE_NEXT_SECONDS

    def __post_init__(self) -> None:
        if isinstance(self.targets, tuple):
            if not self.targets or any(not name.strip() for name in self.targets):
                raise ValueError("a level naming engineers needs at least one non-empty name")
        elif self.targets not in ("oncall", "next"):
            raise ValueError(f"level targets must be 'oncall', 'next' or names: {self.targets!r}")
        if self.ring_seconds < 1:
            raise ValueError("ring_seconds must be at least 1")
        if self.attempts < 1:
            raise ValueError("attempts must be at least 1")
        if self.retry_delay_seconds < 0 or self.wait_before_next_seconds < 0:
            raise ValueError("delays must not be negative")


def _default_levels() -> tuple[Level, ...]:
    return (Level("oncall"), Level("next"))


@dataclass(frozen=True)
class Policy:
    """The levels in order, walked `repeats` times in all before giving up.

    `priorities` are the fault priorities that page at all. `ack_timeout`
    asks for the acknowledger to be paged again when an acknowledged fault
    is still not responded to `reminder_lead_seconds` before its response
    deadline. An alert nobody acknowledged starts again from level 1 every
    `retry_failed_seconds` while the SLA can still be kept (`when_exhausted`),
    and `failed_notify` are told each time it fails.
    """

    levels: tuple[Level, ...] = field(default_factory=_default_levels)
    repeats: int = 2
    priorities: frozenset[str] = frozenset({Priority.CRITICAL.value})
    ack_timeout: bool = True
    retry_failed_seconds: float = DEFAULT_RETRY_FAILED_SECONDS
    give_up_after_seconds: float = DEFAULT_GIVE_UP_AFTER_SECONDS
    reminder_lead_seconds: float = DEFAULT_REMINDER_LEAD_SECONDS
    failed_notify: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if not self.levels:
            raise ValueError("a policy needs at least one level")
        if self.repeats < 1:
            raise ValueError("repeats must be at least 1")
        known = {p.value for p in Priority}
        unknown = set(self.priorities) - known
        if unknown:
            raise ValueError(f"unknown priorities: {', '.join(sorted(unknown))}")
        if self.retry_failed_seconds <= 0:
            raise ValueError("retry_failed_seconds must be positive")
        if self.give_up_after_seconds < 0 or self.reminder_lead_seconds < 0:
            raise ValueError("give_up_after_seconds and reminder_lead_seconds must not be negative")

    def pages(self, priority: str) -> bool:
        """Whether a fault of this priority pages anyone."""
        return priority in self.priorities

    def contains(self, step: Step) -> bool:
        """Whether `step` is a position in this policy (a stored page may predate a change)."""
        return (
            0 <= step.repeat < self.repeats
            and 0 <= step.level < len(self.levels)
            and 0 <= step.attempt < self.levels[step.level].attempts
        )


@dataclass(frozen=True, order=True)
class Step:
    """A position in the policy, all counted from 0; orders as the walk does."""

    repeat: int
    level: int
    attempt: int


# ---- decisions ----------------------------------------------------------------


@dataclass(frozen=True)
class Acknowledged:
    """An engineer pressed 1: stop paging."""


@dataclass(frozen=True)
class Next:
    """Carry out `step` after `delay_seconds`."""

    step: Step
    delay_seconds: int


@dataclass(frozen=True)
class Exhausted:
    """Every level of every repeat failed: nobody is on it, say so loudly."""


Decision: TypeAlias = Acknowledged | Next | Exhausted


def first_step(policy: Policy) -> Step:
    return Step(0, 0, 0)


def _next_level(policy: Policy, step: Step, delay: int) -> Decision:
    if step.level + 1 < len(policy.levels):
        return Next(Step(step.repeat, step.level + 1, 0), delay)
    if step.repeat + 1 < policy.repeats:
        return Next(Step(step.repeat + 1, 0, 0), delay)
    return Exhausted()


def after(policy: Policy, step: Step, result: AttemptResult) -> Decision:
    """What happens after the attempt at `step` ended with `result`.

    Raises ValueError for a step that is not in the policy: guessing where a
    page stands could call someone twice or skip someone.
    """
    if not policy.contains(step):
        raise ValueError(f"{step} is not a step of this policy")
    if result is AttemptResult.ACKNOWLEDGED:
        return Acknowledged()
    if result is AttemptResult.PASSED:
        return _next_level(policy, step, 0)
    level = policy.levels[step.level]
    if step.attempt + 1 < level.attempts:
        return Next(Step(step.repeat, step.level, step.attempt + 1), level.retry_delay_seconds)
    return _next_level(policy, step, level.wait_before_next_seconds)


# ---- when paging has run out ----------------------------------------------------


@dataclass(frozen=True)
class PagingExhausted:
    """Event: every level of every repeat of a page failed.

    `restart` counts the restarts before this page (0: the first page);
    `acknowledge_by` is the latest acknowledge deadline among the faults it
    still pages for (None: none owes one).
    """

    page_id: int
    reminder: bool
    restart: int
    acknowledge_by: datetime | None


@dataclass(frozen=True)
class NotifyPagingFailed:
    """Command: tell `recipients` (`[paging] failed_notify`) that nobody answered `page_id`.

    The one hook for the e-mail to people who can act when paging fails:
    the store queues it in the outbox with the failure.
    """

    page_id: int
    recipients: tuple[str, ...]
    restart_at: datetime | None


@dataclass(frozen=True)
class RestartPaging:
    """Command: page again from level 1 at `at`, as restart number `restart`."""

    at: datetime
    restart: int


@dataclass(frozen=True)
class GiveUpPaging:
    """Command: stop restarting; the SLA can no longer be kept by paging. `why` is for people."""

    why: str


ExhaustedCommand: TypeAlias = NotifyPagingFailed | RestartPaging | GiveUpPaging


def _give_up_at(policy: Policy, acknowledge_by: datetime) -> datetime:
    return acknowledge_by + timedelta(seconds=policy.give_up_after_seconds)


def when_exhausted(
    policy: Policy, event: PagingExhausted, now: datetime
) -> tuple[ExhaustedCommand, ...]:
    """What to do when a page has run out: tell people, and restart it or give up.

    An alert restarts from level 1 `retry_failed_seconds` from now, unless
    that is later than the acknowledge deadline plus `give_up_after_seconds`.
    A reminder never restarts: its faults were acknowledged, and the fault
    list shows them page_failed.
    """
    if event.reminder:
        return (NotifyPagingFailed(event.page_id, policy.failed_notify, None),)
    at = now + timedelta(seconds=policy.retry_failed_seconds)
    if event.acknowledge_by is None:
        outcome: ExhaustedCommand = GiveUpPaging("no fault on it owes an acknowledgement")
    elif at > _give_up_at(policy, event.acknowledge_by):
        outcome = GiveUpPaging(_late(policy, event.acknowledge_by))
    else:
        outcome = RestartPaging(at, event.restart + 1)
    restart_at = outcome.at if isinstance(outcome, RestartPaging) else None
    return (NotifyPagingFailed(event.page_id, policy.failed_notify, restart_at), outcome)


def restart_still_due(policy: Policy, acknowledge_by: datetime | None, now: datetime) -> str | None:
    """Why a restart due now should not ring (None: ring).

    A restart waits in the database; if the service was down past the
    give-up time, it is not dialled late.
    """
    if acknowledge_by is None:
        return "no fault on it owes an acknowledgement"
    if now > _give_up_at(policy, acknowledge_by):
        return _late(policy, acknowledge_by)
    return None


def _late(policy: Policy, acknowledge_by: datetime) -> str:
    minutes = policy.give_up_after_seconds / 60
    return (
        f"the acknowledge deadline ({acknowledge_by.isoformat(timespec='minutes')}) "
        f"is {minutes:g} minutes past"
    )


def reminder_due(policy: Policy, respond_by: datetime, now: datetime) -> datetime | None:
    """When the acknowledgement reminder rings: `reminder_lead_seconds` before the
    response deadline; None when that moment has already come (the engineer
    has just acknowledged with less than the lead left, and heard the page)."""
    due = respond_by - timedelta(seconds=policy.reminder_lead_seconds)
    return due if due > now else None


def target_for(level: Level, chain: Sequence[str], attempt: int = 0) -> str | None:
    """The engineer to call for this level, or None if there is nobody.

    `chain` is the escalation chain at the moment of calling (on-call first).
    A level naming several engineers calls them in turn, one per attempt.
    """
    if level.targets == "oncall":
        return chain[0] if chain else None
    if level.targets == "next":
        return chain[1] if len(chain) > 1 else None
    names = level.targets
    return names[attempt % len(names)]


def who_can_be_paged(
    policy: Policy, chain: Sequence[str], active: Collection[str]
) -> tuple[str, ...]:
    """Everyone the policy would ring now, in the order it would, who can answer.

    `chain` is the escalation chain now (on-call first) and `active` the
    engineers who exist and are active. Empty means a page would ring
    nobody: an alarm for the operators, not a silence.
    """
    names: list[str] = []
    for level in policy.levels:
        tries = len(level.targets) if isinstance(level.targets, tuple) else 1
        for attempt in range(tries):
            name = target_for(level, chain, attempt)
            if name is not None and name in active and name not in names:
                names.append(name)
    return tuple(names)
