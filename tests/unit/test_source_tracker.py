"""The INVITE source address, read off the stack's transport trace."""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path

from ivr.sip.source_tracker import SourceTracker, parse_trace

DATA = Path(__file__).parent.parent / "data" / "sip"


def read(name: str) -> str:
    return (DATA / name).read_text()


def test_received_invite_gives_call_id_and_source() -> None:
    assert parse_trace(read("trace_rx_invite.txt")) == ("1-7168@127.0.0.1", "127.0.0.1")


def test_compact_call_id_and_ipv6_source() -> None:
    assert parse_trace(read("trace_rx_invite_compact_ipv6.txt")) == ("compact-42@host", "::1")


def test_our_own_responses_are_not_sources() -> None:
    assert parse_trace(read("trace_tx_response.txt")) is None


async def test_waiter_is_woken_when_the_trace_arrives_later() -> None:
    tracker = SourceTracker(asyncio.get_running_loop())
    waiting = asyncio.ensure_future(tracker.source_of("1-7168@127.0.0.1", timeout=5))
    await asyncio.sleep(0)
    record = logging.LogRecord("t", logging.DEBUG, "", 0, read("trace_rx_invite.txt"), None, None)
    tracker.emit(record)
    assert await waiting == "127.0.0.1"


async def test_unknown_call_id_times_out_as_none() -> None:
    tracker = SourceTracker(asyncio.get_running_loop())
    assert await tracker.source_of("never-seen", timeout=0.01) is None
