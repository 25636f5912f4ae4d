"""Customers: each with their account, handsets, open faults and whether PIN entry is locked."""

from __future__ import annotations

from starlette.responses import Response as StarletteResponse
from starlette.routing import Route

from ivr.admin.web.site import Site, View, page
from ivr.store.customers import list_customers, summarise


def customers(site: Site, view: View) -> StarletteResponse:
    now = site.now()
    rows = [summarise(view.db, customer, now) for customer in list_customers(view.db)]
    query = (view.query.get("q") or "").strip()
    if query:
        needle = query.lower()
        rows = [r for r in rows if needle in r.name.lower() or query in r.account]
    locked = sum(1 for r in rows if r.locked_until is not None)
    return site.render(
        view,
        "customers.html",
        {"rows": rows, "q": query, "locked": locked},
        section="customers",
    )


def routes(site: Site) -> list[Route]:
    return [Route("/customers", page(site, customers), methods=["GET"])]
