"""Instants typed by people: ISO 8601, local time unless an offset is given.

The one rule for the command line and the web page alike: a local time the
clock change skips or repeats is refused rather than guessed, since either
guess moves every deadline and every filter by an hour. Each caller words
its own answer to a refusal; the rule itself lives only here.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo


class LocalTimeError(ValueError):
    """A typed instant that cannot be taken as given."""


class NotADateTime(LocalTimeError):
    """The text is not ISO 8601 at all."""


# Instants people type must fall in these years. Nothing the fault line
# stores is older, and a deadline worked out from a date near year 9999 runs
# off the end of the calendar: such a date is a typo.
FIRST_YEAR = 1970
LAST_YEAR = 2199


# When something happened, as typed, may be this far ahead of our clock
# (a typist's watch runs fast); further ahead is a mistake, not a report.
FUTURE_TOLERANCE = timedelta(minutes=5)


class OutOfRange(LocalTimeError):
    """The year is outside FIRST_YEAR to LAST_YEAR."""


class ClockChange(LocalTimeError):
    """The local time does not exist or happens twice in the zone; the message says which."""


def parse_local(value: str, tz: ZoneInfo) -> datetime:
    """An aware instant from ISO 8601; a time without offset is local to `tz`."""
    try:
        parsed = datetime.fromisoformat(value.strip())
    except ValueError:
        raise NotADateTime(f"{value!r} is not an ISO 8601 date-time") from None
    if parsed.tzinfo is not None:
        return _storable(parsed, value)
    first, second = parsed.replace(tzinfo=tz, fold=0), parsed.replace(tzinfo=tz, fold=1)
    if first.utcoffset() != second.utcoffset():
        skipped = first.astimezone(UTC).astimezone(tz).replace(tzinfo=None) != parsed
        why = "does not exist" if skipped else "happens twice"
        raise ClockChange(f"{value} {why} in {tz.key} (clock change); give an explicit UTC offset")
    return _storable(first, value)


def _storable(moment: datetime, value: str) -> datetime:
    """`moment` if it falls in the years people may type (and so can be stored as UTC)."""
    if not FIRST_YEAR <= moment.year <= LAST_YEAR:
        raise OutOfRange(
            f"{value.strip()} is out of range: give a year from {FIRST_YEAR} to {LAST_YEAR}"
        )
    return moment
