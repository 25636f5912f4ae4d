"""One node's own numbers: /metrics and /healthz for `ivr serve` ([general] metrics_listen).

The web's /metrics (`ivr.admin.web.metrics`) counts what the database holds
for the whole cluster; these are what only this process can see: its live
calls, the SIP answers its stack sent, its RTP, its database writer, its
own CPU and memory. Hence `faultline_node_*` names: a call is in both, and
the two must never be summed.

Each service gets a registry of its own (no module-level state): two
services in one test process count apart. The HTTP server is the standard
library's, in a thread, so that a scrape never waits on the event loop and
an event loop that is stuck still answers /metrics (while /healthz says so).
"""

from __future__ import annotations

import json
import logging
import socket
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from socketserver import ThreadingMixIn
from typing import TYPE_CHECKING, Any
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

from prometheus_client import (
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    ProcessCollector,
    make_wsgi_app,
)
from prometheus_client.gc_collector import GCCollector
from prometheus_client.platform_collector import PlatformCollector

from ivr.domain import Outcome

if TYPE_CHECKING:
    from ivr.sip.engine import CallMedia

log = logging.getLogger(__name__)

# Seconds a database writer transaction took, 1 ms to 10 s: only attempts
# that committed (those that failed while the database was away are not).
COMMIT_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 10.0)
# A call's RTP interarrival jitter as the stack measured it (RFC 3550), in seconds.
JITTER_BUCKETS = (0.001, 0.005, 0.01, 0.02, 0.03, 0.05, 0.1, 0.2)


class NodeMetrics:
    """This node's metrics; the service feeds it through the small hooks below."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        r = self.registry
        ProcessCollector(registry=r)
        PlatformCollector(registry=r)
        GCCollector(registry=r)
        self.calls_in_progress = Gauge(
            "faultline_node_calls_in_progress", "Calls this node is handling now.", registry=r
        )
        self.calls = Counter(
            "faultline_node_calls",
            "Calls this node has finished, by outcome.",
            ["outcome"],
            registry=r,
        )
        for outcome in Outcome:
            if outcome is not Outcome.IN_PROGRESS:
                self.calls.labels(outcome.value)
        self.sip_responses = Counter(
            "faultline_node_sip_responses",
            "SIP responses this node's stack sent, by status code (retransmissions included).",
            ["code"],
            registry=r,
        )
        self.page_attempts = Counter(
            "faultline_node_page_attempts",
            "Calls this node made to engineers for pages, by result.",
            ["result"],
            registry=r,
        )
        self.rtp_packets = Counter(
            "faultline_node_rtp_packets",
            "RTP packets of finished calls, by direction (sent, received).",
            ["direction"],
            registry=r,
        )
        self.rtp_lost = Counter(
            "faultline_node_rtp_lost_packets",
            "RTP packets of finished calls lost: received (never reached us) or sent "
            "(the far end's RTCP reports them lost).",
            ["direction"],
            registry=r,
        )
        for direction in ("sent", "received"):
            self.rtp_packets.labels(direction)
            self.rtp_lost.labels(direction)
        self.rtp_jitter = Histogram(
            "faultline_node_rtp_jitter_seconds",
            "Interarrival jitter of the RTP each finished call received, as the stack measured it.",
            buckets=JITTER_BUCKETS,
            registry=r,
        )
        self.db_queue = Gauge(
            "faultline_node_db_writes_pending",
            "Writes queued for, or being made by, the database writer.",
            registry=r,
        )
        self.db_commit = Histogram(
            "faultline_node_db_commit_seconds",
            "How long each database writer transaction took to commit.",
            buckets=COMMIT_BUCKETS,
            registry=r,
        )
        # What this node's sender did; what the outbox holds, cluster-wide, is
        # the web's `faultline_emails{status}`.
        self.emails = Counter(
            "faultline_node_emails",
            "E-mails this node's sender tried, by result: sent, retry (to be tried again), "
            "failed (given up).",
            ["result"],
            registry=r,
        )
        for result in ("sent", "retry", "failed"):
            self.emails.labels(result)

    def call_finished(self, outcome: Outcome) -> None:
        # A call refused before it was logged (a scanner's) has no outcome:
        # it shows in the SIP responses only, as in the call log.
        if outcome is not Outcome.IN_PROGRESS:
            self.calls.labels(outcome.value).inc()

    def response_sent(self, code: int) -> None:
        self.sip_responses.labels(str(code)).inc()

    def email(self, result: str) -> None:
        self.emails.labels(result).inc()

    def page_attempt(self, result: str) -> None:
        self.page_attempts.labels(result).inc()

    def media(self, media: CallMedia) -> None:
        self.rtp_packets.labels("sent").inc(media.sent)
        self.rtp_packets.labels("received").inc(media.received)
        self.rtp_lost.labels("sent").inc(media.lost_sent)
        self.rtp_lost.labels("received").inc(media.lost_received)
        if media.received:
            self.rtp_jitter.observe(media.jitter_seconds)

    def commit(self, seconds: float) -> None:
        self.db_commit.observe(seconds)


@dataclass(frozen=True)
class Health:
    sip_listening: bool
    database: bool
    detail: str = ""

    @property
    def ok(self) -> bool:
        return self.sip_listening and self.database


class _Server(ThreadingMixIn, WSGIServer):
    daemon_threads = True


class _Server6(_Server):
    address_family = socket.AF_INET6


class _Quiet(WSGIRequestHandler):
    """Scrapes every few seconds are not news: the access log stays quiet."""

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
        log.debug("metrics: " + format, *args)


WsgiApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


def wsgi_app(metrics: NodeMetrics, health: Callable[[], Health]) -> WsgiApp:
    exposition = make_wsgi_app(metrics.registry)

    def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "")
        if path == "/metrics":
            return exposition(environ, start_response)
        if path == "/healthz":
            state = health()
            body = json.dumps(
                {
                    "ok": state.ok,
                    "sip_listening": state.sip_listening,
                    "database": state.database,
                    "detail": state.detail,
                }
            ).encode()
            status = "200 OK" if state.ok else "503 Service Unavailable"
            start_response(status, [("Content-Type", "application/json")])
            return [body]
        start_response("404 Not Found", [("Content-Type", "text/plain")])
        return [b"not found: try /metrics or /healthz\n"]

    return app


class MetricsServer:
    """/metrics and /healthz over HTTP, in a thread of their own."""

    def __init__(
        self, host: str, port: int, metrics: NodeMetrics, health: Callable[[], Health]
    ) -> None:
        self._server = make_server(
            host,
            port,
            wsgi_app(metrics, health),
            server_class=_Server6 if ":" in host else _Server,
            handler_class=_Quiet,
        )
        self.address = f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
        self._thread = threading.Thread(
            target=self._server.serve_forever, name="metrics-http", daemon=True
        )

    def start(self) -> None:
        self._thread.start()
        log.info("metrics on http://%s/metrics, health on /healthz", self.address)

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
