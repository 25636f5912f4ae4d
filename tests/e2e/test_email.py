"""Customers told by e-mail, through a real SMTP server on loopback (aiosmtpd)."""

from __future__ import annotations

import logging
import signal
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from ivr.config.model import EmailConfig
from ivr.mail.sender import EmailSender
from ivr.store.db import Database
from ivr.store.outbox import list_messages, queue_message
from tests.e2e.conftest import KNOWN_CUSTOMER, KNOWN_NUMBER, FaultLine
from tests.e2e.smtp import MailServer, RefusingInbox
from tests.e2e.test_paging import PAGING, engineers
from tests.e2e.test_spine import assert_sipp_ok
from tests.ports import free_port

CUSTOMER_EMAIL = "ops@acme.example.com"


@pytest.fixture
def mail() -> Iterator[MailServer]:
    """An SMTP server on a free port, not yet started."""
    server = MailServer(free_port())
    yield server
    server.stop()


def email_settings(server: MailServer) -> dict[str, str]:
    # Short waits, so that a server that comes up is used within a second.
    return {
        "smtp": f"127.0.0.1:{server.port}",
        "from": "CLI SECURE faults <faults@clisecure.example.com>",
        "starttls": "no",
        "retry_first_seconds": "0.2",
        "retry_max_seconds": "1",
        "max_attempts": "100",
        "poll_seconds": "0.2",
        "timeout_seconds": "5",
    }


def line_with_email(factory: Any, mail: MailServer, **sections: dict[str, str]) -> FaultLine:
    line: FaultLine = factory(start=False, email=email_settings(mail), **sections)
    line.ivr("customers", "set", KNOWN_CUSTOMER, "--email", CUSTOMER_EMAIL)
    return line


def report(line: FaultLine, priority: str) -> dict[str, Any]:
    result = line.sipp("caller_report.xml", [(KNOWN_NUMBER, priority, "Acme desk")])
    assert_sipp_ok(line, "caller_report.xml", result)
    (fault,) = line.ivr_json("faults", "list")
    return dict(fault)


def text_of(message: Any) -> str:
    body = message.get_body(("plain",))
    assert body is not None
    return str(body.get_content())


def test_a_phone_report_delivers_one_message_with_the_reference_and_deadlines(
    fault_line_factory: Any, mail: MailServer
) -> None:
    mail.start()
    line = line_with_email(fault_line_factory, mail)
    line.start()
    fault = report(line, "2")
    (message,) = mail.inbox.wait_for(1)
    reference = fault["reference"]
    assert message["Subject"].startswith(f"{reference}: fault logged, high priority")
    assert message["To"] == CUSTOMER_EMAIL
    text = text_of(message)
    assert "+442079460000" in text and "by phone" in text
    for label in ("Acknowledged by:", "Responded to by:", "Resolved by:"):
        assert label in text
    assert message.get_body(("html",)) is not None
    (row,) = line.ivr_json("emails", "list")
    assert (row["status"], row["reference"], row["kind"]) == ("sent", reference, "logged")


def test_an_engineer_pressing_1_sends_a_second_message_in_the_same_thread(
    fault_line_factory: Any, mail: MailServer
) -> None:
    mail.start()
    line = line_with_email(fault_line_factory, mail, paging=PAGING)
    engineers(line, line.phone("engineer_presses_1.xml"), line.phone("engineer_busy.xml", 5))
    line.start()
    fault = report(line, "3")
    logged, acknowledged = mail.inbox.wait_for(2)
    reference = fault["reference"]
    assert logged["Subject"].startswith(f"{reference}: fault logged")
    assert acknowledged["Subject"] == f"{reference}: fault acknowledged"
    assert acknowledged["References"] == logged["Message-ID"]
    assert acknowledged["In-Reply-To"] == logged["Message-ID"]
    assert "alice" in text_of(acknowledged)


def test_a_server_that_is_down_delays_the_message_not_the_call(
    fault_line_factory: Any, mail: MailServer
) -> None:
    line = line_with_email(fault_line_factory, mail)
    line.start()
    fault = report(line, "2")
    line.wait_for_output(r"e-mail \d+ not sent \(attempt \d+\): ConnectionRefusedError")
    # The call is over, its reference heard, while the message still waits.
    (call,) = line.ivr_json("calls", "list")
    assert call["fault_reference"] == fault["reference"]
    assert call["reference_heard"] is True and call["ended_at"] is not None
    (row,) = line.ivr_json("emails", "list")
    assert row["status"] == "pending" and row["attempts"] >= 1
    mail.start()
    (message,) = mail.inbox.wait_for(1)
    assert message["Subject"].startswith(fault["reference"])
    line.wait_until(lambda: line.ivr_json("emails", "list")[0]["status"] == "sent")


def test_messages_pending_at_kill_9_are_all_delivered_after_restart_none_twice(
    fault_line_factory: Any, mail: MailServer
) -> None:
    line = line_with_email(fault_line_factory, mail)
    line.start()
    for via in ("email", "ticket", "phone"):
        line.ivr("faults", "add", "--customer", KNOWN_CUSTOMER, "--priority", "high", "--via", via)
    line.wait_for_output(r"e-mail \d+ not sent")
    line.stop(signal.SIGKILL)
    assert [row["status"] for row in line.ivr_json("emails", "list")] == ["pending"] * 3
    mail.start()
    line.start()
    mail.inbox.wait_for(3)
    line.wait_until(
        lambda: [row["status"] for row in line.ivr_json("emails", "list")] == ["sent"] * 3
    )
    # Every row is marked sent, so nothing more can go: count what arrived.
    sent = Counter(message["Message-ID"] for message in mail.inbox.messages)
    assert len(sent) == 3 and set(sent.values()) == {1}


def test_a_message_the_server_keeps_refusing_is_marked_failed_and_logged(
    database: str, caplog: pytest.LogCaptureFixture
) -> None:
    server = MailServer(free_port())
    server.inbox = RefusingInbox()
    server.start()
    db = Database(database)
    db.create_schema()
    now = datetime(2026, 11, 30, 10, 0, tzinfo=UTC)
    try:
        with db.sessions.begin() as session:
            queue_message(session, ["oncall@example.com"], "paging failed", "Nobody answered.", now)
        config = EmailConfig(
            "127.0.0.1", server.port, "faults@example.com", starttls=False,
            retry_first_seconds=60, max_attempts=2,
        )  # fmt: skip
        clock = [now]
        sender = EmailSender(db, config, ZoneInfo("Europe/London"), "node", lambda: clock[0])
        results: list[str] = []
        sender.on_result = results.append  # what the node's faultline_node_emails counts
        with caplog.at_level(logging.WARNING, logger="ivr.mail.sender"):
            assert sender.send_due() == now + timedelta(seconds=60)
            clock[0] = now + timedelta(seconds=60)
            assert sender.send_due() is None
        assert results == ["retry", "failed"]
        with db.sessions() as session:
            (row,) = list_messages(session)
            assert (row.status, row.attempts) == ("failed", 2)
            assert row.last_error is not None and "550" in row.last_error
        assert "failed after 2 attempts, given up" in caplog.text
    finally:
        server.stop()
        db.dispose()
