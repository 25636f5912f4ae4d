"""Customers' e-mails: `[email]` at load, composition, the outbox on SQLite and PostgreSQL."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from ivr.config import ConfigError, HoursConfig, load_config
from ivr.domain import Channel, Priority
from ivr.faults.lifecycle import Action
from ivr.mail.compose import Envelope, compose, message_id
from ivr.paging.policy import Policy
from ivr.sla import deadlines
from ivr.store.call_writes import log_fault
from ivr.store.customers import add_customer
from ivr.store.db import Database
from ivr.store.fault_changes import reprioritise
from ivr.store.faults import move_fault
from ivr.store.models import Fault
from ivr.store.outbox import (
    FAILED,
    PENDING,
    SENT,
    Backoff,
    claim_due,
    list_messages,
    mark_attempt_failed,
    mark_sent,
    queue_message,
    retry_message,
    thread_tokens,
)
from tests.unit import cli

LONDON = ZoneInfo("Europe/London")
# Monday 30 Nov 2026, 10:00 GMT: inside core hours.
NOW = datetime(2026, 11, 30, 10, 0, tzinfo=UTC)
CALENDAR = HoursConfig().calendar(LONDON)
GOOD = "[email]\nsmtp = 127.0.0.1:2525\nfrom = CLI SECURE <faults@example.com>\nstarttls = no\n"


def conf_with(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "sip.conf"
    path.write_text(text, encoding="utf-8")
    return path


# ---- [email] -------------------------------------------------------------------------


def test_without_an_email_section_nothing_is_configured(tmp_path: Path) -> None:
    assert load_config(conf_with(tmp_path, "[general]\n")).email is None


def test_an_email_section_loads(tmp_path: Path) -> None:
    email = load_config(conf_with(tmp_path, GOOD + "max_attempts = 3\n")).email
    assert email is not None
    assert (email.smtp_host, email.smtp_port, email.starttls) == ("127.0.0.1", 2525, False)
    assert email.sender == "CLI SECURE <faults@example.com>"
    assert email.max_attempts == 3


def test_the_password_may_come_from_a_file_or_the_environment(tmp_path: Path) -> None:
    (tmp_path / "pw").write_text("s3cret\n", encoding="utf-8")
    text = GOOD + "username = faultline\npassword_file = pw\n"
    email = load_config(conf_with(tmp_path, text)).email
    assert email is not None and email.password == "s3cret"
    email = load_config(conf_with(tmp_path, text), {"IVR_SMTP_PASSWORD": "env"}).email
    assert email is not None and email.password == "env"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[email]\nfrom = faults@example.com\n", r":1: \[email\] smtp: required"),
        ("[email]\nsmtp = mail.example.com\nfrom = a@example.com\n", r":2: \[email\] smtp: "),
        ("[email]\nsmtp = mail.example.com:25\n", r"\[email\] from: required"),
        (GOOD.replace("faults@example.com", "faults"), r":3: \[email\] from: expected an e-mail"),
        (GOOD + "starttls = maybe\n", r"given twice"),
        (
            GOOD.replace("starttls = no", "starttls = maybe"),
            r":4: \[email\] starttls: expected yes",
        ),
        (GOOD + "username = u\n", r"\[email\] password: give password"),
        (GOOD + "max_attempts = 0\n", r":5: \[email\] max_attempts: must be from 1"),
        (GOOD + "retry_first_seconds = 60\nretry_max_seconds = 10\n", r"retry_max_seconds"),
        (GOOD + "smtp_port = 25\n", r":5: \[email\] smtp_port: unknown setting"),
    ],
)
def test_mistakes_are_refused_by_file_line_and_setting(
    tmp_path: Path, text: str, message: str
) -> None:
    with pytest.raises(ConfigError, match=message) as caught:
        load_config(conf_with(tmp_path, text))
    assert "sip.conf" in str(caught.value)


# ---- composition ---------------------------------------------------------------------

FACTS: dict[str, object] = {
    "reference": "482913",
    "priority": "critical",
    "reported_priority": "critical",
    "channel": "phone",
    "cli": "+442079460000",
    "reported_at": "2026-11-30T10:00:00+00:00",
    "acknowledge_by": "2026-11-30T10:15:00+00:00",
    "respond_by": "2026-11-30T12:00:00+00:00",
    "resolve_by": "2026-11-30T14:00:00+00:00",
    "at": "2026-11-30T10:00:00+00:00",
}
SENDER = "CLI SECURE <faults@example.com>"


def test_the_logged_message_tells_everything_in_local_time() -> None:
    envelope = Envelope(SENDER, ["ops@example.com"], "482913.aa")
    message = compose("logged", FACTS, envelope, LONDON, NOW)
    assert message["Subject"].startswith("482913")
    assert message["Message-ID"] == "<482913.aa@example.com>"
    assert message["Date"] == "Mon, 30 Nov 2026 10:00:00 +0000"
    assert message["References"] is None
    plain = message.get_body(("plain",))
    html = message.get_body(("html",))
    assert plain is not None and html is not None
    text = plain.get_content()
    for expected in (
        "482913",
        "critical",
        "by phone",
        "+442079460000",
        "Monday 30 November 2026 at 10:00 a.m. GMT",
        "Monday 30 November 2026 at 10:15 a.m. GMT",
        "Monday 30 November 2026 at 12:00 p.m. GMT",
        "Monday 30 November 2026 at 2:00 p.m. GMT",
    ):
        assert expected in text
    assert "at 2:00 p.m. GMT" in html.get_content()


def test_later_messages_thread_under_the_earlier_ones() -> None:
    envelope = Envelope(SENDER, ["ops@example.com"], "482913.cc", ["482913.aa", "482913.bb"])
    facts = FACTS | {"by": "alice", "at": "2026-06-01T09:05:00+00:00"}
    message = compose("acknowledged", facts, envelope, LONDON, NOW)
    assert message["Subject"] == "482913: fault acknowledged"
    assert message["In-Reply-To"] == message_id("482913.bb", SENDER)
    assert message["References"] == "<482913.aa@example.com> <482913.bb@example.com>"
    text = message.get_body(("plain",))
    assert text is not None
    assert "10:05 a.m. BST" in text.get_content()
    assert "alice" in text.get_content()


def test_a_notice_is_its_subject_and_body() -> None:
    envelope = Envelope(SENDER, ["ops@example.com"], "notice.aa")
    facts = {"subject": "paging failed", "body": "Nobody answered.", "reference": "482913"}
    message = compose("notice", facts, envelope, LONDON, NOW)
    assert message["Subject"] == "482913: paging failed"
    body = message.get_body(("plain",))
    assert body is not None and body.get_content() == "Nobody answered.\n"


# ---- the outbox, on SQLite and PostgreSQL --------------------------------------------


@pytest.fixture(params=["sqlite", "postgresql"])
def db(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Database]:
    url = (
        f"sqlite:///{tmp_path}/x.db"
        if request.param == "sqlite"
        else request.getfixturevalue("postgres_url")
    )
    database = Database(url)
    database.create_schema()
    yield database
    database.dispose()


def new_fault(db: Database, emails: list[str], priority: Priority = Priority.HIGH) -> int:
    with db.sessions.begin() as session:
        customer = add_customer(session, f"Customer {len(emails)}", emails=emails)
        clock = deadlines(priority, NOW, CALENDAR)
        fault = log_fault(
            session, priority=priority, reported_at=NOW, clock=clock, pages=False, now=NOW,
            channel=Channel.PHONE, customer=customer.name, customer_id=customer.id,
            cli="+442079460000",
        )  # fmt: skip
        return fault.id


def test_a_fault_and_its_moves_queue_one_message_each_in_one_thread(db: Database) -> None:
    fault_id = new_fault(db, ["ops@example.com", "it@example.com"])
    with db.sessions.begin() as session:
        fault = session.get_one(Fault, fault_id)
        move_fault(session, fault, Action.ACKNOWLEDGE, NOW + timedelta(minutes=5), by="alice")
        clock = deadlines(Priority.CRITICAL, NOW, CALENDAR)
        reprioritise(
            session, fault, Priority.CRITICAL, clock, Policy(priorities=frozenset()),
            at=NOW + timedelta(minutes=6), by="bob", reason="whole site down",
        )  # fmt: skip
        move_fault(session, fault, Action.RESOLVE, NOW + timedelta(minutes=30), by="alice")
    with db.sessions() as session:
        messages = list(reversed(list_messages(session)))
        assert [m.kind for m in messages] == ["logged", "acknowledged", "reprioritised", "resolved"]
        assert all(m.recipients == ["ops@example.com", "it@example.com"] for m in messages)
        assert messages[2].facts["priority"] == "critical"
        assert "whole site down" in str(messages[2].facts["comment"])
        assert thread_tokens(session, messages[3]) == [m.token for m in messages[:3]]


def test_a_customer_without_email_gets_nothing_and_nothing_fails(db: Database) -> None:
    fault_id = new_fault(db, [])
    with db.sessions.begin() as session:
        move_fault(session, session.get_one(Fault, fault_id), Action.ACKNOWLEDGE, NOW, by="a")
    with db.sessions() as session:
        assert list_messages(session) == []


def test_a_message_is_leased_to_one_sender_retried_then_failed(db: Database) -> None:
    with db.sessions.begin() as session:
        first = queue_message(session, ["oncall@example.com"], "paging failed", "body", NOW)
        assert first is not None
        message_id_ = first.id
        assert queue_message(session, [" "], "nobody", "body", NOW) is None
    backoff = Backoff(first_seconds=10, max_seconds=15, max_attempts=3)
    with db.sessions.begin() as session:
        assert [m.id for m in claim_due(session, NOW, "node-a", 60)] == [message_id_]
    with db.sessions.begin() as session:
        assert claim_due(session, NOW, "node-b", 60) == []  # held by node-a
    waits = []
    at = NOW
    for attempt in range(3):
        with db.sessions.begin() as session:
            if attempt:
                assert [m.id for m in claim_due(session, at, "node-a", 60)] == [message_id_]
            row = mark_attempt_failed(session, message_id_, "node-a", at, "refused", backoff)
            assert row is not None
            waits.append((row.next_attempt_at - at).total_seconds())
            at = row.next_attempt_at
            status = row.status
        with db.sessions.begin() as session:
            early = claim_due(session, at - timedelta(seconds=1), "node-b", 60)
            assert early == [] or status == FAILED
    assert waits[:2] == [10, 15] and status == FAILED
    with db.sessions.begin() as session:
        assert claim_due(session, at + timedelta(days=1), "node-b", 60) == []
        assert retry_message(session, message_id_, at).status == PENDING
    with db.sessions.begin() as session:
        assert [m.id for m in claim_due(session, at, "node-b", 60)] == [message_id_]
        assert not mark_sent(session, message_id_, "node-a", at)  # not node-a's any more
        assert mark_sent(session, message_id_, "node-b", at)
    with db.sessions() as session:
        assert [m.status for m in list_messages(session)] == [SENT]


def test_a_sender_that_died_mid_send_loses_its_lease_and_the_message_goes_again(
    db: Database,
) -> None:
    with db.sessions.begin() as session:
        queued = queue_message(session, ["oncall@example.com"], "s", "b", NOW)
        assert queued is not None
    with db.sessions.begin() as session:
        assert len(claim_due(session, NOW, "dead-node", 60)) == 1
    with db.sessions.begin() as session:
        assert claim_due(session, NOW + timedelta(seconds=59), "other", 60) == []
    with db.sessions.begin() as session:
        assert len(claim_due(session, NOW + timedelta(seconds=60), "other", 60)) == 1


# ---- ivr emails ----------------------------------------------------------------------


def test_emails_list_and_retry(tmp_path: Path) -> None:
    conf = cli.write_conf(tmp_path)
    cli.ok(conf, "customers", "add", "Acme Ltd", "--email", "ops@example.com")
    cli.ok(conf, "faults", "add", "--customer", "Acme Ltd", "--priority", "high", "--via",
           "ticket", now=NOW)  # fmt: skip
    rows = json.loads(cli.ok(conf, "emails", "list", "--status", "pending", "--json"))
    assert [(r["kind"], r["recipients"]) for r in rows] == [("logged", ["ops@example.com"])]
    assert "logged" in cli.ok(conf, "emails", "list")
    assert cli.ok(conf, "emails", "list", "--status", "failed").strip() == "no failed e-mails"
    refused = cli.ivr(conf, "emails", "retry", str(rows[0]["id"]))
    assert refused.exit_code == 1 and "is pending, not failed" in refused.output
    missing = cli.ivr(conf, "emails", "retry", "999")
    assert missing.exit_code == 1 and "no e-mail 999" in missing.output
