"""`ivr oncall`: the weekly rota, holiday and swap overrides, and who is on call.

Times typed without a UTC offset are in the configured time zone, since
that is how people think about handovers; times the clock change skips or
repeats are refused rather than guessed.
"""

from __future__ import annotations

import sys
from datetime import datetime, time

import click

from ivr.admin.context import DB_ID, AppContext, echo_json, pass_app
from ivr.admin.times import local_iso, local_text, parse_instant
from ivr.paging.rota import DAY_ABBREVIATIONS, Rota, first_handover, parse_weekday, slot_at
from ivr.store.engineers import PagingError
from ivr.store.oncall import (
    add_override,
    current_rota,
    list_overrides,
    overrides_for_display,
    pageable_now,
    remove_override,
    set_rota,
    who_is_on_call,
)

UPCOMING_TURNS = 4


def parse_hhmm(value: str) -> time:
    try:
        hours, minutes = value.strip().split(":")
        if len(minutes) != 2:
            raise ValueError
        return time(int(hours), int(minutes))
    except ValueError:
        raise click.BadParameter(
            f"{value!r} is not a time of day (HH:MM, e.g. 09:00)", param_hint="'--handover'"
        ) from None


@click.group()
def oncall() -> None:
    """The on-call rota, overrides, and who is on call now."""


@oncall.group()
def rota() -> None:
    """The weekly rotation of engineers."""


@rota.command("set")
@click.argument("names", nargs=-1, required=True)
@click.option(
    "--start",
    "start_text",
    required=True,
    metavar="ISO8601",
    help="The rota starts at the first handover at or after this date (or date-time).",
)
@click.option(
    "--handover",
    "handover_text",
    required=True,
    metavar="HH:MM",
    help="Local wall-clock time of the weekly handover.",
)
@click.option(
    "--weekday",
    "weekday_text",
    metavar="DAY",
    help="Day of the handover (mon ... sun); default: the day of --start.",
)
@click.option(
    "--period-days",
    default=7,
    show_default=True,
    type=click.IntRange(1, 366),
    help="Days each engineer is on call.",
)
@pass_app
def rota_set(
    app: AppContext,
    names: tuple[str, ...],
    start_text: str,
    handover_text: str,
    weekday_text: str | None,
    period_days: int,
) -> None:
    """Set the rota: NAMES take turns in this order, from the first handover."""
    tz = app.config.timezone
    not_before = parse_instant(start_text, tz, "'--start'")
    handover = parse_hhmm(handover_text)
    if weekday_text is None:
        weekday = not_before.astimezone(tz).weekday()
    else:
        try:
            weekday = parse_weekday(weekday_text)
        except ValueError as exc:
            raise click.BadParameter(str(exc), param_hint="'--weekday'") from None
    start = first_handover(not_before, handover, weekday, tz)
    try:
        new = Rota(tuple(n.strip() for n in names), start, handover, weekday, period_days, tz)
        with app.db.sessions.begin() as session:
            set_rota(session, new)
    except (PagingError, ValueError) as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(
        f"rota set: {', '.join(new.engineers)}; handover {DAY_ABBREVIATIONS[weekday]} "
        f"{handover:%H:%M} {tz.key}, every {period_days} days"
    )
    click.echo(f"first handover {local_text(start, tz)} to {new.engineers[0]}")


@rota.command("show")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@pass_app
def rota_show(app: AppContext, as_json: bool) -> None:
    """Show the rota, the next few turns and any current or future overrides."""
    now = app.now()
    with app.db.sessions() as session:
        current = current_rota(session)
        overrides = overrides_for_display(list_overrides(session, ending_after=now))
    if current is None:
        if as_json:
            echo_json(None)
        else:
            click.echo("no rota set (ivr oncall rota set NAME ... --start --handover)")
        return
    tz = current.tz
    slot = slot_at(current, now)
    first = slot.index if slot is not None else 0
    turns = [
        (
            current.engineers[k % len(current.engineers)],
            current.handover_at(k),
            current.handover_at(k + 1),
        )
        for k in range(first, first + UPCOMING_TURNS)
    ]
    if as_json:
        echo_json(
            {
                "engineers": list(current.engineers),
                "start": local_iso(current.start, tz),
                "handover": f"{current.handover:%H:%M}",
                "weekday": DAY_ABBREVIATIONS[current.weekday],
                "period_days": current.period_days,
                "timezone": tz.key,
                "turns": [
                    {"engineer": name, "from": local_iso(starts, tz), "to": local_iso(ends, tz)}
                    for name, starts, ends in turns
                ],
                "overrides": overrides,
            }
        )
        return
    click.echo(f"engineers: {', '.join(current.engineers)}")
    click.echo(
        f"handover:  {DAY_ABBREVIATIONS[current.weekday]} {current.handover:%H:%M} {tz.key}, "
        f"every {current.period_days} days, from {local_text(current.start, tz)}"
    )
    click.echo("turns (rota only, before overrides):")
    for name, starts, ends in turns:
        click.echo(f"  {local_text(starts, tz)} - {local_text(ends, tz)}  {name}")
    if overrides:
        click.echo("overrides:")
        for row in overrides:
            cover_from = datetime.fromisoformat(str(row["from"]))
            cover_to = datetime.fromisoformat(str(row["to"]))
            click.echo(
                f"  {local_text(cover_from, tz)} - {local_text(cover_to, tz)}  {row['engineer']}"
            )


@oncall.command("override")
@click.argument("engineer")
@click.option("--from", "from_text", required=True, metavar="ISO8601", help="Cover starts.")
@click.option("--to", "to_text", required=True, metavar="ISO8601", help="Cover ends.")
@pass_app
def override(app: AppContext, engineer: str, from_text: str, to_text: str) -> None:
    """Put ENGINEER on call from --from to --to, whatever the rota says."""
    tz = app.config.timezone
    starts_at = parse_instant(from_text, tz, "'--from'")
    ends_at = parse_instant(to_text, tz, "'--to'")
    try:
        with app.db.sessions.begin() as session:
            row = add_override(session, engineer, starts_at, ends_at)
            name = row.engineer.name
    except PagingError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(
        f"override: {name} on call from {local_text(starts_at, tz)} to {local_text(ends_at, tz)}"
    )


@oncall.command("overrides")
@click.option("--all", "show_all", is_flag=True, help="Past overrides too, not only coming ones.")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@pass_app
def overrides(app: AppContext, show_all: bool, as_json: bool) -> None:
    """List overrides (current and future unless --all), with the id remove-override takes."""
    tz = app.config.timezone
    with app.db.sessions() as session:
        rows = overrides_for_display(
            list_overrides(session, ending_after=None if show_all else app.now())
        )
    if as_json:
        echo_json(rows)
        return
    for row in rows:
        cover_from = datetime.fromisoformat(str(row["from"]))
        cover_to = datetime.fromisoformat(str(row["to"]))
        click.echo(
            f"{row['id']:>4}  {local_text(cover_from, tz)} - {local_text(cover_to, tz)}"
            f"  {row['engineer']}"
        )
    if not rows:
        click.echo("no overrides")


@oncall.command("remove-override")
@click.argument("override_id", metavar="ID", type=DB_ID)
@pass_app
def remove_override_(app: AppContext, override_id: int) -> None:
    """Remove the override with this ID (from `ivr oncall overrides`); the rota applies again."""
    tz = app.config.timezone
    try:
        with app.db.sessions.begin() as session:
            row = remove_override(session, override_id)
            text = (
                f"removed override {override_id}: {row.engineer.name} "
                f"{local_text(row.starts_at, tz)} - {local_text(row.ends_at, tz)}"
            )
    except PagingError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(text)


@oncall.command("now")
@click.option(
    "--at",
    "at_text",
    metavar="ISO8601",
    help="Ask about this instant instead of now; without an offset, local time.",
)
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@pass_app
def now_(app: AppContext, at_text: str | None, as_json: bool) -> None:
    """Who is on call (now, or --at), until when, and who is paged after them."""
    tz = app.config.timezone
    at = parse_instant(at_text, tz, "'--at'") if at_text is not None else app.now()
    with app.db.sessions() as session:
        answer = who_is_on_call(session, at)
        pageable = pageable_now(session, app.config.paging, at)
    if as_json:
        echo_json(
            {
                "at": local_iso(at, tz),
                "on_call": answer.engineer,
                "source": answer.source,
                "until": local_iso(answer.until, tz),
                "chain": list(answer.chain),
                "pageable": list(pageable),
            }
        )
    elif answer.engineer is None:
        click.echo(f"nobody is on call at {local_text(at, tz)}")
    else:
        until = f" until {local_text(answer.until, tz)}" if answer.until is not None else ""
        click.echo(f"{answer.engineer} ({answer.source}){until}")
        if len(answer.chain) > 1:
            click.echo(f"then: {', '.join(answer.chain[1:])}")
    if not pageable:
        # A critical fault reported now would ring nobody: a failed check for scripts.
        click.echo(
            f"nobody can be paged for a critical fault at {local_text(at, tz)} "
            "(set a rota or an override, or name engineers in [paging] levels)",
            err=True,
        )
        sys.exit(1)
