"""Handsets CLI SECURE supplied: add, import, list, remove, look up.

Every handset belongs to a customer (`ivr.store.customers`), named by name
or account number; a name not known yet creates the customer (see
`customer_for_handset` for why).

Functions take a session; the caller decides where the transaction begins
and ends (an import is one transaction: any bad line imports nothing).
"""

from __future__ import annotations

import csv
from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from ivr.callers import InvalidNumber, normalise_number
from ivr.names import CUSTOMER_NAME_MAX, InvalidName, check_name
from ivr.store.customers import CustomerError, customer_for_handset
from ivr.store.engineers import PagingError, normalise_contact
from ivr.store.models import Customer, Handset


class HandsetError(ValueError):
    """A handset cannot be added, imported or removed; the message says why."""


@dataclass(frozen=True)
class HandsetRow:
    number: str
    customer: str  # a name or an account number


@dataclass(frozen=True)
class ImportResult:
    added: int
    updated: int
    new_customers: list[str]


def find_handset(session: Session, number: str) -> Handset | None:
    return session.scalar(select(Handset).where(Handset.number == number))


def add_handset(
    session: Session, number: str, customer: str | Customer, contact: str | None = None
) -> Handset:
    """Register `number` for `customer` (a Customer, or a name or account to resolve)."""
    e164 = _normalise(number)
    if find_handset(session, e164) is not None:
        raise HandsetError(f"{e164} is already registered")
    owner = _owner(session, customer)
    handset = Handset(number=e164, owner=owner, contact=_contact(contact))
    session.add(handset)
    session.flush()
    return handset


def _owner(session: Session, customer: str | Customer) -> Customer:
    if isinstance(customer, Customer):
        return customer
    if not customer.strip():
        raise HandsetError("a customer name is required")
    try:
        return customer_for_handset(session, customer)[0]
    except CustomerError as exc:
        raise HandsetError(str(exc)) from None


def set_contact(session: Session, number: str, contact: str | None) -> Handset:
    """Where a callback rings the handset; None: its own number, through the trunk."""
    handset = find_handset(session, _normalise(number))
    if handset is None:
        raise HandsetError(f"{_normalise(number)} is not a registered handset")
    handset.contact = _contact(contact)
    return handset


def _contact(contact: str | None) -> str | None:
    """The engineers' contact rule, one rule for both: a sip: URI or a number."""
    if contact is None:
        return None
    try:
        return normalise_contact(contact)
    except PagingError as exc:
        raise HandsetError(str(exc)) from None


def remove_handset(session: Session, number: str) -> Handset:
    e164 = _normalise(number)
    handset = find_handset(session, e164)
    if handset is None:
        raise HandsetError(f"{e164} is not registered")
    session.delete(handset)
    return handset


def list_handsets(session: Session) -> list[Handset]:
    return list(
        session.scalars(select(Handset).join(Handset.owner).order_by(Customer.name, Handset.number))
    )


def parse_handset_csv(lines: Iterable[str]) -> list[HandsetRow]:
    """Parse `number,customer` rows (a header row is optional).

    Raises HandsetError naming every bad line, so an operator fixes the file
    in one go.
    """
    rows: list[HandsetRow] = []
    errors: list[str] = []
    seen: dict[str, int] = {}
    for line_number, record in enumerate(csv.reader(lines), start=1):
        if not record or all(not field.strip() for field in record):
            continue
        if line_number == 1 and record[0].strip().lower() in ("number", "cli", "phone"):
            continue
        if len(record) < 2 or not record[1].strip():
            errors.append(f"line {line_number}: expected NUMBER,CUSTOMER")
            continue
        try:
            e164 = normalise_number(record[0])
        except InvalidNumber as exc:
            errors.append(f"line {line_number}: {exc}")
            continue
        if e164 in seen:
            errors.append(f"line {line_number}: {e164} repeats line {seen[e164]}")
            continue
        try:
            customer = _customer(record[1])
        except HandsetError as exc:
            errors.append(f"line {line_number}: {exc}")
            continue
        seen[e164] = line_number
        rows.append(HandsetRow(e164, customer))
    if errors:
        raise HandsetError("nothing imported:\n" + "\n".join(errors))
    return rows


def import_handsets(session: Session, rows: list[HandsetRow]) -> ImportResult:
    """Add new handsets and move known ones to the customer given.

    A customer name not known yet is created (listed in the result); an
    account number that is not known is an error naming it.
    """
    added = updated = 0
    created: list[str] = []
    for row in rows:
        try:
            owner, new = customer_for_handset(session, row.customer)
        except CustomerError as exc:
            raise HandsetError(f"nothing imported: {row.number}: {exc}") from None
        if new:
            created.append(owner.name)
        existing = find_handset(session, row.number)
        if existing is None:
            session.add(Handset(number=row.number, owner=owner))
            added += 1
        elif existing.customer_id != owner.id:
            existing.owner = owner
            updated += 1
    session.flush()
    return ImportResult(added, updated, created)


def _normalise(number: str) -> str:
    try:
        return normalise_number(number)
    except InvalidNumber as exc:
        raise HandsetError(str(exc)) from None


def _customer(name: str) -> str:
    try:
        return check_name(name, "a customer name", CUSTOMER_NAME_MAX)
    except InvalidName as exc:
        raise HandsetError(str(exc)) from None
