"""The fault line's tables, as typed SQLAlchemy 2.0 models.

All instants are stored in UTC (timezone-aware columns); they are shown in
local time by whoever displays them.
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import DateTime, ForeignKey, Index, String, Text, TypeDecorator
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship


class UtcDateTime(TypeDecorator[datetime]):
    """A timestamp that is always UTC-aware going in and coming out.

    SQLite has no time zone support, so naive values read back are UTC by
    construction; aware values written are converted to UTC first.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


def utcnow() -> datetime:
    return datetime.now(UTC)


class Base(DeclarativeBase):
    pass


class Handset(Base):
    """A telephone CLI SECURE supplied: only these may report faults by phone."""

    __tablename__ = "handsets"

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(String(20), unique=True)  # E.164
    customer: Mapped[str] = mapped_column(String(200))
    added_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)


class CallRecord(Base):
    """One call to (or from) the fault line, as the call log shows it."""

    __tablename__ = "calls"
    __table_args__ = (
        Index("ix_calls_started_at_id", "started_at", "id"),
        Index("ix_calls_cli_started_at", "cli", "started_at"),
        Index("ix_calls_outcome_started_at", "outcome", "started_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    sip_call_id: Mapped[str] = mapped_column(String(255), index=True)
    direction: Mapped[str] = mapped_column(String(8), default="inbound")
    from_header: Mapped[str | None] = mapped_column(Text)
    display_name: Mapped[str | None] = mapped_column(String(255))
    asserted_identity: Mapped[str | None] = mapped_column(Text)
    source_address: Mapped[str | None] = mapped_column(String(64))
    cli: Mapped[str | None] = mapped_column(String(20))  # E.164 when it parsed
    verified: Mapped[bool] = mapped_column(default=False)
    verification: Mapped[str] = mapped_column(String(255), default="")
    customer: Mapped[str | None] = mapped_column(String(200))
    started_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    answered_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    ended_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    digits: Mapped[str] = mapped_column(String(64), default="")
    outcome: Mapped[str] = mapped_column(String(20), default="in_progress")
    fault_reference: Mapped[str | None] = mapped_column(String(16))
    # The fault-line node that took the call (host:port), so that a node
    # restarting after a crash can close the calls it was carrying.
    node: Mapped[str | None] = mapped_column(String(100))


class Fault(Base):
    """A reported fault with its SLA clock."""

    __tablename__ = "faults"

    id: Mapped[int] = mapped_column(primary_key=True)
    reference: Mapped[str] = mapped_column(String(16), unique=True)
    priority: Mapped[str] = mapped_column(String(10), index=True)
    status: Mapped[str] = mapped_column(String(20), default="open", index=True)
    customer: Mapped[str | None] = mapped_column(String(200))
    cli: Mapped[str | None] = mapped_column(String(20))
    call_id: Mapped[int | None] = mapped_column(ForeignKey("calls.id"))
    reported_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow, index=True)
    acknowledge_by: Mapped[datetime | None] = mapped_column(UtcDateTime)
    respond_by: Mapped[datetime | None] = mapped_column(UtcDateTime)
    resolve_by: Mapped[datetime | None] = mapped_column(UtcDateTime)
    acknowledged_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    acknowledged_by: Mapped[str | None] = mapped_column(String(200))
    responded_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    resolved_at: Mapped[datetime | None] = mapped_column(UtcDateTime)

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
