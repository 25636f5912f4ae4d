"""RFC 4475 / RFC 5118 torture messages: turning the files into datagrams, and a sender.

The sender runs inside the test's network namespace (`python
tests/e2e/torture.py send ...`), so it uses nothing but the standard
library. Each message goes from its own UDP socket, so every response
(and every retransmission of one) is told apart by the port it reaches.
It prints one JSON object per message: the file and the status lines of
the responses that came back.
"""

from __future__ import annotations

import argparse
import json
import re
import select
import socket
import sys
import time
from pathlib import Path

# A response window: wait this long for a first answer, and after a
# provisional one this long for the final one.
FIRST_RESPONSE_WAIT = 1.5
FINAL_RESPONSE_WAIT = 3.0
LINGER = 0.2

_CONTENT_LENGTH = re.compile(rb"^(content-length|l)[ \t]*:[^\r\n]*$", re.IGNORECASE | re.MULTILINE)


def is_rfc5118(path: Path) -> bool:
    """RFC 5118 files are numbered 4.x; RFC 4475 ones 3.x."""
    return path.name.startswith("4.")


def wire_message(path: Path) -> bytes:
    """The datagram to send for one torture file.

    RFC 4475 files are sent byte for byte: their odd framing is the test.
    RFC 5118 files (bare LF, two without the blank line, three with a
    Content-Length that does not match) are turned into wire messages as
    the data's README says: CRLF line ends, an empty line closing the
    headers, and a recomputed Content-Length. Those messages test IPv6
    handling, not framing.
    """
    data = path.read_bytes()
    if not is_rfc5118(path):
        return data
    if b"\r" in data:
        raise ValueError(f"{path.name}: expected bare LF line endings")
    head, sep, body = data.partition(b"\n\n")
    if not sep:
        head, body = data.rstrip(b"\n"), b""
    head_crlf = head.replace(b"\n", b"\r\n")
    body_crlf = body.replace(b"\n", b"\r\n")
    length = b"Content-Length: %d" % len(body_crlf)
    head_crlf, count = _CONTENT_LENGTH.subn(length, head_crlf)
    if count == 0:
        head_crlf += b"\r\n" + length
    return head_crlf + b"\r\n\r\n" + body_crlf


def status_line(datagram: bytes) -> str:
    first = datagram.split(b"\r\n", 1)[0]
    return first.decode("utf-8", errors="replace")[:200]


def header(message: bytes, *names: bytes) -> bytes | None:
    """The first value of a header (any of its names), or None."""
    head = message.split(b"\r\n\r\n", 1)[0]
    for line in head.split(b"\r\n")[1:]:
        name, colon, value = line.partition(b":")
        if colon and name.strip().lower() in names:
            return value.strip()
    return None


def dialog_key(message: bytes) -> tuple[bytes | None, bytes | None]:
    """(Call-ID, CSeq) that ties a response to the request it answers."""
    call_id = header(message, b"call-id", b"i")
    cseq = header(message, b"cseq")
    return call_id, b" ".join(cseq.split()) if cseq else None


def via_ports(message: bytes) -> set[int]:
    """Ports a response may be sent to: those named in Via, and 5060."""
    ports = {5060}
    for match in _VIA_PORT.finditer(message):
        ports.add(int(match.group(1)))
    return {port for port in ports if 0 < port < 65536}


_VIA_PORT = re.compile(rb"^(?:via|v)[ \t]*:[^\r\n]*?[\]a-z0-9]:(\d{2,5})[;, \t\r]", re.I | re.M)


_BRANCH = re.compile(rb"branch[ \t]*=[ \t]*([^;, \t\r\n]*)", re.I)
_SENT_BY = re.compile(rb"SIP[ \t]*/[ \t]*2\.0[ \t]*/[ \t]*\w+[ \t]+([^;, \t]+)", re.I)


def transaction_key(message: bytes) -> tuple[bytes, bytes | None, bytes | None] | None:
    """(method, top Via branch, sent-by) by which a server matches a request to a
    transaction (RFC 3261 17.2.3); None for a response.

    Several torture messages share all three (e.g. RFC 5118's REGISTERs), so a
    server rightly takes a later one for a retransmission of the first while
    that transaction lives (32 s): they must go to different server runs.
    """
    if message.startswith(b"SIP/"):
        return None
    via = header(message, b"via", b"v") or b""
    via = b" ".join(via.split())
    branch = _BRANCH.search(via)
    sent_by = _SENT_BY.search(via)
    return (
        message.split(b" ", 1)[0],
        branch.group(1) if branch else None,
        sent_by.group(1) if sent_by else None,
    )


def server_runs(messages: list[tuple[str, bytes]]) -> list[list[str]]:
    """Names split into runs in which no two requests share a transaction key."""
    runs: list[list[str]] = []
    keys: list[set[object]] = []
    for name, message in messages:
        key = transaction_key(message)
        free = [i for i, used in enumerate(keys) if key is None or key not in used]
        if not free:
            runs.append([])
            keys.append(set())
            free = [len(runs) - 1]
        runs[free[0]].append(name)
        if key is not None:
            keys[free[0]].add(key)
    return runs


def final_status(responses: list[str]) -> str:
    """What the service did, in a word: the final status code, or how it stayed silent."""
    codes = [line.split(" ", 2)[1] for line in responses if line.startswith("SIP/2.0 ")]
    finals = [code for code in codes if code.isdigit() and int(code) >= 200]
    if finals:
        return finals[-1]
    return "provisional only" if codes else "no response"


def _ack_for(response: bytes, request_uri: bytes) -> bytes:
    """The ACK a UAC sends for a final response to its INVITE."""
    lines = [b"ACK " + request_uri + b" SIP/2.0"]
    for names, out in (
        ((b"via", b"v"), b"Via"),
        ((b"from", b"f"), b"From"),
        ((b"to", b"t"), b"To"),
        ((b"call-id", b"i"), b"Call-ID"),
    ):
        value = header(response, *names)
        if value is not None:
            lines.append(out + b": " + value)
    cseq = header(response, b"cseq") or b"1 INVITE"
    lines += [b"CSeq: " + cseq.split()[0] + b" ACK", b"Max-Forwards: 70", b"Content-Length: 0"]
    return b"\r\n".join(lines) + b"\r\n\r\n"


def _ok_for(request: bytes) -> bytes:
    """200 OK to a request the service sends us (its BYE when it hangs up)."""
    lines = [b"SIP/2.0 200 OK"]
    for names, out in (
        ((b"via", b"v"), b"Via"),
        ((b"from", b"f"), b"From"),
        ((b"to", b"t"), b"To"),
        ((b"call-id", b"i"), b"Call-ID"),
        ((b"cseq",), b"CSeq"),
    ):
        value = header(request, *names)
        if value is not None:
            lines.append(out + b": " + value)
    lines.append(b"Content-Length: 0")
    return b"\r\n".join(lines) + b"\r\n\r\n"


class Peer:
    """The far end of the torture test: sends messages, hears what comes back.

    It listens on every port a response may be addressed to (the Via
    ports, on any address: in the test's namespace, addresses outside
    are routed to loopback) and behaves as a minimal user agent client:
    it ACKs final responses to INVITEs and answers the service's BYEs,
    so no retransmission from one message leaks into the next.
    """

    def __init__(self, target: tuple[str, int], bind_host: str, ports: set[int]) -> None:
        self.target = target
        self.sender = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sender.bind((bind_host, 0))
        self.listeners = [self.sender]
        for port in sorted(ports):
            listener = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                listener.bind(("0.0.0.0", port))
            except OSError:
                listener.close()
                continue
            self.listeners.append(listener)

    def close(self) -> None:
        for sock in self.listeners:
            sock.close()

    def _receive(self, timeout: float) -> tuple[socket.socket, bytes, tuple[str, int]] | None:
        ready, _, _ = select.select(self.listeners, [], [], max(0.0, timeout))
        for sock in ready:
            try:
                data, address = sock.recvfrom(65535)
            except (ConnectionRefusedError, BlockingIOError):
                continue
            return sock, data, address
        return None

    def _serve(self, sock: socket.socket, data: bytes, address: tuple[str, int]) -> bool:
        """Handle a request from the service; True if it was one."""
        if data.startswith(b"SIP/2.0 "):
            return False
        if data.startswith(b"BYE "):
            sock.sendto(_ok_for(data), address)
        return True

    def drain(self, seconds: float) -> None:
        deadline = time.monotonic() + seconds
        while (left := deadline - time.monotonic()) > 0:
            got = self._receive(left)
            if got is not None:
                self._serve(*got)

    def exchange(self, message: bytes) -> list[str]:
        """Send one message; the status lines of the responses to it."""
        key = dialog_key(message)
        request_line = message.split(b"\r\n", 1)[0].split()
        is_invite = request_line[:1] == [b"INVITE"]
        request_uri = request_line[1] if len(request_line) > 1 else b"sip:x"
        lines: list[str] = []
        self.sender.sendto(message, self.target)
        deadline = time.monotonic() + FIRST_RESPONSE_WAIT
        final_seen = False
        while (left := deadline - time.monotonic()) > 0:
            got = self._receive(left)
            if got is None:
                break
            sock, data, address = got
            if self._serve(sock, data, address) or dialog_key(data) != key:
                continue
            line = status_line(data)
            lines.append(line)
            code = line.split(" ", 2)[1] if line.count(" ") >= 1 else ""
            if code.isdigit() and int(code) >= 200:
                if is_invite:
                    self.sender.sendto(_ack_for(data, request_uri), self.target)
                if not final_seen:
                    final_seen = True
                    deadline = time.monotonic() + LINGER
            elif not final_seen:
                deadline = time.monotonic() + FINAL_RESPONSE_WAIT
        return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    send = sub.add_parser("send", help="send torture files, print the responses as JSON lines")
    send.add_argument("--to", required=True, help="HOST:PORT of the service")
    send.add_argument("--bind", default="127.0.0.1", help="address to send from")
    send.add_argument("--settle", type=float, default=0.0, help="seconds to answer BYEs after")
    send.add_argument("files", nargs="+", type=Path)
    args = parser.parse_args(argv)
    host, _, port = args.to.rpartition(":")
    messages = [(path, wire_message(path)) for path in args.files]
    ports = set().union(*(via_ports(message) for _, message in messages))
    peer = Peer((host, int(port)), args.bind, ports)
    try:
        for path, message in messages:
            started = time.monotonic()
            responses = peer.exchange(message)
            record = {
                "file": path.name,
                "responses": responses,
                "seconds": round(time.monotonic() - started, 2),
            }
            print(json.dumps(record), flush=True)
        # Let the service finish the calls it answered (its BYEs get a 200).
        peer.drain(args.settle)
    finally:
        peer.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
