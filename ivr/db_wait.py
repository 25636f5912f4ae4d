"""Waiting for a database that has gone away: when to try again, when to give up, what to log.

Pure: times are seconds on any monotonic clock, passed in, so the rules can
be tested by stepping time by hand. `ivr.db_writer` carries them out.

A fault confirmed while the database is away is worth a short wait (a
PostgreSQL restart takes seconds), but not an unbounded one: after the
configured wait the caller is told we have a technical problem, and can
call again or report another way, rather than being left in silence.
"""

from __future__ import annotations

from dataclasses import dataclass

# The default of `[general] database_wait_seconds`.
DEFAULT_WAIT_SECONDS = 30.0
# The first retry comes quickly (a dropped pooled connection is usually
# replaced at once), later ones at most this far apart, so that a database
# that returns is used within a second or two of its return.
FIRST_RETRY_SECONDS = 0.25
MAX_RETRY_SECONDS = 1.0
# While the database stays away, the log says so again this often.
REMIND_SECONDS = 10.0


@dataclass
class RetryWindow:
    """One piece of work's attempts while the database is away.

    The last attempt is made at the end of the window, never after it: the
    wait a caller can be kept in is bounded by `limit` plus one attempt.
    """

    started: float
    limit: float
    attempts: int = 0

    def failed(self, now: float) -> float | None:
        """After an attempt failed at `now`: seconds until the next, or None to give up."""
        self.attempts += 1
        remaining = self.started + self.limit - now
        if remaining <= 0:
            return None
        delay = min(FIRST_RETRY_SECONDS * 2 ** (self.attempts - 1), MAX_RETRY_SECONDS)
        return min(delay, remaining)


@dataclass
class Availability:
    """Whether the database is away, and which log lines that calls for.

    One line when it goes away, a reminder every REMIND_SECONDS while it
    stays away, one line when it is back: an operator reading the log of
    `ivr serve` sees the outage's start, its length and its end, not one
    line per failed attempt of every call.
    """

    down_since: float | None = None
    reminded_at: float | None = None

    @property
    def down(self) -> bool:
        return self.down_since is not None

    def failed(self, now: float, reason: str) -> str | None:
        """A database operation failed at `now`; the line to log, if any."""
        if self.down_since is None:
            self.down_since = self.reminded_at = now
            return f"database UNAVAILABLE: {reason}"
        assert self.reminded_at is not None
        if now - self.reminded_at >= REMIND_SECONDS:
            self.reminded_at = now
            return f"database still UNAVAILABLE after {now - self.down_since:.0f} s: {reason}"
        return None

    def succeeded(self, now: float) -> str | None:
        """A database operation succeeded at `now`; the line to log, if any."""
        if self.down_since is None:
            return None
        away = now - self.down_since
        self.down_since = self.reminded_at = None
        return f"database available again after {away:.1f} s"
