"""Pages, stored: the protocol that makes paging survive restarts and node deaths.

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
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import case, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, selectinload

from ivr.domain import FaultStatus, PageKind, PageStatus
from ivr.faults.lifecycle import Action, may
from ivr.paging.policy import (
    Acknowledged,
    AttemptResult,
    Decision,
    Exhausted,
    GiveUpPaging,
    Next,
    NotifyPagingFailed,
    PagingExhausted,
    Policy,
    RestartPaging,
    Step,
    after,
    first_step,
    reminder_due,
    restart_still_due,
    target_for,
    when_exhausted,
)
from ivr.store.engineers import PagingError, find_engineer
from ivr.store.faults import (
    PAGE_FAILED_AGAIN,
    PAGING_GAVE_UP,
    PAGING_RESTARTED,
    fault_state,
    move_fault,
    note_paging,
)
from ivr.store.leases import take_leases
from ivr.store.models import Fault, Page, PageAttempt, PageFault
from ivr.store.oncall import chain_at
from ivr.store.outbox import queue_message
from ivr.store.page_state import cancel_page, close_page, is_moot, lease_free

log = logging.getLogger(__name__)

ACTIVE = PageStatus.ACTIVE.value
ACKNOWLEDGED = PageStatus.ACKNOWLEDGED.value
FAILED = PageStatus.FAILED.value
CANCELLED = PageStatus.CANCELLED.value
ALERT = PageKind.ALERT.value
REMINDER = PageKind.REMINDER.value

# Who the timeline names for what paging did when no engineer did it.
PAGING_AUTHOR = "paging"


class StepAlreadyAttempted(PagingError):
    """This step of this page has been started before: dialling it again would double-call."""


class LeaseLost(PagingError):
    """The page is no longer leased to this scheduler; another one may be on it."""


class GaveUp(PagingError):
    """A restart came due too late to keep the SLA: the page closed instead of ringing."""


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
    (Never a reminder, which may be hours away, nor a restart waiting for its
    time after a failure: a new fault is paged now.)
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
            .where(
                Page.status == ACTIVE,
                Page.kind == ALERT,
                Page.restart == 0,
                Fault.customer == fault.customer,
            )
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
    claimed = take_leases(
        session,
        Page,
        waiting=Page.status == ACTIVE,
        due=Page.next_action_at <= now,
        order_by=(Page.next_action_at, Page.id),
        now=now,
        owner=owner,
        lease_seconds=lease_seconds,
        limit=limit,
    )
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
        if is_moot(page):
            cancel_page(session, page, now)
        else:
            due.append(page)
    return due


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
    if page.restart and step == first_step(policy):
        _restart(session, page, policy, now)
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
        log.error("page %d at %s: %s; moving on without ringing anyone", page.id, step, why)
    session.add(attempt)
    try:
        session.flush()
    except IntegrityError:
        raise StepAlreadyAttempted(f"page {page.id} has already attempted {step}") from None
    return attempt


def _owing_acknowledgement(page: Page, policy: Policy) -> list[Fault]:
    """The faults a restart still pages for: open, unacknowledged, of a priority that pages."""
    return [
        f
        for f in page.faults
        if f.acknowledged_at is None and f.closed_at is None and policy.pages(f.priority)
    ]


def _acknowledge_by(faults: list[Fault]) -> datetime | None:
    """The latest deadline: paging goes on while any fault on it can still be kept."""
    deadlines = [f.acknowledge_by for f in faults if f.acknowledge_by is not None]
    return max(deadlines) if deadlines else None


def _restart(session: Session, page: Page, policy: Policy, now: datetime) -> None:
    """A restart's first call: on the timeline, unless it came due too late (GaveUp)."""
    owed = _owing_acknowledgement(page, policy)
    why = restart_still_due(policy, _acknowledge_by(owed), now)
    if why is not None:
        close_page(page, FAILED, now)
        for fault in owed:
            note_paging(session, fault, PAGING_GAVE_UP, f"page {page.id} not rung: {why}", now)
        session.flush()
        raise GaveUp(f"page {page.id}: paging gave up: {why}")
    for fault in owed:
        detail = f"restart {page.restart} (page {page.id})"
        note_paging(session, fault, PAGING_RESTARTED, detail, now)


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


def advance(
    session: Session, page: Page, decision: Decision, now: datetime, *, policy: Policy | None = None
) -> Page:
    """Apply the policy's decision to the page and, when it ends, to its faults.

    Acknowledged fills the faults' acknowledgement (who and when: the SLA
    clock reads it) unless someone acknowledged them already; with a
    `policy` whose ack_timeout is on, an acknowledged alert also opens a
    reminder before its response deadline. Exhausted marks still-open faults
    (and, for a reminder, acknowledged ones) page_failed, which the fault
    list shows loudly, and with a `policy` carries out `when_exhausted`:
    failed_notify is told and an alert starts again later, or gives up.
    The lease is released either way, so the next step is claimed afresh.
    """
    if page.status != ACTIVE:
        raise PagingError(f"page {page.id} is {page.status}, not active")
    if isinstance(decision, Acknowledged):
        current = _attempt_at(session, page, page.step)
        who = current.engineer_name if current is not None else None
        close_page(page, ACKNOWLEDGED, now)
        page.acknowledged_by = who
        page.acknowledged_at = now
        for fault in page.faults:
            if may(fault_state(fault), Action.ACKNOWLEDGE):
                move_fault(
                    session,
                    fault,
                    Action.ACKNOWLEDGE,
                    now,
                    by=who,
                    author=who or PAGING_AUTHOR,
                    comment=f"pressed 1 on page {page.id}",
                )
        if policy is not None and policy.ack_timeout and page.kind == ALERT and who is not None:
            open_reminder(session, page, who, now, policy)
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
        close_page(page, FAILED, now)
        commands = _when_exhausted(page, policy, now)
        restart = next((c for c in commands if isinstance(c, RestartPaging)), None)
        then = _then(commands, policy)
        # An unanswered reminder is as loud as an unanswered alert: the fault
        # was acknowledged, but nobody is answering for its response now.
        for fault in page.faults:
            if page.kind == ALERT and fault.acknowledged_at is not None:
                continue  # acknowledged some other way while the page rang on
            comment = f"nobody acknowledged {page.kind} page {page.id}{then}"
            if may(fault_state(fault), Action.PAGING_FAILED):
                move_fault(
                    session, fault, Action.PAGING_FAILED, now, author=PAGING_AUTHOR, comment=comment
                )
            elif fault.closed_at is None and fault.status == FaultStatus.PAGE_FAILED.value:
                note_paging(session, fault, PAGE_FAILED_AGAIN, comment, now)
        for command in commands:
            if isinstance(command, NotifyPagingFailed):
                notify_paging_failed(session, command, now)
        if restart is not None and policy is not None:
            _open_restart(session, page, policy, restart, now)
    session.flush()
    return page


def _when_exhausted(
    page: Page, policy: Policy | None, now: datetime
) -> tuple[NotifyPagingFailed | RestartPaging | GiveUpPaging, ...]:
    if policy is None:
        return ()
    owed = _owing_acknowledgement(page, policy)
    event = PagingExhausted(
        page.id, page.kind == REMINDER, page.restart, _acknowledge_by(owed) if owed else None
    )
    return when_exhausted(policy, event, now)


def _then(commands: tuple[object, ...], policy: Policy | None) -> str:
    """What happens next, for the failure's timeline entry."""
    for command in commands:
        if isinstance(command, RestartPaging) and policy is not None:
            minutes = policy.retry_failed_seconds / 60
            return f"; paging starts again from level 1 in {minutes:g} minutes"
        if isinstance(command, GiveUpPaging):
            return f"; paging gives up: {command.why}"
    return ""


def _open_restart(
    session: Session, failed: Page, policy: Policy, restart: RestartPaging, now: datetime
) -> Page:
    """The failed page's next round, from level 1, for the faults still owing an acknowledgement."""
    owed = _owing_acknowledgement(failed, policy)
    page = Page(
        fault_id=owed[0].id,
        kind=ALERT,
        restart=restart.restart,
        status=ACTIVE,
        next_action_at=restart.at,
        created_at=now,
    )
    session.add(page)
    session.flush()
    for fault in owed:
        session.add(PageFault(page_id=page.id, fault_id=fault.id, joined_at=now))
    session.flush()
    log.warning(
        "page %d: nobody acknowledged; page %d starts again from level 1 at %s",
        failed.id,
        page.id,
        restart.at.isoformat(timespec="seconds"),
    )
    return page


def notify_paging_failed(session: Session, command: NotifyPagingFailed, now: datetime) -> None:
    """Tell `[paging] failed_notify` that nobody acknowledged a page, one e-mail per fault.

    Queued in the failure's own transaction (the outbox), so the message is
    sent exactly when the failure is recorded, and never holds it up.
    """
    page = session.get(Page, command.page_id)
    then = (
        f"Paging starts again from level 1 at {_utc(command.restart_at)}."
        if command.restart_at is not None
        else "Paging has stopped: nobody will be rung again automatically."
    )
    log.error(
        "page %d: nobody acknowledged; %s Told: %s",
        command.page_id,
        then,
        ", ".join(command.recipients) or "nobody (no [paging] failed_notify)",
    )
    if page is None or not command.recipients:
        return
    for fault in page.faults:
        owed = "respond to" if fault.acknowledged_at is not None else "acknowledge"
        due = fault.respond_by if fault.acknowledged_at is not None else fault.acknowledge_by
        lines = [
            f"Nobody answered the {page.kind} page for fault {fault.reference}: every level "
            "of the escalation was called.",
            "",
            f"Priority: {fault.priority}",
            f"Customer: {fault.customer or 'unknown'}",
            f"Calling number: {fault.cli or 'none'}",
            f"Reported: {_utc(fault.reported_at)} ({fault.channel})",
            f"To {owed} by: {_utc(due) if due is not None else 'no deadline'}",
            "",
            then,
            f"Phone the customer and an engineer, then record it: `ivr faults ack "
            f"{fault.reference}` or the fault's page on the web.",
        ]
        queue_message(
            session,
            command.recipients,
            f"paging failed, nobody answered for this {fault.priority} fault",
            "\n".join(lines),
            now,
            fault=fault,
        )


def _utc(moment: datetime | None) -> str:
    return "unknown" if moment is None else f"{moment.astimezone(UTC):%a %d %b %Y %H:%M} UTC"


def open_reminder(
    session: Session, alert: Page, engineer: str, now: datetime, policy: Policy
) -> Page | None:
    """Page `engineer` again shortly before the response deadline of the alert's faults.

    Due `reminder_lead_seconds` before the earliest deadline among the
    faults still owing a response; None when that moment has come already
    (acknowledging after it needs no reminder: the engineer has just heard
    the page, and the fault list shows an overdue one).
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
    due = reminder_due(policy, min(f.respond_by for f in owed if f.respond_by is not None), now)
    if due is None:
        return None
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
    held = lease_free(now) if owner is None else or_(lease_free(now), Page.lease_owner == owner)
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
        advance(session, page, after(policy, page.step, result), now, policy=policy)
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
    return advance(session, page, decision, now, policy=policy)


def stopped_pages(session: Session, page_ids: list[int]) -> list[int]:
    """Which of these pages were cancelled from elsewhere (their calls should end).

    Only cancelled: a page its own call acknowledged is no longer active
    either, but that call goes on (the engineer may be calling the customer
    back through it).
    """
    return list(
        session.scalars(select(Page.id).where(Page.id.in_(page_ids), Page.status == CANCELLED))
    )


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
        "restart": page.restart,
        "status": page.status,
        "step": {"repeat": page.repeat, "level": page.level, "attempt": page.attempt},
        "next_action_at": _iso(page.next_action_at),
        "acknowledged_by": page.acknowledged_by,
        "acknowledged_at": _iso(page.acknowledged_at),
        "created_at": _iso(page.created_at),
        "ended_at": _iso(page.ended_at),
        "attempts": [attempt_as_dict(a) for a in page.attempts],
    }
