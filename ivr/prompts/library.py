"""The prompt library: renders the catalogue once, caches it, plays it from memory.

`build()` renders every catalogue prompt and every piece of dynamic speech
(or takes a recording in its place) into `cache_dir`; a prompt whose text
and voice settings have not changed is read from the cache and never
rendered again. `load()` brings everything into memory so that `audio()`,
which runs on the call path, only concatenates arrays.
"""

from __future__ import annotations

import hashlib
import logging
import os
import tempfile
import threading
import time
import wave
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ivr.config import PromptConfig, SupportConfig
from ivr.flow.speech import Digits, Minutes, Moment, Prompt, SpeechPart, Text, Tone, WavFile
from ivr.prompts import dsp
from ivr.prompts.catalogue import (
    Catalogue,
    PromptError,
    digit_pairs,
    load_catalogue,
    minutes_pieces,
    moment_pieces,
)
from ivr.prompts.recorded_prompts import RecordingProblem, inspect_recording, recordings_in
from ivr.prompts.synth import Synthesiser

log = logging.getLogger(__name__)

PART_GAP_SECONDS = 0.15  # between the parts of one Play
PAIR_GAP_SECONDS = 0.3  # between pairs of digits: "four seven, one two"
DIGIT_GAP_SECONDS = 0.04  # between the digits of a pair
WORD_GAP_SECONDS = 0.03  # between the words of a time ("tomorrow at nine a.m.")
# Distinct sequences of fixed prompts kept rendered (a catalogue has a few dozen).
MAX_FIXED_SEQUENCES = 512
PIPELINE_VERSION = "1"  # part of the cache key: bump when dsp changes what a prompt sounds like

Progress = Callable[[int, int, str], None]


@dataclass(frozen=True)
class BuildSummary:
    rendered: int
    cached: int
    overridden: int
    seconds: float = 0.0

    @property
    def total(self) -> int:
        return self.rendered + self.cached + self.overridden

    def __str__(self) -> str:
        return f"{self.rendered} rendered, {self.cached} cached, {self.overridden} overridden"


class PromptLibrary:
    """Every prompt the fault line can say, as 16-bit mono PCM at `sample_rate`."""

    def __init__(
        self, config: PromptConfig, support: SupportConfig, sample_rate: int = 8000
    ) -> None:
        if config.volume <= 0:
            raise PromptError("[prompts] volume must be above 0")
        self.config = config
        self.support = support
        self.sample_rate = sample_rate
        self.renders = 0  # texts synthesised by this library (a cache hit renders nothing)
        self._peak = dsp.db_to_gain(dsp.TARGET_PEAK_DBFS) * config.volume
        self._catalogue: Catalogue | None = None
        self._audio: dict[str, dsp.Pcm] = {}
        # What a Play of fixed prompts sounds like is the same for every call:
        # rendered once and shared (see `audio`).
        self._fixed: dict[tuple[SpeechPart, ...], bytes] = {}
        self._texts: dict[str, dsp.Pcm] = {}
        self._loaded = False
        self._synth: Synthesiser | None = None
        self._lock = threading.RLock()
        self._gaps = {
            seconds: dsp.silence(sample_rate, seconds)
            for seconds in (PART_GAP_SECONDS, PAIR_GAP_SECONDS, DIGIT_GAP_SECONDS, WORD_GAP_SECONDS)
        }

    # ---- the catalogue ----------------------------------------------------------------

    @property
    def catalogue(self) -> Catalogue:
        if self._catalogue is None:
            self._catalogue = load_catalogue(
                self.config.catalogue_dir, self.config.language, self.support
            )
        return self._catalogue

    def prompt_ids(self) -> list[str]:
        """The catalogue's prompt ids, in file order (pieces of dynamic speech excluded)."""
        return list(self.catalogue.prompts)

    # ---- building and loading -----------------------------------------------------------

    def build(self, progress: Progress | None = None) -> BuildSummary:
        """Render whatever is not cached yet, then hold every prompt in memory.

        A catalogue missing a prompt the code plays, or an unusable recording,
        is refused before anything is rendered, so a bad start-up fails at once.
        """
        started = time.perf_counter()
        self.catalogue.require()
        entries = self.catalogue.entries()
        recordings = {
            prompt_id: self._load_recording(prompt_id, path)
            for prompt_id, path in recordings_in(self.config.recorded_dir).items()
            if prompt_id in entries
        }
        rendered = cached = overridden = 0
        audio: dict[str, dsp.Pcm] = {}
        try:
            for done, (prompt_id, text) in enumerate(entries.items(), start=1):
                if prompt_id in recordings:
                    audio[prompt_id] = recordings[prompt_id]
                    overridden += 1
                else:
                    pcm = self._read_cache(text)
                    if pcm is None:
                        pcm = self._render(text, prompt_id)
                        rendered += 1
                    else:
                        cached += 1
                    audio[prompt_id] = pcm
                if progress is not None:
                    progress(done, len(entries), prompt_id)
        finally:
            self._close_synth()
        with self._lock:
            self._audio = audio
            self._fixed = {}
            self._loaded = True
        return BuildSummary(rendered, cached, overridden, time.perf_counter() - started)

    def load(self) -> None:
        """Make sure every prompt is in memory (building what is missing from the cache)."""
        if not self._loaded:
            self.build()

    def _load_recording(self, prompt_id: str, path: Path) -> dsp.Pcm:
        recording, problems = inspect_recording(path)
        if recording is None:
            reasons = "; ".join(p.message for p in problems if p.is_error)
            raise PromptError(f"prompt {prompt_id!r}: recording {path} cannot be used: {reasons}")
        pcm = dsp.condition(recording.samples, recording.rate, self.sample_rate, self._peak)
        if len(pcm) == 0:
            raise PromptError(f"prompt {prompt_id!r}: recording {path} has no sound in it")
        return pcm

    # ---- rendering and the cache --------------------------------------------------------

    def cache_path(self, text: str) -> Path:
        key = "|".join(
            [
                text,
                self.config.voice,
                str(self.config.rate),
                str(self.config.volume),
                str(self.sample_rate),
                PIPELINE_VERSION,
            ]
        )
        digest = hashlib.sha256(key.encode("utf-8")).hexdigest()
        return self.config.cache_dir / f"{digest}.pcm"

    def _read_cache(self, text: str) -> dsp.Pcm | None:
        try:
            data = self.cache_path(text).read_bytes()
        except FileNotFoundError:
            return None
        except OSError as exc:
            raise PromptError(f"cannot read the prompt cache: {exc}") from None
        if not data or len(data) % 2:
            return None  # a damaged entry is rendered again
        return np.frombuffer(data, dtype="<i2").astype(np.int16)

    def _write_cache(self, text: str, pcm: dsp.Pcm) -> None:
        path = self.cache_path(text)
        path.parent.mkdir(parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(dir=path.parent, suffix=".tmp")
        try:
            with os.fdopen(handle, "wb") as out:
                out.write(pcm.astype("<i2").tobytes())
            os.replace(temporary, path)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise

    def _render(self, text: str, name: str) -> dsp.Pcm:
        """Synthesise `text` through the pipeline and cache it; `name` is used in errors."""
        with self._lock:
            try:
                if self._synth is None:
                    self._synth = Synthesiser(
                        self.config.voice, self.config.rate, self.config.volume
                    )
                samples, rate = self._synth.render(text)
                pcm = dsp.condition(samples, rate, self.sample_rate, self._peak)
                if len(pcm) == 0:
                    raise PromptError("the synthesiser produced only silence")
                self._write_cache(text, pcm)
            except PromptError as exc:
                raise PromptError(f"prompt {name!r}: cannot render {text!r}: {exc}") from None
            except OSError as exc:
                raise PromptError(f"prompt {name!r}: cannot cache {text!r}: {exc}") from None
            self.renders += 1
            return pcm

    def _close_synth(self) -> None:
        with self._lock:
            if self._synth is not None:
                self._synth.close()
                self._synth = None

    # ---- free text ----------------------------------------------------------------------

    def prepare_text(self, text: str) -> None:
        """Synthesise free text ahead of time (e.g. when an announcement is saved)."""
        self._text_audio(text)

    def _text_audio(self, text: str) -> dsp.Pcm:
        text = " ".join(text.split())
        if not text:
            return dsp.silence(self.sample_rate, 0)
        pcm = self._texts.get(text)
        if pcm is None:
            pcm = self._read_cache(text)
            if pcm is None:
                pcm = self._render(text, "text")
            self._texts[text] = pcm
        return pcm

    # ---- playing ------------------------------------------------------------------------

    def _piece(self, prompt_id: str) -> dsp.Pcm:
        try:
            return self._audio[prompt_id]
        except KeyError:
            raise PromptError(f"no prompt {prompt_id!r} in {self.catalogue.path}") from None

    def audio(self, parts: Sequence[SpeechPart]) -> bytes:
        """16-bit little-endian mono PCM at `sample_rate` for one Play command.

        A Play of fixed prompts and tones (a greeting, a menu) gets the same
        bytes object every time: each call playing it used to hold a copy of
        its own while it played, 100 to 200 kB for a menu, which was most of
        the service's memory per call.
        """
        self.load()
        key = tuple(parts)
        if not all(isinstance(part, Prompt | Tone) for part in key):
            return self._joined_audio(key)
        fixed = self._fixed.get(key)
        if fixed is None:
            fixed = self._joined_audio(key)
            if len(self._fixed) < MAX_FIXED_SEQUENCES:
                self._fixed[key] = fixed
        return fixed

    def _joined_audio(self, parts: Sequence[SpeechPart]) -> bytes:
        chunks: list[dsp.Pcm] = []
        part_gap = self._gaps[PART_GAP_SECONDS]
        for part in parts:
            if chunks:
                chunks.append(part_gap)
            if isinstance(part, Prompt):
                chunks.append(self._piece(part.id))
            elif isinstance(part, Digits):
                for index, pair in enumerate(digit_pairs(part.digits)):
                    if index:
                        chunks.append(self._gaps[PAIR_GAP_SECONDS])
                    chunks += self._joined(pair, self._gaps[DIGIT_GAP_SECONDS])
            elif isinstance(part, Moment):
                chunks += self._joined(
                    moment_pieces(part.at, part.now), self._gaps[WORD_GAP_SECONDS]
                )
            elif isinstance(part, Minutes):
                chunks += self._joined(minutes_pieces(part.minutes), self._gaps[WORD_GAP_SECONDS])
            elif isinstance(part, Text):
                chunks.append(self._text_audio(part.text))
            elif isinstance(part, Tone):
                chunks.append(dsp.tone(part.frequency, part.seconds, self.sample_rate))
            elif isinstance(part, WavFile):
                chunks.append(self._wav_audio(part.path))
            else:
                raise PromptError(f"cannot say {part!r}")
        if not chunks:
            return b""
        return np.concatenate(chunks).astype("<i2", copy=False).tobytes()

    def _wav_audio(self, path: str) -> dsp.Pcm:
        """A recorded WAV as it is (already our rate, 16-bit mono), else converted.

        Not cached: each is heard rarely, and the engineer must hear the file
        as it is now. One that cannot be read is left out (and logged), so a
        lost file costs the engineer the description, never the page call.
        """
        try:
            with wave.open(path, "rb") as wav:
                channels, width, rate = wav.getnchannels(), wav.getsampwidth(), wav.getframerate()
                frames = wav.readframes(wav.getnframes())
        except (OSError, EOFError, wave.Error) as exc:
            log.error("cannot play the recording %s: %s", path, exc)
            return dsp.silence(self.sample_rate, 0)
        if (channels, width, rate) == (1, 2, self.sample_rate):
            return np.frombuffer(frames, dtype="<i2").astype(np.int16)
        recording, _problems = inspect_recording(Path(path))
        if recording is None:
            log.error("cannot play the recording %s: not a usable WAV", path)
            return dsp.silence(self.sample_rate, 0)
        return dsp.float_to_pcm(dsp.resample(recording.samples, recording.rate, self.sample_rate))

    def _joined(self, piece_ids: Sequence[str], gap: dsp.Pcm) -> list[dsp.Pcm]:
        chunks: list[dsp.Pcm] = []
        for piece_id in piece_ids:
            if chunks:
                chunks.append(gap)
            chunks.append(self._piece(piece_id))
        return chunks

    # ---- tools for operators ------------------------------------------------------------

    def say(self, text: str, out_path: Path | str) -> Path:
        """Write `text` as a WAV, exactly as a caller would hear it."""
        pcm = self._text_audio(text)
        out = Path(out_path)
        with wave.open(str(out), "wb") as wav:
            wav.setnchannels(1)
            wav.setsampwidth(2)
            wav.setframerate(self.sample_rate)
            wav.writeframes(pcm.astype("<i2").tobytes())
        return out

    def check_recordings(self) -> list[RecordingProblem]:
        """What is wrong with each file in `recorded_dir`, worst first."""
        known = set(self.catalogue.entries())
        problems: list[RecordingProblem] = []
        for path in recordings_in(self.config.recorded_dir).values():
            problems += inspect_recording(path, known)[1]
        order = {"error": 0, "warning": 1, "info": 2}
        return sorted(problems, key=lambda p: (order[p.severity.value], p.path.name))
