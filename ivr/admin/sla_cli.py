"""`ivr sla`: the SLA clock from the command line, for checking a deadline by hand.

It uses the same calendar as the service (hours and holidays from sip.conf),
so an operator's answer here is the answer the pager works to.
"""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import click

from ivr.admin.context import AppContext, echo_json, pass_app
from ivr.flow.events import Priority
from ivr.sla import BusinessCalendar, deadlines


def parse_reported_at(value: str, tz: ZoneInfo) -> datetime:
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
            param_hint="'--reported-at'",
        ) from None
    if parsed.tzinfo is not None:
        return parsed
    first, second = parsed.replace(tzinfo=tz, fold=0), parsed.replace(tzinfo=tz, fold=1)
    if first.utcoffset() != second.utcoffset():
        skipped = first.astimezone(UTC).astimezone(tz).replace(tzinfo=None) != parsed
        why = "does not exist" if skipped else "happens twice"
        raise click.BadParameter(
            f"{value} {why} in {tz.key} (clock change); give an explicit UTC offset",
            param_hint="'--reported-at'",
        )
    return first


def _text(moment: datetime | None, tz: ZoneInfo) -> str:
    if moment is None:
        return "none (issue dependent)"
    return f"{moment.astimezone(tz):%a %d %b %Y %H:%M %Z}"


def _iso(moment: datetime | None, tz: ZoneInfo) -> str | None:
    return None if moment is None else moment.astimezone(tz).isoformat()


@click.group()
def sla() -> None:
    """The SLA clock: business hours, holidays and deadlines."""


@sla.command("deadlines")
@click.option(
    "--priority",
    required=True,
    type=click.Choice([p.value for p in Priority], case_sensitive=False),
    help="Fault priority.",
)
@click.option(
    "--reported-at",
    "reported_at_text",
    required=True,
    metavar="ISO8601",
    help="When the fault was reported; without an offset, in the configured time zone.",
)
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@pass_app
def deadlines_(app: AppContext, priority: str, reported_at_text: str, as_json: bool) -> None:
    """Show the acknowledge, respond and resolve deadlines for a fault."""
    tz = app.config.timezone
    reported_at = parse_reported_at(reported_at_text, tz)
    level = Priority(priority.lower())
    try:
        calendar = BusinessCalendar.from_config(app.config.hours, tz)
        result = deadlines(level, reported_at, calendar)
    except ValueError as exc:
        raise click.ClickException(str(exc)) from None
    rows = {
        "reported_at": reported_at,
        "acknowledge_by": result.acknowledge_by,
        "respond_by": result.respond_by,
        "resolve_by": result.resolve_by,
    }
    if as_json:
        echo_json({"priority": level.value, **{k: _iso(v, tz) for k, v in rows.items()}})
        return
    click.echo(f"{'priority':>14}: {level.value}")
    for key, value in rows.items():
        click.echo(f"{key:>14}: {_text(value, tz)}")
