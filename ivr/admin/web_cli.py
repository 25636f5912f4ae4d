"""`ivr web`: serve the admin web page with uvicorn.

Under systemd (Type=notify, deploy/systemd/ivr-web.service) it says
READY=1 once uvicorn listens, pings the watchdog from the event loop that
serves the requests, and says STOPPING=1 as it shuts down. Its log, uvicorn's
included, is written as `[general] log_format` says.
"""

from __future__ import annotations

import asyncio
import socket

import click

from ivr.admin.context import AppContext, pass_app
from ivr.logs import configure as configure_logging
from ivr.systemd import Notifier, Watchdog


@click.command()
@click.option("--host", help="Address to listen on (default: [web] listen, 127.0.0.1).")
@click.option(
    "--port", type=click.IntRange(1, 65535), help="TCP port (default: [web] listen, 8080)."
)
@pass_app
def web(app: AppContext, host: str | None, port: int | None) -> None:
    """Serve the admin web page: dashboard, call log, faults, rota, /metrics."""
    import uvicorn

    from ivr.admin.web.app import create_app

    settings = app.config.web
    site = create_app(app.config, app.db)
    configure_logging(app.config.log_format, "INFO")

    class NotifyingServer(uvicorn.Server):
        """uvicorn's server, telling systemd when it listens and when it stops."""

        notifier = Notifier.from_environment()
        watchdog: Watchdog | None = None

        async def startup(self, sockets: list[socket.socket] | None = None) -> None:
            await super().startup(sockets)
            if self.started:
                self.notifier.ready(
                    f"admin web page on http://{self.config.host}:{self.config.port}"
                )
                self.watchdog = self.notifier.start_watchdog(asyncio.get_running_loop())

        async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
            self.notifier.stopping("stopping: finishing requests in progress")
            if self.watchdog is not None:
                self.watchdog.stop()
            await super().shutdown(sockets)

    config = uvicorn.Config(
        site,
        host=host or settings.listen_host,
        port=port or settings.listen_port,
        log_level="info",
        proxy_headers=False,
        server_header=False,
        log_config=None,  # uvicorn's records go to our handler on the root logger
    )
    NotifyingServer(config).run()
