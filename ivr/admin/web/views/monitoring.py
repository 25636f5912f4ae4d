"""/healthz and /metrics: read by machines, so no sign-in, no templates, no session cookie use."""

from __future__ import annotations

import logging

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse
from starlette.responses import Response as StarletteResponse
from starlette.routing import Route

from ivr.admin.web import metrics as prometheus
from ivr.admin.web.site import Site
from ivr.store.monitoring import ping, read_counts
from ivr.store.oncall import pageable_now

log = logging.getLogger(__name__)


def _health(site: Site) -> tuple[bool, str]:
    try:
        with site.database.sessions() as session:
            ping(session)
    except Exception as exc:  # noqa: BLE001  (any failure means unhealthy; say which)
        return False, type(exc).__name__
    return True, "ok"


def _snapshot(site: Site) -> prometheus.Snapshot | None:
    """The cluster's counts now; None when the database cannot be read (/metrics says so)."""
    now = site.now()
    try:
        with site.database.sessions() as session:
            pageable = len(pageable_now(session, site.config.paging, now))
            return prometheus.Snapshot(read_counts(session), now, pageable)
    except Exception:  # noqa: BLE001  (whatever the driver raises, the database is away)
        log.warning("/metrics: the database cannot be read", exc_info=True)
        return None


def routes(site: Site) -> list[Route]:
    async def healthz(request: Request) -> StarletteResponse:
        healthy, detail = await run_in_threadpool(_health, site)
        return JSONResponse(
            {"status": "ok" if healthy else "unavailable", "database": detail},
            status_code=200 if healthy else 503,
        )

    registry = prometheus.registry(lambda: _snapshot(site))

    async def metrics(request: Request) -> StarletteResponse:
        body = await run_in_threadpool(prometheus.exposition, registry)
        return PlainTextResponse(body, media_type=prometheus.CONTENT_TYPE)

    out = [Route("/healthz", healthz, methods=["GET"])]
    if site.config.web.metrics:
        out.append(Route("/metrics", metrics, methods=["GET"]))
    return out
