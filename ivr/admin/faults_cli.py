"""`ivr faults`: faults reported by phone, with their SLA clock."""

from __future__ import annotations

from datetime import datetime

import click

from ivr.admin.context import AppContext, echo_json, pass_app
from ivr.flow.events import Priority
from ivr.store.faults import fault_as_dict, find_fault, list_faults


@click.group()
def faults() -> None:
    """Review and progress faults."""


@faults.command("list")
@click.option("--status", type=click.Choice(["open", "acknowledged", "responded", "resolved"]))
@click.option("--priority", type=click.Choice([p.value for p in Priority]))
@click.option("--limit", default=200, show_default=True, type=click.IntRange(1, 100000))
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@pass_app
def list_(
    app: AppContext, status: str | None, priority: str | None, limit: int, as_json: bool
) -> None:
    """List faults, newest first."""
    with app.db.sessions() as session:
        rows = [
            fault_as_dict(f)
            for f in list_faults(session, status=status, priority=priority, limit=limit)
        ]
    if as_json:
        echo_json(rows)
        return
    tz = app.config.timezone
    for row in rows:
        reported = datetime.fromisoformat(str(row["reported_at"])).astimezone(tz)
        click.echo(
            f"{row['reference']}  {row['priority']:<8} {row['status']:<12} "
            f"{reported:%Y-%m-%d %H:%M}  {row['customer'] or '-'}"
        )
    if not rows:
        click.echo("no faults")


@faults.command("show")
@click.argument("reference")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@pass_app
def show(app: AppContext, reference: str, as_json: bool) -> None:
    """Show one fault by its reference."""
    with app.db.sessions() as session:
        fault = find_fault(session, reference)
        if fault is None:
            raise click.ClickException(f"no fault with reference {reference}")
        row = fault_as_dict(fault)
    if as_json:
        echo_json(row)
        return
    for key, value in row.items():
        click.echo(f"{key:>16}: {value if value is not None else '-'}")
