"""A page call is dialled at once: the customer's name is synthesised while the phone rings."""

from __future__ import annotations

import asyncio
import threading
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from ivr.pager.scheduler import PagingScheduler, StepWork
from ivr.paging.page_flow import PagedFault
from ivr.paging.policy import AttemptResult, Policy
from ivr.sip.engine import DialOutcome, DialResult
from ivr.store.db import Database

LONDON = ZoneInfo("Europe/London")
NOW = datetime(2026, 11, 25, 14, 0, tzinfo=UTC)


class SlowSpeech:
    """Synthesis that finishes only when the test says so (or fails, if told to)."""

    def __init__(self, fails: bool = False) -> None:
        self.release = threading.Event()
        self.finished = threading.Event()
        self.fails = fails

    def prepare_text(self, text: str) -> None:
        self.release.wait(10)
        self.finished.set()
        if self.fails:
            raise RuntimeError("espeak-ng is not installed")

    def pcm_for(self, parts: object) -> bytes:  # not reached: nobody answers
        raise AssertionError("nothing is played on a busy line")


class BusyPhone:
    """Answers busy, noting whether the name was still being synthesised when dialled."""

    def __init__(self, speech: SlowSpeech) -> None:
        self.speech = speech
        self.synthesis_running_when_dialled: bool | None = None

    async def dial(self, uri: str, ring_timeout: float) -> DialResult:
        self.synthesis_running_when_dialled = not self.speech.finished.is_set()
        self.speech.release.set()
        return DialResult(DialOutcome.BUSY, 486, "486 Busy Here")


def work() -> StepWork:
    fault = PagedFault("471203", "Acme Widgets Ltd", "+442079460000", NOW.astimezone(LONDON))
    return StepWork(1, 1, "alice", "sip:alice@127.0.0.1:5099", 5, [fault], "")


def scheduler(tmp_path: Path, speech: SlowSpeech) -> tuple[PagingScheduler, BusyPhone]:
    phone = BusyPhone(speech)
    pager = PagingScheduler(
        Database(f"sqlite:///{tmp_path}/x.db"),
        phone,
        speech,  # type: ignore[arg-type]
        Policy(),
        owner="test:5060",
        tz=LONDON,
        clock=lambda: NOW,
        registrar=None,
    )
    return pager, phone


async def test_the_engineer_is_dialled_before_the_name_is_synthesised(tmp_path: Path) -> None:
    speech = SlowSpeech()
    pager, phone = scheduler(tmp_path, speech)
    result = await asyncio.wait_for(pager._call(work()), timeout=10)
    assert result == (AttemptResult.BUSY, 486, "486 Busy Here")
    assert phone.synthesis_running_when_dialled is True
    assert speech.finished.is_set()  # awaited, not left running


async def test_a_name_that_cannot_be_synthesised_does_not_stop_the_page(tmp_path: Path) -> None:
    speech = SlowSpeech(fails=True)
    pager, _ = scheduler(tmp_path, speech)
    result = await asyncio.wait_for(pager._call(work()), timeout=10)
    assert result[0] is AttemptResult.BUSY
