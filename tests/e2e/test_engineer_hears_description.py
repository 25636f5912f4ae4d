"""The engineer hears the customer's own words: press 3 on the page call, over real SIP/RTP.

A SIPp customer reports a critical fault and describes it with a steady
tone, cut by the recording's time limit (4 s); the SIPp engineer, rung at
once, answers while the customer is still speaking, presses 3 once the
recording is kept (after 18 s), then 1. dumpcap records
the RTP the engineer receives: the tone in it lasts as long as the tone in
the kept recording, within two packets, so the whole description (no more,
no less) reached the engineer's phone.
"""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

from ivr.store.db import Database
from ivr.store.faults import DESCRIPTION_PLAYED, find_fault, timeline_entries
from tests.e2e.conftest import KNOWN_NUMBER, SCENARIOS, FaultLine
from tests.e2e.rtp_capture import Capture, received_audio, tone_frames, wav_audio
from tests.e2e.test_paging import engineers
from tests.e2e.test_spine import assert_sipp_ok
from tests.ports import free_port

TONE_HZ = 2200.0  # far from every DTMF frequency, so never heard as a key
# Long enough that the engineer presses 3 (after 18 s) before the page gives up.
PAGING = {
    "levels": "oncall:20:1:0:0, next:3:1:0:0",
    "repeats": "1",
    "message_plays": "5",
    "key_timeout": "10",
}


def write_talk(line: FaultLine) -> None:
    """1 s of a steady tone for the customer to say, looped (speech prompts never hold one)."""
    subprocess.run(
        ["sox", "-D", "-n", "-r", "8000", "-c", "1", "-t", "ul", str(line.workdir / "talk.ul"),
         "synth", "1", "sine", str(TONE_HZ), "gain", "-12"],
        check=True,
    )  # fmt: skip


def engineer_phone(line: FaultLine, media_port: int) -> str:
    """SIPp answering as the engineer, its RTP on `media_port` (captured); returns its URI."""
    port = free_port()
    process = subprocess.Popen(
        [
            "sipp",
            "-sf",
            str(SCENARIOS / "engineer_hears_description.xml"),
            "-i",
            "127.0.0.1",
            "-p",
            str(port),
            "-mp",
            str(media_port),
            "-m",
            "1",
            "-nostdin",
            "-trace_err",
            "-error_file",
            str(line.workdir / "engineer-errors.log"),
        ],  # fmt: skip
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        text=True,
        cwd=line.workdir,
    )
    line.phones.append(process)
    return f"sip:engineer@127.0.0.1:{port}"


def test_engineer_presses_3_and_hears_the_recorded_description(
    fault_line_factory: Any, database: str, tmp_path: Path
) -> None:
    line: FaultLine = fault_line_factory(
        start=False, paging=PAGING, recording={"silence_seconds": "1", "max_seconds": "4"}
    )
    write_talk(line)
    media_port = free_port()
    engineers(line, engineer_phone(line, media_port), line.phone("engineer_busy.xml"))
    line.start()
    with Capture(tmp_path / "engineer.pcap", media_port) as capture:
        result = line.sipp("caller_reports_and_describes.xml", [(KNOWN_NUMBER, "3", "Acme desk")])
        assert_sipp_ok(line, "caller_reports_and_describes.xml", result)
        line.wait_for_output(r"page \d+: 1 recording\(s\) played to alice")
        line.wait_for_output(r"page \d+ step .*: acknowledged \(alice\) -> page acknowledged")
    assert line.phones[0].wait(timeout=30) == 0
    (fault,) = line.ivr_json("faults", "list")
    (recording,) = line.ivr_json("faults", "show", fault["reference"])["recordings"]
    recorded = tone_frames(wav_audio(Path(recording["path"])), TONE_HZ)
    heard = tone_frames(received_audio(capture.path), TONE_HZ)
    assert recorded >= 150, f"the customer's tone was hardly recorded ({recorded} frames)"
    assert abs(heard - recorded) <= 2, f"engineer heard {heard} tone packets of {recorded}"
    db = Database(database)
    try:
        with db.sessions() as session:
            stored = find_fault(session, fault["reference"])
            assert stored is not None
            kinds = [(e.kind, e.author) for e in timeline_entries(session, stored)]
    finally:
        db.dispose()
    assert (DESCRIPTION_PLAYED, "alice") in kinds
    assert ("acknowledged", "alice") in kinds or ("acknowledged", "paging") in kinds
