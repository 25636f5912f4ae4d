"""A critical outage as the customer lives it: the reference first, a way in without the handset.

Each test drives the running service over real SIP with SIPp. An unknown
number types its account number and PIN as SIP INFO keys (one INFO a key,
so every press is its own event); the scenario is written per test from a
template with the keys filled in.
"""

from __future__ import annotations

import signal
from pathlib import Path
from typing import Any

from tests.e2e.conftest import SCENARIOS, FaultLine
from tests.e2e.test_paging import engineers
from tests.e2e.test_spine import assert_sipp_ok

UNKNOWN_NUMBER = "02079460999"
ACCOUNT = "314159"
PIN = "2718"
PIN_CALLERS = {"unknown_callers": "pin", "first_digit_timeout": "3", "tries": "3"}
PAGING = {"levels": "oncall:3:1:0:0, next:3:1:0:0", "message_plays": "2", "key_timeout": "1"}

INVITE_AND_ACK = (SCENARIOS / "caller_hangs_up_after.xml").read_text(encoding="ascii")

INFO = """
  <pause milliseconds="{pause}"/>
  <send retrans="500">
    <![CDATA[
      INFO sip:02033551151@[remote_ip]:[remote_port] SIP/2.0
      Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
      From: "[field2]" <sip:[field0]@[local_ip]:[local_port]>;tag=[pid]SIPpTag00[call_number]
      To: <sip:02033551151@[remote_ip]:[remote_port]>[peer_tag_param]
      Call-ID: [call_id]
      CSeq: {cseq} INFO
      Contact: sip:[field0]@[local_ip]:[local_port]
      Max-Forwards: 70
      Content-Type: application/dtmf-relay
      Content-Length: [len]

      Signal={key}
      Duration=160
    ]]>
  </send>
  <recv response="200"/>
"""

LISTEN_TO_THE_END = """
  <recv request="BYE" timeout="90000"/>
  <send>
    <![CDATA[
      SIP/2.0 200 OK
      [last_Via:]
      [last_From:]
      [last_To:]
      [last_Call-ID:]
      [last_CSeq:]
      Content-Length: 0
    ]]>
  </send>
</scenario>
"""


def keys_scenario(workdir: Path, name: str, presses: list[tuple[str, int]]) -> str:
    """A caller who answers, sends each key after its pause (ms), then listens to the end."""
    head = INVITE_AND_ACK[: INVITE_AND_ACK.index('  <pause milliseconds="600"/>')]
    body = "".join(
        INFO.format(pause=pause, cseq=n + 2, key=key) for n, (key, pause) in enumerate(presses)
    )
    path = workdir / f"{name}.xml"
    path.write_text(head + body + LISTEN_TO_THE_END, encoding="ascii")
    return str(path)


def typed(text: str, first_pause: int = 300) -> list[tuple[str, int]]:
    return [(key, first_pause if n == 0 else 150) for n, key in enumerate(text)]


def hang_up_scenario(workdir: Path, after_ms: int) -> str:
    path = workdir / f"caller_hangs_up_after_{after_ms}.xml"
    path.write_text(INVITE_AND_ACK.replace("HANG_UP_AFTER_MS", str(after_ms)), encoding="ascii")
    return str(path)


def with_customer(line: FaultLine) -> None:
    line.ivr("customers", "add", "Harbour Foods", "--account", ACCOUNT, "--pin-stdin", input=PIN)


def test_a_caller_who_hangs_up_during_the_reference_has_not_heard_it(
    fault_line_factory: Any,
) -> None:
    line: FaultLine = fault_line_factory()
    early = hang_up_scenario(line.workdir, 1000)
    result = line.sipp(early, [("02079460000", "3", "Acme desk")])
    assert_sipp_ok(line, early, result)
    (fault,) = line.ivr_json("faults", "list")
    (call,) = line.ivr_json("calls", "list")
    assert call["fault_reference"] == fault["reference"]
    assert call["reference_heard"] is False


def test_a_caller_who_hangs_up_after_the_reference_has_heard_it(fault_line_factory: Any) -> None:
    line: FaultLine = fault_line_factory()
    late = hang_up_scenario(line.workdir, 6500)
    result = line.sipp(late, [("02079460000", "3", "Acme desk")])
    assert_sipp_ok(line, late, result)
    (call,) = line.ivr_json("calls", "list")
    assert call["outcome"] == "reported"
    assert call["reference_heard"] is True


def test_an_unknown_number_reports_a_critical_fault_with_account_and_pin(
    fault_line_factory: Any,
) -> None:
    line: FaultLine = fault_line_factory(start=False, menu=PIN_CALLERS, paging=PAGING)
    with_customer(line)
    engineers(line, line.phone("engineer_presses_1.xml"), line.phone("engineer_busy.xml"))
    line.start()
    presses = typed(f"{ACCOUNT}#{PIN}#") + [("3", 2500), ("1", 1200)]
    scenario = keys_scenario(line.workdir, "caller_pin_report", presses)
    result = line.sipp(scenario, [(UNKNOWN_NUMBER, "", "Borrowed phone")])
    assert_sipp_ok(line, scenario, result)

    (fault,) = line.ivr_json("faults", "list")
    assert (fault["priority"], fault["customer"], fault["verified_by"]) == (
        "critical",
        "Harbour Foods",
        "pin",
    )
    assert fault["cli"] == "+442079460999"
    (call,) = line.ivr_json("calls", "list")
    assert (call["verified"], call["verified_by"], call["customer"]) == (
        True,
        "pin",
        "Harbour Foods",
    )
    assert PIN not in call["digits"] and call["digits"] == "31"
    # The engineer was paged and pressed 1.
    line.wait_for_output(r"acknowledged \(alice\) -> page acknowledged")
    assert not [entry for entry in line.output if PIN in entry.replace(ACCOUNT, "")]


def test_three_wrong_pins_end_the_call_with_no_fault_and_the_lock_out_outlives_a_restart(
    fault_line_factory: Any,
) -> None:
    line: FaultLine = fault_line_factory(start=False, menu=PIN_CALLERS)
    with_customer(line)
    line.start()
    wrong = typed(f"{ACCOUNT}#0000#") + typed(f"{ACCOUNT}#1111#", 2500)
    wrong += typed(f"{ACCOUNT}#2222#", 2500)
    scenario = keys_scenario(line.workdir, "caller_wrong_pins", wrong)
    result = line.sipp(scenario, [(UNKNOWN_NUMBER, "", "Borrowed phone")])
    assert_sipp_ok(line, scenario, result)
    assert line.ivr_json("faults", "list") == []
    (call,) = line.ivr_json("calls", "list")
    assert (call["outcome"], call["verified"]) == ("rejected", False)

    # Two more wrong PINs make five in the hour: the account locks, and stays
    # locked after a kill -9 and a restart, even for the right PIN.
    more = typed(f"{ACCOUNT}#3333#") + typed(f"{ACCOUNT}#4444#", 2500)
    more += typed(f"{ACCOUNT}#{PIN}#", 2500)
    scenario = keys_scenario(line.workdir, "caller_locks_out", more)
    assert_sipp_ok(line, scenario, line.sipp(scenario, [(UNKNOWN_NUMBER, "", "Borrowed")]))
    line.stop(signal.SIGKILL)
    line.start()
    right = typed(f"{ACCOUNT}#{PIN}#") + [("3", 2500), ("1", 1200)]
    scenario = keys_scenario(line.workdir, "caller_right_pin_locked", right)
    assert_sipp_ok(line, scenario, line.sipp(scenario, [(UNKNOWN_NUMBER, "", "Borrowed")]))
    assert line.ivr_json("faults", "list") == []
    shown = line.ivr_json("customers", "show", ACCOUNT)
    assert shown["locked_until"] is not None
