"""The web page's pure parts: SLA verdicts, local days, charts, sign-in rules, metrics text."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from prometheus_client.parser import text_string_to_metric_families

from ivr.admin.web.auth import (
    csrf_ok,
    load_or_create_secret,
    safe_next,
    session_claim,
    start_session,
)
from ivr.admin.web.charts import Series, grouped_stacked, nice_ceiling
from ivr.admin.web.metrics import Snapshot, exposition, registry
from ivr.admin.web.reports import (
    countdown,
    day_bounds,
    month_starts,
)
from ivr.admin.web.throttle import LoginThrottle
from ivr.config import ConfigError, load_config
from ivr.domain import Priority
from ivr.faults.clock import FaultTimes, StageOutcome, sla_verdict
from ivr.store.admins import hash_password, verify_password
from ivr.store.call_log import Cursor
from ivr.store.monitoring import Counts

LONDON = ZoneInfo("Europe/London")
T = datetime(2026, 3, 10, 9, 0, tzinfo=UTC)
H = timedelta(hours=1)
REPO = Path(__file__).resolve().parents[2]


def times(**done: datetime | None) -> FaultTimes:
    base: dict[str, object] = {
        "priority": Priority.CRITICAL,
        "reported_at": T,
        "acknowledge_by": T + 2 * H,
        "respond_by": T + 3 * H,
        "resolve_by": T + 24 * H,
        "acknowledged_at": None,
        "responded_at": None,
        "resolved_at": None,
    }
    base.update(done)
    return FaultTimes(**base)  # type: ignore[arg-type]


# ---- SLA verdicts and countdowns ---------------------------------------------------------


def test_verdict_pending_while_deadlines_are_ahead() -> None:
    assert sla_verdict(times(), T + H) is None
    assert sla_verdict(times(acknowledged_at=T + H), T + 2 * H) is None


def test_verdict_missed_once_any_deadline_passes_unmet() -> None:
    assert sla_verdict(times(), T + 2 * H + timedelta(seconds=1)) is StageOutcome.MISSED
    late_ack = times(acknowledged_at=T + 2 * H + timedelta(minutes=1))
    assert sla_verdict(late_ack, T + 2 * H + timedelta(minutes=2)) is StageOutcome.MISSED


def test_verdict_met_when_every_stage_was_in_time() -> None:
    done = times(acknowledged_at=T + H, responded_at=T + 2 * H, resolved_at=T + 20 * H)
    assert sla_verdict(done, T + 100 * H) is StageOutcome.MET


def test_a_fix_counts_as_the_response_and_acknowledgement() -> None:
    assert sla_verdict(times(resolved_at=T + H), T + 100 * H) is StageOutcome.MET


def test_standard_faults_without_a_resolution_deadline_are_met_on_response() -> None:
    standard = times(resolve_by=None, acknowledged_at=T + H, responded_at=T + 2 * H)
    assert sla_verdict(standard, T + 100 * H) is StageOutcome.MET


def test_countdown_names_the_stage_and_flags_urgency() -> None:
    soon = countdown(times(), T + H + timedelta(minutes=30))
    assert soon is not None
    assert (soon.stage, soon.text, soon.urgent, soon.overdue) == (
        "acknowledge",
        "0h 30m left",
        True,
        False,
    )
    late = countdown(times(acknowledged_at=T + H), T + 4 * H)
    assert late is not None and late.stage == "respond" and late.overdue
    assert late.text == "overdue by 1h 00m"
    assert countdown(times(resolved_at=T + H), T + 2 * H) is None


# ---- days and months in local time ------------------------------------------------------


def test_days_follow_the_local_clock_across_a_change() -> None:
    # The clocks go forward on Sunday 29 March 2026: that day has 23 hours.
    bounds = day_bounds(datetime(2026, 3, 30, 12, tzinfo=UTC), LONDON, 3)
    lengths = [(end - start) / H for _day, start, end in bounds]
    assert [day.isoformat() for day, _s, _e in bounds] == ["2026-03-28", "2026-03-29", "2026-03-30"]
    assert lengths == [24, 23, 24]
    assert bounds[2][1] == datetime(2026, 3, 29, 23, tzinfo=UTC)  # midnight BST


def test_month_starts_run_back_across_the_year() -> None:
    firsts = month_starts(datetime(2026, 2, 14, tzinfo=UTC), LONDON, 4)
    assert [d.isoformat() for d in firsts] == [
        "2025-11-01",
        "2025-12-01",
        "2026-01-01",
        "2026-02-01",
    ]


# ---- charts ---------------------------------------------------------------------------------


def test_axis_tops_are_round() -> None:
    assert [nice_ceiling(n) for n in (0, 3, 7, 23, 41, 99, 1234)] == [4, 4, 8, 40, 80, 100, 2000]


def test_stacked_bars_add_up_and_carry_their_labels() -> None:
    series = [Series("a", "alpha", "s-a"), Series("b", "beta", "s-b")]
    chart = grouped_stacked(
        title="t",
        groups=["Mon", "Tue"],
        members=[""],
        series=series,
        values={(0, 0, "a"): 3, (0, 0, "b"): 1, (1, 0, "a"): 2},
        height=240,
    )
    assert [b.title for b in chart.bars] == ["Mon: 3 alpha", "Mon: 1 beta", "Tue: 2 alpha"]
    first, second = chart.bars[0], chart.bars[1]
    assert first.y + first.height == pytest.approx(chart.baseline)
    assert second.y + second.height == pytest.approx(first.y)  # stacked on top
    # Four counts fill the axis whose top is 4.
    assert first.height + second.height == pytest.approx(chart.baseline - 10)
    assert not chart.empty


def test_an_empty_chart_says_so() -> None:
    chart = grouped_stacked(title="t", groups=["x"], members=[""], series=[], values={})
    assert chart.empty and chart.bars == ()


# ---- sign-in parts -------------------------------------------------------------------------


def test_passwords_are_salted_scrypt_and_checked_in_constant_time() -> None:
    first, second = hash_password("correct horse"), hash_password("correct horse")
    assert first != second and first.startswith("scrypt$32768$8$1$")
    assert verify_password("correct horse", first)
    assert not verify_password("correct hors", first)
    assert not verify_password("correct horse", "md5$abc")
    assert not verify_password("correct horse", "scrypt$1$2$3$!!$!!")


def test_throttle_locks_after_repeated_failures_and_doubles() -> None:
    throttle = LoginThrottle(max_failures=3, lockout=timedelta(minutes=5))
    keys = ["name:bob"]
    for i in range(3):
        assert throttle.blocked_until(keys, T) is None
        throttle.failed(keys, T + timedelta(seconds=i))
    assert throttle.blocked_until(keys, T + timedelta(minutes=1)) == T + timedelta(
        seconds=2, minutes=5
    )
    assert throttle.blocked_until(keys, T + timedelta(minutes=6)) is None
    for i in range(3):
        throttle.failed(keys, T + timedelta(minutes=6, seconds=i))
    until = throttle.blocked_until(keys, T + timedelta(minutes=7))
    assert until == T + timedelta(minutes=16, seconds=2)  # ten minutes the second time
    throttle.succeeded(keys)
    assert throttle.blocked_until(keys, T + timedelta(minutes=7)) is None


def test_failures_outside_the_window_are_forgotten() -> None:
    throttle = LoginThrottle(max_failures=2, window=timedelta(minutes=15))
    throttle.failed(["k"], T)
    throttle.failed(["k"], T + timedelta(minutes=16))
    assert throttle.blocked_until(["k"], T + timedelta(minutes=16)) is None


def test_session_claims_expire_and_csrf_compares() -> None:
    session: dict[str, object] = {"csrf": "x" * 40}
    start_session(session, 7, 3, T)
    assert "csrf" in session and session["csrf"] != "x" * 40  # rotated at sign-in
    claim = session_claim(session, T + 7 * H, 8 * H)
    assert claim is not None and (claim.admin_id, claim.version) == (7, 3)
    assert session_claim(session, T + 8 * H + timedelta(seconds=1), 8 * H) is None
    assert session_claim({}, T, 8 * H) is None
    assert csrf_ok(session, session["csrf"])
    assert not csrf_ok(session, "nope") and not csrf_ok(session, None) and not csrf_ok({}, "")


@pytest.mark.parametrize(
    ("target", "safe"),
    [
        ("/faults/123", "/faults/123"),
        ("/calls?outcome=rejected", "/calls?outcome=rejected"),
        ("//evil.example", "/"),
        ("https://evil.example", "/"),
        ("/\\evil.example", "/"),
        (None, "/"),
    ],
)
def test_next_stays_on_this_site(target: str | None, safe: str) -> None:
    assert safe_next(target) == safe


def test_secret_key_is_made_once_private_and_kept(tmp_path: Path) -> None:
    path = tmp_path / "var" / "web-secret.key"
    key = load_or_create_secret(path)
    assert len(key) == 64 and path.stat().st_mode & 0o777 == 0o600
    assert load_or_create_secret(path) == key


# ---- call log cursor -------------------------------------------------------------------


def test_cursor_round_trips_to_the_microsecond() -> None:
    cursor = Cursor(datetime(2026, 1, 2, 3, 4, 5, 678901, tzinfo=UTC), 42)
    assert Cursor.decode(cursor.encode()) == cursor
    for bad in ("", "12", "x-1", "1-x", "-1-2"):
        with pytest.raises(ValueError):
            Cursor.decode(bad)


# ---- metrics text ---------------------------------------------------------------------------


def scrape(counts: Counts) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    snapshot = Snapshot(counts, datetime(2026, 12, 1, tzinfo=UTC), pageable=1)
    text = exposition(registry(lambda: snapshot))
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def test_metrics_label_values_survive_any_text() -> None:
    odd = 'a"b\\c\nd'
    counts = Counts({odd: 2}, [], {}, {}, [])
    assert scrape(counts)[("faultline_calls_total", (("outcome", odd),))] == 2


def test_histogram_buckets_are_cumulative() -> None:
    reported = datetime(2026, 12, 1, tzinfo=UTC)
    acknowledged = [
        ("high", reported, reported + timedelta(seconds=seconds)) for seconds in (10, 100, 1000)
    ]
    samples = scrape(Counts({}, [], {}, {}, acknowledged))
    name = "faultline_fault_time_to_acknowledge_seconds"
    high = ("priority", "high")
    assert samples[(f"{name}_bucket", (("le", "60"), high))] == 1
    assert samples[(f"{name}_bucket", (("le", "300"), high))] == 2
    assert samples[(f"{name}_bucket", (("le", "+Inf"), high))] == 3
    assert samples[(f"{name}_sum", (high,))] == 1110
    assert samples[(f"{name}_count", (high,))] == 3


# ---- [web] in sip.conf -------------------------------------------------------------------


def test_the_example_config_documents_web(tmp_path: Path) -> None:
    web = load_config(REPO / "sip.conf.example").web
    assert (web.listen_host, web.listen_port, web.session_hours) == ("127.0.0.1", 8080, 8.0)
    assert web.secret_key_file == REPO / "var" / "web-secret.key"
    assert web.metrics is True and web.secure_cookies is False


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("listen = 8080", "[web] listen"),
        ("listen = host:99999", "[web] listen"),
        ("session_hours = soon", "[web] session_hours"),
        ("session_hours = 0", "[web] session_hours"),
        ("metrics = perhaps", "[web] metrics"),
        ("trusted_proxies = 198.51.100.1, proxy.example", "[web] trusted_proxies: 'proxy.example'"),
    ],
)
def test_bad_web_settings_name_the_key(tmp_path: Path, line: str, message: str) -> None:
    path = tmp_path / "sip.conf"
    path.write_text(f"[web]\n{line}\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=message.replace("[", r"\[").replace("]", r"\]")):
        load_config(path)


def test_trusted_proxies_are_addresses_or_networks(tmp_path: Path) -> None:
    path = tmp_path / "sip.conf"
    path.write_text("[web]\ntrusted_proxies = 198.51.100.1, fd00::/8\n", encoding="utf-8")
    proxies = load_config(path).web.trusted_proxies
    assert [str(n) for n in proxies] == ["198.51.100.1/32", "fd00::/8"]
    assert load_config(REPO / "sip.conf.example").web.trusted_proxies == ()
