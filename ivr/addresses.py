"""The one rule for e-mail addresses people type: a customer's, or sip.conf's pager list.

Apart from the store, so that loading sip.conf checks its addresses without
importing the database layer (a CLI command pays for every module it loads).
Pure: no I/O.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

MAX_EMAIL = 254
# Deliberately loose: one @, something on each side, a dot in the domain, no
# spaces. Whether an address works is for the mail server to say.
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


class InvalidAddress(ValueError):
    """Not an e-mail address; the message quotes it, fit to show the person who typed it."""


def check_email(address: str) -> str:
    address = address.strip()
    if len(address) > MAX_EMAIL or not _EMAIL.match(address):
        raise InvalidAddress(f"{address!r} is not an e-mail address")
    return address


def check_emails(addresses: Iterable[str]) -> list[str]:
    """Each address checked, repeats dropped (case-insensitively), order kept."""
    kept: dict[str, str] = {}
    for address in addresses:
        checked = check_email(address)
        kept.setdefault(checked.lower(), checked)
    return list(kept.values())
