"""`ivr serve`: answer the fault line until SIGINT or SIGTERM."""

from __future__ import annotations

import asyncio
import logging
import signal

import click

from ivr.admin.context import AppContext, pass_app
from ivr.admin.times import parse_instant
from ivr.prompts import PromptError
from ivr.service import FaultLineService, StartupError, offset_clock, system_clock

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
    if log_level.upper() not in LOG_LEVELS:
        raise click.BadParameter(
            f"{log_level!r} is not one of {', '.join(LOG_LEVELS)}", param_hint="'--log-level'"
        )
    logging.basicConfig(
        level=log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    # The scheduler's own per-run chatter says nothing an operator needs; the
    # paging scheduler logs every step it takes.
    logging.getLogger("apscheduler").setLevel(logging.WARNING)
    clock = system_clock
    if clock_start:
        clock = offset_clock(parse_instant(clock_start, app.config.timezone, "'--clock-start'"))
    # The prompts are built before any SIP port is opened; a prompt that cannot
    # be rendered or loaded, or a SIP port already taken, stops start-up with
    # one line naming it, not a traceback.
    try:
        asyncio.run(_serve(FaultLineService(app.config, clock=clock)))
    except (PromptError, StartupError) as exc:
        raise click.ClickException(f"not starting: {exc}") from None


async def _serve(service: FaultLineService) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    await service.run(stop)
