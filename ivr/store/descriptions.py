"""Callers' spoken descriptions attached to faults."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from ivr.store.models import Recording


def list_recordings(session: Session, fault_id: int) -> list[Recording]:
    return list(
        session.scalars(
            select(Recording).where(Recording.fault_id == fault_id).order_by(Recording.id)
        )
    )


def recording_as_dict(recording: Recording) -> dict[str, object]:
    return {
        "path": recording.path,
        "seconds": round(recording.seconds, 2),
        "sha256": recording.sha256,
        "ended_by": recording.ended_by,
        "created_at": recording.created_at.isoformat(),
    }
