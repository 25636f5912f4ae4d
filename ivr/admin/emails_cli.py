"""`ivr emails`: the customers' e-mails in the outbox, and sending a failed one again."""

from __future__ import annotations

import click

from ivr.admin.context import DB_ID, AppContext, echo_json, pass_app
from ivr.admin.times import local_text
from ivr.store.outbox import (
    STATUSES,
    NotRetryable,
    list_messages,
    message_as_dict,
    retry_message,
    subject_hint,
)


@click.group()
def emails() -> None:
    """E-mails to customers (and notices): pending, sent and failed."""


@emails.command("list")
@click.option("--status", type=click.Choice(STATUSES), help="Only e-mails in this state.")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@pass_app
def list_(app: AppContext, status: str | None, as_json: bool) -> None:
    """E-mails newest first: who to, about which fault, and how sending went."""
    tz = app.config.timezone
    with app.db.sessions() as session:
        messages = list_messages(session, status)
        rows = [message_as_dict(m) for m in messages]
        lines = [
            f"{m.id:>5}  {m.status:<7}  {m.reference or '-':<7} {subject_hint(m):<13} "
            f"{', '.join(m.recipients)}  queued {local_text(m.created_at, tz)}"
            + (f"  tries {m.attempts}: {m.last_error}" if m.last_error else "")
            for m in messages
        ]
    if as_json:
        echo_json(rows)
        return
    for line in lines:
        click.echo(line)
    if not rows:
        click.echo(f"no {status} e-mails" if status else "no e-mails")


@emails.command("retry")
@click.argument("email_id", metavar="ID", type=DB_ID)
@pass_app
def retry(app: AppContext, email_id: int) -> None:
    """Send a failed e-mail again (`ivr serve` picks it up at once, attempts counted afresh)."""
    with app.db.sessions.begin() as session:
        try:
            message = retry_message(session, email_id, app.now())
        except NotRetryable as exc:
            raise click.ClickException(str(exc)) from None
        click.echo(f"e-mail {message.id} to {', '.join(message.recipients)} is pending again")
