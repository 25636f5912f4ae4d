"""The value rules sip.conf settings share: numbers with their ranges, yes/no, HOST:PORT.

Each returns a parser from text to value that raises `Invalid` with what was
expected, so that every setting of a kind is refused in the same words.
"""

from __future__ import annotations

import configparser
import enum
import math
from collections.abc import Callable
from typing import TypeVar

from ivr.config.source import Invalid

E = TypeVar("E", bound=enum.StrEnum)


def _range(low: float, high: float, unit: str) -> str:
    return f"from {low:g} to {high:g}{unit}"


def whole(low: int, high: int, unit: str = "") -> Callable[[str], int]:
    """A whole number from `low` to `high`; `unit` (" seconds") is said in the message."""

    def parse(raw: str) -> int:
        try:
            value = int(raw)
        except ValueError:
            raise Invalid(
                f"expected a whole number {_range(low, high, unit)}, got {raw!r}"
            ) from None
        if not low <= value <= high:
            raise Invalid(f"must be {_range(low, high, unit)}, got {raw}")
        return value

    return parse


def decimal(low: float, high: float, unit: str = "") -> Callable[[str], float]:
    """A number (decimals allowed) from `low` to `high`."""

    def parse(raw: str) -> float:
        try:
            value = float(raw)
        except ValueError:
            raise Invalid(f"expected a number {_range(low, high, unit)}, got {raw!r}") from None
        if not math.isfinite(value) or not low <= value <= high:
            raise Invalid(f"must be {_range(low, high, unit)}, got {raw}")
        return value

    return parse


def one_of(kind: type[E]) -> Callable[[str], E]:
    """One of a string enum's values, e.g. `pin` or `refuse`."""

    def parse(raw: str) -> E:
        try:
            return kind(raw.strip().lower())
        except ValueError:
            allowed = " or ".join(member.value for member in kind)
            raise Invalid(f"expected {allowed}, got {raw!r}") from None

    return parse


def boolean(raw: str) -> bool:
    state = configparser.ConfigParser.BOOLEAN_STATES.get(raw.lower())
    if state is None:
        raise Invalid(f"expected yes or no, got {raw!r}")
    return state


def yes_no(value: bool) -> str:
    return "yes" if value else "no"


def text(raw: str) -> str:
    return raw


def host_port(raw: str) -> tuple[str, int]:
    """HOST:PORT, the host in brackets when it is an IPv6 address."""
    host, sep, port = raw.rpartition(":")
    if not sep or not host.strip("[]"):
        raise Invalid(f"expected HOST:PORT, got {raw!r}")
    return host.strip("[]"), whole(1, 65535)(port)
