"""`ivr customers`: who CLI SECURE serves, their account numbers, e-mail and PINs.

A PIN is never taken as an argument (it would sit in the shell history and
in `ps`) and never printed: it is read as one line from standard input with
--pin-stdin, and listings say only whether one is set. A value of the wrong
shape (account, PIN, e-mail, name) is bad usage naming its option (exit 2);
an unknown customer or a clash is a refusal (exit 1).
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Sequence

import click

from ivr.admin.context import AppContext, echo_json, pass_app
from ivr.store.customers import (
    CustomerError,
    add_customer,
    check_account,
    check_emails,
    check_name,
    check_pin_rules,
    get_customer,
    list_customers,
    remove_customer,
    set_customer,
    summarise,
)

_PIN_HELP = "Read the PIN (4 to 8 digits) as one line from standard input."
_EMAIL_HELP = "An e-mail address for the customer; repeat for several."


def _checked(value: str, check: Callable[[str], str], option: str) -> str:
    try:
        return check(value)
    except CustomerError as exc:
        raise click.BadParameter(str(exc), param_hint=option) from None


def _emails(addresses: Sequence[str]) -> list[str]:
    try:
        return check_emails(addresses)
    except CustomerError as exc:
        raise click.BadParameter(str(exc), param_hint="'--email'") from None


def _read_pin() -> str:
    line = sys.stdin.readline()
    if not line:
        raise click.BadParameter("standard input is empty", param_hint="'--pin-stdin'")
    return _checked(line.rstrip("\r\n"), check_pin_rules, "'--pin-stdin'")


@click.group()
def customers() -> None:
    """Customers: names, account numbers, e-mail addresses and PINs for calling in."""


@customers.command("add")
@click.argument("name")
@click.option("--account", help="Its 6-digit account number (default: a new random one).")
@click.option("--email", "emails", multiple=True, help=_EMAIL_HELP)
@click.option("--pin-stdin", "pin_stdin", is_flag=True, help=_PIN_HELP)
@pass_app
def add(
    app: AppContext, name: str, account: str | None, emails: tuple[str, ...], pin_stdin: bool
) -> None:
    """Add the customer NAME, with an account number (given or generated)."""
    name = _checked(name, check_name, "'NAME'")
    if account is not None:
        account = _checked(account, check_account, "'--account'")
    addresses = _emails(emails)
    pin = _read_pin() if pin_stdin else None
    try:
        with app.db.sessions.begin() as session:
            customer = add_customer(session, name, account=account, emails=addresses, pin=pin)
            added, number = customer.name, customer.account
    except CustomerError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"added customer {added}, account {number}{' (PIN set)' if pin else ''}")


@customers.command("list")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@pass_app
def list_(app: AppContext, as_json: bool) -> None:
    """List customers with their account numbers, handsets and open faults."""
    with app.db.sessions() as session:
        rows = [summarise(session, c, app.now()) for c in list_customers(session)]
    if as_json:
        echo_json([row.as_dict() for row in rows])
        return
    if not rows:
        click.echo("no customers (add one: ivr customers add NAME)")
        return
    for row in rows:
        pin = "PIN set" if row.pin_set else "no PIN"
        click.echo(
            f"{row.account}  {row.name:<32} {len(row.handsets)} handset(s), "
            f"{len(row.open_faults)} open fault(s), {pin}"
        )


@customers.command("show")
@click.argument("customer")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@pass_app
def show(app: AppContext, customer: str, as_json: bool) -> None:
    """Show CUSTOMER (a name or account number): e-mail, handsets, open faults."""
    try:
        with app.db.sessions() as session:
            row = summarise(session, get_customer(session, customer), app.now())
    except CustomerError as exc:
        raise click.ClickException(str(exc)) from None
    if as_json:
        echo_json(row.as_dict())
        return
    click.echo(row.name)
    click.echo(f"  account:     {row.account}")
    click.echo(f"  PIN:         {'set' if row.pin_set else 'not set'}")
    click.echo(f"  e-mail:      {', '.join(row.emails) or '-'}")
    click.echo(f"  handsets:    {', '.join(row.handsets) or '-'}")
    click.echo(f"  open faults: {', '.join(row.open_faults) or '-'}")
    click.echo(f"  added:       {row.created_at.isoformat()}")
    if row.locked_until is not None:
        click.echo(f"  PIN entry LOCKED until {row.locked_until.isoformat()} (too many wrong PINs)")


@customers.command("set")
@click.argument("customer")
@click.option("--name", "new_name", help="A new name (calls and faults keep the old one).")
@click.option("--email", "emails", multiple=True, help="Replace the e-mail addresses with these.")
@click.option("--clear-email", is_flag=True, help="Remove every e-mail address.")
@click.option("--pin-stdin", "pin_stdin", is_flag=True, help=_PIN_HELP)
@click.option("--clear-pin", is_flag=True, help="Remove the PIN: no calling in by PIN.")
@pass_app
def set_(
    app: AppContext,
    customer: str,
    new_name: str | None,
    emails: tuple[str, ...],
    clear_email: bool,
    pin_stdin: bool,
    clear_pin: bool,
) -> None:
    """Change CUSTOMER (a name or account number): name, e-mail addresses or PIN."""
    if emails and clear_email:
        raise click.UsageError("give --email or --clear-email, not both")
    if pin_stdin and clear_pin:
        raise click.UsageError("give --pin-stdin or --clear-pin, not both")
    if not (new_name is not None or emails or clear_email or pin_stdin or clear_pin):
        raise click.UsageError(
            "nothing to change: give --name, --email, --clear-email, --pin-stdin or --clear-pin"
        )
    if new_name is not None:
        new_name = _checked(new_name, check_name, "'--name'")
    addresses = _emails(emails) if emails else ([] if clear_email else None)
    pin = _read_pin() if pin_stdin else None
    try:
        with app.db.sessions.begin() as session:
            changed = set_customer(
                session, customer, name=new_name, emails=addresses, pin=pin, clear_pin=clear_pin
            )
            name = changed.name
    except CustomerError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"changed customer {name}")


@customers.command("remove")
@click.argument("customer")
@click.option(
    "--force",
    is_flag=True,
    help="Remove it even with handsets (removed too) or open faults (kept, unlinked).",
)
@pass_app
def remove(app: AppContext, customer: str, force: bool) -> None:
    """Remove CUSTOMER (a name or account number); calls and faults keep its name."""
    try:
        with app.db.sessions.begin() as session:
            handsets = len(get_customer(session, customer).handsets)
            name = remove_customer(session, customer, force=force).name
    except CustomerError as exc:
        raise click.ClickException(str(exc)) from None
    extra = f" and its {handsets} handset(s)" if handsets else ""
    click.echo(f"removed customer {name}{extra}")
