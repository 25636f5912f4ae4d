"""Signing in and out: the form, the password check behind the throttles, ending sessions.

A password is checked only with a ticket from the site's `SignInGate`, and
the ticket is settled whatever happens, so the gate's count of attempts in
flight never leaks.
"""

from __future__ import annotations

import math

from starlette.responses import RedirectResponse
from starlette.responses import Response as StarletteResponse
from starlette.routing import Route

from ivr.admin.web.auth import safe_next, start_session
from ivr.admin.web.site import Site, View, flash, page
from ivr.admin.web.throttle import Ticket
from ivr.store.admins import authenticate, end_sessions


def login_page(site: Site, view: View) -> StarletteResponse:
    if view.admin is not None:
        return RedirectResponse(safe_next(view.query.get("next")), status_code=303)
    return site.render(
        view, "login.html", {"error": None, "name": "", "next": safe_next(view.query.get("next"))}
    )


def login_submit(site: Site, view: View) -> StarletteResponse:
    name = view.form.get("name", "").strip()[:64]
    password = view.form.get("password", "")[:1024]
    target = safe_next(view.form.get("next"))
    now = site.now()
    ticket = site.sign_ins.admit(name, site.client(view.request), now)
    if not isinstance(ticket, Ticket):
        wait = max(0, math.ceil((ticket - now).total_seconds()))
        error = f"Too many failed sign-ins. {_try_again(wait)}"
        context = {"error": error, "name": name, "next": target}
        response = site.render(view, "login.html", context, status=429)
        response.headers["retry-after"] = str(max(wait, 1))
        return response
    accepted: bool | None = None
    try:
        admin = authenticate(view.db, name, password, now) if name and password else None
        accepted = admin is not None
    finally:
        site.sign_ins.settle(ticket, now, accepted=accepted)
    if admin is not None:
        start_session(view.request.session, admin.id, admin.session_version, now)
        return RedirectResponse(target, status_code=303)
    error = "That name and password do not match an admin."
    context = {"error": error, "name": name, "next": target}
    return site.render(view, "login.html", context, status=401)


def _try_again(seconds: int) -> str:
    if seconds < 2:
        return "Try again in a moment."
    if seconds < 120:
        return f"Try again in {seconds} seconds."
    return f"Try again in {math.ceil(seconds / 60)} minutes."


def logout(site: Site, view: View) -> StarletteResponse:
    if view.admin is not None:
        end_sessions(view.db, view.admin)
    view.request.session.clear()
    flash(view.request, "ok", "You have signed out.")
    return RedirectResponse("/login", status_code=303)


def routes(site: Site) -> list[Route]:
    return [
        Route("/login", page(site, login_page, public=True), methods=["GET"]),
        Route("/login", page(site, login_submit, public=True), methods=["POST"]),
        Route("/logout", page(site, logout, public=True), methods=["POST"]),
    ]
