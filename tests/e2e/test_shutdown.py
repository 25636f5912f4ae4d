"""Graceful shutdown: SIGTERM mid-call ends the call politely and keeps what it collected."""

from __future__ import annotations

import signal
import subprocess
import threading
import time
from typing import Any

from tests.e2e.conftest import KNOWN_NUMBER, FaultLine
from tests.e2e.test_spine import assert_sipp_ok

SCENARIO = "caller_chooses_then_waits.xml"
# Long enough that the call could not end by itself while the test runs.
MENU_TIMEOUT = "60"
POLL_SECONDS = 0.25
POLLS = 120


def wait_until_answered(line: FaultLine) -> dict[str, Any]:
    for _ in range(POLLS):
        calls = line.ivr_json("calls", "list")
        if calls and calls[0]["answered_at"]:
            return calls[0]  # type: ignore[no-any-return]
        time.sleep(POLL_SECONDS)
    raise AssertionError("the call was not answered:\n" + "".join(line.output[-40:]))


def test_sigterm_mid_call_says_goodbye_commits_and_exits_zero(fault_line_factory: Any) -> None:
    line: FaultLine = fault_line_factory(menu={"first_digit_timeout": MENU_TIMEOUT})
    results: list[subprocess.CompletedProcess[str]] = []
    caller = threading.Thread(
        target=lambda: results.append(line.sipp(SCENARIO, [(KNOWN_NUMBER, "3", "Acme desk")]))
    )
    caller.start()
    try:
        wait_until_answered(line)
        time.sleep(1.5)  # the caller has pressed 3 and hears the read-back
        assert line.process is not None
        stopping = time.monotonic()
        line.process.send_signal(signal.SIGTERM)
        code = line.process.wait(timeout=30)
        took = time.monotonic() - stopping
    finally:
        caller.join(timeout=90)
    # The caller heard a last prompt and got a BYE (the scenario waits for it).
    (result,) = results
    assert_sipp_ok(line, SCENARIO, result)
    assert code == 0, "".join(line.output[-40:])
    print(f"shutdown took {took:.1f} s")  # measured, not asserted: CI machines vary
    assert any("ended: the service is stopping" in text for text in line.output)

    (call,) = line.ivr_json("calls", "list")
    assert call["ended_at"] is not None
    assert call["digits"] == "3"
    assert call["outcome"] == "failed"
    assert call["verified"] is True
    assert line.ivr_json("faults", "list") == []


def test_sigterm_while_the_caller_describes_keeps_the_recording_and_reads_the_reference(
    fault_line_factory: Any,
) -> None:
    # Silence would only end the description after 30 s: it is the shutdown
    # that ends it here.
    line: FaultLine = fault_line_factory(recording={"silence_seconds": "30", "max_seconds": "60"})
    results: list[subprocess.CompletedProcess[str]] = []
    caller = threading.Thread(
        target=lambda: results.append(
            line.sipp("caller_report.xml", [(KNOWN_NUMBER, "3", "Acme desk")])
        )
    )
    caller.start()
    try:
        (committed,) = line.wait_for_output(r"fault \d+ \(critical\) committed from call")
        line.wait_for_output(r"recording the description of fault")
        assert line.process is not None
        line.process.send_signal(signal.SIGTERM)
        code = line.process.wait(timeout=60)
    finally:
        caller.join(timeout=90)
    # The caller heard the reference and got a BYE: the scenario waits for it.
    (result,) = results
    assert_sipp_ok(line, "caller_report.xml", result)
    assert code == 0, "".join(line.output[-40:])
    assert not any("ended: the service is stopping" in text for text in line.output)

    (fault,) = line.ivr_json("faults", "list")
    assert fault["priority"] == "critical"
    assert f"fault {fault['reference']} " in committed
    (recording,) = line.ivr_json("faults", "show", fault["reference"])["recordings"]
    assert recording["ended_by"] == "shutdown"
    (call,) = line.ivr_json("calls", "list")
    assert (call["outcome"], call["fault_reference"]) == ("reported", fault["reference"])
    assert call["ended_at"] is not None
