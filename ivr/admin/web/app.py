"""The admin web page: routes, sign-in, and the glue between the store and the templates.

Each page is a plain synchronous view run in Starlette's thread pool with a
database session opened for it (read-only pages) or a transaction (forms),
so the store's functions are used exactly as the CLI uses them. Templates
are rendered inside that session, with Jinja2 autoescaping everything: a
caller's display name, number or header is always text, never markup. The
Content-Security-Policy allows no script at all, as a second wall.
"""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

import jinja2
import phonenumbers
from sqlalchemy import text
from sqlalchemy.orm import Session
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.middleware.sessions import SessionMiddleware
from starlette.requests import Request
from starlette.responses import (
    FileResponse,
    HTMLResponse,
    JSONResponse,
    PlainTextResponse,
    RedirectResponse,
)
from starlette.responses import Response as StarletteResponse
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ivr.admin.web import metrics as prometheus
from ivr.admin.web.auth import (
    CSRF_FIELD,
    LoginThrottle,
    csrf_ok,
    csrf_token,
    load_or_create_secret,
    safe_next,
    session_claim,
    start_session,
)
from ivr.admin.web.charts import Chart, Series, grouped_stacked
from ivr.admin.web.queries import (
    CallPage,
    Cursor,
    active_pages,
    call_log_page,
    calls_by_day,
    calls_today,
    failed_pages,
    fault_timeline,
    faults_for_call,
    find_call,
    find_recording,
    open_faults,
    sla_by_month,
    stages,
)
from ivr.admin.web.reports import countdown
from ivr.callers import InvalidNumber, normalise_number
from ivr.config import Config
from ivr.domain import Outcome, Priority
from ivr.faults.lifecycle import Action, IllegalMove
from ivr.paging.rota import slot_at
from ivr.store.admins import Admin, authenticate, end_sessions, get_admin
from ivr.store.calls import CallFilter
from ivr.store.db import Database
from ivr.store.engineers import list_engineers
from ivr.store.faults import add_note, fault_times, find_fault, list_faults, move_fault
from ivr.store.handsets import list_handsets
from ivr.store.models import Fault, utcnow
from ivr.store.oncall import current_rota, list_overrides, who_is_on_call

HERE = Path(__file__).resolve().parent
PAGE_SIZE = 50
CHART_DAYS = 14
CHART_MONTHS = 6
UPCOMING_TURNS = 6
FAULT_STATUSES = ("open", "acknowledged", "responded", "resolved", "page_failed")
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


# ---- presentation helpers (Jinja filters) --------------------------------------------


def format_number(value: str | None) -> str:
    """E.164 as people write it: national for UK numbers, international otherwise."""
    if not value:
        return "withheld"
    try:
        parsed = phonenumbers.parse(value, None)
    except phonenumbers.NumberParseException:
        return value
    style = (
        phonenumbers.PhoneNumberFormat.NATIONAL
        if parsed.country_code == 44
        else phonenumbers.PhoneNumberFormat.INTERNATIONAL
    )
    return phonenumbers.format_number(parsed, style)


def humanise(value: object) -> str:
    return str(value or "").replace("_", " ")


def duration(start: datetime | None, end: datetime | None) -> str:
    if start is None or end is None:
        return "—"
    seconds = max(int((end - start).total_seconds()), 0)
    if seconds < 60:
        return f"{seconds}s"
    if seconds < 3600:
        return f"{seconds // 60}m {seconds % 60:02d}s"
    return f"{seconds // 3600}h {seconds % 3600 // 60:02d}m"


def _environment(tz: ZoneInfo) -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(HERE / "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )

    def local(value: datetime | None, fmt: str = "%a %d %b %Y %H:%M") -> str:
        return "—" if value is None else value.astimezone(tz).strftime(fmt)

    env.filters["local"] = local
    env.filters["number"] = format_number
    env.filters["human"] = humanise
    env.globals["duration"] = duration
    return env


# ---- the site ---------------------------------------------------------------------------


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
    by_name: LoginThrottle = field(default_factory=LoginThrottle)
    by_address: LoginThrottle = field(default_factory=lambda: LoginThrottle(max_failures=30))

    @property
    def tz(self) -> ZoneInfo:
        return self.config.timezone

    def now(self) -> datetime:
        return self.clock()

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
                return HTMLResponse(
                    site.env.get_template("error.html").render(
                        admin=None,
                        section="",
                        flashes=[],
                        title="Form expired",
                        message="This form was out of date or did not come from this site. "
                        "Go back, reload the page and try again.",
                    ),
                    status_code=403,
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


# ---- sign in and out ----------------------------------------------------------------


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


# ---- pages ----------------------------------------------------------------------------


def _calls_chart(site: Site, session: Session, *, compact: bool = False) -> Chart:
    starts, counts = calls_by_day(session, site.now(), site.tz, CHART_DAYS)
    labels = [s.astimezone(site.tz).strftime("%d %b") for s in starts]
    return grouped_stacked(
        title=f"Calls per day by outcome, last {CHART_DAYS} days",
        groups=labels,
        members=[""],
        series=OUTCOME_SERIES,
        values={(day, 0, outcome): n for (day, outcome), n in counts.items()},
        height=200 if compact else 260,
    )


def dashboard(site: Site, view: View) -> StarletteResponse:
    now = site.now()
    unresolved = open_faults(view.db, now)
    today = calls_today(view.db, now, site.tz)
    return site.render(
        view,
        "dashboard.html",
        {
            "failed": failed_pages(view.db),
            "open_faults": unresolved,
            "overdue": sum(1 for r in unresolved if r.countdown and r.countdown.overdue),
            "pages": active_pages(view.db),
            "today": today,
            "today_total": sum(today.values()),
            "outcomes": OUTCOME_SERIES,
            "chart": _calls_chart(site, view.db, compact=True),
        },
        section="dashboard",
    )


def _instant(text: str, tz: ZoneInfo, name: str) -> datetime:
    try:
        parsed = datetime.fromisoformat(text.strip())
    except ValueError:
        raise ValueError(f"{name}: {text!r} is not a date and time (YYYY-MM-DD HH:MM)") from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=tz)


def call_log(site: Site, view: View) -> StarletteResponse:
    q = view.query
    keys = ("since", "until", "cli", "outcome", "priority")
    values = {k: (q.get(k) or "").strip() for k in keys}
    errors: list[str] = []
    since = until = None
    number = None
    try:
        if values["since"]:
            since = _instant(values["since"], site.tz, "From")
        if values["until"]:
            until = _instant(values["until"], site.tz, "Until")
    except ValueError as exc:
        errors.append(str(exc))
    if values["cli"]:
        try:
            number = normalise_number(values["cli"])
        except InvalidNumber as exc:
            errors.append(f"Caller: {exc}")
    outcomes = [o.value for o in Outcome]
    if values["outcome"] and values["outcome"] not in outcomes:
        errors.append(f"Outcome: {values['outcome']!r} is not one of {', '.join(outcomes)}")
    priorities = [p.value for p in Priority]
    if values["priority"] and values["priority"] not in priorities:
        errors.append(f"Priority: {values['priority']!r} is not one of {', '.join(priorities)}")
    try:
        limit = min(max(int(q.get("limit") or PAGE_SIZE), 10), 500)
    except ValueError:
        limit = PAGE_SIZE
    before = after = None
    notice = None
    try:
        if q.get("before"):
            before = Cursor.decode(q["before"])
        elif q.get("after"):
            after = Cursor.decode(q["after"])
    except ValueError:
        notice = "That page of the call log does not exist; showing the newest calls."
    result = CallPage([], None, None)
    if not errors:
        filters = CallFilter(
            since=since,
            until=until,
            cli=number,
            outcome=values["outcome"] or None,
            priority=values["priority"] or None,
            limit=limit,
        )
        result = call_log_page(view.db, filters, before=before, after=after)
    kept = {k: v for k, v in values.items() if v}
    if limit != PAGE_SIZE:
        kept["limit"] = str(limit)

    def link(**extra: str) -> str:
        return "/calls?" + urlencode({**kept, **extra})

    return site.render(
        view,
        "calls.html",
        {
            "page": result,
            "values": values,
            "errors": errors,
            "notice": notice,
            "outcomes": outcomes,
            "priorities": priorities,
            "older_url": link(before=result.older.encode()) if result.older else None,
            "newer_url": link(after=result.newer.encode()) if result.newer else None,
            "newest_url": link() if (before or after) else None,
            "filtered": bool(kept),
        },
        status=400 if errors else 200,
        section="calls",
    )


def call_detail(site: Site, view: View) -> StarletteResponse:
    call = find_call(view.db, int(view.request.path_params["call_id"]))
    if call is None:
        raise HTTPException(404, "No such call.")
    return site.render(
        view,
        "call.html",
        {"call": call, "faults": faults_for_call(view.db, call)},
        section="calls",
    )


def faults_list(site: Site, view: View) -> StarletteResponse:
    status = view.query.get("status") or None
    priority = view.query.get("priority") or None
    if status not in (None, *FAULT_STATUSES):
        status = None
    if priority not in (None, *(p.value for p in Priority)):
        priority = None
    now = site.now()
    faults = list_faults(view.db, status=status, priority=priority, limit=500)
    rows = [(f, countdown(fault_times(f), now)) for f in faults]
    return site.render(
        view,
        "faults.html",
        {
            "rows": rows,
            "status": status or "",
            "priority": priority or "",
            "statuses": FAULT_STATUSES,
            "priorities": [p.value for p in Priority],
        },
        section="faults",
    )


def _fault(view: View) -> Fault:
    fault = find_fault(view.db, str(view.request.path_params["reference"]))
    if fault is None:
        raise HTTPException(404, "No fault has that reference.")
    return fault


def fault_detail(site: Site, view: View) -> StarletteResponse:
    fault = _fault(view)
    now = site.now()
    timeline, pages = fault_timeline(view.db, fault)
    return site.render(
        view,
        "fault.html",
        {
            "fault": fault,
            "timeline": timeline,
            "pages": pages,
            "stages": stages(fault, now),
            "countdown": countdown(fault_times(fault), now),
        },
        section="faults",
    )


def recording(site: Site, view: View) -> StarletteResponse:
    """A caller's recorded description, if its file is still where the service put it.

    Only files under the configured data directory are served, whatever the
    database says, so a bad row cannot read anything else off the disk.
    """
    row = find_recording(view.db, int(view.request.path_params["recording_id"]))
    if row is None:
        raise HTTPException(404, "No such recording.")
    root = site.config.data_dir.resolve()
    path = Path(row.path)
    path = (path if path.is_absolute() else root / path).resolve()
    if not path.is_relative_to(root) or not path.is_file():
        raise HTTPException(404, "The recording's file is missing.")
    return FileResponse(path, media_type="audio/wav", filename=path.name)


_ACTIONS: dict[str, tuple[Action, str]] = {
    "acknowledge": (Action.ACKNOWLEDGE, "acknowledged"),
    "respond": (Action.RESPOND, "marked as responded to"),
    "resolve": (Action.RESOLVE, "resolved"),
}


def fault_action(site: Site, view: View) -> StarletteResponse:
    fault = _fault(view)
    action = str(view.request.path_params["action"])
    assert view.admin is not None
    who = view.admin.name
    text_in = view.form.get("comment", "")
    now = site.now()
    url = f"/faults/{fault.reference}"
    try:
        if action == "note":
            add_note(view.db, fault, who, text_in, now)
            done = "Note added."
        elif action in _ACTIONS:
            move, verb = _ACTIONS[action]
            move_fault(view.db, fault, move, now, by=who, comment=text_in)
            done = f"Fault {fault.reference} {verb}."
        else:
            raise HTTPException(404, "No such action.")
    except IllegalMove as exc:
        view.db.rollback()
        flash(view.request, "error", str(exc))
        return RedirectResponse(url, status_code=303)
    flash(view.request, "ok", done)
    return RedirectResponse(url, status_code=303)


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


def reports(site: Site, view: View) -> StarletteResponse:
    now = site.now()
    starts, counts = sla_by_month(view.db, now, site.tz, CHART_MONTHS)
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
    calls_starts, call_counts = calls_by_day(view.db, now, site.tz, CHART_DAYS)
    return site.render(
        view,
        "reports.html",
        {
            "calls_chart": _calls_chart(site, view.db),
            "sla_chart": sla_chart,
            "days": [s.astimezone(site.tz) for s in calls_starts],
            "call_counts": call_counts,
            "outcomes": OUTCOME_SERIES,
            "months": months,
            "priorities": priorities,
            "sla_counts": counts,
        },
        section="reports",
    )


# ---- unauthenticated endpoints --------------------------------------------------------


def _health(site: Site) -> tuple[bool, str]:
    try:
        with site.database.sessions() as session:
            session.execute(text("SELECT 1"))
    except Exception as exc:  # noqa: BLE001  (any failure means unhealthy; say which)
        return False, type(exc).__name__
    return True, "ok"


def _metrics_text(site: Site) -> str:
    with site.database.sessions() as session:
        return prometheus.render(prometheus.collect(session, site.now()))


# ---- assembly -----------------------------------------------------------------------


def create_app(
    config: Config,
    db: Database,
    *,
    clock: Callable[[], datetime] = utcnow,
    secret_key: str | None = None,
) -> Starlette:
    """The admin web page over `db`, configured by `config.web`.

    `clock` is where every "now" comes from (tests pass a fixed one);
    `secret_key` overrides the key file, for tests.
    """
    settings = config.web
    lifetime = timedelta(hours=settings.session_hours)
    site = Site(
        config=config,
        database=db,
        clock=lambda: clock().astimezone(UTC),
        env=_environment(config.timezone),
        lifetime=lifetime,
    )
    key = secret_key or load_or_create_secret(settings.secret_key_file)

    async def healthz(request: Request) -> StarletteResponse:
        healthy, detail = await run_in_threadpool(_health, site)
        return JSONResponse(
            {"status": "ok" if healthy else "unavailable", "database": detail},
            status_code=200 if healthy else 503,
        )

    async def metrics(request: Request) -> StarletteResponse:
        body = await run_in_threadpool(_metrics_text, site)
        return PlainTextResponse(body, media_type=prometheus.CONTENT_TYPE)

    async def not_found(request: Request, exc: Exception) -> StarletteResponse:
        status = exc.status_code if isinstance(exc, HTTPException) else 500
        detail = exc.detail if isinstance(exc, HTTPException) else "Something went wrong."
        titles = {404: "Not found", 405: "Not allowed"}
        return HTMLResponse(
            site.env.get_template("error.html").render(
                admin=None,
                section="",
                flashes=[],
                title=titles.get(status, "Error"),
                message=detail,
            ),
            status_code=status,
        )

    routes: list[Route | Mount] = [
        Route("/healthz", healthz, methods=["GET"]),
        Route("/login", page(site, login_page, public=True), methods=["GET"]),
        Route("/login", page(site, login_submit, public=True), methods=["POST"]),
        Route("/logout", page(site, logout, public=True), methods=["POST"]),
        Route("/", page(site, dashboard), methods=["GET"]),
        Route("/calls", page(site, call_log), methods=["GET"]),
        Route("/calls/{call_id:int}", page(site, call_detail), methods=["GET"]),
        Route("/faults", page(site, faults_list), methods=["GET"]),
        Route("/faults/{reference}", page(site, fault_detail), methods=["GET"]),
        Route("/faults/{reference}/{action}", page(site, fault_action), methods=["POST"]),
        Route("/recordings/{recording_id:int}", page(site, recording), methods=["GET"]),
        Route("/handsets", page(site, handsets), methods=["GET"]),
        Route("/rota", page(site, rota), methods=["GET"]),
        Route("/reports", page(site, reports), methods=["GET"]),
        Mount("/static", StaticFiles(directory=HERE / "static"), name="static"),
    ]
    if settings.metrics:
        routes.insert(1, Route("/metrics", metrics, methods=["GET"]))
    app = Starlette(
        routes=routes,
        middleware=[
            Middleware(SecurityHeaders),
            Middleware(
                SessionMiddleware,
                secret_key=key,
                session_cookie="faultline_session",
                max_age=int(lifetime.total_seconds()),
                same_site="strict",
                https_only=settings.secure_cookies,
            ),
        ],
        exception_handlers={HTTPException: not_found},
    )
    app.state.site = site
    return app
