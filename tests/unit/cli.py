"""Running `ivr` through its real entry point against a throwaway sip.conf (SQLite file)."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from click.testing import CliRunner, Result

from ivr.admin.cli import main


def write_conf(tmp_path: Path, extra: str = "") -> Path:
    """A sip.conf with a SQLite database in `tmp_path` and London time (then `extra`
    sections), the schema current.

    Only `ivr db upgrade` and `ivr serve` migrate: every other command refuses
    a never-migrated database, so the helper upgrades it as an operator would.
    """
    path = tmp_path / "sip.conf"
    path.write_text(
        f"[general]\ndatabase = sqlite:///{tmp_path}/x.db\ntimezone = Europe/London\n{extra}",
        encoding="utf-8",
    )
    ok(path, "db", "upgrade")
    return path


class FixedClock:
    """The CLI's one clock, stopped where a test puts it (and moved by the test)."""

    def __init__(self, now: datetime) -> None:
        self.at = now

    def __call__(self) -> datetime:
        return self.at


def ivr(conf: Path, *args: str, now: FixedClock | datetime | None = None) -> Result:
    """Run `ivr --config conf ARGS`; `now`, if given, is the clock every command reads."""
    clock = FixedClock(now) if isinstance(now, datetime) else now
    return CliRunner().invoke(main, ["--config", str(conf), *args], obj=clock)


def ok(conf: Path, *args: str, now: FixedClock | datetime | None = None) -> str:
    result = ivr(conf, *args, now=now)
    assert result.exit_code == 0, result.output
    return result.output
