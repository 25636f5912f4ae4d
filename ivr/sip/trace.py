"""The SIP stack's receive trace, read once: where each call came from, and INFO digits.

The engine reports a call's headers but not the address its INVITE came
from, and RFC 3325 trust must rest on that address, never on anything the
peer wrote. The stack's trace record of a received message starts with a
line its transport layer writes ("RX UDP a:p -> b:q"), so that line is the
truth about the source. The same records also carry SIP INFO bodies of type
`application/dtmf`, which the stack answers 488 and drops (see `info_digit`).
One logging handler parses each record once and serves both.

How a call is matched to its trace record
-----------------------------------------
A call is identified by the transaction that created it, not by its
Call-ID alone: `InviteKey` is the Call-ID, the CSeq and the first `Via` and
first `v` header values, exactly as the engine reports them for the call
(`EXPOSED_HEADERS`) and exactly as they appear in the trace record. A
second INVITE with the same Call-ID but another branch or CSeq is another
key, so it can never lend its source to the call.

A peer can still send a byte-identical copy (same key) from another
address; the stack takes it for a retransmission of the transaction it
already has. So the reader keeps, for every Call-ID, every host an INVITE
with that Call-ID came from. A call's source is certain only when its own
key has been seen and every INVITE seen with its Call-ID came from one host.
Two hosts make the source ambiguous: the call is untrusted and the conflict
is logged.

Why this cannot be raced
------------------------
The stack writes a message's trace record on its SIP thread before it
handles the message, into one queue that is read in the order it was
written. So the record of the message that created the call (the first
with its key: later ones are retransmissions to the stack) is written
before the call is reported to us, and before any copy's record. The
lookup waits for it (at most `SOURCE_WAIT`; not found means no source,
so untrusted) and then decides on the hosts seen for the Call-ID so far.
Whatever order the two messages arrive in, and however late a copy comes,
the answer is the creator's host or "ambiguous": never a host that did
not send the call's content. A copy read after the decision changes
nothing, and cannot have supplied that content either. Only a record
missing from the trace could break this, so records the stack could not
deliver (the reader fell behind and lines were dropped, or a message too
large to trace, whose Call-ID we cannot see) make every source decided
near them uncertain (`UNCERTAIN_SECONDS`): those calls are untrusted, loudly.
"""

from __future__ import annotations

import asyncio
import logging
import re
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

# The first line of a trace record: direction, transport, source, destination.
_RX_LINE = re.compile(
    r"^RX (?:UDP|TCP|TLS|WS|WSS) (\[[^\]]+\]|[^ :\[\]]+):(\d+) -> (\S+)(?P<rest>.*)$"
)
# A response we sent: its trace record's first two lines.
_TX_RESPONSE = re.compile(r"^TX \S+ \S+ -> \S+[^\n]*\nSIP/2\.0 ([1-6]\d\d)[ \r\n]")
_TOO_LARGE = re.compile(r"\(\d+ bytes, too large to trace\)")
# The stack's notice that its log ring overflowed (on the "baresip.native" logger).
_DROPPED = re.compile(r"native log line\(s\) dropped")
_HEADER = re.compile(r"^([!-9;-~]+)[ \t]*:[ \t]*(.*?)[ \t]*$")
_COMPACT = {"i": "call-id", "c": "content-type", "f": "from"}
_KEYS = frozenset("0123456789*#ABCD")
# Call-IDs remembered: far more than calls that can be waiting for a source.
MAX_REMEMBERED = 4096
# How long a record the stack could not deliver casts doubt, around a
# source lookup (the INVITE it may have been was received before the
# lookup began, by at most the event loop's lag).
UNCERTAIN_SECONDS = 5.0
SOURCE_WAIT = 1.0

log = logging.getLogger(__name__)


def _squeeze(value: str) -> str:
    """Header values compared as the same text however they were folded or spaced."""
    return " ".join(value.split())


def _first_element(value: str) -> str:
    """The first of comma-separated values (outside quotes): the engine splits Via so."""
    quoted = False
    for index, char in enumerate(value):
        if char == '"':
            quoted = not quoted
        elif char == "," and not quoted:
            return value[:index]
    return value


@dataclass(frozen=True)
class Received:
    """A request or response the stack received, as its trace shows it."""

    host: str
    start_line: str
    headers: tuple[tuple[str, str], ...]  # (name as written, value), in order
    body: str

    @property
    def method(self) -> str | None:
        if self.start_line.startswith("SIP/"):
            return None
        return self.start_line.split(" ", 1)[0]

    def values(self, *names: str) -> list[str]:
        """Every value of a header, under any of `names` (case-insensitive), in order."""
        wanted = {name.lower() for name in names}
        return [value for name, value in self.headers if name.lower() in wanted]

    def first(self, *names: str) -> str | None:
        found = self.values(*names)
        return found[0] if found else None


@dataclass(frozen=True)
class Untraceable:
    """A message the stack received but did not trace (too large): only its source is known."""

    host: str


def parse_record(text: str) -> Received | Untraceable | None:
    """One trace record; None for what we sent and anything that is not a received message."""
    first, _, message = text.partition("\n")
    match = _RX_LINE.match(first.rstrip("\r"))
    if not match:
        return None
    host = match.group(1).strip("[]")
    if _TOO_LARGE.search(match.group("rest")):
        return Untraceable(host)
    head, separator, body = message.replace("\r\n", "\n").partition("\n\n")
    lines = head.split("\n")
    if not lines or not lines[0].strip():
        return None
    headers: list[tuple[str, str]] = []
    for line in lines[1:]:
        if line[:1] in (" ", "\t") and headers:  # folded onto the header above
            name, value = headers[-1]
            headers[-1] = (name, f"{value} {line.strip()}")
            continue
        header = _HEADER.match(line)
        if header:
            headers.append((header.group(1), header.group(2)))
    return Received(host, lines[0].strip(), tuple(headers), body if separator else "")


def sent_status(text: str) -> int | None:
    """The status code of a response we sent, from its trace record (None for anything else)."""
    match = _TX_RESPONSE.match(text)
    return int(match.group(1)) if match else None


@dataclass(frozen=True)
class InviteKey:
    """The transaction that created a call: what the engine and the trace both show of it."""

    call_id: str
    cseq: str
    via: str  # the first value of the first header written "Via"
    v: str  # the first value of the first header written "v" (compact form)

    @classmethod
    def of_message(cls, message: Received) -> InviteKey | None:
        call_id = message.first("call-id", "i")
        cseq = message.first("cseq")
        if not call_id or not cseq:
            return None
        via = next((value for name, value in message.headers if name.lower() == "via"), "")
        v = next((value for name, value in message.headers if name.lower() == "v"), "")
        return cls(
            _squeeze(call_id),
            _squeeze(cseq),
            _squeeze(_first_element(via)),
            _squeeze(_first_element(v)),
        )

    @classmethod
    def of_call(cls, call_id: str, headers: Mapping[str, str]) -> InviteKey:
        """From the engine's view of a call: its Call-ID and exposed headers (any case)."""
        lower = {name.lower(): value for name, value in headers.items()}
        return cls(
            _squeeze(call_id),
            _squeeze(lower.get("cseq", "")),
            _squeeze(lower.get("via", "")),
            _squeeze(lower.get("v", "")),
        )


def info_digit(message: Received) -> tuple[str, str] | None:
    """(Call-ID, key) of a received INFO carrying `application/dtmf`, else None.

    The stack decodes `application/dtmf-relay` ("Signal=5") itself, but
    answers `application/dtmf` (a body that is just the key, as some Cisco
    and Polycom handsets send) with 488 and drops the digit, so a caller on
    such a handset would press keys the menu never hears. The handset still
    sees the 488: INFO is outside the call's dialog state (RFC 6086 section
    4.2.2), so the call goes on.
    """
    if message.method != "INFO":
        return None
    content_type = (message.first("content-type", "c") or "").split(";")[0].strip().lower()
    call_id = message.first("call-id", "i")
    key = message.body.strip().upper()
    if content_type != "application/dtmf" or not call_id or len(key) != 1 or key not in _KEYS:
        return None
    return call_id, key


@dataclass(frozen=True)
class Origin:
    """Where a call's INVITE came from, as far as the trace can tell."""

    source: str | None  # the host, when certain
    from_headers: int | None  # From headers in the INVITE, when it was traced
    reason: str  # why the source is not certain, else ""
    hosts: tuple[str, ...] = ()  # every host seen for its Call-ID

    @property
    def certain(self) -> bool:
        return self.source is not None


@dataclass
class _CallIdSeen:
    hosts: list[str] = field(default_factory=list)
    invites: dict[InviteKey, int] = field(default_factory=dict)  # key -> From header count


class SipTrace(logging.Handler):
    """A logging handler on the stack's trace: INVITE origins and INFO digits.

    `emit` runs on the stack's log thread; lookups and deliveries happen on
    the event loop.
    """

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        super().__init__(level=logging.DEBUG)
        self._loop = loop
        self._lock = threading.Lock()
        self._seen: OrderedDict[str, _CallIdSeen] = OrderedDict()
        self._waiters: dict[InviteKey, list[asyncio.Future[None]]] = {}
        self._digit_listeners: dict[str, Callable[[str], None]] = {}
        # When records went missing, and from which host (None: unknown).
        self._gaps: list[tuple[float, str | None]] = []
        # Told each response the stack sent, by status code (node metrics); on the log thread.
        self.on_response_sent: Callable[[int], None] | None = None

    # -- the log thread ----------------------------------------------------

    def emit(self, record: logging.LogRecord) -> None:
        try:
            self._read(record)
        except Exception:  # a handler must never raise into logging
            return

    def _read(self, record: logging.LogRecord) -> None:
        text = record.getMessage()
        if record.levelno >= logging.WARNING and _DROPPED.search(text):
            self._gap(None)
            return
        if text.startswith("TX "):
            status = sent_status(text)
            if status is not None and self.on_response_sent is not None:
                self.on_response_sent(status)
            return
        parsed = parse_record(text)
        if isinstance(parsed, Untraceable):
            self._gap(parsed.host)
        elif parsed is not None and parsed.method == "INVITE":
            self._invite(parsed)
        elif parsed is not None:
            digit = info_digit(parsed)
            if digit is not None:
                self._digit(*digit)

    def _gap(self, host: str | None) -> None:
        now = time.monotonic()
        with self._lock:
            self._gaps = [gap for gap in self._gaps if now - gap[0] <= UNCERTAIN_SECONDS]
            self._gaps.append((now, host))
        log.warning(
            "SIP trace record lost (%s): caller sources near now are uncertain",
            f"too large to trace, from {host}" if host else "the stack's log overflowed",
        )

    def _invite(self, message: Received) -> None:
        key = InviteKey.of_message(message)
        if key is None:
            return
        with self._lock:
            seen = self._seen.get(key.call_id)
            if seen is None:
                seen = self._seen[key.call_id] = _CallIdSeen()
            self._seen.move_to_end(key.call_id)
            if message.host not in seen.hosts:
                seen.hosts.append(message.host)
            # The first record with a key is the message that made the transaction.
            seen.invites.setdefault(key, len(message.values("from", "f")))
            while len(self._seen) > MAX_REMEMBERED:
                self._seen.popitem(last=False)
            waiters = self._waiters.pop(key, [])
        for future in waiters:
            self._loop.call_soon_threadsafe(_wake, future)

    def _digit(self, call_id: str, key: str) -> None:
        with self._lock:
            deliver = self._digit_listeners.get(call_id)
        if deliver is not None:
            self._loop.call_soon_threadsafe(deliver, key)

    # -- the event loop ----------------------------------------------------

    def listen(self, call_id: str, deliver: Callable[[str], None]) -> None:
        """Send this call's INFO digits to `deliver`, on the event loop."""
        with self._lock:
            self._digit_listeners[call_id] = deliver

    def forget(self, call_id: str) -> None:
        with self._lock:
            self._digit_listeners.pop(call_id, None)

    async def origin(self, key: InviteKey, timeout: float = SOURCE_WAIT) -> Origin:
        """Where the INVITE that made this call came from, waiting briefly for its record."""
        started = time.monotonic()
        future: asyncio.Future[None] | None = None
        with self._lock:
            if not self._known(key):
                future = self._loop.create_future()
                self._waiters.setdefault(key, []).append(future)
        if future is not None:
            try:
                await asyncio.wait_for(future, timeout)
            except TimeoutError:
                pass
            finally:
                with self._lock:
                    waiting = self._waiters.get(key)
                    if waiting and future in waiting:
                        waiting.remove(future)
                        if not waiting:
                            del self._waiters[key]
        return self._decide(key, started)

    def _known(self, key: InviteKey) -> bool:
        seen = self._seen.get(key.call_id)
        return seen is not None and key in seen.invites

    def _decide(self, key: InviteKey, started: float) -> Origin:
        with self._lock:
            seen = self._seen.get(key.call_id)
            hosts = tuple(seen.hosts) if seen else ()
            from_headers = seen.invites.get(key) if seen else None
            gaps = [
                host
                for at, host in self._gaps
                if at >= started - UNCERTAIN_SECONDS and (host is None or host not in hosts)
            ]
        if seen is None or from_headers is None:
            return Origin(None, None, "its INVITE is not in the SIP trace", hosts)
        if len(hosts) > 1:
            return Origin(None, from_headers, "INVITEs with its Call-ID came from several", hosts)
        if gaps:
            return Origin(None, from_headers, "SIP trace records were lost around it", hosts)
        return Origin(hosts[0], from_headers, "", hosts)


def _wake(future: asyncio.Future[None]) -> None:
    if not future.done():
        future.set_result(None)
