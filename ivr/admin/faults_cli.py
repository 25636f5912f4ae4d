"""`ivr faults`: faults from every channel, with their SLA clock."""

from __future__ import annotations

import getpass
from datetime import datetime
from zoneinfo import ZoneInfo

import click

from ivr.admin.context import AppContext, echo_json, pass_app
from ivr.admin.times import local_text, parse_instant
from ivr.callers import InvalidNumber, normalise_number
from ivr.domain import Channel, FaultStatus, Priority
from ivr.faults.clock import next_owed
from ivr.faults.lifecycle import Action, IllegalMove
from ivr.localtime import FUTURE_TOLERANCE
from ivr.sla import deadlines, describe_remaining
from ivr.store.call_writes import log_fault
from ivr.store.customers import CustomerError, get_customer
from ivr.store.descriptions import list_recordings, recording_as_dict
from ivr.store.fault_changes import close_out_of_scope, reprioritise
from ivr.store.faults import (
    MAX_NOTE,
    MAX_TICKET_REF,
    fault_as_dict,
    fault_times,
    find_fault,
    list_faults,
    move_fault,
)
from ivr.store.models import Fault


def clock_text(fault: Fault, now: datetime, tz: ZoneInfo) -> str:
    """What the fault owes next, e.g. "respond by Mon 30 Nov 11:00 (overdue by 0h 30m)"."""
    clock = next_owed(fault_times(fault), now)
    if clock is None:
        return "resolved" if fault.resolved_at is not None else "no deadline pending"
    due = clock.due.astimezone(tz)
    return f"{clock.stage} by {due:%a %d %b %H:%M} ({describe_remaining(clock.due, now)})"


@click.group()
def faults() -> None:
    """Review and progress faults."""


@faults.command("list")
@click.option(
    "--status", type=click.Choice([s.value for s in FaultStatus]), help="Only faults in this state."
)
@click.option(
    "--priority", type=click.Choice([p.value for p in Priority]), help="Only this priority."
)
@click.option("--since", metavar="ISO8601", help="Reported at or after (local time if no offset).")
@click.option("--until", metavar="ISO8601", help="Reported before (local time if no offset).")
@click.option(
    "--cli", metavar="NUMBER", help="Only faults reported from this number (any UK form)."
)
@click.option(
    "--via", "channel", type=click.Choice([c.value for c in Channel]), help="Only this channel."
)
@click.option("--breached", is_flag=True, help="Only faults past a deadline still owed.")
@click.option(
    "--limit",
    default=200,
    show_default=True,
    type=click.IntRange(1, 100000),
    help="At most this many faults (the newest).",
)
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@pass_app
def list_(
    app: AppContext,
    status: str | None,
    priority: str | None,
    since: str | None,
    until: str | None,
    cli: str | None,
    channel: str | None,
    breached: bool,
    limit: int,
    as_json: bool,
) -> None:
    """List faults, newest first, with the time left to each one's next deadline.

    The filters combine (all must match).
    """
    now = app.now()
    tz = app.config.timezone
    number = None
    if cli is not None:
        try:
            number = normalise_number(cli)
        except InvalidNumber as exc:
            raise click.BadParameter(str(exc), param_hint="'--cli'") from None
    since_at = None if since is None else parse_instant(since, tz, "'--since'")
    until_at = None if until is None else parse_instant(until, tz, "'--until'")
    with app.db.sessions() as session:
        found = list_faults(
            session,
            status=status,
            priority=priority,
            since=since_at,
            before=until_at,
            cli=number,
            channel=channel,
            unresolved=breached,
            # Breaches are filtered after the query, so none may be cut off by the limit first.
            limit=None if breached else limit,
        )
        if breached:
            found = [
                f for f in found if (c := next_owed(fault_times(f), now)) is not None and c.overdue
            ]
            found = found[:limit]
        rows = [fault_as_dict(f, now) for f in found]
        texts = [clock_text(f, now, tz) for f in found]
    if as_json:
        echo_json(rows)
        return
    for row, text in zip(rows, texts, strict=True):
        reported = datetime.fromisoformat(str(row["reported_at"])).astimezone(tz)
        loud = "PAGE FAILED: " if row["status"] == FaultStatus.PAGE_FAILED else ""
        click.echo(
            f"{loud}{row['reference']}  {row['priority']:<8} {row['status']:<12} "
            f"{row['channel']:<6} "
            f"{reported:%Y-%m-%d %H:%M}  {text:<44} {row['customer'] or '-'}".rstrip()
        )
    if not rows:
        click.echo("no breached faults" if breached else "no faults")


def _show(app: AppContext, reference: str, as_json: bool) -> None:
    """Print one fault, as `faults show` does (and `faults add` after logging one)."""
    now = app.now()
    with app.db.sessions() as session:
        fault = find_fault(session, reference)
        if fault is None:
            raise click.ClickException(f"no fault with reference {reference}")
        row = fault_as_dict(fault, now)
        row["recordings"] = [recording_as_dict(r) for r in list_recordings(session, fault.id)]
        text = clock_text(fault, now, app.config.timezone)
    if as_json:
        echo_json(row)
        return
    if row["status"] == FaultStatus.PAGE_FAILED:
        click.echo("PAGE FAILED: nobody answered the page for this fault")
    recordings = row.pop("recordings")
    for key, value in row.items():
        click.echo(f"{key:>17}: {value if value is not None else '-'}")
    click.echo(f"{'clock':>17}: {text}")
    for recording in recordings:  # type: ignore[attr-defined]
        click.echo(
            f"{'recording':>17}: {recording['path']} ({recording['seconds']} s, "
            f"ended by {recording['ended_by']})"
        )


@faults.command("show")
@click.argument("reference")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@pass_app
def show(app: AppContext, reference: str, as_json: bool) -> None:
    """Show one fault by its reference."""
    _show(app, reference, as_json)


def _past_instant(app: AppContext, text: str | None, param_hint: str) -> datetime:
    """An instant typed on the command line (default now), refused if in the future."""
    tz = app.config.timezone
    now = app.now()
    at = now if text is None else parse_instant(text, tz, param_hint)
    if at > now + FUTURE_TOLERANCE:
        raise click.BadParameter(f"{local_text(at, tz)} is in the future", param_hint=param_hint)
    return at


def _limited(value: str | None, limit: int, param_hint: str) -> str | None:
    text = (value or "").replace("\r\n", "\n").strip()
    if len(text) > limit:
        raise click.BadParameter(f"at most {limit} characters", param_hint=param_hint)
    return text or None


@faults.command("add")
@click.option(
    "--customer", "customer_key", required=True, metavar="NAME|ACCOUNT", help="Whose fault."
)
@click.option(
    "--priority", required=True, type=click.Choice([p.value for p in Priority]), help="Priority."
)
@click.option(
    "--via",
    "channel",
    required=True,
    type=click.Choice([c.value for c in Channel]),
    help="How the fault reached us.",
)
@click.option(
    "--reported-at",
    "reported_at_text",
    metavar="ISO8601",
    help="When it was reported (default now); without an offset, in the configured time zone.",
)
@click.option("--ticket-ref", metavar="TEXT", help="The ticket's own reference.")
@click.option("--description", metavar="TEXT", help="What the customer wrote.")
@click.option("--json", "as_json", is_flag=True, help="Print it as `faults show --json` does.")
@pass_app
def add(
    app: AppContext,
    customer_key: str,
    priority: str,
    channel: str,
    reported_at_text: str | None,
    ticket_ref: str | None,
    description: str | None,
    as_json: bool,
) -> None:
    """Log a fault that came by e-mail, ticket or phone, on the same SLA clock as a call.

    It gets a reference and deadlines exactly as a phone report would for the
    same time; a priority that pages does so at once, unless its acknowledgement
    deadline had already passed.
    """
    tz = app.config.timezone
    now = app.now()
    reported_at = _past_instant(app, reported_at_text, "'--reported-at'")
    ref_text = _limited(ticket_ref, MAX_TICKET_REF, "'--ticket-ref'")
    text = _limited(description, MAX_NOTE, "'--description'")
    level = Priority(priority)
    try:
        clock = deadlines(level, reported_at, app.config.hours.calendar(tz), app.config.sla)
    except ValueError as exc:
        raise click.ClickException(str(exc)) from None
    with app.db.sessions.begin() as session:
        try:
            customer = get_customer(session, customer_key)
        except CustomerError as exc:
            raise click.ClickException(str(exc)) from None
        fault = log_fault(
            session,
            priority=level,
            reported_at=reported_at,
            clock=clock,
            pages=app.config.paging.pages(level.value),
            now=now,
            channel=Channel(channel),
            customer=customer.name,
            customer_id=customer.id,
            ticket_ref=ref_text,
            description=text,
        )
        reference = fault.reference
    _show(app, reference, as_json)


def _progress(
    app: AppContext, reference: str, stage: str, by: str | None, at_text: str | None
) -> None:
    tz = app.config.timezone
    now = app.now()
    at = _past_instant(app, at_text, "'--at'")
    with app.db.sessions.begin() as session:
        fault = find_fault(session, reference)
        if fault is None:
            raise click.ClickException(f"no fault with reference {reference}")
        before = {"acknowledged": fault.acknowledged_at, "responded": fault.responded_at}
        try:
            move_fault(session, fault, Action(stage), at, by=by, author=by or getpass.getuser())
        except IllegalMove as exc:
            raise click.ClickException(str(exc)) from None
        after = {"acknowledged": fault.acknowledged_at, "responded": fault.responded_at}
        implied = [
            name
            for name in before
            if before[name] is None and after[name] is not None and name != fault.status
        ]
        also = f" ({' and '.join(implied)} too)" if implied else ""
        who = ""
        if before["acknowledged"] is None and fault.acknowledged_by:
            who = f", acknowledged by {fault.acknowledged_by}"
        click.echo(f"fault {fault.reference} {fault.status} at {local_text(at, tz)}{also}{who}")
        click.echo(f"next: {clock_text(fault, now, tz)}")


_by = click.option("--by", metavar="NAME", help="Who acknowledged (kept with the acknowledgement).")
_at = click.option(
    "--at",
    "at_text",
    metavar="ISO8601",
    help="When it happened (default now); without an offset, in the configured time zone.",
)


@faults.command("ack")
@click.argument("reference")
@_by
@_at
@pass_app
def ack(app: AppContext, reference: str, by: str | None, at_text: str | None) -> None:
    """Record that someone acknowledged the fault."""
    _progress(app, reference, "acknowledge", by, at_text)


@faults.command("respond")
@click.argument("reference")
@_by
@_at
@pass_app
def respond(app: AppContext, reference: str, by: str | None, at_text: str | None) -> None:
    """Record the first response (acknowledges it too, if nobody had)."""
    _progress(app, reference, "respond", by, at_text)


@faults.command("resolve")
@click.argument("reference")
@_by
@_at
@pass_app
def resolve(app: AppContext, reference: str, by: str | None, at_text: str | None) -> None:
    """Record that the fault is resolved (responds and acknowledges too, if not done)."""
    _progress(app, reference, "resolve", by, at_text)


_reason = click.option(
    "--reason", required=True, metavar="TEXT", help="Why (kept on the fault's timeline)."
)
_who = click.option("--by", metavar="NAME", help="Who decided (default: your login name).")


@faults.command("reprioritise")
@click.argument("reference")
@click.option(
    "--priority", required=True, type=click.Choice([p.value for p in Priority]), help="The new one."
)
@_reason
@_who
@pass_app
def reprioritise_(
    app: AppContext, reference: str, priority: str, reason: str, by: str | None
) -> None:
    """Set the priority CLI SECURE decided; the caller's own choice stays on the fault.

    The deadlines are recomputed from the original report time. A priority
    that pages starts paging at once; one that does not stops a running page.
    """
    tz = app.config.timezone
    now = app.now()
    level = Priority(priority)
    who = by or getpass.getuser()
    with app.db.sessions.begin() as session:
        fault = find_fault(session, reference)
        if fault is None:
            raise click.ClickException(f"no fault with reference {reference}")
        try:
            clock = deadlines(
                level, fault.reported_at, app.config.hours.calendar(tz), app.config.sla
            )
            reprioritise(
                session, fault, level, clock, app.config.paging, at=now, by=who, reason=reason
            )
        except (IllegalMove, ValueError) as exc:
            raise click.ClickException(str(exc)) from None
        click.echo(
            f"fault {fault.reference} is now {fault.priority} "
            f"(reported as {fault.reported_priority}); next: {clock_text(fault, now, tz)}"
        )


@faults.command("close")
@click.argument("reference")
@click.option(
    "--out-of-scope",
    is_flag=True,
    required=True,
    help="Not ours to fix (a third party's, by the SLA): listed, neither met nor missed.",
)
@_reason
@_who
@pass_app
def close(app: AppContext, reference: str, out_of_scope: bool, reason: str, by: str | None) -> None:
    """Close a fault as out of scope; its paging stops."""
    if not out_of_scope:
        raise click.UsageError("say how it is closed: --out-of-scope")
    tz = app.config.timezone
    now = app.now()
    with app.db.sessions.begin() as session:
        fault = find_fault(session, reference)
        if fault is None:
            raise click.ClickException(f"no fault with reference {reference}")
        try:
            close_out_of_scope(session, fault, at=now, by=by or getpass.getuser(), reason=reason)
        except IllegalMove as exc:
            raise click.ClickException(str(exc)) from None
        click.echo(f"fault {fault.reference} closed as out of scope at {local_text(now, tz)}")
