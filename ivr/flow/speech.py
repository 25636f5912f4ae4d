"""What the call flow asks to be said, as data.

The flow never names audio files: it names prompts from the catalogue and
dynamic items (a reference to read digit by digit, an opening time). The
prompt library turns each part into audio from cached pieces, so a call
never waits for speech synthesis.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True)
class Prompt:
    """A prompt from the catalogue, by id (prompts/<language>.toml)."""

    id: str


@dataclass(frozen=True)
class Digits:
    """Digits read one by one, in pairs with a short pause ("four seven, one two")."""

    digits: str

    def __post_init__(self) -> None:
        if not self.digits.isdigit():
            raise ValueError(f"Digits takes only 0-9, got {self.digits!r}")


@dataclass(frozen=True)
class Moment:
    """A local date and time said naturally relative to `now` ("on Tuesday at 9 a.m.")."""

    at: datetime
    now: datetime


@dataclass(frozen=True)
class Minutes:
    """A span of time said in words ("fifteen minutes", "two hours and five minutes"),
    for how long is left before a deadline."""

    minutes: int

    def __post_init__(self) -> None:
        if not 1 <= self.minutes < 60 * 60:
            raise ValueError(f"Minutes takes 1 to 3599, got {self.minutes}")


@dataclass(frozen=True)
class Text:
    """Free text the operator wrote (an outage message, a customer's name).

    Synthesised when it is stored, not when it is played, so it is ready by
    the time a call needs it.
    """

    text: str


@dataclass(frozen=True)
class Tone:
    """A plain sine tone, such as the beep before a recording starts."""

    frequency: float = 1000.0
    seconds: float = 0.4


@dataclass(frozen=True)
class WavFile:
    """A WAV file played as it was recorded (a caller's description, to the engineer).

    The one part that is not the catalogue's voice: the engineer must hear
    the customer's own words, not a summary of them.
    """

    path: str


SpeechPart = Prompt | Digits | Moment | Minutes | Text | Tone | WavFile
