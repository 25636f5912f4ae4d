"""Sign-in throttling under load and behind a proxy (issue 18 §4).

The app is driven in-process over ASGI with httpx, so forty sign-ins really
are in flight at once (each password check runs in the thread pool), and
the peer address of each request is chosen by the test. Time comes from a
clock the test moves by hand.
"""

from __future__ import annotations

import asyncio
import ipaddress
from collections import Counter
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import replace
from datetime import datetime, timedelta

import httpx
import pytest

from ivr.admin.web.app import create_app
from ivr.admin.web.throttle import NameDelays, SignInGate, Ticket, client_address
from ivr.config import Config
from ivr.store.db import Database
from tests.web.conftest import NOW, csrf_of
from tests.web.seed import ADMIN, PASSWORD, Seeded

PROXY = "127.0.0.1"
ALICE, MALLORY = "198.51.100.7", "203.0.113.5"


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock(NOW)


@pytest.fixture
def behind_proxy(config: Config) -> Config:
    proxies = (ipaddress.ip_network(PROXY),)
    return replace(config, web=replace(config.web, trusted_proxies=proxies))


@asynccontextmanager
async def browser(
    config: Config, db: Database, clock: Clock, peer: str = PROXY
) -> AsyncIterator[tuple[httpx.AsyncClient, str]]:
    """A client with a session cookie and its CSRF token, connecting from `peer`."""
    app = create_app(config, db, clock=clock)
    transport = httpx.ASGITransport(app=app, client=(peer, 40000))
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        token = csrf_of((await client.get("/login")).text)
        yield client, token


async def sign_in(
    client: httpx.AsyncClient, token: str, name: str, password: str, forwarded: str | None = None
) -> int:
    headers = {"x-forwarded-for": forwarded} if forwarded else {}
    response = await client.post(
        "/login",
        data={"name": name, "password": password, "csrf_token": token},
        headers=headers,
    )
    return response.status_code


async def test_forty_wrong_passwords_at_once_get_at_most_five_checks(
    config: Config, db: Database, seeded: Seeded, clock: Clock
) -> None:
    async with browser(config, db, clock) as (client, token):
        answers = await asyncio.gather(
            *(sign_in(client, token, ADMIN, f"guess-{i}") for i in range(40))
        )
        counts = Counter(answers)
        assert set(counts) == {401, 429}
        assert 1 <= counts[401] <= 5  # 401: the password was checked and was wrong
        # The name is slowed, not locked: once the delay is over the right password works.
        assert await sign_in(client, token, ADMIN, PASSWORD) == 429
        clock.now += timedelta(seconds=30)
        assert await sign_in(client, token, ADMIN, PASSWORD) == 303


async def test_failures_from_one_forwarded_client_do_not_lock_another(
    behind_proxy: Config, db: Database, seeded: Seeded, clock: Clock
) -> None:
    async with browser(behind_proxy, db, clock) as (client, token):
        # Thirty failures from Mallory, over several names so that only her address fills up.
        for i in range(30):
            assert await sign_in(client, token, f"user{i // 5}", "wrong", MALLORY) == 401
        assert await sign_in(client, token, ADMIN, PASSWORD, MALLORY) == 429
        assert await sign_in(client, token, ADMIN, PASSWORD, ALICE) == 303


async def test_forwarded_for_from_an_untrusted_peer_is_ignored(
    behind_proxy: Config, db: Database, seeded: Seeded, clock: Clock
) -> None:
    """A client cannot dodge its own address's limit by making up a new address each time."""
    async with browser(behind_proxy, db, clock, peer=MALLORY) as (client, token):
        for i in range(30):
            made_up = f"192.0.2.{i}"
            assert await sign_in(client, token, f"user{i // 5}", "wrong", made_up) == 401
        assert await sign_in(client, token, ADMIN, PASSWORD, ALICE) == 429
    async with browser(behind_proxy, db, clock, peer=PROXY) as (client, token):
        assert await sign_in(client, token, ADMIN, PASSWORD, ALICE) == 303


# ---- the pure parts -------------------------------------------------------------------


def test_the_gate_counts_attempts_in_flight_before_their_answer() -> None:
    gate = SignInGate()
    tickets = [gate.admit("bob", "192.0.2.1", NOW) for _ in range(40)]
    admitted = [t for t in tickets if isinstance(t, Ticket)]
    assert len(admitted) == 5
    for ticket in admitted:
        gate.settle(ticket, NOW, accepted=False)
    assert gate.admit("bob", "192.0.2.1", NOW) == NOW + timedelta(seconds=30)
    assert isinstance(gate.admit("carol", "192.0.2.1", NOW), Ticket)


def test_an_attempt_that_reached_no_answer_counts_for_nothing() -> None:
    gate = SignInGate()
    for _ in range(10):
        ticket = gate.admit("bob", "192.0.2.1", NOW)
        assert isinstance(ticket, Ticket)
        gate.settle(ticket, NOW, accepted=None)


def test_name_delays_double_and_a_success_clears_them() -> None:
    delays = NameDelays(free=2, first_delay=timedelta(seconds=10), max_delay=timedelta(seconds=35))
    at = NOW
    for _ in range(2):
        assert delays.wait_until("k", at, 0) is None
        delays.failed("k", at)
    waits = []
    for _ in range(4):
        until = delays.wait_until("k", at, 0)
        assert until is not None
        waits.append(until - at)
        at = until
        assert delays.wait_until("k", at, 0) is None
        delays.failed("k", at)
    assert waits == [timedelta(seconds=s) for s in (10, 20, 35, 35)]
    delays.succeeded("k")
    assert delays.wait_until("k", at, 0) is None


def test_a_quiet_hour_forgets_a_streak() -> None:
    delays = NameDelays(free=1, first_delay=timedelta(seconds=10))
    delays.failed("k", NOW)
    assert delays.wait_until("k", NOW, 0) == NOW + timedelta(seconds=10)
    assert delays.failures("k", NOW + timedelta(hours=1)) == 0


@pytest.mark.parametrize(
    ("peer", "forwarded", "expected"),
    [
        ("198.51.100.2", ["203.0.113.5"], "203.0.113.5"),
        ("198.51.100.2", ["1.2.3.4, 203.0.113.5"], "203.0.113.5"),  # the client's own claim ignored
        ("198.51.100.2", ["203.0.113.5, 198.51.100.3"], "203.0.113.5"),  # two proxies in a row
        ("198.51.100.2", ["203.0.113.5", "198.51.100.3"], "203.0.113.5"),  # repeated header
        ("192.0.2.9", ["203.0.113.5"], "192.0.2.9"),  # not a trusted proxy
        ("198.51.100.2", [], "198.51.100.2"),
        ("198.51.100.2", ["not-an-address"], "not-an-address"),
        (None, ["203.0.113.5"], "unknown"),
    ],
)
def test_client_address_believes_only_trusted_proxies(
    peer: str | None, forwarded: list[str], expected: str
) -> None:
    trusted = [ipaddress.ip_network("198.51.100.0/24")]
    assert client_address(peer, forwarded, trusted) == expected
