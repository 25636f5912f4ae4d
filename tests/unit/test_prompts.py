"""The prompt pipeline: catalogues, rendering and the cache, recordings, playing, phrasing.

Rendering uses the real pyttsx3/espeak voice. A module-wide cache is built
once from the short catalogue (the pieces of dynamic speech dominate the
cost), and the full catalogue then only adds its own prompts to it.
"""

from __future__ import annotations

import ast
import wave
from collections.abc import Iterator
from dataclasses import replace
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import numpy as np
import pytest
from click.testing import CliRunner, Result

from ivr.admin.cli import main
from ivr.config import PromptConfig, SupportConfig
from ivr.flow.speech import Digits, Moment, Prompt, Text, WavFile
from ivr.prompts import (
    PLAYED_PROMPT_IDS,
    PromptError,
    PromptLibrary,
    Severity,
    digit_pairs,
    dsp,
    load_catalogue,
    moment_text,
)

ROOT = Path(__file__).resolve().parents[2]
FULL = ROOT / "prompts"
SHORT = ROOT / "tests" / "data" / "prompts-short"
SUPPORT = SupportConfig()
RATE = 8000


# ---- which prompt ids the flow uses, read from its source ---------------------------------


def _is_prompt_call(node: ast.AST) -> bool:
    return (
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Name)
        and node.func.id == "Prompt"
        and len(node.args) == 1
    )


def _literal_ids(arg: ast.expr) -> set[str]:
    """A string constant, or both strings of `"a" if c else "b"`."""
    if isinstance(arg, ast.Constant) and isinstance(arg.value, str):
        return {arg.value}
    if isinstance(arg, ast.IfExp):
        return _literal_ids(arg.body) | _literal_ids(arg.orelse)
    return set()


def prompt_ids_in_source(*directories: Path) -> set[str]:
    """Ids passed to Prompt(...) under `directories`.

    Besides literal `Prompt("greeting")` (or a choice of two literals), this
    follows the two indirections the flow uses: a dict of ids
    (`Prompt(PRIORITY_PROMPTS[p])`) and a helper whose parameter goes to
    Prompt (`self._farewell("no_choice", ...)`).
    """
    ids: set[str] = set()
    for directory in directories:
        for path in sorted(directory.rglob("*.py")):
            tree = ast.parse(path.read_text(encoding="utf-8"))
            dicts: dict[str, list[str]] = {}
            helpers: dict[str, int] = {}  # function name -> index of the parameter given to Prompt
            for node in ast.walk(tree):
                if isinstance(node, ast.Assign) and isinstance(node.value, ast.Dict):
                    values = [
                        v.value
                        for v in node.value.values
                        if isinstance(v, ast.Constant) and isinstance(v.value, str)
                    ]
                    for target in node.targets:
                        if isinstance(target, ast.Name):
                            dicts[target.id] = values
                if isinstance(node, ast.FunctionDef):
                    params = [a.arg for a in node.args.args if a.arg != "self"]
                    for inner in ast.walk(node):
                        if _is_prompt_call(inner):
                            assert isinstance(inner, ast.Call)
                            arg = inner.args[0]
                            if isinstance(arg, ast.Name) and arg.id in params:
                                helpers[node.name] = params.index(arg.id)
            for node in ast.walk(tree):
                if not isinstance(node, ast.Call):
                    continue
                if _is_prompt_call(node):
                    arg = node.args[0]
                    ids.update(_literal_ids(arg))
                    if isinstance(arg, ast.Subscript) and isinstance(arg.value, ast.Name):
                        ids.update(dicts.get(arg.value.id, []))
                name = getattr(node.func, "attr", getattr(node.func, "id", None))
                if name in helpers and len(node.args) > helpers[name]:
                    ids.update(_literal_ids(node.args[helpers[name]]))
    return ids


FLOW_IDS = prompt_ids_in_source(
    *[d for d in (ROOT / "ivr" / "flow", ROOT / "ivr" / "paging") if d.is_dir()]
)
SOURCE_IDS = prompt_ids_in_source(ROOT / "ivr")  # the flows, the session, `ivr page test`


# ---- fixtures and helpers ----------------------------------------------------------------


def make_config(cache: Path, recorded: Path, catalogue: Path = SHORT) -> PromptConfig:
    return PromptConfig(catalogue_dir=catalogue, cache_dir=cache, recorded_dir=recorded)


@pytest.fixture(scope="module")
def cache_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A cache holding the short catalogue and every piece of dynamic speech."""
    cache = tmp_path_factory.mktemp("prompt-cache")
    library = PromptLibrary(make_config(cache, cache / "no-recordings"), SUPPORT, RATE)
    library.build()
    return cache


@pytest.fixture
def recorded(tmp_path: Path) -> Path:
    directory = tmp_path / "recorded"
    directory.mkdir()
    return directory


@pytest.fixture
def library(cache_dir: Path, recorded: Path) -> Iterator[PromptLibrary]:
    lib = PromptLibrary(make_config(cache_dir, recorded), SUPPORT, RATE)
    lib.load()
    yield lib


def write_wav(path: Path, samples: np.ndarray, rate: int, width: int = 2) -> Path:
    """Write float samples in [-1, 1] (shape (n,) or (n, channels)) as PCM."""
    frames = samples if samples.ndim == 2 else samples[:, None]
    if width == 1:
        data = np.clip(np.round(frames * 128 + 128), 0, 255).astype(np.uint8).tobytes()
    elif width == 2:
        data = np.clip(np.round(frames * 32768), -32768, 32767).astype("<i2").tobytes()
    else:  # 24-bit: low three bytes of int32
        ints = np.clip(np.round(frames * 2**23), -(2**23), 2**23 - 1).astype("<i4")
        data = ints.reshape(-1, 1).view(np.uint8).reshape(-1, 4)[:, :3].tobytes()
    with wave.open(str(path), "wb") as wav:
        wav.setnchannels(frames.shape[1])
        wav.setsampwidth(width)
        wav.setframerate(rate)
        wav.writeframes(data)
    return path


def tone(rate: int, seconds: float, freq: float, level: float) -> np.ndarray:
    t = np.arange(round(rate * seconds)) / rate
    return level * np.sin(2 * np.pi * freq * t)


def pcm(data: bytes) -> np.ndarray:
    return np.frombuffer(data, dtype="<i2")


# ---- catalogues -----------------------------------------------------------------------------


def test_the_flow_source_scan_finds_direct_and_indirect_ids() -> None:
    assert {"greeting", "menu", "after_hours_not_taken", "priority_critical"} <= FLOW_IDS
    assert {"page_intro", "page_reminder_intro"} <= FLOW_IDS  # "a" if reminder else "b"


def test_the_ids_the_library_requires_are_the_ones_the_source_plays() -> None:
    """PLAYED_PROMPT_IDS is what start-up checks; it must follow the code both ways."""
    assert sorted(SOURCE_IDS - PLAYED_PROMPT_IDS) == []  # played but not required
    assert sorted(PLAYED_PROMPT_IDS - SOURCE_IDS) == []  # required but never played


@pytest.mark.parametrize("directory", [FULL, SHORT], ids=["en-GB", "short"])
def test_every_prompt_the_flow_uses_is_in_the_catalogue(directory: Path) -> None:
    catalogue = load_catalogue(directory, "en-GB", SUPPORT)
    assert sorted(FLOW_IDS - set(catalogue.prompts)) == []
    assert catalogue.missing() == []
    catalogue.require()


def test_a_catalogue_missing_a_played_prompt_is_refused_before_rendering(tmp_path: Path) -> None:
    lines = (SHORT / "en-GB.toml").read_text().splitlines(keepends=True)
    trimmed = [line for line in lines if not line.startswith(("menu ", "page_options "))]
    (tmp_path / "en-GB.toml").write_text("".join(trimmed))
    library = PromptLibrary(make_config(tmp_path / "cache", tmp_path, tmp_path), SUPPORT, RATE)
    assert library.catalogue.missing() == ["menu", "page_options"]
    with pytest.raises(PromptError, match=r"en-GB.toml: missing prompt\(s\) menu, page_options;"):
        library.build()
    assert library.renders == 0 and not (tmp_path / "cache").exists()


def test_the_short_catalogue_has_the_same_ids() -> None:
    full = load_catalogue(FULL, "en-GB", SUPPORT)
    short = load_catalogue(SHORT, "en-GB", SUPPORT)
    assert list(short.prompts) == list(full.prompts)
    assert all(len(text.split()) <= 2 for text in short.prompts.values())


def test_placeholders_are_filled_from_the_support_config() -> None:
    support = SupportConfig(ticket="raise a ticket at the portal", email="help at example")
    catalogue = load_catalogue(FULL, "en-GB", support)
    text = catalogue.prompts["unknown_caller"]
    assert "please raise a ticket at the portal, or email help at example" in text
    assert not any("{" in t or "}" in t for t in catalogue.prompts.values())


def test_an_unknown_placeholder_names_the_prompt(tmp_path: Path) -> None:
    (tmp_path / "en-GB.toml").write_text('[prompts]\ngreeting = "Call {phone}."\n')
    with pytest.raises(PromptError, match=r"'greeting'.*\{phone\}"):
        load_catalogue(tmp_path, "en-GB", SUPPORT)


def test_a_missing_catalogue_names_the_file(tmp_path: Path) -> None:
    with pytest.raises(PromptError, match="fr-FR.toml"):
        load_catalogue(tmp_path, "fr-FR", SUPPORT)


# ---- rendering and the cache --------------------------------------------------------------


def test_the_full_catalogue_renders(cache_dir: Path, tmp_path: Path) -> None:
    library = PromptLibrary(make_config(cache_dir, tmp_path, FULL), SUPPORT, RATE)
    summary = library.build()
    assert summary.total == len(library.catalogue.entries())
    assert summary.rendered > 0  # its own prompts; the pieces were already cached
    for prompt_id in FLOW_IDS:
        audio = pcm(library.audio([Prompt(prompt_id)]))
        assert len(audio) > RATE // 10, prompt_id
        assert np.abs(audio).max() > 10000, prompt_id  # normalised to about -3 dBFS


def test_a_second_build_is_all_cache_hits(cache_dir: Path, recorded: Path) -> None:
    library = PromptLibrary(make_config(cache_dir, recorded), SUPPORT, RATE)
    summary = library.build()
    assert (summary.rendered, summary.overridden) == (0, 0)
    assert summary.cached == len(library.catalogue.entries())
    assert library.renders == 0
    assert str(summary) == f"0 rendered, {summary.cached} cached, 0 overridden"


def test_the_cache_key_covers_text_voice_rate_volume_and_sample_rate(tmp_path: Path) -> None:
    base = make_config(tmp_path, tmp_path)
    key = PromptLibrary(base, SUPPORT).cache_path("Hello")
    others = [
        PromptLibrary(base, SUPPORT).cache_path("Hello."),
        PromptLibrary(replace(base, voice="gmw/en"), SUPPORT).cache_path("Hello"),
        PromptLibrary(replace(base, rate=120), SUPPORT).cache_path("Hello"),
        PromptLibrary(replace(base, volume=0.5), SUPPORT).cache_path("Hello"),
        PromptLibrary(base, SUPPORT, sample_rate=16000).cache_path("Hello"),
    ]
    assert key.parent == tmp_path and key.suffix == ".pcm"
    assert key not in others and len(set(others)) == len(others)


def test_progress_is_reported_for_every_entry(cache_dir: Path, recorded: Path) -> None:
    seen: list[tuple[int, int, str]] = []
    library = PromptLibrary(make_config(cache_dir, recorded), SUPPORT, RATE)
    library.build(lambda done, total, prompt_id: seen.append((done, total, prompt_id)))
    total = len(library.catalogue.entries())
    assert [s[0] for s in seen] == list(range(1, total + 1))
    assert seen[0][2] == "greeting"


# ---- recorded overrides -------------------------------------------------------------------


def test_a_stereo_44k_recording_replaces_the_prompt(library: PromptLibrary, recorded: Path) -> None:
    rate = 44100
    gap = np.zeros(round(rate * 0.2))
    left = np.concatenate([gap, tone(rate, 0.5, 440, 0.3), gap])
    right = np.concatenate([gap, tone(rate, 0.5, 660, 0.3), gap])
    write_wav(recorded / "greeting.wav", np.stack([left, right], axis=1), rate)

    problems = library.check_recordings()
    assert [p.severity for p in problems] == [Severity.INFO]
    assert "mixed down to mono" in problems[0].message

    summary = library.build()
    assert summary.overridden == 1
    audio = pcm(library.audio([Prompt("greeting")]))
    assert 0.5 <= len(audio) / RATE <= 0.6  # silence trimmed, resampled to 8 kHz
    assert abs(20 * np.log10(np.abs(audio).max() / 32768) + 3) < 0.5


def test_an_8_bit_mono_recording_is_accepted(library: PromptLibrary, recorded: Path) -> None:
    write_wav(recorded / "goodbye.wav", tone(11025, 0.4, 500, 0.5), 11025, width=1)
    assert library.check_recordings() == []
    assert library.build().overridden == 1


def _only_error(library: PromptLibrary) -> str:
    problems = library.check_recordings()
    assert [p.severity for p in problems] == [Severity.ERROR]
    return str(problems[0])


def test_a_text_file_named_wav_is_rejected(library: PromptLibrary, recorded: Path) -> None:
    (recorded / "greeting.wav").write_text("this is not audio\n")
    message = _only_error(library)
    assert message.startswith("error: greeting.wav: not a readable WAV file")
    assert "16-bit PCM WAV" in message
    with pytest.raises(PromptError, match="'greeting'.*not a readable WAV"):
        library.build()


def test_a_silent_recording_is_rejected(library: PromptLibrary, recorded: Path) -> None:
    write_wav(recorded / "menu.wav", np.zeros(8000), 8000)
    assert "is silent" in _only_error(library)


def test_a_clipped_recording_is_rejected(library: PromptLibrary, recorded: Path) -> None:
    write_wav(recorded / "menu.wav", np.clip(tone(16000, 1.0, 300, 1.6), -1, 1), 16000)
    message = _only_error(library)
    assert "is clipped" in message and "lower input level" in message


def test_a_24_bit_recording_is_rejected(library: PromptLibrary, recorded: Path) -> None:
    write_wav(recorded / "menu.wav", tone(8000, 0.5, 300, 0.5), 8000, width=3)
    assert "24-bit samples are not supported" in _only_error(library)


def test_a_recording_over_a_minute_is_rejected(library: PromptLibrary, recorded: Path) -> None:
    write_wav(recorded / "menu.wav", tone(8000, 61, 300, 0.5), 8000)
    assert "over the 60 s limit" in _only_error(library)


@pytest.mark.parametrize(
    ("rate", "expected"),
    [
        (4000, "sample rate 4000 Hz is below 8000 Hz"),
        (384000, "sample rate 384000 Hz is above 192000 Hz"),
    ],
)
def test_a_recording_at_a_rate_it_cannot_convert_is_rejected(
    library: PromptLibrary, recorded: Path, rate: int, expected: str
) -> None:
    write_wav(recorded / "menu.wav", tone(rate, 0.5, 300, 0.5), rate)
    message = _only_error(library)
    assert expected in message and "export it at" in message
    with pytest.raises(PromptError, match=f"'menu'.*{expected}"):
        library.build()


def test_a_recording_whose_header_says_0_hz_is_rejected(
    library: PromptLibrary, recorded: Path
) -> None:
    path = write_wav(recorded / "menu.wav", tone(8000, 0.5, 300, 0.5), 8000)
    data = bytearray(path.read_bytes())
    data[24:28] = (0).to_bytes(4, "little")  # the fmt chunk's sample rate
    path.write_bytes(bytes(data))
    assert "sample rate 0 Hz is below 8000 Hz" in _only_error(library)


@pytest.mark.parametrize("rate", [8000, 192000])
def test_recordings_at_the_rate_limits_are_accepted(
    library: PromptLibrary, recorded: Path, rate: int
) -> None:
    write_wav(recorded / "menu.wav", tone(rate, 0.5, 300, 0.5), rate)
    assert library.check_recordings() == []
    assert library.build().overridden == 1


def test_a_recording_with_no_prompt_of_its_name_is_a_warning(
    library: PromptLibrary, recorded: Path
) -> None:
    write_wav(recorded / "greetng.wav", tone(8000, 0.5, 300, 0.5), 8000)
    problems = library.check_recordings()
    assert [p.severity for p in problems] == [Severity.WARNING]
    assert "did you mean greeting.wav" in problems[0].message


# ---- playing ------------------------------------------------------------------------------


def test_digits_are_read_in_pairs(library: PromptLibrary) -> None:
    one = pcm(library.audio([Digits("4")]))
    four = pcm(library.audio([Digits("4712")]))
    assert len(four) > 3 * len(one)
    assert np.abs(four).max() > 10000
    assert digit_pairs("47120") == [["digit_4", "digit_7"], ["digit_1", "digit_2"], ["digit_0"]]


def test_parts_are_joined_with_a_short_silence(library: PromptLibrary) -> None:
    first = library.audio([Prompt("greeting")])
    second = library.audio([Prompt("menu")])
    both = library.audio([Prompt("greeting"), Prompt("menu")])
    gap = both[len(first) : len(both) - len(second)]
    assert 0.1 <= len(gap) / 2 / RATE <= 0.2
    assert not any(gap)


def test_every_call_shares_the_audio_of_fixed_prompts(library: PromptLibrary) -> None:
    menu = [Prompt("greeting"), Prompt("menu")]
    assert library.audio(menu) is library.audio(list(menu))
    # Speech made for one call (its reference) is its own.
    reference = [Prompt("greeting"), Digits("4712")]
    assert library.audio(reference) == library.audio(reference)
    assert library.audio(reference) is not library.audio(reference)


def test_a_moment_is_spoken(library: PromptLibrary) -> None:
    now = datetime(2026, 6, 1, 20, 0)
    audio = pcm(library.audio([Moment(datetime(2026, 6, 2, 9, 30), now)]))
    assert len(audio) > RATE and np.abs(audio).max() > 10000


def test_an_unknown_prompt_is_named(library: PromptLibrary) -> None:
    with pytest.raises(PromptError, match="'no_such_prompt'"):
        library.audio([Prompt("no_such_prompt")])


def test_text_prepared_ahead_is_not_rendered_again(library: PromptLibrary) -> None:
    text = "The portal is down until noon."
    library.prepare_text(text)
    renders = library.renders
    audio = pcm(library.audio([Text(text)]))
    assert library.renders == renders
    assert len(audio) > RATE // 2


def test_say_writes_a_telephone_wav(library: PromptLibrary, tmp_path: Path) -> None:
    out = library.say("Testing.", tmp_path / "testing.wav")
    with wave.open(str(out), "rb") as wav:
        assert (wav.getnchannels(), wav.getsampwidth(), wav.getframerate()) == (1, 2, RATE)
        assert wav.getnframes() > RATE // 10


# ---- phrasing of moments (pure) -------------------------------------------------------------

MONDAY_EVENING = datetime(2026, 6, 1, 18, 30)  # a Monday


@pytest.mark.parametrize(
    ("at", "expected"),
    [
        (datetime(2026, 6, 1, 21, 0), "today at nine p.m."),
        (datetime(2026, 6, 2, 9, 0), "tomorrow at nine a.m."),
        (datetime(2026, 6, 2, 9, 30), "tomorrow at nine thirty a.m."),
        (datetime(2026, 6, 2, 9, 5), "tomorrow at nine oh five a.m."),
        (datetime(2026, 6, 3, 9, 0), "on Wednesday at nine a.m."),
        (datetime(2026, 6, 7, 12, 0), "on Sunday at noon"),
        (datetime(2026, 6, 7, 12, 45), "on Sunday at twelve forty five p.m."),
        (datetime(2026, 6, 8, 9, 0), "on Monday the eighth of June at nine a.m."),
        (datetime(2026, 7, 1, 0, 0), "on Wednesday the first of July at midnight"),
    ],
)
def test_moments_are_said_relative_to_now(at: datetime, expected: str) -> None:
    assert moment_text(at, MONDAY_EVENING) == expected


def test_tomorrow_crosses_a_month_and_a_year() -> None:
    assert moment_text(datetime(2027, 1, 1, 9, 0), datetime(2026, 12, 31, 23, 59)) == (
        "tomorrow at nine a.m."
    )


def test_moments_in_other_zones_are_said_in_local_time() -> None:
    london = ZoneInfo("Europe/London")
    now = datetime(2026, 6, 1, 23, 30, tzinfo=london)
    at = datetime(2026, 6, 2, 8, 0, tzinfo=ZoneInfo("UTC"))  # 9 a.m. in London
    assert moment_text(at, now) == "tomorrow at nine a.m."


# ---- audio processing (pure) ----------------------------------------------------------------


def test_resampling_removes_what_would_alias() -> None:
    rate = 44100
    kept = dsp.resample(tone(rate, 1.0, 1000, 0.5), rate, RATE)
    removed = dsp.resample(tone(rate, 1.0, 6000, 0.5), rate, RATE)  # would fold to 2 kHz
    assert len(kept) == RATE
    assert abs(np.sqrt(np.mean(kept**2)) - 0.5 / np.sqrt(2)) < 0.01
    assert np.sqrt(np.mean(removed[800:-800] ** 2)) < 1e-3


def test_conditioning_trims_silence_and_normalises() -> None:
    rate = 22050
    gap = np.zeros(rate // 2)
    signal = np.concatenate([gap, tone(rate, 1.0, 300, 0.1), gap])
    out = dsp.condition(signal, rate, RATE, dsp.db_to_gain(-3.0))
    assert abs(len(out) / RATE - 1.06) < 0.03  # one second plus two 30 ms margins
    assert abs(np.abs(out).max() / 32768 - dsp.db_to_gain(-3.0)) < 0.01


# ---- the command line, through the real entry point `ivr` --------------------------------


def _conf(tmp_path: Path, cache_dir: Path, recorded: Path) -> Path:
    conf = tmp_path / "sip.conf"
    conf.write_text(
        f"[prompts]\ncatalogue_dir = {SHORT}\ncache_dir = {cache_dir}\nrecorded_dir = {recorded}\n"
    )
    return conf


def _ivr(conf: Path, *args: str) -> Result:
    return CliRunner().invoke(main, ["--config", str(conf), *args])


def test_cli_build_prints_a_summary(tmp_path: Path, cache_dir: Path, recorded: Path) -> None:
    result = _ivr(_conf(tmp_path, cache_dir, recorded), "prompts", "build")
    assert result.exit_code == 0, result.output
    assert result.output.strip().splitlines()[-1].startswith("0 rendered, ")


def test_cli_check_fails_on_a_bad_recording(
    tmp_path: Path, cache_dir: Path, recorded: Path
) -> None:
    conf = _conf(tmp_path, cache_dir, recorded)
    result = _ivr(conf, "prompts", "check")
    assert result.exit_code == 0, result.output
    assert f"Recordings in {recorded}: no errors." in result.output
    (recorded / "menu.wav").write_text("not audio")
    result = _ivr(conf, "prompts", "check")
    assert result.exit_code == 1
    assert "menu.wav: not a readable WAV file" in result.output
    assert f"1 recording(s) in {recorded} cannot be used" in result.output


def test_cli_say_writes_the_wav_it_names(tmp_path: Path, cache_dir: Path, recorded: Path) -> None:
    out = tmp_path / "hear.wav"
    result = _ivr(
        _conf(tmp_path, cache_dir, recorded), "prompts", "say", "Testing.", "--out", str(out)
    )
    assert result.exit_code == 0, result.output
    assert result.output.strip() == f"Wrote {out}"
    with wave.open(str(out), "rb") as wav:
        assert (wav.getnchannels(), wav.getsampwidth(), wav.getframerate()) == (1, 2, RATE)
        assert wav.getnframes() > RATE // 10


def test_cli_say_requires_out(tmp_path: Path, cache_dir: Path, recorded: Path) -> None:
    result = _ivr(_conf(tmp_path, cache_dir, recorded), "prompts", "say", "Testing.")
    assert result.exit_code == 2
    assert "Missing option '--out'" in result.output


def test_a_recorded_description_at_8_khz_plays_as_it_is(
    library: PromptLibrary, tmp_path: Path
) -> None:
    samples = tone(RATE, 1.0, 440, 0.3)
    path = write_wav(tmp_path / "471203-a.wav", samples, RATE)
    with wave.open(str(path), "rb") as wav:
        frames = wav.readframes(wav.getnframes())
    assert library.audio([WavFile(str(path))]) == frames


def test_a_recording_at_another_rate_is_converted(library: PromptLibrary, tmp_path: Path) -> None:
    path = write_wav(tmp_path / "wide.wav", tone(16000, 1.0, 440, 0.3), 16000)
    assert abs(len(pcm(library.audio([WavFile(str(path))]))) - RATE) <= 2


def test_a_lost_recording_plays_as_nothing_not_an_error(
    library: PromptLibrary, tmp_path: Path
) -> None:
    assert library.audio([WavFile(str(tmp_path / "gone.wav"))]) == b""
