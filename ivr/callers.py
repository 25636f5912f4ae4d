"""Who is calling: caller ID parsing, E.164 normalisation and the trust rules.

The CLI comes from P-Asserted-Identity only when the request arrived from
an address the operator trusts (RFC 3325 §5); otherwise from From. Every
header value is hostile data: it is parsed, never evaluated, and its
length is capped before it is stored.

A From that names more than one party (two From headers, or one holding
two URIs) is never verified: RFC 3261 allows exactly one, and a proxy in
front may believe a different one of them than we would.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import phonenumbers

DEFAULT_REGION = "GB"
MAX_HEADER_LENGTH = 512

# name-addr: optional display name (quoted or token run), then <uri>.
_NAME_ADDR = re.compile(r'^\s*(?:"((?:[^"\\]|\\.)*)"|([^<"]*?))\s*<([^>]*)>')
_WITHHELD_USERS = {"anonymous", "restricted", "unavailable", "unknown", "private", "withheld"}


class InvalidNumber(ValueError):
    """The text is not a telephone number we can normalise."""


def normalise_number(text: str, region: str = DEFAULT_REGION) -> str:
    """Return the E.164 form of a telephone number in any common UK form.

    Accepts national ("020 3355 1151"), international ("+44 20 3355 1151",
    "00442033551151") and SIP/tel URIs whose user part is a number
    ("sip:02033551151@host", "tel:+442033551151").
    """
    candidate = text.strip()
    if candidate.lower().startswith(("sip:", "sips:", "tel:")):
        candidate = uri_user(candidate) or ""
    candidate = candidate.split(";", 1)[0]
    if candidate.startswith("00"):
        candidate = "+" + candidate[2:]
    if not candidate or not re.fullmatch(r"\+?[0-9 ()\-.]{3,30}", candidate):
        raise InvalidNumber(f"{text!r} is not a telephone number")
    try:
        parsed = phonenumbers.parse(candidate, region)
    except phonenumbers.NumberParseException as exc:
        raise InvalidNumber(f"{text!r} is not a telephone number: {exc}") from None
    if not phonenumbers.is_valid_number(parsed):
        raise InvalidNumber(f"{text!r} is not a valid number")
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


def uri_user(uri: str) -> str | None:
    """The user part of a sip:, sips: or tel: URI, unescaped of visual separators."""
    scheme, _, rest = uri.strip().partition(":")
    if scheme.lower() not in ("sip", "sips", "tel"):
        return None
    if scheme.lower() == "tel":
        user = rest.split(";", 1)[0]
    else:
        user, at, _host = rest.partition("@")
        if not at:
            return None
        user = user.split(";", 1)[0].split(":", 1)[0]
    return user or None


@dataclass(frozen=True)
class NameAddr:
    display_name: str | None
    uri: str


def parse_name_addr(value: str | None) -> NameAddr | None:
    """Parse a From or P-Asserted-Identity value; None when it is not parseable."""
    if not value:
        return None
    value = value[:MAX_HEADER_LENGTH]
    match = _NAME_ADDR.match(value)
    if match:
        quoted, token, uri = match.groups()
        name = quoted if quoted is not None else (token or "").strip()
        if quoted is not None:
            name = re.sub(r"\\(.)", r"\1", quoted)
        return NameAddr(display_name=name or None, uri=uri.strip())
    # addr-spec form: the URI up to the first header parameter.
    uri = value.strip().split(";", 1)[0] if not value.strip().startswith("tel:") else value.strip()
    return NameAddr(display_name=None, uri=uri) if ":" in uri else None


def name_addr_count(value: str) -> int:
    """How many addresses a header value lists (commas outside quotes and <...>)."""
    count, pending, quoted, bracketed, escaped = 0, False, False, False, False
    for char in value:
        if escaped:
            escaped = False
        elif quoted:
            escaped = char == "\\"
            quoted = char != '"'
        elif char == '"':
            quoted = True
        elif char == "<":
            bracketed = True
        elif char == ">":
            bracketed = False
        elif char == "," and not bracketed:
            count += 1 if pending else 0
            pending = False
            continue
        if not char.isspace():
            pending = True
    return count + (1 if pending else 0)


@dataclass(frozen=True)
class PresentedCaller:
    """The caller as presented and the identity we are prepared to believe."""

    display_name: str | None
    cli: str | None  # E.164, when a number could be taken from a believed header
    identity_source: str  # "pai", "from" or "none"
    reason: str  # why cli is what it is, for the call log


def identify_caller(
    from_header: str | None,
    asserted_identity: str | None,
    *,
    source_trusted: bool,
    require_trusted_source: bool = False,
    from_count: int | None = 1,
    region: str = DEFAULT_REGION,
) -> PresentedCaller:
    """Decide which number this caller may be verified as, and say why.

    `from_count` is how many From headers the request had (None: unknown).
    """
    from_addr = parse_name_addr(from_header)
    display = from_addr.display_name if from_addr else None
    if (from_count is not None and from_count > 1) or (
        from_header and name_addr_count(from_header) > 1
    ):
        return PresentedCaller(display, None, "none", "more than one From address")
    if require_trusted_source and not source_trusted:
        return PresentedCaller(display, None, "none", "source address is not trusted")
    pai_addr = parse_name_addr(asserted_identity) if source_trusted else None
    if pai_addr is not None:
        chosen, source = pai_addr, "pai"
    elif from_addr is not None:
        chosen, source = from_addr, "from"
    else:
        return PresentedCaller(display, None, "none", "no caller ID presented")
    user = uri_user(chosen.uri)
    if user is None or user.lower() in _WITHHELD_USERS:
        return PresentedCaller(display, None, source, "caller ID withheld")
    try:
        cli = normalise_number(user, region)
    except InvalidNumber:
        return PresentedCaller(display, None, source, "caller ID is not a telephone number")
    note = "asserted by trusted source" if source == "pai" else "from header"
    if source == "from" and asserted_identity and not source_trusted:
        note = "from header (P-Asserted-Identity ignored: untrusted source)"
    return PresentedCaller(display, cli, source, note)
