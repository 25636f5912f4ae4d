"""`ivr config check`: every setting in force with secrets masked, or every problem listed."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from ivr.admin.cli import main

REPO = Path(__file__).resolve().parents[2]


def check(*args: str, env: dict[str, str] | None = None) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, ["config", "check", *args], env=env)
    return result.exit_code, result.stdout, result.stderr


def test_the_example_checks_and_shows_defaults_and_lines() -> None:
    example = REPO / "sip.conf.example"
    code, out, _ = check(str(example))
    assert code == 0
    assert out.splitlines()[0].endswith("sip.conf.example: OK")
    assert "[general]\nlisten = 127.0.0.1:5060" in out
    line = example.read_text(encoding="utf-8").splitlines().index("max_calls = 200") + 1
    assert [row.split() for row in out.splitlines() if row.startswith("max_calls")] == [
        ["max_calls", "=", "200", ";", "line", str(line)]
    ]
    assert [row.split() for row in out.splitlines() if row.startswith("lease_seconds")] == [
        ["lease_seconds", "=", ";", "default"]
    ]


def test_secrets_are_masked(tmp_path: Path) -> None:
    path = tmp_path / "sip.conf"
    path.write_text(
        "[general]\ndatabase = postgresql+psycopg://ivr:hunter2@db.internal/faultline\n"
        "[trunk]\npassword = swordfish\n",
        encoding="utf-8",
    )
    code, out, _ = check(str(path), env={"IVR_TRUNK_PASSWORD": "", "IVR_DATABASE_URL": ""})
    assert code == 0, out
    assert "hunter2" not in out and "swordfish" not in out
    assert "database = postgresql+psycopg://ivr:***@db.internal/faultline" in out
    assert "password = ********" in out
    code, out, _ = check(str(path), "--json", env={"IVR_TRUNK_PASSWORD": "from-env"})
    settings = {(s["section"], s["key"]): s for s in json.loads(out)["settings"]}
    assert settings["trunk", "password"] == {
        "section": "trunk",
        "key": "password",
        "value": "********",
        "origin": "$IVR_TRUNK_PASSWORD",
    }
    assert "from-env" not in out


def test_every_problem_is_listed_and_the_exit_code_is_1(tmp_path: Path) -> None:
    path = tmp_path / "sip.conf"
    path.write_text("[gaurd]\n[general]\nmax_cals = 3\ndatabase = bogus://\n", encoding="utf-8")
    code, out, err = check(str(path), env={"IVR_DATABASE_URL": ""})
    assert code == 1
    assert out == ""
    assert err.splitlines() == [
        f"{path}:1: [gaurd]: unknown section; did you mean [guard]?",
        f"{path}:3: [general] max_cals: unknown setting; did you mean max_calls?",
        f"{path}:4: [general] database: unknown kind of database 'bogus'; "
        "expected sqlite:///PATH or postgresql+psycopg://USER:PASSWORD@HOST/NAME",
        f"Error: 3 problems in {path}",
    ]


def test_without_a_file_argument_the_config_option_is_checked(tmp_path: Path) -> None:
    path = tmp_path / "absent.conf"
    result = CliRunner().invoke(main, ["--config", str(path), "config", "check"])
    assert result.exit_code == 1
    assert f"{path}: cannot read it: No such file or directory" in result.stderr
