"""`ivr serve`: answer the fault line until SIGINT or SIGTERM.

Under systemd (Type=notify, deploy/systemd/ivr-serve.service) it says
READY=1 once SIP listens and the prompts are ready, pings the watchdog from
its event loop, and says STOPPING=1 when asked to stop.
"""

from __future__ import annotations

import asyncio
import logging
import signal

import click

from ivr.admin.context import AppContext, pass_app, require_current_schema
from ivr.admin.times import parse_instant
from ivr.logs import configure as configure_logging
from ivr.prompts import PromptError
from ivr.service import FaultLineService, StartupError, offset_clock, system_clock
from ivr.store.db import Database
from ivr.systemd import Notifier

LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR")


@click.command()
@click.option(
    "--log-level",
    default="INFO",
    show_default=True,
    envvar="IVR_LOG_LEVEL",
    help="Print log messages at this level and above: DEBUG, INFO, WARNING or ERROR"
    " (env IVR_LOG_LEVEL).",
)
@click.option(
    "--clock-start",
    envvar="IVR_CLOCK_START",
    help="Pretend the service started at this ISO 8601 instant (for testing after-hours).",
)
@pass_app
def serve(app: AppContext, log_level: str, clock_start: str | None) -> None:
    """Answer calls to the fault line."""
    level = log_level.upper()
    if level not in LOG_LEVELS:
        raise click.BadParameter(
            f"{log_level!r} is not one of {', '.join(LOG_LEVELS)}", param_hint="'--log-level'"
        )
    configure_logging(app.config.log_format, level)
    # The scheduler's own per-run chatter says nothing an operator needs; the
    # paging scheduler logs every step it takes.
    logging.getLogger("apscheduler").setLevel(logging.WARNING)
    clock = system_clock
    if clock_start:
        clock = offset_clock(parse_instant(clock_start, app.config.timezone, "'--clock-start'"))
    if not app.config.auto_migrate:
        database = Database(app.config.database_url)
        try:
            require_current_schema(database)
        finally:
            database.dispose()
    # The prompts are built before any SIP port is opened; a prompt that cannot
    # be rendered or loaded, or a SIP port already taken, stops start-up with
    # one line naming it, not a traceback.
    try:
        asyncio.run(_serve(FaultLineService(app.config, clock=clock), Notifier.from_environment()))
    except (PromptError, StartupError) as exc:
        raise click.ClickException(f"not starting: {exc}") from None


async def _serve(service: FaultLineService, notifier: Notifier) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()

    def stopping() -> None:
        notifier.stopping()
        stop.set()

    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stopping)
    watchdog = notifier.start_watchdog(loop)
    try:
        await service.run(stop, ready=notifier.ready)
    finally:
        if watchdog is not None:
            watchdog.stop()
