"""Scale-out: Kamailio in front of three `ivr serve` nodes sharing one PostgreSQL database.

The proxy runs deploy/kamailio/kamailio.cfg as shipped, its defines pointed
at loopback: Kamailio on 127.0.0.2 (the only address the nodes believe
P-Asserted-Identity from), the nodes on 127.0.0.1 at free ports, callers on
127.0.0.1 (untrusted) or 127.0.0.3 (the carrier trunk, trusted by the
proxy). The database is a fresh one on the test PostgreSQL server.

Starting the cluster is the slow part, so one test walks through it all:
(a) 100 calls are spread round-robin over the nodes and all complete, each
    with its own reference; P-Asserted-Identity from an untrusted caller is
    removed by the proxy, from the trunk it is believed;
(b) a node is killed (SIGKILL) during a batch of calls and between two
    attempts of a page: the calls it had in progress are the only ones
    lost, later calls go to the other nodes, and another node carries its
    page on without calling any step twice;
(c) the node, restarted, is back in rotation: a later batch reaches it;
    meanwhile another node is rolled as deploy/README.md says (disabled in
    the dispatcher, its calls left to finish, SIGTERM, started, enabled)
    without cutting a call off.

A second test kills a node while an engineer's phone rings: another node
takes the page over once the lease has run out.

Which node took a call is read from the nodes' logs ("fault N (...)
committed from call ID"), which also shows the node committed the fault.
"""

from __future__ import annotations

import re
import shutil
import signal
import subprocess
import tempfile
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import psycopg
import pytest

from tests.e2e.conftest import (
    KNOWN_CUSTOMER,
    KNOWN_NUMBER,
    SCENARIOS,
    FaultLine,
    write_config,
)
from tests.e2e.test_spine import UNKNOWN_NUMBER
from tests.kamailio import PROXY, TRUNK, kamailio_command
from tests.ports import free_port

pytestmark = pytest.mark.scale

CALLER = "127.0.0.1"  # everyone else
NODE_NAMES = ("a", "b", "c")
# Short rings and waits. The retry waits long enough for the node that
# placed the first attempt to be killed before the second one is due.
RETRY_SECONDS = 25
PAGING = {
    "levels": f"oncall:3:2:{RETRY_SECONDS}:0",
    "repeats": "1",
    "message_plays": "2",
    "key_timeout": "1",
    "lease_seconds": "20",
}
COMMITTED = re.compile(r"fault (\d+) \(\w+\) committed from call (\S+);")
SIPP_COUNT = r"{}\s*\|\s*\d+\s*\|\s*(\d+)"
START_TIMEOUT = 15.0


# ---- the pieces -----------------------------------------------------------------


def free_port_on(address: str) -> int:
    """A port free for UDP and TCP on `address` (and on 127.0.0.1, where the harness probes)."""
    return free_port(address)


def node_uri(line: FaultLine) -> str:
    return f"sip:127.0.0.1:{line.port}"


def committed(output: list[str], prefix: str) -> dict[str, str]:
    """Call-ID to fault reference, for the calls with this Call-ID prefix a node committed."""
    found = {}
    for text in list(output):
        match = COMMITTED.search(text)
        if match and match.group(2).startswith(prefix):
            found[match.group(2)] = match.group(1)
    return found


def wait_any(lines: dict[str, FaultLine], pattern: str, timeout: float) -> tuple[str, str]:
    """(node name, line) of the first node found to log a line matching `pattern`."""
    regex = re.compile(pattern)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for name, line in lines.items():
            for text in list(line.output):
                if regex.search(text):
                    return name, text
        time.sleep(0.1)
    logs = "\n".join(f"--- node {n}\n" + "".join(line.output[-30:]) for n, line in lines.items())
    raise AssertionError(f"no node logged {pattern!r} within {timeout} s\n{logs}")


def wait_until(condition: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"not within {timeout} s: {what}")
        time.sleep(0.1)


@dataclass
class Kamailio:
    """kamailio.cfg in the foreground on PROXY, dispatching to the given nodes."""

    workdir: Path
    nodes: list[str]  # SIP URIs
    port: int = 0
    rundir: Path = field(default_factory=lambda: Path(tempfile.mkdtemp(prefix="kam-")))
    process: subprocess.Popen[str] | None = None
    output: list[str] = field(default_factory=list)
    # More -A defines (test_edge.py's flood limits), and what to run it under
    # (`ip netns exec NAME`).
    defines: dict[str, str] = field(default_factory=dict)
    command_prefix: tuple[str, ...] = ()

    @property
    def ctl(self) -> str:
        # A short path of its own: unix socket paths are limited to 107 bytes.
        return f"unix:{self.rundir}/ctl"

    def start(self) -> None:
        self.port = free_port_on(PROXY)
        command = [
            *self.command_prefix,
            *kamailio_command(
                self.workdir,
                self.rundir,
                port=self.port,
                nodes=self.nodes,
                trunk_tag="test-trunk",
                defines={"PING_INTERVAL": "1", "NODE_TIMEOUT_MS": "1000", **self.defines},
            ),
        ]
        # Kamailio's log quotes what it could not parse, bytes and all.
        self.process = subprocess.Popen(
            command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, errors="replace"
        )

        def pump() -> None:
            assert self.process is not None and self.process.stdout is not None
            for text in self.process.stdout:
                self.output.append(text)

        threading.Thread(target=pump, daemon=True).start()
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline and self.process.poll() is None:
            if self.rpc("core.uptime", check=False).returncode == 0:
                return
            time.sleep(0.1)
        self.stop()
        raise AssertionError("kamailio did not start:\n" + "".join(self.output[-40:]))

    def rpc(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        result = subprocess.run(
            ["kamcmd", "-s", self.ctl, *args], capture_output=True, text=True, timeout=10
        )
        if check and result.returncode != 0:
            raise AssertionError(f"kamcmd {' '.join(args)}: {result.stdout}{result.stderr}")
        return result

    def states(self) -> dict[str, str]:
        """Each node's dispatcher flags by URI: "AP" active, "IP" inactive (both probed)."""
        text = self.rpc("dispatcher.list").stdout
        return dict(re.findall(r"URI:\s*(\S+)\s+FLAGS:\s*(\S+)", text))

    def wait_for_state(self, uri: str, state: str, timeout: float = 15.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.states().get(uri, "").startswith(state):
                return
            time.sleep(0.1)
        raise AssertionError(
            f"{uri} not in state {state} within {timeout} s: {self.states()}\n"
            + "".join(self.output[-40:])
        )

    def calls_on(self, uri: str) -> int:
        """Calls the node at `uri` has answered and not yet ended, as the proxy counts them."""
        text = self.rpc("htable.dump", "calls").stdout
        return len(re.findall(rf"value:\s*{re.escape(uri)}\s", text))

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        shutil.rmtree(self.rundir, ignore_errors=True)


@dataclass
class Callers:
    """One SIPp run of caller scenarios through the proxy, in the background."""

    name: str
    count: int
    process: subprocess.Popen[str]
    log: Path

    def wait(self, timeout: float = 150.0) -> tuple[int, int, int]:
        """(exit code, successful calls, failed calls) once SIPp has finished."""
        self.process.wait(timeout=timeout)
        screen = self.log.read_text(errors="replace")
        labels = ("Successful call", "Failed call")
        counts = [re.findall(SIPP_COUNT.format(label), screen) for label in labels]
        succeeded, failed = (int(found[-1]) if found else -1 for found in counts)
        return self.process.returncode, succeeded, failed

    def describe(self) -> str:
        return self.log.read_text(errors="replace")[-3000:]


@dataclass
class Cluster:
    workdir: Path
    database: str
    nodes: dict[str, FaultLine]
    proxy: Kamailio
    peers: list[subprocess.Popen[str]] = field(default_factory=list)  # SIPp, ended at teardown

    def callers(
        self,
        name: str,
        rows: Sequence[tuple[str, ...]],
        *,
        scenario: str = "caller_report.xml",
        source: str = CALLER,
        concurrent: int = 1,
    ) -> Callers:
        """Start SIPp placing one call a row; Call-IDs are NAME-1@scale.test, NAME-2@..."""
        inf = self.workdir / f"{name}.csv"
        inf.write_text(
            "SEQUENTIAL\n" + "".join(";".join(row) + ";\n" for row in rows), encoding="ascii"
        )
        log = self.workdir / f"{name}.sipp.log"
        command = [
            "sipp",
            "-sf", str(SCENARIOS / scenario),
            "-inf", str(inf),
            "-i", source,
            "-p", str(free_port_on(source)),
            "-mp", str(free_port_on(source)),
            "-m", str(len(rows)),
            "-l", str(concurrent),
            "-r", str(concurrent),
            "-cid_str", f"{name}-%u@scale.test",
            "-timeout", "140s",
            "-timeout_error",
            "-nostdin",
            "-trace_err",
            "-error_file", str(self.workdir / f"{name}.errors.log"),
            f"{PROXY}:{self.proxy.port}",
        ]  # fmt: skip
        with log.open("w") as out:
            process = subprocess.Popen(
                command, stdout=out, stderr=subprocess.STDOUT, text=True, cwd=self.workdir
            )
        self.peers.append(process)
        return Callers(name, len(rows), process, log)

    def phone(self, scenario: str, port: int) -> subprocess.Popen[str]:
        """The engineer's phone at sip:engineer@127.0.0.1:PORT, answering one call."""
        command = [
            "sipp",
            "-sf", str(SCENARIOS / scenario),
            "-i", "127.0.0.1",
            "-p", str(port),
            "-mp", str(free_port()),
            "-m", "1",
            "-nostdin",
        ]  # fmt: skip
        quiet = subprocess.DEVNULL
        process = subprocess.Popen(command, stdout=quiet, stderr=quiet, text=True, cwd=self.workdir)
        self.peers.append(process)
        return process

    def query(self, sql: str, *params: Any) -> list[tuple[Any, ...]]:
        url = self.database.replace("postgresql+psycopg://", "postgresql://", 1)
        with psycopg.connect(url) as connection:
            return list(connection.execute(sql, params).fetchall())

    def spread(self, prefix: str) -> dict[str, dict[str, str]]:
        return {name: committed(line.output, prefix) for name, line in self.nodes.items()}

    def logs(self) -> str:
        parts = [f"--- node {n}\n" + "".join(line.output[-40:]) for n, line in self.nodes.items()]
        return "\n".join([*parts, "--- kamailio\n" + "".join(self.proxy.output[-40:])])


@pytest.fixture
def make_cluster(tmp_path: Path, postgres_url: str) -> Iterator[Any]:
    """Nodes configured (not started) on one database, a proxy (not started) in front."""
    made: list[Cluster] = []

    def make(paging: dict[str, str]) -> Cluster:
        nodes: dict[str, FaultLine] = {}
        for name in NODE_NAMES:
            workdir = tmp_path / f"node-{name}"
            workdir.mkdir()
            port = free_port()
            config = write_config(
                workdir,
                port,
                database=postgres_url,
                trunk={"trusted_addresses": PROXY},
                paging=paging,
            )
            nodes[name] = FaultLine(workdir, port, config)
        # Every caller here dials from one address (127.0.0.1 or the trunk's):
        # the edge's flood limit, for one source, is lifted out of the way.
        proxy = Kamailio(
            tmp_path,
            [node_uri(line) for line in nodes.values()],
            defines={"FLOOD_DENSITY": "100000"},
        )
        cluster = Cluster(tmp_path, postgres_url, nodes, proxy)
        made.append(cluster)
        # The database is set up once, from any node's configuration.
        nodes[NODE_NAMES[0]].ivr("db", "upgrade")
        nodes[NODE_NAMES[0]].ivr("handsets", "add", KNOWN_NUMBER, "--customer", KNOWN_CUSTOMER)
        return cluster

    yield make
    for cluster in made:
        for peer in cluster.peers:
            peer.kill()
            peer.wait()
        cluster.proxy.stop()
        for line in cluster.nodes.values():
            line.stop()


def start_all(lines: list[FaultLine]) -> None:
    errors: list[BaseException] = []

    def start(line: FaultLine) -> None:
        try:
            line.start()
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=start, args=(line,)) for line in lines]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if errors:
        raise errors[0]


# ---- the test -----------------------------------------------------------------------


def start_cluster(cluster: Cluster, engineers: dict[str, str]) -> None:
    """Engineers (name: contact, the first on call now) in the database, then everything up."""
    first = cluster.nodes[NODE_NAMES[0]]
    for name, contact in engineers.items():
        first.ivr("engineers", "add", name, "--contact", contact)
    today = datetime.now().date().isoformat()
    first.ivr("oncall", "rota", "set", *engineers, "--start", today, "--handover", "00:00")
    start_all(list(cluster.nodes.values()))
    cluster.proxy.start()
    for line in cluster.nodes.values():
        cluster.proxy.wait_for_state(node_uri(line), "A")


def test_calls_spread_a_dead_node_loses_only_its_calls_and_its_page_is_taken_over(
    make_cluster: Any,
) -> None:
    started = time.monotonic()
    timings: dict[str, float] = {}
    cluster: Cluster = make_cluster(PAGING)
    nodes = cluster.nodes
    phone_port = free_port()
    start_cluster(cluster, {"alice": f"sip:engineer@127.0.0.1:{phone_port}"})
    timings["start"] = time.monotonic() - started

    # (a) 100 calls, 25 at a time, spread over the three nodes; meanwhile a
    # caller spoofs P-Asserted-Identity and the trunk asserts the same one.
    mark = time.monotonic()
    spread = cluster.callers("spread", [(KNOWN_NUMBER, "1", "Acme desk")] * 100, concurrent=25)
    pai = [(UNKNOWN_NUMBER, "", "Caller", KNOWN_NUMBER)]
    spoofed = cluster.callers("spoofed", pai, scenario="caller_listens_pai.xml", source=CALLER)
    trunk = cluster.callers("trunk", pai, scenario="caller_listens_pai.xml", source=TRUNK)
    code, succeeded, failed = spread.wait()
    assert (code, succeeded, failed) == (0, 100, 0), spread.describe() + cluster.logs()
    timings["100 calls"] = time.monotonic() - mark
    per_node = cluster.spread("spread-")
    counts = {name: len(calls) for name, calls in per_node.items()}
    assert sum(counts.values()) == 100, counts
    assert min(counts.values()) >= 25, f"round-robin should spread evenly: {counts}"
    references = [ref for calls in per_node.values() for ref in calls.values()]
    assert len(set(references)) == 100
    summary = (
        "SELECT count(*), count(DISTINCT fault_reference), min(source_address),"
        " max(source_address), bool_and(verified), bool_and(ended_at IS NOT NULL)"
        " FROM calls WHERE sip_call_id LIKE 'spread-%%' AND outcome = 'reported'"
    )
    # SIPp is done when it has answered the last BYE; the node closes that
    # call's row a moment later.
    pause = threading.Event()
    for _ in range(20):
        rows = cluster.query(summary)
        if rows and rows[0][0] == 100:
            break
        pause.wait(0.5)
    assert rows == [(100, 100, PROXY, PROXY, True, True)]
    assert [cluster.proxy.calls_on(node_uri(line)) for line in nodes.values()] == [0, 0, 0]

    for callers in (spoofed, trunk):
        assert callers.wait()[:2] == (0, 1), callers.describe() + cluster.logs()
    (spoof,) = cluster.query(
        "SELECT asserted_identity, verified, outcome, source_address FROM calls"
        " WHERE sip_call_id LIKE 'spoofed-%%'"
    )
    assert spoof == (None, False, "rejected", PROXY), "the proxy must remove an untrusted PAI"
    (asserted,) = cluster.query(
        "SELECT asserted_identity, verified, verification FROM calls"
        " WHERE sip_call_id LIKE 'trunk-%%'"
    )
    assert asserted == (
        f"<sip:{KNOWN_NUMBER}@trunk.example.net>",
        True,
        "asserted by trusted source",
    )

    # (b) A critical fault: its node calls alice, who is busy; the retry is
    # due RETRY_SECONDS later. That node is killed in between, once the
    # first 15 calls of the next batch have reached the nodes (so it has
    # about five in progress).
    mark = time.monotonic()
    busy_phone = cluster.phone("engineer_busy.xml", phone_port)
    report = cluster.callers("critical", [(KNOWN_NUMBER, "3", "Acme desk")])
    victim_name, _ = wait_any(nodes, r"busy \(alice\) -> page active", timeout=40)
    victim = nodes[victim_name]
    survivors = {name: line for name, line in nodes.items() if name != victim_name}
    assert busy_phone.wait(timeout=10) == 0
    ack_phone = cluster.phone("engineer_presses_1.xml", phone_port)  # the same phone, answering
    assert report.wait()[:2] == (0, 1), report.describe() + cluster.logs()
    batch = cluster.callers("kill", [(KNOWN_NUMBER, "1", "Acme desk")] * 30, concurrent=15)
    wait_until(
        lambda: (
            cluster.query("SELECT count(*) FROM calls WHERE sip_call_id LIKE 'kill-%%'")[0][0] >= 15
        ),
        timeout=20,
        what="the first 15 calls of the batch reach the nodes",
    )
    assert victim.process is not None
    victim.process.send_signal(signal.SIGKILL)
    killed_at = time.monotonic()
    victim.process.wait(timeout=10)
    victim.process = None
    cluster.proxy.wait_for_state(node_uri(victim), "I")
    timings["kill -> proxy marks node down"] = time.monotonic() - killed_at

    # Another node places the second attempt, once; alice acknowledges.
    taker, _ = wait_any(survivors, r"acknowledged \(alice\) -> page acknowledged", timeout=60)
    timings["kill -> page acknowledged elsewhere"] = time.monotonic() - killed_at
    assert ack_phone.wait(timeout=10) == 0
    attempts = cluster.query(
        "SELECT repeat, level, attempt, engineer_name, result, sip_status"
        " FROM page_attempts ORDER BY id"
    )
    assert attempts == [
        (0, 0, 0, "alice", "busy", 486),
        (0, 0, 1, "alice", "acknowledged", 200),
    ]
    calling = {
        name: sum("calling alice" in text for text in line.output) for name, line in nodes.items()
    }
    assert calling == {name: int(name in (victim_name, taker)) for name in nodes}, calling
    assert cluster.query(
        "SELECT kind, status, acknowledged_by, target, lease_owner FROM pages ORDER BY id"
    ) == [
        ("alert", "acknowledged", "alice", None, None),
        ("reminder", "active", None, "alice", None),  # at the fault's response deadline
    ]
    timings["page"] = time.monotonic() - mark

    # The batch the victim died in: every call reached a node; the only calls
    # lost are those the victim had in progress (their log rows never
    # closed); every other call got its reference.
    code, succeeded, failed = batch.wait()
    done_elsewhere: set[str] = set().union(
        *(committed(line.output, "kill-") for name, line in survivors.items())
    )
    by_call = (
        "SELECT sip_call_id, bool_or(ended_at IS NULL), bool_or(fault_reference IS NOT NULL"
        " AND ended_at IS NOT NULL) FROM calls WHERE sip_call_id LIKE 'kill-%%'"
        " GROUP BY sip_call_id"
    )
    # SIPp is done when it has answered the last BYE; a survivor closes that
    # call's row a moment later, so wait for the survivors' rows to close.
    wait_until(
        lambda: done_elsewhere <= {call for call, _open, done in cluster.query(by_call) if done},
        timeout=15,
        what="the survivors close the rows of the calls they took",
    )
    rows = cluster.query(by_call)
    assert len(rows) == 30, rows
    lost = {call_id for call_id, _open, done in rows if not done}
    assert lost, "the victim was killed with calls in progress"
    assert all(was_open for call_id, was_open, _done in rows if call_id in lost), rows
    # A call the victim finished just before dying can count as done for
    # SIPp while its row was never closed; never the other way round.
    assert code == 1 and succeeded + failed == 30, batch.describe()
    assert 0 < failed <= len(lost), batch.describe()
    done = {name: set(calls) for name, calls in cluster.spread("kill-").items()}
    assert not lost & set().union(*(done[name] for name in survivors)), "lost only on the victim"
    assert sum(len(calls) for calls in done.values()) >= 30 - len(lost)

    # (c) The victim, restarted, is probed back into rotation and takes calls.
    # Meanwhile another node is rolled as deploy/README.md says: disabled in
    # the dispatcher while it has calls, which finish; then stopped (SIGTERM),
    # started again and enabled. No call of the batch is dropped.
    mark = time.monotonic()
    victim.start()
    # Restarted, it closes the calls its crash cut off, and only those.
    cut_off = cluster.query(
        "SELECT sip_call_id, outcome FROM calls WHERE sip_call_id LIKE 'kill-%%'"
        " AND ended_at IS NULL"
    )
    assert lost <= {call_id for call_id, _ in cut_off}
    assert {outcome for _, outcome in cut_off} == {"interrupted"}
    cluster.proxy.wait_for_state(node_uri(victim), "A")
    rolled_name = next(name for name in survivors if name != taker)
    rolled = nodes[rolled_name]
    again = cluster.callers("again", [(KNOWN_NUMBER, "1", "Acme desk")] * 24, concurrent=12)
    wait_until(lambda: cluster.proxy.calls_on(node_uri(rolled)) > 0, 20, "a call on the node")
    cluster.proxy.rpc("dispatcher.set_state", "d", "1", node_uri(rolled))
    wait_until(lambda: cluster.proxy.calls_on(node_uri(rolled)) == 0, 40, "its calls to end")
    taken = set(committed(rolled.output, "again-"))
    assert rolled.stop() == 0
    assert "ended: the service is stopping" not in "".join(rolled.output), "a call was cut off"
    rolled.start()
    assert again.wait()[:3] == (0, 24, 0), again.describe() + cluster.logs()
    cluster.proxy.rpc("dispatcher.set_state", "ap", "1", node_uri(rolled))
    cluster.proxy.wait_for_state(node_uri(rolled), "A")
    back = {name: len(calls) for name, calls in cluster.spread("again-").items()}
    back[rolled_name] = len(taken)
    assert back[victim_name] >= 6, f"the restarted node takes its share: {back}"
    assert 0 < back[rolled_name] <= 6, f"no new calls for a disabled node: {back}"
    assert sum(back.values()) == 24, back
    timings["restart, roll and 24 calls"] = time.monotonic() - mark

    timings["total"] = time.monotonic() - started
    print("timings (s):", {key: round(value, 1) for key, value in timings.items()})
    print("calls per node:", counts, "after restart:", back, "lost:", len(lost))


def test_a_page_whose_node_dies_mid_call_is_taken_over_when_its_lease_runs_out(
    make_cluster: Any,
) -> None:
    # Alice's phone rings for 8 s; her node is killed while it rings. Its
    # lease (10 s) runs out; another node must finish her attempt as
    # interrupted (never ring her again for that step) and call bob.
    paging = {**PAGING, "levels": "oncall:8:1:0:0, next:3:1:0:0", "lease_seconds": "10"}
    cluster: Cluster = make_cluster(paging)
    alice, bob = free_port(), free_port()
    start_cluster(
        cluster,
        {"alice": f"sip:engineer@127.0.0.1:{alice}", "bob": f"sip:engineer@127.0.0.1:{bob}"},
    )
    cluster.phone("engineer_no_answer.xml", alice)
    cluster.phone("engineer_presses_1.xml", bob)
    cluster.callers("critical", [(KNOWN_NUMBER, "3", "Acme desk")])
    victim_name, _ = wait_any(cluster.nodes, r"page \d+: calling alice", timeout=40)
    survivors = {name: line for name, line in cluster.nodes.items() if name != victim_name}
    # Killed while alice's phone rings (the reporting call, on the same node, is lost too).
    cluster.nodes[victim_name].stop(signal.SIGKILL)
    taker, line = wait_any(survivors, r"calling bob|already attempted|ERROR", timeout=30)
    assert "calling bob" in line, line
    wait_any({taker: survivors[taker]}, r"acknowledged \(bob\) -> page acknowledged", timeout=20)
    attempts = cluster.query("SELECT engineer_name, result FROM page_attempts ORDER BY id")
    assert attempts == [("alice", "interrupted"), ("bob", "acknowledged")]
