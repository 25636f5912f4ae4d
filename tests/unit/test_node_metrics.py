"""A node's metrics and health answers, through the WSGI app itself (no socket)."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from prometheus_client.parser import text_string_to_metric_families

from ivr.domain import Outcome
from ivr.metrics import Health, NodeMetrics, wsgi_app
from ivr.sip.engine import CallMedia


def get(app: Callable[..., Any], path: str) -> tuple[str, bytes]:
    answer: list[str] = []

    def start_response(status: str, headers: list[tuple[str, str]]) -> None:
        answer.append(status)

    environ = {"PATH_INFO": path, "REQUEST_METHOD": "GET", "QUERY_STRING": ""}
    body = b"".join(app(environ, start_response))
    return answer[0], body


def samples(metrics: NodeMetrics) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    status, body = get(wsgi_app(metrics, lambda: Health(True, True)), "/metrics")
    assert status.startswith("200")
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(body.decode())
        for sample in family.samples
    }


def test_two_services_in_one_process_count_apart() -> None:
    one, two = NodeMetrics(), NodeMetrics()
    one.call_finished(Outcome.REPORTED)
    one.response_sent(486)
    assert samples(one)[("faultline_node_calls_total", (("outcome", "reported"),))] == 1
    assert samples(two)[("faultline_node_calls_total", (("outcome", "reported"),))] == 0
    assert samples(one)[("faultline_node_sip_responses_total", (("code", "486"),))] == 1


def test_a_call_media_adds_to_the_rtp_figures() -> None:
    metrics = NodeMetrics()
    metrics.media(
        CallMedia(sent=500, received=480, lost_sent=3, lost_received=20, jitter_seconds=0.004)
    )
    metrics.media(CallMedia(sent=10, received=0, lost_sent=0, lost_received=0, jitter_seconds=0.0))
    found = samples(metrics)
    assert found[("faultline_node_rtp_packets_total", (("direction", "sent"),))] == 510
    assert found[("faultline_node_rtp_lost_packets_total", (("direction", "received"),))] == 20
    # A call that received nothing has no jitter to speak of.
    assert found[("faultline_node_rtp_jitter_seconds_count", ())] == 1
    assert found[("faultline_node_rtp_jitter_seconds_bucket", (("le", "0.005"),))] == 1


def test_healthz_is_503_naming_what_is_wrong() -> None:
    down = Health(sip_listening=True, database=False, detail="database: connection refused")
    status, body = get(wsgi_app(NodeMetrics(), lambda: down), "/healthz")
    assert status.startswith("503")
    assert json.loads(body) == {
        "ok": False,
        "sip_listening": True,
        "database": False,
        "detail": "database: connection refused",
    }
    status, body = get(wsgi_app(NodeMetrics(), lambda: Health(True, True)), "/healthz")
    assert status.startswith("200") and json.loads(body)["ok"] is True


def test_anything_else_is_404() -> None:
    status, _ = get(wsgi_app(NodeMetrics(), lambda: Health(True, True)), "/")
    assert status.startswith("404")
