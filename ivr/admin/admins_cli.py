"""`ivr admins`: who may sign in to the web page.

Passwords are never taken as an argument (it would sit in the shell history
and in `ps`): they are asked for twice at a hidden prompt, or read as one
line from standard input with --password-stdin for scripts.
"""

from __future__ import annotations

import sys

import click

from ivr.admin.context import AppContext, echo_json, pass_app
from ivr.names import ADMIN_NAME_MAX
from ivr.store.admins import (
    AdminError,
    add_admin,
    admin_as_dict,
    check_password_rules,
    find_admin,
    list_admins,
    remove_admin,
    set_password,
)

_STDIN_HELP = "Read the password as one line from standard input instead of prompting."


def _read_password(from_stdin: bool) -> str:
    if from_stdin:
        line = sys.stdin.readline()
        if not line:
            raise click.ClickException("--password-stdin: standard input is empty")
        password = line.rstrip("\r\n")
    else:
        password = click.prompt(
            "Password", hide_input=True, confirmation_prompt="Repeat the password"
        )
    try:
        return check_password_rules(password)
    except AdminError as exc:
        raise click.ClickException(str(exc)) from None


@click.group()
def admins() -> None:
    """Admins who may sign in to the web page (ivr web)."""


@admins.command(
    "add",
    epilog=f"NAME: at most {ADMIN_NAME_MAX} letters, digits or . _ @ -, starting with a letter"
    " or digit.",
)
@click.argument("name")
@click.option("--password-stdin", "from_stdin", is_flag=True, help=_STDIN_HELP)
@pass_app
def add(app: AppContext, name: str, from_stdin: bool) -> None:
    """Add an admin called NAME; the password is asked for."""
    password = _read_password(from_stdin)
    try:
        with app.db.sessions.begin() as session:
            admin = add_admin(session, name, password)
            added = admin.name
    except AdminError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"added admin {added}")


@admins.command("list")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@pass_app
def list_(app: AppContext, as_json: bool) -> None:
    """List admins and when each last signed in."""
    with app.db.sessions() as session:
        rows = [admin_as_dict(a) for a in list_admins(session)]
    if as_json:
        echo_json(rows)
        return
    if not rows:
        click.echo("no admins (add one: ivr admins add NAME)")
        return
    for row in rows:
        last = row["last_login_at"] or "never signed in"
        click.echo(f"{row['name']:<24} last sign-in: {last}")


@admins.command("remove")
@click.argument("name")
@pass_app
def remove(app: AppContext, name: str) -> None:
    """Remove the admin NAME; their open sessions end at once."""
    try:
        with app.db.sessions.begin() as session:
            removed = remove_admin(session, name).name
    except AdminError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"removed admin {removed}")


@admins.command("passwd")
@click.argument("name")
@click.option("--password-stdin", "from_stdin", is_flag=True, help=_STDIN_HELP)
@pass_app
def passwd(app: AppContext, name: str, from_stdin: bool) -> None:
    """Set a new password for NAME; their open sessions end."""
    with app.db.sessions() as session:
        if find_admin(session, name) is None:
            raise click.ClickException(f"no admin called {name.strip()!r} (see ivr admins list)")
    password = _read_password(from_stdin)
    try:
        with app.db.sessions.begin() as session:
            changed = set_password(session, name, password).name
    except AdminError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"password changed for {changed}; their sessions have ended")
