"""The call log's tables as plain SQLAlchemy Core, for readers that need no ORM.

`ivr calls list` and `ivr calls export` read rows and print them: importing
and configuring the ORM and its fifteen mapped classes cost such a command
more than its own query did. So the two tables a listing reads are defined
here, once, and `ivr.store.models` maps its classes onto these same Table
objects (one MetaData: migrations compare against every table at once).
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import (
    Boolean,
    Column,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    TypeDecorator,
    false,
)
from sqlalchemy.engine import Dialect

from ivr.domain import Channel, FaultStatus

METADATA = MetaData()

CALLER = "caller"
CALLBACK = "callback"


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


# One call to (or from) the fault line, as the call log shows it.
CALLS = Table(
    "calls",
    METADATA,
    Column("id", Integer, primary_key=True),
    Column("sip_call_id", String(255), nullable=False, index=True),
    Column("direction", String(8), nullable=False, default="inbound"),
    # `caller`: a call to the fault line; `callback`: the fault line calling a
    # customer back for an engineer (then `page_id` is the page it came from).
    Column("kind", String(12), nullable=False, default=CALLER, server_default=CALLER),
    # No foreign key: pages already refer to faults, which refer to calls.
    Column("page_id", Integer, index=True),
    Column("from_header", Text),
    Column("display_name", String(255)),
    Column("asserted_identity", Text),
    Column("source_address", String(64)),
    Column("cli", String(20)),  # E.164 when it parsed
    Column("verified", Boolean, nullable=False, default=False),
    Column("verification", String(255), nullable=False, default=""),
    Column("customer", String(200)),  # the name then, a snapshot
    Column("customer_id", Integer, ForeignKey("customers.id", ondelete="SET NULL"), index=True),
    # How the caller was verified (`VerifiedBy`); None while they are not.
    Column("verified_by", String(16)),
    # True once the fault reference has played to its end at least once.
    Column("reference_heard", Boolean, nullable=False, default=False, server_default=false()),
    Column("started_at", UtcDateTime, nullable=False, default=utcnow),
    Column("answered_at", UtcDateTime),
    Column("ended_at", UtcDateTime),
    Column("digits", String(64), nullable=False, default=""),
    Column("outcome", String(20), nullable=False, default="in_progress"),
    Column("fault_reference", String(16)),
    # The fault-line node that took the call (host:port), so that a node
    # restarting after a crash can close the calls it was carrying.
    Column("node", String(100)),
    Index("ix_calls_started_at_id", "started_at", "id"),
    Index("ix_calls_cli_started_at", "cli", "started_at"),
    Index("ix_calls_outcome_started_at", "outcome", "started_at"),
)

# A reported fault with its SLA clock.
FAULTS = Table(
    "faults",
    METADATA,
    Column("id", Integer, primary_key=True),
    Column("reference", String(16), nullable=False, unique=True),
    Column("priority", String(10), nullable=False, index=True),
    Column("status", String(20), nullable=False, default=FaultStatus.OPEN.value, index=True),
    Column("customer", String(200)),  # the name then, a snapshot
    Column("customer_id", Integer, ForeignKey("customers.id", ondelete="SET NULL"), index=True),
    Column("verified_by", String(16)),  # as the call was
    Column("cli", String(20)),
    Column("call_id", Integer, ForeignKey("calls.id")),
    # How it reached us (`Channel`); a ticket's own reference, and any text the
    # customer wrote, for faults that did not come by phone.
    Column(
        "channel",
        String(8),
        nullable=False,
        default=Channel.PHONE.value,
        server_default=Channel.PHONE.value,
    ),
    Column("ticket_ref", String(100)),
    Column("description", Text),
    # The priority the customer chose; `priority` is the one CLI SECURE decided.
    Column("reported_priority", String(10)),
    # When the fault was closed as out of scope (it is never resolved then).
    Column("closed_at", UtcDateTime),
    Column("reported_at", UtcDateTime, nullable=False, default=utcnow, index=True),
    Column("acknowledge_by", UtcDateTime),
    Column("respond_by", UtcDateTime),
    Column("resolve_by", UtcDateTime),
    Column("acknowledged_at", UtcDateTime),
    Column("acknowledged_by", String(200)),
    Column("responded_at", UtcDateTime),
    Column("resolved_at", UtcDateTime),
)
