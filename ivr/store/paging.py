"""Engineers, the on-call rota and pages, stored; plain functions taking a session.

The rules live in `ivr.paging.rota` and `ivr.paging.policy`; this module
only loads their inputs and records their decisions, so that a page outlives
the process carrying it out. The caller owns every transaction, and the
order of commits is the restart guarantee:

1. `claim_due_pages` leases due pages to one scheduler (commit);
2. `begin_attempt` records that a step has started (commit) *before* dialling;
3. after the call, `finish_attempt` and `advance` (one commit).

A crash between 2 and 3 leaves an attempt with no end; `recover_interrupted`
finishes it as INTERRUPTED and moves the page on by exactly one step. The
unique (page, step) constraint makes "the same step dialled twice" a
database error rather than a hope.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from typing import Any, cast
from zoneinfo import ZoneInfo

from sqlalchemy import (
    JSON,
    CursorResult,
    ForeignKey,
    Index,
    String,
    UniqueConstraint,
    case,
    delete,
    or_,
    select,
    update,
)
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, Session, mapped_column, relationship, selectinload

from ivr.callers import InvalidNumber, normalise_number
from ivr.names import ENGINEER_NAME_MAX, InvalidName, check_name
from ivr.paging.policy import (
    Acknowledged,
    AttemptResult,
    Decision,
    Exhausted,
    Next,
    Policy,
    Step,
    after,
    target_for,
)
from ivr.paging.rota import (
    Override,
    Rota,
    escalation_chain,
    on_call,
    on_call_until,
    override_at,
)
from ivr.store.models import Base, Fault, UtcDateTime, utcnow

log = logging.getLogger(__name__)

ACTIVE = "active"
ACKNOWLEDGED = "acknowledged"
FAILED = "failed"
CANCELLED = "cancelled"

# What a page is for. An alert is opened when a fault is reported; a
# reminder is opened when an alert is acknowledged, due at the faults'
# response deadline, and rings the engineer who acknowledged (its `target`)
# before walking the rest of the policy: an acknowledgement timeout.
ALERT = "alert"
REMINDER = "reminder"

FAULT_PAGE_FAILED = "page_failed"

# Characters that would make a name ambiguous in sip.conf `name=A|B` levels.
_NAME_FORBIDDEN = re.compile(r"[|,:;#\n\r\t]")
_SIP_URI = re.compile(
    r"^sips?:(?:[^@\s;?]+@)?(?:[A-Za-z0-9](?:[A-Za-z0-9.\-]*[A-Za-z0-9])?|\[[0-9A-Fa-f:.]+\])"
    r"(?::\d{1,5})?(?:;\S*)?$",
    re.IGNORECASE,
)


class PagingError(ValueError):
    """A paging request cannot be carried out; the message says why."""


class StepAlreadyAttempted(PagingError):
    """This step of this page has been started before: dialling it again would double-call."""


class LeaseLost(PagingError):
    """The page is no longer leased to this scheduler; another one may be on it."""


# ---- models -------------------------------------------------------------------


class Engineer(Base):
    """Someone who can be paged, and where to ring them."""

    __tablename__ = "engineers"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    contact: Mapped[str] = mapped_column(String(255))  # sip:/sips: URI or E.164
    active: Mapped[bool] = mapped_column(default=True)
    added_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)


class RotaConfig(Base):
    """One version of the rota; the newest row is in force, older ones are history."""

    __tablename__ = "rota_configs"

    id: Mapped[int] = mapped_column(primary_key=True)
    engineers: Mapped[list[str]] = mapped_column(JSON)
    starts_at: Mapped[datetime] = mapped_column(UtcDateTime)
    handover: Mapped[str] = mapped_column(String(5))  # HH:MM local
    weekday: Mapped[int] = mapped_column()  # 0 = Monday
    period_days: Mapped[int] = mapped_column(default=7)
    timezone: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)

    def to_rota(self) -> Rota:
        return Rota(
            engineers=tuple(self.engineers),
            start=self.starts_at,
            handover=time.fromisoformat(self.handover),
            weekday=self.weekday,
            period_days=self.period_days,
            tz=ZoneInfo(self.timezone),
        )


class OnCallOverride(Base):
    """A holiday cover or swap: this engineer is on call in [starts_at, ends_at)."""

    __tablename__ = "oncall_overrides"
    __table_args__ = (Index("ix_oncall_overrides_span", "starts_at", "ends_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    engineer_id: Mapped[int] = mapped_column(ForeignKey("engineers.id", ondelete="CASCADE"))
    starts_at: Mapped[datetime] = mapped_column(UtcDateTime)
    ends_at: Mapped[datetime] = mapped_column(UtcDateTime)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)

    engineer: Mapped[Engineer] = relationship(lazy="joined")


class PageFault(Base):
    """A fault a page is about; a second report from the same customer joins the page."""

    __tablename__ = "page_faults"

    page_id: Mapped[int] = mapped_column(ForeignKey("pages.id"), primary_key=True)
    fault_id: Mapped[int] = mapped_column(ForeignKey("faults.id"), primary_key=True, index=True)
    joined_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)


class Page(Base):
    """Paging for one fault (and any joined to it): where in the policy, and when next."""

    __tablename__ = "pages"
    __table_args__ = (Index("ix_pages_status_next_action_at", "status", "next_action_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    fault_id: Mapped[int] = mapped_column(ForeignKey("faults.id"), index=True)
    kind: Mapped[str] = mapped_column(String(10), default=ALERT, server_default=ALERT)
    # The engineer a reminder rings first: whoever acknowledged the alert.
    target: Mapped[str | None] = mapped_column(String(100))
    status: Mapped[str] = mapped_column(String(12), default=ACTIVE)
    repeat: Mapped[int] = mapped_column(default=0)
    level: Mapped[int] = mapped_column(default=0)
    attempt: Mapped[int] = mapped_column(default=0)
    next_action_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    acknowledged_by: Mapped[str | None] = mapped_column(String(100))
    acknowledged_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    ended_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    lease_owner: Mapped[str | None] = mapped_column(String(100))
    lease_until: Mapped[datetime | None] = mapped_column(UtcDateTime)

    fault: Mapped[Fault] = relationship()
    faults: Mapped[list[Fault]] = relationship(
        secondary="page_faults", order_by=Fault.id, viewonly=True
    )
    attempts: Mapped[list[PageAttempt]] = relationship(
        back_populates="page", order_by="PageAttempt.id"
    )

    @property
    def step(self) -> Step:
        return Step(self.repeat, self.level, self.attempt)


class PageAttempt(Base):
    """One call for one step of a page; the row exists before the phone rings."""

    __tablename__ = "page_attempts"
    __table_args__ = (
        UniqueConstraint("page_id", "repeat", "level", "attempt", name="uq_page_attempts_step"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    page_id: Mapped[int] = mapped_column(ForeignKey("pages.id"), index=True)
    repeat: Mapped[int] = mapped_column()
    level: Mapped[int] = mapped_column()
    attempt: Mapped[int] = mapped_column()
    engineer_id: Mapped[int | None] = mapped_column(ForeignKey("engineers.id", ondelete="SET NULL"))
    # Copied, so the log still reads right after an engineer is removed.
    engineer_name: Mapped[str | None] = mapped_column(String(100))
    contact: Mapped[str | None] = mapped_column(String(255))
    started_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    ended_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    result: Mapped[str | None] = mapped_column(String(16))
    sip_status: Mapped[int | None] = mapped_column()
    detail: Mapped[str] = mapped_column(String(255), default="")

    page: Mapped[Page] = relationship(back_populates="attempts")

    @property
    def step(self) -> Step:
        return Step(self.repeat, self.level, self.attempt)

    @property
    def dialable(self) -> bool:
        """False when there was nobody to call: the attempt is already finished as FAILED."""
        return self.ended_at is None and self.contact is not None


# ---- engineers ----------------------------------------------------------------


def normalise_contact(text: str) -> str:
    """A sip:/sips: URI as given (checked), or a telephone number as E.164.

    URIs are kept verbatim because the host part says where to send the call;
    numbers are normalised so the same phone is recognised however typed.
    """
    value = text.strip()
    if value.lower().startswith(("sip:", "sips:")):
        if not _SIP_URI.match(value):
            raise PagingError(f"{text!r} is not a SIP URI (expected sip:user@host)")
        return value
    try:
        return normalise_number(value)
    except InvalidNumber as exc:
        raise PagingError(f"contact {exc}; give a sip: URI or a telephone number") from None


def _check_name(name: str) -> str:
    try:
        name = check_name(name, "an engineer name", ENGINEER_NAME_MAX)
    except InvalidName as exc:
        raise PagingError(str(exc)) from None
    if _NAME_FORBIDDEN.search(name):
        raise PagingError(f"{name!r}: names may not contain | , : ; # or line breaks")
    return name


def find_engineer(session: Session, name: str) -> Engineer | None:
    return session.scalar(select(Engineer).where(Engineer.name == name.strip()))


def _engineer(session: Session, name: str) -> Engineer:
    engineer = find_engineer(session, name)
    if engineer is None:
        raise PagingError(f"no engineer called {name.strip()!r} (see ivr engineers list)")
    return engineer


def add_engineer(session: Session, name: str, contact: str) -> Engineer:
    name = _check_name(name)
    normalised = normalise_contact(contact)
    if find_engineer(session, name) is not None:
        raise PagingError(f"an engineer called {name!r} already exists")
    engineer = Engineer(name=name, contact=normalised)
    session.add(engineer)
    session.flush()
    return engineer


def list_engineers(session: Session) -> list[Engineer]:
    return list(session.scalars(select(Engineer).order_by(Engineer.name)))


def remove_engineer(session: Session, name: str) -> Engineer:
    """Remove an engineer and their overrides; past attempts keep their name.

    Refused while the rota names them: silently shortening the rota would
    shift everyone else's weeks.
    """
    engineer = _engineer(session, name)
    rota = current_rota(session)
    if rota is not None and engineer.name in rota.engineers:
        raise PagingError(f"{engineer.name} is in the rota; set a rota without them first")
    session.execute(delete(OnCallOverride).where(OnCallOverride.engineer_id == engineer.id))
    session.delete(engineer)
    session.flush()
    return engineer


# ---- rota and overrides -------------------------------------------------------------


def set_rota(session: Session, rota: Rota, now: datetime | None = None) -> RotaConfig:
    """Store a new rota version; every engineer in it must exist and be active."""
    for name in rota.engineers:
        if not _engineer(session, name).active:
            raise PagingError(f"{name} is not active")
    row = RotaConfig(
        engineers=list(rota.engineers),
        starts_at=rota.start,
        handover=f"{rota.handover:%H:%M}",
        weekday=rota.weekday,
        period_days=rota.period_days,
        timezone=rota.tz.key,
        created_at=now or utcnow(),
    )
    session.add(row)
    session.flush()
    return row


def current_rota(session: Session) -> Rota | None:
    row = session.scalar(select(RotaConfig).order_by(RotaConfig.id.desc()).limit(1))
    return row.to_rota() if row is not None else None


def add_override(
    session: Session,
    engineer_name: str,
    starts_at: datetime,
    ends_at: datetime,
    now: datetime | None = None,
) -> OnCallOverride:
    engineer = _engineer(session, engineer_name)
    try:
        # Validated by the pure type so the rules are stated once.
        Override(engineer.name, starts_at, ends_at, now or utcnow())
    except ValueError as exc:
        raise PagingError(str(exc)) from None
    row = OnCallOverride(
        engineer_id=engineer.id, starts_at=starts_at, ends_at=ends_at, created_at=now or utcnow()
    )
    session.add(row)
    session.flush()
    return row


def list_overrides(
    session: Session, *, ending_after: datetime | None = None
) -> list[OnCallOverride]:
    query = select(OnCallOverride).order_by(OnCallOverride.starts_at, OnCallOverride.id)
    if ending_after is not None:
        query = query.where(OnCallOverride.ends_at > ending_after)
    return list(session.scalars(query))


def overrides_at(session: Session, at: datetime) -> list[Override]:
    """The overrides covering `at`, oldest first, as the pure rota functions take them."""
    rows = session.scalars(
        select(OnCallOverride)
        .where(OnCallOverride.starts_at <= at, OnCallOverride.ends_at > at)
        .order_by(OnCallOverride.id)
    )
    return [Override(r.engineer.name, r.starts_at, r.ends_at, r.created_at) for r in rows]


def on_call_at(session: Session, at: datetime) -> str | None:
    return on_call(current_rota(session), overrides_at(session, at), at)


def chain_at(session: Session, at: datetime) -> list[str]:
    return escalation_chain(current_rota(session), overrides_at(session, at), at)


@dataclass(frozen=True)
class OnCallAnswer:
    """Who is on call at an instant, why, until when, and who comes after them."""

    at: datetime
    engineer: str | None
    source: str | None  # "override", "rota", or None when nobody is
    until: datetime | None  # when the answer next changes, if it ever does
    chain: tuple[str, ...]


def who_is_on_call(session: Session, at: datetime) -> OnCallAnswer:
    rota = current_rota(session)
    rows = session.scalars(
        select(OnCallOverride).where(OnCallOverride.ends_at > at).order_by(OnCallOverride.id)
    )
    overrides = [Override(r.engineer.name, r.starts_at, r.ends_at, r.created_at) for r in rows]
    engineer = on_call(rota, overrides, at)
    if override_at(overrides, at) is not None:
        source: str | None = "override"
    else:
        source = "rota" if engineer is not None else None
    return OnCallAnswer(
        at=at,
        engineer=engineer,
        source=source,
        until=on_call_until(rota, overrides, at),
        chain=tuple(escalation_chain(rota, overrides, at)),
    )


# ---- pages ----------------------------------------------------------------------


def _active_page_for(session: Session, fault: Fault) -> Page | None:
    return session.scalar(
        select(Page)
        .join(PageFault, PageFault.page_id == Page.id)
        .where(PageFault.fault_id == fault.id, Page.status == ACTIVE, Page.kind == ALERT)
    )


def open_page(session: Session, fault: Fault, now: datetime) -> Page:
    """Start paging for a fault, due now; or join the customer's page already running.

    Idempotent for the same fault, so the service may retry after an error
    without paging twice. A second fault from the same customer while their
    first is still being paged joins that page: one engineer, both references.
    (Never a reminder, which may be hours away: a new fault is paged now.)
    Whether the fault's priority pages at all is the caller's decision
    (`Policy.pages`).
    """
    if fault.id is None:
        session.flush()
    existing = _active_page_for(session, fault)
    if existing is not None:
        return existing
    if fault.customer:
        running = session.scalar(
            select(Page)
            .join(PageFault, PageFault.page_id == Page.id)
            .join(Fault, Fault.id == PageFault.fault_id)
            .where(Page.status == ACTIVE, Page.kind == ALERT, Fault.customer == fault.customer)
            .order_by(Page.id)
            .limit(1)
        )
        if running is not None:
            session.add(PageFault(page_id=running.id, fault_id=fault.id, joined_at=now))
            session.flush()
            session.expire(running, ["faults"])
            return running
    page = Page(fault_id=fault.id, status=ACTIVE, next_action_at=now, created_at=now)
    session.add(page)
    session.flush()
    session.add(PageFault(page_id=page.id, fault_id=fault.id, joined_at=now))
    session.flush()
    return page


def _dialect(session: Session) -> str:
    return session.get_bind().dialect.name


def _lease_free(now: datetime) -> Any:
    return or_(Page.lease_until.is_(None), Page.lease_until <= now)


def _moot(page: Page) -> bool:
    """Nothing is left to page for: an alert's faults were all acknowledged some
    other way (the CLI, the web page), a reminder's were all responded to."""
    if not page.faults:
        return False
    if page.kind == REMINDER:
        return all(f.responded_at is not None or f.resolved_at is not None for f in page.faults)
    return all(f.acknowledged_at is not None for f in page.faults)


def claim_due_pages(
    session: Session, now: datetime, owner: str, lease_seconds: float, limit: int = 100
) -> list[Page]:
    """Lease the pages whose next step is due and that nobody else holds.

    The lease is taken with a conditional UPDATE, so two schedulers can never
    both win a page, on SQLite as on PostgreSQL (where SKIP LOCKED also keeps
    them from queueing behind each other). `lease_seconds` must outlast the
    longest call (ring plus message), or another scheduler may take the page
    over mid-call. Pages whose faults were all acknowledged some other way
    are cancelled here instead of being returned.
    """
    candidates = (
        select(Page.id)
        .where(Page.status == ACTIVE, Page.next_action_at <= now, _lease_free(now))
        .order_by(Page.next_action_at, Page.id)
        .limit(limit)
    )
    if _dialect(session) == "postgresql":
        candidates = candidates.with_for_update(skip_locked=True)
    until = now + timedelta(seconds=lease_seconds)
    claimed: list[int] = []
    for page_id in list(session.scalars(candidates)):
        result = cast(
            "CursorResult[Any]",
            session.execute(
                update(Page)
                .where(Page.id == page_id, Page.status == ACTIVE, _lease_free(now))
                .values(lease_owner=owner, lease_until=until)
                .execution_options(synchronize_session=False)
            ),
        )
        if result.rowcount == 1:
            claimed.append(page_id)
    if not claimed:
        return []
    pages = session.scalars(
        select(Page)
        .where(Page.id.in_(claimed))
        .options(selectinload(Page.faults))
        .order_by(Page.next_action_at, Page.id)
        .execution_options(populate_existing=True)
    ).all()
    due: list[Page] = []
    for page in pages:
        if _moot(page):
            cancel_page(session, page, now)
        else:
            due.append(page)
    return due


def renew_lease(
    session: Session, page: Page, owner: str, now: datetime, lease_seconds: float
) -> None:
    """Extend this scheduler's hold on a page, e.g. before a long call."""
    _check_lease(page, owner, now)
    page.lease_until = now + timedelta(seconds=lease_seconds)
    session.flush()


def _check_lease(page: Page, owner: str, now: datetime) -> None:
    if page.lease_owner != owner or page.lease_until is None or page.lease_until <= now:
        raise LeaseLost(f"page {page.id} is not leased to {owner}")


def _attempt_at(session: Session, page: Page, step: Step) -> PageAttempt | None:
    return session.scalar(
        select(PageAttempt).where(
            PageAttempt.page_id == page.id,
            PageAttempt.repeat == step.repeat,
            PageAttempt.level == step.level,
            PageAttempt.attempt == step.attempt,
        )
    )


def begin_attempt(
    session: Session, page: Page, policy: Policy, now: datetime, *, owner: str | None = None
) -> PageAttempt:
    """Record that the page's current step is starting, and whom it calls.

    Commit this before dialling: the row is what stops a restarted service
    from dialling the same step again. The engineer is resolved now, from the
    rota at this moment. When there is nobody to call (no rota, no "next"
    engineer, an unknown or inactive name) the attempt is recorded already
    finished as FAILED, with the reason in `detail`; `dialable` is then
    False and the caller goes straight to `after` and `advance`.
    """
    if page.status != ACTIVE:
        raise PagingError(f"page {page.id} is {page.status}, not active")
    if owner is not None:
        _check_lease(page, owner, now)
    step = page.step
    if not policy.contains(step):
        raise PagingError(f"page {page.id} is at {step}, which the [paging] policy no longer has")
    if _attempt_at(session, page, step) is not None:
        raise StepAlreadyAttempted(f"page {page.id} has already attempted {step}")
    level = policy.levels[step.level]
    if page.kind == REMINDER and page.target and step.repeat == 0 and step.level == 0:
        name: str | None = page.target  # who acknowledged is asked first, then the policy
    else:
        name = target_for(level, chain_at(session, now), step.attempt)
    attempt = PageAttempt(
        page_id=page.id,
        repeat=step.repeat,
        level=step.level,
        attempt=step.attempt,
        engineer_name=name,
        started_at=now,
        detail="",
    )
    engineer = find_engineer(session, name) if name is not None else None
    if engineer is not None and engineer.active:
        attempt.engineer_id = engineer.id
        attempt.contact = engineer.contact
    else:
        if name is None:
            why = f"nobody to call for level {step.level + 1} ({_describe(level.targets)})"
        elif engineer is None:
            why = f"no engineer called {name!r}"
        else:
            why = f"{name} is not active"
        attempt.ended_at = now
        attempt.result = AttemptResult.FAILED.value
        attempt.detail = why
    session.add(attempt)
    try:
        session.flush()
    except IntegrityError:
        raise StepAlreadyAttempted(f"page {page.id} has already attempted {step}") from None
    return attempt


def _describe(targets: object) -> str:
    return "|".join(targets) if isinstance(targets, tuple) else str(targets)


def finish_attempt(
    session: Session,
    attempt: PageAttempt,
    result: AttemptResult,
    now: datetime,
    *,
    sip_status: int | None = None,
    detail: str | None = None,
) -> PageAttempt:
    """Record how the call ended; an attempt ends once, so a late second report is refused."""
    if attempt.ended_at is not None:
        raise PagingError(f"attempt {attempt.id} already ended as {attempt.result}")
    attempt.ended_at = now
    attempt.result = result.value
    attempt.sip_status = sip_status
    if detail is not None:
        attempt.detail = detail[:255]
    session.flush()
    return attempt


def _close(page: Page, status: str, now: datetime) -> None:
    page.status = status
    page.ended_at = now
    page.next_action_at = None
    page.lease_owner = None
    page.lease_until = None


def advance(
    session: Session, page: Page, decision: Decision, now: datetime, *, remind: bool = False
) -> Page:
    """Apply the policy's decision to the page and, when it ends, to its faults.

    Acknowledged fills the faults' acknowledgement (who and when: the SLA
    clock reads it) unless someone acknowledged them already; with `remind`
    (the policy's ack_timeout) an acknowledged alert also opens a reminder
    for its response deadline. Exhausted marks still-open faults (and,
    for a reminder, acknowledged ones) page_failed, which the fault list
    shows loudly. The lease is released
    either way, so the next step is claimed afresh.
    """
    if page.status != ACTIVE:
        raise PagingError(f"page {page.id} is {page.status}, not active")
    if isinstance(decision, Acknowledged):
        current = _attempt_at(session, page, page.step)
        who = current.engineer_name if current is not None else None
        _close(page, ACKNOWLEDGED, now)
        page.acknowledged_by = who
        page.acknowledged_at = now
        for fault in page.faults:
            if fault.acknowledged_at is None:
                fault.acknowledged_at = now
                fault.acknowledged_by = who
            if fault.status == "open":
                fault.status = "acknowledged"
        if remind and page.kind == ALERT and who is not None:
            open_reminder(session, page, who, now)
    elif isinstance(decision, Next):
        if decision.step <= page.step:
            raise PagingError(
                f"page {page.id}: steps only move forward ({page.step} to {decision.step})"
            )
        page.repeat, page.level, page.attempt = (
            decision.step.repeat,
            decision.step.level,
            decision.step.attempt,
        )
        page.next_action_at = now + timedelta(seconds=decision.delay_seconds)
        page.lease_owner = None
        page.lease_until = None
    elif isinstance(decision, Exhausted):
        _close(page, FAILED, now)
        # An unanswered reminder is as loud as an unanswered alert: the fault
        # was acknowledged, but nobody is answering for its response now.
        failing = ("open",) if page.kind == ALERT else ("open", "acknowledged")
        for fault in page.faults:
            if fault.status in failing:
                fault.status = FAULT_PAGE_FAILED
    session.flush()
    return page


def open_reminder(session: Session, alert: Page, engineer: str, now: datetime) -> Page | None:
    """Page `engineer` again at the response deadline of the alert's faults, unless met.

    Due at the earliest deadline among the faults still owing a response;
    None when no fault owes one that is still ahead (acknowledging after
    the response deadline needs no reminder that it has passed: the fault
    list already shows it overdue).
    """
    owed = [
        f
        for f in alert.faults
        if f.responded_at is None
        and f.resolved_at is None
        and f.respond_by is not None
        and f.respond_by > now
    ]
    if not owed:
        return None
    due = min(f.respond_by for f in owed if f.respond_by is not None)
    reminder = Page(
        fault_id=owed[0].id,
        kind=REMINDER,
        target=engineer,
        status=ACTIVE,
        next_action_at=due,
        created_at=now,
    )
    session.add(reminder)
    session.flush()
    for fault in owed:
        session.add(PageFault(page_id=reminder.id, fault_id=fault.id, joined_at=now))
    session.flush()
    log.info(
        "page %d: reminder page %d will ring %s at %s unless the fault is responded to",
        alert.id,
        reminder.id,
        engineer,
        due.isoformat(timespec="seconds"),
    )
    return reminder


def cancel_reminders(session: Session, fault: Fault, now: datetime) -> list[Page]:
    """Stop the reminders a response to `fault` has made pointless.

    A reminder being called right now (leased) is left alone: its call is
    recorded as usual and the page is found moot when it is next claimed.
    """
    if fault.id is None:
        return []
    reminders = session.scalars(
        select(Page)
        .join(PageFault, PageFault.page_id == Page.id)
        .where(
            PageFault.fault_id == fault.id,
            Page.status == ACTIVE,
            Page.kind == REMINDER,
            _lease_free(now),
        )
    ).all()
    cancelled = [cancel_page(session, page, now) for page in reminders if _moot(page)]
    return cancelled


def cancel_page(session: Session, page: Page, now: datetime) -> Page:
    """Stop paging without touching the faults (they were dealt with elsewhere)."""
    if page.status == ACTIVE:
        _close(page, CANCELLED, now)
        session.flush()
    return page


def recover_interrupted(
    session: Session, policy: Policy, now: datetime, *, owner: str | None = None
) -> list[Page]:
    """After a crash: finish each unfinished attempt as INTERRUPTED and move its page on.

    Only pages nobody holds are touched (lease expired or never taken), plus
    those held by `owner`, which is this scheduler's own name from before the
    restart: pass `owner` only at start-up, never while this process may
    itself be mid-call. Each page moves exactly one step: the interrupted step is never
    dialled again, and the step after it is not skipped. A page whose step
    finished but whose advance was lost is moved on by the recorded result.
    """
    held = _lease_free(now) if owner is None else or_(_lease_free(now), Page.lease_owner == owner)
    pages = session.scalars(select(Page).where(Page.status == ACTIVE, held).order_by(Page.id)).all()
    moved: list[Page] = []
    for page in pages:
        attempt = _attempt_at(session, page, page.step)
        if attempt is None:
            continue  # crashed before begin_attempt: the step is simply still due
        if attempt.ended_at is None:
            finish_attempt(
                session,
                attempt,
                AttemptResult.INTERRUPTED,
                now,
                detail="the service stopped during this call",
            )
        result = AttemptResult(attempt.result)
        if not policy.contains(page.step):
            raise PagingError(
                f"page {page.id} is at {page.step}, which the [paging] policy no longer has"
            )
        advance(session, page, after(policy, page.step, result), now, remind=policy.ack_timeout)
        moved.append(page)
    return moved


def take_over(session: Session, page: Page, policy: Policy, now: datetime) -> Page:
    """Move on a page this scheduler has just leased whose current step was started elsewhere.

    The node that started the step died mid-call (its lease ran out, which
    is how we could lease the page): the attempt is finished as INTERRUPTED,
    never dialled again, and the page goes to its next step. Only call this
    with the page leased by `claim_due_pages`, so that no other node moves
    it at the same time.
    """
    attempt = _attempt_at(session, page, page.step)
    if attempt is None:
        return page
    if attempt.ended_at is None:
        finish_attempt(
            session,
            attempt,
            AttemptResult.INTERRUPTED,
            now,
            detail="the node making this call stopped during it",
        )
    decision = after(policy, page.step, AttemptResult(attempt.result))
    return advance(session, page, decision, now, remind=policy.ack_timeout)


def pending_pages(session: Session) -> list[Page]:
    """Active pages, soonest due first: what the scheduler should wake for."""
    return list(
        session.scalars(
            select(Page)
            .where(Page.status == ACTIVE)
            .options(selectinload(Page.faults))
            .order_by(Page.next_action_at, Page.id)
        )
    )


def next_due_at(session: Session, now: datetime) -> datetime | None:
    """When the scheduler next has something to do (the earliest due page).

    A page being called right now is leased: it is next due when its call
    has been recorded (the scheduler is woken then) or, if its node died,
    when the lease runs out, not at its past next_action_at.
    """
    due = case(
        (Page.lease_until > now, Page.lease_until),
        else_=Page.next_action_at,
    )
    return session.scalar(select(due).where(Page.status == ACTIVE).order_by(due).limit(1))


def _pages_query(fault_reference: str | None) -> Any:
    query = select(Page)
    if fault_reference is not None:
        query = (
            query.join(PageFault, PageFault.page_id == Page.id)
            .join(Fault, Fault.id == PageFault.fault_id)
            .where(Fault.reference == fault_reference.strip())
        )
    return query


def list_pages(
    session: Session,
    fault_reference: str | None = None,
    *,
    since: datetime | None = None,
    until: datetime | None = None,
    status: str | None = None,
) -> list[Page]:
    """Pages newest first, with their faults and attempts loaded for display.

    `since` (inclusive) and `until` (exclusive) bound when the page was opened.
    """
    query = _pages_query(fault_reference).options(
        selectinload(Page.faults), selectinload(Page.attempts)
    )
    if since is not None:
        query = query.where(Page.created_at >= since)
    if until is not None:
        query = query.where(Page.created_at < until)
    if status is not None:
        query = query.where(Page.status == status)
    return list(session.scalars(query.order_by(Page.created_at.desc(), Page.id.desc())))


def list_attempts(session: Session, fault_reference: str | None = None) -> list[PageAttempt]:
    """Every call made for pages (about one fault, if given), oldest first."""
    pages = _pages_query(fault_reference).with_only_columns(Page.id)
    return list(
        session.scalars(
            select(PageAttempt)
            .where(PageAttempt.page_id.in_(pages))
            .options(selectinload(PageAttempt.page).selectinload(Page.faults))
            .order_by(PageAttempt.started_at, PageAttempt.id)
        )
    )


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def attempt_as_dict(attempt: PageAttempt) -> dict[str, object]:
    return {
        "page": attempt.page_id,
        "step": {"repeat": attempt.repeat, "level": attempt.level, "attempt": attempt.attempt},
        "engineer": attempt.engineer_name,
        "contact": attempt.contact,
        "started_at": _iso(attempt.started_at),
        "ended_at": _iso(attempt.ended_at),
        "result": attempt.result,
        "sip_status": attempt.sip_status,
        "detail": attempt.detail,
    }


def page_as_dict(page: Page) -> dict[str, object]:
    return {
        "id": page.id,
        "faults": [f.reference for f in page.faults],
        "kind": page.kind,
        "target": page.target,
        "status": page.status,
        "step": {"repeat": page.repeat, "level": page.level, "attempt": page.attempt},
        "next_action_at": _iso(page.next_action_at),
        "acknowledged_by": page.acknowledged_by,
        "acknowledged_at": _iso(page.acknowledged_at),
        "created_at": _iso(page.created_at),
        "ended_at": _iso(page.ended_at),
        "attempts": [attempt_as_dict(a) for a in page.attempts],
    }


def engineer_as_dict(engineer: Engineer) -> dict[str, object]:
    return {
        "name": engineer.name,
        "contact": engineer.contact,
        "active": engineer.active,
        "added_at": _iso(engineer.added_at),
    }


def remove_override(session: Session, override_id: int) -> OnCallOverride:
    """Take back a cover arranged by mistake or no longer needed; the rota applies again."""
    row = session.get(OnCallOverride, override_id)
    if row is None:
        raise PagingError(f"no override with id {override_id} (see ivr oncall overrides)")
    session.delete(row)
    session.flush()
    return row


def overrides_for_display(rows: Sequence[OnCallOverride]) -> list[dict[str, object]]:
    return [
        {
            "id": r.id,
            "engineer": r.engineer.name,
            "from": _iso(r.starts_at),
            "to": _iso(r.ends_at),
            "created_at": _iso(r.created_at),
        }
        for r in rows
    ]
