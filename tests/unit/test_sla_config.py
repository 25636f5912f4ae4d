"""sip.conf [sla] and [hours] days: the published SLA by default, and mistakes named by key."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from ivr.config import ConfigError, load_config
from ivr.db_writer import DbWriter, NewCall
from ivr.domain import Priority
from ivr.paging.policy import Policy
from ivr.sla import DEFAULT_SLA_RULES, MONDAY_TO_FRIDAY, BusinessCalendar, Clock, SlaRule, Target
from ivr.store.db import Database
from ivr.store.models import Fault

REPO = Path(__file__).resolve().parents[2]
MON, TUE, WED, THU, FRI, SAT, SUN = range(7)


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "sip.conf"
    path.write_text(text, encoding="utf-8")
    return path


def sla(tmp_path: Path, **lines: str) -> Path:
    body = "".join(f"{key} = {value}\n" for key, value in lines.items())
    return write(tmp_path, f"[sla]\n{body}")


# ---- defaults -----------------------------------------------------------------------------


def test_without_the_sections_the_published_sla_is_in_force(tmp_path: Path) -> None:
    config = load_config(write(tmp_path, "[general]\n"))
    assert config.sla == DEFAULT_SLA_RULES
    assert config.hours.days == MONDAY_TO_FRIDAY == frozenset({MON, TUE, WED, THU, FRI})


def test_the_default_holiday_region_is_known_without_checking_at_load(tmp_path: Path) -> None:
    """Loading skips building the default region's table (it imports every country); this
    is the check it would have made: the table builds and knows a bank holiday."""
    config = load_config(write(tmp_path, "[hours]\nopen = 09:00\n"))
    calendar = config.hours.calendar(config.timezone)
    assert not calendar.is_business_day(datetime(2026, 12, 25, tzinfo=UTC).date())
    assert calendar.is_business_day(datetime(2026, 12, 23, tzinfo=UTC).date())


def test_another_holiday_region_is_still_checked_at_load(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="holidays"):
        load_config(write(tmp_path, "[hours]\nholidays = XX\n"))


def test_the_published_sla_as_data() -> None:
    # Written out from ../shared/seed/sla.txt, so that a slip in the defaults shows here.
    published = {
        Priority.STANDARD: SlaRule(Target(8, Clock.CORE), Target(12, Clock.CORE), None),
        Priority.HIGH: SlaRule(
            Target(5, Clock.CORE), Target(8, Clock.CORE), Target(40, Clock.CORE)
        ),
        Priority.CRITICAL: SlaRule(
            Target(2, Clock.ELAPSED), Target(3, Clock.ELAPSED), Target(24, Clock.ELAPSED)
        ),
    }
    assert dict(DEFAULT_SLA_RULES) == published


def test_the_example_spells_out_the_defaults() -> None:
    config = load_config(REPO / "sip.conf.example")
    assert config.sla == DEFAULT_SLA_RULES
    assert config.hours.days == MONDAY_TO_FRIDAY


def test_an_empty_section_or_value_keeps_the_defaults(tmp_path: Path) -> None:
    assert load_config(write(tmp_path, "[sla]\n")).sla == DEFAULT_SLA_RULES
    assert load_config(sla(tmp_path, high="")).sla == DEFAULT_SLA_RULES
    assert load_config(write(tmp_path, "[hours]\ndays =\n")).hours.days == MONDAY_TO_FRIDAY


# ---- changed targets ----------------------------------------------------------------------


def test_a_changed_target_leaves_the_other_priorities_alone(tmp_path: Path) -> None:
    config = load_config(sla(tmp_path, critical="ack 0.5 clock, respond 1 clock, resolve 8 clock"))
    assert config.sla[Priority.CRITICAL] == SlaRule(
        acknowledge=Target(0.5, Clock.ELAPSED),
        respond=Target(1, Clock.ELAPSED),
        resolve=Target(8, Clock.ELAPSED),
    )
    assert config.sla[Priority.STANDARD] == DEFAULT_SLA_RULES[Priority.STANDARD]
    assert config.sla[Priority.HIGH] == DEFAULT_SLA_RULES[Priority.HIGH]


def test_resolve_none_means_no_deadline(tmp_path: Path) -> None:
    config = load_config(sla(tmp_path, high="ack 5 core, respond 8 core, resolve none"))
    assert config.sla[Priority.HIGH].resolve is None


def test_standard_may_be_given_a_resolution_deadline(tmp_path: Path) -> None:
    config = load_config(sla(tmp_path, standard="ack 8 core, respond 12 core, resolve 80 core"))
    assert config.sla[Priority.STANDARD].resolve == Target(80, Clock.CORE)


def test_words_are_case_blind_in_any_order_and_ack_may_be_spelt_out(tmp_path: Path) -> None:
    config = load_config(
        sla(tmp_path, HIGH="Resolve 40 CORE,\n  Acknowledge 4 Core, respond 6.5 core")
    )
    assert config.sla[Priority.HIGH] == SlaRule(
        Target(4, Clock.CORE), Target(6.5, Clock.CORE), Target(40, Clock.CORE)
    )


def test_stages_on_different_clocks_are_not_compared(tmp_path: Path) -> None:
    # 0.5 clock hours can be sooner or later than 1 core hour, depending on the instant.
    config = load_config(sla(tmp_path, critical="ack 1 core, respond 0.5 clock, resolve 24 clock"))
    assert config.sla[Priority.CRITICAL].respond == Target(0.5, Clock.ELAPSED)


# ---- the working week -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "days"),
    [
        ("mon-fri", {MON, TUE, WED, THU, FRI}),
        ("mon-sat", {MON, TUE, WED, THU, FRI, SAT}),
        ("Monday-Friday", {MON, TUE, WED, THU, FRI}),
        ("mon, wed,fri", {MON, WED, FRI}),
        ("mon-thu, sat", {MON, TUE, WED, THU, SAT}),
        ("sun-thu", {SUN, MON, TUE, WED, THU}),
        ("sat", {SAT}),
        ("mon-sun", set(range(7))),
    ],
)
def test_working_week(tmp_path: Path, text: str, days: set[int]) -> None:
    config = load_config(write(tmp_path, f"[hours]\ndays = {text}\n"))
    assert config.hours.days == days
    calendar = config.hours.calendar(config.timezone)
    assert calendar.days == days


# ---- mistakes -----------------------------------------------------------------------------

HIGH = "[sla]\nhigh = "


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[sla]\nurgent = ack 1 clock", "[sla] urgent: unknown priority; expected one of critical"),
        (HIGH + "ack 5 core, respond 8 core", "[sla] high: no resolve given; expected ack"),
        (HIGH + "respond 8 core", "[sla] high: no acknowledge or resolve given"),
        (HIGH + "ack 5 core, ack 6 core", "[sla] high: acknowledge is given twice"),
        (HIGH + "finish 5 core", "[sla] high: unknown stage 'finish'"),
        (HIGH + "ack 5", "[sla] high: cannot read 'ack 5'; expected ack, respond and resolve"),
        (HIGH + "ack 5 core hours", "[sla] high: cannot read 'ack 5 core hours'"),
        (HIGH + "ack five core", "[sla] high: acknowledge hours 'five' is not a number"),
        (HIGH + "ack 5 wall", "[sla] high: acknowledge counts 'wall' hours; expected core"),
        (HIGH + "ack 0 core", "[sla] high: acknowledge hours must be more than 0"),
        (HIGH + "ack -1 core", "[sla] high: acknowledge hours must be more than 0"),
        (HIGH + "ack nan core", "[sla] high: acknowledge hours must be more than 0"),
        (HIGH + "ack 9000 core", "[sla] high: acknowledge hours must be .* at most 8760"),
        (HIGH + "ack none", "[sla] high: acknowledge must have a deadline; only resolve"),
        (HIGH + "ack 5 core, respond none", "[sla] high: respond must have a deadline"),
        (
            HIGH + "ack 5 core, respond 4 core, resolve 40 core",
            r"[sla] high: respond \(4 core hours\) must not be due sooner than acknowledge "
            r"\(5 core hours\)",
        ),
        (
            "[sla]\ncritical = ack 2 clock, respond 3 clock, resolve 2.5 clock",
            r"[sla] critical: resolve \(2.5 clock hours\) must not be due sooner",
        ),
        ("[hours]\ndays = mon-fir", "[hours] days: 'fir' is not a weekday"),
        ("[hours]\ndays = weekdays", "[hours] days: 'weekdays' is not a weekday"),
        ("[hours]\ndays = ,", "[hours] days: expected days such as mon-fri"),
    ],
    ids=[
        "unknown-priority",
        "missing-stage",
        "missing-stages",
        "repeated-stage",
        "unknown-stage",
        "no-clock",
        "extra-word",
        "hours-not-a-number",
        "unknown-clock",
        "zero-hours",
        "negative-hours",
        "nan-hours",
        "too-many-hours",
        "ack-none",
        "respond-none",
        "respond-before-ack",
        "resolve-before-respond",
        "misspelt-day",
        "not-a-day",
        "no-days",
    ],
)
def test_mistakes_name_section_key_and_what_is_expected(
    tmp_path: Path, text: str, message: str
) -> None:
    pattern = message.replace("[sla]", r"\[sla\]").replace("[hours]", r"\[hours\]")
    with pytest.raises(ConfigError, match=pattern):
        load_config(write(tmp_path, text + "\n"))


# ---- the service's records use them ------------------------------------------------------


@pytest.fixture
def db(tmp_path: Path) -> Iterator[Database]:
    database = Database(f"sqlite:///{tmp_path}/sla.db")
    database.create_schema()
    yield database
    database.dispose()


async def test_records_store_the_deadlines_of_the_configured_rules(
    tmp_path: Path, db: Database
) -> None:
    config = load_config(sla(tmp_path, critical="ack 0.5 clock, respond 1 clock, resolve 8 clock"))
    records = DbWriter(db, BusinessCalendar(), Policy(priorities=frozenset()), rules=config.sla)
    # Christmas Day 2026, 10:00 GMT: the clock runs on a bank holiday.
    reported = datetime(2026, 12, 25, 10, 0, tzinfo=UTC)
    try:
        call = await records.open_call(
            NewCall("call-1", None, None, None, None, None, "test", reported)
        )
        committed = await records.record_fault(call.id, Priority.CRITICAL, reported)
        reference = committed.reference
        assert not committed.pages  # this policy pages no priority
    finally:
        records.close()
    with db.sessions() as session:
        fault = session.query(Fault).filter_by(reference=reference).one()
        assert fault.acknowledge_by == datetime(2026, 12, 25, 10, 30, tzinfo=UTC)
        assert fault.respond_by == datetime(2026, 12, 25, 11, 0, tzinfo=UTC)
        assert fault.resolve_by is not None
        assert fault.resolve_by == datetime(2026, 12, 25, 18, 0, tzinfo=UTC)
