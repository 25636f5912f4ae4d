"""The site's plumbing: what every view gets, how it is run, and what every response carries.

Each page is a plain synchronous view run in Starlette's thread pool with a
database session opened for it (read-only pages) or a transaction (forms),
so the store's functions are used exactly as the CLI uses them. Templates
are rendered inside that session. The Content-Security-Policy allows no
script at all, as a second wall behind autoescaping.
"""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

import jinja2
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse
from starlette.responses import Response as StarletteResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ivr.admin.web.auth import CSRF_FIELD, csrf_ok, csrf_token, session_claim
from ivr.admin.web.throttle import SignInGate, client_address
from ivr.config import Config
from ivr.store.admins import Admin, get_admin
from ivr.store.db import Database
from ivr.store.sessions import Session

_SECURITY_HEADERS = [
    (
        b"content-security-policy",
        b"default-src 'none'; style-src 'self'; img-src 'self' data:; media-src 'self'; "
        b"form-action 'self'; "
        b"frame-ancestors 'none'; base-uri 'none'",
    ),
    (b"x-frame-options", b"DENY"),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"same-origin"),
    (b"cross-origin-opener-policy", b"same-origin"),
]


class SecurityHeaders:
    """Adds the security headers to every response, and no-store to every page."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        static = str(scope.get("path", "")).startswith("/static/")

        async def wrapped(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                headers.extend(_SECURITY_HEADERS)
                if not static:
                    headers.append((b"cache-control", b"no-store"))
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, wrapped)


class Redirect(Exception):
    def __init__(self, url: str) -> None:
        self.url = url


@dataclass
class View:
    """What a view gets: the request, who is signed in, the submitted form, a db session."""

    request: Request
    admin: Admin | None
    db: Session
    form: Mapping[str, str] = field(default_factory=dict)

    @property
    def query(self) -> Mapping[str, str]:
        return self.request.query_params


@dataclass
class Site:
    config: Config
    database: Database
    clock: Callable[[], datetime]
    env: jinja2.Environment
    lifetime: timedelta
    sign_ins: SignInGate = field(default_factory=SignInGate)

    @property
    def tz(self) -> ZoneInfo:
        return self.config.timezone

    def now(self) -> datetime:
        return self.clock()

    def client(self, request: Request) -> str:
        """Who sent `request`: the peer, or whom a trusted proxy says it forwarded."""
        return client_address(
            request.client.host if request.client else None,
            request.headers.getlist("x-forwarded-for"),
            self.config.web.trusted_proxies,
        )

    def admin_for(self, request: Request, session: Session) -> Admin | None:
        claim = session_claim(request.session, self.now(), self.lifetime)
        if claim is None:
            return None
        admin = get_admin(session, claim.admin_id)
        if admin is None or admin.session_version != claim.version:
            return None
        return admin

    def render(
        self,
        view: View,
        template: str,
        context: dict[str, Any],
        *,
        status: int = 200,
        section: str = "",
    ) -> HTMLResponse:
        flashes = view.request.session.pop("flash", None) or []
        body = self.env.get_template(template).render(
            request=view.request,
            admin=view.admin,
            csrf=csrf_token(view.request.session),
            csrf_field=CSRF_FIELD,
            now=self.now(),
            tz=self.tz,
            section=section,
            flashes=flashes,
            **context,
        )
        return HTMLResponse(body, status_code=status)

    def error_page(self, status: int, title: str, message: str) -> HTMLResponse:
        """A page for a request no view answered; it shows nobody as signed in."""
        return HTMLResponse(
            self.env.get_template("error.html").render(
                admin=None, section="", flashes=[], title=title, message=message
            ),
            status_code=status,
        )


def flash(request: Request, kind: str, message: str) -> None:
    messages = list(request.session.get("flash", []))
    messages.append([kind, message])
    request.session["flash"] = messages[-5:]


ViewFn = Callable[[Site, View], StarletteResponse]


def page(site: Site, fn: ViewFn, *, public: bool = False) -> Callable[[Request], Awaitable[Any]]:
    """An endpoint around a synchronous view: sign-in check, CSRF check, db session.

    GET runs in a plain session; POST in a transaction that commits when the
    view returns. A POST whose CSRF token is missing or wrong is refused
    with 403 before the view runs.
    """

    @functools.wraps(fn)
    async def endpoint(request: Request) -> StarletteResponse:
        form: dict[str, str] = {}
        if request.method == "POST":
            data: FormData = await request.form(max_files=0, max_fields=50)
            form = {k: v for k, v in data.items() if isinstance(v, str)}
            if not csrf_ok(request.session, form.get(CSRF_FIELD)):
                return site.error_page(
                    403,
                    "Form expired",
                    "This form was out of date or did not come from this site. "
                    "Go back, reload the page and try again.",
                )
        return await run_in_threadpool(_run, site, fn, request, form, public)

    return endpoint


def _run(
    site: Site, fn: ViewFn, request: Request, form: dict[str, str], public: bool
) -> StarletteResponse:
    opener = site.database.sessions.begin if request.method == "POST" else site.database.sessions
    try:
        with opener() as session:
            admin = site.admin_for(request, session)
            if admin is None and not public:
                if request.method == "GET":
                    target = request.url.path
                    if request.url.query:
                        target += "?" + request.url.query
                    raise Redirect("/login?" + urlencode({"next": target}))
                raise Redirect("/login")
            return fn(site, View(request, admin, session, form))
    except Redirect as redirect:
        return RedirectResponse(redirect.url, status_code=303)
