"""A new page's wake is never put off by a later one.

A step's end reads the next due time in a thread and then wakes the
scheduler for it; a critical page committed during that read wakes it for
now. Whichever arrives last, the sweep for now must still run now, not at
the later time (before, the page waited for the 15 s safety sweep).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from ivr.pager.scheduler import PagingScheduler
from ivr.paging.policy import Policy
from ivr.store.db import Database

# Long enough that a sweep put off to it never comes within the test.
LATER = timedelta(hours=3)


class NeverDials:
    async def dial(self, uri: str, ring_timeout: float) -> None:
        raise AssertionError("no page is dialled here")


class CountingSweeps(PagingScheduler):
    """The real scheduling; the sweep itself only counts (no database, no calls)."""

    def __init__(self, tmp_path: Path) -> None:
        super().__init__(
            Database(f"sqlite:///{tmp_path}/wake.db"),
            NeverDials(),  # type: ignore[arg-type]
            None,  # type: ignore[arg-type]  # never speaks
            Policy(),
            owner="test:5060",
            tz=ZoneInfo("Europe/London"),
            clock=lambda: datetime.now(UTC),
            registrar=None,
        )
        self.swept = asyncio.Event()

    async def _sweep(self) -> None:
        self.swept.set()


@pytest.fixture
async def pager(tmp_path: Path) -> AsyncIterator[CountingSweeps]:
    scheduler = CountingSweeps(tmp_path)
    scheduler._scheduler.start()
    yield scheduler
    scheduler._scheduler.shutdown(wait=False)


async def test_a_wake_for_now_survives_a_later_wake_arriving_after_it(
    pager: CountingSweeps,
) -> None:
    pager.wake()
    pager.wake(datetime.now(UTC) + LATER)
    await asyncio.wait_for(pager.swept.wait(), timeout=10)


async def test_a_wake_for_now_brings_a_later_sweep_forward(pager: CountingSweeps) -> None:
    pager.wake(datetime.now(UTC) + LATER)
    pager.wake()
    await asyncio.wait_for(pager.swept.wait(), timeout=10)
