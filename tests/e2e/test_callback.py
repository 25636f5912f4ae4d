"""The engineer calls the customer back through the line: 1, then 5, over real SIP/RTP.

SIPp plays both phones. The engineer's streams one steady tone, the
customer's another; dumpcap records the RTP each phone receives, and each
must hear the other's tone for a good stretch: audio crosses the bridge
both ways. The customer hangs up; the fault line then hangs up on the
engineer (both SIPp scenarios end cleanly). The callback is a call record
of its own, and answering it is the fault's response.
"""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from tests.e2e.conftest import KNOWN_NUMBER, SCENARIOS, FaultLine
from tests.e2e.rtp_capture import FRAME, RATE, Capture, received_audio
from tests.e2e.test_paging import engineers, report_critical
from tests.ports import free_port

ENGINEER_HZ = 1800.0  # both far from every DTMF frequency and from the 425 Hz ringback
CUSTOMER_HZ = 2200.0
# At least a second of each tone reached the other phone (about 5 s are
# bridged): counted frame by frame, not as one run, so that a frame lost on a
# loaded machine does not fail the test.
HEARD_FRAMES = 50
PAGING = {
    "levels": "oncall:10:1:0:0, next:3:1:0:0",
    "repeats": "1",
    "message_plays": "2",
    "key_timeout": "2",
    "callback": "yes",
}


def write_tone(line: FaultLine, name: str, frequency: float) -> None:
    """1 s of a steady tone as raw mu-law, for SIPp to loop (speech never holds one)."""
    subprocess.run(
        ["sox", "-D", "-n", "-r", "8000", "-c", "1", "-t", "ul", str(line.workdir / name),
         "synth", "1", "sine", str(frequency), "gain", "-12"],
        check=True,
    )  # fmt: skip


def sipp_phone(line: FaultLine, scenario: str, media_port: int, user: str) -> str:
    """SIPp answering one call with `scenario`, its RTP on `media_port`; returns its URI."""
    port = free_port()
    process = subprocess.Popen(
        ["sipp", "-sf", str(SCENARIOS / scenario), "-i", "127.0.0.1", "-p", str(port),
         "-mp", str(media_port), "-m", "1", "-nostdin", "-trace_err",
         "-error_file", str(line.workdir / f"{user}-errors.log")],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        text=True,
        cwd=line.workdir,
    )  # fmt: skip
    line.phones.append(process)
    return f"sip:{user}@127.0.0.1:{port}"


def frames_at(audio: npt.NDArray[np.float64], frequency: float) -> int:
    """How many 20 ms frames carry mostly `frequency`."""
    probe = np.exp(-2j * np.pi * frequency * np.arange(FRAME) / RATE)
    count = 0
    for start in range(0, len(audio) - FRAME + 1, FRAME):
        frame = audio[start : start + FRAME]
        energy = float(np.sum(frame**2))
        count += energy > 1e-4 and 2 * abs(np.dot(frame, probe)) ** 2 / FRAME > 0.6 * energy
    return count


def callbacks(line: FaultLine) -> list[dict[str, Any]]:
    return [call for call in line.ivr_json("calls", "list") if call["kind"] == "callback"]


def test_engineer_presses_1_then_5_and_talks_to_the_customer(
    fault_line_factory: Any, tmp_path: Path
) -> None:
    line: FaultLine = fault_line_factory(start=False, paging=PAGING)
    write_tone(line, "engineer_talk.ul", ENGINEER_HZ)
    write_tone(line, "customer_talk.ul", CUSTOMER_HZ)
    engineer_port, customer_port = free_port(), free_port()
    alice = sipp_phone(line, "engineer_calls_back.xml", engineer_port, "alice")
    engineers(line, alice, line.phone("engineer_busy.xml"))
    customer = sipp_phone(line, "customer_answers_then_hangs_up.xml", customer_port, "customer")
    alice_phone, customer_phone = line.phones[0], line.phones[-1]
    line.ivr("handsets", "set", KNOWN_NUMBER, "--contact", customer)
    line.start()
    with (
        Capture(tmp_path / "engineer.pcap", engineer_port) as to_engineer,
        Capture(tmp_path / "customer.pcap", customer_port) as to_customer,
    ):
        fault = report_critical(line)
        line.wait_for_output(r"page \d+ step .*: acknowledged \(alice\) -> page acknowledged")
        line.wait_for_output(r"page \d+: the customer answered the callback; fault responded to")
        line.wait_for_output(r"page \d+: callback ended: joined")
        assert customer_phone.wait(timeout=30) == 0  # the customer hung up cleanly
        assert alice_phone.wait(timeout=30) == 0  # and the engineer was hung up on
    engineer_heard = frames_at(received_audio(to_engineer.path), CUSTOMER_HZ)
    customer_heard = frames_at(received_audio(to_customer.path), ENGINEER_HZ)
    relay = "".join(text for text in line.output if "bridge" in text)
    assert engineer_heard >= HEARD_FRAMES, f"engineer heard {engineer_heard} frames; {relay}"
    assert customer_heard >= HEARD_FRAMES, f"customer heard {customer_heard} frames; {relay}"

    (call,) = callbacks(line)
    assert call["direction"] == "outbound" and call["outcome"] == "joined"
    assert call["fault_reference"] == fault["reference"] and call["page_id"] is not None
    assert call["answered_at"] is not None and call["ended_at"] is not None
    shown = line.ivr_json("faults", "show", fault["reference"])
    assert shown["status"] == "responded"
    cdr = line.ivr("calls", "export", "--csv").stdout.splitlines()
    header, rows = cdr[0].split(","), [row.split(",") for row in cdr[1:]]
    (back,) = [dict(zip(header, row, strict=True)) for row in rows if "callback" in row]
    assert back["dcontext"] == "callback" and back["lastapp"] == "Dial"
    assert back["disposition"] == "ANSWERED" and int(back["billsec"]) >= 1


def test_a_busy_customer_is_said_so_and_5_offered_again(fault_line_factory: Any) -> None:
    line: FaultLine = fault_line_factory(start=False, paging=PAGING)
    alice = line.phone("engineer_calls_back_twice.xml")
    engineers(line, alice, line.phone("engineer_busy.xml"))
    line.ivr("handsets", "set", KNOWN_NUMBER, "--contact", line.phone("engineer_busy.xml", 2))
    line.start()
    report_critical(line)
    # The second 5 is taken only when offered again after the first busy.
    line.wait_for_output(r"page \d+: callback ended: busy", count=2)
    assert line.phones[0].wait(timeout=30) == 0  # the page call then ended as offered
    outcomes = [call["outcome"] for call in callbacks(line)]
    assert outcomes == ["busy", "busy"]
    (fault,) = line.ivr_json("faults", "list")
    assert fault["status"] == "acknowledged"  # nobody answered: no response yet
