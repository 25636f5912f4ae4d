"""Recorded prompts: `recorded_dir/<id>.wav` files that replace synthesised speech.

`inspect_recording` reads one file and says what is wrong with it, in
words an operator can act on. The same checks decide whether the library
will use a recording, so `ivr prompts check` and start-up never disagree.
"""

from __future__ import annotations

import difflib
import wave
from collections.abc import Collection
from dataclasses import dataclass
from enum import Enum
from pathlib import Path

import numpy as np

from ivr.prompts.dsp import Samples, decode_frames, gain_to_db

MAX_SECONDS = 60.0
SILENCE_FLOOR_DBFS = -50.0  # whole-file RMS below this is silence
CLIPPED_FRACTION = 0.001  # more than this share of samples at full scale is clipping
SUPPORTED_WIDTHS = (1, 2)
# Sample rates dsp.resample is trusted with. Below 8 kHz a recording lacks the
# top of the telephone band (and 0 Hz, which a damaged header can claim, cannot
# be converted at all); above 192 kHz no recorder is plausible, and a damaged
# header claiming such a rate would have the resampler's FFT allocate gigabytes.
MIN_RATE = 8000
MAX_RATE = 192000
EXPORT_HINT = "export it as a 16-bit PCM WAV"


class Severity(Enum):
    INFO = "info"  # converted automatically, nothing to do
    WARNING = "warning"  # the file is not used, but nothing breaks
    ERROR = "error"  # the prompt cannot be used; start-up fails until it is fixed


@dataclass(frozen=True)
class RecordingProblem:
    path: Path
    severity: Severity
    message: str

    @property
    def prompt_id(self) -> str:
        return self.path.stem

    @property
    def is_error(self) -> bool:
        return self.severity is Severity.ERROR

    def __str__(self) -> str:
        return f"{self.severity.value}: {self.path.name}: {self.message}"


@dataclass(frozen=True)
class Recording:
    """A readable recording, mixed down to mono floats."""

    path: Path
    samples: Samples
    rate: int
    channels: int


def recordings_in(directory: Path) -> dict[str, Path]:
    """Prompt id -> WAV file in `directory` (none if it does not exist)."""
    if not directory.is_dir():
        return {}
    return {
        path.stem: path
        for path in sorted(directory.iterdir())
        if path.suffix.lower() == ".wav" and path.is_file()
    }


def inspect_recording(
    path: Path, known_ids: Collection[str] = ()
) -> tuple[Recording | None, list[RecordingProblem]]:
    """Read `path`; return the recording (None if unusable) and its problems."""
    problems: list[RecordingProblem] = []

    def problem(severity: Severity, message: str) -> None:
        problems.append(RecordingProblem(path, severity, message))

    if known_ids and path.stem not in known_ids:
        close = difflib.get_close_matches(path.stem, list(known_ids), n=1)
        hint = f"; did you mean {close[0]}.wav?" if close else "; rename it to <prompt id>.wav"
        problem(Severity.WARNING, f"no prompt is called {path.stem!r}, so it is not used{hint}")
    try:
        with wave.open(str(path), "rb") as wav:
            channels = wav.getnchannels()
            width = wav.getsampwidth()
            rate = wav.getframerate()
            frames = wav.readframes(wav.getnframes())
    except (wave.Error, EOFError) as exc:
        detail = str(exc) or "the file ends too soon"
        problem(Severity.ERROR, f"not a readable WAV file ({detail}); {EXPORT_HINT}")
        return None, problems
    except OSError as exc:
        problem(Severity.ERROR, f"cannot read the file ({exc.strerror}); check its permissions")
        return None, problems

    if width not in SUPPORTED_WIDTHS:
        problem(Severity.ERROR, f"{width * 8}-bit samples are not supported; {EXPORT_HINT}")
        return None, problems
    if rate < MIN_RATE:
        problem(
            Severity.ERROR,
            f"sample rate {rate} Hz is below {MIN_RATE} Hz, too low for the telephone;"
            " export it at 8000 Hz or more (16000 or 44100 Hz are fine)",
        )
        return None, problems
    if rate > MAX_RATE:
        problem(
            Severity.ERROR,
            f"sample rate {rate} Hz is above {MAX_RATE} Hz, more than the converter takes;"
            " export it at 44100 or 48000 Hz",
        )
        return None, problems
    if channels > 1:
        problem(Severity.INFO, f"has {channels} channels; they are mixed down to mono")
    samples = decode_frames(frames, width, channels)
    if len(samples) == 0:
        problem(Severity.ERROR, "contains no audio; record it again")
        return None, problems

    errors_before = sum(p.is_error for p in problems)
    seconds = len(samples) / rate
    if seconds > MAX_SECONDS:
        problem(
            Severity.ERROR,
            f"is {seconds:.0f} s long, over the {MAX_SECONDS:.0f} s limit; shorten it",
        )
    full_scale = 1.0 - 2.0 / (256 if width == 1 else 65536)  # within one step of the top
    clipped = float(np.mean(np.abs(samples) >= full_scale))
    if clipped > CLIPPED_FRACTION:
        problem(
            Severity.ERROR,
            f"is clipped ({clipped:.1%} of samples at full scale); "
            "record it again at a lower input level",
        )
    mono = samples.mean(axis=1)
    rms_db = gain_to_db(float(np.sqrt(np.mean((mono - mono.mean()) ** 2))))
    if rms_db < SILENCE_FLOOR_DBFS:
        problem(
            Severity.ERROR,
            f"is silent or nearly so (level {rms_db:.0f} dBFS, floor {SILENCE_FLOOR_DBFS:.0f});"
            " record it again closer to the microphone",
        )
    usable = sum(p.is_error for p in problems) == errors_before
    recording = Recording(path, np.ascontiguousarray(mono), rate, channels) if usable else None
    return recording, problems
