"""Instants typed by people on the command line: ISO 8601, local time unless an offset is given."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import click

# Instants typed on the command line must fall in these years. Nothing the
# fault line stores is older, and a deadline worked out from a date near
# year 9999 runs off the end of the calendar: such a date is a typo.
FIRST_YEAR = 1970
LAST_YEAR = 2199


def parse_instant(value: str, tz: ZoneInfo, param_hint: str) -> datetime:
    """An aware instant from ISO 8601; a time without offset is local to `tz`.

    Local times the clock change skips or repeats are refused rather than
    guessed, since either guess moves every deadline by an hour.
    """
    try:
        parsed = datetime.fromisoformat(value.strip())
    except ValueError:
        raise click.BadParameter(
            f"{value!r} is not an ISO 8601 date-time (e.g. 2026-11-24T15:30 or "
            "2026-11-24T15:30+00:00)",
            param_hint=param_hint,
        ) from None
    if not FIRST_YEAR <= parsed.year <= LAST_YEAR:
        raise click.BadParameter(
            f"{value.strip()} is out of range: give a year from {FIRST_YEAR} to {LAST_YEAR}",
            param_hint=param_hint,
        )
    if parsed.tzinfo is not None:
        return parsed
    first, second = parsed.replace(tzinfo=tz, fold=0), parsed.replace(tzinfo=tz, fold=1)
    if first.utcoffset() != second.utcoffset():
        skipped = first.astimezone(UTC).astimezone(tz).replace(tzinfo=None) != parsed
        why = "does not exist" if skipped else "happens twice"
        raise click.BadParameter(
            f"{value} {why} in {tz.key} (clock change); give an explicit UTC offset",
            param_hint=param_hint,
        )
    return first


def local_text(moment: datetime | None, tz: ZoneInfo, none: str = "-") -> str:
    """An instant as people read it in the configured zone, e.g. "Mon 30 Nov 2026 09:00 GMT"."""
    if moment is None:
        return none
    return f"{moment.astimezone(tz):%a %d %b %Y %H:%M %Z}"


def local_iso(moment: datetime | None, tz: ZoneInfo) -> str | None:
    """ISO 8601 with the local UTC offset, for --json output."""
    return None if moment is None else moment.astimezone(tz).isoformat()
