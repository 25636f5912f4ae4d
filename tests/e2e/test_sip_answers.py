"""INVITEs the fault line must refuse: an unsupported body, a body too large, a scanner.

RFC 3261 asks for 415, 513 and (for a scanner, by our own rule) no answer
at all. The SIP engine answers the first two itself before it reports a
call, and has sent 180 to a scanner before we can see its User-Agent;
tests/data/sip/answers/expected.toml says what it does instead and why
the binding cannot do otherwise. What we do guarantee is tested here:
each is refused, never answered, never logged as a call, and the service
goes on taking calls. Sender and service run in a network namespace of
the test's own (the messages' Via names ports the sender must listen on).
"""

from __future__ import annotations

import json
import sys
import tomllib
from pathlib import Path

from tests.e2e.conftest import KNOWN_NUMBER, FaultLine
from tests.e2e.netns import NetNamespace, netns  # noqa: F401  (fixture)
from tests.e2e.test_spine import assert_sipp_ok
from tests.e2e.torture import final_status

DATA = Path(__file__).resolve().parents[1] / "data" / "sip"
ANSWERS = DATA / "answers"
SENDER = Path(__file__).parent / "torture.py"
MESSAGES = (
    ANSWERS / "unsupported_body_type.sip",
    ANSWERS / "body_too_large.sip",
    DATA / "scanner_invite.sip",
)


def test_refused_invites_are_never_answered_nor_logged(
    netns: NetNamespace,  # noqa: F811
    fault_line_factory: object,
) -> None:
    line: FaultLine = fault_line_factory(start=False)  # type: ignore[operator]
    line.command_prefix = netns.prefix
    line.start()
    expected = tomllib.loads((ANSWERS / "expected.toml").read_text(encoding="utf-8"))

    result = netns.run(
        sys.executable, str(SENDER), "send", "--to", f"127.0.0.1:{line.port}",
        *(str(path) for path in MESSAGES),
        timeout=120,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    observed = {
        record["file"]: record["responses"]
        for record in (json.loads(row) for row in result.stdout.splitlines())
    }
    table = "\n".join(
        f"{name:28} {final_status(observed[name]):14} wanted {expected[name]['wanted']:12}"
        f" {expected[name]['verdict']}"
        for name in observed
    )
    print(f"refused INVITEs: observed, the RFC's answer, verdict\n{table}")
    assert sorted(observed) == sorted(path.name for path in MESSAGES)
    for name, responses in observed.items():
        assert not [r for r in responses if r.startswith("SIP/2.0 2")], (name, responses)
        assert final_status(responses) in expected[name]["accept"], table

    # The scanner reached the call handler, which refused it unanswered.
    line.wait_for_output(r"refused: scanner User-Agent 'friendly-scanner'", timeout=10)
    assert line.ivr_json("calls", "list") == []
    # And the service still takes a whole report.
    report = line.sipp("caller_report.xml", [(KNOWN_NUMBER, "1", "After refusals")])
    assert_sipp_ok(line, "caller_report.xml", report)
    assert len(line.ivr_json("faults", "list")) == 1
    assert not [text for text in line.output if "Traceback" in text], "".join(line.output)
