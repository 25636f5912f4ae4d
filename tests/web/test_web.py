"""The admin web page through Starlette's TestClient: sign-in, CSRF, actions, escaping, metrics."""

from __future__ import annotations

import re
import wave
from dataclasses import replace
from datetime import timedelta
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import pytest
from httpx import Response
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import select
from starlette.testclient import TestClient

from ivr.admin.web.app import create_app
from ivr.admin.web.views.reports import OUTCOME_SERIES
from ivr.config import Config
from ivr.domain import Outcome, Priority
from ivr.sla import deadlines
from ivr.store.admins import set_password
from ivr.store.customers import check_pin, find_customer, set_customer
from ivr.store.db import Database
from ivr.store.faults import find_fault
from ivr.store.models import CallRecord, Engineer, Fault, FaultNote, Page, Recording
from ivr.store.outbox import Backoff, claim_due, mark_attempt_failed, queue_message
from tests.web.conftest import NOW, csrf_of, sign_in
from tests.web.seed import (
    ACKED_REF,
    ADMIN,
    FAILED_REF,
    OPEN_REF,
    PASSWORD,
    RESOLVED_REF,
    SCRIPT_NAME,
    Seeded,
)

PAGES = [
    "/",
    "/calls",
    "/calls?outcome=rejected",
    f"/faults/{FAILED_REF}",
    "/faults",
    "/faults/new",
    "/customers",
    "/handsets",
    "/rota",
    "/reports",
]


# ---- sign-in required --------------------------------------------------------------------


@pytest.mark.parametrize("path", [*PAGES, "/calls/1"])
def test_every_page_needs_a_sign_in(client: TestClient, path: str) -> None:
    response = client.get(path)
    assert response.status_code == 303
    target = urlparse(response.headers["location"])
    assert target.path == "/login"
    assert parse_qs(target.query)["next"] == [path]


@pytest.mark.parametrize(
    "path", [f"/faults/{OPEN_REF}/acknowledge", f"/faults/{OPEN_REF}/note", "/logout"]
)
def test_forms_refuse_a_stranger(client: TestClient, db: Database, path: str) -> None:
    token = csrf_of(client.get("/login").text)  # a real token, but nobody signed in
    response = client.post(path, data={"csrf_token": token, "comment": "x"})
    assert response.status_code == 303
    assert response.headers["location"].startswith("/login")
    with db.sessions() as session:
        fault = find_fault(session, OPEN_REF)
        assert fault is not None and fault.acknowledged_at is None


def test_health_and_metrics_need_no_sign_in(client: TestClient) -> None:
    health = client.get("/healthz")
    assert health.status_code == 200
    assert health.json() == {"status": "ok", "database": "ok"}
    assert client.get("/metrics").status_code == 200


def test_signed_in_pages_render(admin: TestClient) -> None:
    for path in PAGES:
        response = admin.get(path)
        assert response.status_code == 200, path
        assert ADMIN in response.text


def test_wrong_password_is_refused(client: TestClient) -> None:
    token = csrf_of(client.get("/login").text)
    response = client.post(
        "/login", data={"name": ADMIN, "password": "not the password", "csrf_token": token}
    )
    assert response.status_code == 401
    assert "do not match" in response.text
    assert client.get("/").status_code == 303


def test_unknown_name_gets_the_same_answer(client: TestClient) -> None:
    token = csrf_of(client.get("/login").text)
    response = client.post(
        "/login", data={"name": "mallory", "password": PASSWORD, "csrf_token": token}
    )
    assert response.status_code == 401
    assert "do not match" in response.text


def test_repeated_failures_lock_the_name_for_a_while(client: TestClient) -> None:
    token = csrf_of(client.get("/login").text)
    for _ in range(5):
        client.post("/login", data={"name": ADMIN, "password": "wrong-wrong", "csrf_token": token})
    response = client.post(
        "/login", data={"name": ADMIN, "password": PASSWORD, "csrf_token": token}
    )
    assert response.status_code == 429
    assert "Too many failed sign-ins" in response.text
    assert client.get("/").status_code == 303


def test_sign_in_goes_back_where_you_were_but_never_off_site(client: TestClient) -> None:
    token = csrf_of(client.get("/login").text)
    data = {"name": ADMIN, "password": PASSWORD, "csrf_token": token, "next": "/rota"}
    assert client.post("/login", data=data).headers["location"] == "/rota"
    client.cookies.clear()
    token = csrf_of(client.get("/login").text)
    data = {"name": ADMIN, "password": PASSWORD, "csrf_token": token, "next": "//evil.example/"}
    assert client.post("/login", data=data).headers["location"] == "/"


def test_session_cookie_is_httponly_strict_and_expires(client: TestClient) -> None:
    token = csrf_of(client.get("/login").text)
    response = client.post(
        "/login", data={"name": ADMIN, "password": PASSWORD, "csrf_token": token}
    )
    cookie = response.headers["set-cookie"].lower()
    assert "faultline_session=" in cookie
    assert "httponly" in cookie
    assert "samesite=strict" in cookie
    assert "max-age=28800" in cookie


def test_a_session_ends_after_its_lifetime(config: Config, db: Database, seeded: Seeded) -> None:
    now = [NOW]
    app = create_app(config, db, clock=lambda: now[0])
    with TestClient(app, follow_redirects=False) as client:
        sign_in(client)
        now[0] = NOW + timedelta(hours=7, minutes=59)
        assert client.get("/").status_code == 200
        now[0] = NOW + timedelta(hours=8, minutes=1)
        assert client.get("/").status_code == 303


def test_signing_out_ends_the_session_even_for_a_copied_cookie(admin: TestClient) -> None:
    stolen = dict(admin.cookies)
    token = csrf_of(admin.get("/").text)
    assert admin.post("/logout", data={"csrf_token": token}).headers["location"] == "/login"
    assert admin.get("/").status_code == 303
    admin.cookies.clear()
    admin.cookies.update(stolen)
    assert admin.get("/").status_code == 303


def test_a_password_change_ends_sessions(admin: TestClient, db: Database) -> None:
    assert admin.get("/").status_code == 200
    with db.sessions.begin() as session:
        set_password(session, ADMIN, "a brand new passphrase")
    assert admin.get("/").status_code == 303


def test_pages_carry_security_headers(admin: TestClient) -> None:
    response = admin.get("/")
    policy = response.headers["content-security-policy"]
    assert "default-src 'none'" in policy and "script-src" not in policy
    assert response.headers["x-frame-options"] == "DENY"
    assert response.headers["cache-control"] == "no-store"


# ---- CSRF ----------------------------------------------------------------------------------


def test_a_form_without_its_csrf_token_is_refused(admin: TestClient, db: Database) -> None:
    response = admin.post(f"/faults/{OPEN_REF}/acknowledge", data={"comment": "on it"})
    assert response.status_code == 403
    response = admin.post(
        f"/faults/{OPEN_REF}/acknowledge", data={"comment": "on it", "csrf_token": "forged"}
    )
    assert response.status_code == 403
    with db.sessions() as session:
        fault = find_fault(session, OPEN_REF)
        assert fault is not None and fault.acknowledged_at is None


def test_sign_in_itself_needs_the_csrf_token(client: TestClient) -> None:
    client.get("/login")
    response = client.post("/login", data={"name": ADMIN, "password": PASSWORD})
    assert response.status_code == 403


# ---- actions ---------------------------------------------------------------------------


def act(client: TestClient, reference: str, action: str, comment: str = "") -> str:
    token = csrf_of(client.get(f"/faults/{reference}").text)
    response = client.post(
        f"/faults/{reference}/{action}", data={"csrf_token": token, "comment": comment}
    )
    assert response.status_code == 303
    assert response.headers["location"] == f"/faults/{reference}"
    return client.get(f"/faults/{reference}").text


def test_acknowledge_through_the_form_updates_the_fault(admin: TestClient, db: Database) -> None:
    page = act(admin, FAILED_REF, "acknowledge", "Rang the customer back")
    assert f"Fault {FAILED_REF} acknowledged." in page
    assert "Rang the customer back" in page
    with db.sessions() as session:
        fault = find_fault(session, FAILED_REF)
        assert fault is not None
        assert fault.status == "acknowledged"
        assert fault.acknowledged_by == ADMIN
        assert fault.acknowledged_at == NOW
        notes = session.scalars(select(FaultNote).where(FaultNote.fault_id == fault.id)).all()
        assert [(n.kind, n.author, n.body) for n in notes] == [
            (
                "page_failed",
                "paging",
                "nobody acknowledged alert page 1; paging starts again from level 1 in 10 minutes",
            ),
            ("acknowledged", ADMIN, "Rang the customer back"),
        ]
    # The loud alert is gone from the dashboard once someone has it in hand.
    assert "with a failed page" not in admin.get("/").text


def test_respond_resolve_and_notes(admin: TestClient, db: Database) -> None:
    act(admin, ACKED_REF, "note", "Engineer on site at 15:00")
    act(admin, ACKED_REF, "respond", "Engineer dispatched")
    page = act(admin, ACKED_REF, "resolve", "Trunk card replaced")
    for text in ("Engineer on site at 15:00", "Engineer dispatched", "Trunk card replaced"):
        assert text in page
    with db.sessions() as session:
        fault = find_fault(session, ACKED_REF)
        assert fault is not None and fault.status == "resolved"
        assert fault.responded_at == NOW and fault.resolved_at == NOW


def test_the_timeline_shows_the_reminder_a_response_stopped(admin: TestClient) -> None:
    html = admin.get(f"/faults/{RESOLVED_REF}").text
    assert re.search(
        r"Reminder set: [A-Z][a-z]+ [A-Z][a-z]+ is rung again before the response", html
    )
    assert "Reminder stopped (the fault was responded to)" in html


def test_an_action_that_does_not_apply_says_why(admin: TestClient, db: Database) -> None:
    page = act(admin, RESOLVED_REF, "acknowledge")
    assert "resolved" in page and "cannot" in page
    page = act(admin, OPEN_REF, "note", "   ")
    assert "a note needs some text" in page


def test_cli_secure_reprioritises_and_closes_out_of_scope_from_the_page(
    admin: TestClient, db: Database
) -> None:
    token = csrf_of(admin.get(f"/faults/{OPEN_REF}").text)
    with db.sessions() as session:
        fault = find_fault(session, OPEN_REF)
        assert fault is not None
        chosen = fault.priority
    new = "standard" if chosen != "standard" else "high"
    response = admin.post(
        f"/faults/{OPEN_REF}/reprioritise",
        data={"csrf_token": token, "priority": new, "comment": "customer has a workaround"},
    )
    assert response.status_code == 303
    page = admin.get(f"/faults/{OPEN_REF}").text
    assert f"is now {new} priority" in page
    assert f"reported as {chosen}, changed to {new} by" in page
    assert "customer has a workaround" in page
    page = act(admin, OPEN_REF, "out_of_scope", "   ")
    assert "give a reason to close it as out of scope" in page
    page = act(admin, OPEN_REF, "out_of_scope", "Third-party carrier")
    assert "Closed as out of scope" in page and "Third-party carrier" in page
    with db.sessions() as session:
        fault = find_fault(session, OPEN_REF)
        assert fault is not None
        assert (fault.status, fault.priority, fault.reported_priority) == (
            "out_of_scope",
            new,
            chosen,
        )


def _add_fault(admin: TestClient, **fields: str) -> Response:
    token = csrf_of(admin.get("/faults/new").text)
    return admin.post("/faults/new", data={"csrf_token": token, **fields})


def test_a_fault_reported_by_email_is_added_on_the_clock_a_call_would_start(
    admin: TestClient, db: Database, config: Config
) -> None:
    with db.sessions() as session:
        customer = find_customer(session, "Brightwater Logistics")
        assert customer is not None
        account = customer.account
    reported = NOW - timedelta(minutes=20)
    local = reported.astimezone(config.timezone).strftime("%Y-%m-%dT%H:%M")
    response = _add_fault(
        admin,
        customer=account,
        priority="critical",
        channel="email",
        reported_at=local,
        ticket_ref="INC-4471",
        description="All lines at the Leeds depot are dead.",
    )
    assert response.status_code == 303
    reference = response.headers["location"].rsplit("/", 1)[1]
    page = admin.get(f"/faults/{reference}").text
    assert f"Fault {reference} logged for Brightwater Logistics." in page
    assert "INC-4471" in page and "All lines at the Leeds depot are dead." in page
    clock = deadlines(
        Priority.CRITICAL, reported, config.hours.calendar(config.timezone), config.sla
    )
    with db.sessions() as session:
        fault = find_fault(session, reference)
        assert fault is not None
        assert (fault.channel, fault.priority, fault.customer) == (
            "email",
            "critical",
            "Brightwater Logistics",
        )
        assert fault.reported_at == reported
        assert (fault.acknowledge_by, fault.respond_by, fault.resolve_by) == (
            clock.acknowledge_by,
            clock.respond_by,
            clock.resolve_by,
        )
        # A critical fault pages at once, as it would from the phone.
        assert session.scalars(select(Page).where(Page.fault_id == fault.id)).all()


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"customer": "", "priority": "high", "channel": "email"}, "Choose a customer."),
        ({"customer": "Nobody Ltd", "priority": "high", "channel": "email"}, "Nobody Ltd"),
        ({"priority": "urgent", "channel": "email"}, "Choose a priority."),
        ({"priority": "high", "channel": "fax"}, "Choose a channel."),
        ({"priority": "high", "channel": "ticket", "reported_at": "yesterday"}, "Reported at"),
        (
            {"priority": "high", "channel": "ticket", "reported_at": "2026-12-25T09:00"},
            "Reported at is in the future.",
        ),
        (
            {"priority": "high", "channel": "ticket", "ticket_ref": "x" * 101},
            "at most 100 characters",
        ),
    ],
)
def test_a_fault_form_with_a_mistake_says_what_and_logs_nothing(
    admin: TestClient, db: Database, fields: dict[str, str], message: str
) -> None:
    with db.sessions() as session:
        before = len(session.scalars(select(Fault)).all())
    response = _add_fault(admin, **{"customer": "Acme Widgets Ltd", **fields})
    assert response.status_code == 400
    assert message in response.text
    with db.sessions() as session:
        assert len(session.scalars(select(Fault)).all()) == before


def test_reports_split_the_sla_by_channel(admin: TestClient) -> None:
    assert (
        _add_fault(
            admin, customer="Acme Widgets Ltd", priority="high", channel="ticket"
        ).status_code
        == 303
    )
    html = admin.get("/reports").text
    assert "SLA met and missed per channel" in html
    for channel in ("phone", "email", "ticket"):
        assert f"{channel} met" in html


def test_unknown_fault_or_action_is_404(admin: TestClient) -> None:
    assert admin.get("/faults/999999").status_code == 404
    token = csrf_of(admin.get("/").text)
    assert admin.post(f"/faults/{OPEN_REF}/delete", data={"csrf_token": token}).status_code == 404


# ---- escaping ----------------------------------------------------------------------------


def test_a_script_display_name_is_shown_as_text(admin: TestClient, seeded: Seeded) -> None:
    escaped = "&lt;script&gt;alert(1)&lt;/script&gt;"
    for path in ("/calls", f"/calls/{seeded.script_call_id}"):
        html = admin.get(path).text
        assert escaped in html, path
        assert SCRIPT_NAME not in html, path
        assert "<script" not in html.lower(), path


def test_caller_controlled_headers_are_escaped(admin: TestClient, db: Database) -> None:
    with db.sessions.begin() as session:
        call = CallRecord(
            sip_call_id='"><img src=x onerror=alert(2)>',
            from_header='"<b>boss</b>" <sip:x@evil>',
            display_name='"><svg onload=alert(3)>',
            asserted_identity="<iframe src=//evil>",
            started_at=NOW - timedelta(minutes=1),
            outcome="rejected",
        )
        session.add(call)
        session.flush()
        call_id = call.id
    html = admin.get(f"/calls/{call_id}").text
    for raw in ("<img", "<svg", "<iframe", "<b>boss"):
        assert raw not in html
    assert "&lt;svg onload=alert(3)&gt;" in html


# ---- recordings ------------------------------------------------------------------------


def add_recording(db: Database, path: Path, reference: str = OPEN_REF) -> int:
    with db.sessions.begin() as session:
        fault = find_fault(session, reference)
        assert fault is not None
        row = Recording(
            fault_id=fault.id,
            call_id=fault.call_id,
            path=str(path),
            seconds=1.0,
            sha256="0" * 64,
            ended_by="silence",
            created_at=fault.reported_at,
        )
        session.add(row)
        session.flush()
        return row.id


def test_a_recording_plays_in_the_fault_page(
    admin: TestClient, db: Database, config: Config
) -> None:
    config.data_dir.mkdir(parents=True, exist_ok=True)
    path = config.data_dir / "recordings" / "161803.wav"
    path.parent.mkdir()
    with wave.open(str(path), "wb") as wav:
        wav.setnchannels(1)
        wav.setsampwidth(2)
        wav.setframerate(8000)
        wav.writeframes(b"\0\0" * 8000)
    recording_id = add_recording(db, path)
    html = admin.get(f"/faults/{OPEN_REF}").text
    assert (
        f'<audio class="recording" controls preload="none" src="/recordings/{recording_id}"' in html
    )
    response = admin.get(f"/recordings/{recording_id}")
    assert response.status_code == 200
    assert response.headers["content-type"] == "audio/wav"
    assert response.content == path.read_bytes()
    admin.cookies.clear()
    assert admin.get(f"/recordings/{recording_id}").status_code == 303


def test_only_files_under_the_data_directory_are_served(
    admin: TestClient, db: Database, tmp_path: Path
) -> None:
    outside = tmp_path / "secret.wav"
    outside.write_bytes(b"RIFF not for you")
    assert admin.get(f"/recordings/{add_recording(db, outside)}").status_code == 404
    assert admin.get(f"/recordings/{add_recording(db, Path('../secret.wav'))}").status_code == 404
    assert admin.get("/recordings/99999").status_code == 404


# ---- the call log --------------------------------------------------------------------------


def rows(html: str) -> list[str]:
    return re.findall(r'<a href="/calls/(\d+)">', html)


def test_call_log_filters(admin: TestClient, db: Database) -> None:
    html = admin.get("/calls?outcome=rejected&limit=500").text
    ids = [int(i) for i in rows(html)]
    with db.sessions() as session:
        expected = session.scalars(
            select(CallRecord.id)
            .where(CallRecord.outcome == "rejected")
            .order_by(CallRecord.started_at.desc(), CallRecord.id.desc())
        ).all()
    assert ids == list(expected)

    html = admin.get("/calls?cli=020+7946+0666").text  # any common form of the number
    assert len(rows(html)) == 1 and "&lt;script&gt;" in html

    since = (NOW - timedelta(hours=2)).strftime("%Y-%m-%dT%H:%M")
    until = (NOW - timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M")
    html = admin.get(f"/calls?since={since}&until={until}&limit=500").text
    with db.sessions() as session:
        window = session.scalars(
            select(CallRecord.id).where(
                CallRecord.started_at >= NOW - timedelta(hours=2),
                CallRecord.started_at < NOW - timedelta(hours=1),
            )
        ).all()
    assert sorted(int(i) for i in rows(html)) == sorted(window)


def test_call_log_filters_by_the_priority_of_the_fault_reported(
    admin: TestClient, db: Database
) -> None:
    html = admin.get("/calls?priority=critical&limit=500").text
    with db.sessions() as session:
        expected = session.scalars(
            select(CallRecord.id)
            .join(Fault, Fault.reference == CallRecord.fault_reference)
            .where(Fault.priority == "critical")
            .order_by(CallRecord.started_at.desc(), CallRecord.id.desc())
        ).all()
    assert expected, "the seed has calls that reported critical faults"
    assert [int(i) for i in rows(html)] == list(expected)
    bad = admin.get("/calls?priority=urgent")
    assert bad.status_code == 400 and "Priority: &#39;urgent&#39; is not one of" in bad.text


def test_call_log_rejects_bad_filters_clearly(admin: TestClient) -> None:
    response = admin.get("/calls?cli=not-a-number")
    assert response.status_code == 400
    assert "not a telephone number" in response.text
    response = admin.get("/calls?since=yesterday")
    assert response.status_code == 400
    assert "is not a date and time" in response.text
    response = admin.get("/calls?outcome=exploded")
    assert response.status_code == 400


@pytest.mark.parametrize(
    ("field", "typed", "why"),
    [
        ("since", "2026-10-25T01:30", "happens twice"),
        ("until", "2026-03-29 01:30", "does not exist"),
    ],
)
def test_call_log_refuses_a_local_time_the_clock_change_makes_ambiguous(
    admin: TestClient, field: str, typed: str, why: str
) -> None:
    """The web takes local times by the CLI's rule: never a guess an hour either way."""
    response = admin.get("/calls", params={field: typed})
    assert response.status_code == 400
    assert f"{why} in Europe/London (clock change); give an explicit UTC offset" in response.text
    assert admin.get("/calls", params={field: typed + "+01:00"}).status_code == 200


def test_call_log_pages_by_keyset_without_gaps_or_repeats(admin: TestClient, db: Database) -> None:
    with db.sessions() as session:
        everything = session.scalars(
            select(CallRecord.id).order_by(CallRecord.started_at.desc(), CallRecord.id.desc())
        ).all()
    seen: list[int] = []
    url: str | None = "/calls?limit=10"
    pages = []
    while url is not None:
        html = admin.get(url).text
        pages.append(url)
        seen += [int(i) for i in rows(html)]
        match = re.search(r'href="([^"]+)" rel="next"', html)
        url = match.group(1).replace("&amp;", "&") if match else None
    assert seen == list(everything)
    # And back again from the last page.
    html = admin.get(pages[-1]).text
    newer = re.search(r'href="([^"]+)" rel="prev"', html)
    assert newer is not None
    back = [int(i) for i in rows(admin.get(newer.group(1).replace("&amp;", "&")).text)]
    assert back == seen[-(len(rows(html)) + 10) : -len(rows(html))]


def test_a_made_up_page_position_falls_back_to_the_newest(admin: TestClient) -> None:
    response = admin.get("/calls?before=garbage")
    assert response.status_code == 200
    assert "does not exist" in response.text


HUGE = "9" * 20  # past any 64-bit row id


@pytest.mark.parametrize(
    ("path", "status", "says"),
    [
        (f"/calls/{HUGE}", 404, "No such call"),
        (f"/calls/{HUGE}{HUGE}", 404, "No such call"),
        ("/calls/0", 404, "No such call"),
        (f"/recordings/{HUGE}", 404, "No such recording"),
        (f"/calls?before=1-{HUGE}", 400, "beyond any call in the log"),
        (f"/calls?after=1-{HUGE}", 400, "beyond any call in the log"),
        (f"/calls?before={HUGE}-1", 400, "beyond any call in the log"),
        (f"/calls?limit={HUGE}", 200, "Call log"),
        (f"/calls?limit=-{HUGE}", 200, "Call log"),
        ("/calls?since=9999-12-31T23:59-14:00", 400, "out of range"),
        ("/calls?until=0001-01-01T00:00%2B14:00", 400, "out of range"),
    ],
)
def test_numbers_past_any_row_answer_a_page_not_a_traceback(
    admin: TestClient, path: str, status: int, says: str
) -> None:
    response = admin.get(path)
    assert response.status_code == status
    assert says in response.text


# ---- dashboard ------------------------------------------------------------------------


def test_dashboard_shows_failed_pages_loudly_and_countdowns(admin: TestClient) -> None:
    html = admin.get("/").text
    alert = html[
        html.index('class="alert"') : html.index("</section>", html.index('class="alert"'))
    ]
    assert FAILED_REF in alert
    assert "no engineer answered" in alert
    assert "Acknowledge</span> 1h" in html or "left" in html
    assert "Pages in progress" in html


def test_dashboard_shows_e_mails_that_failed(admin: TestClient, db: Database) -> None:
    assert "could not be sent" not in admin.get("/").text
    with db.sessions.begin() as session:
        queued = queue_message(session, ["oncall@example.com"], "paging failed", "b", NOW)
        assert queued is not None
        claim_due(session, NOW, "node", 60)
        mark_attempt_failed(
            session, queued.id, "node", NOW, "ConnectionRefusedError: no", Backoff(max_attempts=1)
        )
    html = admin.get("/").text
    assert "1 e-mail could not be sent" in html
    assert "oncall@example.com" in html and "ConnectionRefusedError" in html
    with db.sessions.begin() as session:
        queue_message(session, ["noc@example.com"], "still pending", "b", NOW)
    _typed, values = scraped(admin)
    assert values[("faultline_emails", (("status", "failed"),))] == 1
    assert values[("faultline_emails", (("status", "pending"),))] == 1
    assert values[("faultline_emails", (("status", "sent"),))] == 0


# ---- metrics -------------------------------------------------------------------------


Samples = dict[tuple[str, tuple[tuple[str, str], ...]], float]


def scraped(client: TestClient) -> tuple[dict[str, str], Samples]:
    """The families' types by name, and every sample by (name, labels), as Prometheus reads them."""
    response = client.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain; version=0.0.4")
    found = list(text_string_to_metric_families(response.text))
    samples = {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in found
        for sample in family.samples
    }
    return {family.name: family.type for family in found}, samples


def gauge(client: TestClient, name: str) -> float:
    return scraped(client)[1][(name, ())]


def test_metrics_are_prometheus_text(client: TestClient, db: Database) -> None:
    typed, values = scraped(client)
    assert typed["faultline_calls"] == "counter"
    assert typed["faultline_faults"] == "counter"
    assert typed["faultline_page_attempts"] == "counter"
    assert typed["faultline_fault_time_to_acknowledge_seconds"] == "histogram"
    with db.sessions() as session:
        rejected = session.scalars(
            select(CallRecord.id).where(CallRecord.outcome == "rejected")
        ).all()
    assert values[("faultline_calls_total", (("outcome", "rejected"),))] == len(rejected)
    unresolved = (
        "faultline_faults_unresolved",
        (("priority", "critical"), ("status", "page_failed")),
    )
    assert values[unresolved] == 1
    assert values[("faultline_page_attempts_total", (("result", "busy"),))] > 0
    histogram = "faultline_fault_time_to_acknowledge_seconds"
    buckets = [
        v
        for (name, labels), v in values.items()
        if name == f"{histogram}_bucket" and ("priority", "critical") in labels
    ]
    assert buckets == sorted(buckets)
    count = values[(f"{histogram}_count", (("priority", "critical"),))]
    assert buckets[-1] == count > 0
    assert values[("faultline_database_up", ())] == 1


def test_metrics_can_be_switched_off(config: Config, db: Database, seeded: Seeded) -> None:
    quiet = replace(config, web=replace(config.web, metrics=False))
    with TestClient(create_app(quiet, db, clock=lambda: NOW), follow_redirects=False) as client:
        assert client.get("/metrics").status_code == 404


def test_every_call_outcome_has_a_chart_series() -> None:
    assert sorted(s.key for s in OUTCOME_SERIES) == sorted(o.value for o in Outcome)


# ---- nobody on call ----------------------------------------------------------------------


def test_nobody_on_call_is_a_red_banner_and_a_zero_gauge(admin: TestClient, db: Database) -> None:
    """A critical fault reported now would page nobody: the dashboard says so loudly."""
    assert "Nobody is on call for critical faults" not in admin.get("/").text
    assert gauge(admin, "faultline_oncall_engineers") == 2
    with db.sessions.begin() as session:
        for engineer in session.scalars(select(Engineer)):
            engineer.active = False
    page = admin.get("/").text
    assert "Nobody is on call for critical faults right now" in page
    assert gauge(admin, "faultline_oncall_engineers") == 0


# ---- customers ---------------------------------------------------------------------------


def test_customers_page_lists_accounts_handsets_open_faults_and_lock_outs(
    admin: TestClient, db: Database
) -> None:
    with db.sessions.begin() as session:
        customer = set_customer(session, "Caledonian Foods", pin="2718")
        account = customer.account
        fault = find_fault(session, OPEN_REF)
        assert fault is not None
        fault.customer_id = customer.id  # as the service links a fault to its caller's customer
        for _ in range(5):
            assert check_pin(session, account, "0000", "+442079460999", NOW) is None
    page = admin.get("/customers").text
    assert "Caledonian Foods" in page and account in page
    assert "1 account locked after too many wrong PINs" in page
    assert "locked until" in page
    assert "/faults/" + OPEN_REF in page  # its open fault is linked
    assert admin.get("/customers?q=" + account).text.count("<tr") == 2  # head + one row
    assert gauge(admin, "faultline_pin_lockouts_total") == 1


def test_metrics_say_the_database_is_away_rather_than_fail(
    config: Config, db: Database, seeded: Seeded, tmp_path: Path
) -> None:
    assert gauge(TestClient(create_app(config, db)), "faultline_database_up") == 1
    away = Database(f"sqlite:///{tmp_path}/away.db")  # no schema: every read fails
    types, samples = scraped(TestClient(create_app(config, away)))
    assert samples == {("faultline_database_up", ()): 0}
    away.dispose()
