"""/healthz and /metrics: read by machines, so no sign-in, no templates, no session cookie use."""

from __future__ import annotations

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse
from starlette.responses import Response as StarletteResponse
from starlette.routing import Route

from ivr.admin.web import metrics as prometheus
from ivr.admin.web.site import Site
from ivr.store.monitoring import ping, read_counts
from ivr.store.oncall import pageable_now


def _health(site: Site) -> tuple[bool, str]:
    try:
        with site.database.sessions() as session:
            ping(session)
    except Exception as exc:  # noqa: BLE001  (any failure means unhealthy; say which)
        return False, type(exc).__name__
    return True, "ok"


def _metrics_text(site: Site) -> str:
    now = site.now()
    with site.database.sessions() as session:
        pageable = len(pageable_now(session, site.config.paging, now))
        return prometheus.render(prometheus.collect(read_counts(session), now, pageable))


def routes(site: Site) -> list[Route]:
    async def healthz(request: Request) -> StarletteResponse:
        healthy, detail = await run_in_threadpool(_health, site)
        return JSONResponse(
            {"status": "ok" if healthy else "unavailable", "database": detail},
            status_code=200 if healthy else 503,
        )

    async def metrics(request: Request) -> StarletteResponse:
        body = await run_in_threadpool(_metrics_text, site)
        return PlainTextResponse(body, media_type=prometheus.CONTENT_TYPE)

    out = [Route("/healthz", healthz, methods=["GET"])]
    if site.config.web.metrics:
        out.append(Route("/metrics", metrics, methods=["GET"]))
    return out
