"""Prompts: the catalogue, rendering with pyttsx3, the cache, and playing from memory.

- `catalogue`: prompts/<language>.toml and the phrasing of dynamic speech (pure).
- `dsp`: resampling, trimming and normalising with numpy.
- `synth`: pyttsx3 (espeak driver), the only code that imports it.
- `recordings`: checks for recorded prompts that replace synthesised ones.
- `library`: `PromptLibrary`, which ties them together.
"""

from ivr.prompts.catalogue import (
    PLAYED_PROMPT_IDS,
    Catalogue,
    PromptError,
    default_pieces,
    digit_pairs,
    load_catalogue,
    moment_pieces,
    moment_text,
)
from ivr.prompts.library import BuildSummary, PromptLibrary
from ivr.prompts.recorded_prompts import RecordingProblem, Severity

__all__ = [
    "PLAYED_PROMPT_IDS",
    "BuildSummary",
    "Catalogue",
    "PromptError",
    "PromptLibrary",
    "RecordingProblem",
    "Severity",
    "default_pieces",
    "digit_pairs",
    "load_catalogue",
    "moment_pieces",
    "moment_text",
]
