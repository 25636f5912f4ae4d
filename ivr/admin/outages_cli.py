"""`ivr outages`: announcements callers hear before the menu while an outage is current.

Adding an outage also renders its message into the prompt cache, so the
running service plays it from the cache instead of synthesising speech
while a caller waits.
"""

from __future__ import annotations

from datetime import datetime

import click

from ivr.admin.context import DB_ID, AppContext, echo_json, pass_app
from ivr.admin.times import local_text, parse_instant
from ivr.prompts import PromptError, PromptLibrary
from ivr.store.outages import (
    OutageError,
    add_outage,
    list_outages,
    outage_as_dict,
    overlapping,
    remove_outage,
)


def prepare_message(app: AppContext, message: str) -> None:
    """Render the message into the prompt cache the service reads."""
    PromptLibrary(app.config.prompts, app.config.support).prepare_text(message)


@click.group()
def outages() -> None:
    """Outage announcements: scheduled maintenance and known incidents."""


@outages.command("add")
@click.option("--from", "from_text", required=True, metavar="ISO8601", help="When it starts.")
@click.option("--to", "to_text", required=True, metavar="ISO8601", help="When it ends.")
@click.option("--message", required=True, help="What callers hear before the menu.")
@pass_app
def add(app: AppContext, from_text: str, to_text: str, message: str) -> None:
    """Announce an outage to callers from --from until --to (local time unless an offset)."""
    tz = app.config.timezone
    starts_at = parse_instant(from_text, tz, "'--from'")
    ends_at = parse_instant(to_text, tz, "'--to'")
    now = app.now()
    with app.db.sessions.begin() as session:
        try:
            outage = add_outage(session, starts_at, ends_at, message, now)
        except OutageError as exc:
            raise click.ClickException(str(exc)) from None
        others = overlapping(session, outage)
        outage_id, text = outage.id, outage.message
    click.echo(
        f"added outage {outage_id}: {local_text(starts_at, tz)} to {local_text(ends_at, tz)}"
    )
    if ends_at <= now:
        click.echo("note: this outage is already over; callers will not hear it", err=True)
    for other in others:
        click.echo(
            f"note: overlaps outage {other.id} ({local_text(other.starts_at, tz)} to "
            f"{local_text(other.ends_at, tz)}); while both are current callers hear the one "
            "that started last",
            err=True,
        )
    try:
        prepare_message(app, text)
    except PromptError as exc:
        # The outage stands: the service renders the message when it starts,
        # or just before the first call that needs it.
        click.echo(f"warning: the message could not be rendered now: {exc}", err=True)
    else:
        click.echo("message rendered into the prompt cache")


@outages.command("list")
@click.option("--all", "include_past", is_flag=True, help="Include outages that are over.")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@pass_app
def list_(app: AppContext, include_past: bool, as_json: bool) -> None:
    """Current and future outages (with --all, past ones too), by start time."""
    tz = app.config.timezone
    now = app.now()
    with app.db.sessions() as session:
        rows = [
            outage_as_dict(o, now) for o in list_outages(session, now, include_past=include_past)
        ]
    if as_json:
        echo_json(rows)
        return
    for row in rows:
        starts = datetime.fromisoformat(str(row["starts_at"]))
        ends = datetime.fromisoformat(str(row["ends_at"]))
        if row["current"]:
            state = "NOW"
        elif ends <= now:
            state = "over"
        else:
            state = "next"
        click.echo(
            f"{row['id']:>4}  {state:<4}  {local_text(starts, tz)} to {local_text(ends, tz)}  "
            f"{row['message']}"
        )
    if not rows:
        click.echo("no outages" if include_past else "no current or future outages")


@outages.command("remove")
@click.argument("outage_id", metavar="ID", type=DB_ID)
@pass_app
def remove(app: AppContext, outage_id: int) -> None:
    """Stop announcing an outage and forget it."""
    with app.db.sessions.begin() as session:
        try:
            outage = remove_outage(session, outage_id)
        except OutageError as exc:
            raise click.ClickException(str(exc)) from None
        click.echo(f"removed outage {outage.id}: {outage.message}")
