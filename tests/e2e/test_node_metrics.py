"""A node's own /metrics and /healthz ([general] metrics_listen), read during and after a call.

Parsed with prometheus_client's own text parser, as Prometheus would read it.
"""

from __future__ import annotations

import json
import subprocess
import threading
import urllib.error
import urllib.request
from typing import Any

from prometheus_client.parser import text_string_to_metric_families

from tests.e2e.conftest import KNOWN_NUMBER, FaultLine
from tests.e2e.test_spine import assert_sipp_ok
from tests.ports import free_port

SCENARIO = "caller_report.xml"
IN_PROGRESS = ("faultline_node_calls_in_progress", ())


def scrape(port: int) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """Every sample by (name, labels)."""
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=10) as response:
        text = response.read().decode()
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def health(port: int) -> tuple[int, dict[str, Any]]:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=10) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read())


def test_metrics_count_the_call_while_it_lasts_and_its_outcome_after(
    fault_line_factory: Any,
) -> None:
    port = free_port()
    line: FaultLine = fault_line_factory(
        general={"metrics_listen": f"127.0.0.1:{port}"},
    )
    status, body = health(port)
    assert status == 200 and body["sip_listening"] and body["database"], body
    before = scrape(port)
    assert before[IN_PROGRESS] == 0
    assert before[("faultline_node_calls_total", (("outcome", "reported"),))] == 0
    assert ("process_cpu_seconds_total", ()) in before  # the process collector is there

    results: list[subprocess.CompletedProcess[str]] = []
    caller = threading.Thread(
        target=lambda: results.append(line.sipp(SCENARIO, [(KNOWN_NUMBER, "3", "Acme desk")]))
    )
    caller.start()
    try:
        # The call is seen live (it lasts seconds: menu, read-back, reference, description).
        line.wait_until(lambda: scrape(port)[IN_PROGRESS] == 1, timeout=60)
    finally:
        caller.join(timeout=120)
    (result,) = results
    assert_sipp_ok(line, SCENARIO, result)
    (call,) = line.ivr_json("calls", "list")
    finished = ("faultline_node_calls_total", (("outcome", call["outcome"]),))
    # Counted under the outcome the call log has (normally "reported"), once it has ended.
    line.wait_until(lambda: scrape(port)[finished] == 1, timeout=30)
    after = scrape(port)
    totals = {k: v for k, v in after.items() if k[0].endswith("_total") and v}
    print("node counters after one call:", totals)  # measured, for the record
    assert after[IN_PROGRESS] == 0
    assert sum(v for (name, _), v in after.items() if name == "faultline_node_calls_total") == 1
    assert after[("faultline_node_sip_responses_total", (("code", "200"),))] >= 1
    assert after[("faultline_node_rtp_packets_total", (("direction", "sent"),))] > 0
    assert after[("faultline_node_rtp_packets_total", (("direction", "received"),))] > 0
    assert after[("faultline_node_rtp_jitter_seconds_count", ())] == 1
    assert after[("faultline_node_db_commit_seconds_count", ())] >= 2  # the call opened, closed
    assert after[("faultline_node_db_writes_pending", ())] == 0
