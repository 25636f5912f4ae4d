"""The database goes away mid-call and comes back; the SQLite disk fills up.

A critical fault must never be lost, and never be confirmed to a caller
before it is stored. Each test makes its own database to take away: its
own PostgreSQL server (stopped and started as a restart does), or a
SQLite file on a tmpfs of a few MB that the test fills.
"""

from __future__ import annotations

import errno
import re
import sqlite3
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e.conftest import KNOWN_CUSTOMER, KNOWN_NUMBER, FaultLine, write_config
from tests.pg import PostgresCluster
from tests.ports import free_port

SCENARIO = "caller_reports_late.xml"
CALLERS = 20
# The callers press their keys 8 s after the answer: the database is taken
# away before that, so every fault is confirmed while it is away.
SLOW_MENU = {"first_digit_timeout": "20"}


def spoken_references(output: list[str]) -> list[str]:
    return [
        match.group(1)
        for line in output
        if (match := re.search(r"reading reference (\d+) to the caller", line))
    ]


def start_line(workdir: Path, database: str, **general: str) -> FaultLine:
    port = free_port()
    config = write_config(workdir, port, database=database, general={**general}, menu=SLOW_MENU)
    line = FaultLine(workdir, port, config)
    line.ivr("db", "upgrade")
    line.ivr("handsets", "add", KNOWN_NUMBER, "--customer", KNOWN_CUSTOMER)
    line.start()
    return line


def callers_in(line: FaultLine, callers: list[tuple[str, ...]]) -> subprocess.Popen[str]:
    """SIPp ringing with all `callers` at once, left to run."""
    command = line._sipp_command(SCENARIO, callers, concurrent=len(callers), timeout=200.0)
    return subprocess.Popen(
        command,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        cwd=line.workdir,
    )


def finished(line: FaultLine, sipp: subprocess.Popen[str]) -> None:
    output, _ = sipp.communicate(timeout=260)
    assert sipp.returncode == 0, (
        f"sipp exit {sipp.returncode}\n{output[-2000:]}\n{line.sipp_errors(SCENARIO)}\n"
        f"service:\n{''.join(line.output[-80:])}"
    )


@pytest.fixture
def cluster() -> Iterator[PostgresCluster]:
    """A PostgreSQL server of this test's own, to stop and start."""
    server = PostgresCluster.start()
    yield server
    server.stop()


def test_postgresql_restart_during_twenty_calls_loses_and_doubles_nothing(
    tmp_path: Path, cluster: PostgresCluster
) -> None:
    name = cluster.create_database()
    line = start_line(tmp_path, cluster.url(name), database_wait_seconds="90")
    callers: list[tuple[str, ...]] = [
        (KNOWN_NUMBER, "3" if n % 2 == 0 else "2", f"Desk {n}") for n in range(CALLERS)
    ]
    sipp = callers_in(line, callers)
    try:

        def all_answered() -> bool:
            with cluster.connect(name) as db:
                row = db.execute("SELECT count(*) FROM calls WHERE answered_at IS NOT NULL")
                found = row.fetchone()
            return found is not None and found[0] == CALLERS

        line.wait_until(all_answered, timeout=60)
        cluster.pause()  # every caller is in the menu; none has confirmed yet
        line.wait_for_output(r"database UNAVAILABLE", timeout=60)
        # Every caller confirms while the database is away, and is kept holding.
        line.wait_for_output(
            r"the fault of call record \d+ waiting for the database", count=CALLERS, timeout=60
        )
        assert spoken_references(line.output) == []  # nothing confirmed before it is stored
        cluster.resume()
        finished(line, sipp)
        line.wait_for_output(r"database available again after", timeout=30)
    finally:
        if sipp.poll() is None:
            sipp.kill()
            sipp.wait()
        line.stop()

    spoken = spoken_references(line.output)
    with cluster.connect(name) as db:
        faults = db.execute("SELECT reference, call_id, priority FROM faults").fetchall()
        calls = db.execute(
            "SELECT id, fault_reference, outcome, reference_heard FROM calls"
        ).fetchall()
        paged = db.execute(
            "SELECT f.reference FROM page_faults pf JOIN faults f ON f.id = pf.fault_id"
        ).fetchall()
        pages = db.execute("SELECT count(*) FROM pages").fetchone()
    # Every confirmed fault exists exactly once, and is the one its caller heard.
    assert len(faults) == CALLERS
    assert sorted(spoken) == sorted(reference for reference, _, _ in faults)
    assert len({call_id for _, call_id, _ in faults}) == CALLERS
    # Each caller's call record names its fault, says it was reported and heard.
    by_call = {call_id: reference for reference, call_id, _ in faults}
    assert len(calls) == CALLERS
    for call_id, fault_reference, outcome, reference_heard in calls:
        assert fault_reference == by_call[call_id]
        assert outcome == "reported"
        assert reference_heard is True
    # Each critical fault is on the page once, none twice (one customer's
    # faults share one page: one engineer hears every reference).
    critical = sorted(reference for reference, _, priority in faults if priority == "critical")
    assert len(critical) == CALLERS // 2
    assert sorted(reference for (reference,) in paged) == critical
    assert pages == (1,)


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """A tmpfs of 4 MB mounted for this test (as root), unmounted after."""
    mount = tmp_path / "small-disk"
    mount.mkdir()
    subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=4m,mode=0755", "tmpfs", str(mount)],
        check=True,
        capture_output=True,
        timeout=30,
    )
    try:
        yield mount
    finally:
        subprocess.run(["umount", "--lazy", str(mount)], check=True, timeout=30)


def fill(directory: Path) -> Path:
    """Write a file in `directory` until its filesystem has no room left."""
    filler = directory / "filler"
    chunk = b"\0" * 65536
    with filler.open("wb", buffering=0) as out:
        while True:
            try:
                out.write(chunk)
            except OSError as exc:
                assert exc.errno == errno.ENOSPC
                break
    # A last few bytes, so not even a partial page is left.
    with filler.open("ab", buffering=0) as out:
        for _ in range(4096):
            try:
                out.write(b"\0")
            except OSError:
                break
    return filler


def test_a_full_sqlite_disk_tells_the_caller_of_a_technical_problem(
    tmp_path: Path, small_disk: Path
) -> None:
    database = small_disk / "faultline.db"
    line = start_line(tmp_path, f"sqlite:///{database}")
    sipp = callers_in(line, [(KNOWN_NUMBER, "3", "Acme desk")])
    try:

        def answered() -> bool:
            with sqlite3.connect(database, timeout=10) as db:
                row = db.execute("SELECT count(*) FROM calls WHERE answered_at IS NOT NULL")
                found = row.fetchone()
            return found is not None and found[0] == 1

        line.wait_until(answered, timeout=60)
        filler = fill(small_disk)  # the caller is in the menu: the disk fills now
        finished(line, sipp)  # the fault line said goodbye and hung up: nothing hung
        line.wait_for_output(r"DATABASE DISK FULL: the fault of call record \d+ was NOT written")
        line.wait_for_output(r"fault from call .* NOT recorded")
        assert spoken_references(line.output) == []
        filler.unlink()
    finally:
        if sipp.poll() is None:
            sipp.kill()
            sipp.wait()
        line.stop()
    with sqlite3.connect(database) as db:
        assert db.execute("SELECT count(*) FROM faults").fetchone() == (0,)
