"""`ivr handsets` through the real command line, with a throwaway sip.conf."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.unit.cli import ivr, ok, write_conf

DATA = Path(__file__).parent.parent / "data" / "handsets"


@pytest.fixture
def conf(tmp_path: Path) -> Path:
    return write_conf(tmp_path)


def registered(conf: Path) -> list[tuple[str, str]]:
    rows = json.loads(ok(conf, "handsets", "list", "--json"))
    return [(row["number"], row["customer"]) for row in rows]


@pytest.mark.parametrize(
    "number",
    [
        "020 7946 0000",
        "02079460000",
        "+44 20 7946 0000",
        "+44 (0)20 7946 0000",
        "00442079460000",
        "020-7946-0000",
        "tel:+442079460000",
        "sip:02079460000@pbx.example",
    ],
)
def test_add_any_uk_form_is_kept_in_e164(conf: Path, number: str) -> None:
    out = ok(conf, "handsets", "add", number, "--customer", " Acme Ltd ")
    assert out.splitlines()[0].startswith("created customer Acme Ltd (account ")
    assert out.splitlines()[1] == "added +442079460000 (Acme Ltd)"
    assert registered(conf) == [("+442079460000", "Acme Ltd")]


def test_add_twice_is_refused_unless_if_missing(conf: Path) -> None:
    ok(conf, "handsets", "add", "020 7946 0000", "--customer", "Acme Ltd")
    result = ivr(conf, "handsets", "add", "+442079460000", "--customer", "Other Co")
    assert result.exit_code == 1
    assert "+442079460000 is already registered" in result.output
    assert (
        ok(conf, "handsets", "add", "02079460000", "--customer", "Other Co", "--if-missing") == ""
    )
    assert registered(conf) == [("+442079460000", "Acme Ltd")]


@pytest.mark.parametrize(
    ("args", "option", "message"),
    [
        (("hello", "--customer", "Acme"), "'NUMBER'", "'hello' is not a telephone number"),
        (("020 7946", "--customer", "Acme"), "'NUMBER'", "is not a valid number"),
        (("020 7946 0000", "--customer", "  "), "'--customer'", "a customer name is required"),
        (("020 7946 0000",), "'--customer'", "Missing option"),
    ],
)
def test_add_bad_input_is_a_usage_error(
    conf: Path, args: tuple[str, ...], option: str, message: str
) -> None:
    result = ivr(conf, "handsets", "add", *args)
    assert result.exit_code == 2, result.output
    assert option in result.output and message in result.output
    assert registered(conf) == []


def test_import_then_list_as_json(conf: Path) -> None:
    out = ok(conf, "handsets", "import", str(DATA / "good.csv"))
    assert out.splitlines() == [
        "created customer Acme Ltd",
        "created customer Northern Widgets",
        "imported 2 rows: 2 added, 0 updated",
    ]
    rows = json.loads(ok(conf, "handsets", "list", "--json"))
    assert [(r["number"], r["customer"]) for r in rows] == [
        ("+442079460000", "Acme Ltd"),  # by customer
        ("+441614960000", "Northern Widgets"),
    ]
    assert all(r["added_at"] for r in rows)
    text = ok(conf, "handsets", "list")
    assert text.splitlines() == [
        "+442079460000    Acme Ltd",
        "+441614960000    Northern Widgets",
    ]
    # Importing again changes nothing.
    out = ok(conf, "handsets", "import", str(DATA / "good.csv"))
    assert out.strip() == "imported 2 rows: 0 added, 0 updated"


def test_import_with_a_bad_line_names_it_and_imports_nothing(conf: Path) -> None:
    result = ivr(conf, "handsets", "import", str(DATA / "bad.csv"))
    assert result.exit_code == 1
    assert "bad.csv: nothing imported" in result.output
    assert "line 3: 'not-a-number' is not a telephone number" in result.output
    assert "line 4: expected NUMBER,CUSTOMER" in result.output
    assert "line 2" not in result.output  # the good line is not blamed...
    assert registered(conf) == []  # ...and not imported either


def test_import_a_missing_file_is_a_usage_error(conf: Path, tmp_path: Path) -> None:
    result = ivr(conf, "handsets", "import", str(tmp_path / "absent.csv"))
    assert result.exit_code == 2
    assert "'CSV_FILE'" in result.output and "does not exist" in result.output


def test_remove_in_any_form_and_unknown_numbers(conf: Path) -> None:
    ok(conf, "handsets", "import", str(DATA / "good.csv"))
    out = ok(conf, "handsets", "remove", "+44 161 496 0000")
    assert out.strip() == "removed +441614960000 (Northern Widgets)"
    assert registered(conf) == [("+442079460000", "Acme Ltd")]

    result = ivr(conf, "handsets", "remove", "0161 496 0000")
    assert result.exit_code == 1
    assert result.output.strip() == "Error: +441614960000 is not registered"
    result = ivr(conf, "handsets", "remove", "nobody")
    assert result.exit_code == 2
    assert "'NUMBER'" in result.output and "is not a telephone number" in result.output
    assert registered(conf) == [("+442079460000", "Acme Ltd")]


def test_list_with_no_handsets(conf: Path) -> None:
    assert ok(conf, "handsets", "list").strip() == "no handsets registered"
    assert json.loads(ok(conf, "handsets", "list", "--json")) == []
