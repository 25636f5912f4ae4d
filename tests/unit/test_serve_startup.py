"""`ivr serve` start-up and its prompts, through the real entry point in a subprocess.

A prompt that cannot be rendered or loaded, or a catalogue without a prompt
the code plays, stops start-up with one line naming it and exit code 1,
before the database is touched or any SIP port opened; an empty prompt cache
is filled at start-up.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
from pathlib import Path

from click.testing import CliRunner

from ivr.admin.cli import main
from ivr.config import load_config
from ivr.prompts import PromptLibrary
from tests.ports import free_port

ROOT = Path(__file__).resolve().parents[2]
SHORT = ROOT / "tests" / "data" / "prompts-short"
IVR = [sys.executable, "-m", "ivr.admin.cli"]
LISTENING = "listening for SIP on"  # logged by the SIP engine once its port is open
READY = "fault line ready"
TIMEOUT = 60.0


def write_config(tmp_path: Path, catalogue: Path = SHORT) -> Path:
    conf = tmp_path / "sip.conf"
    conf.write_text(
        "[general]\n"
        f"listen = 127.0.0.1:{free_port()}\n"
        f"database = sqlite:///{tmp_path}/faultline.db\n"
        f"data_dir = {tmp_path / 'data'}\n"
        "metrics_listen =\n"
        "[prompts]\n"
        f"catalogue_dir = {catalogue}\n"
        f"cache_dir = {tmp_path / 'cache'}\n"
        f"recorded_dir = {tmp_path / 'recorded'}\n"
        "[guard]\n"
        "enabled = no\n",
        encoding="utf-8",
    )
    return conf


def _env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("IVR_")}
    return env | {"PYTHONUNBUFFERED": "1"}


def serve_fails(conf: Path) -> subprocess.CompletedProcess[str]:
    """Run `ivr serve`, expecting it to give up on its own."""
    result = subprocess.run(
        [*IVR, "--config", str(conf), "serve"],
        capture_output=True,
        text=True,
        env=_env(),
        timeout=TIMEOUT,
    )
    assert result.returncode == 1, result.stdout + result.stderr
    assert LISTENING not in result.stderr and READY not in result.stdout
    assert "Traceback" not in result.stderr
    assert not (conf.parent / "faultline.db").exists()  # nor touched the database
    return result


def error_lines(result: subprocess.CompletedProcess[str]) -> list[str]:
    return [line for line in result.stderr.splitlines() if line.startswith("Error:")]


def test_a_recording_that_is_not_a_wav_stops_start_up_naming_prompt_and_file(
    tmp_path: Path,
) -> None:
    conf = write_config(tmp_path)
    bad = tmp_path / "recorded" / "greeting.wav"
    bad.parent.mkdir()
    bad.write_text("this is not audio\n")
    [line] = error_lines(serve_fails(conf))
    assert line.startswith(f"Error: not starting: prompt 'greeting': recording {bad} ")
    assert "not a readable WAV file" in line and "16-bit PCM WAV" in line
    assert not (tmp_path / "cache").exists()  # refused before rendering anything


def test_a_catalogue_without_a_prompt_the_code_plays_stops_start_up(tmp_path: Path) -> None:
    catalogue = tmp_path / "catalogue"
    catalogue.mkdir()
    lines = (SHORT / "en-GB.toml").read_text().splitlines(keepends=True)
    kept = [line for line in lines if not line.startswith(("menu ", "page_goodbye "))]
    (catalogue / "en-GB.toml").write_text("".join(kept))
    [line] = error_lines(serve_fails(write_config(tmp_path, catalogue)))
    assert line == (
        f"Error: not starting: {catalogue / 'en-GB.toml'}: missing prompt(s) menu, page_goodbye;"
        " the fault line plays them, so add them to [prompts]"
    )
    assert not (tmp_path / "cache").exists()


def test_serve_renders_every_prompt_into_an_empty_cache(tmp_path: Path) -> None:
    conf = write_config(tmp_path)
    config = load_config(conf)
    library = PromptLibrary(config.prompts, config.support)
    expected = {library.cache_path(text) for text in library.catalogue.entries().values()}
    assert not (tmp_path / "cache").exists()

    process = subprocess.Popen(
        [*IVR, "--config", str(conf), "serve"],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=_env(),
    )
    output: list[str] = []
    ready = threading.Event()

    def pump() -> None:
        # Log records may be written after the ready line (they go through
        # the logging thread), so wait for both markers.
        assert process.stdout is not None
        for line in process.stdout:
            output.append(line)
            text = "".join(output)
            if READY in text and LISTENING in text:
                ready.set()
        ready.set()

    reader = threading.Thread(target=pump, daemon=True)
    reader.start()
    try:
        assert ready.wait(TIMEOUT) and process.poll() is None, "".join(output)
        assert set((tmp_path / "cache").iterdir()) == expected
        [summary] = [line for line in output if "prompts ready:" in line]
        assert f"prompts ready: {len(expected)} rendered, " in summary
        assert any(LISTENING in line for line in output), "".join(output)  # failures lack it
        # Without [email], said once, before SIP listens.
        assert sum("no [email] section" in line for line in output) == 1, "".join(output)
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(TIMEOUT)
        except subprocess.TimeoutExpired:  # pragma: no cover
            process.kill()
            process.wait()
        reader.join(5)
    assert process.returncode == 0, "".join(output)


def test_serve_log_level_has_help() -> None:
    result = CliRunner().invoke(main, ["serve", "--help"])
    assert result.exit_code == 0, result.output
    text = " ".join(result.output.split())
    assert "--log-level TEXT Print log messages at this level and above" in text
