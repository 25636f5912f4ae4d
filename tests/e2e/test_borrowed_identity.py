"""A caller cannot borrow a trusted source's identity (RFC 3325), end to end.

The attack: an INVITE from an untrusted address names a customer in
P-Asserted-Identity, and within a millisecond a second INVITE with the
same Call-ID comes from the trusted trunk's address. The service and the
sender run in a network namespace of the test's own, where 127.0.0.2 is
the trusted trunk and 127.0.0.1 the attacker (tests/e2e/borrow.py). The
call's source must be the one that created it, or ambiguous: never
verified. A lone INVITE from the trunk shows the trust is really there.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from tests.e2e.conftest import KNOWN_NUMBER, FaultLine
from tests.e2e.netns import NetNamespace, netns  # noqa: F401  (fixture)
from tests.e2e.test_spine import UNKNOWN_NUMBER

SENDER = Path(__file__).parent / "borrow.py"
TRIES = 30


def attack(ns: NetNamespace, line: FaultLine, *extra: str) -> dict[str, Any]:
    result = ns.run(
        sys.executable, str(SENDER), "--to", f"127.0.0.1:{line.port}",
        "--untrusted", "127.0.0.1", "--trusted", "127.0.0.2",
        "--from-number", UNKNOWN_NUMBER, "--pai-number", KNOWN_NUMBER, *extra,
        timeout=600,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    summary: dict[str, Any] = json.loads(result.stdout)
    assert summary["open"] == [], summary
    return summary


def ended_calls(line: FaultLine, prefix: str, count: int) -> list[dict[str, Any]]:
    def calls() -> list[dict[str, Any]]:
        rows = line.ivr_json("calls", "list", "--limit", "1000")
        return [row for row in rows if row["sip_call_id"].startswith(prefix)]

    line.wait_until(lambda: sum(1 for c in calls() if c["ended_at"]) >= count)
    return calls()


def test_a_second_invite_from_a_trusted_source_lends_no_identity(
    netns: NetNamespace,  # noqa: F811
    fault_line_factory: Any,
) -> None:
    trunk = {"trusted_addresses": "127.0.0.2", "require_trusted_source": "yes"}
    line: FaultLine = fault_line_factory(start=False, trunk=trunk)
    line.command_prefix = netns.prefix
    line.start()

    summary = attack(netns, line, "--tries", str(TRIES))
    # Every attacker's INVITE was answered and so became a call.
    # (A copy from the trunk with its own From tag is a second call.)
    assert len(summary["finals"]) == TRIES
    answered = 0
    for call_id, finals in summary["finals"].items():
        assert "127.0.0.1 200" in finals, (call_id, finals)
        answered += len({final for final in finals if final.endswith(" 200")})
    calls = ended_calls(line, "borrow-", answered)
    verified = [c for c in calls if c["verified"]]
    print(f"{len(verified)} of {len(calls)} calls in {TRIES} tries verified")
    assert verified == []
    assert len(calls) == answered
    assert {c["sip_call_id"] for c in calls} == set(summary["finals"])
    # A call's recorded source is its own INVITE's, or none when ambiguous.
    assert {c["source_address"] for c in calls} <= {"127.0.0.1", None}
    assert all(c["verification"] == "source address is not trusted" for c in calls)
    assert line.ivr_json("faults", "list") == []
    uncertain = [text for text in line.output if "source uncertain, so untrusted" in text]
    print(f"{len(uncertain)} call(s) logged with an ambiguous source")

    # The same INVITE from the trunk alone is believed: the trust is real.
    attack(netns, line, "--control")
    (control,) = ended_calls(line, "control-", 1)
    assert control["verified"] is True
    assert control["source_address"] == "127.0.0.2"
    assert control["verification"] == "asserted by trusted source"
    assert not [text for text in line.output if "Traceback" in text], "".join(line.output)
