"""`ivr calls`: the call log."""

from __future__ import annotations

import csv
from datetime import datetime
from typing import TextIO

import click

from ivr.admin.cdr import COLUMNS, cdr_row
from ivr.admin.context import AppContext, echo_json, pass_app
from ivr.admin.times import parse_instant
from ivr.callers import InvalidNumber, normalise_number
from ivr.domain import Outcome, Priority
from ivr.store.calls import (
    CallFilter,
    call_as_dict,
    close_interrupted_calls,
    iter_calls,
    list_calls,
)


def _instant(app: AppContext, value: str | None, name: str) -> datetime | None:
    return None if value is None else parse_instant(value, app.config.timezone, f"'{name}'")


def _filters(
    app: AppContext,
    since: str | None,
    until: str | None,
    cli: str | None,
    outcome: str | None,
    priority: str | None,
    limit: int = 100,
) -> CallFilter:
    number = None
    if cli is not None:
        try:
            number = normalise_number(cli)
        except InvalidNumber as exc:
            raise click.BadParameter(str(exc), param_hint="'--cli'") from None
    return CallFilter(
        since=_instant(app, since, "--since"),
        until=_instant(app, until, "--until"),
        cli=number,
        outcome=outcome,
        priority=priority,
        limit=limit,
    )


# The filters `calls list` and `calls export` share.
_since = click.option(
    "--since", metavar="ISO8601", help="Calls started at or after (local time if no offset)."
)
_until = click.option(
    "--until", metavar="ISO8601", help="Calls started before (local time if no offset)."
)
_cli = click.option("--cli", metavar="NUMBER", help="Only calls from this number (any UK form).")
_outcome = click.option(
    "--outcome",
    type=click.Choice([o.value for o in Outcome]),
    help="Only calls that ended this way.",
)
_priority = click.option(
    "--priority",
    type=click.Choice([p.value for p in Priority]),
    help="Only calls that reported a fault of this priority.",
)


@click.group()
def calls() -> None:
    """Review calls to the fault line."""


@calls.command("close-interrupted")
@click.option("--node", required=True, help="The dead node, as the call log names it (HOST:PORT).")
@pass_app
def close_interrupted(app: AppContext, node: str) -> None:
    """Mark the calls a dead node left in progress as interrupted.

    A node does this itself when it starts again; use this only for a node
    that is gone for good, or its live calls would be marked too.
    """
    with app.db.sessions.begin() as session:
        count = close_interrupted_calls(session, node.strip())
    click.echo(f"{count} call(s) of {node.strip()} marked interrupted")


@calls.command("export")
@click.option("--csv", "as_csv", is_flag=True, default=True, help="CSV (the format, and default).")
@_since
@_until
@_cli
@_outcome
@_priority
@click.option(
    "--output",
    "-o",
    type=click.File("w", encoding="utf-8", lazy=True),
    default="-",
    help="File to write (default: standard output).",
)
@pass_app
def export(
    app: AppContext,
    as_csv: bool,
    since: str | None,
    until: str | None,
    cli: str | None,
    outcome: str | None,
    priority: str | None,
    output: TextIO,
) -> None:
    """Write call detail records, oldest first, as CSV with a header line.

    The first columns are Asterisk's CDR (src, dst, start, answer, end,
    duration, billsec, disposition, uniqueid), so billing and reporting
    tools that read Asterisk's Master.csv read these too; then ours
    (verified, customer, digits, fault_reference, outcome, sip_call_id,
    node), then Asterisk's dcontext and lastapp. An engineer's callback to a
    customer is a row of its own (dcontext `callback`). Times are local to
    [general] timezone. Calls are streamed, so a year of them needs little
    memory.
    """
    filters = _filters(app, since, until, cli, outcome, priority)
    writer = csv.writer(output, lineterminator="\n")
    writer.writerow(COLUMNS)
    tz = app.config.timezone
    dst = app.config.public_number
    with app.db.engine.connect() as connection:
        for call in iter_calls(connection, filters):
            writer.writerow(cdr_row(call, dst, tz))


@calls.command("list")
@_since
@_until
@_cli
@_outcome
@_priority
@click.option(
    "--limit",
    default=100,
    show_default=True,
    type=click.IntRange(1, 100000),
    help="At most this many calls (the newest).",
)
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@pass_app
def list_(
    app: AppContext,
    since: str | None,
    until: str | None,
    cli: str | None,
    outcome: str | None,
    priority: str | None,
    limit: int,
    as_json: bool,
) -> None:
    """List calls, newest first; the filters combine (all must match)."""
    filters = _filters(app, since, until, cli, outcome, priority, limit)
    with app.db.engine.connect() as connection:
        rows = [call_as_dict(call) for call in list_calls(connection, filters)]
    if as_json:
        echo_json(rows)
        return
    tz = app.config.timezone
    for call in list_calls_text(rows, tz):
        click.echo(call)
    if not rows:
        click.echo("no calls")


def list_calls_text(rows: list[dict[str, object]], tz: object) -> list[str]:
    lines = []
    for row in rows:
        started = datetime.fromisoformat(str(row["started_at"])).astimezone(tz)  # type: ignore[arg-type]
        who = row["cli"] or "withheld/unknown"
        verified = "verified" if row["verified"] else "not verified"
        ref = f" ref {row['fault_reference']}" if row["fault_reference"] else ""
        lines.append(
            f"{started:%Y-%m-%d %H:%M:%S} {who:<16} {verified:<13} {row['outcome']:<12}"
            f" keys={row['digits'] or '-'}{ref}"
        )
    return lines
