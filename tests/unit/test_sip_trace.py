"""The stack's SIP trace, read once: a call's source, bound to its transaction, and INFO digits.

The trace records and the engine's headers for the calls were captured from
the real stack (a pair of INVITEs with one Call-ID, from 127.0.0.1 and
127.0.0.2, as in the borrowed-identity attack).
"""

from __future__ import annotations

import asyncio
import json
import logging
from pathlib import Path

import pytest

from ivr.sip.trace import (
    InviteKey,
    Received,
    SipTrace,
    Untraceable,
    info_digit,
    parse_record,
    sent_status,
)

DATA = Path(__file__).parent.parent / "data" / "sip"
# Long enough never to end a wait that is going to succeed; only spent when
# a record is rightly absent.
ABSENT = 0.05


def read(name: str) -> str:
    return (DATA / name).read_bytes().decode("utf-8")


def received(name: str) -> Received:
    parsed = parse_record(read(name))
    assert isinstance(parsed, Received)
    return parsed


def call_key(name: str) -> InviteKey:
    headers = json.loads(read(name))
    return InviteKey.of_call("borrow-1@127.0.0.1", headers)


def record(text: str, level: int = logging.DEBUG) -> logging.LogRecord:
    return logging.LogRecord("baresip.native.sip", level, "", 0, "%s", (text,), None)


def feed(trace: SipTrace, *names: str) -> None:
    for name in names:
        trace.emit(record(read(name)))


# -- parsing ---------------------------------------------------------------


def test_a_received_invite_gives_its_source_and_headers() -> None:
    message = received("trace_rx_invite.txt")
    assert message.host == "127.0.0.1"
    assert message.method == "INVITE"
    assert message.first("call-id", "i") == "1-7168@127.0.0.1"


def test_compact_headers_and_an_ipv6_source() -> None:
    message = received("trace_rx_invite_compact_ipv6.txt")
    assert message.host == "::1"
    assert message.first("call-id", "i") == "compact-42@host"


def test_our_own_messages_are_not_read() -> None:
    assert parse_record(read("trace_tx_response.txt")) is None


def test_a_response_we_sent_is_counted_by_its_status() -> None:
    assert sent_status(read("trace_tx_response.txt")) == 180
    assert sent_status(read("trace_rx_invite.txt")) is None


def test_a_message_too_large_to_trace_shows_only_its_source() -> None:
    assert parse_record(read("trace_too_large.txt")) == Untraceable("127.0.0.1")


def test_every_from_header_is_counted() -> None:
    assert len(received("trace_two_from_headers.txt").values("from", "f")) == 2


# -- the key that binds a call to its INVITE ---------------------------------


def test_the_call_and_its_own_invite_have_one_key() -> None:
    assert InviteKey.of_message(received("trace_borrow_untrusted.txt")) == call_key(
        "call_headers_borrow.json"
    )


def test_another_branch_with_the_same_call_id_is_another_key() -> None:
    other = InviteKey.of_message(received("trace_borrow_trusted_other_branch.txt"))
    assert other is not None
    assert other.call_id == "borrow-1@127.0.0.1"
    assert other != call_key("call_headers_borrow.json")


def test_vias_on_one_line_are_keyed_by_the_first_as_the_engine_reports_it() -> None:
    headers = json.loads(read("call_headers_combined_via.json"))
    assert InviteKey.of_message(received("trace_combined_via.txt")) == InviteKey.of_call(
        "c-100", headers
    )


def test_a_copy_from_elsewhere_has_the_same_key() -> None:
    # Byte for byte the same transaction: the stack takes it for a retransmission.
    assert InviteKey.of_message(received("trace_borrow_trusted_same_key.txt")) == call_key(
        "call_headers_borrow.json"
    )


# -- deciding a call's source ------------------------------------------------


async def test_a_single_source_is_certain() -> None:
    trace = SipTrace(asyncio.get_running_loop())
    feed(trace, "trace_borrow_untrusted.txt")
    origin = await trace.origin(call_key("call_headers_borrow.json"))
    assert origin.source == "127.0.0.1"
    assert origin.from_headers == 1


async def test_another_transaction_never_lends_its_source() -> None:
    # Only the trusted INVITE with another branch was traced: the call's
    # own INVITE is not known, so its source is not either.
    trace = SipTrace(asyncio.get_running_loop())
    feed(trace, "trace_borrow_trusted_other_branch.txt")
    origin = await trace.origin(call_key("call_headers_borrow.json"), timeout=ABSENT)
    assert origin.source is None
    assert origin.reason == "its INVITE is not in the SIP trace"


@pytest.mark.parametrize(
    "order",
    [
        ("trace_borrow_untrusted.txt", "trace_borrow_trusted_other_branch.txt"),
        ("trace_borrow_untrusted.txt", "trace_borrow_trusted_same_key.txt"),
        ("trace_borrow_trusted_same_key.txt", "trace_borrow_untrusted.txt"),
        ("trace_borrow_trusted_other_branch.txt", "trace_borrow_untrusted.txt"),
    ],
    ids=["other-branch-after", "copy-after", "copy-before", "other-branch-before"],
)
async def test_two_sources_for_one_call_id_are_ambiguous(order: tuple[str, str]) -> None:
    trace = SipTrace(asyncio.get_running_loop())
    feed(trace, *order)
    origin = await trace.origin(call_key("call_headers_borrow.json"))
    assert origin.source is None
    assert set(origin.hosts) == {"127.0.0.1", "127.0.0.2"}


async def test_a_lookup_is_answered_when_the_record_arrives_later() -> None:
    trace = SipTrace(asyncio.get_running_loop())
    waiting = asyncio.ensure_future(trace.origin(call_key("call_headers_borrow.json"), timeout=30))
    await asyncio.sleep(0)  # let the lookup start waiting
    assert not waiting.done()
    feed(trace, "trace_borrow_untrusted.txt")
    assert (await waiting).source == "127.0.0.1"


async def test_two_from_headers_are_reported_with_the_origin() -> None:
    trace = SipTrace(asyncio.get_running_loop())
    feed(trace, "trace_two_from_headers.txt")
    key = InviteKey.of_call("two-from@127.0.0.1", json.loads(read("call_headers_two_from.json")))
    assert (await trace.origin(key)).from_headers == 2


async def test_lost_trace_records_make_sources_uncertain() -> None:
    trace = SipTrace(asyncio.get_running_loop())
    trace.emit(record(read("log_lines_dropped.txt").strip(), logging.WARNING))
    feed(trace, "trace_borrow_trusted_same_key.txt")
    origin = await trace.origin(call_key("call_headers_borrow.json"))
    assert origin.source is None
    assert origin.reason == "SIP trace records were lost around it"


async def test_an_untraceable_message_from_another_host_makes_a_source_uncertain() -> None:
    # The message too large to trace came from 127.0.0.1: it may have been
    # this call's INVITE, and the traced copy from 127.0.0.2 only a copy.
    trace = SipTrace(asyncio.get_running_loop())
    feed(trace, "trace_too_large.txt", "trace_borrow_trusted_same_key.txt")
    assert (await trace.origin(call_key("call_headers_borrow.json"))).source is None


async def test_an_untraceable_message_from_the_same_host_changes_nothing() -> None:
    trace = SipTrace(asyncio.get_running_loop())
    feed(trace, "trace_too_large.txt", "trace_borrow_untrusted.txt")
    assert (await trace.origin(call_key("call_headers_borrow.json"))).source == "127.0.0.1"


# -- INFO digits -------------------------------------------------------------


def info(content_type: str = "application/dtmf", body: str = "5") -> Received:
    text = read("trace_rx_info_dtmf.txt")
    head, _, _ = text.partition("\r\n\r\n")
    head = head.replace("Content-Type: application/dtmf", f"Content-Type: {content_type}")
    parsed = parse_record(f"{head}\r\n\r\n{body}")
    assert isinstance(parsed, Received)
    return parsed


@pytest.mark.parametrize(
    ("content_type", "body", "key"),
    [
        ("application/dtmf", "5", "5"),
        ("application/dtmf", "#\r\n", "#"),
        ("Application/DTMF; charset=us-ascii", " * ", "*"),
        ("application/dtmf", "a", "A"),
    ],
)
def test_an_application_dtmf_info_gives_its_call_and_key(
    content_type: str, body: str, key: str
) -> None:
    assert info_digit(info(content_type, body)) == ("abc@host", key)


def test_compact_headers_are_understood_in_an_info() -> None:
    text = read("trace_rx_info_dtmf.txt").replace("Call-ID:", "i:").replace("Content-Type:", "c:")
    parsed = parse_record(text)
    assert isinstance(parsed, Received)
    assert info_digit(parsed) == ("abc@host", "5")


@pytest.mark.parametrize(
    ("content_type", "body"),
    [
        # dtmf-relay is decoded by the stack itself: taking it here too would count twice.
        ("application/dtmf-relay", "Signal=5\r\nDuration=160"),
        ("application/dtmf", "55"),
        ("application/dtmf", "X"),
        ("application/dtmf", ""),
        ("text/plain", "5"),
    ],
)
def test_other_info_bodies_are_not_digits(content_type: str, body: str) -> None:
    assert info_digit(info(content_type, body)) is None


def test_an_invite_is_not_a_digit() -> None:
    assert info_digit(received("trace_rx_invite.txt")) is None


async def test_digits_go_on_the_loop_only_to_the_call_listening() -> None:
    trace = SipTrace(asyncio.get_running_loop())
    heard: list[tuple[str, str]] = []
    trace.listen("abc@host", lambda key: heard.append(("abc", key)))
    trace.listen("other@host", lambda key: heard.append(("other", key)))
    feed(trace, "trace_rx_info_dtmf.txt")
    trace.forget("abc@host")
    feed(trace, "trace_rx_info_dtmf.txt")  # the call has ended
    await asyncio.sleep(0)  # deliveries are scheduled on the loop
    assert heard == [("abc", "5")]
