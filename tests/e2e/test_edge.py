"""The edge: deploy/kamailio/kamailio.cfg bans a flooding source and drops scanners.

Everything runs in a network namespace of the test's own (only `lo`), so
the flood and the addresses it comes from touch nothing else: Kamailio on
127.0.0.2 in front of one node on 127.0.0.1 whose own guard is off
(`[guard] enabled = no`, the documented choice behind Kamailio), a customer
calling from 127.0.0.1, the flood from 127.0.0.4, a scanner from 127.0.0.6,
a bystander probing from 127.0.0.5, and the carrier trunk (127.0.0.3,
trusted.list), which is never limited.

Kamailio's limits are shipped defaults except the ban time, shortened
only so that nothing outlives the test by long (the namespace goes anyway).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from tests.e2e.conftest import KNOWN_NUMBER, SCENARIOS, FaultLine
from tests.e2e.netns import NetNamespace, netns  # noqa: F401  (fixture)
from tests.e2e.test_scale_out import PROXY, TRUNK, Kamailio, node_uri, wait_until
from tests.ports import free_port

FLOOD = Path(__file__).parent / "flood.py"
DATA = Path(__file__).resolve().parents[1] / "data" / "sip"
PROBE = DATA / "edge_options.sip"
SCANNER_INVITE = DATA / "scanner_invite.sip"
FLOODER = "127.0.0.4"
BYSTANDER = "127.0.0.5"
SCANNER = "127.0.0.6"
FLOOD_COUNT = 3000
FLOOD_SECONDS = 8.0
# Requests from the trunk in one second: six times what bans anyone else.
TRUNK_COUNT = 100
BAN_SECONDS = 120
CALL_TIMEOUT = 90


def replies(space: NetNamespace, source: str, message: Path, proxy: Kamailio) -> list[str]:
    """The status lines Kamailio sends back to one message from `source`."""
    sent = space.run(
        sys.executable, str(FLOOD), "--to", f"{PROXY}:{proxy.port}", "--source", source,
        "--one", str(message),
    )  # fmt: skip
    assert sent.returncode == 0, sent.stderr
    answer: list[str] = json.loads(sent.stdout)["replies"]
    return answer


def banned(proxy: Kamailio) -> str:
    return proxy.rpc("htable.dump", "ipban").stdout


def test_kamailio_bans_a_flood_and_a_scanner_while_a_call_completes_through_it(
    netns: NetNamespace,  # noqa: F811
    fault_line_factory: object,
    tmp_path: Path,
) -> None:
    line: FaultLine = fault_line_factory(  # type: ignore[operator]
        start=False, trunk={"trusted_addresses": PROXY}, guard={"enabled": "no"}
    )
    line.command_prefix = netns.prefix
    line.start()
    line.wait_for_output(r"guard: disabled in \[guard\]", timeout=5)
    proxy = Kamailio(
        tmp_path,
        [node_uri(line)],
        defines={"BAN_SECONDS": str(BAN_SECONDS)},
        command_prefix=netns.prefix,
    )
    try:
        proxy.start()
        proxy.wait_for_state(node_uri(line), "A")
        # Before anything happens, a bystander is answered (405: the fault
        # line takes only INVITEs).
        assert replies(netns, BYSTANDER, PROBE, proxy) == ["SIP/2.0 405 Method Not Allowed"]

        command = [
            *netns.prefix, sys.executable, str(FLOOD),
            "--to", f"{PROXY}:{proxy.port}", "--source", FLOODER,
            "--count", str(FLOOD_COUNT), "--seconds", str(FLOOD_SECONDS),
        ]  # fmt: skip
        flood = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        try:
            wait_until(
                lambda: f"edge: {FLOODER} banned for {BAN_SECONDS} s" in "".join(proxy.output),
                FLOOD_SECONDS,
                "Kamailio to ban the flood",
            )
            # The customer rings through Kamailio while the flood goes on.
            assert flood.poll() is None, "the flood ended before the call was placed"
            call = call_through(netns, proxy, tmp_path)
            out, err = flood.communicate(timeout=FLOOD_SECONDS + 20)
        finally:
            if flood.poll() is None:
                flood.kill()
                flood.wait()
        assert flood.returncode == 0, err
        summary = json.loads(out)
        print(f"flood from {FLOODER} through Kamailio: {summary}")
        assert call.returncode == 0, (
            f"sipp exit {call.returncode}\n{call.stdout[-2000:]}\n{call.stderr[-2000:]}\n"
            + "".join(proxy.output[-40:])
            + "".join(line.output[-60:])
        )
        assert summary["sent"] == FLOOD_COUNT
        # About one unit's worth of its 2000 requests was answered (or
        # relayed to the node) before the ban; the rest fell on deaf ears.
        assert summary["answered"] < 60, summary
        table = banned(proxy)
        assert FLOODER in table and "127.0.0.1" not in table, table

        # Still banned after the flood; a bystander is still answered.
        assert replies(netns, FLOODER, PROBE, proxy) == []
        assert replies(netns, BYSTANDER, PROBE, proxy) == ["SIP/2.0 405 Method Not Allowed"]

        # A scanner's INVITE gets no answer, and neither does anything else it sends.
        assert replies(netns, SCANNER, SCANNER_INVITE, proxy) == []
        wait_until(
            lambda: (
                f"edge: scanner User-Agent 'friendly-scanner' from {SCANNER}"
                in "".join(proxy.output)
            ),
            10,
            "Kamailio to log the scanner",
        )
        assert replies(netns, SCANNER, PROBE, proxy) == []
        assert SCANNER in banned(proxy)

        # The trunk is never limited: the carrier sends every call from one address.
        command = [
            *netns.prefix, sys.executable, str(FLOOD),
            "--to", f"{PROXY}:{proxy.port}", "--source", TRUNK, "--options-only",
            "--count", str(TRUNK_COUNT), "--seconds", "1",
        ]  # fmt: skip
        trunk = subprocess.run(command, capture_output=True, text=True, timeout=30)
        assert trunk.returncode == 0, trunk.stderr
        assert json.loads(trunk.stdout)["answered"] == TRUNK_COUNT, trunk.stdout
        assert TRUNK not in banned(proxy)
    finally:
        proxy.stop()

    calls = line.ivr_json("calls", "list")
    genuine = [c for c in calls if c["display_name"] == "Through the edge"]
    assert [c["outcome"] for c in genuine] == ["reported"]
    assert not [c for c in calls if c["sip_call_id"].startswith("scanner-")]
    # The flood's INVITEs that got through before the ban are unknown callers, never faults.
    assert len(line.ivr_json("faults", "list")) == 1


def call_through(
    space: NetNamespace, proxy: Kamailio, workdir: Path
) -> subprocess.CompletedProcess[str]:
    """A customer's call (critical, confirmed) from 127.0.0.1 through the proxy."""
    inf = workdir / "edge-caller.csv"
    inf.write_text(f"SEQUENTIAL\n{KNOWN_NUMBER};3;Through the edge;\n", encoding="ascii")
    command = [
        *space.prefix,
        "sipp",
        "-sf", str(SCENARIOS / "caller_report.xml"),
        "-inf", str(inf),
        "-i", "127.0.0.1",
        "-p", str(free_port()),
        "-mp", str(free_port()),
        "-m", "1",
        "-timeout", f"{CALL_TIMEOUT}s",
        "-timeout_error",
        "-nostdin",
        "-trace_err",
        "-error_file", str(workdir / "edge-caller-errors.log"),
        f"{PROXY}:{proxy.port}",
    ]  # fmt: skip
    return subprocess.run(
        command, capture_output=True, text=True, timeout=CALL_TIMEOUT + 30, cwd=workdir
    )
