"""Customers at store level, on SQLite and PostgreSQL: records, PINs and the lock-out.

The lock-out arithmetic (`LockoutRule`) is pure and tested by stepping time
by hand; `check_pin` is then tested against a real database with `now`
passed in, never the clock.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from ivr.domain import Priority, VerifiedBy
from ivr.sla import Deadlines
from ivr.store.call_writes import NewCall, create_fault, open_call
from ivr.store.customers import (
    CustomerError,
    LockoutRule,
    add_customer,
    check_account,
    check_emails,
    check_name,
    check_pin,
    check_pin_rules,
    count_lockouts,
    find_customer,
    get_customer,
    is_locked,
    list_customers,
    locked_accounts,
    locked_until,
    remove_customer,
    set_customer,
    summarise,
)
from ivr.store.db import Database
from ivr.store.handsets import add_handset, list_handsets
from ivr.store.models import CallRecord, Customer, Fault, Handset, PinFailure

T0 = datetime(2026, 7, 1, 10, 0, tzinfo=UTC)
PIN = "4821"
CALLER = "+447700900123"


@pytest.fixture(params=["sqlite", "postgresql"])
def db(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Database]:
    if request.param == "postgresql":
        url: str = request.getfixturevalue("postgres_url")
    else:
        url = f"sqlite:///{tmp_path}/customers.db"
    database = Database(url)
    database.create_schema()
    yield database
    database.dispose()


def account_of(db: Database, name: str) -> str:
    with db.sessions() as session:
        return get_customer(session, name).account


# ---- the shape of values ---------------------------------------------------------------


@pytest.mark.parametrize("pin", ["1234", "12345678", "0000"])
def test_pins_of_4_to_8_digits_are_accepted(pin: str) -> None:
    assert check_pin_rules(pin) == pin


@pytest.mark.parametrize("pin", ["123", "123456789", "12a4", " 1234", "", "１２３４"])
def test_other_pins_are_refused_without_echoing_them(pin: str) -> None:
    with pytest.raises(CustomerError) as error:
        check_pin_rules(pin)
    assert "4 to 8 digits" in str(error.value)
    if pin.strip():
        assert pin.strip() not in str(error.value)


@pytest.mark.parametrize("account", ["12345", "1234567", "12345a", ""])
def test_an_account_is_six_digits(account: str) -> None:
    with pytest.raises(CustomerError, match="6 digits"):
        check_account(account)
    assert check_account(" 012345 ") == "012345"


@pytest.mark.parametrize("address", ["nobody", "a@b", "a b@example.com", "a@@example.com"])
def test_bad_email_addresses_are_refused(address: str) -> None:
    with pytest.raises(CustomerError, match="not an e-mail address"):
        check_emails([address])


def test_names_are_tidied_and_never_only_digits() -> None:
    assert check_name("  Acme   Ltd ") == "Acme Ltd"
    with pytest.raises(CustomerError, match="only digits"):
        check_name("123456")
    with pytest.raises(CustomerError, match="required"):
        check_name("   ")


# ---- records ---------------------------------------------------------------------------


def test_add_generates_a_unique_account_and_hashes_the_pin(db: Database) -> None:
    with db.sessions.begin() as session:
        acme = add_customer(
            session, "Acme Ltd", emails=["ops@acme.example", "OPS@acme.example"], pin=PIN
        )
        other = add_customer(session, "Bolt Brothers plc", account="012345")
    with db.sessions() as session:
        rows = {c.name: c for c in list_customers(session)}
    assert list(rows) == ["Acme Ltd", "Bolt Brothers plc"]
    assert len(acme.account) == 6 and acme.account.isdigit() and acme.account != "012345"
    assert other.account == "012345"
    assert rows["Acme Ltd"].emails == ["ops@acme.example"]  # a repeat in another case dropped
    stored = rows["Acme Ltd"].pin_hash
    assert stored is not None and stored.startswith("scrypt$") and PIN not in stored
    assert rows["Bolt Brothers plc"].pin_hash is None


def test_names_and_accounts_are_unique(db: Database) -> None:
    with db.sessions.begin() as session:
        add_customer(session, "Acme Ltd", account="123456")
    with db.sessions.begin() as session, pytest.raises(CustomerError, match="already exists"):
        add_customer(session, "ACME ltd")
    with db.sessions.begin() as session, pytest.raises(CustomerError, match="already taken"):
        add_customer(session, "Other", account="123456")


def test_find_by_name_in_any_case_or_by_account(db: Database) -> None:
    with db.sessions.begin() as session:
        add_customer(session, "Acme Ltd", account="123456")
    with db.sessions() as session:
        by_name = find_customer(session, "acme LTD")
        by_account = find_customer(session, "123456")
        assert by_name is not None and by_account is not None
        assert by_name.id == by_account.id
        assert find_customer(session, "654321") is None
        with pytest.raises(CustomerError, match="no customer with account '654321'"):
            get_customer(session, "654321")


def test_set_renames_replaces_emails_and_changes_the_pin(db: Database) -> None:
    with db.sessions.begin() as session:
        add_customer(session, "Acme Ltd", emails=["a@acme.example"], pin=PIN)
        add_customer(session, "Bolt Brothers plc")
    with db.sessions.begin() as session:
        set_customer(session, "Acme Ltd", name="Acme Group", emails=["b@acme.example"], pin="9999")
    account = account_of(db, "Acme Group")
    with db.sessions.begin() as session:
        assert check_pin(session, account, "9999", CALLER, T0) is not None
        assert get_customer(session, account).emails == ["b@acme.example"]
    with db.sessions.begin() as session, pytest.raises(CustomerError, match="already exists"):
        set_customer(session, "Acme Group", name="bolt brothers PLC")
    with db.sessions.begin() as session:
        set_customer(session, "Acme Group", clear_pin=True)
    with db.sessions.begin() as session:
        assert get_customer(session, account).pin_hash is None
        assert check_pin(session, account, "9999", CALLER, T0) is None


def test_handsets_belong_to_a_customer_by_name_or_account(db: Database) -> None:
    with db.sessions.begin() as session:
        add_customer(session, "Acme Ltd", account="123456")
        add_handset(session, "020 7946 0000", "123456")
        add_handset(session, "020 7946 0001", "acme ltd")
        add_handset(session, "0161 496 0000", "Northern Widgets")  # a new name: created
    with db.sessions() as session:
        assert [(h.number, h.customer) for h in list_handsets(session)] == [
            ("+442079460000", "Acme Ltd"),
            ("+442079460001", "Acme Ltd"),
            ("+441614960000", "Northern Widgets"),
        ]
        assert summarise(session, get_customer(session, "123456")).handsets == [
            "+442079460000",
            "+442079460001",
        ]


def test_remove_is_refused_while_handsets_or_open_faults_refer_to_it(db: Database) -> None:
    with db.sessions.begin() as session:
        acme = add_customer(session, "Acme Ltd")
        add_handset(session, "020 7946 0000", acme)
        session.add(
            Fault(reference="100001", priority="high", customer="Acme Ltd", customer_id=acme.id)
        )
        add_customer(session, "Quiet Ltd")
    with (
        db.sessions.begin() as session,
        pytest.raises(CustomerError, match="1 handset and 1 open fault.*--force"),
    ):
        remove_customer(session, "Acme Ltd")
    with db.sessions.begin() as session:
        remove_customer(session, "Quiet Ltd")  # nothing refers to it
        remove_customer(session, "Acme Ltd", force=True)
    with db.sessions() as session:
        assert list_customers(session) == []
        assert session.scalars(select(Handset)).all() == []
        fault = session.scalars(select(Fault)).one()
        assert (fault.customer, fault.customer_id) == ("Acme Ltd", None)  # kept, unlinked


def test_resolved_faults_do_not_hold_a_customer(db: Database) -> None:
    with db.sessions.begin() as session:
        acme = add_customer(session, "Acme Ltd")
        session.add(
            Fault(reference="100001", priority="high", status="resolved", customer_id=acme.id)
        )
    with db.sessions.begin() as session:
        remove_customer(session, "Acme Ltd")


# ---- calls and faults take the customer from the handset ----------------------------------


def new_call(cli: str | None) -> NewCall:
    return NewCall(
        sip_call_id=f"call-{cli}",  # one call a number: the same Call-ID would be a retry
        from_header=None,
        display_name=None,
        asserted_identity=None,
        source_address="192.0.2.1:5060",
        cli=cli,
        verification="From",
        started_at=T0,
    )


def test_a_call_from_a_handset_links_its_customer_and_its_fault(db: Database) -> None:
    with db.sessions.begin() as session:
        acme = add_customer(session, "Acme Ltd")
        add_handset(session, "020 7946 0000", acme)
        known = open_call(session, new_call("+442079460000"), None)
        unknown = open_call(session, new_call("+447700900000"), None)
        clock = Deadlines(T0 + timedelta(hours=1), T0 + timedelta(hours=4), None)
        reference = create_fault(session, known.id, Priority.HIGH, T0, clock, pages=False)
    with db.sessions() as session:
        call = session.get_one(CallRecord, known.id)
        assert (call.customer, call.customer_id, call.verified_by) == (
            "Acme Ltd",
            acme.id,
            VerifiedBy.HANDSET,
        )
        assert call.reference_heard is False
        stranger = session.get_one(CallRecord, unknown.id)
        assert (stranger.customer_id, stranger.verified_by) == (None, None)
        fault = session.scalars(select(Fault).where(Fault.reference == reference)).one()
        assert (fault.customer, fault.customer_id, fault.verified_by) == (
            "Acme Ltd",
            acme.id,
            "handset",
        )


# ---- the lock-out, pure ------------------------------------------------------------------

RULE = LockoutRule(threshold=5, window=timedelta(hours=1), duration=timedelta(hours=1))


def minutes(*offsets: int) -> list[datetime]:
    return [T0 + timedelta(minutes=m) for m in offsets]


def test_the_fifth_failure_in_an_hour_locks() -> None:
    assert not RULE.locks(minutes(0, 10, 20), None, T0 + timedelta(minutes=30))
    assert RULE.locks(minutes(0, 10, 20, 30), None, T0 + timedelta(minutes=40))


def test_failures_older_than_the_window_do_not_count() -> None:
    # The first is exactly an hour before: outside the window.
    assert not RULE.locks(minutes(0, 10, 20, 30), None, T0 + timedelta(minutes=60))
    assert RULE.locks(minutes(0, 10, 20, 30), None, T0 + timedelta(minutes=59))


def test_a_lock_lasts_exactly_its_duration() -> None:
    locked_at = T0
    assert RULE.is_locked(locked_at, T0)
    assert RULE.is_locked(locked_at, T0 + timedelta(minutes=59, seconds=59))
    assert not RULE.is_locked(locked_at, T0 + timedelta(hours=1))
    assert RULE.locked_until(locked_at) == T0 + timedelta(hours=1)
    assert not RULE.is_locked(None, T0)


def test_failures_spent_on_a_lockout_do_not_count_again() -> None:
    """With a window longer than the lock, the failures that locked are not reused."""
    rule = LockoutRule(threshold=3, window=timedelta(hours=3), duration=timedelta(hours=1))
    failures = minutes(0, 1)
    locked_at = T0 + timedelta(minutes=2)
    assert rule.locks(failures, None, locked_at)
    after = T0 + timedelta(minutes=70)
    assert not rule.locks([*failures, locked_at], locked_at, after)
    later = [*failures, locked_at, after, after + timedelta(minutes=1)]
    assert not rule.locks(later[:-1], locked_at, after + timedelta(minutes=1))
    assert rule.locks(later, locked_at, after + timedelta(minutes=2))  # three new ones


# ---- the lock-out, in the database --------------------------------------------------------


@pytest.fixture
def acme_account(db: Database) -> str:
    with db.sessions.begin() as session:
        return add_customer(session, "Acme Ltd", pin=PIN).account


def attempt(db: Database, account: str, pin: str, at: datetime) -> Customer | None:
    with db.sessions.begin() as session:
        return check_pin(session, account, pin, CALLER, at)


def test_the_right_pin_finds_the_customer(db: Database, acme_account: str) -> None:
    found = attempt(db, acme_account, PIN, T0)
    assert found is not None and found.name == "Acme Ltd"
    assert attempt(db, acme_account, "0000", T0) is None
    assert attempt(db, "999999", PIN, T0) is None  # unknown account
    assert attempt(db, "12", PIN, T0) is None  # not an account at all


def test_five_failures_in_an_hour_lock_the_account_for_an_hour(
    db: Database, acme_account: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="ivr.store.customers")
    for step in range(4):
        assert attempt(db, acme_account, "0000", T0 + timedelta(minutes=step)) is None
    with db.sessions() as session:
        assert not is_locked(session, acme_account, T0 + timedelta(minutes=4))
    assert attempt(db, acme_account, "1111", T0 + timedelta(minutes=4)) is None  # the fifth
    locked_at = T0 + timedelta(minutes=4)

    # Locked: the right PIN fails too, and the caller cannot tell.
    assert attempt(db, acme_account, PIN, locked_at + timedelta(minutes=30)) is None
    with db.sessions() as session:
        assert is_locked(session, acme_account, locked_at + timedelta(minutes=59))
        assert locked_until(session, acme_account, locked_at) == locked_at + timedelta(hours=1)
        assert locked_accounts(session, locked_at) == [
            (acme_account, locked_at + timedelta(hours=1))
        ]
        assert count_lockouts(session) == 1
        results = session.scalars(select(PinFailure.result).order_by(PinFailure.id)).all()
        assert results == ["wrong"] * 4 + ["lockout", "locked"]
        sources = set(session.scalars(select(PinFailure.source_number)))
        assert sources == {CALLER}

    # An hour after the lock-out the right PIN works again.
    after = locked_at + timedelta(hours=1)
    with db.sessions() as session:
        assert not is_locked(session, acme_account, after)
        assert locked_accounts(session, after) == []
    found = attempt(db, acme_account, PIN, after)
    assert found is not None and found.name == "Acme Ltd"

    logged = [r.getMessage() for r in caplog.records]
    assert len(logged) == 1 and f"account {acme_account} locked" in logged[0]
    assert CALLER in logged[0]
    assert all(PIN not in m and "0000" not in m and "1111" not in m for m in logged)


def test_failures_spread_over_more_than_an_hour_never_lock(db: Database, acme_account: str) -> None:
    for step in range(10):
        assert attempt(db, acme_account, "0000", T0 + timedelta(minutes=16 * step)) is None
    with db.sessions() as session:
        assert count_lockouts(session) == 0
    assert attempt(db, acme_account, PIN, T0 + timedelta(minutes=160)) is not None


def test_an_unknown_account_locks_just_like_a_known_one(db: Database) -> None:
    """So that the lock-out does not tell a caller which accounts exist."""
    for step in range(5):
        attempt(db, "999999", "0000", T0 + timedelta(minutes=step))
    with db.sessions() as session:
        assert is_locked(session, "999999", T0 + timedelta(minutes=5))
        assert count_lockouts(session, since=T0) == 1
        assert count_lockouts(session, since=T0 + timedelta(minutes=5)) == 0


def test_a_customer_without_a_pin_cannot_be_verified_by_pin(db: Database) -> None:
    with db.sessions.begin() as session:
        account = add_customer(session, "No PIN Ltd").account
    assert attempt(db, account, "", T0) is None
    assert attempt(db, account, "1234", T0) is None


def test_a_customer_with_pin_failures_can_be_removed(db: Database, acme_account: str) -> None:
    """Its failures go with it (they are only there for the lock-out)."""
    attempt(db, acme_account, "0000", T0)
    with db.sessions.begin() as session:
        remove_customer(session, acme_account)
    with db.sessions() as session:
        assert session.scalars(select(PinFailure)).all() == []
