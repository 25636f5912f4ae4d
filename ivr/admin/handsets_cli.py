"""`ivr handsets`: the telephones CLI SECURE supplied, the only ones the line serves.

Each belongs to a customer, named by name or account number. A name not
known yet creates the customer (without a PIN) and says so: registering
handsets is how customers have always been set up, by hand and by script
(`scripts/run`, CSV imports), and the message makes a misspelt name plain.
An account number that is not known is refused: it cannot be meant as a
new name.
"""

from __future__ import annotations

from pathlib import Path

import click

from ivr.admin.context import AppContext, echo_json, pass_app
from ivr.callers import InvalidNumber, normalise_number
from ivr.names import CUSTOMER_NAME_MAX, InvalidName, check_name
from ivr.store.customers import CustomerError, customer_for_handset
from ivr.store.handsets import (
    HandsetError,
    add_handset,
    find_handset,
    import_handsets,
    list_handsets,
    parse_handset_csv,
    remove_handset,
    set_contact,
)

_CONTACT_HELP = (
    "Where an engineer's callback rings it: a sip: URI, or a number dialled through the "
    "trunk. Without one, the handset's own number is dialled through the trunk."
)


def _number(text: str) -> str:
    """NUMBER in E.164; a number that is not one is bad usage (exit 2), not a refusal."""
    try:
        return normalise_number(text)
    except InvalidNumber as exc:
        raise click.BadParameter(str(exc), param_hint="'NUMBER'") from None


@click.group()
def handsets() -> None:
    """Manage the handsets allowed to report faults."""


@handsets.command("add")
@click.argument("number")
@click.option(
    "--customer",
    required=True,
    help="The customer it belongs to: a 6-digit account number, or a name (at most "
    f"{CUSTOMER_NAME_MAX} characters, no control characters); a new name creates the customer.",
)
@click.option("--contact", help=_CONTACT_HELP)
@click.option("--if-missing", is_flag=True, help="Do nothing if the number is already registered.")
@pass_app
def add(app: AppContext, number: str, customer: str, contact: str | None, if_missing: bool) -> None:
    """Register NUMBER (any common UK form) as a supplied handset of a customer."""
    e164 = _number(number)
    try:
        customer = check_name(customer, "a customer name", CUSTOMER_NAME_MAX)
    except InvalidName as exc:
        raise click.BadParameter(str(exc), param_hint="'--customer'") from None
    try:
        with app.db.sessions.begin() as session:
            if find_handset(session, e164) is not None:
                if if_missing:
                    return
                raise HandsetError(f"{e164} is already registered")
            owner, created = customer_for_handset(session, customer)
            handset = add_handset(session, e164, owner, contact)
            if created:
                click.echo(f"created customer {owner.name} (account {owner.account})")
            click.echo(f"added {handset.number} ({owner.name})")
    except CustomerError as exc:
        raise click.ClickException(f"{exc}; add one with: ivr customers add NAME") from None
    except HandsetError as exc:
        raise click.ClickException(str(exc)) from None


@handsets.command(
    "import",
    epilog=f"CUSTOMER: at most {CUSTOMER_NAME_MAX} characters, no control characters.",
)
@click.argument("csv_file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@pass_app
def import_(app: AppContext, csv_file: Path) -> None:
    """Import NUMBER,CUSTOMER rows (CUSTOMER: name or account); any bad line imports nothing.

    A customer name not known yet creates the customer, and is listed.
    """
    try:
        with csv_file.open(newline="", encoding="utf-8-sig") as handle:
            rows = parse_handset_csv(handle)
        with app.db.sessions.begin() as session:
            result = import_handsets(session, rows)
    except HandsetError as exc:
        raise click.ClickException(f"{click.format_filename(csv_file)}: {exc}") from None
    except UnicodeDecodeError:
        raise click.ClickException(
            f"{click.format_filename(csv_file)}: not a UTF-8 text file"
        ) from None
    for name in result.new_customers:
        click.echo(f"created customer {name}")
    click.echo(f"imported {len(rows)} rows: {result.added} added, {result.updated} updated")


@handsets.command("list")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@pass_app
def list_(app: AppContext, as_json: bool) -> None:
    """List registered handsets."""
    with app.db.sessions() as session:
        rows = [
            {
                "number": h.number,
                "customer": h.customer,
                "account": h.owner.account,
                "added_at": h.added_at.isoformat(),
                "contact": h.contact,
            }
            for h in list_handsets(session)
        ]
    if as_json:
        echo_json(rows)
        return
    for row in rows:
        click.echo(f"{row['number']:<16} {row['customer']}")
    if not rows:
        click.echo("no handsets registered")


@handsets.command("set")
@click.argument("number")
@click.option("--contact", help=_CONTACT_HELP)
@click.option("--clear-contact", is_flag=True, help="Ring its own number through the trunk.")
@pass_app
def set_(app: AppContext, number: str, contact: str | None, clear_contact: bool) -> None:
    """Change how the handset NUMBER is rung back."""
    e164 = _number(number)
    if (contact is None) == (not clear_contact):
        raise click.UsageError("give one of --contact or --clear-contact")
    try:
        with app.db.sessions.begin() as session:
            handset = set_contact(session, e164, None if clear_contact else contact)
            click.echo(f"{handset.number}: called back at {handset.contact or handset.number}")
    except HandsetError as exc:
        raise click.ClickException(str(exc)) from None


@handsets.command("remove")
@click.argument("number")
@pass_app
def remove(app: AppContext, number: str) -> None:
    """Remove the handset NUMBER (any common UK form); its calls stay in the log."""
    e164 = _number(number)
    try:
        with app.db.sessions.begin() as session:
            handset = remove_handset(session, e164)
            click.echo(f"removed {handset.number} ({handset.customer})")
    except HandsetError as exc:
        raise click.ClickException(str(exc)) from None
