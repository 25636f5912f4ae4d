"""The fault list, one fault with its timeline and SLA stages, and the forms that act on it."""

from __future__ import annotations

from starlette.exceptions import HTTPException
from starlette.responses import RedirectResponse
from starlette.responses import Response as StarletteResponse
from starlette.routing import Route

from ivr.admin.web.deadlines import stages
from ivr.admin.web.reports import countdown
from ivr.admin.web.site import Site, View, flash, page
from ivr.domain import FaultStatus, Priority
from ivr.faults.lifecycle import Action, IllegalMove
from ivr.sla import deadlines
from ivr.store.fault_changes import close_out_of_scope, reprioritise
from ivr.store.fault_timeline import fault_timeline
from ivr.store.faults import add_note, fault_times, find_fault, list_faults, move_fault
from ivr.store.models import Fault

FAULT_STATUSES = tuple(s.value for s in FaultStatus)


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
            "priorities": [p.value for p in Priority],
        },
        section="faults",
    )


_ACTIONS: dict[str, tuple[Action, str]] = {
    "acknowledge": (Action.ACKNOWLEDGE, "acknowledged"),
    "respond": (Action.RESPOND, "marked as responded to"),
    "resolve": (Action.RESOLVE, "resolved"),
}


def _priority(text: str) -> Priority:
    try:
        return Priority(text)
    except ValueError:
        raise IllegalMove(f"{text!r} is not a priority") from None


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
        elif action == "reprioritise":
            level = _priority(view.form.get("priority", ""))
            clock = deadlines(
                level, fault.reported_at, site.config.hours.calendar(site.tz), site.config.sla
            )
            reprioritise(
                view.db, fault, level, clock, site.config.paging, at=now, by=who, reason=text_in
            )
            done = f"Fault {fault.reference} is now {level.value} priority."
        elif action == "out_of_scope":
            close_out_of_scope(view.db, fault, at=now, by=who, reason=text_in)
            done = f"Fault {fault.reference} closed as out of scope."
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


def routes(site: Site) -> list[Route]:
    return [
        Route("/faults", page(site, faults_list), methods=["GET"]),
        Route("/faults/{reference}", page(site, fault_detail), methods=["GET"]),
        Route("/faults/{reference}/{action}", page(site, fault_action), methods=["POST"]),
    ]
