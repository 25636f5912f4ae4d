"""Floods and scanners: the guard in front of the SIP port, and the call handler.

The flood test runs the service in a network namespace of its own, so the
firewall rules it installs (nftables and iptables) touch neither this
machine nor the other tests, and go away with the namespace.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

from tests.e2e.conftest import KNOWN_NUMBER, FaultLine
from tests.e2e.netns import NetNamespace, netns  # noqa: F401  (fixture)
from tests.e2e.test_spine import assert_sipp_ok

FLOOD = Path(__file__).parent / "flood.py"
SCANNER_INVITE = Path(__file__).resolve().parents[1] / "data" / "sip" / "scanner_invite.sip"
FLOOD_COUNT = 3000
FLOOD_SECONDS = 6.0


def test_a_flood_is_banned_while_a_genuine_call_completes(
    netns: NetNamespace,  # noqa: F811
    fault_line_factory: object,
) -> None:
    guard = {"enabled": "yes", "requests_per_second": "20", "burst": "40", "ban_seconds": "30"}
    line: FaultLine = fault_line_factory(start=False, guard=guard)  # type: ignore[operator]
    line.command_prefix = netns.prefix
    line.start()
    line.wait_for_output(r"guard: table inet ivr_guard_\d+", timeout=5)
    line.wait_for_output(r"guard: iptables chain IVR_GUARD_\d+ drops", timeout=5)
    target = f"127.0.0.1:{line.port}"

    flood_started = time.monotonic()
    flood = subprocess.Popen(
        [
            *netns.prefix,
            sys.executable,
            str(FLOOD),
            "--to",
            target,
            "--source",
            "127.0.0.2",
            "--count",
            str(FLOOD_COUNT),
            "--seconds",
            str(FLOOD_SECONDS),
        ],  # fmt: skip
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        # A customer rings from another address once the flood is in full swing.
        time.sleep(1.0)
        call_placed = time.monotonic() - flood_started
        call = line.sipp("caller_report.xml", [(KNOWN_NUMBER, "3", "During the flood")])
        out, err = flood.communicate(timeout=FLOOD_SECONDS + 20)
    finally:
        if flood.poll() is None:
            flood.kill()
            flood.wait()
    assert flood.returncode == 0, err
    summary = json.loads(out)
    print(f"flood from 127.0.0.2: {summary}")

    assert line.process is not None and line.process.poll() is None, "".join(line.output[-60:])
    assert_sipp_ok(line, "caller_report.xml", call)
    assert summary["sent"] == FLOOD_COUNT and summary["seconds"] < 10
    assert call_placed < summary["seconds"], "the call was not placed during the flood"
    # The flooding address was banned early: of its 2000 requests (and 1000
    # garbage datagrams) only about the first burst's were ever answered.
    assert summary["answered"] < 60, summary
    banned = netns.run("nft", "list", "set", "inet", f"ivr_guard_{line.port}", "banned4").stdout
    assert "127.0.0.2" in banned and "127.0.0.1" not in banned, banned
    print(banned)

    # A scanner from a third address is dropped by the firewall: no answer at all.
    scan = netns.run(
        sys.executable, str(FLOOD), "--to", target, "--source", "127.0.0.3",
        "--one", str(SCANNER_INVITE),
    )  # fmt: skip
    assert scan.returncode == 0, scan.stderr
    assert json.loads(scan.stdout)["replies"] == []

    calls = line.ivr_json("calls", "list")
    genuine = [c for c in calls if c["display_name"] == "During the flood"]
    assert [c["outcome"] for c in genuine] == ["reported"]
    assert not [c for c in calls if c["sip_call_id"].startswith("scanner-")]
    # INVITEs that got through before the ban are unknown callers, never faults.
    assert all(c["outcome"] != "reported" for c in calls if c not in genuine)
    assert len(line.ivr_json("faults", "list")) == 1

    # Shutdown takes every rule out again.
    assert line.stop() == 0
    assert f"ivr_guard_{line.port}" not in netns.run("nft", "list", "ruleset").stdout
    assert "IVR_GUARD" not in netns.run("iptables", "-S").stdout


def test_a_scanner_invite_is_refused_unanswered(fault_line: FaultLine) -> None:
    # The guard is off here (no firewall on this machine): the call handler
    # refuses the scanner by its User-Agent before answering.
    result = fault_line.sipp("scanner_invite.xml", [(KNOWN_NUMBER, "", "100")])
    assert_sipp_ok(fault_line, "scanner_invite.xml", result)
    fault_line.wait_for_output(r"refused: scanner User-Agent 'friendly-scanner'", timeout=10)
    assert fault_line.ivr_json("calls", "list") == []
    assert fault_line.ivr_json("faults", "list") == []
    assert fault_line.process is not None and fault_line.process.poll() is None
