"""`ivr admins` and `ivr web` through the real command line."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from ivr.admin.cli import main
from ivr.store.admins import authenticate, find_admin
from ivr.store.db import Database
from ivr.store.models import utcnow

GOOD = "a long enough passphrase"


@pytest.fixture
def conf(tmp_path: Path) -> Path:
    path = tmp_path / "sip.conf"
    path.write_text(f"[general]\ndatabase = sqlite:///{tmp_path}/x.db\n", encoding="utf-8")
    ok(path, "db", "upgrade")  # only `db upgrade` and `serve` migrate
    return path


def ivr(conf: Path, *args: str, stdin: str | None = None) -> Result:
    return CliRunner().invoke(main, ["--config", str(conf), *args], input=stdin)


def ok(conf: Path, *args: str, stdin: str | None = None) -> str:
    result = ivr(conf, *args, stdin=stdin)
    assert result.exit_code == 0, result.output
    return result.output


def database(conf: Path) -> Database:
    return Database(f"sqlite:///{conf.parent}/x.db")


def test_add_list_remove(conf: Path) -> None:
    assert "added admin alice" in ok(conf, "admins", "add", "alice", "--password-stdin", stdin=GOOD)
    ok(conf, "admins", "add", "bob.smith", "--password-stdin", stdin=GOOD + "\n")
    rows = json.loads(ok(conf, "admins", "list", "--json"))
    assert [r["name"] for r in rows] == ["alice", "bob.smith"]
    assert set(rows[0]) == {"name", "created_at", "password_changed_at", "last_login_at"}
    assert "scrypt" not in json.dumps(rows) and GOOD not in json.dumps(rows)
    text = ok(conf, "admins", "list")
    assert "alice" in text and "never signed in" in text
    assert "removed admin alice" in ok(conf, "admins", "remove", "alice")
    assert [r["name"] for r in json.loads(ok(conf, "admins", "list", "--json"))] == ["bob.smith"]


def test_password_is_prompted_twice_and_stored_hashed(conf: Path) -> None:
    ok(conf, "admins", "add", "carol", stdin=f"{GOOD}\n{GOOD}\n")
    db = database(conf)
    with db.sessions.begin() as session:
        admin = find_admin(session, "carol")
        assert admin is not None and GOOD not in admin.password_hash
        assert authenticate(session, "carol", GOOD, utcnow()) is not None
        assert authenticate(session, "carol", GOOD + "x", utcnow()) is None
    db.dispose()


def test_prompt_mismatch_is_asked_again(conf: Path) -> None:
    result = ivr(conf, "admins", "add", "dave", stdin=f"{GOOD}\nother thing!\n{GOOD}\n{GOOD}\n")
    assert result.exit_code == 0, result.output
    assert "do not match" in result.output.lower() or "error" in result.output.lower()


@pytest.mark.parametrize(
    ("args", "stdin", "message"),
    [
        (("add", "eve", "--password-stdin"), "short", "at least 10 characters"),
        (("add", "eve", "--password-stdin"), "", "standard input is empty"),
        (("add", "bad name!", "--password-stdin"), GOOD, "not a valid admin name"),
        (("remove", "nobody"), None, "no admin called 'nobody'"),
        (("passwd", "nobody", "--password-stdin"), GOOD, "no admin called 'nobody'"),
    ],
)
def test_bad_input_gives_a_clear_error_and_exit_1(
    conf: Path, args: tuple[str, ...], stdin: str | None, message: str
) -> None:
    result = ivr(conf, "admins", *args, stdin=stdin)
    assert result.exit_code == 1
    assert message in result.output


def test_duplicate_name_is_refused(conf: Path) -> None:
    ok(conf, "admins", "add", "frank", "--password-stdin", stdin=GOOD)
    result = ivr(conf, "admins", "add", "frank", "--password-stdin", stdin=GOOD)
    assert result.exit_code == 1
    assert "already exists" in result.output


def test_passwd_changes_the_password_and_ends_sessions(conf: Path) -> None:
    ok(conf, "admins", "add", "grace", "--password-stdin", stdin=GOOD)
    db = database(conf)
    with db.sessions() as session:
        admin = find_admin(session, "grace")
        assert admin is not None
        before = admin.session_version
    out = ok(conf, "admins", "passwd", "grace", "--password-stdin", stdin="another passphrase")
    assert "sessions have ended" in out
    with db.sessions() as session:
        admin = find_admin(session, "grace")
        assert admin is not None and admin.session_version == before + 1
        assert authenticate(session, "grace", "another passphrase", utcnow()) is not None
        assert authenticate(session, "grace", GOOD, utcnow()) is None
    db.dispose()


def test_help_explains(conf: Path) -> None:
    assert "--password-stdin" in ok(conf, "admins", "add", "--help")
    text = ok(conf, "web", "--help")
    assert "--host" in text and "--port" in text
    result = ivr(conf, "web", "--port", "0")
    assert result.exit_code == 2
