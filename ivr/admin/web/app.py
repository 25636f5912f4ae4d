"""The admin web page assembled: the site, every page's routes, middleware and error pages.

The views live in `views/`, one module per page; the plumbing they share
(sessions, sign-in check, CSRF, rendering) in `site`; the template filters
in `templating`. This module only wires them together.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.middleware.sessions import SessionMiddleware
from starlette.requests import Request
from starlette.responses import Response as StarletteResponse
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from ivr.admin.web.auth import load_or_create_secret
from ivr.admin.web.site import SecurityHeaders, Site
from ivr.admin.web.templating import HERE, environment
from ivr.admin.web.views import (
    calls,
    customers,
    dashboard,
    faults,
    handsets,
    monitoring,
    oncall,
    reports,
    signin,
)
from ivr.config import Config
from ivr.store.db import Database
from ivr.store.models import utcnow

_TITLES = {404: "Not found", 405: "Not allowed"}


def create_app(
    config: Config,
    db: Database,
    *,
    clock: Callable[[], datetime] = utcnow,
    secret_key: str | None = None,
) -> Starlette:
    """The admin web page over `db`, configured by `config.web`.

    `clock` is where every "now" comes from (tests pass a fixed one);
    `secret_key` overrides the key file, for tests.
    """
    settings = config.web
    lifetime = timedelta(hours=settings.session_hours)
    site = Site(
        config=config,
        database=db,
        clock=lambda: clock().astimezone(UTC),
        env=environment(config.timezone),
        lifetime=lifetime,
    )
    key = secret_key or load_or_create_secret(settings.secret_key_file)

    async def error(request: Request, exc: Exception) -> StarletteResponse:
        status = exc.status_code if isinstance(exc, HTTPException) else 500
        detail = exc.detail if isinstance(exc, HTTPException) else "Something went wrong."
        return site.error_page(status, _TITLES.get(status, "Error"), detail)

    routes: list[Route | Mount] = [
        *monitoring.routes(site),
        *signin.routes(site),
        *dashboard.routes(site),
        *calls.routes(site),
        *faults.routes(site),
        *customers.routes(site),
        *handsets.routes(site),
        *oncall.routes(site),
        *reports.routes(site),
        Mount("/static", StaticFiles(directory=HERE / "static"), name="static"),
    ]
    app = Starlette(
        routes=routes,
        middleware=[
            Middleware(SecurityHeaders),
            Middleware(
                SessionMiddleware,
                secret_key=key,
                session_cookie="faultline_session",
                max_age=int(lifetime.total_seconds()),
                same_site="strict",
                https_only=settings.secure_cookies,
            ),
        ],
        exception_handlers={HTTPException: error},
    )
    app.state.site = site
    return app
