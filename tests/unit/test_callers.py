"""Caller ID normalisation and the RFC 3325 trust rules."""

from __future__ import annotations

import pytest

from ivr.callers import InvalidNumber, identify_caller, normalise_number, parse_name_addr


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
