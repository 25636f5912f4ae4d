"""`ivr serve`: answer the fault line until SIGINT or SIGTERM; SIGHUP re-reads sip.conf.

Under systemd (Type=notify, deploy/systemd/ivr-serve.service) it says
READY=1 once SIP listens and the prompts are ready, pings the watchdog from
its event loop, and says STOPPING=1 when asked to stop.
"""

from __future__ import annotations

import asyncio
import logging
import signal
from collections.abc import Callable, Coroutine
from functools import partial
from typing import Any

import click

from ivr.admin.context import AppContext, pass_app, require_current_schema
from ivr.admin.times import parse_instant
from ivr.config import load_config
from ivr.logs import configure as configure_logging
from ivr.prompts import PromptError
from ivr.service import FaultLineService, StartupError, offset_clock, system_clock
from ivr.store.db import Database
from ivr.systemd import Notifier

LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR")
log = logging.getLogger(__name__)


@click.command()
@click.option(
    "--log-level",
    default=None,
    envvar="IVR_LOG_LEVEL",
    help="Print log messages at this level and above: DEBUG, INFO, WARNING or ERROR"
    " (env IVR_LOG_LEVEL; default: [general] log_level, INFO).",
)
@click.option(
    "--clock-start",
    envvar="IVR_CLOCK_START",
    help="Pretend the service started at this ISO 8601 instant (for testing after-hours).",
)
@pass_app
def serve(app: AppContext, log_level: str | None, clock_start: str | None) -> None:
    """Answer calls to the fault line.

    SIGHUP re-reads sip.conf: prompts, [menu], [hours], [sla], [paging],
    [support] and log_level apply to the next call; the log says what else
    changed and needs a restart. A file with a mistake changes nothing.
    """
    level = None if log_level is None else log_level.upper()
    if level is not None and level not in LOG_LEVELS:
        raise click.BadParameter(
            f"{log_level!r} is not one of {', '.join(LOG_LEVELS)}", param_hint="'--log-level'"
        )
    configure_logging(app.config.log_format, level or app.config.log_level.number)
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
        service = FaultLineService(app.config, clock=clock)
        reload = partial(_reload, service, app, level)
        asyncio.run(_serve(service, Notifier.from_environment(), reload))
    except (PromptError, StartupError) as exc:
        raise click.ClickException(f"not starting: {exc}") from None


async def _reload(service: FaultLineService, app: AppContext, fixed_level: str | None) -> None:
    """SIGHUP: re-read sip.conf; its log level too, unless the command line set one."""
    log.info("SIGHUP: reading %s again", app.config_path)
    if not await service.reload(lambda: load_config(app.config_path)):
        return
    wanted = service.config.log_level
    if fixed_level is None:
        logging.getLogger().setLevel(wanted.number)
    elif wanted.number != logging.getLevelNamesMapping()[fixed_level]:
        log.warning("log level stays %s: --log-level (or IVR_LOG_LEVEL) wins", fixed_level)


async def _serve(
    service: FaultLineService,
    notifier: Notifier,
    reload: Callable[[], Coroutine[Any, Any, None]],
) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    reloads: set[asyncio.Task[None]] = set()

    def stopping() -> None:
        notifier.stopping()
        stop.set()

    def reloading() -> None:
        task = loop.create_task(reload())
        reloads.add(task)
        task.add_done_callback(reloads.discard)

    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stopping)
    loop.add_signal_handler(signal.SIGHUP, reloading)
    watchdog = notifier.start_watchdog(loop)
    try:
        await service.run(stop, ready=notifier.ready)
    finally:
        if watchdog is not None:
            watchdog.stop()
