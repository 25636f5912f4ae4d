"""The Jinja2 environment and the filters the templates use to show numbers, names and times.

Autoescaping is on for every template: a caller's display name, number or
header is always text, never markup. StrictUndefined makes a misspelt
variable an error in tests rather than an empty space on the page.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import jinja2
import phonenumbers

HERE = Path(__file__).resolve().parent


def format_number(value: str | None) -> str:
    """E.164 as people write it: national for UK numbers, international otherwise."""
    if not value:
        return "withheld"
    try:
        parsed = phonenumbers.parse(value, None)
    except phonenumbers.NumberParseException:
        return value
    style = (
        phonenumbers.PhoneNumberFormat.NATIONAL
        if parsed.country_code == 44
        else phonenumbers.PhoneNumberFormat.INTERNATIONAL
    )
    return phonenumbers.format_number(parsed, style)


def humanise(value: object) -> str:
    return str(value or "").replace("_", " ")


def duration(start: datetime | None, end: datetime | None) -> str:
    if start is None or end is None:
        return "—"
    seconds = max(int((end - start).total_seconds()), 0)
    if seconds < 60:
        return f"{seconds}s"
    if seconds < 3600:
        return f"{seconds // 60}m {seconds % 60:02d}s"
    return f"{seconds // 3600}h {seconds % 3600 // 60:02d}m"


def environment(tz: ZoneInfo) -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(HERE / "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )

    def local(value: datetime | None, fmt: str = "%a %d %b %Y %H:%M") -> str:
        return "—" if value is None else value.astimezone(tz).strftime(fmt)

    env.filters["local"] = local
    env.filters["number"] = format_number
    env.filters["human"] = humanise
    env.globals["duration"] = duration
    return env
