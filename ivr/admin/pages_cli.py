"""`ivr pages`: every page and every call made for it, to answer "who was rung, and when?"."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import click

from ivr.admin.context import AppContext, echo_json, pass_app
from ivr.admin.times import parse_instant
from ivr.paging.policy import Step
from ivr.store.faults import find_fault
from ivr.store.models import Page
from ivr.store.pages import (
    ACKNOWLEDGED,
    ACTIVE,
    CANCELLED,
    FAILED,
    REMINDER,
    list_pages,
    page_as_dict,
)


def _local(value: datetime | None, tz: ZoneInfo) -> str:
    return "-" if value is None else f"{value.astimezone(tz):%Y-%m-%d %H:%M:%S}"


def _step(step: Step) -> str:
    """Counted from 1 for people: the first call of the first level reads r1 l1 a1."""
    return f"r{step.repeat + 1} l{step.level + 1} a{step.attempt + 1}"


def _page_lines(page: Page, tz: ZoneInfo) -> list[str]:
    status = page.status
    if status == "active":
        status += f", next {_step(page.step)} at {_local(page.next_action_at, tz)}"
    elif status == "acknowledged":
        status += f" by {page.acknowledged_by or '?'} at {_local(page.acknowledged_at, tz)}"
    elif status == "failed":
        status = "FAILED: nobody acknowledged"
    faults = ", ".join(f.reference for f in page.faults)
    kind = f"reminder to {page.target}  " if page.kind == REMINDER else ""
    if page.restart:
        kind = f"restart {page.restart} from level 1  "
    lines = [f"page {page.id}  {kind}fault {faults}  {status}"]
    for attempt in page.attempts:
        sip = f" {attempt.sip_status}" if attempt.sip_status is not None else ""
        detail = f"  ({attempt.detail})" if attempt.detail else ""
        lines.append(
            f"  {_local(attempt.started_at, tz)}  {_step(attempt.step)}  "
            f"{attempt.engineer_name or '-':<16} {attempt.contact or '-':<28} "
            f"{attempt.result or 'in progress'}{sip}{detail}"
        )
    return lines


@click.group()
def pages() -> None:
    """Pages to on-call engineers and their call attempts."""


@pages.command("list")
@click.option("--fault", "reference", metavar="REF", help="Only pages about this fault.")
@click.option("--since", metavar="ISO8601", help="Opened at or after (local time if no offset).")
@click.option("--until", metavar="ISO8601", help="Opened before (local time if no offset).")
@click.option(
    "--status",
    type=click.Choice([ACTIVE, ACKNOWLEDGED, FAILED, CANCELLED]),
    help="Only pages in this state (failed: nobody acknowledged).",
)
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@pass_app
def list_(
    app: AppContext,
    reference: str | None,
    since: str | None,
    until: str | None,
    status: str | None,
    as_json: bool,
) -> None:
    """List pages, newest first, each with its call attempts in order.

    The filters combine (all must match).
    """
    tz = app.config.timezone
    since_at = None if since is None else parse_instant(since, tz, "'--since'")
    until_at = None if until is None else parse_instant(until, tz, "'--until'")
    with app.db.sessions() as session:
        if reference is not None and find_fault(session, reference) is None:
            raise click.ClickException(f"no fault with reference {reference}")
        found = list_pages(session, reference, since=since_at, until=until_at, status=status)
        rows = [page_as_dict(p) for p in found]
        lines = [line for p in found for line in _page_lines(p, tz)]
    if as_json:
        echo_json(rows)
        return
    for line in lines:
        click.echo(line)
    if not rows:
        click.echo("no pages" if reference is None else f"no pages for fault {reference}")
