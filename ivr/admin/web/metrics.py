"""/metrics: the fault line's numbers in the Prometheus text exposition format (0.0.4).

`ivr.store.monitoring.read_counts` reads the counts (each a GROUP BY over
an index); `collect` shapes them into families and `render` turns families
into the text format, with label values escaped as the format requires.
Both are pure.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from ivr.domain import Outcome, Priority
from ivr.store.monitoring import Counts

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"

# Seconds: 1 min, 5 min, 15 min, 30 min, 1 h, 2 h, 4 h, 8 h, 1 day, 3 days.
ACK_BUCKETS = (60, 300, 900, 1800, 3600, 7200, 14400, 28800, 86400, 259200)


@dataclass(frozen=True)
class Sample:
    suffix: str
    labels: tuple[tuple[str, str], ...]
    value: float


@dataclass(frozen=True)
class Family:
    name: str
    kind: str  # counter, gauge, histogram
    help: str
    samples: Sequence[Sample] = field(default_factory=tuple)


def _escape_label(value: str) -> str:
    return value.replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"')


def _escape_help(value: str) -> str:
    return value.replace("\\", "\\\\").replace("\n", "\\n")


def _number(value: float) -> str:
    if value == float("inf"):
        return "+Inf"
    if float(value).is_integer():
        return str(int(value))
    return repr(float(value))


def render(families: Iterable[Family]) -> str:
    lines: list[str] = []
    for family in families:
        lines.append(f"# HELP {family.name} {_escape_help(family.help)}")
        lines.append(f"# TYPE {family.name} {family.kind}")
        for sample in family.samples:
            labels = ",".join(f'{k}="{_escape_label(v)}"' for k, v in sample.labels)
            braces = f"{{{labels}}}" if labels else ""
            lines.append(f"{family.name}{sample.suffix}{braces} {_number(sample.value)}")
    return "\n".join(lines) + "\n"


def histogram(
    name: str,
    help_text: str,
    observations: dict[str, list[float]],
    label: str,
    buckets: Sequence[float],
) -> Family:
    """A histogram family with one labelled series per key of `observations`."""
    samples: list[Sample] = []
    for key in sorted(observations):
        values = observations[key]
        for bound in (*buckets, float("inf")):
            le = "+Inf" if bound == float("inf") else _number(bound)
            count = sum(1 for v in values if v <= bound)
            samples.append(Sample("_bucket", ((label, key), ("le", le)), count))
        samples.append(Sample("_sum", ((label, key),), round(sum(values), 3)))
        samples.append(Sample("_count", ((label, key),), len(values)))
    return Family(name, "histogram", help_text, tuple(samples))


def database_up(up: bool) -> Family:
    return Family(
        "faultline_database_up",
        "gauge",
        "1 when /metrics could read the database, 0 while it cannot (it is away or full).",
        (Sample("", (), 1 if up else 0),),
    )


def collect(counts: Counts, now: datetime, pageable: int) -> list[Family]:
    """The families /metrics shows; `pageable` is how many engineers a page could ring now."""
    by_outcome = counts.calls_by_outcome
    outcomes = [o.value for o in Outcome if o is not Outcome.IN_PROGRESS]
    outcomes += sorted(k for k in by_outcome if k not in outcomes and k != "in_progress")
    calls = Family(
        "faultline_calls_total",
        "counter",
        "Calls to the fault line that have ended, by outcome.",
        tuple(Sample("", (("outcome", o),), by_outcome.get(o, 0)) for o in outcomes),
    )
    in_progress = Family(
        "faultline_calls_in_progress",
        "gauge",
        "Calls to the fault line not yet ended.",
        (Sample("", (), by_outcome.get("in_progress", 0)),),
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
    faults = Family(
        "faultline_faults_total",
        "counter",
        "Faults reported, by priority.",
        tuple(Sample("", (("priority", p),), reported[p]) for p in priorities),
    )
    open_faults = Family(
        "faultline_faults_unresolved",
        "gauge",
        "Faults not yet resolved, by priority and status (page_failed means nobody answered).",
        tuple(
            Sample("", (("priority", p), ("status", s)), n)
            for (p, s), n in sorted(unresolved.items())
        ),
    )

    attempt_rows = counts.attempts_by_result
    attempts = Family(
        "faultline_page_attempts_total",
        "counter",
        "Calls made to engineers for pages, by result (acknowledged, no_answer, busy, ...).",
        tuple(Sample("", (("result", str(r)),), n) for r, n in sorted(attempt_rows.items())),
    )
    page_rows = counts.pages_by_status
    pages = Family(
        "faultline_pages",
        "gauge",
        "Pages by status: active (still calling), acknowledged, failed (nobody acknowledged), "
        "cancelled.",
        tuple(
            Sample("", (("status", s),), page_rows.get(s, 0))
            for s in sorted({"active", "acknowledged", "failed", "cancelled", *page_rows})
        ),
    )

    observed: dict[str, list[float]] = {p: [] for p in priorities}
    for priority, reported_at, acknowledged_at in counts.acknowledged:
        waited = (acknowledged_at - reported_at).total_seconds()
        observed.setdefault(priority, []).append(max(waited, 0.0))
    ack = histogram(
        "faultline_fault_time_to_acknowledge_seconds",
        "Time from a fault being reported to its acknowledgement, by priority.",
        observed,
        "priority",
        ACK_BUCKETS,
    )
    up = Family(
        "faultline_metrics_generated_timestamp_seconds",
        "gauge",
        "When these numbers were read from the database.",
        (Sample("", (), round(now.timestamp(), 3)),),
    )
    oncall = Family(
        "faultline_oncall_engineers",
        "gauge",
        "Engineers a critical fault reported now could page (0 is an alarm: nobody is on call).",
        (Sample("", (), pageable),),
    )
    lockouts = Family(
        "faultline_pin_lockouts_total",
        "counter",
        "Times an account was locked after too many wrong PINs from callers.",
        (Sample("", (), counts.pin_lockouts),),
    )
    return [calls, in_progress, faults, open_faults, attempts, pages, ack, oncall, lockouts, up]
