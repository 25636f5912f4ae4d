"""Only `ivr db upgrade` and `ivr serve` migrate; the rest refuse a database behind the code.

A listing that migrated would change a production schema as a side effect,
mid-way through a roll across nodes; so every other command refuses with
exit 1 and names `ivr db upgrade`. `[general] auto_migrate = no` makes
`ivr serve` refuse too, for operators who migrate by hand.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from alembic import command
from click.testing import CliRunner, Result

from ivr.admin.cli import main
from ivr.config import ConfigError, load_config
from ivr.store import migrations
from ivr.store.db import Database

IVR = [sys.executable, "-m", "ivr.admin.cli"]
HEAD = migrations.heads()


def conf_for(tmp_path: Path, extra: str = "") -> Path:
    path = tmp_path / "sip.conf"
    path.write_text(f"[general]\ndatabase = sqlite:///{tmp_path}/x.db\n{extra}", encoding="utf-8")
    return path


def ivr(conf: Path, *args: str) -> Result:
    return CliRunner().invoke(main, ["--config", str(conf), *args])


def revision_of(tmp_path: Path) -> tuple[str, ...]:
    database = Database(f"sqlite:///{tmp_path}/x.db")
    try:
        with database.engine.connect() as connection:
            return migrations.current(connection)
    finally:
        database.dispose()


def test_a_database_one_revision_behind_is_refused_naming_ivr_db_upgrade(tmp_path: Path) -> None:
    conf = conf_for(tmp_path)
    database = Database(f"sqlite:///{tmp_path}/x.db")
    database.create_schema()
    with migrations.migration_lock(database.engine) as connection:
        command.downgrade(migrations.alembic_config(connection), "-1")
    database.dispose()
    behind = revision_of(tmp_path)
    assert behind != HEAD

    for args in (("calls", "list"), ("faults", "list", "--json"), ("handsets", "list")):
        result = ivr(conf, *args)
        assert result.exit_code == 1, result.output
        assert result.output.startswith("Error: ")
        assert f"is at {behind[0]}; newest is {HEAD[0]}" in result.output
        assert "run `ivr db upgrade` first" in result.output
    assert revision_of(tmp_path) == behind  # nothing migrated it

    assert ivr(conf, "db", "upgrade").exit_code == 0
    assert ivr(conf, "calls", "list").exit_code == 0


def test_a_database_from_a_newer_version_is_refused_naming_that(tmp_path: Path) -> None:
    conf = conf_for(tmp_path)
    assert ivr(conf, "db", "upgrade").exit_code == 0
    database = Database(f"sqlite:///{tmp_path}/x.db")
    with database.engine.begin() as connection:
        connection.exec_driver_sql("UPDATE alembic_version SET version_num = '9999'")
    database.dispose()
    result = ivr(conf, "handsets", "list")
    assert result.exit_code == 1
    assert "is at revision 9999, which this version of the fault line does not have" in (
        " ".join(result.output.split())
    )


def test_commands_that_need_no_database_do_not_open_it(tmp_path: Path) -> None:
    conf = conf_for(tmp_path)
    assert (
        ivr(
            conf, "sla", "deadlines", "--priority", "high", "--reported-at", "2026-11-05T16:00"
        ).exit_code
        == 0
    )
    assert ivr(conf, "config", "check").exit_code == 0
    assert not (tmp_path / "x.db").exists()


def test_serve_with_auto_migrate_no_refuses_a_fresh_database(tmp_path: Path) -> None:
    """Before any prompt is rendered or port opened, and without touching the schema."""
    conf = conf_for(
        tmp_path,
        f"auto_migrate = no\ndata_dir = {tmp_path / 'data'}\n"
        f"[prompts]\ncache_dir = {tmp_path / 'cache'}\n",
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("IVR_")}
    result = subprocess.run(
        [*IVR, "--config", str(conf), "serve"],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert result.returncode == 1, result.stdout + result.stderr
    assert "empty (never migrated)" in result.stderr
    assert "run `ivr db upgrade` first" in result.stderr
    assert "Traceback" not in result.stderr
    assert "fault line ready" not in result.stdout
    assert not (tmp_path / "cache").exists()
    assert revision_of(tmp_path) == ()


def test_auto_migrate_is_yes_or_no(tmp_path: Path) -> None:
    assert load_config(conf_for(tmp_path), environ={}).auto_migrate is True
    assert load_config(conf_for(tmp_path, "auto_migrate = no\n"), environ={}).auto_migrate is False
    path = conf_for(tmp_path, "auto_migrate = later\n")
    with pytest.raises(ConfigError) as caught:
        load_config(path, environ={})
    assert [str(p) for p in caught.value.problems] == [
        f"{path}:3: [general] auto_migrate: expected yes or no, got 'later'"
    ]


def test_version_comes_from_the_installed_package() -> None:
    from importlib.metadata import version

    result = CliRunner().invoke(main, ["--version"])
    assert result.exit_code == 0
    assert result.output == f"ivr {version('faultline-ivr')}\n"
