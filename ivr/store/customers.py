"""Customers: names, account numbers, e-mail addresses, PINs and the PIN lock-out.

A customer owns handsets; calls and faults point at the customer and keep
the name they had then. A customer may also be verified from any phone by
account number and PIN (for when the handset we supplied is what is down),
so the PIN is treated as a password: hashed with the same scrypt as admin
passwords (`ivr.store.admins`), never printed, never logged, and guarded by
a lock-out so that 4 digits cannot be guessed by ringing in a loop.

Functions take a session; the caller decides where the transaction begins
and ends. Rules about the shape of a value (`check_*`) raise CustomerError
before any database work, so the command line can call them bad usage.
"""

from __future__ import annotations

import functools
import logging
import re
import secrets
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from ivr.addresses import InvalidAddress
from ivr.addresses import check_emails as check_address_list
from ivr.domain import UNRESOLVED_STATUSES
from ivr.names import CUSTOMER_NAME_MAX, InvalidName
from ivr.names import check_name as check_name_rule
from ivr.store.admins import hash_password, verify_password
from ivr.store.models import CallRecord, Customer, Fault, PinFailure, utcnow

log = logging.getLogger(__name__)

ACCOUNT_DIGITS = 6
MIN_PIN = 4
MAX_PIN = 8
MAX_NAME = CUSTOMER_NAME_MAX
_ACCOUNT = re.compile(r"^[0-9]{6}$")
_PIN = re.compile(r"^[0-9]{4,8}$")
# Generated accounts never start with 0, so they read the same in any tool.
_FIRST_GENERATED, _LAST_GENERATED = 100000, 999999
_MAX_ACCOUNT_TRIES = 50

# pin_failures.result
RESULT_WRONG = "wrong"
RESULT_LOCKOUT = "lockout"
RESULT_LOCKED = "locked"


class CustomerError(ValueError):
    """A customer cannot be added, found, changed or removed; the message says why."""


# ---- the shape of values (no database) ------------------------------------------------


def check_name(name: str) -> str:
    """A customer's name, trimmed (the one rule for names in `ivr.names`, then ours).

    All digits is refused: it would read as an account.
    """
    try:
        name = " ".join(check_name_rule(name, "a customer name", MAX_NAME).split())
    except InvalidName as exc:
        raise CustomerError(str(exc)) from None
    if name.isdigit():
        raise CustomerError("a customer name must not be only digits (that reads as an account)")
    return name


def check_account(account: str) -> str:
    account = account.strip()
    if not _ACCOUNT.match(account):
        raise CustomerError(f"{account!r} is not an account number: {ACCOUNT_DIGITS} digits")
    return account


def check_pin_rules(pin: str) -> str:
    """The PIN itself, never echoed back in the message."""
    if not _PIN.match(pin):
        raise CustomerError(f"a PIN is {MIN_PIN} to {MAX_PIN} digits (0-9), nothing else")
    return pin


def check_emails(addresses: Iterable[str]) -> list[str]:
    """Each address checked (`ivr.addresses`), repeats dropped, order kept."""
    try:
        return check_address_list(addresses)
    except InvalidAddress as exc:
        raise CustomerError(str(exc)) from None


def looks_like_account(key: str) -> bool:
    return bool(_ACCOUNT.match(key.strip()))


# ---- finding ----------------------------------------------------------------------------


def find_by_account(session: Session, account: str) -> Customer | None:
    return session.scalar(select(Customer).where(Customer.account == account.strip()))


def find_by_name(session: Session, name: str) -> Customer | None:
    """Exactly as spelt first; then ignoring case, so 'ACME Ltd' finds 'Acme Ltd'."""
    name = " ".join(name.split())
    exact = session.scalar(select(Customer).where(Customer.name == name))
    if exact is not None:
        return exact
    return session.scalar(
        select(Customer).where(func.lower(Customer.name) == name.lower()).order_by(Customer.id)
    )


def find_customer(session: Session, key: str) -> Customer | None:
    """By account number if `key` is 6 digits, else by name."""
    if looks_like_account(key):
        return find_by_account(session, key)
    return find_by_name(session, key)


def get_customer(session: Session, key: str) -> Customer:
    customer = find_customer(session, key)
    if customer is None:
        what = "with account" if looks_like_account(key) else "called"
        raise CustomerError(f"no customer {what} {key.strip()!r} (see ivr customers list)")
    return customer


def list_customers(session: Session) -> list[Customer]:
    return list(session.scalars(select(Customer).order_by(Customer.name)))


def open_fault_count(session: Session, customer: Customer) -> int:
    return (
        session.scalar(
            select(func.count())
            .select_from(Fault)
            .where(Fault.customer_id == customer.id, Fault.status.in_(UNRESOLVED_STATUSES))
        )
        or 0
    )


def open_faults(session: Session, customer: Customer) -> list[Fault]:
    return list(
        session.scalars(
            select(Fault)
            .where(Fault.customer_id == customer.id, Fault.status.in_(UNRESOLVED_STATUSES))
            .order_by(Fault.reported_at)
        )
    )


# ---- adding, changing, removing ---------------------------------------------------------


def new_account(session: Session) -> str:
    """An unused account number, chosen at random so that one account does not tell another."""
    for _ in range(_MAX_ACCOUNT_TRIES):
        account = str(_FIRST_GENERATED + secrets.randbelow(_LAST_GENERATED - _FIRST_GENERATED + 1))
        if find_by_account(session, account) is None:
            return account
    raise CustomerError("could not find a free account number; give one with --account")


def add_customer(
    session: Session,
    name: str,
    *,
    account: str | None = None,
    emails: Sequence[str] = (),
    pin: str | None = None,
    now: datetime | None = None,
) -> Customer:
    name = check_name(name)
    checked_emails = check_emails(emails)
    if pin is not None:
        check_pin_rules(pin)
    if account is not None:
        account = check_account(account)
    existing = find_by_name(session, name)
    if existing is not None:
        raise CustomerError(f"a customer called {existing.name!r} already exists")
    if account is not None and find_by_account(session, account) is not None:
        raise CustomerError(f"account {account} is already taken")
    customer = Customer(
        name=name,
        account=account or new_account(session),
        emails=checked_emails,
        pin_hash=hash_password(pin) if pin is not None else None,
        created_at=now or utcnow(),
    )
    session.add(customer)
    session.flush()
    return customer


def customer_for_handset(session: Session, key: str) -> tuple[Customer, bool]:
    """The customer a handset is added for, and whether it was created just now.

    An account number must exist (creating a customer called '123456' is
    never what was meant). A name that is not known yet creates the
    customer, without a PIN: registering handsets is how customers have
    always been set up, by hand and by script, so that keeps working.
    """
    if looks_like_account(key):
        return get_customer(session, key), False
    existing = find_by_name(session, key)
    if existing is not None:
        return existing, False
    return add_customer(session, key), True


def set_customer(
    session: Session,
    key: str,
    *,
    name: str | None = None,
    emails: Sequence[str] | None = None,
    pin: str | None = None,
    clear_pin: bool = False,
) -> Customer:
    """Change what is given: a new name, the whole list of e-mail addresses, the PIN.

    A rename changes nothing already logged: calls and faults keep the name
    they were taken under.
    """
    if pin is not None and clear_pin:
        raise CustomerError("give a new PIN or clear it, not both")
    customer = get_customer(session, key)
    if name is not None:
        name = check_name(name)
        clash = find_by_name(session, name)
        if clash is not None and clash.id != customer.id:
            raise CustomerError(f"a customer called {clash.name!r} already exists")
        customer.name = name
    if emails is not None:
        customer.emails = check_emails(emails)
    if pin is not None:
        customer.pin_hash = hash_password(check_pin_rules(pin))
    if clear_pin:
        customer.pin_hash = None
    session.flush()
    return customer


def remove_customer(session: Session, key: str, *, force: bool = False) -> Customer:
    """Remove a customer; refused while handsets or open faults refer to it, unless `force`.

    With `force` the customer's handsets go too (a handset always belongs to
    someone); calls and faults stay, unlinked, under the name they had.
    """
    customer = get_customer(session, key)
    handsets = len(customer.handsets)
    faults = open_fault_count(session, customer)
    if (handsets or faults) and not force:
        held = []
        if handsets:
            held.append(f"{handsets} handset{'s' if handsets != 1 else ''}")
        if faults:
            held.append(f"{faults} open fault{'s' if faults != 1 else ''}")
        raise CustomerError(
            f"{customer.name} still has {' and '.join(held)}; "
            "remove those first, or use --force to remove the customer anyway"
        )
    for handset in list(customer.handsets):
        session.delete(handset)
    for table in (CallRecord, Fault):
        session.execute(
            update(table).where(table.customer_id == customer.id).values(customer_id=None)
        )
    session.flush()
    session.delete(customer)
    session.flush()
    return customer


@dataclass(frozen=True)
class CustomerSummary:
    """A customer as listings show it: never the PIN or its hash, only whether one is set."""

    name: str
    account: str
    emails: list[str]
    pin_set: bool
    handsets: list[str]
    open_faults: list[str]
    created_at: datetime
    locked_until: datetime | None = None  # PIN entry locked out until then

    def as_dict(self) -> dict[str, object]:
        return {
            "name": self.name,
            "account": self.account,
            "emails": list(self.emails),
            "pin_set": self.pin_set,
            "handsets": list(self.handsets),
            "open_faults": list(self.open_faults),
            "created_at": self.created_at.isoformat(),
            "locked_until": self.locked_until.isoformat() if self.locked_until else None,
        }


def summarise(session: Session, customer: Customer, now: datetime | None = None) -> CustomerSummary:
    """With `now`, also whether PIN entry is locked out for the account at that moment."""
    return CustomerSummary(
        name=customer.name,
        account=customer.account,
        emails=list(customer.emails),
        pin_set=customer.pin_hash is not None,
        handsets=[h.number for h in customer.handsets],
        open_faults=[f.reference for f in open_faults(session, customer)],
        created_at=customer.created_at,
        locked_until=locked_until(session, customer.account, now) if now is not None else None,
    )


# ---- the PIN lock-out -------------------------------------------------------------------


@dataclass(frozen=True)
class LockoutRule:
    """After `threshold` failed attempts within `window`, an account is locked for `duration`.

    Pure arithmetic on instants, so every edge is tested by stepping time by
    hand. Attempts made while locked are not counted: they neither extend
    the lock nor start the next one.
    """

    threshold: int = 5
    window: timedelta = timedelta(hours=1)
    duration: timedelta = timedelta(hours=1)

    def locked_until(self, last_lockout: datetime | None) -> datetime | None:
        return last_lockout + self.duration if last_lockout is not None else None

    def is_locked(self, last_lockout: datetime | None, now: datetime) -> bool:
        until = self.locked_until(last_lockout)
        return until is not None and now < until

    def locks(
        self, counted_failures: Iterable[datetime], last_lockout: datetime | None, now: datetime
    ) -> bool:
        """Whether one more failure at `now` locks the account.

        `counted_failures` are earlier failures that count (not those made
        while locked); those before the window, or at or before the last
        lock-out (they were spent on it), are ignored.
        """
        since = now - self.window
        if last_lockout is not None and last_lockout > since:
            since = last_lockout
        recent = sum(1 for at in counted_failures if since < at <= now)
        return recent + 1 >= self.threshold


LOCKOUT_RULE = LockoutRule()


@functools.cache
def _dummy_hash() -> str:
    """Checked when there is no PIN to check, so that costs as much as a wrong PIN."""
    return hash_password(secrets.token_hex(8))


def _last_lockout(session: Session, account: str) -> datetime | None:
    return session.scalar(
        select(func.max(PinFailure.at)).where(
            PinFailure.account == account, PinFailure.result == RESULT_LOCKOUT
        )
    )


def is_locked(
    session: Session, account: str, now: datetime, rule: LockoutRule = LOCKOUT_RULE
) -> bool:
    """Whether the account is locked at `now` (known or not: an unknown one locks alike)."""
    return rule.is_locked(_last_lockout(session, account.strip()), now)


def locked_until(
    session: Session, account: str, now: datetime, rule: LockoutRule = LOCKOUT_RULE
) -> datetime | None:
    """When the account's lock ends, or None when it is not locked at `now`."""
    last = _last_lockout(session, account.strip())
    return rule.locked_until(last) if rule.is_locked(last, now) else None


def check_pin(
    session: Session,
    account: str,
    pin: str,
    source_number: str | None,
    now: datetime,
    rule: LockoutRule = LOCKOUT_RULE,
) -> Customer | None:
    """The customer when `account` and `pin` match and the account is not locked, else None.

    The caller learns nothing else: a wrong PIN, an unknown account, a
    customer with no PIN and a locked account all return None, after the
    same scrypt work. Every failure is recorded (with the calling number)
    for the lock-out; the failure that locks the account is logged.
    """
    account = account.strip()
    if not _ACCOUNT.match(account):
        verify_password(pin, _dummy_hash())
        return None
    customer = find_by_account(session, account)
    last_lockout = _last_lockout(session, account)
    if rule.is_locked(last_lockout, now):
        verify_password(pin, _dummy_hash())
        _record(session, account, customer, source_number, RESULT_LOCKED, now)
        return None
    stored = customer.pin_hash if customer is not None else None
    if verify_password(pin, stored or _dummy_hash()) and customer is not None and stored:
        return customer
    counted = session.scalars(
        select(PinFailure.at).where(
            PinFailure.account == account,
            PinFailure.result.in_((RESULT_WRONG, RESULT_LOCKOUT)),
            PinFailure.at > now - rule.window,
        )
    ).all()
    result = RESULT_LOCKOUT if rule.locks(counted, last_lockout, now) else RESULT_WRONG
    _record(session, account, customer, source_number, result, now)
    if result == RESULT_LOCKOUT:
        log.warning(
            "account %s locked until %s after %d failed PIN attempts (the last from %s)",
            account,
            rule.locked_until(now),
            rule.threshold,
            source_number or "a withheld number",
        )
    return None


def _record(
    session: Session,
    account: str,
    customer: Customer | None,
    source_number: str | None,
    result: str,
    now: datetime,
) -> None:
    session.add(
        PinFailure(
            account=account,
            customer_id=customer.id if customer is not None else None,
            source_number=source_number[:20] if source_number else None,
            result=result,
            at=now,
        )
    )
    session.flush()


def count_lockouts(session: Session, since: datetime | None = None) -> int:
    """How many times an account has been locked (since `since`), for /metrics."""
    query = select(func.count()).select_from(PinFailure).where(PinFailure.result == RESULT_LOCKOUT)
    if since is not None:
        query = query.where(PinFailure.at >= since)
    return session.scalar(query) or 0


def locked_accounts(
    session: Session, now: datetime, rule: LockoutRule = LOCKOUT_RULE
) -> list[tuple[str, datetime]]:
    """Each account locked at `now`, with when its lock ends (for the web page)."""
    rows = session.execute(
        select(PinFailure.account, func.max(PinFailure.at))
        .where(PinFailure.result == RESULT_LOCKOUT, PinFailure.at > now - rule.duration)
        .group_by(PinFailure.account)
        .order_by(PinFailure.account)
    ).all()
    locked: list[tuple[str, datetime]] = []
    for account, last in rows:
        until = rule.locked_until(last)
        if until is not None and now < until:
            locked.append((account, until))
    return locked
