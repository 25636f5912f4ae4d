"""Faults from any channel; the priority CLI SECURE decides; closing out of scope.

`faults.channel` (`phone`, `email`, `ticket`; every fault before this
revision came by phone), `ticket_ref` and `description` for faults typed in
from a ticket or an e-mail; `reported_priority`, the caller's own choice,
kept when CLI SECURE changes `priority` (filled from `priority` for the
faults already there); `closed_at`, when a fault was closed out of scope.

Every step checks what is there first: a database made by `create_all`
from these models (adopted by 0001) already has all of it.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-27 10:00:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | Sequence[str] | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_FAULT_COLUMNS = ("channel", "ticket_ref", "description", "reported_priority", "closed_at")


def _columns(table: str) -> set[str]:
    return {c["name"] for c in sa.inspect(op.get_bind()).get_columns(table)}


def upgrade() -> None:
    present = _columns("faults")
    if not all(name in present for name in _FAULT_COLUMNS):
        with op.batch_alter_table("faults", schema=None) as batch_op:
            if "channel" not in present:
                batch_op.add_column(
                    sa.Column(
                        "channel", sa.String(length=8), server_default="phone", nullable=False
                    )
                )
            if "ticket_ref" not in present:
                batch_op.add_column(sa.Column("ticket_ref", sa.String(length=100), nullable=True))
            if "description" not in present:
                batch_op.add_column(sa.Column("description", sa.Text(), nullable=True))
            if "reported_priority" not in present:
                batch_op.add_column(
                    sa.Column("reported_priority", sa.String(length=10), nullable=True)
                )
            if "closed_at" not in present:
                batch_op.add_column(
                    sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True)
                )
        faults = sa.table(
            "faults",
            sa.column("priority", sa.String()),
            sa.column("reported_priority", sa.String()),
        )
        op.get_bind().execute(
            sa.update(faults)
            .where(faults.c.reported_priority.is_(None))
            .values(reported_priority=faults.c.priority)
        )


def downgrade() -> None:
    with op.batch_alter_table("faults", schema=None) as batch_op:
        for name in reversed(_FAULT_COLUMNS):
            batch_op.drop_column(name)
