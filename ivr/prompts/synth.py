"""Speech synthesis through pyttsx3's espeak driver: the only code that imports pyttsx3.

espeak runs headless here (pyttsx3 uses its retrieval mode, no sound
device). It is a process-wide C library, so callers serialise access to a
Synthesiser with a lock; one Synthesiser is made per PromptLibrary and
reused for every text.
"""

from __future__ import annotations

import contextlib
import io
import tempfile
import wave
from pathlib import Path
from typing import Any

import numpy as np

from ivr.prompts.catalogue import PromptError
from ivr.prompts.dsp import Samples, decode_frames

DRIVER = "espeak"
ATTEMPTS = 3


class _NoFile(Exception):
    """The driver finished without writing its file (retried like an empty one)."""


class Synthesiser:
    """Renders text to mono float samples with one reused pyttsx3 engine."""

    def __init__(self, voice: str, rate: int, volume: float) -> None:
        import pyttsx3

        try:
            self._engine: Any = pyttsx3.init(DRIVER)
        except (RuntimeError, OSError, ImportError) as exc:
            raise PromptError(f"cannot start pyttsx3 with the {DRIVER} driver: {exc}") from None
        self.voice = self._check_voice(voice)
        self.rate = rate
        self.volume = volume
        self._errors: list[BaseException] = []
        self._token = self._engine.connect("error", self._on_error)
        self._workdir = tempfile.TemporaryDirectory(prefix="ivr-tts-")

    def _check_voice(self, voice: str) -> str:
        voices = self._engine.getProperty("voices")
        wanted = voice.lower()
        for candidate in voices:
            if wanted in (str(candidate.id).lower(), str(candidate.name).lower()):
                return voice
        english = sorted(str(v.id) for v in voices if "en" in str(v.id).lower().split("/")[-1])
        raise PromptError(
            f"voice {voice!r} is not installed for espeak; English voices: {', '.join(english)}"
        )

    def _on_error(self, name: object = None, exception: BaseException | None = None) -> None:
        self._errors.append(exception or RuntimeError("pyttsx3 reported an error"))

    def render(self, text: str) -> tuple[Samples, int]:
        """Speak `text` and return (mono samples, sample rate).

        pyttsx3's espeak driver now and then saves an empty file, or none at
        all (it drops the audio that arrives with espeak's end-of-message
        event), so such a result is rendered again before giving up.
        """
        problem = "no sound"
        for _ in range(ATTEMPTS):
            try:
                samples, rate = self._render_once(text)
            except _NoFile as exc:
                problem = str(exc)
                continue
            if len(samples) and np.any(samples):
                return samples, rate
        raise PromptError(f"the synthesiser produced {problem} in {ATTEMPTS} attempts")

    def _render_once(self, text: str) -> tuple[Samples, int]:
        path = Path(self._workdir.name) / "speech.wav"
        path.unlink(missing_ok=True)
        self._errors.clear()
        engine = self._engine
        # The engine may be shared (pyttsx3.init reuses one per driver), so the
        # voice is set for every text; queued settings apply in runAndWait.
        engine.setProperty("voice", self.voice)
        engine.setProperty("rate", self.rate)
        engine.setProperty("volume", self.volume)
        engine.save_to_file(text, str(path))
        try:
            # The espeak driver prints "Audio saved to ..." for every file.
            with contextlib.redirect_stdout(io.StringIO()):
                engine.runAndWait()
        except RuntimeError as exc:
            raise PromptError(f"speech synthesis failed: {exc}") from None
        if self._errors:
            raise PromptError(f"speech synthesis failed: {self._errors[0]}")
        if not path.exists():
            raise _NoFile("no audio file")
        try:
            with wave.open(str(path), "rb") as wav:
                rate = wav.getframerate()
                frames = wav.readframes(wav.getnframes())
                samples = decode_frames(frames, wav.getsampwidth(), wav.getnchannels())
        except (OSError, EOFError, wave.Error) as exc:
            raise PromptError(f"speech synthesis wrote no usable audio: {exc}") from None
        mono = samples.mean(axis=1) if samples.shape[1] > 1 else samples[:, 0]
        return np.ascontiguousarray(mono), rate

    def close(self) -> None:
        self._engine.disconnect(self._token)
        self._workdir.cleanup()
