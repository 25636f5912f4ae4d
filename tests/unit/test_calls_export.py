"""`ivr calls export --csv`: Asterisk-shaped call detail records through the real command line."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from ivr.admin.cli import main
from ivr.store.db import Database
from ivr.store.models import CallRecord

# Wednesday 1 July 2026 (BST, UTC+1) and Wednesday 25 November 2026 (GMT).
SUMMER = datetime(2026, 7, 1, 9, 0, 0, tzinfo=UTC)
WINTER = datetime(2026, 11, 25, 14, 0, 0, tzinfo=UTC)
S = timedelta(seconds=1)


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
                CallRecord(
                    sip_call_id="winter@phone",
                    cli="+442079460000",
                    verified=True,
                    customer="Acme, Ltd",  # a comma, quoted by the CSV writer
                    started_at=WINTER,
                    answered_at=WINTER + 2 * S,
                    ended_at=WINTER + 47 * S,
                    digits="31",
                    outcome="reported",
                    fault_reference="471203",
                    node="host-a:5060",
                ),
                CallRecord(
                    sip_call_id="=HYPERLINK(evil)",
                    cli=None,
                    started_at=SUMMER,
                    answered_at=SUMMER + S,
                    ended_at=SUMMER + 12 * S,
                    outcome="rejected",
                ),
                CallRecord(
                    sip_call_id="gave-up@phone",
                    cli="+442079460000",
                    started_at=WINTER + 60 * S,
                    ended_at=WINTER + 61 * S,
                    outcome="abandoned",
                ),
                CallRecord(
                    sip_call_id="cut-off@phone",
                    cli="+442079460000",
                    started_at=WINTER + 120 * S,
                    answered_at=WINTER + 121 * S,
                    outcome="interrupted",
                ),
            ]
        )
    db.dispose()
    return path


def export(conf: Path, *args: str) -> tuple[Result, list[dict[str, str]]]:
    result = CliRunner().invoke(main, ["--config", str(conf), "calls", "export", "--csv", *args])
    return result, list(csv.DictReader(io.StringIO(result.output)))


def test_header_starts_with_asterisks_cdr_columns_then_ours(conf: Path) -> None:
    result, _ = export(conf)
    assert result.exit_code == 0, result.output
    assert result.output.splitlines()[0] == (
        "src,dst,start,answer,end,duration,billsec,disposition,uniqueid,"
        "verified,customer,digits,fault_reference,outcome,sip_call_id,node,dcontext,lastapp"
    )


def test_records_oldest_first_in_local_time_with_durations_and_dispositions(conf: Path) -> None:
    _, rows = export(conf)
    assert [row["sip_call_id"] for row in rows] == [
        "'=HYPERLINK(evil)",  # caller-controlled text never becomes a spreadsheet formula
        "winter@phone",
        "gave-up@phone",
        "cut-off@phone",
    ]
    summer, winter, gave_up, cut_off = rows
    assert (summer["start"], summer["answer"], summer["end"]) == (
        "2026-07-01 10:00:00",  # BST
        "2026-07-01 10:00:01",
        "2026-07-01 10:00:12",
    )
    assert summer["src"] == "" and summer["verified"] == "no"
    assert winter == {
        "src": "+442079460000",
        "dst": "+442033551151",
        "start": "2026-11-25 14:00:00",  # GMT
        "answer": "2026-11-25 14:00:02",
        "end": "2026-11-25 14:00:47",
        "duration": "47",
        "billsec": "45",
        "disposition": "ANSWERED",
        "uniqueid": winter["uniqueid"],
        "verified": "yes",
        "customer": "Acme, Ltd",
        "digits": "31",
        "fault_reference": "471203",
        "outcome": "reported",
        "sip_call_id": "winter@phone",
        "node": "host-a:5060",
        "dcontext": "fault-line",
        "lastapp": "IVR",
    }
    assert winter["uniqueid"].startswith(f"{int(WINTER.timestamp())}.")
    assert (gave_up["disposition"], gave_up["duration"], gave_up["billsec"]) == (
        "NO ANSWER",
        "1",
        "0",
    )
    # Its end is unknown: no duration is made up.
    assert (cut_off["end"], cut_off["duration"], cut_off["billsec"]) == ("", "", "")
    assert len({row["uniqueid"] for row in rows}) == 4


def test_filters_and_output_file(conf: Path, tmp_path: Path) -> None:
    _, rows = export(conf, "--since", "2026-11-01", "--outcome", "reported")
    assert [row["sip_call_id"] for row in rows] == ["winter@phone"]
    _, rows = export(conf, "--cli", "020 7946 0000", "--until", "2026-11-25T14:01:30")
    assert [row["sip_call_id"] for row in rows] == ["winter@phone", "gave-up@phone"]
    out = tmp_path / "cdr.csv"
    result, _ = export(conf, "--output", str(out))
    assert result.exit_code == 0 and result.output == ""
    assert len(out.read_text(encoding="utf-8").splitlines()) == 5


def test_a_bad_filter_is_a_usage_error(conf: Path) -> None:
    result, _ = export(conf, "--cli", "not a number")
    assert result.exit_code == 2
    assert "--cli" in result.output


def test_close_interrupted_marks_a_dead_nodes_open_calls(conf: Path) -> None:
    db = Database(f"sqlite:///{conf.parent}/x.db")
    with db.sessions.begin() as session:
        session.add(
            CallRecord(
                sip_call_id="open@dead", node="dead:5060", started_at=WINTER, outcome="in_progress"
            )
        )
    db.dispose()
    args = ["--config", str(conf), "calls", "close-interrupted", "--node", "dead:5060"]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 0 and "1 call(s) of dead:5060 marked interrupted" in result.output
    _, rows = export(conf, "--outcome", "interrupted")
    assert [row["sip_call_id"] for row in rows] == ["open@dead", "cut-off@phone"]  # oldest first
