"""Paging leases on a real PostgreSQL server: two schedulers never share a page.

`claim_due_pages` takes its candidates FOR UPDATE SKIP LOCKED on PostgreSQL,
so a second scheduler neither waits for the first one's transaction nor
gets the pages it holds. (SQLite serialises writers, so it has no such race.)
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select, text

from ivr.store.db import Database
from ivr.store.models import Fault, Page
from ivr.store.pages import claim_due_pages, open_page

T0 = datetime(2026, 1, 7, 3, 0, tzinfo=UTC)
LEASE = 120.0


@pytest.fixture
def db(postgres_url: str) -> Iterator[Database]:
    database = Database(postgres_url)
    database.create_schema()
    yield database
    database.dispose()


def due_pages(db: Database, count: int) -> list[int]:
    """`count` pages due at T0, one per customer (a second fault would join the first page)."""
    with db.sessions.begin() as session:
        pages = []
        for n in range(count):
            fault = Fault(
                reference=str(100001 + n), priority="critical", customer=f"Customer {n}",
                reported_at=T0,
            )  # fmt: skip
            session.add(fault)
            session.flush()
            pages.append(open_page(session, fault, T0).id)
    return pages


def test_a_second_scheduler_skips_pages_the_first_is_claiming(db: Database) -> None:
    pages = due_pages(db, 4)
    with db.sessions() as first, db.sessions() as second:
        mine = [p.id for p in claim_due_pages(first, T0, "node-1", LEASE, limit=2)]
        # node-1 has not committed: its rows are locked. Waiting for them would
        # trip the lock timeout; SKIP LOCKED passes over them instead.
        second.execute(text("SET LOCAL lock_timeout = '2s'"))
        theirs = [p.id for p in claim_due_pages(second, T0, "node-2", LEASE)]
        assert mine == pages[:2]
        assert theirs == pages[2:]
        first.commit()
        second.commit()
    with db.sessions() as session:
        owners = {
            row.id: row.lease_owner for row in session.execute(select(Page.id, Page.lease_owner))
        }
    assert owners == {**dict.fromkeys(pages[:2], "node-1"), **dict.fromkeys(pages[2:], "node-2")}


def test_racing_schedulers_claim_each_page_exactly_once(db: Database) -> None:
    pages = due_pages(db, 60)
    claimed: Counter[int] = Counter()
    lock = threading.Lock()
    start = threading.Barrier(4)
    errors: list[BaseException] = []

    def scheduler(name: str) -> None:
        try:
            start.wait()
            while True:
                with db.sessions.begin() as session:
                    got = [p.id for p in claim_due_pages(session, T0, name, LEASE, limit=3)]
                if not got:
                    return
                with lock:
                    claimed.update(got)
        except BaseException as exc:  # reported below, in the test's thread
            errors.append(exc)

    threads = [threading.Thread(target=scheduler, args=(f"node-{n}",)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not errors, errors
    assert sorted(claimed) == pages
    assert set(claimed.values()) == {1}, "a page was handed to two schedulers"


def test_an_expired_lease_is_claimed_again_by_one_scheduler_only(db: Database) -> None:
    (page,) = due_pages(db, 1)
    with db.sessions.begin() as session:
        assert [p.id for p in claim_due_pages(session, T0, "node-1", LEASE)] == [page]
    later = T0 + timedelta(seconds=LEASE + 1)
    with db.sessions() as first, db.sessions() as second:
        taken = claim_due_pages(first, later, "node-2", LEASE)
        second.execute(text("SET LOCAL lock_timeout = '2s'"))
        assert claim_due_pages(second, later, "node-3", LEASE) == []
        first.commit()
        second.commit()
    assert [p.id for p in taken] == [page]
