"""Callbacks: a handset's contact, and calls the fault line makes to customers.

An engineer on a page call may have the fault line ring the customer back
and join the two calls; that call is a call record of its own (kind
`callback`, linked to its page). A handset may carry the SIP URI it is
rung on. Calls logged before this revision are all callers' (`caller`).

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-03 12:40:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | Sequence[str] | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # A database made by `create_all` from these models (adopted by 0001)
    # already has the columns.
    inspector = sa.inspect(op.get_bind())
    if "contact" not in {c["name"] for c in inspector.get_columns("handsets")}:
        with op.batch_alter_table("handsets", schema=None) as batch_op:
            batch_op.add_column(sa.Column("contact", sa.String(length=255), nullable=True))
    if "kind" not in {c["name"] for c in inspector.get_columns("calls")}:
        with op.batch_alter_table("calls", schema=None) as batch_op:
            batch_op.add_column(
                sa.Column("kind", sa.String(length=12), server_default="caller", nullable=False)
            )
            batch_op.add_column(sa.Column("page_id", sa.Integer(), nullable=True))
            batch_op.create_index(batch_op.f("ix_calls_page_id"), ["page_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("calls", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_calls_page_id"))
        batch_op.drop_column("page_id")
        batch_op.drop_column("kind")
    with op.batch_alter_table("handsets", schema=None) as batch_op:
        batch_op.drop_column("contact")
