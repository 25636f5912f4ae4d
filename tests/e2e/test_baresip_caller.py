"""baresip as an independent caller: a whole report, and prompts really heard."""

from __future__ import annotations

import wave
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from ivr.config import load_config
from ivr.flow.speech import Prompt
from ivr.prompts import PromptLibrary
from tests.e2e.baresip_phone import BaresipPhone
from tests.e2e.conftest import KNOWN_NUMBER, FaultLine
from tests.ports import free_port

FRAME = 160  # 20 ms at 8 kHz
SPEECH_LEVEL = 200.0  # RMS of a 20 ms frame that counts as sound, not line silence


def heard(path: Path) -> np.ndarray:
    with wave.open(str(path)) as wav:
        assert wav.getframerate() == 8000 and wav.getnchannels() == 1
        return np.frombuffer(wav.readframes(wav.getnframes()), dtype="<i2").astype(np.float64)


def sound_seconds(samples: np.ndarray) -> float:
    """From the first to the last frame with sound in it."""
    frames = samples[: len(samples) // FRAME * FRAME].reshape(-1, FRAME)
    loud = np.flatnonzero(np.sqrt(np.mean(frames**2, axis=1)) > SPEECH_LEVEL)
    return 0.0 if len(loud) == 0 else (loud[-1] - loud[0] + 1) * FRAME / 8000


@pytest.fixture
def phone(tmp_path: Path) -> Iterator[Any]:
    phones: list[BaresipPhone] = []

    def make(number: str) -> BaresipPhone:
        made = BaresipPhone(tmp_path, number, free_port(), free_port())
        phones.append(made)
        return made

    yield make
    for made in phones:
        made.remove()


def test_baresip_reports_a_fault_end_to_end(fault_line: FaultLine, phone: Any) -> None:
    caller: BaresipPhone = phone(KNOWN_NUMBER)
    caller.dial(f"sip:02033551151@127.0.0.1:{fault_line.port}")
    caller.press("21")
    caller.wait_event("CALL_CLOSED", timeout=90)
    (fault,) = fault_line.ivr_json("faults", "list")
    assert fault["priority"] == "high"
    (call,) = fault_line.ivr_json("calls", "list")
    assert call["outcome"] == "reported"
    assert call["digits"] == "21"
    samples = heard(caller.heard)
    assert sound_seconds(samples) > 2.0, "the caller heard prompts, not silence"


def test_unknown_caller_hears_the_whole_explanation(fault_line: FaultLine, phone: Any) -> None:
    caller: BaresipPhone = phone("01614960999")
    caller.dial(f"sip:02033551151@127.0.0.1:{fault_line.port}")
    caller.wait_event("CALL_CLOSED", timeout=60)
    config = load_config(fault_line.config_path)
    library = PromptLibrary(config.prompts, config.support)
    expected = len(library.audio((Prompt("greeting"), Prompt("unknown_caller")))) / 2 / 8000
    got = sound_seconds(heard(caller.heard))
    # What the caller heard lasts as long as what we sent, give or take the
    # quiet edges of the first and last words and a packet or two.
    assert abs(got - expected) < max(0.4, expected * 0.15), (got, expected)
    (call,) = fault_line.ivr_json("calls", "list")
    assert call["outcome"] == "rejected"
