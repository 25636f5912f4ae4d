"""`ivr web`: serve the admin web page with uvicorn."""

from __future__ import annotations

import click

from ivr.admin.context import AppContext, pass_app


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
    uvicorn.run(
        site,
        host=host or settings.listen_host,
        port=port or settings.listen_port,
        log_level="info",
        proxy_headers=False,
        server_header=False,
    )
