"""Keys pressed as soon as the call is up, before the call flow listens, still count."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ivr.sip.engine import ActiveCall


class StackCall:
    """Just enough of the engine's call object for ActiveCall to wrap."""

    call_id = "early@phone"

    def on(self, callback: Callable[[Any], None]) -> None:
        self.callback = callback


async def test_keys_before_the_first_listener_are_kept_for_it_in_order() -> None:
    call = ActiveCall(StackCall())  # type: ignore[arg-type]
    call.signalled_digit("2")  # the caller did not wait for the greeting
    call.signalled_digit("1")
    heard: list[str] = []
    call.on_digit(heard.append)
    assert heard == ["2", "1"]
    call.signalled_digit("3")
    assert heard == ["2", "1", "3"]
    later: list[str] = []
    call.on_digit(later.append)  # a second listener gets what comes next, not a replay
    call.signalled_digit("#")
    assert (heard[-1], later) == ("#", ["#"])
