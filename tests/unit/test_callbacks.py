"""A callback's contact and its call record: `ivr handsets --contact`, then the store."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from ivr.store.callbacks import (
    callback_answered,
    callback_contact,
    close_callback,
    open_callback,
)
from ivr.store.db import Database
from ivr.store.faults import find_fault
from ivr.store.models import CallRecord
from tests.unit.cli import ivr, ok, write_conf

NUMBER = "+442079460000"


@pytest.fixture
def conf(tmp_path: Path) -> Path:
    conf = write_conf(tmp_path)
    ok(conf, "handsets", "add", "020 7946 0000", "--customer", "Acme Ltd")
    return conf


def contacts(conf: Path) -> dict[str, str | None]:
    rows = json.loads(ok(conf, "handsets", "list", "--json"))
    return {row["number"]: row["contact"] for row in rows}


def test_a_handset_takes_a_contact_when_added_and_changes_it_later(conf: Path) -> None:
    ok(conf, "handsets", "add", "020 7946 0001", "--customer", "Acme Ltd",
       "--contact", "sip:desk@pbx.example")  # fmt: skip
    assert contacts(conf) == {NUMBER: None, "+442079460001": "sip:desk@pbx.example"}
    out = ok(conf, "handsets", "set", "02079460000", "--contact", "020 7946 0999")
    assert out.strip() == f"{NUMBER}: called back at +442079460999"
    ok(conf, "handsets", "set", "02079460001", "--clear-contact")
    assert contacts(conf) == {NUMBER: "+442079460999", "+442079460001": None}


def test_bad_contacts_and_usage_are_clear_answers(conf: Path) -> None:
    bad = ivr(conf, "handsets", "set", "02079460000", "--contact", "sip:no host")
    assert bad.exit_code == 1 and "is not a SIP URI" in bad.output
    unknown = ivr(conf, "handsets", "set", "02079469999", "--contact", "sip:a@b.example")
    assert unknown.exit_code == 1 and "not a registered handset" in unknown.output
    neither = ivr(conf, "handsets", "set", "02079460000")
    assert neither.exit_code == 2 and "--contact or --clear-contact" in neither.output


def test_the_callback_rings_the_handsets_contact_else_its_number(
    conf: Path, tmp_path: Path
) -> None:
    db = Database(f"sqlite:///{tmp_path}/x.db")
    with db.sessions() as session:
        assert callback_contact(session, NUMBER) == NUMBER
        assert callback_contact(session, "+442079461234") == "+442079461234"  # a PIN caller's
        assert callback_contact(session, None) is None  # withheld: nobody to call
    ok(conf, "handsets", "set", NUMBER, "--contact", "sip:desk@pbx.example")
    with db.sessions() as session:
        assert callback_contact(session, NUMBER) == "sip:desk@pbx.example"


def test_answering_a_callback_is_the_response_once(conf: Path, tmp_path: Path) -> None:
    out = ok(conf, "faults", "add", "--customer", "Acme Ltd", "--priority", "critical",
             "--via", "phone", "--json")  # fmt: skip
    reference = json.loads(out)["reference"]
    ok(conf, "faults", "ack", reference, "--by", "alice")
    db = Database(f"sqlite:///{tmp_path}/x.db")
    t0 = datetime.now(UTC) + timedelta(minutes=1)  # after the acknowledgement, as in life
    opened = []
    for n in range(2):
        with db.sessions.begin() as session:
            opened.append(open_callback(session, page_id=4, reference=reference,
                                        number=NUMBER, node="host-a:5060", at=t0))  # fmt: skip
        with db.sessions.begin() as session:
            at = t0 + timedelta(seconds=5 + n)
            responded = callback_answered(session, opened[-1], f"call-{n}", at, "alice")
            assert responded is (n == 0)
            close_callback(session, opened[-1], "", "joined", at + timedelta(minutes=3))
    with db.sessions() as session:
        fault = find_fault(session, reference)
        assert fault is not None and fault.status == "responded"
        assert fault.responded_at is not None
        first = session.get_one(CallRecord, opened[0])
        assert (first.direction, first.kind, first.page_id) == ("outbound", "callback", 4)
        assert (first.sip_call_id, first.outcome, first.fault_reference) == (
            "call-0", "joined", reference,
        )  # fmt: skip
        assert first.ended_at is not None and first.answered_at is not None
        assert (first.ended_at - first.answered_at) == timedelta(minutes=3)
