"""`ivr customers` through the real command line, with a throwaway sip.conf.

Exit codes as everywhere: 0 done, 1 refused or not found, 2 bad usage (a
malformed account, PIN or e-mail address names its option). A PIN is read
from standard input only and never appears in any output.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from ivr.admin.cli import main
from tests.unit.cli import ivr, ok, write_conf

PIN = "48213"


@pytest.fixture
def conf(tmp_path: Path) -> Path:
    return write_conf(tmp_path)


def with_stdin(conf: Path, text: str, *args: str) -> Result:
    return CliRunner().invoke(main, ["--config", str(conf), *args], input=text)


def listed(conf: Path) -> list[dict[str, object]]:
    rows: list[dict[str, object]] = json.loads(ok(conf, "customers", "list", "--json"))
    return rows


def test_add_with_everything_then_show_and_list(conf: Path) -> None:
    result = with_stdin(
        conf,
        PIN + "\n",
        *("customers", "add", "Acme Ltd", "--account", "012345"),
        *("--email", "ops@acme.example", "--email", "noc@acme.example", "--pin-stdin"),
    )
    assert result.exit_code == 0, result.output
    assert result.output.strip() == "added customer Acme Ltd, account 012345 (PIN set)"
    ok(conf, "handsets", "add", "020 7946 0000", "--customer", "012345")

    shown = json.loads(ok(conf, "customers", "show", "acme ltd", "--json"))
    assert shown == {
        "name": "Acme Ltd",
        "account": "012345",
        "emails": ["ops@acme.example", "noc@acme.example"],
        "pin_set": True,
        "handsets": ["+442079460000"],
        "open_faults": [],
        "created_at": shown["created_at"],
        "locked_until": None,
    }
    text = ok(conf, "customers", "show", "012345")
    assert "account:     012345" in text and "PIN:         set" in text
    assert "+442079460000" in text
    assert listed(conf) == [shown]
    line = ok(conf, "customers", "list").strip()
    assert line.startswith("012345  Acme Ltd") and "1 handset(s)" in line
    for output in (result.output, text, line, json.dumps(shown)):
        assert PIN not in output


def test_add_generates_an_account(conf: Path) -> None:
    out = ok(conf, "customers", "add", "Bolt Brothers plc")
    account = out.strip().rsplit(" ", 1)[-1]
    assert len(account) == 6 and account.isdigit()
    assert listed(conf)[0]["pin_set"] is False


@pytest.mark.parametrize(
    ("args", "stdin", "option", "message"),
    [
        (("--account", "12345"), "", "'--account'", "6 digits"),
        (("--account", "abcdef"), "", "'--account'", "6 digits"),
        (("--email", "not-an-address"), "", "'--email'", "not an e-mail address"),
        (("--pin-stdin",), "123\n", "'--pin-stdin'", "4 to 8 digits"),
        (("--pin-stdin",), "12ab56\n", "'--pin-stdin'", "4 to 8 digits"),
        (("--pin-stdin",), "", "'--pin-stdin'", "standard input is empty"),
    ],
)
def test_malformed_values_are_bad_usage_naming_the_option(
    conf: Path, args: tuple[str, ...], stdin: str, option: str, message: str
) -> None:
    result = with_stdin(conf, stdin, "customers", "add", "Acme Ltd", *args)
    assert result.exit_code == 2, result.output
    assert option in result.output and message in result.output
    if stdin.strip():
        assert stdin.strip() not in result.output
    assert listed(conf) == []


def test_a_name_of_only_digits_is_bad_usage(conf: Path) -> None:
    result = ivr(conf, "customers", "add", "123456")
    assert result.exit_code == 2
    assert "'NAME'" in result.output and "only digits" in result.output


def test_clashes_and_unknown_customers_are_refused(conf: Path) -> None:
    ok(conf, "customers", "add", "Acme Ltd", "--account", "123456")
    result = ivr(conf, "customers", "add", "ACME LTD")
    assert result.exit_code == 1 and "already exists" in result.output
    result = ivr(conf, "customers", "add", "Other", "--account", "123456")
    assert result.exit_code == 1 and "account 123456 is already taken" in result.output
    result = ivr(conf, "customers", "show", "Nobody Ltd")
    assert result.exit_code == 1
    assert "no customer called 'Nobody Ltd' (see ivr customers list)" in result.output
    result = ivr(conf, "customers", "show", "654321")
    assert result.exit_code == 1 and "no customer with account '654321'" in result.output


def test_set_name_emails_and_pin(conf: Path) -> None:
    ok(conf, "customers", "add", "Acme Ltd", "--email", "a@acme.example")
    assert ok(conf, "customers", "set", "Acme Ltd", "--name", "Acme Group").strip() == (
        "changed customer Acme Group"
    )
    ok(conf, "customers", "set", "Acme Group", "--email", "b@acme.example", "--email", "c@x.org")
    assert listed(conf)[0]["emails"] == ["b@acme.example", "c@x.org"]
    ok(conf, "customers", "set", "Acme Group", "--clear-email")
    assert listed(conf)[0]["emails"] == []

    result = with_stdin(conf, PIN + "\n", "customers", "set", "Acme Group", "--pin-stdin")
    assert result.exit_code == 0 and PIN not in result.output
    assert listed(conf)[0]["pin_set"] is True
    ok(conf, "customers", "set", "Acme Group", "--clear-pin")
    assert listed(conf)[0]["pin_set"] is False


@pytest.mark.parametrize(
    "args",
    [
        (),
        ("--email", "a@b.example", "--clear-email"),
        ("--pin-stdin", "--clear-pin"),
    ],
)
def test_set_with_nothing_or_contradictions_is_bad_usage(conf: Path, args: tuple[str, ...]) -> None:
    ok(conf, "customers", "add", "Acme Ltd")
    result = with_stdin(conf, PIN + "\n", "customers", "set", "Acme Ltd", *args)
    assert result.exit_code == 2, result.output


def test_set_an_unknown_customer_is_refused(conf: Path) -> None:
    result = ivr(conf, "customers", "set", "Nobody", "--clear-pin")
    assert result.exit_code == 1 and "no customer called 'Nobody'" in result.output


def test_remove_is_refused_while_handsets_refer_to_it_unless_forced(conf: Path) -> None:
    ok(conf, "handsets", "add", "020 7946 0000", "--customer", "Acme Ltd")
    result = ivr(conf, "customers", "remove", "Acme Ltd")
    assert result.exit_code == 1
    assert "still has 1 handset" in result.output and "--force" in result.output
    out = ok(conf, "customers", "remove", "Acme Ltd", "--force")
    assert out.strip() == "removed customer Acme Ltd and its 1 handset(s)"
    assert listed(conf) == []
    assert json.loads(ok(conf, "handsets", "list", "--json")) == []
    result = ivr(conf, "customers", "remove", "Acme Ltd")
    assert result.exit_code == 1 and "no customer called" in result.output


def test_handsets_add_by_account_and_by_a_new_name(conf: Path) -> None:
    ok(conf, "customers", "add", "Acme Ltd", "--account", "123456")
    out = ok(conf, "handsets", "add", "020 7946 0000", "--customer", "123456")
    assert out.strip() == "added +442079460000 (Acme Ltd)"
    out = ok(conf, "handsets", "add", "020 7946 0001", "--customer", "acme ltd")
    assert out.strip() == "added +442079460001 (Acme Ltd)"
    out = ok(conf, "handsets", "add", "0161 496 0000", "--customer", "Northern Widgets")
    assert out.startswith("created customer Northern Widgets (account ")
    rows = json.loads(ok(conf, "handsets", "list", "--json"))
    assert [(r["number"], r["customer"]) for r in rows] == [
        ("+442079460000", "Acme Ltd"),
        ("+442079460001", "Acme Ltd"),
        ("+441614960000", "Northern Widgets"),
    ]
    assert rows[0]["account"] == "123456"


def test_handsets_add_for_an_unknown_account_is_refused_with_a_hint(conf: Path) -> None:
    result = ivr(conf, "handsets", "add", "020 7946 0000", "--customer", "654321")
    assert result.exit_code == 1
    assert "no customer with account '654321'" in result.output
    assert "ivr customers add" in result.output
    assert json.loads(ok(conf, "handsets", "list", "--json")) == []


def test_the_demo_handset_of_scripts_run_keeps_working(conf: Path) -> None:
    """scripts/run adds it on every start; the second time changes nothing."""
    args = ("handsets", "add", "+44 20 7946 0000", "--customer", "Demo Customer Ltd")
    assert "created customer Demo Customer Ltd" in ok(conf, *args, "--if-missing")
    assert ok(conf, *args, "--if-missing") == ""
    assert [c["name"] for c in listed(conf)] == ["Demo Customer Ltd"]


def test_list_with_no_customers(conf: Path) -> None:
    assert ok(conf, "customers", "list").strip() == "no customers (add one: ivr customers add NAME)"
    assert listed(conf) == []


def test_import_names_customers_by_name_or_account(conf: Path, tmp_path: Path) -> None:
    ok(conf, "customers", "add", "Acme Ltd", "--account", "123456")
    listing = tmp_path / "handsets.csv"
    listing.write_text(
        "number,customer\n020 7946 0000,123456\n0161 496 0000,Northern Widgets\n",
        encoding="utf-8",
    )
    out = ok(conf, "handsets", "import", str(listing))
    assert out.splitlines() == [
        "created customer Northern Widgets",
        "imported 2 rows: 2 added, 0 updated",
    ]
    listing.write_text("020 7946 0000,654321\n", encoding="utf-8")
    result = ivr(conf, "handsets", "import", str(listing))
    assert result.exit_code == 1
    assert "nothing imported" in result.output and "654321" in result.output
    rows = json.loads(ok(conf, "handsets", "list", "--json"))
    assert [(r["number"], r["customer"]) for r in rows] == [
        ("+442079460000", "Acme Ltd"),
        ("+441614960000", "Northern Widgets"),
    ]
