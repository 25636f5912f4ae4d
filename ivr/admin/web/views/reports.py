"""The reports page: calls per day by outcome and SLA met or missed per month, as charts and tables.

The calls chart is drawn here for the dashboard too, so both pages count
the same days the same way.
"""

from __future__ import annotations

from datetime import datetime

from starlette.responses import Response as StarletteResponse
from starlette.routing import Route

from ivr.admin.web.charts import Chart, Series, grouped_stacked
from ivr.admin.web.deadlines import sla_by_month
from ivr.admin.web.reports import day_bounds, local_midnight, month_starts
from ivr.admin.web.site import Site, View, page
from ivr.domain import Channel, Priority
from ivr.store.activity import calls_by_day, faults_reported_since
from ivr.store.sessions import Session

CHART_DAYS = 14
CHART_MONTHS = 6
OUTCOME_SERIES = (
    Series("reported", "reported", "s-reported"),
    Series("updated", "added to a fault", "s-updated"),
    Series("rejected", "rejected", "s-rejected"),
    Series("after_hours", "after hours", "s-after_hours"),
    Series("no_choice", "no choice", "s-no_choice"),
    Series("abandoned", "abandoned", "s-abandoned"),
    Series("failed", "failed", "s-failed"),
    Series("interrupted", "interrupted", "s-interrupted"),
    Series("in_progress", "in progress", "s-in_progress"),
)
SLA_SERIES = (Series("met", "met", "s-met"), Series("missed", "missed", "s-missed"))


def recent_days(site: Site, session: Session) -> tuple[list[datetime], dict[tuple[int, str], int]]:
    """Each of the last CHART_DAYS local days' start (UTC), and calls by (day, outcome)."""
    bounds = day_bounds(site.now(), site.tz, CHART_DAYS)
    counts = calls_by_day(session, [(start, end) for _day, start, end in bounds])
    return [start for _day, start, _end in bounds], counts


def calls_chart(site: Site, session: Session, *, compact: bool = False) -> Chart:
    starts, counts = recent_days(site, session)
    labels = [s.astimezone(site.tz).strftime("%d %b") for s in starts]
    return grouped_stacked(
        title=f"Calls per day by outcome, last {CHART_DAYS} days",
        groups=labels,
        members=[""],
        series=OUTCOME_SERIES,
        values={(day, 0, outcome): n for (day, outcome), n in counts.items()},
        height=200 if compact else 260,
    )


def reports(site: Site, view: View) -> StarletteResponse:
    now = site.now()
    starts = [local_midnight(day, site.tz) for day in month_starts(now, site.tz, CHART_MONTHS)]
    faults = list(faults_reported_since(view.db, starts[0]))
    counts = sla_by_month(faults, starts, now)
    channel_counts = sla_by_month(faults, starts, now, split=lambda fault: fault.channel)
    months = [s.astimezone(site.tz).strftime("%b %Y") for s in starts]
    priorities = [p.value for p in Priority]
    values = {
        (month, priorities.index(priority), verdict): n
        for (month, priority, verdict), n in counts.items()
        if priority in priorities
    }
    sla_chart = grouped_stacked(
        title=f"SLA met and missed per priority, last {CHART_MONTHS} months",
        groups=months,
        members=priorities,
        series=SLA_SERIES,
        values=values,
        member_labels=True,
        height=260,
    )
    calls_starts, call_counts = recent_days(site, view.db)
    return site.render(
        view,
        "reports.html",
        {
            "calls_chart": calls_chart(site, view.db),
            "sla_chart": sla_chart,
            "days": [s.astimezone(site.tz) for s in calls_starts],
            "call_counts": call_counts,
            "outcomes": OUTCOME_SERIES,
            "months": months,
            "priorities": priorities,
            "sla_counts": counts,
            "channels": [c.value for c in Channel],
            "channel_counts": channel_counts,
        },
        section="reports",
    )


def routes(site: Site) -> list[Route]:
    return [Route("/reports", page(site, reports), methods=["GET"])]
