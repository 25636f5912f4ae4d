"""[general] metrics_listen: where a node answers /metrics and /healthz, or nowhere."""

from __future__ import annotations

from pathlib import Path

import pytest

from ivr.config import ConfigError, load_config, read_config


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "sip.conf"
    path.write_text(text, encoding="utf-8")
    return path


def test_on_loopback_by_default(tmp_path: Path) -> None:
    assert load_config(write(tmp_path, "")).metrics_listen == ("127.0.0.1", 9460)


def test_an_address_and_port(tmp_path: Path) -> None:
    config = load_config(write(tmp_path, "[general]\nmetrics_listen = [::1]:9100\n"))
    assert config.metrics_listen == ("::1", 9100)


def test_empty_turns_it_off_and_config_check_shows_it_empty(tmp_path: Path) -> None:
    loaded = read_config(write(tmp_path, "[general]\nmetrics_listen =\n"))
    assert loaded.config.metrics_listen is None
    [shown] = [s for s in loaded.settings if s.key == "metrics_listen"]
    assert shown.value == ""


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("9460", "expected HOST:PORT, got '9460'"),
        (":9460", "expected HOST:PORT, got ':9460'"),
        ("127.0.0.1:0", "must be from 1 to 65535"),
        ("127.0.0.1:http", "expected a whole number from 1 to 65535, got 'http'"),
    ],
)
def test_mistakes_name_the_file_line_and_setting(tmp_path: Path, value: str, message: str) -> None:
    path = write(tmp_path, f"[general]\nmetrics_listen = {value}\n")
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    [problem] = [str(p) for p in caught.value.problems]
    assert problem.startswith(f"{path}:2: [general] metrics_listen: "), problem
    assert message in problem
