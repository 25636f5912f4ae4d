"""End-to-end harness: the real `ivr serve` on 127.0.0.1, called by real SIP peers.

Each test gets its own service on free ports with its own database and
a test configuration (short prompts, short timeouts). Prompt audio is
cached across tests so it is rendered once per machine.

Every test runs on SQLite and on PostgreSQL (a database of its own on the
session's server, tests/pg.py), except those in SQLITE_ONLY: tests whose
subject is the SIP and media edge (torture, floods, which route a key
came by, whose identity is believed, a baresip caller, the audio an
engineer hears), where the database plays no part worth doubling their
minutes for; every store path they touch is also run on PostgreSQL by the
other tests. (The scale-out tests run on PostgreSQL only, as production
does.) The backend
shows in the test id: `test_x[sqlite]`, `test_x[postgresql]`.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import textwrap
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from tests.ports import free_port

REPO = Path(__file__).resolve().parents[2]
SCENARIOS = Path(__file__).parent / "scenarios"
SHORT_PROMPTS = REPO / "tests" / "data" / "prompts-short"
PROMPT_CACHE = REPO / "var" / "test-prompt-cache"
IVR = [sys.executable, "-m", "ivr.admin.cli"]
KNOWN_NUMBER = "02079460000"
KNOWN_CUSTOMER = "Acme Widgets Ltd"
READY_TIMEOUT = 60.0
# Node ids (prefixes) that run on SQLite only.
SQLITE_ONLY = (
    "tests/e2e/test_torture.py::",
    "tests/e2e/test_flood.py::",
    "tests/e2e/test_edge.py::",
    "tests/e2e/test_borrowed_identity.py::",
    "tests/e2e/test_sip_answers.py::",
    "tests/e2e/test_caller_experience.py::",
    "tests/e2e/test_baresip_caller.py::",
    "tests/e2e/test_engineer_hears_description.py::",
    "tests/e2e/test_caller_trust.py::test_a_spoofed_pai",
    "tests/e2e/test_caller_trust.py::test_the_same_pai",
    "tests/e2e/test_caller_trust.py::test_untrusted_sources",
    "tests/e2e/test_node_metrics.py::",
    "tests/e2e/test_reload.py::",
    "tests/e2e/test_network.py::",
)
# Tests that keep a core busy (floods, torture, a hundred callers): one
# worker runs them one after another (`--dist loadgroup` in scripts/test),
# so the other workers' calls, which mostly wait on real-time audio, are
# never starved of CPU by two of them at once.
CPU_BOUND = (
    "tests/e2e/test_torture.py::",
    "tests/e2e/test_scale_out.py::",
    "tests/e2e/test_edge.py::",
    "tests/e2e/test_flood.py::",
    "tests/e2e/test_spine.py::test_twenty_concurrent",
)
# The longest tests (prefixes of node ids), longest first as measured with
# --durations, started first so that no worker is left running one of them
# alone at the end of the suite.
LONGEST_FIRST = (
    "tests/e2e/test_torture.py::",
    "tests/e2e/test_scale_out.py::",
    "tests/e2e/test_paging.py::test_responding_in_time",
    "tests/e2e/test_crash.py::",
    "tests/e2e/test_phone_journey.py::test_an_unknown_number",
    "tests/e2e/test_shutdown.py::test_sigterm_while_the_caller_describes",
    "tests/e2e/test_paging.py::test_an_acknowledged_fault",
    "tests/e2e/test_paging.py::test_busy",
    "tests/e2e/test_phone_journey.py::test_three_wrong_pins",
    "tests/e2e/test_edge.py::",
    "tests/e2e/test_borrowed_identity.py::",
    "tests/e2e/test_paging.py::test_critical_faults_from_two",
    "tests/e2e/test_engineer_hears_description.py::",
    "tests/e2e/test_sip_answers.py::",
    "tests/e2e/test_spine.py::test_known_handset",
    "tests/e2e/test_paging.py::",
    "tests/e2e/test_phone_journey.py::",
    "tests/e2e/test_database_away.py::",
    "tests/e2e/test_after_hours.py::test_callers_hear",
    "tests/e2e/test_repeat_caller.py::",
    "tests/e2e/test_shutdown.py::",
)


@dataclass
class FaultLine:
    """A running fault line and the tools to inspect it."""

    workdir: Path
    port: int
    config_path: Path
    process: subprocess.Popen[str] | None = None
    output: list[str] = field(default_factory=list)
    phones: list[subprocess.Popen[str]] = field(default_factory=list)
    # Put before every process the line starts (e.g. `ip netns exec NAME`).
    command_prefix: tuple[str, ...] = ()
    _changed: threading.Condition = field(default_factory=threading.Condition)

    def ivr(
        self, *args: str, check: bool = True, input: str | None = None
    ) -> subprocess.CompletedProcess[str]:
        result = subprocess.run(
            [*IVR, "--config", str(self.config_path), *args],
            input=input,
            capture_output=True,
            text=True,
            timeout=60,
        )
        if check and result.returncode != 0:
            raise AssertionError(f"ivr {' '.join(args)} failed:\n{result.stdout}{result.stderr}")
        return result

    def ivr_json(self, *args: str) -> Any:
        return json.loads(self.ivr(*args, "--json").stdout)

    def start(self, *extra_env: tuple[str, str]) -> None:
        env = dict(os.environ, PYTHONUNBUFFERED="1", **dict(extra_env))
        self.output = []
        self.process = subprocess.Popen(
            [*self.command_prefix, *IVR, "--config", str(self.config_path), "serve"],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            env=env,
        )
        ready = threading.Event()

        def pump() -> None:
            assert self.process is not None and self.process.stdout is not None
            for line in self.process.stdout:
                with self._changed:
                    self.output.append(line)
                    self._changed.notify_all()
                if "fault line ready" in line:
                    ready.set()
            ready.set()

        threading.Thread(target=pump, daemon=True).start()
        if not ready.wait(READY_TIMEOUT) or self.process.poll() is not None:
            self.stop()
            raise AssertionError("ivr serve did not start:\n" + "".join(self.output))

    def wait_for_output(self, pattern: str, count: int = 1, timeout: float = 90.0) -> list[str]:
        """Block until the service has logged `count` lines matching `pattern` (or fail)."""
        regex = re.compile(pattern)

        def matches() -> list[str]:
            return [line for line in self.output if regex.search(line)]

        with self._changed:
            if not self._changed.wait_for(lambda: len(matches()) >= count, timeout):
                raise AssertionError(
                    f"no {count} line(s) matching {pattern!r} within {timeout} s:\n"
                    + "".join(self.output[-80:])
                )
            return matches()

    def wait_until(self, condition: Callable[[], bool], timeout: float = 90.0) -> None:
        """Check `condition` (e.g. a database query) every half second until true, or fail."""
        deadline = time.monotonic() + timeout
        pause = threading.Event()
        while not condition():
            if time.monotonic() > deadline:
                raise AssertionError(f"condition not met within {timeout} s")
            pause.wait(0.5)

    def phone(self, scenario: str, calls: int = 1) -> str:
        """An engineer's phone: SIPp answering `calls` calls with `scenario`; returns its URI."""
        port = free_port()
        process = subprocess.Popen(
            [
                *self.command_prefix,
                "sipp",
                "-sf",
                str(SCENARIOS / scenario),
                "-i",
                "127.0.0.1",
                "-p",
                str(port),
                "-mp",
                str(free_port()),
                "-m",
                str(calls),
                "-nostdin",
                "-trace_err",
                "-error_file",
                str(self.workdir / f"phone-{port}-errors.log"),
            ],  # fmt: skip
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            text=True,
            cwd=self.workdir,
        )
        self.phones.append(process)
        return f"sip:engineer@127.0.0.1:{port}"

    def stop(self, sig: int = signal.SIGTERM) -> int | None:
        if self.process is None:
            return None
        if self.process.poll() is None:
            self.process.send_signal(sig)
            try:
                self.process.wait(timeout=40)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        code = self.process.returncode
        self.process = None
        return code

    def sipp_background(
        self, scenario: str, callers: list[tuple[str, ...]]
    ) -> subprocess.Popen[str]:
        """Start a SIPp caller and return at once (for tests that crash the service)."""
        command = self._sipp_command(scenario, callers, concurrent=1, timeout=60.0)
        return subprocess.Popen(
            command,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            text=True,
            cwd=self.workdir,
        )

    def sipp(
        self,
        scenario: str,
        callers: list[tuple[str, ...]],
        *,
        concurrent: int = 1,
        timeout: float = 120.0,
    ) -> subprocess.CompletedProcess[str]:
        """Run a SIPp caller scenario, one call per row of `callers` (field0, field1, ...)."""
        command = self._sipp_command(scenario, callers, concurrent=concurrent, timeout=timeout)
        return subprocess.run(
            command, capture_output=True, text=True, timeout=timeout + 30, cwd=self.workdir
        )

    def _sipp_command(
        self, scenario: str, callers: list[tuple[str, ...]], *, concurrent: int, timeout: float
    ) -> list[str]:
        inf = self.workdir / f"callers-{Path(scenario).name}-{len(callers)}.csv"
        inf.write_text(
            "SEQUENTIAL\n" + "".join(";".join(row) + ";\n" for row in callers), encoding="ascii"
        )
        sip_port = free_port()
        media_port = free_port()
        command = [
            *self.command_prefix,
            "sipp",
            "-sf", str(SCENARIOS / scenario),
            "-inf", str(inf),
            "-i", "127.0.0.1",
            "-p", str(sip_port),
            "-mp", str(media_port),
            "-m", str(len(callers)),
            "-l", str(concurrent),
            "-r", str(concurrent),
            "-timeout", f"{int(timeout)}s",
            "-timeout_error",
            "-nostdin",
            "-trace_err",
            "-error_file", str(self.workdir / f"sipp-{scenario}-errors.log"),
            f"127.0.0.1:{self.port}",
        ]  # fmt: skip
        return command

    def sipp_errors(self, scenario: str) -> str:
        path = self.workdir / f"sipp-{scenario}-errors.log"
        return path.read_text(errors="replace")[-4000:] if path.exists() else ""


def write_config(
    workdir: Path, port: int, *, database: str | None = None, **sections: dict[str, str]
) -> Path:
    settings: dict[str, dict[str, str]] = {
        "general": {
            "listen": f"127.0.0.1:{port}",
            "database": database or f"sqlite:///{workdir}/faultline.db",
            "data_dir": str(workdir / "data"),
            "rtp_timeout": "0",
            # Off unless a test asks (test_node_metrics.py): a port each.
            "metrics_listen": "",
        },
        "prompts": {
            "catalogue_dir": str(SHORT_PROMPTS),
            "cache_dir": str(PROMPT_CACHE),
            "recorded_dir": str(workdir / "recorded"),
            "rate": "260",
        },
        "recording": {"silence_seconds": "1", "max_seconds": "20"},
        # Unknown callers are refused unless a test asks for the account-and-PIN way in.
        # A customer calling again goes straight to the menu (no recent-fault
        # question, no status line) unless a test turns those on.
        "menu": {
            "first_digit_timeout": "2",
            "tries": "2",
            "recent_fault_minutes": "0",
            "open_fault_status": "no",
            "unknown_callers": "refuse",
        },
        # Open around the clock unless a test says otherwise, so that tests
        # behave the same whenever they run.
        "hours": {"open": "00:00", "close": "23:59", "holidays": "GB-ENG"},
        # No firewall rules on the host: only tests in their own network
        # namespace (test_flood.py) turn the guard on.
        "guard": {"enabled": "no"},
        # An acknowledged page ends at once unless a test asks for the callback offer.
        "paging": {"callback": "no"},
    }
    for name, values in sections.items():
        settings.setdefault(name, {}).update(values)
    text = "".join(
        f"[{name}]\n" + "".join(f"{key} = {value}\n" for key, value in values.items())
        for name, values in settings.items()
    )
    path = workdir / "sip.conf"
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "database" in metafunc.fixturenames:
        nodeid = metafunc.definition.nodeid
        only_sqlite = any(nodeid.startswith(prefix) for prefix in SQLITE_ONLY)
        backends = ["sqlite"] if only_sqlite else ["sqlite", "postgresql"]
        metafunc.parametrize("database", backends, indirect=True)


@pytest.fixture
def database(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """The service's database URL: a SQLite file, or a fresh PostgreSQL database."""
    if request.param == "postgresql":
        url: str = request.getfixturevalue("postgres_url")
        return url
    return f"sqlite:///{tmp_path}/faultline.db"


@pytest.fixture
def fault_line_factory(tmp_path: Path, database: str) -> Iterator[Any]:
    started: list[FaultLine] = []

    def make(start: bool = True, **sections: dict[str, str]) -> FaultLine:
        port = free_port()
        config = write_config(tmp_path, port, database=database, **sections)
        line = FaultLine(tmp_path, port, config)
        line.ivr("db", "upgrade")  # only `db upgrade` and `serve` migrate; handsets add refuses
        line.ivr("handsets", "add", KNOWN_NUMBER, "--customer", KNOWN_CUSTOMER)
        if start:
            line.start()
        started.append(line)
        return line

    yield make
    for line in started:
        line.stop()
        for phone in line.phones:
            phone.kill()
            phone.wait()


@pytest.fixture
def fault_line(fault_line_factory: Any) -> FaultLine:
    line: FaultLine = fault_line_factory()
    return line


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "e2e" in item.nodeid.split("/"):
            item.add_marker(pytest.mark.e2e)
        if item.nodeid.startswith(CPU_BOUND):
            item.add_marker(pytest.mark.xdist_group("cpu_bound"))

    def rank(item: pytest.Item) -> int:
        for index, prefix in enumerate(LONGEST_FIRST):
            if item.nodeid.startswith(prefix):
                return index
        return len(LONGEST_FIRST)

    items.sort(key=rank)  # stable: the rest keep their order
