"""Handsets CLI SECURE supplied: add, import, list, remove, look up.

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
from ivr.store.models import Handset


class HandsetError(ValueError):
    """A handset cannot be added, imported or removed; the message says why."""


@dataclass(frozen=True)
class HandsetRow:
    number: str
    customer: str


def find_handset(session: Session, number: str) -> Handset | None:
    return session.scalar(select(Handset).where(Handset.number == number))


def add_handset(session: Session, number: str, customer: str) -> Handset:
    e164 = _normalise(number)
    customer = _customer(customer)
    if find_handset(session, e164) is not None:
        raise HandsetError(f"{e164} is already registered")
    handset = Handset(number=e164, customer=customer)
    session.add(handset)
    session.flush()
    return handset


def remove_handset(session: Session, number: str) -> Handset:
    e164 = _normalise(number)
    handset = find_handset(session, e164)
    if handset is None:
        raise HandsetError(f"{e164} is not registered")
    session.delete(handset)
    return handset


def list_handsets(session: Session) -> list[Handset]:
    return list(session.scalars(select(Handset).order_by(Handset.customer, Handset.number)))


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


def import_handsets(session: Session, rows: list[HandsetRow]) -> tuple[int, int]:
    """Add new handsets and update customers of known ones; returns (added, updated)."""
    added = updated = 0
    for row in rows:
        existing = find_handset(session, row.number)
        if existing is None:
            session.add(Handset(number=row.number, customer=row.customer))
            added += 1
        elif existing.customer != row.customer:
            existing.customer = row.customer
            updated += 1
    session.flush()
    return added, updated


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
