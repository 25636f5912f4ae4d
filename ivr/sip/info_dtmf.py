"""Digits sent as SIP INFO with `application/dtmf`, read off the stack's trace.

The stack decodes INFO bodies of type `application/dtmf-relay` ("Signal=5")
itself, but answers `application/dtmf` (a body that is just the key, as some
Cisco and Polycom handsets send) with 488 and drops the digit. A caller on
such a handset would press keys the menu never hears. The stack's receive
trace still shows the request, so the digit is taken from there and handed
to the call it belongs to. The handset still sees the stack's 488: INFO is
outside the call's dialog state (RFC 6086 section 4.2.2), so the call goes on.
"""

from __future__ import annotations

import asyncio
import logging
import re
import threading
from collections.abc import Callable

_RX_LINE = re.compile(r"^RX (?:UDP|TCP|TLS|WS|WSS) \S+ -> ")
_HEADER = re.compile(r"^([A-Za-z-]+)[ \t]*:[ \t]*(.*?)[ \t]*$")
_KEYS = frozenset("0123456789*#ABCD")
_COMPACT = {"i": "call-id", "c": "content-type"}


def parse_info_digit(text: str) -> tuple[str, str] | None:
    """(Call-ID, key) of a received INFO carrying `application/dtmf`, else None."""
    first, _, message = text.partition("\n")
    if not _RX_LINE.match(first) or not message.startswith("INFO "):
        return None
    head, separator, body = message.replace("\r\n", "\n").partition("\n\n")
    if not separator:
        return None
    headers: dict[str, str] = {}
    for line in head.split("\n")[1:]:
        match = _HEADER.match(line)
        if match:
            name = match.group(1).lower()
            headers.setdefault(_COMPACT.get(name, name), match.group(2))
    media_type = headers.get("content-type", "").split(";")[0].strip().lower()
    call_id = headers.get("call-id")
    key = body.strip().upper()
    if media_type != "application/dtmf" or not call_id or len(key) != 1 or key not in _KEYS:
        return None
    return call_id, key


class InfoDigitRelay(logging.Handler):
    """A logging handler on the stack's SIP trace that passes INFO digits to their call."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        super().__init__(level=logging.DEBUG)
        self._loop = loop
        self._lock = threading.Lock()
        self._listeners: dict[str, Callable[[str], None]] = {}

    def listen(self, call_id: str, deliver: Callable[[str], None]) -> None:
        """Send this call's INFO digits to `deliver`, on the event loop."""
        with self._lock:
            self._listeners[call_id] = deliver

    def forget(self, call_id: str) -> None:
        with self._lock:
            self._listeners.pop(call_id, None)

    def emit(self, record: logging.LogRecord) -> None:
        # Runs on the stack's log thread, for every traced message.
        try:
            parsed = parse_info_digit(record.getMessage())
        except Exception:  # a handler must never raise into logging
            return
        if parsed is None:
            return
        call_id, key = parsed
        with self._lock:
            deliver = self._listeners.get(call_id)
        if deliver is not None:
            self._loop.call_soon_threadsafe(deliver, key)
