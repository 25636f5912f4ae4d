"""`ivr calls list` (and `calls export --priority`) through the real command line."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from ivr.admin.cli import main
from ivr.store.db import Database
from ivr.store.models import CallRecord, Fault

# Wednesday 25 November 2026, 10:00 GMT (London is on UTC then).
T0 = datetime(2026, 11, 25, 10, 0, tzinfo=UTC)
H = timedelta(hours=1)


def call(
    name: str, hours: int, outcome: str, cli: str | None = "+442079460000", **kw: object
) -> CallRecord:
    return CallRecord(
        sip_call_id=f"{name}@phone",
        cli=cli,
        started_at=T0 + hours * H,
        ended_at=T0 + hours * H + timedelta(seconds=40),
        outcome=outcome,
        **kw,
    )


def fault(reference: str, priority: str, hours: int) -> Fault:
    return Fault(reference=reference, priority=priority, reported_at=T0 + hours * H)


@pytest.fixture
def conf(tmp_path: Path) -> Path:
    path = tmp_path / "sip.conf"
    path.write_text(
        f"[general]\ndatabase = sqlite:///{tmp_path}/x.db\ntimezone = Europe/London\n",
        encoding="utf-8",
    )
    db = Database(f"sqlite:///{tmp_path}/x.db")
    db.create_schema()
    with db.sessions.begin() as session:
        session.add_all(
            [
                fault("100001", "critical", 0),
                fault("100002", "high", 1),
                fault("100003", "standard", 2),
                call("critical", 0, "reported", verified=True, fault_reference="100001"),
                call("high", 1, "reported", verified=True, fault_reference="100002"),
                call("standard", 2, "reported", "+442079460001", fault_reference="100003"),
                call("withheld", 3, "rejected", None),
                call("gave-up", 4, "abandoned"),
                # A repeat caller adding a description to the critical fault.
                call("again", 5, "updated", fault_reference="100001"),
            ]
        )
    db.dispose()
    return path


def ivr(conf: Path, *args: str) -> Result:
    return CliRunner().invoke(main, ["--config", str(conf), *args])


def names(conf: Path, *args: str) -> list[str]:
    """The calls `ivr calls list ARGS --json` prints, newest first, by their short name."""
    result = ivr(conf, "calls", "list", *args, "--json")
    assert result.exit_code == 0, result.output
    return [row["sip_call_id"].removesuffix("@phone") for row in json.loads(result.output)]


def test_list_json_newest_first_with_every_field(conf: Path) -> None:
    result = ivr(conf, "calls", "list", "--json")
    assert result.exit_code == 0, result.output
    rows = json.loads(result.output)
    assert [r["sip_call_id"] for r in rows] == [
        "again@phone",
        "gave-up@phone",
        "withheld@phone",
        "standard@phone",
        "high@phone",
        "critical@phone",
    ]
    first = rows[-1]
    assert first["cli"] == "+442079460000"
    assert first["verified"] is True
    assert first["outcome"] == "reported"
    assert first["fault_reference"] == "100001"
    assert first["started_at"] == "2026-11-25T10:00:00+00:00"


def test_list_text(conf: Path) -> None:
    result = ivr(conf, "calls", "list", "--limit", "2")
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert len(lines) == 2
    assert lines[0].startswith("2026-11-25 15:00:00 +442079460000")
    assert "updated" in lines[0] and lines[0].endswith("ref 100001")
    assert "withheld" not in result.output
    result = ivr(conf, "calls", "list", "--since", "2030-01-01")
    assert result.exit_code == 0 and result.output.strip() == "no calls"


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (("--since", "2026-11-25T13:00"), ["again", "gave-up", "withheld"]),
        (("--until", "2026-11-25T12:00"), ["high", "critical"]),  # before, not at, 12:00
        (
            ("--since", "2026-11-25T11:00Z", "--until", "2026-11-25T13:00+00:00"),
            ["standard", "high"],
        ),
        (("--cli", "020 7946 0001"), ["standard"]),
        (("--cli", "+44 (0)20 7946 0000"), ["again", "gave-up", "high", "critical"]),
        (("--cli", "sip:02079460000@pbx.example"), ["again", "gave-up", "high", "critical"]),
        (("--outcome", "reported"), ["standard", "high", "critical"]),
        (("--outcome", "after_hours"), []),
        (("--priority", "critical"), ["again", "critical"]),
        (("--priority", "high"), ["high"]),
        (("--priority", "standard"), ["standard"]),
        (("--priority", "critical", "--outcome", "reported"), ["critical"]),
        (("--priority", "critical", "--since", "2026-11-25T10:30"), ["again"]),
        (("--cli", "02079460000", "--outcome", "reported", "--limit", "1"), ["high"]),
        (("--limit", "3"), ["again", "gave-up", "withheld"]),
    ],
)
def test_list_filters(conf: Path, args: tuple[str, ...], expected: list[str]) -> None:
    assert names(conf, *args) == expected


@pytest.mark.parametrize(
    ("args", "option", "message"),
    [
        (("--since", "yesterday"), "'--since'", "is not an ISO 8601 date-time"),
        (("--until", "2026-13-01"), "'--until'", "is not an ISO 8601 date-time"),
        (("--since", "2026-03-29T01:30"), "'--since'", "does not exist in Europe/London"),
        (("--cli", "not a number"), "--cli", "is not a telephone number"),
        (("--cli", "020 7946"), "--cli", "not a valid number"),
        (("--limit", "ten"), "'--limit'", "is not a valid integer"),
        (("--limit", "0"), "'--limit'", "is not in the range"),
        (("--outcome", "exploded"), "'--outcome'", "is not one of"),
        (("--priority", "urgent"), "'--priority'", "is not one of 'standard', 'high', 'critical'"),
    ],
)
def test_list_bad_input_is_a_usage_error_naming_the_option(
    conf: Path, args: tuple[str, ...], option: str, message: str
) -> None:
    result = ivr(conf, "calls", "list", *args)
    assert result.exit_code == 2, result.output
    assert option in result.output and message in result.output
    assert "Traceback" not in result.output


def test_export_by_priority(conf: Path) -> None:
    result = ivr(conf, "calls", "export", "--csv", "--priority", "critical")
    assert result.exit_code == 0, result.output
    rows = list(csv.DictReader(io.StringIO(result.output)))
    assert [(r["sip_call_id"], r["fault_reference"]) for r in rows] == [
        ("critical@phone", "100001"),  # oldest first
        ("again@phone", "100001"),
    ]
    result = ivr(conf, "calls", "export", "--priority", "urgent")
    assert result.exit_code == 2 and "'--priority'" in result.output
