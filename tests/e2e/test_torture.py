"""RFC 4475 and RFC 5118 torture messages against the running fault line.

Service, sender and SIPp all run in a network namespace of the test's own
with only loopback: the messages name outside hosts (Via, Contact, SDP)
and nothing may follow them off this machine. Each message goes to the
service over UDP; what came back is compared with what the RFC allows (or
with what the engine is known to do instead: tests/data/sip-torture/
expected.toml says which, and why that is acceptable for callers). After
every message the service must still be running and a real call must
still be answered (a short one: the caller presses a key and hangs up);
after every BATCH messages a caller reports a whole fault.
"""

from __future__ import annotations

import json
import re
import sys
import tomllib
from pathlib import Path

import pytest

from tests.e2e.conftest import KNOWN_NUMBER, FaultLine
from tests.e2e.netns import NetNamespace, netns  # noqa: F401  (fixture)
from tests.e2e.test_spine import assert_sipp_ok
from tests.e2e.torture import final_status, server_runs, wire_message

TORTURE = Path(__file__).resolve().parents[1] / "data" / "sip-torture"
SENDER = Path(__file__).parent / "torture.py"
BATCH = 10
BETWEEN = "Between torture messages"
QUICK_CALL = "caller_answered_hangs_up.xml"


def section_order(path: Path) -> tuple[int, ...]:
    return tuple(int(part) for part in re.findall(r"\d+", path.name.split("_", 1)[0]))


def send(ns: NetNamespace, line: FaultLine, names: list[str]) -> dict[str, list[str]]:
    result = ns.run(
        sys.executable, str(SENDER), "send", "--to", f"127.0.0.1:{line.port}",
        *(str(TORTURE / name) for name in names),
        timeout=120,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    records = [json.loads(row) for row in result.stdout.splitlines()]
    return {record["file"]: record["responses"] for record in records}


@pytest.mark.timeout(900)  # 61 messages, each followed by a call
def test_torture_messages_leave_the_service_answering_calls(
    netns: NetNamespace,  # noqa: F811
    fault_line_factory: object,
) -> None:
    netns.route_everything_to_loopback()
    line: FaultLine = fault_line_factory(start=False)  # type: ignore[operator]
    line.command_prefix = netns.prefix
    expected = tomllib.loads((TORTURE / "expected.toml").read_text(encoding="utf-8"))
    paths = sorted(TORTURE.glob("*.dat"), key=section_order)
    assert len(paths) == 61
    runs = server_runs([(path.name, wire_message(path)) for path in paths])

    observed: dict[str, list[str]] = {}
    service_output: list[str] = []
    genuine_calls = 0
    for run in runs:
        line.start()
        for start in range(0, len(run), BATCH):
            batch = run[start : start + BATCH]
            for index, name in enumerate(batch):
                observed.update(send(netns, line, [name]))
                assert line.process is not None and line.process.poll() is None, (
                    f"service died after {name}:\n" + "".join(line.output[-60:])
                )
                if index < len(batch) - 1:  # the last one is followed by a whole report
                    short = line.sipp(QUICK_CALL, [(KNOWN_NUMBER, "", BETWEEN)])
                    assert_sipp_ok(line, QUICK_CALL, short)
            result = line.sipp("caller_report.xml", [(KNOWN_NUMBER, "1", "After torture")])
            assert_sipp_ok(line, "caller_report.xml", result)
            genuine_calls += 1
        service_output += line.output
        assert line.stop() == 0, "".join(line.output[-60:])

    table = "\n".join(
        f"{name:40} {final_status(observed[name]):18} {expected[name]['verdict']}"
        for name in (path.name for path in paths)
    )
    print(f"torture messages: observed and verdict\n{table}")
    (line.workdir / "torture-table.txt").write_text(table + "\n", encoding="utf-8")
    wrong = [
        f"{name}: {final_status(observed[name])} not in {expected[name]['accept']}"
        for name in observed
        if final_status(observed[name]) not in expected[name]["accept"]
    ]
    assert not wrong, "\n".join(wrong) + "\n\n" + table
    assert sorted(observed) == sorted(path.name for path in paths)
    assert not [text for text in service_output if "Traceback" in text], "".join(service_output)

    # Every genuine call was taken in full; no torture message made a fault.
    faults = line.ivr_json("faults", "list")
    assert len(faults) == genuine_calls
    calls = line.ivr_json("calls", "list", "--limit", "1000")
    reported = [call for call in calls if call["outcome"] == "reported"]
    assert len(reported) == genuine_calls
    between = [call for call in calls if call["display_name"] == BETWEEN]
    assert len(between) == len(paths) - genuine_calls
    assert {(call["outcome"], call["verified"]) for call in between} == {("abandoned", True)}
    for call in calls:
        if call["outcome"] != "reported" and call["display_name"] != BETWEEN:
            assert call["verified"] is False
            assert call["fault_reference"] is None
