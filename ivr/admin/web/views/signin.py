"""Signing in and out: the form, the password check behind the throttles, ending sessions."""

from __future__ import annotations

from starlette.responses import RedirectResponse
from starlette.responses import Response as StarletteResponse
from starlette.routing import Route

from ivr.admin.web.auth import safe_next, start_session
from ivr.admin.web.site import Site, View, flash, page
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
    client = view.request.client.host if view.request.client else "unknown"
    name_key, address_key = [f"name:{name.lower()}"], [f"addr:{client}"]
    blocked = site.by_name.blocked_until(name_key, now) or site.by_address.blocked_until(
        address_key, now
    )
    error = None
    if blocked is not None:
        minutes = max(1, int((blocked - now).total_seconds() // 60) + 1)
        error = f"Too many failed sign-ins. Try again in {minutes} minutes."
        status = 429
    else:
        admin = authenticate(view.db, name, password, now) if name and password else None
        if admin is not None:
            site.by_name.succeeded(name_key)
            start_session(view.request.session, admin.id, admin.session_version, now)
            return RedirectResponse(target, status_code=303)
        site.by_name.failed(name_key, now)
        site.by_address.failed(address_key, now)
        error = "That name and password do not match an admin."
        status = 401
    return site.render(
        view, "login.html", {"error": error, "name": name, "next": target}, status=status
    )


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
