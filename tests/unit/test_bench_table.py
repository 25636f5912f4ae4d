"""bench/run's issue 19 table: each figure's target beside this run's measure, load noted."""

from __future__ import annotations

from datetime import UTC, datetime

from bench.bench import CLUSTER_KIND, ISSUE_19, AdminResult, Latency, Report, Step, Usage


def test_every_figure_has_its_target_and_what_the_run_measured() -> None:
    report = Report(datetime(2026, 12, 3, tzinfo=UTC), {})
    report.loads = ["1.00 0.50 0.20", "3.10 1.20 0.60"]
    report.capacity["faultline"] = [
        Step("faultline", 100, clean=True, peak_calls=100),
        Step(
            "faultline",
            200,
            clean=True,
            peak_calls=200,
            cpu_peak=80.0,
            rss_idle_mb=100.0,
            rss_peak_mb=175.0,
        ),  # fmt: skip
    ]
    report.cluster = [
        Step(
            CLUSTER_KIND,
            240,
            clean=True,
            peak_calls=240,
            notes=["node a: 120 reported, 0 refused busy", "node b: 120 reported, 0 refused busy"],
            usage={"node a": Usage(67.0, 96.0, 170.0), "Kamailio": Usage(1.0, 6.0, 20.0)},
        ),
        Step(CLUSTER_KIND, 360, problems=["SIPp: exit 1, 0 successful, 360 failed"]),
    ]
    report.answer["faultline"] = Latency("faultline", [19.0] * 100, expected=100)
    report.page["faultline"] = Latency("faultline", [20.0, 90.0], expected=2)
    report.admin = [AdminResult("SQLite", cli_ms=450.0), AdminResult("PostgreSQL")]

    rows = report.issue_rows()
    assert rows[0] == ["figure", "before (issue 19)", "target", "this run"]
    assert [row[:3] for row in rows[1:]] == [list(figure) for figure in ISSUE_19]
    measured = [row[3] for row in rows[1:]]
    assert measured[0].startswith("0.40 %")
    assert measured[1] == "384 KiB (one node, 200 callers)"
    assert measured[2] == "19.0 ms"
    assert measured[3] == "90.0 ms (2 pages)"
    assert measured[4] == "0.45 s (SQLite)"  # PostgreSQL was not measured
    assert measured[5] == "240 (two nodes behind Kamailio; 360 not clean); one node: 200"
    assert "3.10 1.20 0.60" in report.issue_markdown()
    assert ["the same, two nodes behind Kamailio, one PostgreSQL", "240 (360 not clean)"] in [
        row[:2] for row in report.table()
    ]
    assert "| faultline x2 | 360 | no |" in report.steps_markdown()
    two_nodes = report.cluster_markdown().splitlines()[2]
    assert two_nodes.startswith("| 240 | yes | 67 / 96 | n/a | 1 / 6 | n/a | 170 |")
    assert two_nodes.endswith("node b: 120 reported, 0 refused busy |")


def test_parts_not_run_say_so() -> None:
    rows = Report(datetime(2026, 12, 3, tzinfo=UTC), {}).issue_rows()
    assert [row[3] for row in rows[1:5]] == ["not run"] * 4
