"""SIGHUP re-reads sip.conf: a call in progress keeps its settings, the next call takes the new.

The changed setting is `[menu] unknown_callers`: refused before, an unknown
number may type its account and PIN after, so the second call shows which
menu it got by what it managed to do.
"""

from __future__ import annotations

import signal
import subprocess
import threading
from typing import Any

from tests.e2e.conftest import KNOWN_NUMBER, FaultLine
from tests.e2e.test_phone_journey import (
    ACCOUNT,
    PIN,
    UNKNOWN_NUMBER,
    keys_scenario,
    typed,
    with_customer,
)
from tests.e2e.test_spine import assert_sipp_ok

SCENARIO = "caller_report.xml"


def hang_up(line: FaultLine) -> None:
    assert line.process is not None
    line.process.send_signal(signal.SIGHUP)


def test_sighup_mid_call_keeps_the_call_and_the_next_call_takes_the_new_menu(
    fault_line_factory: Any,
) -> None:
    # Five seconds of silence end the description: the call outlasts the reload.
    line: FaultLine = fault_line_factory(start=False, recording={"silence_seconds": "5"})
    with_customer(line)
    line.start()
    results: list[subprocess.CompletedProcess[str]] = []
    caller = threading.Thread(
        target=lambda: results.append(line.sipp(SCENARIO, [(KNOWN_NUMBER, "1", "Acme desk")]))
    )
    caller.start()
    try:
        line.wait_until(lambda: bool(line.ivr_json("calls", "list")), timeout=60)
        conf = line.config_path.read_text(encoding="utf-8")
        assert "unknown_callers = refuse" in conf
        line.config_path.write_text(
            conf.replace("unknown_callers = refuse", "unknown_callers = pin"), encoding="utf-8"
        )
        hang_up(line)
        line.wait_for_output(r"configuration reloaded, for new calls: .*\[menu\] unknown_callers")
    finally:
        caller.join(timeout=120)
    (result,) = results
    assert_sipp_ok(line, SCENARIO, result)
    (call,) = line.ivr_json("calls", "list")
    assert call["outcome"] == "reported" and call["fault_reference"], call
    (fault,) = line.ivr_json("faults", "list")
    assert fault["reference"] == call["fault_reference"]

    # The next call from an unknown number is let in by account and PIN.
    presses = typed(f"{ACCOUNT}#{PIN}#") + [("1", 2500), ("1", 1200)]
    scenario = keys_scenario(line.workdir, "caller_pin_after_reload", presses)
    result = line.sipp(scenario, [(UNKNOWN_NUMBER, "", "Borrowed phone")])
    assert_sipp_ok(line, scenario, result)
    faults = line.ivr_json("faults", "list")
    assert len(faults) == 2
    assert {f["verified_by"] for f in faults if f["reference"] != fault["reference"]} == {"pin"}
    assert line.process is not None and line.process.poll() is None


def test_sighup_with_a_broken_config_keeps_running_as_before_and_says_why(
    fault_line_factory: Any,
) -> None:
    line: FaultLine = fault_line_factory()
    good = line.config_path.read_text(encoding="utf-8")
    line.config_path.write_text(good.replace("tries = 2", "tries = 99"), encoding="utf-8")
    hang_up(line)
    line.wait_for_output(r"configuration NOT reloaded")
    (named,) = line.wait_for_output(r"\[menu\] tries: must be from 1 to 10")
    assert str(line.config_path) in named
    # Still running, and a good file is taken afterwards; what it cannot take is named.
    assert "rtp_timeout = 0" in good
    changed = good.replace("tries = 2", "tries = 3").replace("rtp_timeout = 0", "rtp_timeout = 9")
    line.config_path.write_text(changed, encoding="utf-8")
    hang_up(line)
    line.wait_for_output(r"configuration reloaded, for new calls: \[menu\] tries$")
    line.wait_for_output(r"\[general\] rtp_timeout changed; it applies only after a restart")
    assert line.stop() == 0
