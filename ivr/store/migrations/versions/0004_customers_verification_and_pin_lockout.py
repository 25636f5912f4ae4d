"""Customers as records; how callers were verified; reference heard; PIN failures.

Until now a customer was a string on each handset, call and fault. This
revision makes customers rows (`customers`: name, 6-digit account number,
e-mail addresses, PIN hash) from the distinct names in use, links every
handset (required), call and fault (`customer_id`) to them, and drops the
name from handsets (it lives on the customer). Calls and faults keep the
name they had as a snapshot. Names that differ only in case or spacing
become one customer, as the store treats them.

It also adds, for the call flow of issue 14: `calls.reference_heard`,
`calls.verified_by` and `faults.verified_by` (`handset`, `trusted_pai`,
`pin`; calls already verified were verified by their handset, and their
faults with them), and `pin_failures`, which the PIN lock-out counts.

Every step checks what is there first: a database made by `create_all`
from these models (adopted by 0001) already has all of it.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-26 10:00:00.000000
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | Sequence[str] | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_FK_HANDSETS = "fk_handsets_customer_id_customers"
_FK_CALLS = "fk_calls_customer_id_customers"
_FK_FAULTS = "fk_faults_customer_id_customers"
_NAMES = "_customer_names_0004"  # a scratch table: every name as written -> its customer
_UNNAMED = "Unnamed customer"


def _columns(table: str) -> set[str]:
    return {c["name"] for c in sa.inspect(op.get_bind()).get_columns(table)}


def upgrade() -> None:
    tables = set(sa.inspect(op.get_bind()).get_table_names())
    if "customers" not in tables:
        op.create_table(
            "customers",
            sa.Column("id", sa.Integer(), nullable=False),
            sa.Column("name", sa.String(length=200), nullable=False),
            sa.Column("account", sa.String(length=6), nullable=False),
            sa.Column("emails", sa.JSON(), nullable=False),
            sa.Column("pin_hash", sa.String(length=255), nullable=True),
            sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
            sa.PrimaryKeyConstraint("id"),
            sa.UniqueConstraint("account"),
            sa.UniqueConstraint("name"),
        )
    if "pin_failures" not in tables:
        op.create_table(
            "pin_failures",
            sa.Column("id", sa.Integer(), nullable=False),
            sa.Column("account", sa.String(length=6), nullable=False),
            sa.Column("customer_id", sa.Integer(), nullable=True),
            sa.Column("source_number", sa.String(length=20), nullable=True),
            sa.Column("result", sa.String(length=8), nullable=False),
            sa.Column("at", sa.DateTime(timezone=True), nullable=False),
            sa.ForeignKeyConstraint(["customer_id"], ["customers.id"], ondelete="CASCADE"),
            sa.PrimaryKeyConstraint("id"),
        )
        op.create_index("ix_pin_failures_account_at", "pin_failures", ["account", "at"])
        op.create_index("ix_pin_failures_customer_id", "pin_failures", ["customer_id"])

    handsets = _columns("handsets")
    if "customer_id" not in handsets:
        with op.batch_alter_table("handsets", schema=None) as batch_op:
            batch_op.add_column(sa.Column("customer_id", sa.Integer(), nullable=True))

    calls = _columns("calls")
    new_verified_by = "verified_by" not in calls
    _add_call_columns("calls", calls, _FK_CALLS, reference_heard=True)
    _add_call_columns("faults", _columns("faults"), _FK_FAULTS, reference_heard=False)

    if "customer" in handsets:
        _link_customers()
        with op.batch_alter_table("handsets", schema=None) as batch_op:
            batch_op.alter_column("customer_id", existing_type=sa.Integer(), nullable=False)
            batch_op.create_foreign_key(_FK_HANDSETS, "customers", ["customer_id"], ["id"])
            batch_op.create_index("ix_handsets_customer_id", ["customer_id"], unique=False)
            batch_op.drop_column("customer")
    if new_verified_by:
        _verified_by_handset()


def _add_call_columns(table: str, present: set[str], fk: str, *, reference_heard: bool) -> None:
    """customer_id (nullable, linked later), verified_by, and on calls reference_heard."""
    wanted = ["customer_id", "verified_by", *(["reference_heard"] if reference_heard else [])]
    if all(name in present for name in wanted):
        return
    with op.batch_alter_table(table, schema=None) as batch_op:
        if "customer_id" not in present:
            batch_op.add_column(sa.Column("customer_id", sa.Integer(), nullable=True))
            batch_op.create_index(f"ix_{table}_customer_id", ["customer_id"], unique=False)
            batch_op.create_foreign_key(
                fk, "customers", ["customer_id"], ["id"], ondelete="SET NULL"
            )
        if "verified_by" not in present:
            batch_op.add_column(sa.Column("verified_by", sa.String(length=16), nullable=True))
        if reference_heard and "reference_heard" not in present:
            batch_op.add_column(
                sa.Column(
                    "reference_heard", sa.Boolean(), server_default=sa.false(), nullable=False
                )
            )


def _key(name: str) -> str:
    return " ".join(name.split()).lower()


def _link_customers() -> None:
    """One customer per distinct name (handsets first, then faults, then calls); link all."""
    bind = op.get_bind()
    customers = sa.table(
        "customers",
        sa.column("id", sa.Integer()),
        sa.column("name", sa.String()),
        sa.column("account", sa.String()),
        sa.column("emails", sa.JSON()),
        sa.column("pin_hash", sa.String()),
        sa.column("created_at", sa.DateTime(timezone=True)),
    )
    ids: dict[str, int] = {}
    taken: set[str] = set()
    for row in bind.execute(sa.select(customers.c.id, customers.c.name, customers.c.account)):
        ids.setdefault(_key(row.name), row.id)
        taken.add(row.account)

    spellings: list[str] = []
    for table in ("handsets", "faults", "calls"):
        t = sa.table(table, sa.column("id", sa.Integer()), sa.column("customer", sa.String()))
        first_seen = (
            sa.select(t.c.customer, sa.func.min(t.c.id).label("first"))
            .where(t.c.customer.is_not(None))
            .group_by(t.c.customer)
            .order_by("first")
        )
        spellings += [row.customer for row in bind.execute(first_seen)]

    now = datetime.now(UTC)
    for spelling in spellings:
        key = _key(spelling)
        if key in ids:
            continue
        account = _free_account(taken)
        name = " ".join(spelling.split())[:200] or _UNNAMED
        bind.execute(
            customers.insert().values(
                name=name, account=account, emails=[], pin_hash=None, created_at=now
            )
        )
        ids[key] = bind.execute(
            sa.select(customers.c.id).where(customers.c.account == account)
        ).scalar_one()

    # Every spelling as written -> its customer, so each table is linked in
    # one UPDATE however many customers there are.
    names = op.create_table(
        _NAMES,
        sa.Column("name", sa.String(length=200), primary_key=True),
        sa.Column("customer_id", sa.Integer(), nullable=False),
    )
    rows = [{"name": s, "customer_id": ids[_key(s)]} for s in dict.fromkeys(spellings)]
    if rows:
        op.bulk_insert(names, rows)
    for table in ("handsets", "faults", "calls"):
        t = sa.table(
            table,
            sa.column("customer", sa.String()),
            sa.column("customer_id", sa.Integer()),
        )
        match = sa.select(names.c.customer_id).where(names.c.name == t.c.customer).scalar_subquery()
        bind.execute(sa.update(t).where(t.c.customer.is_not(None)).values(customer_id=match))
    op.drop_table(_NAMES)


def _free_account(taken: set[str]) -> str:
    while True:
        account = str(100000 + secrets.randbelow(900000))
        if account not in taken:
            taken.add(account)
            return account


def _verified_by_handset() -> None:
    """Calls verified before this revision were verified by their handset; so were their faults."""
    bind = op.get_bind()
    calls = sa.table(
        "calls",
        sa.column("id", sa.Integer()),
        sa.column("verified", sa.Boolean()),
        sa.column("verified_by", sa.String()),
    )
    faults = sa.table(
        "faults",
        sa.column("call_id", sa.Integer()),
        sa.column("verified_by", sa.String()),
    )
    bind.execute(
        sa.update(calls)
        .where(calls.c.verified == sa.true(), calls.c.verified_by.is_(None))
        .values(verified_by="handset")
    )
    of_call = sa.select(calls.c.verified_by).where(calls.c.id == faults.c.call_id)
    bind.execute(
        sa.update(faults)
        .where(faults.c.call_id.is_not(None), faults.c.verified_by.is_(None))
        .values(verified_by=of_call.scalar_subquery())
    )


def downgrade() -> None:
    bind = op.get_bind()
    with op.batch_alter_table("handsets", schema=None) as batch_op:
        batch_op.add_column(sa.Column("customer", sa.String(length=200), nullable=True))
    handsets = sa.table(
        "handsets", sa.column("customer", sa.String()), sa.column("customer_id", sa.Integer())
    )
    customers = sa.table("customers", sa.column("id", sa.Integer()), sa.column("name", sa.String()))
    name = sa.select(customers.c.name).where(customers.c.id == handsets.c.customer_id)
    bind.execute(sa.update(handsets).values(customer=name.scalar_subquery()))
    with op.batch_alter_table("handsets", schema=None) as batch_op:
        batch_op.alter_column("customer", existing_type=sa.String(length=200), nullable=False)
        batch_op.drop_constraint(_FK_HANDSETS, type_="foreignkey")
        batch_op.drop_index("ix_handsets_customer_id")
        batch_op.drop_column("customer_id")
    with op.batch_alter_table("faults", schema=None) as batch_op:
        batch_op.drop_constraint(_FK_FAULTS, type_="foreignkey")
        batch_op.drop_index("ix_faults_customer_id")
        batch_op.drop_column("verified_by")
        batch_op.drop_column("customer_id")
    with op.batch_alter_table("calls", schema=None) as batch_op:
        batch_op.drop_constraint(_FK_CALLS, type_="foreignkey")
        batch_op.drop_index("ix_calls_customer_id")
        batch_op.drop_column("reference_heard")
        batch_op.drop_column("verified_by")
        batch_op.drop_column("customer_id")
    op.drop_index("ix_pin_failures_customer_id", table_name="pin_failures")
    op.drop_index("ix_pin_failures_account_at", table_name="pin_failures")
    op.drop_table("pin_failures")
    op.drop_table("customers")
