"""A customer's e-mail about their fault, composed from the outbox row's facts (no I/O).

Every message about one fault carries a Message-ID made from its outbox
token and a References chain of the ones before it, so a mail client shows
the fault's story as one thread. Times are the customer's local time, as
the caller hears them on the phone.
"""

from __future__ import annotations

import html
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from email.message import EmailMessage
from email.utils import format_datetime, parseaddr
from zoneinfo import ZoneInfo

# Which facts each kind of message opens with; the wording is the caller's.
_OPENING = {
    "logged": "We have logged your fault.",
    "acknowledged": "An engineer has acknowledged your fault.",
    "responded": "An engineer has responded to your fault and is working on it.",
    "resolved": "Your fault has been resolved.",
    "reprioritised": "We have changed the priority of your fault.",
    "out_of_scope": (
        "We have closed your fault as outside the scope of our service "
        "(it is a third party's to fix, as our SLA sets out)."
    ),
}
_SUBJECT = {
    "logged": "fault logged, {priority} priority",
    "acknowledged": "fault acknowledged",
    "responded": "an engineer is working on your fault",
    "resolved": "fault resolved",
    "reprioritised": "fault now {priority} priority",
    "out_of_scope": "fault closed as out of scope",
}
_CHANNEL = {"phone": "by phone", "email": "by e-mail", "ticket": "by support ticket"}
SIGNATURE = "CLI SECURE fault line"


@dataclass(frozen=True)
class Envelope:
    """Where a message goes and which thread it belongs to."""

    sender: str  # the From address, as configured
    recipients: Sequence[str]
    token: str  # this message's Message-ID left part
    earlier_tokens: Sequence[str] = ()  # the fault's messages before it, oldest first


def message_id(token: str, sender: str) -> str:
    """The Message-ID for an outbox token, in the sender's domain."""
    domain = parseaddr(sender)[1].rpartition("@")[2] or "localhost"
    return f"<{token}@{domain}>"


def spoken_time(moment: datetime, tz: ZoneInfo) -> str:
    """An instant as a customer reads it: "Thursday 3 December 2026 at 2:45 p.m. GMT"."""
    local = moment.astimezone(tz)
    hour = local.hour % 12 or 12
    half = "a.m." if local.hour < 12 else "p.m."
    return f"{local:%A} {local.day} {local:%B %Y} at {hour}:{local:%M} {half} {local:%Z}"


def _when(facts: Mapping[str, object], key: str, tz: ZoneInfo) -> str | None:
    value = facts.get(key)
    return spoken_time(datetime.fromisoformat(str(value)), tz) if value else None


def _lines(kind: str, facts: Mapping[str, object], tz: ZoneInfo) -> list[tuple[str, str]]:
    """The labelled facts the message lists, in reading order."""
    rows: list[tuple[str, str]] = [("Reference", str(facts["reference"]))]
    rows.append(("Priority", str(facts["priority"])))
    if kind == "reprioritised" and facts.get("reported_priority"):
        rows.append(("Reported as", str(facts["reported_priority"])))
    channel = str(facts.get("channel") or "")
    rows.append(
        ("Reported", f"{_CHANNEL.get(channel, channel)}, {_when(facts, 'reported_at', tz)}")
    )
    if facts.get("cli"):
        rows.append(("From the number", str(facts["cli"])))
    if facts.get("ticket_ref"):
        rows.append(("Your ticket", str(facts["ticket_ref"])))
    if kind in ("logged", "reprioritised"):
        for label, key in (
            ("Acknowledged by", "acknowledge_by"),
            ("Responded to by", "respond_by"),
            ("Resolved by", "resolve_by"),
        ):
            when = _when(facts, key, tz)
            if when:
                rows.append((label, when))
    elif kind in _OPENING:
        rows.append(("When", _when(facts, "at", tz) or ""))
    if kind == "acknowledged" and facts.get("by"):
        rows.append(("Engineer", str(facts["by"])))
    if kind in ("reprioritised", "out_of_scope") and facts.get("comment"):
        rows.append(("Reason", str(facts["comment"])))
    return rows


def _subject(kind: str, facts: Mapping[str, object]) -> str:
    if kind == "notice":
        subject = str(facts.get("subject", ""))
        reference = facts.get("reference")
        return f"{reference}: {subject}" if reference else subject
    tail = _SUBJECT[kind].format(priority=facts.get("priority"))
    return f"{facts['reference']}: {tail}"


def _text(kind: str, facts: Mapping[str, object], tz: ZoneInfo) -> tuple[str, str]:
    """The plain-text and HTML bodies."""
    if kind == "notice":
        body = str(facts.get("body", ""))
        return body + "\n", f"<pre>{html.escape(body)}</pre>\n"
    opening = _OPENING[kind]
    rows = _lines(kind, facts, tz)
    width = max(len(label) for label, _ in rows) + 1
    closing = "Please quote the reference if you contact us about this fault."
    plain = "\n".join(
        [
            opening,
            "",
            *(f"{label + ':':<{width}} {value}" for label, value in rows),
            "",
            closing,
            "",
            SIGNATURE,
            "",
        ]
    )
    cells = "".join(
        f'<tr><th align="left">{html.escape(label)}</th><td>{html.escape(value)}</td></tr>'
        for label, value in rows
    )
    markup = (
        f"<html><body><p>{html.escape(opening)}</p><table>{cells}</table>"
        f"<p>{html.escape(closing)}</p><p>{SIGNATURE}</p></body></html>\n"
    )
    return plain, markup


def compose(
    kind: str,
    facts: Mapping[str, object],
    envelope: Envelope,
    tz: ZoneInfo,
    now: datetime,
) -> EmailMessage:
    """The message for one outbox row, as it will be handed to SMTP."""
    message = EmailMessage()
    message["Subject"] = _subject(kind, facts)
    message["From"] = envelope.sender
    message["To"] = ", ".join(envelope.recipients)
    message["Date"] = format_datetime(now)
    message["Message-ID"] = message_id(envelope.token, envelope.sender)
    if envelope.earlier_tokens:
        chain = [message_id(token, envelope.sender) for token in envelope.earlier_tokens]
        message["In-Reply-To"] = chain[-1]
        message["References"] = " ".join(chain)
    plain, markup = _text(kind, facts, tz)
    message.set_content(plain)
    message.add_alternative(markup, subtype="html")
    return message
