"""The one rule for names people type: customers, engineers and admins.

Names end up in terminals, CSV exports, the web page and logs. A control
or formatting character hidden in one (an ESC sequence, a right-to-left
override) rewrites what an operator sees there, so such names are refused
where they enter, with a message saying which character, rather than
stripped silently into something nobody typed. The length limits are the
database columns', stated here so the command line can say them in --help.
Pure: no I/O.
"""

from __future__ import annotations

import unicodedata

CUSTOMER_NAME_MAX = 200
ENGINEER_NAME_MAX = 100
ADMIN_NAME_MAX = 64

# Unicode categories a name may not contain: controls (ESC, tab, newline,
# DEL, C1), formatting (RLO, zero-width joiners, BOM), lone surrogates (bytes
# that were not UTF-8), and the line and paragraph separators.
_REFUSED_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Zl", "Zp"})


class InvalidName(ValueError):
    """The name breaks the rule; the message says how, fit to show the person who typed it."""


def describe_character(char: str) -> str:
    """A character as a person can read it even when it prints as nothing, e.g. "U+202E
    RIGHT-TO-LEFT OVERRIDE"."""
    name = unicodedata.name(char, "")
    return f"U+{ord(char):04X}" + (f" {name}" if name else "")


def check_name(text: str, what: str, limit: int) -> str:
    """The name as stored (surrounding spaces dropped), or InvalidName.

    `what` names the kind of name in messages, with its article ("a customer
    name"), so each store keeps messages in its own words.
    """
    name = text.strip()
    if not name:
        raise InvalidName(f"{what} is required")
    if len(name) > limit:
        raise InvalidName(f"{what} must be at most {limit} characters (this one has {len(name)})")
    for char in name:
        if unicodedata.category(char) in _REFUSED_CATEGORIES:
            # repr() shows the offending character escaped, never raw.
            raise InvalidName(
                f"{what} may not contain control or formatting characters "
                f"({describe_character(char)} in {name!r})"
            )
    return name
