"""Caller ID trust end to end (RFC 3325), and header values as hostile data.

P-Asserted-Identity is believed only from an address in [trunk]
trusted_addresses; the source address is the one the SIP stack received
the INVITE from (here 127.0.0.1), never anything written in the message.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.e2e.conftest import KNOWN_NUMBER, FaultLine
from tests.e2e.test_spine import UNKNOWN_NUMBER, assert_sipp_ok

SCENARIO = "caller_listens_pai.xml"


def call_with_pai(line: FaultLine, from_number: str, pai_number: str, name: str) -> dict[str, Any]:
    result = line.sipp(SCENARIO, [(from_number, "", name, pai_number)])
    assert_sipp_ok(line, SCENARIO, result)
    (call,) = line.ivr_json("calls", "list")
    assert line.ivr_json("faults", "list") == []
    assert not [text for text in line.output if "Traceback" in text], "".join(line.output)
    return call


def test_a_spoofed_pai_from_an_untrusted_source_is_never_believed(
    fault_line_factory: Any,
) -> None:
    line: FaultLine = fault_line_factory(trunk={"trusted_addresses": ""})
    call = call_with_pai(line, UNKNOWN_NUMBER, KNOWN_NUMBER, "Spoofer")
    assert call["verified"] is False
    assert call["outcome"] == "rejected"
    assert call["cli"] == "+441614960999"  # judged on From alone
    assert "P-Asserted-Identity ignored: untrusted source" in call["verification"]
    assert call["asserted_identity"] == f"<sip:{KNOWN_NUMBER}@trunk.example.net>"
    assert call["source_address"] == "127.0.0.1"


def test_the_same_pai_from_a_trusted_source_is_believed(fault_line_factory: Any) -> None:
    line: FaultLine = fault_line_factory(trunk={"trusted_addresses": "127.0.0.1"})
    call = call_with_pai(line, UNKNOWN_NUMBER, KNOWN_NUMBER, "Via the trunk")
    assert call["verified"] is True
    assert call["cli"] == "+442079460000"
    assert call["verification"] == "asserted by trusted source"
    assert call["outcome"] == "no_choice"  # verified, then pressed nothing


def test_untrusted_sources_are_never_verified_when_so_configured(
    fault_line_factory: Any,
) -> None:
    line: FaultLine = fault_line_factory(
        trunk={"trusted_addresses": "192.0.2.1", "require_trusted_source": "yes"}
    )
    call = call_with_pai(line, KNOWN_NUMBER, KNOWN_NUMBER, "Acme desk")
    assert call["verified"] is False
    assert call["outcome"] == "rejected"
    assert call["cli"] is None
    assert call["verification"] == "source address is not trusted"


@pytest.mark.parametrize(
    ("name", "stored_name"),
    [
        ("<script>alert(1)</script>", "<script>alert(1)</script>"),
        ("x" * 2048, None),  # the 512-character cut leaves no parseable name-addr
    ],
    ids=["markup", "2KB"],
)
def test_hostile_display_names_are_stored_clipped_as_text(
    fault_line_factory: Any, name: str, stored_name: str | None
) -> None:
    line: FaultLine = fault_line_factory()
    call = call_with_pai(line, KNOWN_NUMBER, "9" * 2000, name)
    assert call["display_name"] == stored_name
    assert len(call["from"]) <= 512
    assert call["from"].startswith(f'"{name[:100]}')
    assert len(call["asserted_identity"]) <= 512  # the 2 KB PAI, cut
    assert call["asserted_identity"].startswith("<sip:999")
