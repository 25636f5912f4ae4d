"""Reading `application/dtmf` INFO digits off the SIP stack's receive trace."""

from __future__ import annotations

import asyncio
import logging

import pytest

from ivr.sip.info_dtmf import InfoDigitRelay, parse_info_digit


def traced(request: str, rx: str = "RX UDP 127.0.0.1:5070 -> 127.0.0.1:5060") -> str:
    """A trace record as the stack logs it: its RX line, then the message."""
    return rx + "\n" + request.replace("\n", "\r\n")


def info(content_type: str, body: str, call_id_header: str = "Call-ID: abc@host") -> str:
    return traced(
        "INFO sip:02033551151@127.0.0.1 SIP/2.0\n"
        "Via: SIP/2.0/UDP 127.0.0.1:5070;branch=z9hG4bK1\n"
        f"{call_id_header}\n"
        "CSeq: 2 INFO\n"
        f"Content-Type: {content_type}\n"
        f"Content-Length: {len(body)}\n"
        "\n"
        f"{body}"
    )


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
    assert parse_info_digit(info(content_type, body)) == ("abc@host", key)


def test_compact_headers_are_understood() -> None:
    text = info("application/dtmf", "7", call_id_header="i: compact@host").replace(
        "Content-Type:", "c:"
    )
    assert parse_info_digit(text) == ("compact@host", "7")


@pytest.mark.parametrize(
    "text",
    [
        # dtmf-relay is decoded by the stack itself: taking it here too would count twice.
        info("application/dtmf-relay", "Signal=5\r\nDuration=160"),
        info("application/dtmf", "55"),  # not one key
        info("application/dtmf", "X"),
        info("application/dtmf", ""),
        info("text/plain", "5"),
        info("application/dtmf", "5").replace("Call-ID: abc@host\r\n", ""),
        # What we sent, not what we received.
        info("application/dtmf", "5").replace("RX UDP", "TX UDP"),
        traced("OPTIONS sip:x@127.0.0.1 SIP/2.0\nCall-ID: a\n\n"),
        "RX UDP 127.0.0.1:5070 -> 127.0.0.1:5060\nINFO sip:x SIP/2.0\r\nCall-ID: a",  # no body
        "",
    ],
)
def test_anything_else_is_ignored(text: str) -> None:
    assert parse_info_digit(text) is None


def test_the_relay_delivers_on_the_loop_only_to_the_call_listening() -> None:
    async def scenario() -> list[tuple[str, str]]:
        relay = InfoDigitRelay(asyncio.get_running_loop())
        heard: list[tuple[str, str]] = []
        relay.listen("abc@host", lambda key: heard.append(("abc", key)))
        relay.listen("other@host", lambda key: heard.append(("other", key)))
        logger = logging.getLogger("test.info_dtmf")
        logger.propagate = False
        logger.addHandler(relay)
        logger.setLevel(logging.DEBUG)
        try:
            logger.debug("%s", info("application/dtmf", "3"))
            relay.forget("abc@host")
            logger.debug("%s", info("application/dtmf", "1"))  # the call has ended
            await asyncio.sleep(0)
        finally:
            logger.removeHandler(relay)
        return heard

    assert asyncio.run(scenario()) == [("abc", "3")]
