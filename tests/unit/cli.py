"""Running `ivr` through its real entry point against a throwaway sip.conf (SQLite file)."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner, Result

from ivr.admin.cli import main


def write_conf(tmp_path: Path) -> Path:
    """A sip.conf with a SQLite database in `tmp_path` and London time, the schema current.

    Only `ivr db upgrade` and `ivr serve` migrate: every other command refuses
    a never-migrated database, so the helper upgrades it as an operator would.
    """
    path = tmp_path / "sip.conf"
    path.write_text(
        f"[general]\ndatabase = sqlite:///{tmp_path}/x.db\ntimezone = Europe/London\n",
        encoding="utf-8",
    )
    ok(path, "db", "upgrade")
    return path


def ivr(conf: Path, *args: str) -> Result:
    return CliRunner().invoke(main, ["--config", str(conf), *args])


def ok(conf: Path, *args: str) -> str:
    result = ivr(conf, *args)
    assert result.exit_code == 0, result.output
    return result.output
