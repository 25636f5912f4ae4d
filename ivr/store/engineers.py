"""Engineers: who can be paged and where to ring them; plain functions taking a session."""

from __future__ import annotations

import re

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from ivr.callers import InvalidNumber, normalise_number
from ivr.names import ENGINEER_NAME_MAX, InvalidName, check_name
from ivr.store.models import Engineer, OnCallOverride, RotaConfig

# Characters that would make a name ambiguous in sip.conf `name=A|B` levels.
_NAME_FORBIDDEN = re.compile(r"[|,:;#\n\r\t]")
_SIP_URI = re.compile(
    r"^sips?:(?:[^@\s;?]+@)?(?:[A-Za-z0-9](?:[A-Za-z0-9.\-]*[A-Za-z0-9])?|\[[0-9A-Fa-f:.]+\])"
    r"(?::\d{1,5})?(?:;\S*)?$",
    re.IGNORECASE,
)


class PagingError(ValueError):
    """A paging request cannot be carried out; the message says why."""


# ---- engineers ----------------------------------------------------------------


def normalise_contact(text: str) -> str:
    """A sip:/sips: URI as given (checked), or a telephone number as E.164.

    URIs are kept verbatim because the host part says where to send the call;
    numbers are normalised so the same phone is recognised however typed.
    """
    value = text.strip()
    if value.lower().startswith(("sip:", "sips:")):
        if not _SIP_URI.match(value):
            raise PagingError(f"{text!r} is not a SIP URI (expected sip:user@host)")
        return value
    try:
        return normalise_number(value)
    except InvalidNumber as exc:
        raise PagingError(f"contact {exc}; give a sip: URI or a telephone number") from None


def _check_name(name: str) -> str:
    try:
        name = check_name(name, "an engineer name", ENGINEER_NAME_MAX)
    except InvalidName as exc:
        raise PagingError(str(exc)) from None
    if _NAME_FORBIDDEN.search(name):
        raise PagingError(f"{name!r}: names may not contain | , : ; # or line breaks")
    return name


def find_engineer(session: Session, name: str) -> Engineer | None:
    return session.scalar(select(Engineer).where(Engineer.name == name.strip()))


def require_engineer(session: Session, name: str) -> Engineer:
    engineer = find_engineer(session, name)
    if engineer is None:
        raise PagingError(f"no engineer called {name.strip()!r} (see ivr engineers list)")
    return engineer


def add_engineer(session: Session, name: str, contact: str) -> Engineer:
    name = _check_name(name)
    normalised = normalise_contact(contact)
    if find_engineer(session, name) is not None:
        raise PagingError(f"an engineer called {name!r} already exists")
    engineer = Engineer(name=name, contact=normalised)
    session.add(engineer)
    session.flush()
    return engineer


def list_engineers(session: Session) -> list[Engineer]:
    return list(session.scalars(select(Engineer).order_by(Engineer.name)))


def remove_engineer(session: Session, name: str) -> Engineer:
    """Remove an engineer and their overrides; past attempts keep their name.

    Refused while the rota names them: silently shortening the rota would
    shift everyone else's weeks.
    """
    engineer = require_engineer(session, name)
    rota = session.scalar(select(RotaConfig).order_by(RotaConfig.id.desc()).limit(1))
    if rota is not None and engineer.name in rota.engineers:
        raise PagingError(f"{engineer.name} is in the rota; set a rota without them first")
    session.execute(delete(OnCallOverride).where(OnCallOverride.engineer_id == engineer.id))
    session.delete(engineer)
    session.flush()
    return engineer


def engineer_as_dict(engineer: Engineer) -> dict[str, object]:
    return {
        "name": engineer.name,
        "contact": engineer.contact,
        "active": engineer.active,
        "added_at": engineer.added_at.isoformat(),
    }
