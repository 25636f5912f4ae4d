"""The caller's description: silence detection and a WAV kept whatever ends it."""

from __future__ import annotations

import wave
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

from ivr.audio.description_recorder import Recorder
from ivr.audio.silence import SilenceDetector

RATE = 8000
STARTED = datetime(2026, 11, 25, 14, 0, tzinfo=UTC)


def tone(seconds: float, level: float = 0.3) -> bytes:
    t = np.arange(int(RATE * seconds)) / RATE
    return (np.sin(2 * np.pi * 440 * t) * level * 32767).astype("<i2").tobytes()


def quiet(seconds: float) -> bytes:
    rng = np.random.default_rng(1)
    noise = rng.normal(0, 20, int(RATE * seconds))  # about -64 dBFS line noise
    return noise.astype("<i2").tobytes()


def test_speech_then_enough_silence_is_detected() -> None:
    detector = SilenceDetector(silence_seconds=1.0)
    assert not detector.feed(tone(2.0))
    assert not detector.feed(quiet(0.9))
    assert detector.feed(quiet(0.2))
    assert detector.heard_speech


def test_short_pauses_do_not_end_it_and_odd_chunk_sizes_are_fine() -> None:
    detector = SilenceDetector(silence_seconds=1.0)
    audio = tone(1.0) + quiet(0.5) + tone(1.0) + quiet(0.5)
    for start in range(0, len(audio), 322):  # not a multiple of a frame
        assert not detector.feed(audio[start : start + 322])


def recorder(tmp_path: Path, max_seconds: float = 10.0, silence: float = 1.0) -> Recorder:
    return Recorder(tmp_path, "471203", STARTED, max_seconds, silence, now=0.0)


def test_hang_up_keeps_what_was_said(tmp_path: Path) -> None:
    rec = recorder(tmp_path)
    assert rec.feed(tone(1.5), now=1.5) is None
    finished = rec.finish("hangup")
    assert finished.ended_by == "hangup"
    assert abs(finished.seconds - 1.5) < 0.01
    with wave.open(str(finished.path)) as wav:
        assert (wav.getnchannels(), wav.getsampwidth(), wav.getframerate()) == (1, 2, RATE)
        assert wav.getnframes() == int(RATE * 1.5)
    assert len(finished.sha256) == 64


def test_time_limit_clips_the_recording(tmp_path: Path) -> None:
    rec = recorder(tmp_path, max_seconds=1.0)
    assert rec.feed(tone(1.5), now=1.5) == "limit"
    assert rec.finish("key").seconds == 1.0


def test_no_audio_at_all_still_ends_by_the_clock(tmp_path: Path) -> None:
    rec = recorder(tmp_path, max_seconds=30.0, silence=2.0)
    assert rec.check(now=1.0) is None
    assert rec.check(now=2.5) == "silence"
    assert rec.finish("hangup").ended_by == "silence"
