"""Which address each INVITE really came from, read off the SIP stack's trace.

The engine reports headers but not the transport source of a request, and
RFC 3325 trust must be decided on that source, never on anything the peer
wrote into the message. The stack's own trace line ("RX UDP a:p -> b:q")
is written by the transport layer, so it is the truth; we index it by
Call-ID and let a new call wait briefly for it.
"""

from __future__ import annotations

import asyncio
import logging
import re
import threading
from collections import OrderedDict

_RX_LINE = re.compile(r"^RX (?:UDP|TCP|TLS|WS|WSS) (\[[^\]]+\]|[^ :]+):(\d+) -> ")
_CALL_ID = re.compile(
    r"^(?:call-id|i)[ \t]*:[ \t]*([^\r\n]+?)[ \t]*\r?$", re.IGNORECASE | re.MULTILINE
)
_MAX_REMEMBERED = 4096


def parse_trace(text: str) -> tuple[str, str] | None:
    """(Call-ID, source host) of a received INVITE trace record, else None."""
    header, _, message = text.partition("\n")
    match = _RX_LINE.match(header)
    if not match or not message.startswith("INVITE "):
        return None
    call_id = _CALL_ID.search(message)
    if call_id is None:
        return None
    return call_id.group(1), match.group(1).strip("[]")


class SourceTracker(logging.Handler):
    """A logging handler on the stack's SIP trace that remembers INVITE sources."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        super().__init__(level=logging.DEBUG)
        self._loop = loop
        self._lock = threading.Lock()
        self._sources: OrderedDict[str, str] = OrderedDict()
        self._waiters: dict[str, list[asyncio.Future[str]]] = {}

    def emit(self, record: logging.LogRecord) -> None:
        # Runs on the stack's log thread.
        try:
            parsed = parse_trace(record.getMessage())
        except Exception:  # a handler must never raise into logging
            return
        if parsed is None:
            return
        call_id, source = parsed
        with self._lock:
            self._sources[call_id] = source
            self._sources.move_to_end(call_id)
            while len(self._sources) > _MAX_REMEMBERED:
                self._sources.popitem(last=False)
            waiters = self._waiters.pop(call_id, [])
        for future in waiters:
            self._loop.call_soon_threadsafe(_resolve, future, source)

    async def source_of(self, call_id: str, timeout: float = 1.0) -> str | None:
        """The source host of the INVITE with this Call-ID, or None if unknown."""
        with self._lock:
            known = self._sources.get(call_id)
            if known is not None:
                return known
            future: asyncio.Future[str] = self._loop.create_future()
            self._waiters.setdefault(call_id, []).append(future)
        try:
            return await asyncio.wait_for(future, timeout)
        except TimeoutError:
            return None
        finally:
            with self._lock:
                waiting = self._waiters.get(call_id)
                if waiting and future in waiting:
                    waiting.remove(future)
                    if not waiting:
                        del self._waiters[call_id]

    def forget(self, call_id: str) -> None:
        with self._lock:
            self._sources.pop(call_id, None)


def _resolve(future: asyncio.Future[str], value: str) -> None:
    if not future.done():
        future.set_result(value)
