"""The handsets CLI SECURE supplied, searchable by customer or by any run of digits."""

from __future__ import annotations

from starlette.responses import Response as StarletteResponse
from starlette.routing import Route

from ivr.admin.web.site import Site, View, page
from ivr.store.handsets import list_handsets


def handsets(site: Site, view: View) -> StarletteResponse:
    query = (view.query.get("q") or "").strip()
    rows = list_handsets(view.db)
    if query:
        needle = query.lower()
        digits = "".join(c for c in query if c.isdigit())
        rows = [
            h
            for h in rows
            if needle in h.customer.lower()
            or (digits and (digits in h.number or digits.lstrip("0") in h.number))
        ]
    return site.render(view, "handsets.html", {"rows": rows, "q": query}, section="handsets")


def routes(site: Site) -> list[Route]:
    return [Route("/handsets", page(site, handsets), methods=["GET"])]
