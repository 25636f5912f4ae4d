"""A believable fault line to look at: handsets, two weeks of calls, faults in every state.

Used by the web tests and the browser tests (and handy for a screenshot).
Everything is placed relative to `now`, deterministic (fixed random seed),
and written through the store's own functions where they exist.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from ivr.domain import Priority
from ivr.faults.lifecycle import Action
from ivr.paging.policy import AttemptResult, Policy, after
from ivr.paging.rota import Rota, first_handover
from ivr.sla import BusinessCalendar, deadlines
from ivr.store.admins import add_admin
from ivr.store.db import Database
from ivr.store.engineers import add_engineer
from ivr.store.faults import add_note, move_fault
from ivr.store.handsets import add_handset
from ivr.store.models import CallRecord, Fault, Page
from ivr.store.oncall import set_rota
from ivr.store.pages import ACTIVE, advance, begin_attempt, finish_attempt, open_page


def _move(
    session: Session, fault: Fault, action: Action, who: str, at: datetime, comment: str = ""
) -> None:
    move_fault(session, fault, action, at, by=who, comment=comment)


LONDON = ZoneInfo("Europe/London")
ADMIN = "ops.lead"
PASSWORD = "correct horse battery"
SCRIPT_NAME = "<script>alert(1)</script>"
SCRIPT_CLI = "+442079460666"

FAILED_REF = "314159"
PAGING_REF = "271828"
OPEN_REF = "161803"
ACKED_REF = "141421"
RESOLVED_REF = "173205"

HANDSETS = [
    ("+442079460000", "Acme Widgets Ltd"),
    ("+442079460001", "Brightwater Logistics"),
    ("+441614960002", "Northern Rail Freight"),
    ("+441314960003", "Caledonian Foods"),
    ("+442920960004", "Dragon Energy plc"),
    ("+441174960005", "Severn Health Trust"),
    ("+441214960006", "Midland Tooling Co"),
    ("+441514960007", "Harbour Marine Services"),
]
OUTCOME_WEIGHTS = [
    ("reported", 30),
    ("rejected", 8),
    ("after_hours", 6),
    ("no_choice", 4),
    ("abandoned", 5),
    ("failed", 1),
]
CALENDAR = BusinessCalendar()


@dataclass(frozen=True)
class Seeded:
    now: datetime
    calls: int
    script_call_id: int


def _call(
    session: Session,
    started: datetime,
    cli: str | None,
    customer: str | None,
    outcome: str,
    *,
    display_name: str | None = None,
    digits: str = "",
    reference: str | None = None,
    seconds: int = 45,
) -> CallRecord:
    call = CallRecord(
        sip_call_id=f"{started.timestamp():.6f}-{cli}@pbx.clisecure.test",
        direction="inbound",
        from_header=f'"{display_name or ""}" <sip:{cli or "anonymous"}@trunk.example>',
        display_name=display_name,
        source_address="192.0.2.50",
        cli=cli,
        verified=customer is not None,
        verification="handset on file" if customer else "number not on file",
        customer=customer,
        started_at=started,
        answered_at=started + timedelta(seconds=1),
        ended_at=started + timedelta(seconds=seconds),
        digits=digits,
        outcome=outcome,
        fault_reference=reference,
    )
    session.add(call)
    return call


def _fault(
    session: Session,
    reference: str,
    priority: Priority,
    reported: datetime,
    cli: str,
    customer: str,
) -> Fault:
    call = _call(
        session,
        reported - timedelta(seconds=40),
        cli,
        customer,
        "reported",
        display_name=customer.split()[0] + " desk",
        digits=priority.key + "1",
        reference=reference,
        seconds=70,
    )
    session.flush()
    due = deadlines(priority, reported, CALENDAR)
    fault = Fault(
        reference=reference,
        priority=priority.value,
        status="open",
        customer=customer,
        cli=cli,
        call_id=call.id,
        reported_at=reported,
        acknowledge_by=due.acknowledge_by,
        respond_by=due.respond_by,
        resolve_by=due.resolve_by,
    )
    session.add(fault)
    session.flush()
    return fault


def _page_until(
    session: Session, fault: Fault, start: datetime, results: list[AttemptResult], policy: Policy
) -> Page:
    """Page for `fault` from `start`, each attempt ending with the next of `results`."""
    page = open_page(session, fault, start)
    at = start
    for result in results:
        if page.status != ACTIVE:
            break
        attempt = begin_attempt(session, page, policy, at)
        ended = at + timedelta(seconds=30)
        if attempt.dialable:
            finish_attempt(
                session,
                attempt,
                result,
                ended,
                sip_status=487 if result.value == "no_answer" else None,
            )
        decision = after(policy, page.step, AttemptResult(attempt.result))
        advance(session, page, decision, ended, policy=policy)
        at = page.next_action_at or ended
    return page


def seed(db: Database, now: datetime | None = None, *, admin: bool = True) -> Seeded:
    now = (now or datetime.now(UTC)).astimezone(UTC)
    rng = random.Random(7)
    policy = Policy()
    with db.sessions.begin() as session:
        if admin:
            add_admin(session, ADMIN, PASSWORD)
        for number, customer in HANDSETS:
            add_handset(session, number, customer)
        for name, contact in (
            ("Alice Khan", "sip:alice@192.0.2.10"),
            ("Ben Okafor", "020 7946 0101"),
            ("Chloe Martin", "sip:chloe@pbx.example"),
        ):
            add_engineer(session, name, contact)
        start = first_handover(now - timedelta(days=20), time(9), 0, LONDON)
        set_rota(
            session,
            Rota(("Alice Khan", "Ben Okafor", "Chloe Martin"), start, time(9), 0, tz=LONDON),
        )

        # Two weeks of ordinary calls.
        outcomes = [o for o, _ in OUTCOME_WEIGHTS]
        weights = [w for _, w in OUTCOME_WEIGHTS]
        count = 0
        for back in range(14):
            day_calls = rng.randint(6, 22)
            for _ in range(day_calls):
                started = now - timedelta(days=back, minutes=rng.randint(5, 60 * 23))
                if started > now:
                    continue
                number, customer = rng.choice(HANDSETS)
                outcome = rng.choices(outcomes, weights)[0]
                if outcome == "rejected":
                    number, customer = f"+4420794611{rng.randint(10, 99)}", None
                _call(
                    session,
                    started,
                    number,
                    customer,
                    outcome,
                    display_name=None if rng.random() < 0.3 else (customer or "Unknown"),
                    digits=rng.choice(["11", "21", "31", "1", ""]),
                    seconds=rng.randint(8, 140),
                )
                count += 1
        script = _call(
            session,
            now - timedelta(minutes=90),
            SCRIPT_CLI,
            None,
            "rejected",
            display_name=SCRIPT_NAME,
        )
        session.flush()

        # Older faults, for the SLA chart: some met, some missed.
        for i in range(36):
            reported = now - timedelta(days=rng.randint(15, 175), hours=rng.randint(0, 8))
            priority = rng.choice(list(Priority))
            number, customer = rng.choice(HANDSETS)
            fault = _fault(session, f"9{i:05d}", priority, reported, number, customer)
            assert fault.acknowledge_by is not None and fault.respond_by is not None
            late = rng.random() < 0.25
            ack_at = fault.acknowledge_by + (
                timedelta(minutes=rng.randint(5, 90))
                if late
                else -timedelta(minutes=rng.randint(5, 60))
            )
            ack_at = max(ack_at, reported + timedelta(minutes=2))
            _move(session, fault, Action.ACKNOWLEDGE, "Alice Khan", ack_at)
            _move(
                session,
                fault,
                Action.RESPOND,
                "Alice Khan",
                max(ack_at, fault.respond_by - timedelta(minutes=10)),
            )
            _move(
                session,
                fault,
                Action.RESOLVE,
                "Ben Okafor",
                max(ack_at, fault.respond_by) + timedelta(hours=2),
            )

        # Faults now in every state.
        failed = _fault(
            session,
            FAILED_REF,
            Priority.CRITICAL,
            now - timedelta(minutes=52),
            "+441614960002",
            "Northern Rail Freight",
        )
        _page_until(
            session,
            failed,
            failed.reported_at + timedelta(seconds=5),
            [AttemptResult.NO_ANSWER, AttemptResult.BUSY] * 6,
            policy,
        )
        paging = _fault(
            session,
            PAGING_REF,
            Priority.CRITICAL,
            now - timedelta(minutes=3),
            "+442079460000",
            "Acme Widgets Ltd",
        )
        _page_until(
            session,
            paging,
            paging.reported_at + timedelta(seconds=5),
            [AttemptResult.NO_ANSWER],
            policy,
        )
        _fault(
            session,
            OPEN_REF,
            Priority.HIGH,
            now - timedelta(hours=3),
            "+441314960003",
            "Caledonian Foods",
        )
        acked = _fault(
            session,
            ACKED_REF,
            Priority.STANDARD,
            now - timedelta(hours=26),
            "+442920960004",
            "Dragon Energy plc",
        )
        _move(
            session,
            acked,
            Action.ACKNOWLEDGE,
            "Chloe Martin",
            now - timedelta(hours=25),
            "Looking at the trunk",
        )
        add_note(
            session,
            acked,
            ADMIN,
            "Customer says only the reception line is affected.",
            now - timedelta(hours=24),
        )
        done = _fault(
            session,
            RESOLVED_REF,
            Priority.CRITICAL,
            now - timedelta(days=2),
            "+441174960005",
            "Severn Health Trust",
        )
        _page_until(
            session,
            done,
            done.reported_at + timedelta(seconds=5),
            [AttemptResult.NO_ANSWER, AttemptResult.ACKNOWLEDGED],
            policy,
        )
        _move(session, done, Action.RESPOND, "Alice Khan", done.reported_at + timedelta(minutes=40))
        _move(
            session,
            done,
            Action.RESOLVE,
            "Alice Khan",
            done.reported_at + timedelta(hours=5),
            "Replaced the PSU",
        )
        script_id = script.id
    return Seeded(now=now, calls=count + 1, script_call_id=script_id)
