"""Caller ID normalisation and the RFC 3325 trust rules."""

from __future__ import annotations

import pytest

from ivr.callers import (
    InvalidNumber,
    identify_caller,
    name_addr_count,
    normalise_number,
    parse_name_addr,
)


@pytest.mark.parametrize(
    "text",
    [
        "020 3355 1151",
        "02033551151",
        "+44 20 3355 1151",
        "+442033551151",
        "00442033551151",
        "sip:02033551151@pbx.example",
        "sip:+442033551151@pbx.example;user=phone",
        "tel:+44-20-3355-1151",
        "(020) 3355-1151",
    ],
)
def test_common_uk_forms_normalise_to_e164(text: str) -> None:
    assert normalise_number(text) == "+442033551151"


@pytest.mark.parametrize(
    "text", ["", "alice", "123", "sip:alice@example.com", "+44 20 3355", "<script>"]
)
def test_non_numbers_are_rejected(text: str) -> None:
    with pytest.raises(InvalidNumber):
        normalise_number(text)


def test_name_addr_with_quoted_display_name() -> None:
    parsed = parse_name_addr('"Acme \\"Ops\\" <desk>" <sip:02079460000@host>;tag=1')
    assert parsed is not None
    assert parsed.display_name == 'Acme "Ops" <desk>'
    assert parsed.uri == "sip:02079460000@host"


def test_addr_spec_without_brackets() -> None:
    parsed = parse_name_addr("sip:02079460000@host;tag=abc")
    assert parsed is not None and parsed.uri == "sip:02079460000@host"


FROM = '"Desk" <sip:02079460000@pbx.example>;tag=x'
PAI = "<sip:+441614960000@trunk.example>"


def test_pai_believed_from_trusted_source() -> None:
    caller = identify_caller(FROM, PAI, source_trusted=True)
    assert caller.cli == "+441614960000"
    assert caller.identity_source == "pai"


def test_spoofed_pai_from_untrusted_source_is_ignored() -> None:
    caller = identify_caller(FROM, PAI, source_trusted=False)
    assert caller.cli == "+442079460000"
    assert caller.identity_source == "from"
    assert "untrusted" in caller.reason


def test_untrusted_source_never_verified_when_operator_requires_it() -> None:
    caller = identify_caller(FROM, PAI, source_trusted=False, require_trusted_source=True)
    assert caller.cli is None


@pytest.mark.parametrize(
    "from_header",
    [
        '"Anonymous" <sip:anonymous@anonymous.invalid>;tag=1',
        "<sip:restricted@host>",
        None,
        "garbage",
    ],
)
def test_withheld_or_missing_caller_id_has_no_cli(from_header: str | None) -> None:
    assert identify_caller(from_header, None, source_trusted=False).cli is None


def test_withheld_from_but_trusted_pai_is_used() -> None:
    caller = identify_caller("<sip:anonymous@anonymous.invalid>", PAI, source_trusted=True)
    assert caller.cli == "+441614960000"


@pytest.mark.parametrize(
    ("value", "count"),
    [
        (FROM, 1),
        ('"Smith, Jo" <sip:02079460000@pbx.example>;tag=x', 1),
        ('"Quote \\" , here" <sip:02079460000@pbx.example>', 1),
        ("<sip:02079460000@pbx.example;a=1,2>", 1),
        ("sip:02079460000@pbx.example;tag=x", 1),
        ("<sip:02079460000@pbx.example>, <sip:01614960999@evil.example>", 2),
        ("sip:02079460000@pbx.example, sip:01614960999@evil.example", 2),
        ('"Desk" <sip:02079460000@pbx.example>;tag=x,"Other" <sip:1@h>', 2),
        ("", 0),
    ],
)
def test_addresses_in_a_header_are_counted(value: str, count: int) -> None:
    assert name_addr_count(value) == count


@pytest.mark.parametrize("trusted", [True, False])
def test_two_from_headers_are_never_verified(trusted: bool) -> None:
    caller = identify_caller(FROM, PAI, source_trusted=trusted, from_count=2)
    assert caller.cli is None
    assert caller.reason == "more than one From address"


def test_a_from_with_two_uris_is_never_verified() -> None:
    two = "<sip:01614960999@evil.example>, <sip:02079460000@pbx.example>"
    caller = identify_caller(two, PAI, source_trusted=True)
    assert caller.cli is None
    assert caller.reason == "more than one From address"


def test_an_untraced_from_count_still_judges_the_from_it_has() -> None:
    assert identify_caller(FROM, None, source_trusted=False, from_count=None).cli == (
        "+442079460000"
    )
