"""A bounded SIP flood from one source address, for the guard's test.

Runs inside the test's network namespace (`python tests/e2e/flood.py ...`),
standard library only. Sends `--count` datagrams to the service (a mix of
garbage, OPTIONS and INVITEs, or OPTIONS only), paced to end within `--seconds`, from
`--source`, and counts what comes back. Prints one JSON object.
A single message can also be sent (`--one FILE`) to see whether it is
answered at all.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import select
import socket
import sys
import time

REPLY_WAIT = 2.0


def options(n: int, source: str, port: int) -> bytes:
    return (
        f"OPTIONS sip:faultline@127.0.0.1 SIP/2.0\r\n"
        f"Via: SIP/2.0/UDP {source}:{port};rport;branch=z9hG4bK-flood-o{n}\r\n"
        f"From: <sip:flood@{source}>;tag=f{n}\r\n"
        f"To: <sip:faultline@127.0.0.1>\r\n"
        f"Call-ID: flood-o{n}@{source}\r\n"
        f"CSeq: 1 OPTIONS\r\nMax-Forwards: 70\r\nContent-Length: 0\r\n\r\n"
    ).encode()


def invite(n: int, source: str, port: int) -> bytes:
    body = (
        f"v=0\r\no=- {n} 1 IN IP4 {source}\r\ns=-\r\nc=IN IP4 {source}\r\nt=0 0\r\n"
        f"m=audio {20000 + n % 10000 * 2} RTP/AVP 0\r\n"
    )
    return (
        f"INVITE sip:02033551151@127.0.0.1 SIP/2.0\r\n"
        f"Via: SIP/2.0/UDP {source}:{port};rport;branch=z9hG4bK-flood-i{n}\r\n"
        f"From: <sip:01614960{n % 1000:03d}@{source}>;tag=f{n}\r\n"
        f"To: <sip:02033551151@127.0.0.1>\r\n"
        f"Call-ID: flood-i{n}@{source}\r\n"
        f"CSeq: 1 INVITE\r\nContact: <sip:flood@{source}:{port}>\r\nMax-Forwards: 70\r\n"
        f"Content-Type: application/sdp\r\nContent-Length: {len(body)}\r\n\r\n{body}"
    ).encode()


def datagram(n: int, source: str, port: int) -> bytes:
    kind = n % 3
    if kind == 0:
        return os.urandom(64 + n % 900)
    if kind == 1:
        return options(n, source, port)
    return invite(n, source, port)


def call_id(reply: bytes) -> bytes:
    for line in reply.split(b"\r\n"):
        name, _, value = line.partition(b":")
        if name.strip().lower() in (b"call-id", b"i"):
            return value.strip()
    return b""


def drain(sock: socket.socket, wait: float) -> list[bytes]:
    got: list[bytes] = []
    deadline = time.monotonic() + wait
    while (left := deadline - time.monotonic()) > 0:
        ready, _, _ = select.select([sock], [], [], left)
        if not ready:
            break
        try:
            got.append(sock.recv(65535))
        except ConnectionRefusedError:
            continue
    return got


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--to", required=True, help="HOST:PORT of the service")
    parser.add_argument("--source", default="127.0.0.2", help="address to send from")
    parser.add_argument("--count", type=int, default=3000)
    parser.add_argument("--seconds", type=float, default=6.0)
    parser.add_argument("--one", help="send just this file and report the replies")
    parser.add_argument(
        "--options-only", action="store_true", help="send only OPTIONS (answered statelessly)"
    )
    args = parser.parse_args(argv)
    host, _, port_text = args.to.rpartition(":")
    target = (host, int(port_text))
    count = max(0, min(args.count, 20000))
    seconds = max(0.1, min(args.seconds, 10.0))
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.bind((args.source, 0))
        sock.setblocking(False)
        port = sock.getsockname()[1]
        started = time.monotonic()
        if args.one:
            with open(args.one, "rb") as handle:
                sock.sendto(handle.read(), target)
            replies = drain(sock, REPLY_WAIT)
            print(
                json.dumps({"sent": 1, "replies": [r.split(b"\r\n")[0].decode() for r in replies]})
            )
            return 0
        replies: list[bytes] = []
        for n in range(count):
            due = started + seconds * n / max(count, 1)
            while (wait := due - time.monotonic()) > 0:
                replies += drain(sock, wait)
            with contextlib.suppress(BlockingIOError, ConnectionRefusedError):
                message = options if args.options_only else datagram
                sock.sendto(message(n, args.source, port), target)
        replies += drain(sock, 0.0)
        sent_for = time.monotonic() - started
        replies += drain(sock, REPLY_WAIT)
    print(
        json.dumps(
            {
                "sent": count,
                "seconds": round(sent_for, 2),
                "replies": len(replies),
                # How many of our requests the service answered at all.
                "answered": len({call_id(reply) for reply in replies}),
            }
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
