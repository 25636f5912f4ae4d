"""Keys sent as tones, and a description kept when the caller hangs up mid-sentence."""

from __future__ import annotations

import hashlib
import subprocess
import wave
from typing import Any

import numpy as np

from tests.e2e.conftest import KNOWN_NUMBER, REPO, FaultLine
from tests.e2e.test_spine import assert_sipp_ok

MAKE_INBAND = REPO / "tests" / "data" / "make_inband_dtmf.sh"


def write_inband_call_audio(line: FaultLine) -> None:
    """'3', 1.5 s, '1' as tones, then 14 s of a voice-band sound: the caller hears the
    reference and what happens next, then describes the fault until hanging up."""
    keys = line.workdir / "keys.ul"
    talk = line.workdir / "talk.ul"
    subprocess.run([str(MAKE_INBAND), str(keys), "3", "1500ms", "1"], check=True)
    subprocess.run(
        ["sox", "-D", "-n", "-r", "8000", "-c", "1", "-t", "ul", str(talk),
         "synth", "14", "sine", "300-900", "tremolo", "4", "gain", "-12"],
        check=True,
    )  # fmt: skip
    (line.workdir / "inband.ul").write_bytes(keys.read_bytes() + talk.read_bytes())


def test_inband_keys_report_a_fault_and_a_hang_up_keeps_the_description(
    fault_line_factory: Any,
) -> None:
    line: FaultLine = fault_line_factory(recording={"silence_seconds": "3"})
    write_inband_call_audio(line)
    result = line.sipp("caller_inband.xml", [(KNOWN_NUMBER, "", "Acme desk")])
    assert_sipp_ok(line, "caller_inband.xml", result)

    (call,) = line.ivr_json("calls", "list")
    assert call["digits"] == "31"  # each tone counted once
    assert call["outcome"] == "reported"
    (fault,) = line.ivr_json("faults", "list")
    assert fault["priority"] == "critical"

    recordings = line.ivr_json("faults", "show", fault["reference"])["recordings"]
    assert len(recordings) == 1
    recording = recordings[0]
    assert recording["ended_by"] == "hangup"
    assert recording["seconds"] > 0.5
    # The checksum kept is that of the file as it lies on disk, header included.
    with open(recording["path"], "rb") as stored:
        assert recording["sha256"] == hashlib.sha256(stored.read()).hexdigest()
    with wave.open(recording["path"]) as wav:
        assert wav.getframerate() == 8000
        samples = np.frombuffer(wav.readframes(wav.getnframes()), dtype="<i2")
    assert len(samples) > 4000
    rms = float(np.sqrt(np.mean(samples.astype(np.float64) ** 2)))
    assert rms > 300, "the description is not silence"


def test_a_video_phone_reports_a_fault_with_its_video_declined(fault_line: FaultLine) -> None:
    scenario = "caller_report_video.xml"
    result = fault_line.sipp(scenario, [(KNOWN_NUMBER, "2", "Video desk")])
    assert_sipp_ok(fault_line, scenario, result)
    (fault,) = fault_line.ivr_json("faults", "list")
    assert fault["priority"] == "high"


def test_info_with_application_dtmf_counts_though_the_engine_answers_488(
    fault_line: FaultLine,
) -> None:
    result = fault_line.sipp("caller_info_dtmf.xml", [(KNOWN_NUMBER, "", "Acme desk")])
    assert_sipp_ok(fault_line, "caller_info_dtmf.xml", result)
    (call,) = fault_line.ivr_json("calls", "list")
    assert call["digits"].startswith("31")  # the choice, the confirmation: once each
    assert call["outcome"] == "reported"
    (fault,) = fault_line.ivr_json("faults", "list")
    assert fault["priority"] == "critical"


def test_payload_type_101_and_a_wrong_key_then_info(fault_line: FaultLine) -> None:
    result = fault_line.sipp("caller_pt101_info.xml", [(KNOWN_NUMBER, "", "Acme desk")])
    assert_sipp_ok(fault_line, "caller_pt101_info.xml", result)
    (call,) = fault_line.ivr_json("calls", "list")
    assert call["digits"].startswith("731")  # wrong key, the choice, the confirmation
    assert call["outcome"] == "reported"
    (fault,) = fault_line.ivr_json("faults", "list")
    assert fault["priority"] == "critical"
