"""sd_notify by hand (ivr/systemd.py), against a real AF_UNIX datagram socket the test binds.

The test plays systemd: it binds the socket $NOTIFY_SOCKET would name and
reads what the notifier sends. The watchdog is driven on a real event loop
and waited for by the datagrams it sends, never by the clock.
"""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from ivr.systemd import Notifier

ROOT = Path(__file__).resolve().parents[2]
SHORT = ROOT / "tests" / "data" / "prompts-short"
IVR = [sys.executable, "-m", "ivr.admin.cli"]


@pytest.fixture
def systemd(tmp_path: Path) -> Iterator[socket.socket]:
    """The socket systemd would listen on for this unit's notifications."""
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sock:
        sock.bind(str(tmp_path / "notify"))
        sock.settimeout(60)  # a safety net for a broken notifier, not a timing
        yield sock


def received(sock: socket.socket) -> list[str]:
    return sock.recv(4096).decode().split("\n")


def test_ready_stopping_and_watchdog_reach_the_socket(systemd: socket.socket) -> None:
    notifier = Notifier.from_environment({"NOTIFY_SOCKET": systemd.getsockname()})
    assert notifier.enabled
    assert notifier.ready("fault line ready on sip:127.0.0.1:5060")
    assert received(systemd) == ["READY=1", "STATUS=fault line ready on sip:127.0.0.1:5060"]
    assert notifier.watchdog()
    assert received(systemd) == ["WATCHDOG=1"]
    assert notifier.stopping()
    assert received(systemd) == ["STOPPING=1", "STATUS=stopping: letting calls in progress finish"]


def test_an_abstract_socket_is_named_with_an_at_sign() -> None:
    name = f"ivr-test-{os.getpid()}-{threading.get_ident()}"
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sock:
        sock.bind("\0" + name)
        sock.settimeout(60)
        assert Notifier.from_environment({"NOTIFY_SOCKET": "@" + name}).notify("READY=1")
        assert received(sock) == ["READY=1"]


def test_outside_systemd_nothing_is_sent_and_nothing_fails() -> None:
    notifier = Notifier.from_environment({})
    assert not notifier.enabled
    assert not notifier.ready("ready")
    assert notifier.watchdog_interval is None


def test_a_socket_that_is_gone_is_logged_not_raised(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    notifier = Notifier.from_environment({"NOTIFY_SOCKET": str(tmp_path / "absent")})
    assert not notifier.ready("ready")
    assert not notifier.watchdog()
    warnings = [r for r in caplog.records if "systemd notification" in r.getMessage()]
    assert len(warnings) == 1  # once, not at every watchdog ping


@pytest.mark.parametrize(
    ("environ", "interval"),
    [
        ({"WATCHDOG_USEC": "30000000"}, 15.0),  # half of WatchdogSec=30
        ({"WATCHDOG_USEC": "30000000", "WATCHDOG_PID": str(os.getpid())}, 15.0),
        ({"WATCHDOG_USEC": "30000000", "WATCHDOG_PID": "1"}, None),  # another process's
        ({"WATCHDOG_USEC": "0"}, None),
        ({"WATCHDOG_USEC": "soon"}, None),
        ({}, None),
    ],
)
def test_the_watchdog_pings_at_half_its_timeout_and_only_for_this_process(
    environ: dict[str, str], interval: float | None
) -> None:
    notifier = Notifier.from_environment({"NOTIFY_SOCKET": "/run/notify", **environ})
    assert notifier.watchdog_interval == interval


def test_the_watchdog_pings_from_the_event_loop_until_stopped(systemd: socket.socket) -> None:
    # WatchdogSec of 2 ms: the loop pings every millisecond; three pings prove it repeats.
    notifier = Notifier.from_environment(
        {"NOTIFY_SOCKET": systemd.getsockname(), "WATCHDOG_USEC": "2000"}
    )
    systemd.setblocking(False)

    async def run() -> list[str]:
        loop = asyncio.get_running_loop()
        watchdog = notifier.start_watchdog(loop)
        assert watchdog is not None
        pings = [(await loop.sock_recv(systemd, 4096)).decode() for _ in range(3)]
        watchdog.stop()
        return pings

    assert asyncio.run(asyncio.wait_for(run(), 60)) == ["WATCHDOG=1"] * 3


def test_ivr_serve_says_ready_once_sip_listens_and_stopping_on_sigterm(
    tmp_path: Path, systemd: socket.socket
) -> None:
    """The real `ivr serve` under a stand-in systemd: READY=1 only after SIP listens."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    conf = tmp_path / "sip.conf"
    conf.write_text(
        f"[general]\nlisten = 127.0.0.1:{port}\ndatabase = sqlite:///{tmp_path}/f.db\n"
        f"data_dir = {tmp_path / 'data'}\nmetrics_listen =\n[prompts]\ncatalogue_dir = {SHORT}\n"
        f"cache_dir = {tmp_path / 'cache'}\nrecorded_dir = {tmp_path / 'recorded'}\n"
        "[guard]\nenabled = no\n",
        encoding="utf-8",
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith(("IVR_", "WATCHDOG_"))}
    env |= {"NOTIFY_SOCKET": systemd.getsockname(), "PYTHONUNBUFFERED": "1"}
    process = subprocess.Popen(
        [*IVR, "--config", str(conf), "serve"],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=env,
    )
    output: list[str] = []
    reader = threading.Thread(target=lambda: output.extend(process.stdout or []), daemon=True)
    reader.start()
    try:
        ready = received(systemd)
        assert ready == ["READY=1", f"STATUS=fault line ready on sip:127.0.0.1:{port}"]
        taken = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        with taken, pytest.raises(OSError):  # the SIP port is open by now
            taken.bind(("127.0.0.1", port))
        process.send_signal(signal.SIGTERM)
        assert received(systemd)[0] == "STOPPING=1"
        assert process.wait(60) == 0
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
        reader.join(5)
    assert f"fault line ready on sip:127.0.0.1:{port}\n" in output, "".join(output)
