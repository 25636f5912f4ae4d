"""Call detail records in the shape of Asterisk's CDR, so existing billing and
reporting tools read our call log without a converter.

The leading columns are Asterisk's (cdr_csv / cdr_adaptive_odbc names and
meanings): src, dst, start, answer, end, duration, billsec, disposition,
uniqueid. Ours follow, then two more of Asterisk's, last so that tools
reading the columns by position are undisturbed: dcontext (`fault-line` for a
call to the line, `callback` for an engineer's call back to a customer) and
lastapp (what carried the call: `IVR` for the line's own menus, `Dial` for
a callback, which dials the customer and joins them to the engineer, as
Asterisk's Dial does). A callback is outbound: src is the line's public
number and dst the customer's. Times are local wall-clock "YYYY-MM-DD HH:MM:SS" as
Asterisk writes them, in the zone sip.conf names. Pure: it reads the
attributes of a call row, whatever loaded it.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Protocol
from zoneinfo import ZoneInfo

ASTERISK_COLUMNS = (
    "src",
    "dst",
    "start",
    "answer",
    "end",
    "duration",
    "billsec",
    "disposition",
    "uniqueid",
)
OUR_COLUMNS = (
    "verified",
    "customer",
    "digits",
    "fault_reference",
    "outcome",
    "sip_call_id",
    "node",
)
LATER_ASTERISK_COLUMNS = ("dcontext", "lastapp")
COLUMNS = ASTERISK_COLUMNS + OUR_COLUMNS + LATER_ASTERISK_COLUMNS
CALLBACK = "callback"

# A spreadsheet treats a cell starting with one of these as a formula.
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
# ...except a plain number such as an E.164 "+442079460000", which it can only
# read as that number; billing tools expect it as Asterisk writes it.
_PLAIN_NUMBER = re.compile(r"[+-]?[0-9]+(\.[0-9]+)?")


class CallRow(Protocol):
    id: int
    cli: str | None
    started_at: datetime
    answered_at: datetime | None
    ended_at: datetime | None
    outcome: str
    verified: bool
    customer: str | None
    digits: str
    fault_reference: str | None
    sip_call_id: str
    node: str | None
    kind: str


def disposition(call: CallRow) -> str:
    """Asterisk's word for how the call went: the fault line answers every call
    it takes, so a call never answered either failed or was given up on."""
    if call.answered_at is not None:
        return "ANSWERED"
    if call.outcome in ("failed", "rejected"):
        return "FAILED"
    if call.outcome == "busy":  # a callback the customer's phone refused as busy
        return "BUSY"
    return "NO ANSWER"


def _local(moment: datetime | None, tz: ZoneInfo) -> str:
    return "" if moment is None else f"{moment.astimezone(tz):%Y-%m-%d %H:%M:%S}"


def _seconds(start: datetime | None, end: datetime | None) -> str:
    if start is None or end is None:
        return ""  # still running, or cut off with its end unknown
    return str(max(0, round((end - start).total_seconds())))


def spreadsheet_safe(cell: str) -> str:
    """A cell a spreadsheet shows as text and never runs as a formula.

    Applied to every column alike: which columns a caller, an operator or a
    future change can put text into is not something to keep track of.
    """
    if cell.startswith(_FORMULA_START) and not _PLAIN_NUMBER.fullmatch(cell):
        return "'" + cell
    return cell


def cdr_row(call: CallRow, public_number: str, tz: ZoneInfo) -> list[str]:
    """One record, in COLUMNS order, every cell spreadsheet-safe."""
    billsec = _seconds(call.answered_at, call.ended_at) if call.answered_at is not None else "0"
    callback = call.kind == CALLBACK
    src, dst = (public_number, call.cli or "") if callback else (call.cli or "", public_number)
    cells = [
        src,
        dst,
        _local(call.started_at, tz),
        _local(call.answered_at, tz),
        _local(call.ended_at, tz),
        _seconds(call.started_at, call.ended_at),
        billsec,
        disposition(call),
        # Asterisk's uniqueid is "epoch.sequence"; the row id keeps it unique.
        f"{int(call.started_at.timestamp())}.{call.id}",
        "yes" if call.verified else "no",
        call.customer or "",
        call.digits,
        call.fault_reference or "",
        call.outcome,
        call.sip_call_id,
        call.node or "",
        CALLBACK if callback else "fault-line",
        "Dial" if callback else "IVR",
    ]
    return [spreadsheet_safe(cell) for cell in cells]
