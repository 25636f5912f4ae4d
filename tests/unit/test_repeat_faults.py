"""A repeat caller's open fault: `recent_open_fault` at store level, on SQLite and PostgreSQL.

A customer who rings again may add to a fault they reported lately and
that is still open; never to another customer's, a resolved one or an
older one.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from ivr.domain import UNRESOLVED_STATUSES
from ivr.store.db import Database
from ivr.store.faults import recent_open_fault
from ivr.store.models import Fault

ACME = "Acme Widgets Ltd"
OTHER = "Bolt Brothers plc"
# Summer, so that London time (BST) and UTC differ by an hour.
NOW = datetime(2026, 7, 1, 10, 0, tzinfo=UTC)
WINDOW = timedelta(minutes=30)
SINCE = NOW - WINDOW
LONDON = ZoneInfo("Europe/London")


@pytest.fixture(params=["sqlite", "postgresql"])
def db(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Database]:
    if request.param == "postgresql":
        url: str = request.getfixturevalue("postgres_url")
    else:
        url = f"sqlite:///{tmp_path}/faults.db"
    database = Database(url)
    database.create_schema()
    yield database
    database.dispose()


def add(
    db: Database,
    reference: str,
    *,
    customer: str = ACME,
    status: str = "open",
    reported_at: datetime = NOW - timedelta(minutes=10),
) -> None:
    with db.sessions.begin() as session:
        session.add(
            Fault(
                reference=reference,
                priority="high",
                status=status,
                customer=customer,
                cli="+442079460000",
                reported_at=reported_at,
            )
        )


def recent(db: Database, customer: str = ACME, since: datetime = SINCE) -> str | None:
    with db.sessions() as session:
        return recent_open_fault(session, customer, since)


@pytest.mark.parametrize("status", UNRESOLVED_STATUSES)
def test_an_unresolved_fault_of_the_same_customer_within_the_window_is_found(
    db: Database, status: str
) -> None:
    add(db, "471203", status=status)
    assert recent(db) == "471203"


def test_another_customers_fault_is_not_found(db: Database) -> None:
    add(db, "471203", customer=OTHER)
    assert recent(db) is None
    assert recent(db, OTHER) == "471203"


def test_a_resolved_fault_is_not_found(db: Database) -> None:
    add(db, "471203", status="resolved")
    assert recent(db) is None


def test_a_fault_older_than_the_window_is_not_found(db: Database) -> None:
    add(db, "471203", reported_at=SINCE - timedelta(seconds=1))
    assert recent(db) is None


def test_a_fault_reported_at_the_start_of_the_window_is_found(db: Database) -> None:
    add(db, "471203", reported_at=SINCE)
    assert recent(db) == "471203"


def test_the_latest_open_fault_of_the_customer_is_chosen(db: Database) -> None:
    add(db, "100001", reported_at=NOW - timedelta(minutes=20))
    add(db, "100002", reported_at=NOW - timedelta(minutes=5))
    add(db, "100003", reported_at=NOW - timedelta(minutes=12))
    assert recent(db) == "100002"


def test_a_later_resolved_or_foreign_fault_does_not_hide_the_open_one(db: Database) -> None:
    add(db, "100001", reported_at=NOW - timedelta(minutes=20))
    add(db, "100002", reported_at=NOW - timedelta(minutes=5), status="resolved")
    add(db, "100003", reported_at=NOW - timedelta(minutes=2), customer=OTHER)
    add(db, "100004", reported_at=SINCE - timedelta(minutes=1))
    assert recent(db) == "100001"


def test_the_window_start_is_an_instant_whatever_its_time_zone(db: Database) -> None:
    # 10:35 BST is 09:35 UTC: a fault of 09:40 UTC is inside, one of 09:30 UTC outside.
    since = datetime(2026, 7, 1, 10, 35, tzinfo=LONDON)
    add(db, "100001", reported_at=datetime(2026, 7, 1, 9, 30, tzinfo=UTC))
    assert recent(db, since=since) is None
    add(db, "100002", reported_at=datetime(2026, 7, 1, 9, 40, tzinfo=UTC))
    assert recent(db, since=since) == "100002"
