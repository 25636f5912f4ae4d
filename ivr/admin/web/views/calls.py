"""The call log (filters, keyset pages), one call with its faults, and a caller's recording."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from starlette.exceptions import HTTPException
from starlette.responses import FileResponse
from starlette.responses import Response as StarletteResponse
from starlette.routing import Route

from ivr.admin.web.site import Site, View, page
from ivr.callers import InvalidNumber, normalise_number
from ivr.domain import Outcome, Priority
from ivr.localtime import LocalTimeError, NotADateTime, parse_local
from ivr.store.call_log import (
    CallPage,
    Cursor,
    PositionOutOfRange,
    call_log_page,
    faults_for_call,
    find_call,
    find_recording,
)
from ivr.store.calls import CallFilter

PAGE_SIZE = 50


def _instant(text: str, tz: ZoneInfo, name: str) -> datetime:
    try:
        return parse_local(text, tz)
    except NotADateTime:
        raise ValueError(f"{name}: {text!r} is not a date and time (YYYY-MM-DD HH:MM)") from None
    except LocalTimeError as exc:
        raise ValueError(f"{name}: {exc}") from None


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
    except PositionOutOfRange as exc:
        errors.append(f"Page: {exc}")
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


def routes(site: Site) -> list[Route]:
    return [
        Route("/calls", page(site, call_log), methods=["GET"]),
        Route("/calls/{call_id:int}", page(site, call_detail), methods=["GET"]),
        Route("/recordings/{recording_id:int}", page(site, recording), methods=["GET"]),
    ]
