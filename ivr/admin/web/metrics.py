"""/metrics: the whole cluster's numbers, read from the database at each scrape.

`ivr.store.monitoring.read_counts` reads the counts (each a GROUP BY over
an index); `families` shapes them into prometheus_client's metric families
(pure); `ClusterCollector` is the collector a registry of the web app's own
calls at scrape time, and `exposition` renders that registry in the text
format. A node's own figures are elsewhere: `ivr.metrics`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime

from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_PLAIN_0_0_4
from prometheus_client.metrics_core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    HistogramMetricFamily,
    Metric,
)
from prometheus_client.registry import Collector

from ivr.domain import Outcome, Priority
from ivr.store.monitoring import Counts

CONTENT_TYPE = CONTENT_TYPE_PLAIN_0_0_4  # what generate_latest writes

# Seconds: 1 min, 5 min, 15 min, 30 min, 1 h, 2 h, 4 h, 8 h, 1 day, 3 days.
ACK_BUCKETS = (60, 300, 900, 1800, 3600, 7200, 14400, 28800, 86400, 259200)


@dataclass(frozen=True)
class Snapshot:
    """What one scrape read from the database."""

    counts: Counts
    now: datetime
    pageable: int  # engineers a critical fault reported now could page


def database_up(up: bool) -> GaugeMetricFamily:
    return GaugeMetricFamily(
        "faultline_database_up",
        "1 when /metrics could read the database, 0 while it cannot (it is away or full).",
        value=1 if up else 0,
    )


def _histogram(
    name: str,
    help_text: str,
    observations: dict[str, list[float]],
    label: str,
    buckets: Sequence[float],
) -> HistogramMetricFamily:
    """A histogram with one labelled series per key of `observations`."""
    family = HistogramMetricFamily(name, help_text, labels=[label])
    for key in sorted(observations):
        values = observations[key]
        cumulative = [
            (str(bound), float(sum(1 for v in values if v <= bound))) for bound in buckets
        ]
        cumulative.append(("+Inf", float(len(values))))
        family.add_metric([key], cumulative, round(sum(values), 3))
    return family


def families(snapshot: Snapshot) -> list[Metric]:
    """The families /metrics shows while the database can be read."""
    counts = snapshot.counts
    by_outcome = counts.calls_by_outcome
    outcomes = [o.value for o in Outcome if o is not Outcome.IN_PROGRESS]
    outcomes += sorted(k for k in by_outcome if k not in outcomes and k != "in_progress")
    calls = CounterMetricFamily(
        "faultline_calls",
        "Calls to the fault line that have ended, by outcome.",
        labels=["outcome"],
    )
    for outcome in outcomes:
        calls.add_metric([outcome], by_outcome.get(outcome, 0))
    in_progress = GaugeMetricFamily(
        "faultline_calls_in_progress",
        "Calls to the fault line not yet ended.",
        value=by_outcome.get("in_progress", 0),
    )

    rows = counts.faults_by_priority_status
    priorities = [p.value for p in Priority]
    priorities += sorted({r[0] for r in rows} - set(priorities))
    reported = {p: 0 for p in priorities}
    unresolved: dict[tuple[str, str], int] = {}
    for priority, status, count in rows:
        reported[priority] += count
        if status != "resolved":
            unresolved[(priority, status)] = count
    faults = CounterMetricFamily(
        "faultline_faults", "Faults reported, by priority.", labels=["priority"]
    )
    for priority in priorities:
        faults.add_metric([priority], reported[priority])
    open_faults = GaugeMetricFamily(
        "faultline_faults_unresolved",
        "Faults not yet resolved, by priority and status (page_failed means nobody answered).",
        labels=["priority", "status"],
    )
    for (priority, status), n in sorted(unresolved.items()):
        open_faults.add_metric([priority, status], n)

    attempts = CounterMetricFamily(
        "faultline_page_attempts",
        "Calls made to engineers for pages, by result (acknowledged, no_answer, busy, ...).",
        labels=["result"],
    )
    for result, n in sorted(counts.attempts_by_result.items()):
        attempts.add_metric([str(result)], n)
    page_rows = counts.pages_by_status
    pages = GaugeMetricFamily(
        "faultline_pages",
        "Pages by status: active (still calling), acknowledged, failed (nobody acknowledged), "
        "cancelled.",
        labels=["status"],
    )
    for status in sorted({"active", "acknowledged", "failed", "cancelled", *page_rows}):
        pages.add_metric([status], page_rows.get(status, 0))

    observed: dict[str, list[float]] = {p: [] for p in priorities}
    for priority, reported_at, acknowledged_at in counts.acknowledged:
        waited = (acknowledged_at - reported_at).total_seconds()
        observed.setdefault(priority, []).append(max(waited, 0.0))
    ack = _histogram(
        "faultline_fault_time_to_acknowledge_seconds",
        "Time from a fault being reported to its acknowledgement, by priority.",
        observed,
        "priority",
        ACK_BUCKETS,
    )
    oncall = GaugeMetricFamily(
        "faultline_oncall_engineers",
        "Engineers a critical fault reported now could page (0 is an alarm: nobody is on call).",
        value=snapshot.pageable,
    )
    lockouts = CounterMetricFamily(
        "faultline_pin_lockouts",
        "Times an account was locked after too many wrong PINs from callers.",
        value=counts.pin_lockouts,
    )
    emails = GaugeMetricFamily(
        "faultline_emails",
        "Customer and notice e-mails in the outbox, by status: pending (not yet accepted by "
        "the SMTP server), sent, failed (given up; `ivr emails retry`).",
        labels=["status"],
    )
    by_status = counts.emails_by_status or {}
    for status in sorted({"pending", "sent", "failed", *by_status}):
        emails.add_metric([status], by_status.get(status, 0))
    generated = GaugeMetricFamily(
        "faultline_metrics_generated_timestamp_seconds",
        "When these numbers were read from the database.",
        value=round(snapshot.now.timestamp(), 3),
    )
    return [
        calls,
        in_progress,
        faults,
        open_faults,
        attempts,
        pages,
        ack,
        oncall,
        lockouts,
        emails,
        generated,
    ]


class ClusterCollector(Collector):
    """Reads the database at each scrape; `read` returns None when it cannot."""

    def __init__(self, read: Callable[[], Snapshot | None]) -> None:
        self._read = read

    def collect(self) -> Iterator[Metric]:
        snapshot = self._read()
        if snapshot is None:
            # An alert rule needs the outage as a number, not a 500.
            yield database_up(False)
            return
        yield from families(snapshot)
        yield database_up(True)


def registry(read: Callable[[], Snapshot | None]) -> CollectorRegistry:
    """A registry of the web app's own (never the process-wide default one)."""
    own = CollectorRegistry(auto_describe=False)
    own.register(ClusterCollector(read))
    return own


def exposition(own: CollectorRegistry) -> str:
    return generate_latest(own).decode()
