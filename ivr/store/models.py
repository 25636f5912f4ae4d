"""The fault line's tables, as typed SQLAlchemy 2.0 models.

All instants are stored in UTC (timezone-aware columns); they are shown in
local time by whoever displays them. Every mapped class is here, so the
migrations compare against one module; the call log's two tables (calls,
faults) are written in `ivr.store.tables`, as Core, so that a listing can
read them without the ORM, and their classes here are mapped onto them.
"""

from __future__ import annotations

from datetime import datetime, time
from zoneinfo import ZoneInfo

from sqlalchemy import JSON, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from ivr.domain import PageKind, PageStatus
from ivr.paging.policy import Step
from ivr.paging.rota import Rota
from ivr.store.tables import CALLS, FAULTS, METADATA, UtcDateTime, utcnow


class Base(DeclarativeBase):
    metadata = METADATA


class Customer(Base):
    """A customer of CLI SECURE: whose handsets they are, and who may report by PIN.

    The account number is a string of 6 digits so that a leading zero is
    kept, as the caller keys it. The PIN is only ever stored as a slow
    salted hash (`ivr.store.customers`); a customer without one cannot be
    verified by PIN. Calls and faults keep the customer's name as it was
    beside their `customer_id`, so the log reads right after a rename.
    """

    __tablename__ = "customers"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    account: Mapped[str] = mapped_column(String(6), unique=True)
    emails: Mapped[list[str]] = mapped_column(JSON, default=list)
    pin_hash: Mapped[str | None] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)

    handsets: Mapped[list[Handset]] = relationship(
        back_populates="owner", order_by="Handset.number"
    )


class Handset(Base):
    """A telephone CLI SECURE supplied: only these may report faults by phone."""

    __tablename__ = "handsets"

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(String(20), unique=True)  # E.164
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"), index=True)
    added_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    # Where an engineer's callback rings this handset (a sip: URI, or a
    # number dialled through the trunk); None: its own number, through the trunk.
    contact: Mapped[str | None] = mapped_column(String(255))

    owner: Mapped[Customer] = relationship(back_populates="handsets", lazy="joined")

    @property
    def customer(self) -> str:
        """The owner's name, as every listing shows it (the name lives on the customer)."""
        return self.owner.name


class PinFailure(Base):
    """A PIN entry that did not verify a caller: what the account lock-out counts.

    `result` is `wrong` (a failed attempt that counts), `lockout` (the
    failed attempt that locked the account) or `locked` (an attempt while
    the account was locked, refused unchecked and not counted). Rows are
    keyed by the account number as keyed, so an unknown account behaves
    exactly like a known one and the lock-out tells a caller nothing.
    """

    __tablename__ = "pin_failures"
    __table_args__ = (Index("ix_pin_failures_account_at", "account", "at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    account: Mapped[str] = mapped_column(String(6))
    customer_id: Mapped[int | None] = mapped_column(
        ForeignKey("customers.id", ondelete="CASCADE"), index=True
    )
    source_number: Mapped[str | None] = mapped_column(String(20))  # E.164; None if withheld
    result: Mapped[str] = mapped_column(String(8))
    at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)


class CallRecord(Base):
    """One call to (or from) the fault line: the columns are `ivr.store.tables.CALLS`."""

    __table__ = CALLS

    id: Mapped[int]
    sip_call_id: Mapped[str]
    direction: Mapped[str]
    kind: Mapped[str]
    page_id: Mapped[int | None]
    from_header: Mapped[str | None]
    display_name: Mapped[str | None]
    asserted_identity: Mapped[str | None]
    source_address: Mapped[str | None]
    cli: Mapped[str | None]
    verified: Mapped[bool]
    verification: Mapped[str]
    customer: Mapped[str | None]
    customer_id: Mapped[int | None]
    verified_by: Mapped[str | None]
    reference_heard: Mapped[bool]
    started_at: Mapped[datetime]
    answered_at: Mapped[datetime | None]
    ended_at: Mapped[datetime | None]
    digits: Mapped[str]
    outcome: Mapped[str]
    fault_reference: Mapped[str | None]
    node: Mapped[str | None]


class Fault(Base):
    """A reported fault with its SLA clock: the columns are `ivr.store.tables.FAULTS`."""

    __table__ = FAULTS

    id: Mapped[int]
    reference: Mapped[str]
    priority: Mapped[str]
    status: Mapped[str]
    customer: Mapped[str | None]
    customer_id: Mapped[int | None]
    verified_by: Mapped[str | None]
    cli: Mapped[str | None]
    call_id: Mapped[int | None]
    channel: Mapped[str]
    ticket_ref: Mapped[str | None]
    description: Mapped[str | None]
    reported_priority: Mapped[str | None]
    closed_at: Mapped[datetime | None]
    reported_at: Mapped[datetime]
    acknowledge_by: Mapped[datetime | None]
    respond_by: Mapped[datetime | None]
    resolve_by: Mapped[datetime | None]
    acknowledged_at: Mapped[datetime | None]
    acknowledged_by: Mapped[str | None]
    responded_at: Mapped[datetime | None]
    resolved_at: Mapped[datetime | None]

    call: Mapped[CallRecord | None] = relationship()


class Recording(Base):
    """A caller's spoken description of a fault: a WAV file and what proves it intact."""

    __tablename__ = "recordings"

    id: Mapped[int] = mapped_column(primary_key=True)
    fault_id: Mapped[int] = mapped_column(ForeignKey("faults.id"), index=True)
    call_id: Mapped[int | None] = mapped_column(ForeignKey("calls.id"))
    path: Mapped[str] = mapped_column(String(500))
    seconds: Mapped[float] = mapped_column(default=0.0)
    sha256: Mapped[str] = mapped_column(String(64))
    ended_by: Mapped[str] = mapped_column(String(20), default="")  # key, silence, limit, hangup
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)


class FaultNote(Base):
    """One entry in a fault's timeline: a note, or a move of the fault (who, when, and why).

    Every move writes one, whichever tool made it, so the timeline is read
    from here and never pieced together from the fault's columns.
    """

    __tablename__ = "fault_notes"

    id: Mapped[int] = mapped_column(primary_key=True)
    fault_id: Mapped[int] = mapped_column(ForeignKey("faults.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(16), default="note")
    author: Mapped[str] = mapped_column(String(100))
    body: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)


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
    kind: Mapped[str] = mapped_column(
        String(10), default=PageKind.ALERT.value, server_default=PageKind.ALERT.value
    )
    # The engineer a reminder rings first: whoever acknowledged the alert.
    target: Mapped[str | None] = mapped_column(String(100))
    # How many times paging for these faults had failed before this page
    # started again from level 1 (0: the first page).
    restart: Mapped[int] = mapped_column(default=0, server_default="0")
    status: Mapped[str] = mapped_column(String(12), default=PageStatus.ACTIVE.value)
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


class Admin(Base):
    """Someone who may sign in to the web page."""

    __tablename__ = "admins"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    session_version: Mapped[int] = mapped_column(default=1)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    password_changed_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    last_login_at: Mapped[datetime | None] = mapped_column(UtcDateTime)


class Outage(Base):
    __tablename__ = "outages"
    __table_args__ = (Index("ix_outages_ends_at_starts_at", "ends_at", "starts_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    starts_at: Mapped[datetime] = mapped_column(UtcDateTime)
    ends_at: Mapped[datetime] = mapped_column(UtcDateTime)
    message: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)


class OutboxMessage(Base):
    """An e-mail waiting to go, or gone: written in the transaction of the change it tells of.

    A sender in `ivr serve` delivers it later (`ivr.store.outbox` has the
    lease protocol), so no commit ever waits for SMTP and nothing committed
    is forgotten. `token` is the Message-ID's left part, fixed at queueing,
    so a message sent again is recognisably the same message.
    """

    __tablename__ = "email_outbox"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))  # logged, acknowledged, ..., notice
    fault_id: Mapped[int | None] = mapped_column(
        ForeignKey("faults.id", ondelete="SET NULL"), index=True
    )
    reference: Mapped[str | None] = mapped_column(String(16))
    recipients: Mapped[list[str]] = mapped_column(JSON, default=list)
    # What the message says, as it stood when queued (the fault moves on).
    facts: Mapped[dict[str, object]] = mapped_column(JSON, default=dict)
    token: Mapped[str] = mapped_column(String(64), unique=True)
    status: Mapped[str] = mapped_column(String(8), default="pending", index=True)
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow, index=True)
    lease_owner: Mapped[str | None] = mapped_column(String(100))
    lease_until: Mapped[datetime | None] = mapped_column(UtcDateTime)
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
