"""Names people type (customers, engineers, admins): one rule, refused where they enter.

A control or formatting character would rewrite what an operator sees in a
terminal, the CSV export or the web page; each is refused with a message
that names it (escaped, never raw), and each kind of name has the length
limit its --help states.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from ivr.admin.cli import main
from ivr.names import (
    ADMIN_NAME_MAX,
    CUSTOMER_NAME_MAX,
    ENGINEER_NAME_MAX,
    InvalidName,
    check_name,
)
from tests.unit.cli import ivr, ok, write_conf

ESC = "\x1b"
RLO = "\u202e"
# Controls (C0, DEL, C1), formatting (RLO, zero-width joiner, BOM), a lone
# surrogate (a byte that was not UTF-8) and the line separator.
HOSTILE = [ESC, RLO, "\x00", "\x07", "\t", "\n", "\x7f", "\x85", "\u200d", "\ufeff", "\udcff"]
HOSTILE += ["\u2028"]


@pytest.mark.parametrize("char", HOSTILE)
def test_the_rule_refuses_control_and_formatting_characters(char: str) -> None:
    with pytest.raises(InvalidName) as caught:
        check_name(f"Acme{char}Ltd", "a customer name", CUSTOMER_NAME_MAX)
    message = str(caught.value)
    assert message.startswith("a customer name may not contain control or formatting")
    assert f"U+{ord(char):04X}" in message
    assert char not in message  # shown escaped, so the message cannot do what the name would


def test_the_rule_keeps_ordinary_names_and_trims_them() -> None:
    assert check_name("  Zoë & Søn Ltd  ", "a customer name", 200) == "Zoë & Søn Ltd"
    assert check_name("x" * 200, "a customer name", 200) == "x" * 200


@pytest.mark.parametrize("text", ["", "   "])
def test_the_rule_wants_a_name(text: str) -> None:
    with pytest.raises(InvalidName, match="^an engineer name is required$"):
        check_name(text, "an engineer name", ENGINEER_NAME_MAX)


def test_the_rule_has_a_length_limit() -> None:
    with pytest.raises(InvalidName, match="at most 100 characters \\(this one has 101\\)"):
        check_name("x" * 101, "an engineer name", ENGINEER_NAME_MAX)


@pytest.fixture
def conf(tmp_path: Path) -> Path:
    return write_conf(tmp_path)


@pytest.mark.parametrize("char", [ESC, RLO])
def test_handsets_add_refuses_a_customer_with_control_characters(conf: Path, char: str) -> None:
    result = ivr(conf, "handsets", "add", "020 7946 0000", "--customer", f"Acme{char}[2J")
    assert result.exit_code == 2, result.output
    assert "'--customer'" in result.output and "control or formatting" in result.output
    assert char not in result.output
    assert "[]" in ok(conf, "handsets", "list", "--json")


def test_handsets_add_refuses_a_customer_too_long(conf: Path) -> None:
    too_long = "x" * (CUSTOMER_NAME_MAX + 1)
    result = ivr(conf, "handsets", "add", "020 7946 0000", "--customer", too_long)
    assert result.exit_code == 2, result.output
    assert f"at most {CUSTOMER_NAME_MAX} characters" in result.output


def test_handsets_import_names_each_line_with_a_bad_customer(conf: Path, tmp_path: Path) -> None:
    rows = tmp_path / "handsets.csv"
    rows.write_text(
        f"020 7946 0000,Acme Ltd\n020 7946 0001,Evil{RLO}Co\n020 7946 0002,{'x' * 201}\n",
        encoding="utf-8",
    )
    result = ivr(conf, "handsets", "import", str(rows))
    assert result.exit_code == 1, result.output
    assert "line 2: a customer name may not contain control" in result.output
    assert "line 3: a customer name must be at most 200 characters" in result.output
    assert RLO not in result.output
    assert "[]" in ok(conf, "handsets", "list", "--json")  # any bad line imports nothing


@pytest.mark.parametrize("name", [f"bob{ESC}]0;pwned", f"bob{RLO}evil", "b" * 101])
def test_engineers_add_refuses_bad_names(conf: Path, name: str) -> None:
    result = ivr(conf, "engineers", "add", name, "--contact", "sip:bob@pbx.example")
    assert result.exit_code == 1, result.output
    assert "an engineer name" in result.output
    assert "[]" in ok(conf, "engineers", "list", "--json")


@pytest.mark.parametrize("name", [f"root{ESC}", f"root{RLO}", "a" * 65])
def test_admins_add_refuses_bad_names(conf: Path, name: str) -> None:
    result = CliRunner().invoke(
        main,
        ["--config", str(conf), "admins", "add", name, "--password-stdin"],
        input="a good long password\n",
    )
    assert result.exit_code == 1, result.output
    assert "admin name" in result.output
    assert ESC not in result.output and RLO not in result.output


@pytest.mark.parametrize(
    ("command", "limit"),
    [
        (("handsets", "add"), CUSTOMER_NAME_MAX),
        (("handsets", "import"), CUSTOMER_NAME_MAX),
        (("engineers", "add"), ENGINEER_NAME_MAX),
        (("admins", "add"), ADMIN_NAME_MAX),
    ],
)
def test_help_states_the_length_limit(conf: Path, command: tuple[str, ...], limit: int) -> None:
    text = " ".join(ok(conf, *command, "--help").split())
    assert f"at most {limit}" in text
