"""Fixtures every test directory may use: a real PostgreSQL server (see tests/pg.py).

Also the rule that a skipped test fails a CI run: a green run must mean
every end-to-end, browser, flood and tone test ran, not that a missing tool
or privilege quietly turned them off.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from tests.pg import PostgresCluster


@pytest.fixture(scope="session")
def postgres() -> Iterator[PostgresCluster]:
    """This test process's PostgreSQL server, started on first use, removed at the end."""
    cluster = PostgresCluster.start()
    yield cluster
    cluster.stop()


@pytest.fixture
def postgres_url(postgres: PostgresCluster) -> Iterator[str]:
    """A SQLAlchemy URL to a new, empty database of its own, dropped after the test."""
    name = postgres.create_database()
    yield postgres.url(name)
    postgres.drop_database(name)


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    if os.environ.get("CI") != "true" or exitstatus not in (0, pytest.ExitCode.OK):
        return
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    skipped = reporter.stats.get("skipped", []) if reporter is not None else []
    if skipped:
        names = ", ".join(sorted({report.nodeid for report in skipped})[:10])
        print(f"\nCI: {len(skipped)} test(s) skipped, which fails the run: {names}")
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
