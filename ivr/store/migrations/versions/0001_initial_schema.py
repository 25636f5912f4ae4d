"""Initial schema: every table the fault line had when migrations began.

A database made by `create_all` before migrations existed is adopted, not
broken: a table already there is kept as it is, with its rows and indexes,
and only missing tables are created; the database is then stamped 0001.
Later revisions are ordinary.

Revision ID: 0001
Revises:
Create Date: 2026-11-25 13:16:41.378562
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.schema import SchemaItem

revision: str = "0001"
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

log = logging.getLogger(__name__)


def _create_table(existing: set[str], name: str, *items: SchemaItem) -> None:
    if name in existing:
        log.warning("adopting table %s, made before migrations", name)
        return
    op.create_table(name, *items)


def upgrade() -> None:
    existing = set(sa.inspect(op.get_bind()).get_table_names())
    _create_table(
        existing,
        "admins",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("password_hash", sa.String(length=255), nullable=False),
        sa.Column("session_version", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("password_changed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_login_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("name"),
    )
    _create_table(
        existing,
        "calls",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("sip_call_id", sa.String(length=255), nullable=False),
        sa.Column("direction", sa.String(length=8), nullable=False),
        sa.Column("from_header", sa.Text(), nullable=True),
        sa.Column("display_name", sa.String(length=255), nullable=True),
        sa.Column("asserted_identity", sa.Text(), nullable=True),
        sa.Column("source_address", sa.String(length=64), nullable=True),
        sa.Column("cli", sa.String(length=20), nullable=True),
        sa.Column("verified", sa.Boolean(), nullable=False),
        sa.Column("verification", sa.String(length=255), nullable=False),
        sa.Column("customer", sa.String(length=200), nullable=True),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("answered_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("ended_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("digits", sa.String(length=64), nullable=False),
        sa.Column("outcome", sa.String(length=20), nullable=False),
        sa.Column("fault_reference", sa.String(length=16), nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.Index("ix_calls_cli_started_at", "cli", "started_at"),
        sa.Index("ix_calls_outcome_started_at", "outcome", "started_at"),
        sa.Index("ix_calls_sip_call_id", "sip_call_id"),
        sa.Index("ix_calls_started_at_id", "started_at", "id"),
    )
    _create_table(
        existing,
        "engineers",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("contact", sa.String(length=255), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("added_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("name"),
    )
    _create_table(
        existing,
        "handsets",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("number", sa.String(length=20), nullable=False),
        sa.Column("customer", sa.String(length=200), nullable=False),
        sa.Column("added_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("number"),
    )
    _create_table(
        existing,
        "outages",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("starts_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ends_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.Index("ix_outages_ends_at_starts_at", "ends_at", "starts_at"),
    )
    _create_table(
        existing,
        "rota_configs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("engineers", sa.JSON(), nullable=False),
        sa.Column("starts_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("handover", sa.String(length=5), nullable=False),
        sa.Column("weekday", sa.Integer(), nullable=False),
        sa.Column("period_days", sa.Integer(), nullable=False),
        sa.Column("timezone", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    _create_table(
        existing,
        "faults",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("reference", sa.String(length=16), nullable=False),
        sa.Column("priority", sa.String(length=10), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("customer", sa.String(length=200), nullable=True),
        sa.Column("cli", sa.String(length=20), nullable=True),
        sa.Column("call_id", sa.Integer(), nullable=True),
        sa.Column("reported_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("acknowledge_by", sa.DateTime(timezone=True), nullable=True),
        sa.Column("respond_by", sa.DateTime(timezone=True), nullable=True),
        sa.Column("resolve_by", sa.DateTime(timezone=True), nullable=True),
        sa.Column("acknowledged_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("acknowledged_by", sa.String(length=200), nullable=True),
        sa.Column("responded_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("resolved_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["call_id"],
            ["calls.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("reference"),
        sa.Index("ix_faults_priority", "priority"),
        sa.Index("ix_faults_reported_at", "reported_at"),
        sa.Index("ix_faults_status", "status"),
    )
    _create_table(
        existing,
        "oncall_overrides",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("engineer_id", sa.Integer(), nullable=False),
        sa.Column("starts_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ends_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["engineer_id"], ["engineers.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.Index("ix_oncall_overrides_span", "starts_at", "ends_at"),
    )
    _create_table(
        existing,
        "fault_notes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("fault_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("author", sa.String(length=100), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["fault_id"], ["faults.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.Index("ix_fault_notes_fault_id", "fault_id"),
    )
    _create_table(
        existing,
        "pages",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("fault_id", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("repeat", sa.Integer(), nullable=False),
        sa.Column("level", sa.Integer(), nullable=False),
        sa.Column("attempt", sa.Integer(), nullable=False),
        sa.Column("next_action_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("acknowledged_by", sa.String(length=100), nullable=True),
        sa.Column("acknowledged_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ended_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("lease_owner", sa.String(length=100), nullable=True),
        sa.Column("lease_until", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["fault_id"],
            ["faults.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.Index("ix_pages_fault_id", "fault_id"),
        sa.Index("ix_pages_status_next_action_at", "status", "next_action_at"),
    )
    _create_table(
        existing,
        "recordings",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("fault_id", sa.Integer(), nullable=False),
        sa.Column("call_id", sa.Integer(), nullable=True),
        sa.Column("path", sa.String(length=500), nullable=False),
        sa.Column("seconds", sa.Double(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("ended_by", sa.String(length=20), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["call_id"],
            ["calls.id"],
        ),
        sa.ForeignKeyConstraint(
            ["fault_id"],
            ["faults.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.Index("ix_recordings_fault_id", "fault_id"),
    )
    _create_table(
        existing,
        "page_attempts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("page_id", sa.Integer(), nullable=False),
        sa.Column("repeat", sa.Integer(), nullable=False),
        sa.Column("level", sa.Integer(), nullable=False),
        sa.Column("attempt", sa.Integer(), nullable=False),
        sa.Column("engineer_id", sa.Integer(), nullable=True),
        sa.Column("engineer_name", sa.String(length=100), nullable=True),
        sa.Column("contact", sa.String(length=255), nullable=True),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ended_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("result", sa.String(length=16), nullable=True),
        sa.Column("sip_status", sa.Integer(), nullable=True),
        sa.Column("detail", sa.String(length=255), nullable=False),
        sa.ForeignKeyConstraint(["engineer_id"], ["engineers.id"], ondelete="SET NULL"),
        sa.ForeignKeyConstraint(
            ["page_id"],
            ["pages.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("page_id", "repeat", "level", "attempt", name="uq_page_attempts_step"),
        sa.Index("ix_page_attempts_page_id", "page_id"),
    )
    _create_table(
        existing,
        "page_faults",
        sa.Column("page_id", sa.Integer(), nullable=False),
        sa.Column("fault_id", sa.Integer(), nullable=False),
        sa.Column("joined_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["fault_id"],
            ["faults.id"],
        ),
        sa.ForeignKeyConstraint(
            ["page_id"],
            ["pages.id"],
        ),
        sa.PrimaryKeyConstraint("page_id", "fault_id"),
        sa.Index("ix_page_faults_fault_id", "fault_id"),
    )


def downgrade() -> None:
    op.drop_table("page_faults")
    op.drop_table("page_attempts")
    op.drop_table("recordings")
    op.drop_table("pages")
    op.drop_table("fault_notes")
    op.drop_table("oncall_overrides")
    op.drop_table("faults")
    op.drop_table("rota_configs")
    op.drop_table("outages")
    op.drop_table("handsets")
    op.drop_table("engineers")
    op.drop_table("calls")
    op.drop_table("admins")
