"""Reminder pages: page kind and target.

An acknowledged critical fault that is still not responded to by its
response deadline pages the engineer who acknowledged it again. That page
is a `reminder` (existing pages are all `alert`s, hence the server default)
and names whom it rings first in `target`.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-25 15:38:01.779322
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | Sequence[str] | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # A database made by `create_all` from these models (adopted by 0001)
    # already has the columns: add only what is missing.
    present = {c["name"] for c in sa.inspect(op.get_bind()).get_columns("pages")}
    with op.batch_alter_table("pages", schema=None) as batch_op:
        if "kind" not in present:
            batch_op.add_column(
                sa.Column("kind", sa.String(length=10), server_default="alert", nullable=False)
            )
        if "target" not in present:
            batch_op.add_column(sa.Column("target", sa.String(length=100), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("pages", schema=None) as batch_op:
        batch_op.drop_column("target")
        batch_op.drop_column("kind")
