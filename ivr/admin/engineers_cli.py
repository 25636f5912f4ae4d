"""`ivr engineers`: the people the fault line pages, and where to ring them."""

from __future__ import annotations

import click

from ivr.admin.context import AppContext, echo_json, pass_app
from ivr.names import ENGINEER_NAME_MAX
from ivr.store.engineers import (
    PagingError,
    add_engineer,
    engineer_as_dict,
    list_engineers,
    remove_engineer,
)


@click.group()
def engineers() -> None:
    """Manage the engineers who are paged for critical faults."""


@engineers.command(
    "add",
    epilog=f"NAME: at most {ENGINEER_NAME_MAX} characters; no control characters or | , : ; #.",
)
@click.argument("name")
@click.option(
    "--contact",
    required=True,
    metavar="sip:URI|NUMBER",
    help="Where to ring them: a SIP URI, or a telephone number (dialled via the trunk).",
)
@pass_app
def add(app: AppContext, name: str, contact: str) -> None:
    """Add engineer NAME, reachable at --contact."""
    try:
        with app.db.sessions.begin() as session:
            engineer = add_engineer(session, name, contact)
            click.echo(f"added {engineer.name} ({engineer.contact})")
    except PagingError as exc:
        raise click.ClickException(str(exc)) from None


@engineers.command("list")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@pass_app
def list_(app: AppContext, as_json: bool) -> None:
    """List engineers by name."""
    with app.db.sessions() as session:
        rows = [engineer_as_dict(e) for e in list_engineers(session)]
    if as_json:
        echo_json(rows)
        return
    for row in rows:
        state = "" if row["active"] else "  (inactive)"
        click.echo(f"{row['name']:<24} {row['contact']}{state}")
    if not rows:
        click.echo("no engineers")


@engineers.command("remove")
@click.argument("name")
@pass_app
def remove(app: AppContext, name: str) -> None:
    """Remove engineer NAME and their overrides; past page attempts keep the name."""
    try:
        with app.db.sessions.begin() as session:
            engineer = remove_engineer(session, name)
            click.echo(f"removed {engineer.name}")
    except PagingError as exc:
        raise click.ClickException(str(exc)) from None
