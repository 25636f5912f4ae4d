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
    # Five seconds of silence end the description: the call lasts long enough to be seen.
    line: FaultLine = fault_line_factory(
        general={"metrics_listen": f"127.0.0.1:{port}"},
        recording={"silence_seconds": "5"},
    )
    status, body = health(port)
    assert status == 200 and body["sip_listening"] and body["database"], body
    before = scrape(port)
    assert before[("faultline_node_calls_in_progress", ())] == 0
    assert before[("faultline_node_calls_total", (("outcome", "reported"),))] == 0
    assert ("process_cpu_seconds_total", ()) in before  # the process collector is there

    results: list[subprocess.CompletedProcess[str]] = []
    caller = threading.Thread(
        target=lambda: results.append(line.sipp(SCENARIO, [(KNOWN_NUMBER, "3", "Acme desk")]))
    )
    caller.start()
    try:
        line.wait_for_output(r"recording the description of fault")
        during = scrape(port)
    finally:
        caller.join(timeout=120)
    (result,) = results
    assert_sipp_ok(line, SCENARIO, result)
    assert during[("faultline_node_calls_in_progress", ())] == 1
    assert during[("faultline_node_calls_total", (("outcome", "reported"),))] == 0

    def counted() -> bool:
        return scrape(port)[("faultline_node_calls_total", (("outcome", "reported"),))] == 1

    line.wait_until(counted, timeout=30)
    after = scrape(port)
    assert after[("faultline_node_calls_in_progress", ())] == 0
    assert after[("faultline_node_sip_responses_total", (("code", "200"),))] >= 2  # INVITE, INFO
    assert after[("faultline_node_rtp_packets_total", (("direction", "sent"),))] > 0
    assert after[("faultline_node_rtp_packets_total", (("direction", "received"),))] > 0
    assert after[("faultline_node_rtp_jitter_seconds_count", ())] == 1
    assert after[("faultline_node_db_commit_seconds_count", ())] >= 3  # open, fault, close
    assert after[("faultline_node_db_writes_pending", ())] == 0

