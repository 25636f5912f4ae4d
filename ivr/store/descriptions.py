"""Callers' spoken descriptions attached to faults."""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from ivr.store.faults import note_description_played
from ivr.store.models import Fault, Recording


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


def description_paths(session: Session, references: Collection[str]) -> list[str]:
    """The WAV files of these faults' descriptions, newest first (as the engineer hears them).

    Newest first because a repeat caller's later description is usually the
    one that says what has changed.
    """
    return list(
        session.scalars(
            select(Recording.path)
            .join(Fault, Fault.id == Recording.fault_id)
            .where(Fault.reference.in_(list(references)))
            .order_by(Recording.created_at.desc(), Recording.id.desc())
        )
    )


def note_descriptions_played(
    session: Session, references: Collection[str], engineer: str, detail: str, at: datetime
) -> int:
    """Put "description played" on the timeline of each of these faults that has one."""
    faults = session.scalars(
        select(Fault)
        .where(Fault.reference.in_(list(references)))
        .where(select(Recording.id).where(Recording.fault_id == Fault.id).exists())
        .order_by(Fault.id)
    )
    written = 0
    for fault in faults:
        note_description_played(session, fault, engineer, detail, at)
        written += 1
    return written
