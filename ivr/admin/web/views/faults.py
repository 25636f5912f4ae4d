"""The fault list, one fault with its timeline and SLA stages, and the forms that act on it.

A fault that came by e-mail or ticket is added here too, through the same
`log_fault` as a call, so it gets the same reference scheme, deadlines,
paging and e-mails as a phone report.
"""

from __future__ import annotations

from datetime import datetime

from starlette.exceptions import HTTPException
from starlette.responses import RedirectResponse
from starlette.responses import Response as StarletteResponse
from starlette.routing import Route

from ivr.admin.web.deadlines import stages
from ivr.admin.web.reports import countdown
from ivr.admin.web.site import Site, View, flash, page
from ivr.domain import Channel, FaultStatus, Priority
from ivr.faults.lifecycle import Action, IllegalMove
from ivr.localtime import FUTURE_TOLERANCE, LocalTimeError, parse_local
from ivr.sla import deadlines
from ivr.store.call_writes import log_fault
from ivr.store.customers import CustomerError, get_customer, list_customers
from ivr.store.fault_changes import close_out_of_scope, reprioritise
from ivr.store.fault_timeline import fault_timeline
from ivr.store.faults import (
    MAX_NOTE,
    MAX_TICKET_REF,
    add_note,
    fault_times,
    find_fault,
    list_faults,
    move_fault,
)
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


class FormError(ValueError):
    """What is wrong with a submitted form, worded for the admin who sent it."""


def _new_fault_form(
    site: Site, view: View, errors: list[str], status: int = 200
) -> StarletteResponse:
    return site.render(
        view,
        "fault_new.html",
        {
            "customers": list_customers(view.db),
            "priorities": [p.value for p in Priority],
            "channels": [c.value for c in Channel],
            "values": view.form,
            "errors": errors,
            "max_ticket_ref": MAX_TICKET_REF,
            "max_note": MAX_NOTE,
        },
        status=status,
        section="faults",
    )


def new_fault_form(site: Site, view: View) -> StarletteResponse:
    return _new_fault_form(site, view, [])


def _choice(view: View, name: str, kind: type[Priority] | type[Channel]) -> str:
    text = view.form.get(name, "")
    if text not in {member.value for member in kind}:
        raise FormError(f"Choose a {name}.")
    return text


def _text(view: View, name: str, limit: int, label: str) -> str | None:
    text = view.form.get(name, "").replace("\r\n", "\n").strip()
    if len(text) > limit:
        raise FormError(f"{label} must be at most {limit} characters.")
    return text or None


def _reported_at(site: Site, view: View) -> datetime:
    now = site.now()
    text = view.form.get("reported_at", "").strip()
    if not text:
        return now
    try:
        at = parse_local(text, site.tz)
    except LocalTimeError as exc:
        raise FormError(f"Reported at: {exc}.") from None
    if at > now + FUTURE_TOLERANCE:
        raise FormError("Reported at is in the future.")
    return at


def add_fault(site: Site, view: View) -> StarletteResponse:
    """Log a fault from the form, on the clock of when it was reported."""
    try:
        level = Priority(_choice(view, "priority", Priority))
        channel = Channel(_choice(view, "channel", Channel))
        reported_at = _reported_at(site, view)
        ticket_ref = _text(view, "ticket_ref", MAX_TICKET_REF, "The ticket reference")
        description = _text(view, "description", MAX_NOTE, "The description")
        if not view.form.get("customer", "").strip():
            raise FormError("Choose a customer.")
        try:
            customer = get_customer(view.db, view.form.get("customer", ""))
        except CustomerError as exc:
            raise FormError(str(exc)) from None
        try:
            clock = deadlines(
                level, reported_at, site.config.hours.calendar(site.tz), site.config.sla
            )
        except ValueError as exc:
            raise FormError(str(exc)) from None
    except FormError as exc:  # nothing was written yet
        return _new_fault_form(site, view, [str(exc)], status=400)
    fault = log_fault(
        view.db,
        priority=level,
        reported_at=reported_at,
        clock=clock,
        pages=site.config.paging.pages(level.value),
        now=site.now(),
        channel=channel,
        customer=customer.name,
        customer_id=customer.id,
        ticket_ref=ticket_ref,
        description=description,
    )
    flash(view.request, "ok", f"Fault {fault.reference} logged for {customer.name}.")
    return RedirectResponse(f"/faults/{fault.reference}", status_code=303)


def routes(site: Site) -> list[Route]:
    return [
        Route("/faults", page(site, faults_list), methods=["GET"]),
        Route("/faults/new", page(site, new_fault_form), methods=["GET"]),
        Route("/faults/new", page(site, add_fault), methods=["POST"]),
        Route("/faults/{reference}", page(site, fault_detail), methods=["GET"]),
        Route("/faults/{reference}/{action}", page(site, fault_action), methods=["POST"]),
    ]
