"""The RFC 4475 / RFC 5118 torture files and how they become datagrams."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from tests.e2e.torture import dialog_key, via_ports, wire_message

TORTURE = Path(__file__).resolve().parents[1] / "data" / "sip-torture"
RFC4475 = sorted(TORTURE.glob("3.*.dat"))
RFC5118 = sorted(TORTURE.glob("4.*.dat"))


def test_the_files_are_the_rfc_archives_bytes() -> None:
    assert (len(RFC4475), len(RFC5118)) == (49, 12)
    sums = dict(
        reversed(line.split(None, 1)) for line in (TORTURE / "SHA256SUMS").read_text().splitlines()
    )
    for path in RFC4475 + RFC5118:
        assert hashlib.sha256(path.read_bytes()).hexdigest() == sums[path.name], path.name


@pytest.mark.parametrize("path", RFC4475, ids=lambda p: p.name)
def test_rfc4475_messages_are_sent_byte_for_byte(path: Path) -> None:
    assert wire_message(path) == path.read_bytes()


@pytest.mark.parametrize("path", RFC5118, ids=lambda p: p.name)
def test_rfc5118_messages_become_wire_messages(path: Path) -> None:
    message = wire_message(path)
    head, sep, body = message.partition(b"\r\n\r\n")
    assert sep
    assert b"\n" not in head.replace(b"\r\n", b"")
    assert b"\n" not in body.replace(b"\r\n", b"")
    lengths = [line for line in head.split(b"\r\n") if line.lower().startswith(b"content-length")]
    assert lengths == [b"Content-Length: %d" % len(body)]
    # Nothing else changed: undo the line ends and the length, get the file back.
    original = path.read_bytes()
    assert message.replace(b"\r\n", b"\n").split(b"\n")[0] == original.split(b"\n")[0]


def test_the_two_headers_only_messages_are_closed() -> None:
    message = wire_message(TORTURE / "4.10_ipv6-bug-abnf-3-colons.dat")
    assert message.endswith(b"Content-Length: 0\r\n\r\n")


def test_responses_are_matched_to_requests_by_call_id_and_cseq() -> None:
    request = wire_message(TORTURE / "3.1.1.3_esc01.dat")
    assert dialog_key(request) == (b"esc01.239409asdfakjkn23onasd0-3234", b"234234 INVITE")
    response = (
        b"SIP/2.0 200 OK\r\ni: esc01.239409asdfakjkn23onasd0-3234\r\nCSeq:  234234   INVITE\r\n\r\n"
    )
    assert dialog_key(response) == dialog_key(request)


def test_responses_are_listened_for_on_the_via_ports() -> None:
    assert via_ports(wire_message(TORTURE / "3.1.1.11_mpart01.dat")) == {5060, 5070}
    assert via_ports(wire_message(TORTURE / "4.9_ipv4-mapped-ipv6.dat")) == {5060, 19823}
    assert via_ports(wire_message(TORTURE / "3.1.2.6_quotbal.dat")) == {5060, 5050}
