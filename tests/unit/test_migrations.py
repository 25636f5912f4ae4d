"""Schema migrations: `ivr db`, adopting old databases, racing starts, models == migrations.

Each test that matters for production runs on a SQLite file and on a real
PostgreSQL database (tests/pg.py); the backend is in the test id.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from click.testing import CliRunner, Result
from sqlalchemy import inspect, select, text

from ivr.admin.cli import main
from ivr.store import migrations
from ivr.store.db import Database
from ivr.store.handsets import add_handset
from ivr.store.models import Handset

HEAD = migrations.heads()


@pytest.fixture(params=["sqlite", "postgresql"])
def url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "postgresql":
        pg_url: str = request.getfixturevalue("postgres_url")
        return pg_url
    return f"sqlite:///{tmp_path}/faultline.db"


@pytest.fixture
def database(url: str) -> Iterator[Database]:
    db = Database(url)
    yield db
    db.dispose()


def conf_for(tmp_path: Path, url: str) -> Path:
    path = tmp_path / "sip.conf"
    path.write_text(f"[general]\ndatabase = {url}\n", encoding="utf-8")
    return path


def ivr(conf: Path, *args: str) -> Result:
    return CliRunner().invoke(main, ["--config", str(conf), *args])


def tables(db: Database) -> set[str]:
    return set(inspect(db.engine).get_table_names())


def model_diff(db: Database) -> list[object]:
    with db.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        return list(compare_metadata(context, migrations.load_models()))


# ---- the migrations themselves ---------------------------------------------------------


def test_one_head() -> None:
    """Two migrations written in parallel off the same parent must be merged before CI passes."""
    assert len(HEAD) == 1, f"several heads {HEAD}: renumber one migration onto the other"


def test_migrations_match_the_models(database: Database) -> None:
    """A model changed without a migration fails here: write one with `ivr db revision`."""
    database.create_schema()
    assert model_diff(database) == [], (
        "the models differ from the migrations; add a migration "
        "(see README, 'How to add a migration')"
    )


def test_downgrade_to_nothing_and_back(database: Database) -> None:
    database.create_schema()
    with migrations.migration_lock(database.engine) as connection:
        command.downgrade(migrations.alembic_config(connection), "base")
    assert tables(database) <= {"alembic_version"}
    database.create_schema()
    assert model_diff(database) == []


# ---- ivr db -------------------------------------------------------------------------------


def test_ivr_db_upgrade_an_empty_database(tmp_path: Path, url: str, database: Database) -> None:
    conf = conf_for(tmp_path, url)
    behind = ivr(conf, "db", "check")
    assert behind.exit_code == 1
    assert "empty (never migrated)" in behind.output and "run `ivr db upgrade`" in behind.output
    assert json.loads(ivr(conf, "db", "current", "--json").output)["current"] == []

    upgraded = ivr(conf, "db", "upgrade")
    assert upgraded.exit_code == 0, upgraded.output
    assert f"is at {HEAD[0]} (head)" in upgraded.output
    assert "faults" in tables(database)

    checked = ivr(conf, "db", "check")
    assert checked.exit_code == 0, checked.output
    status = json.loads(ivr(conf, "db", "current", "--json").output)
    assert status["current"] == list(HEAD) and status["at_head"] is True


def test_ivr_db_never_shows_the_password(tmp_path: Path, url: str) -> None:
    output = ivr(conf_for(tmp_path, url), "db", "current").output
    password = url.partition("://")[2].partition("@")[0].partition(":")[2]
    if password:
        assert password not in output and "***" in output


def test_ivr_db_upgrade_to_an_unknown_revision_is_a_clear_error(tmp_path: Path, url: str) -> None:
    result = ivr(conf_for(tmp_path, url), "db", "upgrade", "--revision", "9999")
    assert result.exit_code == 1
    assert "9999" in result.output


def test_other_commands_refuse_a_database_behind_the_code(tmp_path: Path, url: str) -> None:
    """Only `ivr db upgrade` and `ivr serve` migrate; a listing never changes the schema."""
    conf = conf_for(tmp_path, url)
    result = ivr(conf, "handsets", "add", "020 7946 0000", "--customer", "Acme")
    assert result.exit_code == 1
    assert "empty (never migrated)" in result.output
    assert "run `ivr db upgrade` first" in result.output
    assert "Traceback" not in result.output
    assert ivr(conf, "db", "check").exit_code == 1  # still untouched
    assert ivr(conf, "db", "upgrade").exit_code == 0
    result = ivr(conf, "handsets", "add", "020 7946 0000", "--customer", "Acme")
    assert result.exit_code == 0, result.output


def test_ivr_db_revision_writes_nothing_when_the_models_match(tmp_path: Path) -> None:
    conf = conf_for(tmp_path, f"sqlite:///{tmp_path}/dev.db")
    result = ivr(conf, "db", "revision", "-m", "nothing")
    assert result.exit_code == 1
    assert "nothing to write" in result.output


# ---- databases made before migrations ------------------------------------------------------


def test_a_create_all_database_is_adopted_with_its_rows(database: Database) -> None:
    migrations.load_models().create_all(database.engine)
    with database.sessions.begin() as session:
        add_handset(session, "020 7946 0000", "Acme Ltd")

    database.create_schema()

    with database.engine.connect() as connection:
        assert migrations.current(connection) == HEAD
    with database.sessions() as session:
        assert session.scalars(select(Handset.number)).all() == ["+442079460000"]
    assert model_diff(database) == []


def test_an_older_create_all_database_gets_its_missing_tables(database: Database) -> None:
    """Made before some tables existed: those are created, the others kept."""
    metadata = migrations.load_models()
    old = [metadata.tables[name] for name in ("customers", "handsets", "calls", "faults")]
    metadata.create_all(database.engine, tables=old)
    with database.sessions.begin() as session:
        add_handset(session, "020 7946 0000", "Acme Ltd")

    database.create_schema()

    assert tables(database) >= set(metadata.tables)
    with database.sessions() as session:
        assert session.scalars(select(Handset.number)).all() == ["+442079460000"]
    assert model_diff(database) == []


# ---- several processes starting at once ---------------------------------------------------

_START = """
import sys
from ivr.store.db import Database
sys.stdin.readline()  # start together
db = Database(sys.argv[1])
db.create_schema()
db.dispose()
"""


def test_processes_starting_together_all_get_the_schema(url: str, database: Database) -> None:
    """The CLI and the service (and more) upgrading one database at the same moment."""
    starters = [
        subprocess.Popen(
            [sys.executable, "-c", _START, url],
            stdin=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(4)
    ]
    for process in starters:  # each is waiting on stdin by now, imports done or nearly
        assert process.stdin is not None
        process.stdin.write("go\n")
        process.stdin.flush()
    errors = [process.communicate(timeout=60)[1] for process in starters]
    assert [p.returncode for p in starters] == [0] * 4, "\n".join(errors)
    with database.engine.connect() as connection:
        assert migrations.current(connection) == HEAD
    assert model_diff(database) == []


def test_sqlite_foreign_keys_are_back_on_after_migrating(tmp_path: Path) -> None:
    db = Database(f"sqlite:///{tmp_path}/fk.db")
    db.create_schema()
    with db.engine.connect() as connection:
        assert connection.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
    db.dispose()


def test_an_in_memory_sqlite_database_migrates() -> None:
    db = Database("sqlite:///:memory:")
    db.create_schema()
    with db.sessions.begin() as session:
        add_handset(session, "020 7946 0000", "Acme Ltd")
    with db.sessions() as session:
        assert session.get(Handset, 1) is not None
    db.dispose()


def test_timestamps_keep_their_instant(database: Database) -> None:
    """The migration's plain DateTime(timezone=True) still round-trips UTC on both backends."""
    database.create_schema()
    added = datetime(2026, 3, 29, 0, 59, 59, tzinfo=UTC)
    with database.sessions.begin() as session:
        add_handset(session, "020 7946 0000", "Acme Ltd").added_at = added
    with database.sessions() as session:
        assert session.scalars(select(Handset.added_at)).one() == added


def test_a_database_from_a_newer_version_is_refused_clearly(database: Database) -> None:
    database.create_schema()
    with database.engine.begin() as connection:
        connection.execute(text("UPDATE alembic_version SET version_num = '9999'"))
    with pytest.raises(migrations.MigrationError, match="9999.*newer version"):
        database.create_schema()


def test_pages_made_before_reminders_become_alerts(database: Database) -> None:
    """0002 gives every page that existed before it the kind it was: an alert."""
    migrations.upgrade(database.engine, "0001")
    with database.engine.begin() as connection:
        connection.execute(
            text(
                "INSERT INTO faults (id, reference, priority, status, reported_at)"
                " VALUES (1, '100001', 'critical', 'open', :at)"
            ),
            {"at": datetime(2026, 1, 7, 3, tzinfo=UTC)},
        )
        connection.execute(
            text(
                "INSERT INTO pages (id, fault_id, status, repeat, level, attempt, created_at)"
                " VALUES (1, 1, 'active', 0, 0, 0, :at)"
            ),
            {"at": datetime(2026, 1, 7, 3, tzinfo=UTC)},
        )
    database.create_schema()
    with database.engine.connect() as connection:
        assert migrations.current(connection) == HEAD
        rows = connection.execute(text("SELECT kind, target FROM pages")).all()
    assert [tuple(row) for row in rows] == [("alert", None)]


def test_customer_names_become_customers_linking_every_row(database: Database) -> None:
    """0004 makes one customer per name in use and links handsets, calls and faults to it.

    Names differing only in case or spacing are one customer; calls and
    faults keep the name as written; a customer known only from an old
    fault (its handsets since removed) still becomes a record.
    """
    migrations.upgrade(database.engine, "0003")
    at = datetime(2026, 1, 7, 3, tzinfo=UTC)
    with database.engine.begin() as connection:
        connection.execute(
            text(
                "INSERT INTO handsets (id, number, customer, added_at) VALUES"
                " (1, '+442079460000', 'Acme Ltd', :at),"
                " (2, '+442079460001', 'Acme Ltd', :at),"
                " (3, '+441614960000', 'Northern Widgets', :at)"
            ),
            {"at": at},
        )
        calls = [
            (1, "+442079460000", True, "Acme Ltd"),
            (2, "+441614960000", True, "ACME  ltd"),  # an old spelling, one customer
            (3, "+447700900000", False, None),  # an unknown caller
            (4, "+441134960000", True, "Gone Ltd"),  # handset since removed
        ]
        for call_id, cli, verified, customer in calls:
            connection.execute(
                text(
                    "INSERT INTO calls (id, sip_call_id, direction, cli, verified, verification,"
                    " customer, started_at, digits, outcome)"
                    " VALUES (:id, :sip, 'inbound', :cli, :verified, '', :customer, :at, '',"
                    " 'reported')"
                ),
                {
                    "id": call_id,
                    "sip": f"call-{call_id}",
                    "cli": cli,
                    "verified": verified,
                    "customer": customer,
                    "at": at,
                },
            )
        for fault_id, call_id, customer in ((1, 1, "Acme Ltd"), (2, 4, "Gone Ltd")):
            connection.execute(
                text(
                    "INSERT INTO faults (id, reference, priority, status, customer, call_id,"
                    " reported_at) VALUES (:id, :ref, 'high', 'open', :customer, :call, :at)"
                ),
                {
                    "id": fault_id,
                    "ref": f"10000{fault_id}",
                    "customer": customer,
                    "call": call_id,
                    "at": at,
                },
            )

    database.create_schema()

    with database.engine.connect() as connection:
        assert migrations.current(connection) == HEAD
        customers = {
            row.name: (row.id, row.account)
            for row in connection.execute(text("SELECT id, name, account FROM customers"))
        }
        handsets = connection.execute(
            text("SELECT number, customer_id FROM handsets ORDER BY id")
        ).all()
        call_rows = connection.execute(
            text(
                "SELECT customer, customer_id, verified_by, reference_heard FROM calls ORDER BY id"
            )
        ).all()
        fault_rows = connection.execute(
            text("SELECT customer, customer_id, verified_by FROM faults ORDER BY id")
        ).all()
    assert set(customers) == {"Acme Ltd", "Northern Widgets", "Gone Ltd"}
    accounts = [account for _, account in customers.values()]
    assert len(set(accounts)) == 3 and all(len(a) == 6 and a.isdigit() for a in accounts)
    acme, northern, gone = (customers[n][0] for n in ("Acme Ltd", "Northern Widgets", "Gone Ltd"))
    assert [tuple(row) for row in handsets] == [
        ("+442079460000", acme),
        ("+442079460001", acme),
        ("+441614960000", northern),
    ]
    assert [tuple(row) for row in call_rows] == [
        ("Acme Ltd", acme, "handset", False),
        ("ACME  ltd", acme, "handset", False),
        (None, None, None, False),
        ("Gone Ltd", gone, "handset", False),
    ]
    assert [tuple(row) for row in fault_rows] == [
        ("Acme Ltd", acme, "handset"),
        ("Gone Ltd", gone, "handset"),
    ]
    assert model_diff(database) == []
