"""The dashboard: failed pages and e-mails loudly, open faults by their next deadline, today's
calls."""

from __future__ import annotations

from starlette.responses import Response as StarletteResponse
from starlette.routing import Route

from ivr.admin.web.deadlines import most_pressing_first
from ivr.admin.web.reports import local_midnight
from ivr.admin.web.site import Site, View, page
from ivr.admin.web.views.reports import OUTCOME_SERIES, calls_chart
from ivr.store.activity import calls_since
from ivr.store.dashboard import active_pages, failed_pages, unresolved_faults
from ivr.store.oncall import pageable_now
from ivr.store.outbox import FAILED, list_messages


def dashboard(site: Site, view: View) -> StarletteResponse:
    now = site.now()
    unresolved = most_pressing_first(unresolved_faults(view.db), now)
    today = calls_since(view.db, local_midnight(now.astimezone(site.tz).date(), site.tz), now)
    return site.render(
        view,
        "dashboard.html",
        {
            "failed": failed_pages(view.db),
            "failed_emails": list_messages(view.db, FAILED, limit=50),
            "pageable": pageable_now(view.db, site.config.paging, now),
            "open_faults": unresolved,
            "overdue": sum(1 for r in unresolved if r.countdown and r.countdown.overdue),
            "pages": active_pages(view.db),
            "today": today,
            "today_total": sum(today.values()),
            "outcomes": OUTCOME_SERIES,
            "chart": calls_chart(site, view.db, compact=True),
        },
        section="dashboard",
    )


def routes(site: Site) -> list[Route]:
    return [Route("/", page(site, dashboard), methods=["GET"])]
