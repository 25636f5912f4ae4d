"""Telling systemd how `ivr serve` and `ivr web` are doing (sd_notify), for Type=notify units.

Written by hand rather than taken from a library: the protocol is one
datagram of KEY=VALUE lines sent to the AF_UNIX socket named in
$NOTIFY_SOCKET (a leading "@" names an abstract socket), which is a dozen
lines. python-systemd needs libsystemd's headers and a compiler to install,
and the small pure-Python packages are a dependency to pin, hash and audit
for less code than this module.

Outside systemd (no $NOTIFY_SOCKET) every call does nothing, so the same
code runs from a shell, under the tests and under systemd. A notification
that cannot be sent is logged, never raised: systemd's view of the service
must not be able to stop a call.
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
from collections.abc import Mapping

log = logging.getLogger(__name__)


class Notifier:
    """Sends sd_notify messages to one socket (or nowhere when `address` is None)."""

    def __init__(self, address: str | None, watchdog_usec: int | None = None) -> None:
        self.address = address
        self.watchdog_usec = watchdog_usec
        self._warned = False

    @classmethod
    def from_environment(cls, environ: Mapping[str, str] | None = None) -> Notifier:
        """The notifier systemd asked for: $NOTIFY_SOCKET, and $WATCHDOG_USEC if it is ours.

        $WATCHDOG_PID, when set, names the process the watchdog is meant for;
        a child that inherited the variables must not ping on its parent's behalf.
        """
        env = os.environ if environ is None else environ
        address = env.get("NOTIFY_SOCKET") or None
        usec: int | None = None
        pid = env.get("WATCHDOG_PID")
        if pid is None or pid == str(os.getpid()):
            try:
                usec = int(env.get("WATCHDOG_USEC", "")) or None
            except ValueError:
                usec = None
        return cls(address, usec if usec is not None and usec > 0 else None)

    @property
    def enabled(self) -> bool:
        return self.address is not None

    @property
    def watchdog_interval(self) -> float | None:
        """Seconds between WATCHDOG=1 pings: half the unit's WatchdogSec.

        Half, as sd_watchdog_enabled(3) advises: a ping delayed by a busy
        moment still arrives before systemd gives up on the service.
        """
        if self.address is None or self.watchdog_usec is None:
            return None
        return self.watchdog_usec / 2 / 1_000_000

    def notify(self, *lines: str) -> bool:
        """Send `lines` (e.g. "READY=1") as one datagram; True if it was sent."""
        if self.address is None:
            return False
        target = "\0" + self.address[1:] if self.address.startswith("@") else self.address
        try:
            with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM | socket.SOCK_CLOEXEC) as sock:
                sock.sendto("\n".join(lines).encode(), target)
        except OSError as exc:
            if not self._warned:  # once: a watchdog ping failing every few seconds is one fault
                log.warning("systemd notification to %s failed: %s", self.address, exc)
                self._warned = True
            return False
        return True

    def ready(self, status: str) -> bool:
        """Start-up is complete: systemd starts units ordered after this one."""
        return self.notify("READY=1", f"STATUS={status}")

    def stopping(self, status: str = "stopping: letting calls in progress finish") -> bool:
        return self.notify("STOPPING=1", f"STATUS={status}")

    def watchdog(self) -> bool:
        return self.notify("WATCHDOG=1")

    def start_watchdog(self, loop: asyncio.AbstractEventLoop) -> Watchdog | None:
        """Ping from `loop` every `watchdog_interval`, until the returned Watchdog is stopped.

        The pings are timer callbacks on the event loop, not a thread: a loop
        that is stuck (a blocking call, a busy coroutine) stops pinging, and
        systemd restarts the service, which is what the watchdog is for.
        """
        interval = self.watchdog_interval
        if interval is None:
            return None
        watchdog = Watchdog(self, loop, interval)
        watchdog.ping()
        return watchdog


class Watchdog:
    """WATCHDOG=1 on the event loop every `interval` seconds; `stop()` ends it."""

    def __init__(self, notifier: Notifier, loop: asyncio.AbstractEventLoop, interval: float):
        self.notifier = notifier
        self.loop = loop
        self.interval = interval
        self._handle: asyncio.TimerHandle | None = None
        self._stopped = False

    def ping(self) -> None:
        if self._stopped:
            return
        self.notifier.watchdog()
        self._handle = self.loop.call_later(self.interval, self.ping)

    def stop(self) -> None:
        self._stopped = True
        if self._handle is not None:
            self._handle.cancel()
