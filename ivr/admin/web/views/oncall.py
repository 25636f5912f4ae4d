"""The on-call page: who is on call now, the next turns of the rota, overrides, engineers."""

from __future__ import annotations

from starlette.responses import Response as StarletteResponse
from starlette.routing import Route

from ivr.admin.web.site import Site, View, page
from ivr.paging.rota import slot_at
from ivr.store.engineers import list_engineers
from ivr.store.oncall import current_rota, list_overrides, who_is_on_call

UPCOMING_TURNS = 6


def rota(site: Site, view: View) -> StarletteResponse:
    now = site.now()
    answer = who_is_on_call(view.db, now)
    current = current_rota(view.db)
    turns = []
    if current is not None:
        slot = slot_at(current, now)
        first = slot.index if slot is not None else 0
        for k in range(max(first, 0), max(first, 0) + UPCOMING_TURNS):
            name = current.engineers[k % len(current.engineers)]
            turns.append((name, current.handover_at(k), current.handover_at(k + 1), k == first))
    return site.render(
        view,
        "rota.html",
        {
            "answer": answer,
            "rota": current,
            "turns": turns,
            "overrides": list_overrides(view.db, ending_after=now),
            "engineers": list_engineers(view.db),
            "weekdays": (
                "Monday",
                "Tuesday",
                "Wednesday",
                "Thursday",
                "Friday",
                "Saturday",
                "Sunday",
            ),
        },
        section="rota",
    )


def routes(site: Site) -> list[Route]:
    return [Route("/rota", page(site, rota), methods=["GET"])]
