"""Sign-in throttling: growing delays per name, a limit per client address, decided atomically.

Two rules, each against a different attacker:

- Per name, guessing is slowed, never stopped: after `free` failures in a
  row, each further attempt must wait a delay that doubles with every
  failure, up to `max_delay`. A hard lock would let anyone lock an admin
  out just by knowing the name; a delay only makes them wait, and the right
  password works as soon as the delay has passed.
- Per client address, `LoginThrottle` locks an address that fails too often,
  whatever names it tries. Behind a reverse proxy the address is the one
  the proxy forwarded (`client_address`), and only proxies in
  `[web] trusted_proxies` are believed, so one client's failures never
  count against another.

Deciding and counting happen under one lock, before the password is
checked: an attempt is let through only if, counting the attempts already
being checked as failures, it is still within the limits. So forty
attempts at once for one name get exactly as many password checks as
forty in a row. Everything takes `now`; nothing reads the clock. Held in
memory: per process, forgotten on restart.
"""

from __future__ import annotations

import ipaddress
import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

Network = ipaddress.IPv4Network | ipaddress.IPv6Network
_MAX_KEYS = 10_000  # past this, forgotten keys are pruned: bounds memory under a spray of names


@dataclass
class LoginThrottle:
    """Refuses sign-ins for a while after repeated failures of one key (a client address).

    After `max_failures` failures within `window`, the key is locked for
    `lockout`; each further failure while counting doubles the lockout, up
    to `max_lockout`. A success clears the key's count.
    """

    max_failures: int = 5
    window: timedelta = timedelta(minutes=15)
    lockout: timedelta = timedelta(minutes=5)
    max_lockout: timedelta = timedelta(hours=1)
    _failures: dict[str, list[datetime]] = field(default_factory=dict)
    _locked: dict[str, tuple[datetime, int]] = field(default_factory=dict)

    def blocked_until(self, keys: list[str], now: datetime) -> datetime | None:
        latest: datetime | None = None
        for key in keys:
            entry = self._locked.get(key)
            if entry is not None and entry[0] > now:
                latest = entry[0] if latest is None else max(latest, entry[0])
        return latest

    def recent_failures(self, key: str, now: datetime) -> int:
        return sum(1 for t in self._failures.get(key, []) if now - t < self.window)

    def failed(self, keys: list[str], now: datetime) -> None:
        for key in keys:
            recent = [t for t in self._failures.get(key, []) if now - t < self.window]
            recent.append(now)
            self._failures[key] = recent
            if len(recent) >= self.max_failures:
                strikes = self._locked.get(key, (now, 0))[1] + 1
                span = min(self.lockout * 2 ** (strikes - 1), self.max_lockout)
                self._locked[key] = (now + span, strikes)
                self._failures[key] = []
        if len(self._failures) > _MAX_KEYS:
            self._prune(now)

    def succeeded(self, keys: list[str]) -> None:
        for key in keys:
            self._failures.pop(key, None)
            self._locked.pop(key, None)

    def _prune(self, now: datetime) -> None:
        self._failures = {
            k: v for k, v in self._failures.items() if v and now - v[-1] < self.window
        }
        self._locked = {k: v for k, v in self._locked.items() if v[0] > now}


@dataclass
class _Streak:
    failures: int = 0
    last: datetime | None = None
    next_at: datetime | None = None


@dataclass
class NameDelays:
    """Failures in a row for a name, and when its next attempt may be checked.

    The streak is forgotten after `forget_after` without a failure, which is
    longer than `max_delay` so that a patient guesser never earns fresh free
    attempts.
    """

    free: int = 5
    first_delay: timedelta = timedelta(seconds=30)
    max_delay: timedelta = timedelta(minutes=10)
    forget_after: timedelta = timedelta(hours=1)
    _streaks: dict[str, _Streak] = field(default_factory=dict)

    def failures(self, key: str, now: datetime) -> int:
        streak = self._streaks.get(key)
        if streak is None or streak.last is None or now - streak.last >= self.forget_after:
            return 0
        return streak.failures

    def wait_until(self, key: str, now: datetime, pending: int) -> datetime | None:
        """When an attempt may be checked, if not now; `pending` are being checked already."""
        if self.failures(key, now) + pending < self.free:
            return None
        streak = self._streaks.get(key, _Streak())
        if streak.next_at is not None and streak.next_at > now:
            return streak.next_at
        # Past the delay, one attempt at a time; the others wait for its answer.
        return now if pending else None

    def failed(self, key: str, now: datetime) -> None:
        count = self.failures(key, now) + 1
        delay = None
        if count >= self.free:
            delay = min(self.first_delay * 2 ** (count - self.free), self.max_delay)
        self._streaks[key] = _Streak(count, now, now + delay if delay is not None else None)
        if len(self._streaks) > _MAX_KEYS:
            self._streaks = {
                k: s
                for k, s in self._streaks.items()
                if s.last is not None and now - s.last < self.forget_after
            }

    def succeeded(self, key: str) -> None:
        self._streaks.pop(key, None)


@dataclass(frozen=True)
class Ticket:
    """Leave to check one password: settle it exactly once, whatever happens."""

    name_key: str
    address_key: str


@dataclass
class SignInGate:
    """The two rules above, decided and counted under one lock."""

    names: NameDelays = field(default_factory=NameDelays)
    addresses: LoginThrottle = field(default_factory=lambda: LoginThrottle(max_failures=30))
    _pending: dict[str, int] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def admit(self, name: str, address: str, now: datetime) -> Ticket | datetime:
        """A ticket to check the password now, or the instant to try again after."""
        ticket = Ticket(f"name:{name.lower()}", f"addr:{address}")
        with self._lock:
            by_name = self._pending.get(ticket.name_key, 0)
            by_address = self._pending.get(ticket.address_key, 0)
            locked = self.addresses.blocked_until([ticket.address_key], now)
            if locked is not None:
                return locked
            full = self.addresses.recent_failures(ticket.address_key, now) + by_address
            if full >= self.addresses.max_failures:
                return now  # the attempts being checked may lock it; ask again
            wait = self.names.wait_until(ticket.name_key, now, by_name)
            if wait is not None:
                return wait
            self._pending[ticket.name_key] = by_name + 1
            self._pending[ticket.address_key] = by_address + 1
            return ticket

    def settle(self, ticket: Ticket, now: datetime, *, accepted: bool | None) -> None:
        """Count the attempt: `accepted` True or False, or None when no answer was reached."""
        with self._lock:
            for key in (ticket.name_key, ticket.address_key):
                left = self._pending.get(key, 0) - 1
                if left > 0:
                    self._pending[key] = left
                else:
                    self._pending.pop(key, None)
            if accepted:
                self.names.succeeded(ticket.name_key)
            elif accepted is False:
                self.names.failed(ticket.name_key, now)
                self.addresses.failed([ticket.address_key], now)


def client_address(
    peer: str | None, forwarded_for: Sequence[str], trusted: Sequence[Network]
) -> str:
    """The address a request came from, believing X-Forwarded-For only from trusted proxies.

    Each trusted proxy appends the address it got the request from, so the
    list is read from the right: every hop that is a trusted proxy passes
    the question to the one before it, and the first hop that is not
    trusted is the client. Anything a client put further left is ignored.
    """
    hops = [hop.strip() for value in forwarded_for for hop in value.split(",")]
    address = peer or "unknown"
    while hops and _is_trusted(address, trusted):
        address = hops.pop() or "unknown"
    return address


def _is_trusted(address: str, trusted: Sequence[Network]) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in network for network in trusted)
