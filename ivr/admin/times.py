"""Instants typed by people on the command line: ISO 8601, local time unless an offset is given."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import click

from ivr.localtime import FIRST_YEAR, LAST_YEAR, LocalTimeError, NotADateTime, parse_local

__all__ = ["FIRST_YEAR", "LAST_YEAR", "local_iso", "local_text", "parse_instant"]


def parse_instant(value: str, tz: ZoneInfo, param_hint: str) -> datetime:
    """`ivr.localtime.parse_local`, its refusals worded as click errors naming the option."""
    try:
        return parse_local(value, tz)
    except NotADateTime:
        raise click.BadParameter(
            f"{value!r} is not an ISO 8601 date-time (e.g. 2026-11-24T15:30 or "
            "2026-11-24T15:30+00:00)",
            param_hint=param_hint,
        ) from None
    except LocalTimeError as exc:
        raise click.BadParameter(str(exc), param_hint=param_hint) from None


def local_text(moment: datetime | None, tz: ZoneInfo, none: str = "-") -> str:
    """An instant as people read it in the configured zone, e.g. "Mon 30 Nov 2026 09:00 GMT"."""
    if moment is None:
        return none
    return f"{moment.astimezone(tz):%a %d %b %Y %H:%M %Z}"


def local_iso(moment: datetime | None, tz: ZoneInfo) -> str | None:
    """ISO 8601 with the local UTC offset, for --json output."""
    return None if moment is None else moment.astimezone(tz).isoformat()
