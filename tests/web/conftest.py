"""Fixtures for the admin web page: a seeded SQLite file, the app, a signed-in client."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from ivr.admin.web.app import create_app
from ivr.config import Config, WebConfig
from ivr.store.db import Database
from tests.web.seed import ADMIN, PASSWORD, Seeded, seed

# A Wednesday afternoon in winter (GMT): inside business hours.
NOW = datetime(2026, 12, 2, 14, 30, tzinfo=UTC)
_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def csrf_of(html: str) -> str:
    match = _CSRF.search(html)
    assert match is not None, "no CSRF token on the page"
    return match.group(1)


@pytest.fixture
def config(tmp_path: Path) -> Config:
    return replace(
        Config(),
        database_url=f"sqlite:///{tmp_path}/web.db",
        data_dir=tmp_path / "var",
        web=WebConfig(secret_key_file=tmp_path / "web-secret.key"),
    )


@pytest.fixture
def db(config: Config) -> Iterator[Database]:
    database = Database(config.database_url)
    database.create_schema()
    yield database
    database.dispose()


@pytest.fixture
def seeded(db: Database) -> Seeded:
    return seed(db, NOW)


@pytest.fixture
def client(config: Config, db: Database, seeded: Seeded) -> Iterator[TestClient]:
    app = create_app(config, db, clock=lambda: NOW)
    with TestClient(app, follow_redirects=False) as test_client:
        yield test_client


def sign_in(client: TestClient, name: str = ADMIN, password: str = PASSWORD) -> None:
    page = client.get("/login")
    response = client.post(
        "/login",
        data={"name": name, "password": password, "csrf_token": csrf_of(page.text), "next": "/"},
    )
    assert response.status_code == 303, response.text
    assert response.headers["location"] == "/"


@pytest.fixture
def admin(client: TestClient) -> TestClient:
    """The client, signed in as the seeded admin."""
    sign_in(client)
    return client
