"""A minimal pyVoIP 1.6.8 answering script shaped like the fault line, for bench/ only.

It is the design card's library doing the fault line's job as plainly as
pyVoIP allows, so that bench/bench.py can put its figures next to ours:
answer, send audio, take the priority key (RFC 4733) and the confirming key
(SIP INFO), "page" an engineer for a critical fault (an outbound call that
waits for key 1), send the reference audio, hang up. It stores nothing.

pyVoIP 1.6.8 needs three workarounds to do this on loopback without a
registrar (read from its source, pyVoIP/SIP.py and pyVoIP/VoIP/VoIP.py):

1. `SIPClient.start()` always calls `register()`, which sends REGISTER to
   the configured server and waits up to 30 s for an answer, retrying until
   REGISTER_FAILURE_THRESHOLD failures stop the phone. There is no
   answer-only mode: we replace `register` (and `deregister`) on the
   SIPClient instance with no-ops before `start()`.
2. Every reply and request goes to the configured `server:port`, never to
   the sender (Via/rport), so a phone can talk to exactly one peer: the
   answering phone's "server" is the SIPp caller's address, and paging uses
   a second VoIPPhone, bound to another port, whose "server" is the
   engineer's phone.
3. INFO is not among `pyVoIP.SIPCompatibleMethods`: the message fails to
   parse and is dropped without an answer, so the caller retransmits and
   gives up. We add INFO to that list and answer it ourselves (200 OK, and
   its `Signal=` goes into the call's DTMF buffer).

pyVoIP runs each call's handler in a threading.Timer that starts 1 s after
the INVITE (VoIPPhone._callback_MSG_Invite), and each call's RTP in two
threads of its own; none of that is changed here.

Prints one line per finished call ("call ID digits=.. outcome=..") and per
page ("page ID ..."), which bench.py counts.
"""

from __future__ import annotations

import argparse
import contextlib
import math
import signal
import sys
import threading
import time
from typing import Any

import pyVoIP
from pyVoIP.VoIP import CallState, InvalidStateError, PhoneStatus, VoIPCall, VoIPPhone

RATE = 8000
KEY_TIMEOUT = 60.0
PAGE_ANSWER_TIMEOUT = 30.0
PAGE_KEY_TIMEOUT = 5.0
_print_lock = threading.Lock()


def say(line: str) -> None:
    with _print_lock:
        print(line, flush=True)


def tone(seconds: float, frequency: float = 440.0) -> bytes:
    """8-bit unsigned linear PCM, which is what pyVoIP's write_audio takes."""
    count = int(RATE * seconds)
    return bytes(int(128 + 40 * math.sin(2 * math.pi * frequency * n / RATE)) for n in range(count))


MENU = tone(10.0)
READ_BACK = tone(3.0, 550.0)
REFERENCE = tone(8.0, 660.0)


def answer_only(phone: VoIPPhone) -> None:
    """Workaround 1: no REGISTER at start or stop (there is no registrar on loopback)."""
    sip: Any = phone.sip
    sip.register = lambda: True
    sip.deregister = lambda: True
    phone._status = PhoneStatus.REGISTERED


def handle_info(phone: VoIPPhone) -> None:
    """Workaround 3: answer INFO with 200 OK and take its dtmf-relay Signal as a key."""
    if "INFO" not in pyVoIP.SIPCompatibleMethods:
        pyVoIP.SIPCompatibleMethods.append("INFO")
    sip: Any = phone.sip
    original = sip.parse_message

    # pyVoIP.SIP is importable only after pyVoIP.VoIP (a circular import otherwise).
    request = pyVoIP.SIP.SIPMessageType.MESSAGE

    def parse_message(message: Any) -> None:
        if message.type == request and message.method == "INFO":
            sip.out.sendto(sip.gen_ok(message).encode("utf8"), (phone.server, phone.port))
            body = message.raw.split(b"\r\n\r\n", 1)[-1].decode("utf8", "replace")
            call = phone.calls.get(message.headers["Call-ID"])
            for line in body.splitlines():
                name, _, value = line.partition("=")
                if name.strip().lower() == "signal" and call is not None:
                    call.dtmf_callback(value.strip()[:1])
            return
        original(message)

    sip.parse_message = parse_message


def wait_key(call: VoIPCall, timeout: float) -> str:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and call.state == CallState.ANSWERED:
        key = call.get_dtmf()
        if key:
            return key
        time.sleep(0.02)
    return ""


def hang_up(call: VoIPCall) -> None:
    with contextlib.suppress(InvalidStateError):  # the caller hung up first
        call.hangup()


class Pager:
    """Workaround 2: a second phone whose one peer is the engineer's phone."""

    def __init__(self, host: str, port: int, local: tuple[str, int]) -> None:
        self.phone = VoIPPhone(
            host, port, "faultline", "", myIP=local[0], sipPort=local[1],
            rtpPortLow=local[1] + 10, rtpPortHigh=local[1] + 2000,
        )  # fmt: skip
        answer_only(self.phone)
        self.phone.start()

    def page(self, about: str) -> None:
        started = time.monotonic()
        try:
            call = self.phone.call("engineer")
        except Exception as exc:  # pyVoIP raises what its socket raised
            say(f"page {about} failed={exc!r}")
            return
        while call.state == CallState.DIALING and time.monotonic() - started < PAGE_ANSWER_TIMEOUT:
            time.sleep(0.02)
        if call.state != CallState.ANSWERED:
            say(f"page {about} outcome=no_answer")
            return
        key = wait_key(call, PAGE_KEY_TIMEOUT)
        hang_up(call)
        say(f"page {about} outcome={'acknowledged' if key == '1' else 'no_key'}")

    def stop(self) -> None:
        self.phone.stop()


def make_handler(pager: Pager | None) -> Any:
    def on_call(call: VoIPCall) -> None:
        call_id = call.call_id
        keys = ""
        outcome = "abandoned"
        try:
            call.answer()
            call.write_audio(MENU)
            priority = wait_key(call, KEY_TIMEOUT)
            keys += priority
            if priority:
                call.write_audio(READ_BACK)
                confirm = wait_key(call, KEY_TIMEOUT)
                keys += confirm
                if confirm == "1":
                    outcome = "reported"
                    if priority == "3" and pager is not None:
                        threading.Thread(target=pager.page, args=(call_id,), daemon=True).start()
                    call.write_audio(REFERENCE)
                    deadline = time.monotonic() + len(REFERENCE) / RATE
                    while time.monotonic() < deadline and call.state == CallState.ANSWERED:
                        time.sleep(0.05)
            if call.state == CallState.ANSWERED:
                hang_up(call)
        except Exception as exc:
            outcome = f"failed:{type(exc).__name__}"
        say(f"call {call_id} digits={keys or '-'} outcome={outcome}")

    return on_call


def address(text: str) -> tuple[str, int]:
    host, _, port = text.rpartition(":")
    return host, int(port)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--listen", required=True, help="HOST:PORT to answer on")
    parser.add_argument("--caller", required=True, help="HOST:PORT of the one caller")
    parser.add_argument("--engineer", help="HOST:PORT of the engineer's phone (pages)")
    parser.add_argument("--rtp-ports", default="40000-49999")
    args = parser.parse_args()
    listen, caller = address(args.listen), address(args.caller)
    low, _, high = args.rtp_ports.partition("-")

    pager = None
    if args.engineer:
        host, port = address(args.engineer)
        pager = Pager(host, port, (listen[0], listen[1] + 1))
    phone = VoIPPhone(
        caller[0], caller[1], "faultline", "", myIP=listen[0], sipPort=listen[1],
        callCallback=make_handler(pager), rtpPortLow=int(low), rtpPortHigh=int(high),
    )  # fmt: skip
    answer_only(phone)
    handle_info(phone)
    phone.start()
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    time.sleep(1.2)  # SIPClient.start() runs its receive loop in a Timer(1, ...)
    say(f"pyVoIP {pyVoIP.__version__} ready on {args.listen}")
    stop.wait()
    phone.stop()
    if pager is not None:
        pager.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
