"""sip.conf [paging]: the escalation policy read from text, each mistake named with its range."""

from __future__ import annotations

from pathlib import Path

import pytest

from ivr.config import Config, ConfigError, load_config
from ivr.paging.policy import Level, Policy

REPO = Path(__file__).resolve().parents[2]


def paging(tmp_path: Path, **lines: str) -> Config:
    body = "".join(f"{key} = {value}\n" for key, value in lines.items())
    path = tmp_path / "sip.conf"
    path.write_text(f"[paging]\n{body}", encoding="utf-8")
    return load_config(path)


def test_every_paging_setting_is_read(tmp_path: Path) -> None:
    policy = paging(
        tmp_path,
        levels="oncall:30:2:60:0, next:20:1:0:120, name=Alice|Bob:45:1:0:0",
        repeats="3",
        priorities="critical, High",
        ack_timeout="no",
    ).paging
    assert policy.levels == (
        Level("oncall", 30, 2, 60, 0),
        Level("next", 20, 1, 0, 120),
        Level(("Alice", "Bob"), 45, 1, 0, 0),
    )
    assert policy.repeats == 3
    assert policy.priorities == frozenset({"critical", "high"})
    assert policy.ack_timeout is False


def test_defaults_short_levels_and_no_priorities(tmp_path: Path) -> None:
    assert Config().paging == Policy()
    assert load_config(REPO / "sip.conf.example").paging == Policy()
    policy = paging(tmp_path, levels="oncall\n next:45", priorities="none").paging
    assert policy.levels == (Level("oncall"), Level("next", ring_seconds=45))
    assert policy.priorities == frozenset()


def test_failed_paging_settings_are_minutes_and_addresses(tmp_path: Path) -> None:
    defaults = Config().paging
    assert (defaults.retry_failed_seconds, defaults.give_up_after_seconds) == (600, 3600)
    assert (defaults.reminder_lead_seconds, defaults.failed_notify) == (900, ())
    policy = paging(
        tmp_path,
        retry_failed_minutes="0.05",
        give_up_after_minutes="0",
        reminder_lead_minutes="5",
        failed_notify="ops@example.com, Duty@Example.com,duty@example.com",
    ).paging
    assert policy.retry_failed_seconds == pytest.approx(3)
    assert policy.give_up_after_seconds == 0
    assert policy.reminder_lead_seconds == 300
    assert policy.failed_notify == ("ops@example.com", "Duty@Example.com")


def test_an_inline_comment_is_not_part_of_the_value(tmp_path: Path) -> None:
    policy = paging(tmp_path, levels="oncall:10:1 ; just one", repeats="1").paging
    assert policy == Policy(levels=(Level("oncall", 10, 1),), repeats=1)


@pytest.mark.parametrize(
    ("key", "value", "message"),
    [
        ("levels", "everyone:30", "who must be"),
        ("levels", "oncall:thirty", "RING expected a whole number from 1 to 300 seconds"),
        ("levels", "oncall:30:0", "ATTEMPTS must be from 1 to 20, got 0"),
        ("levels", "oncall:30:1:1:1:1", "too many fields"),
        ("levels", "name=:30", "name= needs"),
        ("levels", ",", "at least one level"),
        (
            "levels",
            "oncall:99999999999999999999",
            r"level 1 \('oncall:99999999999999999999'\): RING must be from 1 to 300 seconds",
        ),
        ("levels", "oncall:30:2:-1", "RETRY must be from 0 to 86400 seconds, got -1"),
        ("repeats", "0", "must be from 1 to 20"),
        ("repeats", "twice", "expected a whole number"),
        ("priorities", "urgent", "unknown urgent"),
        ("ack_timeout", "maybe", "expected yes or no, got 'maybe'"),
        ("message_plays", "0", "must be from 1 to 20"),
        ("key_timeout", "inf", "must be from 1 to 120 seconds"),
        ("lease_seconds", "30", r"longer than the longest ring \(30 s\)"),
        ("retry_failed_minutes", "0", "must be from 0.01 to 1440 minutes, got 0"),
        ("retry_failed_minutes", "soon", "expected a number from 0.01 to 1440 minutes"),
        ("give_up_after_minutes", "-5", "must be from 0 to 10080 minutes, got -5"),
        ("reminder_lead_minutes", "nan", "must be from 0 to 1440 minutes"),
        ("failed_notify", "ops@example.com, not-an-address", "'not-an-address' is not an e-mail"),
    ],
)
def test_mistakes_name_file_line_key_and_range(
    tmp_path: Path, key: str, value: str, message: str
) -> None:
    with pytest.raises(ConfigError, match=rf"sip\.conf:2: \[paging\] {key}: .*{message}"):
        paging(tmp_path, **{key: value})
