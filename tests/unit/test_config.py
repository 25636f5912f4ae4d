"""sip.conf: defaults, and mistakes reported at start-up with their section and key."""

from __future__ import annotations

from pathlib import Path

import pytest

from ivr.config import MAX_INBOUND_CALLS, ConfigError, load_config

REPO = Path(__file__).resolve().parents[2]


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "sip.conf"
    path.write_text(text, encoding="utf-8")
    return path


def test_the_example_loads_and_stays_on_loopback() -> None:
    config = load_config(REPO / "sip.conf.example")
    assert config.listen_host == "127.0.0.1"
    assert config.trunk.registrar is None
    assert config.max_calls <= MAX_INBOUND_CALLS


def test_relative_sqlite_path_is_relative_to_the_file(tmp_path: Path) -> None:
    config = load_config(write(tmp_path, "[general]\ndatabase = sqlite:///var/x.db\n"))
    assert config.database_url == f"sqlite:///{tmp_path}/var/x.db"


@pytest.mark.parametrize(
    ("text", "names"),
    [
        ("[general]\nmax_calls = 300\n", "[general] max_calls"),
        ("[general]\nlisten = nowhere\n", "[general] listen"),
        ("[general]\ntimezone = Mars/Olympus\n", "[general] timezone"),
        ("[trunk]\ntrusted_addresses = 999.0.0.1\n", "[trunk] trusted_addresses"),
        ("[menu]\ntries = 0\n", "[menu] tries"),
        ("[hours]\nopen = 17:00\nclose = 09:00\n", "[hours]"),
    ],
)
def test_mistakes_name_their_key(tmp_path: Path, text: str, names: str) -> None:
    with pytest.raises(ConfigError, match=names.replace("[", r"\[").replace("]", r"\]")):
        load_config(write(tmp_path, text))
