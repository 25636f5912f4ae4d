"""The admin web page in headless Chromium, against the real `ivr web` on loopback.

The server is started as a subprocess (the real entry point and uvicorn) on
a free port, over a SQLite file seeded by the test. Debian's Chromium is
driven by Playwright; no browser is downloaded.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect, sync_playwright

from ivr.store.db import Database
from ivr.store.faults import find_fault
from tests.web.seed import ADMIN, FAILED_REF, PASSWORD, SCRIPT_NAME, seed

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
READY_TIMEOUT = 30.0

pytestmark = pytest.mark.browser


def free_tcp_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class Server:
    base: str
    database_url: str
    log: Path


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    workdir = tmp_path_factory.mktemp("web")
    url = f"sqlite:///{workdir}/faultline.db"
    conf = workdir / "sip.conf"
    conf.write_text(
        f"[general]\ndatabase = {url}\n[web]\nsecret_key_file = {workdir}/secret.key\n",
        encoding="utf-8",
    )
    database = Database(url)
    database.create_schema()
    seed(database, datetime.now(UTC))
    database.dispose()
    port = free_tcp_port()
    log = workdir / "web.log"
    # `ivr web` says READY=1 on NOTIFY_SOCKET once it listens, as under
    # systemd: the test waits on that datagram, with a bound, not by polling.
    ready = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    ready.bind(str(workdir / "notify.sock"))
    ready.settimeout(READY_TIMEOUT)
    with log.open("w", encoding="utf-8") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "ivr.admin.cli", "--config", str(conf), "web"]
            + ["--host", "127.0.0.1", "--port", str(port)],
            stdout=out,
            stderr=subprocess.STDOUT,
            env={**os.environ, "NOTIFY_SOCKET": str(workdir / "notify.sock")},
        )
    base = f"http://127.0.0.1:{port}"
    try:
        try:
            while b"READY=1" not in ready.recv(4096).split(b"\n"):
                pass
        except TimeoutError:
            raise RuntimeError(f"ivr web did not start:\n{log.read_text()}") from None
        finally:
            ready.close()
        with urllib.request.urlopen(base + "/healthz", timeout=5) as response:
            assert response.status == 200
        yield Server(base, url, log)
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    context = browser.new_context(viewport={"width": 1366, "height": 900}, locale="en-GB")
    tab = context.new_page()
    dialogs: list[str] = []
    tab.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    yield tab
    context.close()
    assert dialogs == [], f"a page opened a dialog: {dialogs}"


def sign_in(page: Page, server: Server, path: str = "/") -> None:
    page.goto(server.base + path)
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    page.get_by_label("Name").fill(ADMIN)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()


def test_logged_out_access_goes_to_sign_in(page: Page, server: Server) -> None:
    for path in ("/", "/calls", f"/faults/{FAILED_REF}", "/rota"):
        page.goto(server.base + path)
        assert page.url.startswith(server.base + "/login?next="), page.url
        expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
        expect(page.locator("nav.nav")).to_have_count(0)


def test_wrong_password_stays_on_sign_in(page: Page, server: Server) -> None:
    page.goto(server.base + "/")
    page.get_by_label("Name").fill(ADMIN)
    page.get_by_label("Password").fill("not it at all")
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("alert")).to_contain_text("do not match")
    page.goto(server.base + "/")
    assert "/login" in page.url


def test_sign_in_filter_the_call_log_open_a_fault_and_acknowledge_it(
    page: Page, server: Server
) -> None:
    sign_in(page, server, "/calls")
    assert page.url == server.base + "/calls"
    expect(page.get_by_role("heading", name="Call log")).to_be_visible()

    page.get_by_label("Outcome").select_option("rejected")
    page.get_by_role("button", name="Filter").click()
    assert "outcome=rejected" in page.url
    outcomes = page.locator("#call-log tbody tr td:nth-child(6)").all_inner_texts()
    assert outcomes and set(outcomes) == {"rejected"}

    page.get_by_label("Caller number").fill("020 7946 0666")
    page.get_by_role("button", name="Filter").click()
    expect(page.locator("#call-log tbody tr")).to_have_count(1)

    # The dashboard's alert leads to the fault nobody answered.
    page.get_by_role("link", name="Dashboard").click()
    alert = page.locator("section.alert")
    expect(alert).to_contain_text("no engineer answered")
    alert.get_by_role("link", name=f"Fault {FAILED_REF}").click()
    assert page.url.endswith(f"/faults/{FAILED_REF}")
    expect(page.locator(".badges")).to_contain_text("page failed")
    expect(page.locator("#timeline")).to_contain_text("Paging failed: nobody acknowledged")

    page.get_by_label("Comment on acknowledging").fill("Rang Northern Rail back")
    page.get_by_role("button", name="Acknowledge").click()
    expect(page.get_by_role("status")).to_contain_text(f"Fault {FAILED_REF} acknowledged.")
    expect(page.locator(".badges")).to_contain_text("acknowledged")
    expect(page.locator("#timeline")).to_contain_text("Rang Northern Rail back")
    expect(page.get_by_role("button", name="Acknowledge")).to_have_count(0)

    database = Database(server.database_url)
    with database.sessions() as session:
        fault = find_fault(session, FAILED_REF)
        assert fault is not None
        assert (fault.status, fault.acknowledged_by) == ("acknowledged", ADMIN)
    database.dispose()

    page.goto(server.base + "/")
    expect(page.locator("section.alert")).to_have_count(0)


def test_a_script_display_name_shows_as_text(page: Page, server: Server) -> None:
    sign_in(page, server, "/calls?cli=%2B442079460666")
    cell = page.locator("#call-log td.display-name").first
    expect(cell).to_have_text(SCRIPT_NAME)
    assert page.locator("script").count() == 0
    cell_html = cell.inner_html()
    assert "&lt;script&gt;" in cell_html
    page.locator("#call-log tbody tr a").first.click()
    expect(page.locator("dd.display-name")).to_have_text(SCRIPT_NAME)
    assert page.locator("script").count() == 0


def test_signing_out_ends_the_session(page: Page, server: Server) -> None:
    sign_in(page, server)
    expect(page.get_by_role("heading", name="Dashboard")).to_be_visible()
    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_role("status")).to_contain_text("signed out")
    page.goto(server.base + "/rota")
    assert "/login" in page.url
