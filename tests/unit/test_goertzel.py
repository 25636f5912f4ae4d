"""The in-band DTMF detector, against tones made by sox and speech made by espeak-ng.

Audio is generated once per test session into a temporary directory (no
binaries in the repository); noise comes from a seeded generator or sox's
repeatable mode, so every run hears the same samples.
"""

from __future__ import annotations

import itertools
import subprocess
from collections.abc import Callable, Iterable
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pytest

from ivr.dtmf import InbandDetector, ToneEvent
from ivr.dtmf.goertzel import COLUMN_HZ, KEYPAD, KEYS, ROW_HZ

RATE = 8000
SCRIPT = Path(__file__).parent.parent / "data" / "make_inband_dtmf.sh"
# Event times come from 12.75 ms windows half a window apart: good to about 4 ms.
SLACK = 0.006

Samples = npt.NDArray[np.int16]
ToneMaker = Callable[..., Samples]

SPEECH = {
    "digits": "One two three four five six seven eight nine zero. Star. Hash. Pound. Oh.",
    "menu": (
        "Thank you for calling the CLI SECURE fault line. If your alarm is sounding now, "
        "press one. To report a fault that is not urgent, press two. To hear these options "
        "again, press star."
    ),
    "numbers": (
        "Your reference is seven nine seven, one two zero nine, three three six. "
        "That is seven hundred and ninety seven, twelve oh nine."
    ),
    "record": "Please describe the fault after the tone. Press hash when you have finished.",
    "frequencies": "Nine four one, one six three three, eight five two, fourteen seventy seven.",
    "caller": "Hello? Hello! Is anybody there? The panel keeps beeping, beep beep beep.",
}
# Voice and pitch (0-99) per sentence: low and high, male and female voices.
VOICES = {
    "digits": ("en-gb", 50),
    "menu": ("en-gb+f3", 70),
    "numbers": ("en-us", 40),
    "record": ("en-us+f4", 90),
    "frequencies": ("en-gb+m3", 20),
    "caller": ("en-gb+f5", 99),
}


def sox(*args: str | int | Path) -> None:
    subprocess.run(["sox", *map(str, args)], check=True, capture_output=True)


def read_s16(path: Path) -> Samples:
    return np.fromfile(path, dtype="<i2")


def silence(seconds: float) -> Samples:
    return np.zeros(round(seconds * RATE), dtype=np.int16)


def add_noise(signal: Samples, snr_db: float, seed: int) -> Samples:
    """White noise at `snr_db` below the signal's tone power (measured where it is not silent)."""
    loud = signal[signal != 0].astype(np.float64)
    sigma = np.sqrt(np.mean(loud**2) / 10 ** (snr_db / 10))
    noisy = signal + np.random.default_rng(seed).normal(0.0, sigma, len(signal))
    return np.clip(np.round(noisy), -32768, 32767).astype(np.int16)


def detect(
    samples: Samples, chunk_bytes: int | Iterable[int] = 320, start: float = 0.0
) -> list[ToneEvent]:
    """Feed the audio as a receiver would, chunk by chunk, stamping each chunk's first byte."""
    data = samples.astype("<i2").tobytes()
    sizes = itertools.repeat(chunk_bytes) if isinstance(chunk_bytes, int) else iter(chunk_bytes)
    detector = InbandDetector()
    events: list[ToneEvent] = []
    offset = 0
    for size in sizes:
        if offset >= len(data):
            break
        events += detector.feed(data[offset : offset + size], start + offset / 2 / RATE)
        offset += size
    return events


def presses(events: list[ToneEvent]) -> list[tuple[str, str]]:
    return [(e.key, e.kind) for e in events]


def expected(keys: str) -> list[tuple[str, str]]:
    return [pair for key in keys for pair in ((key, "down"), (key, "up"))]


@pytest.fixture(scope="session")
def audio_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("dtmf-audio")


@pytest.fixture(scope="session")
def tone(audio_dir: Path) -> ToneMaker:
    """A key's dual tone from sox, 16-bit at 8 kHz, peak at `level` dBFS; cached per session."""
    cache: dict[tuple[str, float, float, float, float], Samples] = {}

    def make(
        key: str,
        seconds: float = 0.1,
        level: float = -3.0,
        twist_db: float = 0.0,
        detune: float = 0.0,
    ) -> Samples:
        spec = (key, seconds, level, twist_db, detune)
        if spec not in cache:
            row = next(r for r, keys in enumerate(KEYPAD) if key in keys)
            col = KEYPAD[row].index(key)
            path = audio_dir / f"tone-{len(cache)}.s16"
            high = 10 ** (twist_db / 20)
            sox(
                "-D", "-r", RATE, "-n", "-b", "16", "-e", "signed-integer", "-c", "1",
                "-t", "raw", path,
                "synth", f"{seconds}",
                "sine", f"{ROW_HZ[row] * (1 + detune)}",
                "sine", f"{COLUMN_HZ[col] * (1 + detune)}",
                "remix", "-m", f"1v0.5,2v{0.5 * high}",
                "gain", "-n", f"{level}",
            )  # fmt: skip
            cache[spec] = read_s16(path)
        return cache[spec]

    return make


@pytest.fixture(scope="session")
def speech(audio_dir: Path) -> dict[str, Samples]:
    """Each sentence spoken by espeak-ng, resampled by sox to 8 kHz 16-bit mono."""
    out = {}
    for name, text in SPEECH.items():
        voice, pitch = VOICES[name]
        wav = audio_dir / f"speech-{name}.wav"
        raw = audio_dir / f"speech-{name}.s16"
        subprocess.run(
            ["espeak-ng", "-v", voice, "-p", str(pitch), "-w", str(wav), text],
            check=True,
            capture_output=True,
        )
        sox(wav, "-D", "-r", RATE, "-b", "16", "-e", "signed-integer", "-c", "1", "-t", "raw", raw)
        out[name] = read_s16(raw)
    return out


def every_key(tone: ToneMaker, level: float) -> tuple[Samples, list[float]]:
    """All 16 keys, 100 ms each with 100 ms gaps; and when each tone starts."""
    parts, starts, t = [silence(0.1)], [], 0.1
    for key in KEYS:
        starts.append(t)
        parts += [tone(key, 0.1, level), silence(0.1)]
        t += 0.2
    return np.concatenate(parts), starts


# Detection


@pytest.mark.parametrize("level", [-3.0, -10.0, -20.0, -30.0])
def test_every_key_at_every_level_is_one_press_at_the_right_time(
    tone: ToneMaker, level: float
) -> None:
    audio, starts = every_key(tone, level)
    events = detect(audio)
    assert presses(events) == expected(KEYS)
    downs = [e.at for e in events if e.kind == "down"]
    ups = [e.at for e in events if e.kind == "up"]
    assert downs == pytest.approx(starts, abs=SLACK)
    assert ups == pytest.approx([s + 0.1 for s in starts], abs=SLACK)


@pytest.mark.parametrize("level", [-3.0, -30.0])
def test_every_key_is_found_in_white_noise_at_15_db_snr(tone: ToneMaker, level: float) -> None:
    audio, _ = every_key(tone, level)
    assert presses(detect(add_noise(audio, snr_db=15.0, seed=int(-level)))) == expected(KEYS)


def test_a_40_ms_tone_is_a_press_wherever_it_falls_in_the_windows(tone: ToneMaker) -> None:
    for key in KEYS:
        for offset in range(0, 51, 10):  # a window is 102 samples, one starts every 51
            audio = np.concatenate([silence(0.05 + offset / RATE), tone(key, 0.04), silence(0.1)])
            assert presses(detect(audio)) == expected(key), (key, offset)


def test_a_20_ms_tone_is_never_a_press(tone: ToneMaker) -> None:
    for key in KEYS:
        for offset in range(0, 51, 10):
            audio = np.concatenate([silence(0.05 + offset / RATE), tone(key, 0.02), silence(0.1)])
            assert detect(audio) == [], (key, offset)


def test_three_then_one_are_two_presses_in_order_with_their_times(tone: ToneMaker) -> None:
    audio = np.concatenate(
        [silence(0.3), tone("3", 0.12), silence(1.0), tone("1", 0.12), silence(0.3)]
    )
    events = detect(audio, start=50.0)
    assert presses(events) == expected("31")
    assert [e.at for e in events] == pytest.approx([50.3, 50.42, 51.42, 51.54], abs=SLACK)


def test_a_key_held_for_a_second_is_one_press(tone: ToneMaker) -> None:
    events = detect(np.concatenate([silence(0.2), tone("5", 1.0), silence(0.2)]))
    assert presses(events) == expected("5")
    assert events[1].at - events[0].at == pytest.approx(1.0, abs=2 * SLACK)


def test_a_10_ms_dropout_does_not_split_a_press_but_a_40_ms_pause_does(
    tone: ToneMaker,
) -> None:
    """Q.24: an interruption of up to 10 ms is still the same press; 40 ms apart are two."""
    for gap, keys in ((0.01, "9"), (0.04, "99")):
        held = tone("9", 0.2 + gap).copy()
        held[round(0.1 * RATE) : round((0.1 + gap) * RATE)] = 0
        audio = np.concatenate([silence(0.1), held, silence(0.1)])
        assert presses(detect(audio)) == expected(keys), gap


def test_a_new_key_straight_after_another_ends_the_first(tone: ToneMaker) -> None:
    audio = np.concatenate([silence(0.1), tone("1", 0.1), tone("2", 0.1), silence(0.1)])
    events = detect(audio)
    assert presses(events) == expected("12")
    assert [e.at for e in events] == sorted(e.at for e in events)


# What the checks accept and reject


def test_twist_within_q24_limits_is_accepted(tone: ToneMaker) -> None:
    for twist in (8.0, -4.0):  # high tone 8 dB up (normal), low tone 4 dB up (reverse)
        for key in KEYS:
            audio = np.concatenate([silence(0.1), tone(key, twist_db=twist), silence(0.1)])
            assert presses(detect(audio)) == expected(key), (key, twist)


def test_twist_well_beyond_the_limits_is_rejected(tone: ToneMaker) -> None:
    for twist in (12.0, -8.0):
        for key in KEYS:
            audio = np.concatenate([silence(0.1), tone(key, twist_db=twist), silence(0.1)])
            assert detect(audio) == [], (key, twist)


def test_tones_off_by_1_5_percent_are_accepted_and_by_3_5_percent_rejected(
    tone: ToneMaker,
) -> None:
    for key in KEYS:
        for detune, keys in ((0.015, key), (-0.015, key), (0.035, ""), (-0.035, "")):
            audio = np.concatenate([silence(0.1), tone(key, detune=detune), silence(0.1)])
            assert presses(detect(audio)) == expected(keys), (key, detune)


def test_a_strong_second_harmonic_makes_it_not_a_key(audio_dir: Path) -> None:
    """A voiced sound has harmonics; a generated tone pair has none to speak of."""
    path = audio_dir / "harmonics.s16"
    cases = [
        # "*" (941 + 1209 Hz) with 1882 Hz at -2 dB: only the row harmonic check fails.
        ("941", "1209", "1882", "0.4"),
        # "1" (697 + 1209 Hz) with 2418 Hz at -8 dB: only the column harmonic check fails.
        ("697", "1209", "2418", "0.2"),
    ]
    for low, high, harmonic, volume in cases:
        sox(
            "-D", "-r", RATE, "-n", "-b", "16", "-e", "signed-integer", "-c", "1",
            "-t", "raw", path,
            "synth", "0.1", "sine", low, "sine", high, "sine", harmonic,
            "remix", "-m", f"1v0.5,2v0.5,3v{volume}", "gain", "-n", "-3",
            "pad", "0.1", "0.1",
        )  # fmt: skip
        assert detect(read_s16(path)) == [], harmonic


def test_without_the_harmonic_the_same_tones_are_a_key(tone: ToneMaker) -> None:
    assert presses(detect(np.concatenate([silence(0.1), tone("*"), silence(0.1)]))) == expected("*")


# What must never be a key


@pytest.mark.parametrize("name", list(SPEECH))
def test_speech_is_never_a_key(speech: dict[str, Samples], name: str) -> None:
    assert detect(speech[name]) == []


def test_speech_loud_and_through_mu_law_is_never_a_key(
    speech: dict[str, Samples], audio_dir: Path
) -> None:
    everything = np.concatenate(list(speech.values()))
    raw, loud = audio_dir / "speech-all.s16", audio_dir / "speech-loud.s16"
    everything.astype("<i2").tofile(raw)
    s16 = ("-t", "raw", "-r", RATE, "-b", "16", "-e", "signed-integer", "-c", "1")
    sox("-D", *s16, raw, *s16, loud, "gain", "-n", "-1")
    assert detect(read_s16(loud)) == []
    assert detect(mu_law_round_trip(read_s16(loud), audio_dir)) == []


def test_a_1_khz_tone_alone_is_not_a_key(audio_dir: Path) -> None:
    path = audio_dir / "1khz.s16"
    sox("-D", "-r", RATE, "-n", "-b", "16", "-e", "signed-integer", "-c", "1", "-t", "raw", path,
        "synth", "2", "sine", "1000", "gain", "-n", "-3")  # fmt: skip
    assert detect(read_s16(path)) == []


@pytest.mark.parametrize("level", ["-3", "-30"])
def test_white_noise_alone_is_not_a_key(audio_dir: Path, level: str) -> None:
    path = audio_dir / f"noise{level}.s16"
    sox("-R", "-D", "-r", RATE, "-n", "-b", "16", "-e", "signed-integer", "-c", "1", "-t", "raw",
        path, "synth", "5", "whitenoise", "gain", "-n", level)  # fmt: skip
    assert detect(read_s16(path)) == []


def test_silence_is_not_a_key() -> None:
    assert detect(silence(2.0)) == []


# The audio path


def mu_law_round_trip(samples: Samples, audio_dir: Path) -> Samples:
    """Encode to G.711 mu-law and back with sox, as the RTP path does."""
    src, ulaw, back = (audio_dir / f"ulaw.{ext}" for ext in ("s16", "ul", "back.s16"))
    samples.astype("<i2").tofile(src)
    s16 = ("-t", "raw", "-r", RATE, "-b", "16", "-e", "signed-integer", "-c", "1")
    sox("-D", *s16, src, "-t", "ul", ulaw)
    sox("-D", "-t", "ul", "-r", RATE, "-c", "1", ulaw, *s16, back)
    return read_s16(back)


@pytest.mark.parametrize("level", [-3.0, -30.0])
def test_mu_law_round_trip_still_detects_every_key(
    tone: ToneMaker, audio_dir: Path, level: float
) -> None:
    audio, _ = every_key(tone, level)
    decoded = mu_law_round_trip(audio, audio_dir)
    assert not np.array_equal(decoded, audio)  # it really was quantised
    assert presses(detect(decoded)) == expected(KEYS)


def test_chunk_sizes_do_not_change_what_is_found_or_when(tone: ToneMaker) -> None:
    audio = add_noise(every_key(tone, -20.0)[0], snr_db=20.0, seed=7)
    whole = detect(audio, chunk_bytes=len(audio) * 2)
    assert presses(whole) == expected(KEYS)
    rng = np.random.default_rng(3)
    for chunks in (
        320,  # 20 ms of 16-bit samples
        160,
        rng.integers(1, 700, size=len(audio)).tolist(),  # odd sizes split samples too
        rng.integers(1, 40, size=len(audio)).tolist(),
    ):
        events = detect(audio, chunk_bytes=chunks)
        assert presses(events) == presses(whole)
        assert [e.at for e in events] == pytest.approx([e.at for e in whole], abs=1e-9)


def test_a_16_khz_stream_works_the_same(tone: ToneMaker, audio_dir: Path) -> None:
    narrow = np.concatenate([silence(0.1), tone("7"), silence(0.1)])
    src, wide = audio_dir / "narrow.s16", audio_dir / "wide.s16"
    narrow.astype("<i2").tofile(src)
    sox("-D", "-t", "raw", "-r", RATE, "-b", "16", "-e", "signed-integer", "-c", "1", src,
        "-r", "16000", "-t", "raw", wide)  # fmt: skip
    detector = InbandDetector(sample_rate=16000)
    events = detector.feed(read_s16(wide).astype("<i2").tobytes(), 0.0)
    assert presses(events) == expected("7")
    assert events[0].at == pytest.approx(0.1, abs=SLACK)


def test_too_low_a_sample_rate_is_refused() -> None:
    with pytest.raises(ValueError, match="8000"):
        InbandDetector(sample_rate=4000)


def test_tone_events_validate_themselves() -> None:
    with pytest.raises(ValueError, match="not a DTMF key"):
        ToneEvent("E", "down", 0.0)
    with pytest.raises(ValueError, match="'down' or 'up'"):
        ToneEvent("1", "held", 0.0)  # type: ignore[arg-type]


# The SIPp helper


def soxi(path: Path) -> dict[str, str]:
    out = subprocess.run(["soxi", str(path)], check=True, capture_output=True, text=True).stdout
    return {k.strip(): v.strip() for k, _, v in (line.partition(":") for line in out.splitlines())}


@pytest.mark.parametrize("name", ["dial.ul", "dial.wav"])
def test_make_inband_dtmf_writes_mu_law_that_dials_3_then_1(audio_dir: Path, name: str) -> None:
    out = audio_dir / name
    subprocess.run(["sh", SCRIPT, out, "3", "1000ms", "1"], check=True, capture_output=True)

    info = soxi(out)
    assert info["Sample Rate"] == "8000"
    assert info["Channels"] == "1"
    assert info["Sample Encoding"] == "8-bit u-law"
    # 200 ms lead, 100 ms tone + 100 ms gap, 1 s pause, tone + gap
    assert info["Duration"].startswith("00:00:01.60 = 12800 samples")
    if name.endswith(".ul"):
        assert out.stat().st_size == 12800  # no header: SIPp 3.6 streams the bytes as they are

    decoded = audio_dir / f"{name}.s16"
    sox("-D", out, "-t", "raw", "-e", "signed-integer", "-b", "16", decoded)
    events = detect(read_s16(decoded))
    assert presses(events) == expected("31")
    assert [e.at for e in events] == pytest.approx([0.2, 0.3, 1.4, 1.5], abs=SLACK)


def test_make_inband_dtmf_refuses_what_it_cannot_play(audio_dir: Path) -> None:
    for args in (["x.mp3", "1"], ["x.ul", "E"], ["x.ul"], ["x.ul", "12ms3"]):
        result = subprocess.run(
            ["sh", SCRIPT, *(audio_dir / a if a.startswith("x.") else a for a in args)],
            capture_output=True,
            text=True,
        )
        assert result.returncode == 2, args
        assert result.stderr
