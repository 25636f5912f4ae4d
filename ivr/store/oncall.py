"""The on-call rota and holiday overrides, stored; who is on call at an instant.

The rules live in `ivr.paging.rota`; this module only loads their inputs.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from ivr.paging.policy import Policy, who_can_be_paged
from ivr.paging.rota import Override, Rota, escalation_chain, on_call, on_call_until, override_at
from ivr.store.engineers import PagingError, require_engineer
from ivr.store.models import Engineer, OnCallOverride, RotaConfig, utcnow

# ---- rota and overrides -------------------------------------------------------------


def set_rota(session: Session, rota: Rota, now: datetime | None = None) -> RotaConfig:
    """Store a new rota version; every engineer in it must exist and be active."""
    for name in rota.engineers:
        if not require_engineer(session, name).active:
            raise PagingError(f"{name} is not active")
    row = RotaConfig(
        engineers=list(rota.engineers),
        starts_at=rota.start,
        handover=f"{rota.handover:%H:%M}",
        weekday=rota.weekday,
        period_days=rota.period_days,
        timezone=rota.tz.key,
        created_at=now or utcnow(),
    )
    session.add(row)
    session.flush()
    return row


def current_rota(session: Session) -> Rota | None:
    row = session.scalar(select(RotaConfig).order_by(RotaConfig.id.desc()).limit(1))
    return row.to_rota() if row is not None else None


def add_override(
    session: Session,
    engineer_name: str,
    starts_at: datetime,
    ends_at: datetime,
    now: datetime | None = None,
) -> OnCallOverride:
    engineer = require_engineer(session, engineer_name)
    try:
        # Validated by the pure type so the rules are stated once.
        Override(engineer.name, starts_at, ends_at, now or utcnow())
    except ValueError as exc:
        raise PagingError(str(exc)) from None
    row = OnCallOverride(
        engineer_id=engineer.id, starts_at=starts_at, ends_at=ends_at, created_at=now or utcnow()
    )
    session.add(row)
    session.flush()
    return row


def list_overrides(
    session: Session, *, ending_after: datetime | None = None
) -> list[OnCallOverride]:
    query = select(OnCallOverride).order_by(OnCallOverride.starts_at, OnCallOverride.id)
    if ending_after is not None:
        query = query.where(OnCallOverride.ends_at > ending_after)
    return list(session.scalars(query))


def overrides_at(session: Session, at: datetime) -> list[Override]:
    """The overrides covering `at`, oldest first, as the pure rota functions take them."""
    rows = session.scalars(
        select(OnCallOverride)
        .where(OnCallOverride.starts_at <= at, OnCallOverride.ends_at > at)
        .order_by(OnCallOverride.id)
    )
    return [Override(r.engineer.name, r.starts_at, r.ends_at, r.created_at) for r in rows]


def on_call_at(session: Session, at: datetime) -> str | None:
    return on_call(current_rota(session), overrides_at(session, at), at)


def chain_at(session: Session, at: datetime) -> list[str]:
    return escalation_chain(current_rota(session), overrides_at(session, at), at)


@dataclass(frozen=True)
class OnCallAnswer:
    """Who is on call at an instant, why, until when, and who comes after them."""

    at: datetime
    engineer: str | None
    source: str | None  # "override", "rota", or None when nobody is
    until: datetime | None  # when the answer next changes, if it ever does
    chain: tuple[str, ...]


def who_is_on_call(session: Session, at: datetime) -> OnCallAnswer:
    rota = current_rota(session)
    rows = session.scalars(
        select(OnCallOverride).where(OnCallOverride.ends_at > at).order_by(OnCallOverride.id)
    )
    overrides = [Override(r.engineer.name, r.starts_at, r.ends_at, r.created_at) for r in rows]
    engineer = on_call(rota, overrides, at)
    if override_at(overrides, at) is not None:
        source: str | None = "override"
    else:
        source = "rota" if engineer is not None else None
    return OnCallAnswer(
        at=at,
        engineer=engineer,
        source=source,
        until=on_call_until(rota, overrides, at),
        chain=tuple(escalation_chain(rota, overrides, at)),
    )


def remove_override(session: Session, override_id: int) -> OnCallOverride:
    """Take back a cover arranged by mistake or no longer needed; the rota applies again."""
    row = session.get(OnCallOverride, override_id)
    if row is None:
        raise PagingError(f"no override with id {override_id} (see ivr oncall overrides)")
    session.delete(row)
    session.flush()
    return row


def overrides_for_display(rows: Sequence[OnCallOverride]) -> list[dict[str, object]]:
    return [
        {
            "id": r.id,
            "engineer": r.engineer.name,
            "from": r.starts_at.isoformat(),
            "to": r.ends_at.isoformat(),
            "created_at": r.created_at.isoformat(),
        }
        for r in rows
    ]


def pageable_now(session: Session, policy: Policy, at: datetime) -> tuple[str, ...]:
    """The engineers a page opened at `at` could ring, in order (empty: nobody)."""
    active = set(session.scalars(select(Engineer.name).where(Engineer.active.is_(True))))
    return who_can_be_paged(policy, chain_at(session, at), active)
