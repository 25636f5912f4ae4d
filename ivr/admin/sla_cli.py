"""`ivr sla`: the SLA clock from the command line, for checking a deadline by hand.

It uses the same calendar and targets as the service (hours, working days,
holidays and [sla] from sip.conf), so an operator's answer here is the
answer the pager works to.
"""

from __future__ import annotations

import click

from ivr.admin.context import AppContext, echo_json, pass_app
from ivr.admin.times import FIRST_YEAR, LAST_YEAR, local_iso, local_text, parse_instant
from ivr.domain import Channel, Priority
from ivr.sla import deadlines
from ivr.sla_report import Month, SlaReport, sla_report
from ivr.store.faults import fault_times, list_faults


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
    reported_at = parse_instant(reported_at_text, tz, "'--reported-at'")
    level = Priority(priority.lower())
    try:
        calendar = app.config.hours.calendar(tz)
        result = deadlines(level, reported_at, calendar, app.config.sla)
    except ValueError as exc:
        raise click.ClickException(str(exc)) from None
    rows = {
        "reported_at": reported_at,
        "acknowledge_by": result.acknowledge_by,
        "respond_by": result.respond_by,
        "resolve_by": result.resolve_by,
    }
    if as_json:
        echo_json({"priority": level.value, **{k: local_iso(v, tz) for k, v in rows.items()}})
        return
    click.echo(f"{'priority':>14}: {level.value}")
    for key, value in rows.items():
        click.echo(f"{key:>14}: {local_text(value, tz, none='none (issue dependent)')}")


@sla.command("report")
@click.option(
    "--month",
    "month_text",
    metavar="YYYY-MM",
    help="Calendar month in the configured time zone (default: this month).",
)
@click.option("--by-channel", is_flag=True, help="Also split the counts by how faults reached us.")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@pass_app
def report(app: AppContext, month_text: str | None, by_channel: bool, as_json: bool) -> None:
    """Per priority, faults reported in a month and their deadlines met, missed and pending.

    Every channel counts. A fault closed as out of scope is listed (its own
    column) but neither met nor missed.
    """
    tz = app.config.timezone
    now = app.now()
    try:
        month = Month.containing(now, tz) if month_text is None else Month.parse(month_text, tz)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="'--month'") from None
    if not FIRST_YEAR <= month.year <= LAST_YEAR:
        raise click.BadParameter(
            f"{month.label} is out of range: give a year from {FIRST_YEAR} to {LAST_YEAR}",
            param_hint="'--month'",
        )
    with app.db.sessions() as session:
        rows = list_faults(session, since=month.start, before=month.end, limit=None)
        times = [(f.channel, fault_times(f)) for f in rows]
    result = sla_report((t for _, t in times), month, now)
    channels = {
        channel: sla_report((t for c, t in times if c == channel.value), month, now)
        for channel in (Channel if by_channel else ())
    }
    if as_json:
        body = result.as_dict()
        if by_channel:
            body["channels"] = {c.value: r.as_dict()["priorities"] for c, r in channels.items()}
        echo_json(body)
        return
    click.echo(
        f"SLA report for {month.start.astimezone(tz):%B %Y} ({tz.key}), "
        f"as of {now.astimezone(tz):%a %d %b %Y %H:%M %Z}"
    )
    _table(app, result)
    for channel, part in channels.items():
        click.echo(f"\nReported by {channel.value}:")
        _table(app, part)


def _table(app: AppContext, result: SlaReport) -> None:
    click.echo(
        f"{'priority':<9} {'reported':>8}  {'stage':<12} {'met':>5} {'missed':>6} {'pending':>7}"
    )
    for priority, line in result.lines.items():
        for index, (stage, counts) in enumerate(line.stages.items()):
            head = f"{priority.value:<9} {line.reported:>8}" if index == 0 else " " * 18
            # Faults keep the deadlines they were given, so a stage the
            # configured rules leave open still shows any counts from before.
            has_counts = counts.met or counts.missed or counts.pending
            if getattr(app.config.sla[priority], stage.value) is None and not has_counts:
                click.echo(f"{head}  {stage.value:<12} no deadline")
                continue
            click.echo(
                f"{head}  {stage.value:<12} {counts.met:>5} {counts.missed:>6} {counts.pending:>7}"
            )
    closed = [
        f"{line.out_of_scope} {p.value}" for p, line in result.lines.items() if line.out_of_scope
    ]
    if closed:
        click.echo(f"closed out of scope (neither met nor missed): {', '.join(closed)}")
