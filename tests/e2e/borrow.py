"""The borrowed-identity attack, as a sender: INVITE pairs that share a Call-ID.

Runs inside the test's network namespace (`python tests/e2e/borrow.py
--to HOST:PORT ...`), so it uses nothing but the standard library. Each
try sends an INVITE from the untrusted address, naming a customer in
P-Asserted-Identity, and at once a second INVITE with the same Call-ID
from the trusted one, in turn: a byte-for-byte copy (the same transaction,
as the stack sees it); a branch of its own with the same From tag (a
merged request, RFC 3261 8.2.2.2); a branch and a From tag of its own (a
second call with the same Call-ID).
The sender then acts as a minimal caller: it ACKs final responses, hangs
up an answered call at once and answers the service's BYEs, so that every
call ends. `--control` sends one lone INVITE from the trusted address,
which must be believed. One JSON line of final statuses by Call-ID.
"""

from __future__ import annotations

import argparse
import json
import secrets
import select
import socket
import string
import time
from collections.abc import Callable
from pathlib import Path

TEMPLATE = Path(__file__).resolve().parents[1] / "data" / "sip" / "borrow_invite.sip"
# Bounds on waiting for the service, never pauses: each wait ends on a datagram.
FINAL_WAIT = 10.0
END_WAIT = 30.0


def invite(
    target: str, sent_by: str, call_id: str, from_number: str, pai_number: str, tag: str
) -> bytes:
    host = sent_by.split(":")[0]
    text = string.Template(TEMPLATE.read_bytes().decode("ascii")).safe_substitute(
        target=target,
        sent_by=sent_by,
        branch=f"z9hG4bK-{secrets.token_hex(6)}",
        tag=tag,
        call_id=call_id,
        from_number=from_number,
        pai_number=pai_number,
        media_host=host,
        media_port="9",  # discard: no audio is wanted back
    )
    head, _, body = text.partition("\r\n\r\n")
    return (head.replace("$length", str(len(body.encode()))) + "\r\n\r\n" + body).encode()


def header(message: bytes, *names: bytes) -> bytes | None:
    head = message.split(b"\r\n\r\n", 1)[0]
    for line in head.split(b"\r\n")[1:]:
        name, colon, value = line.partition(b":")
        if colon and name.strip().lower() in names:
            return value.strip()
    return None


def reply_ok(request: bytes) -> bytes:
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
    return b"\r\n".join([*lines, b"Content-Length: 0"]) + b"\r\n\r\n"


def in_dialog(method: bytes, response: bytes, sent_by: str, cseq: int) -> bytes:
    """ACK or BYE for a final response to our INVITE, within its dialog."""
    contact = header(response, b"contact", b"m") or b"<sip:02033551151@127.0.0.1>"
    uri = contact.split(b"<", 1)[-1].split(b">", 1)[0]
    via = f"SIP/2.0/UDP {sent_by};branch=z9hG4bK-{secrets.token_hex(6)}".encode()
    if method == b"ACK" and not response.startswith(b"SIP/2.0 2"):
        via = header(response, b"via", b"v") or via  # a non-2xx ACK is the same transaction
    lines = [
        method + b" " + uri + b" SIP/2.0",
        b"Via: " + via,
        b"From: " + (header(response, b"from", b"f") or b""),
        b"To: " + (header(response, b"to", b"t") or b""),
        b"Call-ID: " + (header(response, b"call-id", b"i") or b""),
        b"CSeq: %d " % cseq + method,
        b"Max-Forwards: 70",
        b"Content-Length: 0",
    ]
    return b"\r\n".join(lines) + b"\r\n\r\n"


class Caller:
    """Both addresses of the attack, and what the service said to each call."""

    def __init__(self, target: tuple[str, int], hosts: list[str]) -> None:
        self.target = target
        self.sockets: dict[str, socket.socket] = {}
        for host in hosts:
            sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            sock.bind((host, 0))
            self.sockets[host] = sock
        # Final responses to each Call-ID's INVITEs, as "host status" (the
        # host that heard it).
        self.finals: dict[str, list[str]] = {}
        self.open_calls: set[str] = set()

    def answered(self, call_id: str, host: str) -> bool:
        """Whether the INVITE sent from `host` has had its final response."""
        return any(final.startswith(f"{host} ") for final in self.finals.get(call_id, []))

    def sent_by(self, host: str) -> str:
        return f"{host}:{self.sockets[host].getsockname()[1]}"

    def send(self, host: str, message: bytes) -> None:
        self.sockets[host].sendto(message, self.target)

    def handle(self, sock: socket.socket, data: bytes, address: tuple[str, int]) -> None:
        call_id = (header(data, b"call-id", b"i") or b"").decode(errors="replace")
        if data.startswith(b"BYE "):
            sock.sendto(reply_ok(data), address)
            self.open_calls.discard(call_id)
            return
        if not data.startswith(b"SIP/2.0 "):
            return
        status = int(data.split(b" ", 2)[1])
        cseq = header(data, b"cseq") or b""
        if status < 200:
            return
        host, port = sock.getsockname()[:2]
        sent_by = f"{host}:{port}"
        if cseq.endswith(b"INVITE"):
            self.finals.setdefault(call_id, []).append(f"{host} {status}")
            sock.sendto(in_dialog(b"ACK", data, sent_by, 1), self.target)
            if status < 300 and call_id not in self.open_calls:
                self.open_calls.add(call_id)
                sock.sendto(in_dialog(b"BYE", data, sent_by, 2), self.target)
        elif cseq.endswith(b"BYE"):
            self.open_calls.discard(call_id)

    def pump(self, until: float, done: Callable[[], bool]) -> None:
        """Handle datagrams until `done()` is true or the bound passes."""
        while not done() and (left := until - time.monotonic()) > 0:
            ready, _, _ = select.select(list(self.sockets.values()), [], [], left)
            for sock in ready:
                try:
                    data, address = sock.recvfrom(65535)
                except OSError:
                    continue
                self.handle(sock, data, address)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--to", required=True, help="HOST:PORT of the service")
    parser.add_argument("--untrusted", default="127.0.0.1")
    parser.add_argument("--trusted", default="127.0.0.2")
    parser.add_argument("--from-number", required=True)
    parser.add_argument("--pai-number", required=True)
    parser.add_argument("--tries", type=int, default=30)
    parser.add_argument("--control", action="store_true", help="one lone trusted INVITE")
    args = parser.parse_args()
    host, port = args.to.rsplit(":", 1)
    caller = Caller((host, int(port)), [args.untrusted, args.trusted])

    tries = [f"control-{secrets.token_hex(4)}"] if args.control else []
    if args.control:
        message = invite(
            args.to, caller.sent_by(args.trusted), tries[0], args.from_number, args.pai_number,
            secrets.token_hex(4),
        )  # fmt: skip
        caller.send(args.trusted, message)
        caller.pump(time.monotonic() + FINAL_WAIT, lambda: caller.answered(tries[0], args.trusted))
    awaited: list[tuple[str, str]] = []  # (Call-ID, host) still owed a final response
    for number in range(0 if args.control else args.tries):
        call_id = f"borrow-{number}-{secrets.token_hex(4)}@{args.untrusted}"
        tries.append(call_id)
        tag = secrets.token_hex(4)
        first = invite(
            args.to, caller.sent_by(args.untrusted), call_id, args.from_number, args.pai_number, tag
        )
        second = first
        if number % 3:
            second = invite(
                args.to, caller.sent_by(args.trusted), call_id, args.from_number, args.pai_number,
                tag if number % 3 == 1 else secrets.token_hex(4),
            )  # fmt: skip
        caller.send(args.untrusted, first)
        caller.send(args.trusted, second)
        if second is not first:
            awaited.append((call_id, args.trusted))
        # The service decides who is calling before it answers: once this
        # call has its final response the next pair may go.
        caller.pump(
            time.monotonic() + FINAL_WAIT,
            lambda: caller.answered(call_id, args.untrusted),  # noqa: B023  (used at once)
        )
    caller.pump(
        time.monotonic() + END_WAIT,
        lambda: not caller.open_calls and all(caller.answered(*sent) for sent in awaited),
    )
    print(json.dumps({"finals": {c: caller.finals.get(c, []) for c in tries},
                      "open": sorted(caller.open_calls)}))  # fmt: skip


if __name__ == "__main__":
    main()
