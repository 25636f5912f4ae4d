"""Calls: the node that took them.

With several nodes on one database, a node restarting after a crash closes
the calls it was carrying (outcome `interrupted`); it needs to know which
those are. Calls logged before this revision have no node.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-25 16:01:27.119550
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | Sequence[str] | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # A database made by `create_all` from these models (adopted by 0001)
    # already has the column.
    present = {c["name"] for c in sa.inspect(op.get_bind()).get_columns("calls")}
    if "node" not in present:
        with op.batch_alter_table("calls", schema=None) as batch_op:
            batch_op.add_column(sa.Column("node", sa.String(length=100), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("calls", schema=None) as batch_op:
        batch_op.drop_column("node")
