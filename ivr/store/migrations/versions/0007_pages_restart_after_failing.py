"""Pages that start again after every level failed: `pages.restart`.

A page nobody acknowledged is followed, while the SLA can still be kept, by
a new page from level 1; `restart` counts them (0: the first page, which is
what every page before this revision was).

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-03 12:30:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | Sequence[str] | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # A database made by `create_all` from these models (adopted by 0001)
    # already has the column.
    present = {c["name"] for c in sa.inspect(op.get_bind()).get_columns("pages")}
    if "restart" not in present:
        with op.batch_alter_table("pages", schema=None) as batch_op:
            batch_op.add_column(
                sa.Column("restart", sa.Integer(), server_default="0", nullable=False)
            )


def downgrade() -> None:
    with op.batch_alter_table("pages", schema=None) as batch_op:
        batch_op.drop_column("restart")
