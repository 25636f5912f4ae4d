"""How many callers at once, how fast an engineer is paged, how clean the audio is.

`bench/run` runs this against the real `ivr serve` on 127.0.0.1 and puts
two references beside every figure, measured in the same run with the same
SIPp callers: SIPp's own UAS (the load generator's ceiling on this machine)
and a minimal pyVoIP 1.6.8 answering script (bench/pyvoip_answer.py). It
prints one table and writes it, with the machine and the versions, to
bench/RESULTS.md.

What is measured, and how:
- capacity: SIPp places N calls of bench/caller_report.xml at 50 calls/s
  (-l N -m N) with a hold long enough that all N are up at once, for N in
  50, 100, 200, 300, 400 (the bound, to stay within ~20 minutes), stopping
  at the first step that is not clean. Clean means: SIPp counts N successful
  calls and none failed; every call's RTP stream from the far end carries
  at least 2 s of audio; and for the fault line the database holds N faults
  and N calls with outcome "reported" and keys "21". CPU is % of one core
  from /proc/PID/stat (all threads), memory is VmRSS; per concurrent call
  is (peak - idle) / peak simultaneous calls.
- two nodes (cluster): the same callers, from the carrier trunk's address
  127.0.0.3, sent to Kamailio on 127.0.0.2 running deploy/kamailio/
  kamailio.cfg as shipped, in front of two `ivr serve` nodes (at most 240
  calls each, `[general] max_calls`) sharing one database on a throwaway
  PostgreSQL server (tests/pg.py), for N in 240, 360, 480 (no halfway step);
  clean as above, counted in the shared database. CPU and memory are summed over the nodes;
  each node's, Kamailio's and PostgreSQL's (whole process trees) are given
  beside them, with the calls each node committed or turned away (486).
- answer latency: bench/caller_answer.xml at 20 calls/s; INVITE -> 200 OK
  per Call-ID, from a capture on lo of the answerer's SIP port.
- page latency: 50 critical reports at 1 call/s, each from its own handset
  and customer (so no page joins another's); from the caller's confirming
  INFO (Signal=1) reaching the answerer to the engineer's INVITE leaving it,
  from a capture on lo of both SIP ports, each INFO paired with the first
  engineer INVITE after it.
- audio pacing: the gap between consecutive RTP packets of each stream the
  answerer sends (keyed by source port and SSRC), from the capture of the
  highest clean capacity step.
- admin: `ivr calls list --limit 50` (and the same query in-process) over
  1,000,000 seeded calls, on SQLite and, when tests/pg.py can start one, on
  a throwaway PostgreSQL server.
- profile: py-spy (all threads, and the GIL holder) on `ivr serve` during a
  repeat of the 200-caller capacity step.
Captures are taken with dumpcap (the capture engine tshark runs) and read
here with a few lines of struct; `tshark -r FILE -d udp.port==PORT,rtp -T
fields -e frame.time_epoch -e rtp.ssrc` on the kept captures gives the same.

Everything listens on loopback only (127.0.0.1; the cluster's proxy and
trunk on 127.0.0.2 and 127.0.0.3); every SIPp run has -m and -timeout,
every process started here is stopped here, by its pid.
"""

from __future__ import annotations

import argparse
import contextlib
import itertools
import json
import math
import os
import platform
import re
import shutil
import signal
import socket
import sqlite3
import statistics
import struct
import subprocess
import sys
import tempfile
import textwrap
import threading
import time
from collections import defaultdict
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import psycopg

BENCH = Path(__file__).resolve().parent
REPO = BENCH.parent
WORK = BENCH / ".work"
PROMPT_CACHE = WORK / "prompt-cache"
RESULTS = BENCH / "RESULTS.md"
IVR = [str(REPO / ".venv" / "bin" / "ivr")]
BENCH_PYTHON = BENCH / ".venv" / "bin" / "python"
PY_SPY = BENCH / ".venv" / "bin" / "py-spy"
ENGINEER_SCENARIO = REPO / "tests" / "e2e" / "scenarios" / "engineer_presses_1.xml"

HANDSETS = 1000  # 020 7946 0000-0999 (Ofcom's drama range), one customer each


def handset(i: int) -> str:
    """The i-th bench caller: every call comes from its own handset and customer, so that no
    call meets the "you recently reported a fault" menu and no page is joined by another's."""
    return f"0207946{i % HANDSETS:04d}"


STEPS = (50, 100, 200, 300, 400)
# Two nodes of at most 240 calls each (`[general] max_calls`: the engine has 255 call lines).
CLUSTER_STEPS = (240, 360, 480)
CLUSTER_NODES = ("a", "b")
CLUSTER_KIND = "faultline x2"
CAPACITY_RATE = 50  # calls per second while a step ramps up
ANSWER_RATE = 20
ANSWER_CALLS = 200
ANSWER_HOLD_MS = 1000  # each caller hangs up after a second: ~20 calls up
PAGE_CALLS = 50
PAGE_RATE = 1
ADMIN_ROWS = 1_000_000
# The one-node step issue 19 takes CPU and memory per call from, and py-spy profiles.
ISSUE_CALLERS = 200
MIN_STREAM_PACKETS = 100  # 2 s of audio: the caller heard a prompt
CLK_TCK = os.sysconf("SC_CLK_TCK")

TARGETS = {
    "capacity": ">= 300",
    "cluster": ">= 480",
    "answer_p99": "<= 20 ms",
    "page_p99": "<= 100 ms",
    "rtp_mean": "20.0 ms",
    "rtp_p99": "<= 25 ms",
    "admin": "<= 200 ms",
}
# Issue 19's figures: what it measured before, and its targets. Report.issue_rows
# puts this run's measure beside each.
ISSUE_19 = (
    (f"CPU per concurrent call at {ISSUE_CALLERS} callers", "0.65-0.76 % of a core", "<= 0.40 %"),
    ("memory per concurrent call", "533 KiB", "<= 400 KiB"),
    (f"INVITE -> 200 OK p99 at {ANSWER_RATE} calls/s", "27 ms", "<= 20 ms"),
    ("confirming key -> engineer INVITE p99", "108-200 ms", "<= 100 ms"),
    ("`ivr calls list --limit 50` wall, 1M calls", "~0.9 s", "<= 0.3 s"),
    ("simultaneous callers, 0 failed", "240 (one node)", ">= 480, two nodes"),
)
KINDS = ("faultline", "sipp", "pyvoip")
KIND_TITLES = {
    "faultline": "fault line (baresip-python)",
    "sipp": "SIPp UAS (ceiling)",
    "pyvoip": "pyVoIP 1.6.8 script",
}


def log(message: str) -> None:
    print(f"[bench {datetime.now():%H:%M:%S}] {message}", file=sys.stderr, flush=True)


# ---- processes and ports ---------------------------------------------------------------------


class Processes:
    """Every process this run starts, so that each is stopped by its own pid."""

    def __init__(self) -> None:
        self._live: list[subprocess.Popen[bytes]] = []

    def start(self, command: Sequence[str], out: Path, **kwargs: Any) -> subprocess.Popen[bytes]:
        with out.open("ab") as handle:
            process = subprocess.Popen(
                list(command), stdout=handle, stderr=subprocess.STDOUT, **kwargs
            )
        self._live.append(process)
        return process

    def stop(self, process: subprocess.Popen[bytes], timeout: float = 40.0) -> int | None:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        with contextlib.suppress(ValueError):
            self._live.remove(process)
        return process.returncode

    def stop_all(self) -> None:
        for process in list(self._live):
            self.stop(process, timeout=10)


PROCESSES = Processes()


_TAKEN: set[int] = set()


def free_port(address: str = "127.0.0.1") -> int:
    """A port nobody holds on `address` for UDP or TCP, with the three above it free for UDP.

    The fault line's engine binds its SIP port for TCP as well as UDP, so a
    port free for UDP alone may still be taken. SIPp's -mp takes the port
    and the two above it (RTP, RTCP, video), so the four are reserved
    together and never handed out again in this run.
    """
    while True:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
            probe.bind((address, 0))
            port: int = probe.getsockname()[1]
        block = range(port, port + 4)
        if port > 60000 or _TAKEN.intersection(block):
            continue
        with contextlib.ExitStack() as stack:
            try:
                tcp = stack.enter_context(socket.socket(socket.AF_INET, socket.SOCK_STREAM))
                tcp.bind((address, port))
                for other in block[1:]:
                    sock = stack.enter_context(socket.socket(socket.AF_INET, socket.SOCK_DGRAM))
                    sock.bind((address, other))
            except OSError:
                continue
        _TAKEN.update(block)
        return port


def wait_for_text(path: Path, text: str, timeout: float, process: Any = None) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if path.exists() and text in path.read_text(errors="replace"):
            return True
        if process is not None and process.poll() is not None:
            return False
        time.sleep(0.1)
    return False


# ---- /proc sampling --------------------------------------------------------------------------


@dataclass
class Sample:
    at: float
    cpu: float  # seconds of CPU used so far, all threads
    rss_kb: int
    threads: int
    user: float = 0.0  # the user-mode part of cpu


def read_proc(pid: int, reaped: bool = False) -> Sample | None:
    """One process's figures; with `reaped`, its CPU includes that of the children it has
    waited for, so that a process tree's total does not drop when one of them exits."""
    at = time.monotonic()  # next to the CPU time it stamps, not after the memory is read
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return None
    fields = stat.rsplit(")", 1)[1].split()
    user, system = int(fields[11]) / CLK_TCK, int(fields[12]) / CLK_TCK  # utime, stime
    if reaped:
        user, system = user + int(fields[13]) / CLK_TCK, system + int(fields[14]) / CLK_TCK
    rss = re.search(r"^VmRSS:\s+(\d+)", status, re.MULTILINE)
    threads = re.search(r"^Threads:\s+(\d+)", status, re.MULTILINE)
    return Sample(
        at,
        user + system,
        int(rss.group(1)) if rss else 0,
        int(threads.group(1)) if threads else 0,
        user,
    )


def descendants(roots: Sequence[int]) -> list[int]:
    """The roots and every process below them (Kamailio's children, PostgreSQL's backends)."""
    children: dict[int, list[int]] = defaultdict(list)
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            with contextlib.suppress(OSError, IndexError, ValueError):
                parent = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
                children[parent].append(int(entry.name))
    found, queue = [], list(roots)
    while queue:
        pid = queue.pop()
        found.append(pid)
        queue += children.get(pid, [])
    return found


def read_procs(pids: Sequence[int], reaped: bool = False) -> Sample | None:
    """The figures of several processes summed (see read_proc for `reaped`)."""
    samples = [sample for pid in pids if (sample := read_proc(pid, reaped)) is not None]
    if not samples:
        return None
    return Sample(
        samples[0].at,
        sum(sample.cpu for sample in samples),
        sum(sample.rss_kb for sample in samples),
        sum(sample.threads for sample in samples),
        sum(sample.user for sample in samples),
    )


class Sampler:
    """Reads the CPU time and memory of some processes (or trees) in a thread, summed.

    Finding a tree's members reads all of /proc (several ms of CPU), so a
    tree is sampled every half second and walked afresh every fourth time;
    a process that starts in between is counted from then on, all its CPU
    time included.
    """

    def __init__(self, *pids: int, tree: bool = False) -> None:
        self.pids = pids
        self.tree = tree
        self.every = 0.5 if tree else 0.25
        self.samples: list[Sample] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> Sampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def _run(self) -> None:
        members: Sequence[int] = self.pids
        for count in itertools.count():
            if self._stop.is_set():
                break
            if self.tree and count % 4 == 0:
                members = descendants(self.pids)
            sample = read_procs(members, reaped=self.tree)
            if sample is not None:
                self.samples.append(sample)
            self._stop.wait(self.every)

    def between(self, start: float, end: float) -> list[Sample]:
        return [s for s in self.samples if start <= s.at <= end]


# The engine's threads, by the names it gives them; every other thread of the
# process (the SIP stack's own, Python's, the log reader) is "stack and Python".
ENGINE_THREADS = ("Audio TX", "aumem_src", "aumem_play")
STACK_AND_PYTHON = "stack and Python"


class ThreadCpu:
    """CPU time of one process's threads by name, read every second in a thread.

    A call's threads end with the call, so each thread's last reading is kept;
    what a thread used in the second before it ended is missed (about 2 % of
    a call's 40 s).
    """

    def __init__(self, pid: int) -> None:
        self.pid = pid
        self._first: dict[int, float] = {}
        self._last: dict[int, tuple[str, float]] = {}
        self.started = self.ended = 0.0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> ThreadCpu:
        self.started = time.monotonic()
        self._first = {tid: cpu for tid, (_, cpu) in self._read().items()}
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self.ended = time.monotonic()

    def _read(self) -> dict[int, tuple[str, float]]:
        found: dict[int, tuple[str, float]] = {}
        with contextlib.suppress(OSError):
            for task in os.listdir(f"/proc/{self.pid}/task"):
                with contextlib.suppress(OSError, ValueError):
                    stat = Path(f"/proc/{self.pid}/task/{task}/stat").read_text()
                    name = stat[stat.index("(") + 1 : stat.rindex(")")]
                    fields = stat.rsplit(")", 1)[1].split()
                    found[int(task)] = (name, (int(fields[11]) + int(fields[12])) / CLK_TCK)
        return found

    def _run(self) -> None:
        while not self._stop.wait(1.0):
            self._last.update(self._read())
        self._last.update(self._read())

    def per_call(self, calls: int) -> dict[str, float]:
        """% of a core per call, mean over the sampling, for each kind of thread."""
        seconds = self.ended - self.started
        if not calls or seconds <= 0:
            return {}
        used: dict[str, float] = defaultdict(float)
        for tid, (name, cpu) in self._last.items():
            group = name if name in ENGINE_THREADS else STACK_AND_PYTHON
            used[group] += cpu - self._first.get(tid, 0.0)
        return {group: 100 * cpu / seconds / calls for group, cpu in used.items()}


def cpu_percent(samples: list[Sample]) -> float:
    if len(samples) < 2 or samples[-1].at <= samples[0].at:
        return float("nan")
    return 100 * (samples[-1].cpu - samples[0].cpu) / (samples[-1].at - samples[0].at)


def user_share(samples: list[Sample]) -> float:
    """The part of the CPU time spent in user mode, in %."""
    if len(samples) < 2 or samples[-1].cpu <= samples[0].cpu:
        return float("nan")
    return 100 * (samples[-1].user - samples[0].user) / (samples[-1].cpu - samples[0].cpu)


def peak_cpu_percent(samples: list[Sample], window: float = 2.0) -> float:
    best = float("nan")
    j = 0
    for i, sample in enumerate(samples):
        while samples[j].at < sample.at - window:
            j += 1
        if j < i and sample.at - samples[j].at >= window * 0.75:
            value = cpu_percent([samples[j], sample])
            best = value if math.isnan(best) else max(best, value)
    return best


# ---- captures --------------------------------------------------------------------------------


class Capture:
    """dumpcap on lo with a capture filter, written as classic pcap."""

    def __init__(self, path: Path, bpf: str, snaplen: int = 0) -> None:
        self.path = path
        self.bpf = bpf
        self.snaplen = snaplen
        self.process: subprocess.Popen[bytes] | None = None

    def __enter__(self) -> Capture:
        command = [
            "dumpcap",
            "-q",
            "-i",
            "lo",
            "-f",
            self.bpf,
            "-P",
            "-B",
            "64",
            "-w",
            str(self.path),
        ]
        if self.snaplen:
            command[2:2] = ["-s", str(self.snaplen)]
        self.path.unlink(missing_ok=True)
        self.process = PROCESSES.start(command, self.path.with_suffix(".dumpcap.log"))
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            if self.path.exists() and self.path.stat().st_size >= 24:
                break
            time.sleep(0.05)
        time.sleep(0.3)
        return self

    def __exit__(self, *exc: object) -> None:
        time.sleep(0.3)
        if self.process is not None:
            PROCESSES.stop(self.process, timeout=10)


def udp_packets(path: Path) -> Iterator[tuple[float, int, int, bytes]]:
    """(time, source port, destination port, UDP payload) of every IPv4 UDP packet."""
    data = path.read_bytes() if path.exists() else b""
    if len(data) < 24:
        return
    magic = data[:4]
    endian = "<" if magic in (b"\xd4\xc3\xb2\xa1", b"\x4d\x3c\xb2\xa1") else ">"
    scale = 1e-9 if magic in (b"\x4d\x3c\xb2\xa1", b"\xa1\xb2\x3c\x4d") else 1e-6
    linktype = struct.unpack_from(endian + "I", data, 20)[0]
    link = {1: 14, 113: 16, 276: 20, 0: 4, 101: 0}.get(linktype)
    if link is None:
        raise ValueError(f"{path}: link type {linktype} not understood")
    offset = 24
    header = struct.Struct(endian + "IIII")
    while offset + 16 <= len(data):
        seconds, fraction, length, _ = header.unpack_from(data, offset)
        offset += 16
        frame = data[offset : offset + length]
        offset += length
        ip = frame[link:]
        if len(ip) < 28 or ip[0] >> 4 != 4 or ip[9] != 17:
            continue
        udp = ip[(ip[0] & 15) * 4 :]
        source, destination = struct.unpack_from("!HH", udp, 0)
        yield seconds + fraction * scale, source, destination, udp[8:]


@dataclass
class RtpStats:
    streams: int = 0
    heard: int = 0  # streams with at least MIN_STREAM_PACKETS packets
    packets: int = 0
    gaps: int = 0
    mean_ms: float = float("nan")
    p50_ms: float = float("nan")
    p99_ms: float = float("nan")
    max_ms: float = float("nan")
    over_25_pct: float = float("nan")


def percentile(values: Sequence[float], fraction: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, math.ceil(fraction * len(ordered)) - 1))
    return ordered[index]


def rtp_stats(path: Path, to_port: int) -> RtpStats:
    """Inter-packet gaps of every RTP stream sent to `to_port` (streams by source port and SSRC)."""
    times: dict[tuple[int, int], list[float]] = defaultdict(list)
    for at, source, destination, payload in udp_packets(path):
        if destination != to_port or len(payload) < 12 or payload[0] >> 6 != 2:
            continue
        ssrc = struct.unpack_from("!I", payload, 8)[0]
        times[(source, ssrc)].append(at)
    gaps: list[float] = []
    for stamps in times.values():
        stamps.sort()
        gaps += [(b - a) * 1000 for a, b in zip(stamps, stamps[1:], strict=False)]
    stats = RtpStats(
        streams=len(times),
        heard=sum(1 for stamps in times.values() if len(stamps) >= MIN_STREAM_PACKETS),
        packets=sum(len(stamps) for stamps in times.values()),
        gaps=len(gaps),
    )
    if gaps:
        stats.mean_ms = statistics.fmean(gaps)
        stats.p50_ms = percentile(gaps, 0.50)
        stats.p99_ms = percentile(gaps, 0.99)
        stats.max_ms = max(gaps)
        stats.over_25_pct = 100 * sum(1 for gap in gaps if gap > 25) / len(gaps)
    return stats


@dataclass(frozen=True)
class SipMessage:
    at: float
    source: int
    destination: int
    first_line: str
    call_id: str
    cseq_method: str
    body: str


def sip_messages(path: Path) -> list[SipMessage]:
    found = []
    for at, source, destination, payload in udp_packets(path):
        text = payload.decode("utf-8", "replace")
        first, _, rest = text.partition("\r\n")
        if not (first.endswith("SIP/2.0") or first.startswith("SIP/2.0 ")):
            continue
        head, _, body = rest.partition("\r\n\r\n")
        call_id = re.search(r"^(?:Call-ID|i)\s*:\s*(\S+)", head, re.IGNORECASE | re.MULTILINE)
        cseq = re.search(r"^CSeq\s*:\s*\d+\s+(\S+)", head, re.IGNORECASE | re.MULTILINE)
        found.append(
            SipMessage(
                at,
                source,
                destination,
                first,
                call_id.group(1) if call_id else "",
                cseq.group(1).upper() if cseq else "",
                body,
            )
        )
    return found


def answer_latencies(path: Path, answerer: int) -> list[float]:
    """INVITE in -> 200 OK out per Call-ID (first of each; retransmissions ignored), in ms."""
    invites: dict[str, float] = {}
    answers: dict[str, float] = {}
    for message in sip_messages(path):
        if message.first_line.startswith("INVITE ") and message.destination == answerer:
            invites.setdefault(message.call_id, message.at)
        elif (
            message.first_line.startswith("SIP/2.0 200")
            and message.cseq_method == "INVITE"
            and message.source == answerer
        ):
            answers.setdefault(message.call_id, message.at)
    return [(answers[c] - invites[c]) * 1000 for c in invites if c in answers]


def page_latencies(path: Path, answerer: int, engineer: int) -> tuple[list[float], int, int]:
    """Confirming INFO in -> engineer INVITE out, in ms; also the counts of each."""
    infos: dict[str, float] = {}
    pages: dict[str, float] = {}
    for message in sip_messages(path):
        if (
            message.first_line.startswith("INFO ")
            and message.destination == answerer
            and re.search(r"Signal\s*=\s*1", message.body)
        ):
            infos.setdefault(message.call_id, message.at)
        elif message.first_line.startswith("INVITE ") and message.destination == engineer:
            pages.setdefault(message.call_id, message.at)
    free = sorted(pages.values())
    latencies = []
    for info in sorted(infos.values()):
        later = [at for at in free if at >= info]
        if later:
            free.remove(later[0])
            latencies.append((later[0] - info) * 1000)
    return latencies, len(infos), len(pages)


# ---- SIPp ------------------------------------------------------------------------------------


@dataclass
class SippRun:
    returncode: int
    successful: int
    failed: int
    peak_calls: int
    started: float
    ended: float
    errors: str
    # Why calls failed, counted (unexpected_answers), e.g. "408 to INFO": 112.
    unexpected: dict[str, int] = field(default_factory=dict)

    @property
    def why(self) -> str:
        """The first reason SIPp gave for a failed call, with the response it got if any."""
        match = re.search(r": (Aborting call [^']*|[^\n:]*(?:timeout|failed)[^\n]*)", self.errors)
        if match is None:
            return ""
        received = re.search(r"received '(SIP/2\.0 [^\r\n]*)", self.errors)
        reason = match.group(1).replace(" for Call-Id", "").replace(" for Call-ID", "").strip()
        return reason + (f": {received.group(1)}" if received else "")


def unexpected_answers(path: Path) -> dict[str, int]:
    """Why SIPp's calls failed, counted: the answer a call was aborted on (by status and the
    request answered) or the scenario index it timed out at."""
    if not path.exists():
        return {}
    text = path.read_text(errors="replace")
    counts: dict[str, int] = defaultdict(int)
    for chunk in text.split("Aborting call on unexpected message")[1:]:
        status = re.search(r"received 'SIP/2\.0 (\d{3})", chunk)
        method = re.search(r"^CSeq:\s*\d+\s+(\w+)", chunk, re.MULTILINE)
        if status and method:
            counts[f"{status.group(1)} to {method.group(1)}"] += 1
    for index in re.findall(r"receive timeout on message [^:\n]*:(\d+)", text):
        counts[f"timeout at scenario index {index}"] += 1
    return dict(sorted(counts.items(), key=lambda item: -item[1]))


def stat_columns(path: Path) -> list[dict[str, str]]:
    if not path.exists():
        return []
    lines = [line for line in path.read_text(errors="replace").splitlines() if line.strip()]
    if not lines:
        return []
    names = lines[0].rstrip(";").split(";")
    return [dict(zip(names, line.rstrip(";").split(";"), strict=False)) for line in lines[1:]]


def run_sipp_caller(
    workdir: Path,
    scenario: Path,
    target: int,
    *,
    calls: int,
    rate: float,
    limit: int,
    hold_ms: int,
    priority: str,
    caller_port: int,
    media_port: int,
    timeout: float,
    source: str = "127.0.0.1",
    host: str = "127.0.0.1",
) -> SippRun:
    callers = workdir / "callers.csv"
    callers.write_text(
        "SEQUENTIAL\n"
        + "".join(f"{handset(i)};{priority};Bench caller {i};\n" for i in range(calls)),
        encoding="ascii",
    )
    stat = workdir / f"{scenario.stem}-stat.csv"
    errors = workdir / f"{scenario.stem}-errors.log"
    command = [
        "sipp", "-sf", str(scenario), "-inf", str(callers),
        "-i", source, "-p", str(caller_port), "-mp", str(media_port),
        "-m", str(calls), "-l", str(limit), "-r", str(rate), "-d", str(hold_ms),
        "-timeout", f"{int(timeout)}s", "-timeout_error", "-nostdin",
        "-trace_err", "-error_file", str(errors),
        "-trace_stat", "-stf", str(stat), "-fd", "1",
        f"{host}:{target}",
    ]  # fmt: skip
    started = time.monotonic()
    out = workdir / f"{scenario.stem}-sipp.out"
    with out.open("wb") as handle:
        result = subprocess.run(
            command, stdout=handle, stderr=subprocess.STDOUT, cwd=workdir, timeout=timeout + 30
        )
    ended = time.monotonic()
    rows = stat_columns(stat)
    last = rows[-1] if rows else {}
    peak = max((int(row.get("CurrentCall", "0") or 0) for row in rows), default=0)
    return SippRun(
        returncode=result.returncode,
        successful=int(last.get("SuccessfulCall(C)", "0") or 0),
        failed=int(last.get("FailedCall(C)", "0") or 0),
        peak_calls=peak,
        started=started,
        ended=ended,
        errors=errors.read_text(errors="replace")[:3000] if errors.exists() else "",
        unexpected=unexpected_answers(errors),
    )


# ---- the three answerers ---------------------------------------------------------------------


class Answerer:
    """Something that answers bench/caller_*.xml on 127.0.0.1:port."""

    kind = ""

    def __init__(self, workdir: Path) -> None:
        self.workdir = workdir
        workdir.mkdir(parents=True, exist_ok=True)
        self.port = free_port()
        self.process: subprocess.Popen[bytes] | None = None
        self.log = workdir / f"{self.kind}.log"

    @property
    def pid(self) -> int:
        assert self.process is not None
        return self.process.pid

    def start(self, *args: Any, **kwargs: Any) -> None:
        raise NotImplementedError

    def stop(self) -> None:
        if self.process is not None:
            PROCESSES.stop(self.process)

    def settle(self, calls: int, timeout: float = 30.0) -> None:
        """Wait until the answerer has finished with its calls (after SIPp has)."""

    def verify(self, calls: int, keys: str) -> list[str]:
        """Problems seen by the answerer itself (beyond what SIPp and the capture say)."""
        return []


class FaultLine(Answerer):
    kind = "faultline"

    def __init__(self, workdir: Path, database: str | None = None) -> None:
        super().__init__(workdir)
        self.database = database or f"sqlite:///{workdir / 'faultline.db'}"
        self.config = workdir / "sip.conf"
        self.settings: dict[str, dict[str, str]] = {}  # over the bench's own (a cluster's)

    def write_config(self, paging: dict[str, str] | None = None) -> None:
        sections: dict[str, dict[str, str]] = {
            "general": {
                "listen": f"127.0.0.1:{self.port}",
                "database": self.database,
                "data_dir": str(self.workdir / "data"),
                # The SIPp callers send no audio but their keys.
                "rtp_timeout": "0",
                "max_calls": "240",
                "metrics_listen": "",
            },
            "prompts": {
                "catalogue_dir": str(REPO / "prompts"),
                "cache_dir": str(PROMPT_CACHE),
                "recorded_dir": str(REPO / "prompts" / "recorded"),
            },
            # Callers hold before their first key: never time them out.
            "menu": {"first_digit_timeout": "60", "tries": "2"},
            # Open around the clock, so that every run takes the same path.
            "hours": {"open": "00:00", "close": "23:59"},
            # One source sends every call: no flood guard.
            "guard": {"enabled": "no"},
            "paging": paging or {"priorities": "critical"},
        }
        for name, values in self.settings.items():
            sections.setdefault(name, {}).update(values)
        self.config.write_text(
            "".join(
                f"[{name}]\n" + "".join(f"{key} = {value}\n" for key, value in values.items())
                for name, values in sections.items()
            ),
            encoding="utf-8",
        )

    def ivr(self, *args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
        result = subprocess.run(
            [*IVR, "--config", str(self.config), *args],
            capture_output=True,
            text=True,
            timeout=timeout,
        )
        if result.returncode != 0:
            raise RuntimeError(f"ivr {' '.join(args)}: {result.stdout}{result.stderr}")
        return result

    def start(self, paging: dict[str, str] | None = None, engineer: str | None = None) -> None:
        self.write_config(paging)
        self.add_handsets()
        if engineer:
            self.ivr("engineers", "add", "alice", "--contact", engineer)
            today = datetime.now().date().isoformat()
            self.ivr("oncall", "rota", "set", "alice", "--start", today, "--handover", "00:00")
        self.launch()
        self.wait_ready()

    def launch(self) -> None:
        """`ivr serve` on the configuration written, not waiting for it to be ready."""
        env = dict(os.environ, PYTHONUNBUFFERED="1")
        self.process = PROCESSES.start(
            [*IVR, "--config", str(self.config), "serve"], self.log, env=env, cwd=self.workdir
        )

    def wait_ready(self) -> None:
        if not wait_for_text(self.log, "fault line ready", 120, self.process):
            raise RuntimeError("ivr serve did not start:\n" + self.log.read_text()[-3000:])

    def add_handsets(self) -> None:
        # Every line adds its handsets first; only `ivr db upgrade` and `ivr serve` migrate.
        self.ivr("db", "upgrade")
        listing = self.workdir / "handsets.csv"
        listing.write_text(
            "number,customer\n"
            + "".join(f"{handset(i)},Bench Customer {i:03d} Ltd\n" for i in range(HANDSETS)),
            encoding="ascii",
        )
        self.ivr("handsets", "import", str(listing))

    def _rows(self, query: str) -> list[tuple[Any, ...]]:
        if not self.database.startswith("sqlite:///"):  # a cluster's shared PostgreSQL
            url = self.database.replace("postgresql+psycopg://", "postgresql://", 1)
            with psycopg.connect(url) as db:
                return list(db.execute(query).fetchall())
        path = self.database.removeprefix("sqlite:///")
        with contextlib.closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True)) as db:
            return list(db.execute(query).fetchall())

    def _count(self, query: str) -> int:
        return int(self._rows(query)[0][0])

    def settle(self, calls: int, timeout: float = 30.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with contextlib.suppress(sqlite3.Error, psycopg.Error):
                if self._count("select count(*) from calls where ended_at is not null") >= calls:
                    return
            time.sleep(0.25)

    def verify(self, calls: int, keys: str) -> list[str]:
        problems = []
        faults = self._count("select count(*) from faults")
        reported = self._count(
            "select count(*) from calls where outcome = 'reported' "
            f"and digits = '{keys}' and fault_reference is not null and ended_at is not null"
        )
        if faults != calls:
            problems.append(f"{faults} faults in the database for {calls} calls")
        if reported != calls:
            outcomes = self._outcomes()
            problems.append(f"{reported} of {calls} calls reported with keys {keys} ({outcomes})")
        return problems

    def _outcomes(self) -> str:
        rows = self._rows("select outcome, digits, count(*) from calls group by outcome, digits")
        return ", ".join(f"{outcome}/{digits or '-'}: {n}" for outcome, digits, n in rows)

    def log_lines(self, pattern: str) -> list[str]:
        regex = re.compile(pattern)
        return [
            line for line in self.log.read_text(errors="replace").splitlines() if regex.search(line)
        ]


class SippUas(Answerer):
    kind = "sipp"

    def start(self, calls: int = 0, engineer_port: int = 0, caller_port: int = 0) -> None:
        scenario = ["-sf", str(BENCH / "uas_report.xml")] if caller_port else ["-sn", "uas"]
        keys = []
        if caller_port:
            keys = [
                "-key", "engineer_host", "127.0.0.1",
                "-key", "engineer_port", str(engineer_port),
                "-key", "caller_port", str(caller_port),
            ]  # fmt: skip
        command = [
            "sipp", *scenario, "-i", "127.0.0.1", "-p", str(self.port),
            "-mp", str(free_port()), "-m", str(calls), "-nr", "-nostdin",
            "-trace_err", "-error_file", str(self.workdir / "uas-errors.log"),
            "-timeout", "300s", *keys,
        ]  # fmt: skip
        # uas_report.xml streams tone.ul (rtp_stream="tone.ul,..."), relative to its cwd.
        self.process = PROCESSES.start(command, self.log, cwd=WORK)
        time.sleep(0.5)
        if self.process.poll() is not None:
            raise RuntimeError("SIPp UAS did not start:\n" + self.log.read_text()[-2000:])

    def settle(self, calls: int, timeout: float = 30.0) -> None:
        if self.process is not None:
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.process.wait(timeout=timeout)


class PyVoip(Answerer):
    kind = "pyvoip"

    def start(self, caller_port: int = 0, engineer_port: int = 0) -> None:
        command = [
            str(BENCH_PYTHON), str(BENCH / "pyvoip_answer.py"),
            "--listen", f"127.0.0.1:{self.port}", "--caller", f"127.0.0.1:{caller_port}",
        ]  # fmt: skip
        if engineer_port:
            command += ["--engineer", f"127.0.0.1:{engineer_port}"]
        env = dict(os.environ, PYTHONUNBUFFERED="1")
        self.process = PROCESSES.start(command, self.log, env=env)
        if not wait_for_text(self.log, "ready on", 30, self.process):
            raise RuntimeError("pyvoip_answer.py did not start:\n" + self.log.read_text()[-2000:])

    def _calls(self) -> list[str]:
        return re.findall(r"^call \S+ (.*)$", self.log.read_text(errors="replace"), re.MULTILINE)

    def settle(self, calls: int, timeout: float = 30.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and len(self._calls()) < calls:
            time.sleep(0.25)

    def verify(self, calls: int, keys: str) -> list[str]:
        done = self._calls()
        good = sum(1 for line in done if line == f"digits={keys} outcome=reported")
        if good != calls:
            return [f"{good} of {calls} calls reported with keys {keys} ({len(done)} finished)"]
        return []


def make_answerer(kind: str, workdir: Path) -> Answerer:
    return {"faultline": FaultLine, "sipp": SippUas, "pyvoip": PyVoip}[kind](workdir)


# ---- capacity --------------------------------------------------------------------------------


@dataclass
class Usage:
    """One process's (or process tree's) CPU, % of one core, and memory over a step."""

    cpu_mean: float
    cpu_peak: float
    rss_peak_mb: float


@dataclass
class Step:
    kind: str
    calls: int
    clean: bool = False
    problems: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # what each node of a cluster took
    usage: dict[str, Usage] = field(default_factory=dict)  # each part of a cluster
    peak_calls: int = 0
    successful: int = 0
    failed: int = 0
    cpu_mean: float = float("nan")
    cpu_peak: float = float("nan")
    cpu_user_pct: float = float("nan")
    rss_idle_mb: float = float("nan")
    rss_peak_mb: float = float("nan")
    threads_peak: int = 0
    # One process only: % of a core per call by kind of thread (ThreadCpu).
    thread_cpu: dict[str, float] = field(default_factory=dict)
    rtp: RtpStats = field(default_factory=RtpStats)
    seconds: float = 0.0
    load: str = ""

    @property
    def rss_per_call_kb(self) -> float:
        if not self.peak_calls:
            return float("nan")
        return (self.rss_peak_mb - self.rss_idle_mb) * 1024 / self.peak_calls

    @property
    def cpu_per_call(self) -> float:
        return self.cpu_peak / self.peak_calls if self.peak_calls else float("nan")


def loadavg() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


def drive_step(
    step: Step,
    workdir: Path,
    pids: Sequence[int],
    *,
    host: str,
    port: int,
    source: str,
    caller_port: int,
    media_port: int,
    settle: Any,
) -> SippRun:
    """SIPp's callers at host:port while `pids` (summed) are sampled and the RTP they send is
    captured; fills in the step's SIPp, CPU, memory and RTP figures and their problems.

    `settle(calls)` waits for the answerers to finish with their calls after
    SIPp has, still sampled.
    """
    calls = step.calls
    hold_ms = int(1000 * (calls / CAPACITY_RATE + 2))
    capture = workdir / "rtp.pcap"
    threads = ThreadCpu(pids[0]) if len(pids) == 1 else contextlib.nullcontext()
    with (
        Sampler(*pids) as sampler,
        threads,
        Capture(capture, f"udp dst port {media_port}", 96),
    ):
        idle = sampler.samples[-1] if sampler.samples else read_procs(pids)
        run = run_sipp_caller(
            workdir,
            BENCH / "caller_report.xml",
            port,
            calls=calls,
            rate=CAPACITY_RATE,
            limit=calls,
            hold_ms=hold_ms,
            priority="2",
            caller_port=caller_port,
            media_port=media_port,
            timeout=hold_ms / 1000 + 150,
            source=source,
            host=host,
        )
        settle(min(calls, run.successful))
        busy = sampler.between(run.started, run.ended)
    step.successful, step.failed, step.peak_calls = run.successful, run.failed, run.peak_calls
    step.cpu_mean = cpu_percent(busy)
    step.cpu_peak = peak_cpu_percent(busy)
    step.cpu_user_pct = user_share(busy)
    if idle is not None:
        step.rss_idle_mb = idle.rss_kb / 1024
    step.rss_peak_mb = max((s.rss_kb for s in busy), default=0) / 1024
    step.threads_peak = max((s.threads for s in busy), default=0)
    if isinstance(threads, ThreadCpu):
        step.thread_cpu = threads.per_call(run.peak_calls)
    step.rtp = rtp_stats(capture, media_port)
    if run.returncode != 0 or run.successful != calls or run.failed:
        step.problems.append(
            f"SIPp: exit {run.returncode}, {run.successful} successful, {run.failed} failed"
            + (f" ({run.why})" if run.why else "")
        )
        if run.unexpected:
            tally = ", ".join(f"{what}: {n}" for what, n in run.unexpected.items())
            step.problems.append(f"failed calls: {tally}")
    if step.rtp.heard < calls:
        step.problems.append(
            f"{step.rtp.heard} of {calls} calls got >= {MIN_STREAM_PACKETS} RTP packets"
        )
    return run


def log_step(step: Step) -> None:
    verdict = "clean" if step.clean else "NOT clean: " + "; ".join(step.problems)
    log(
        f"capacity {step.kind} {step.calls}: {verdict} (peak {step.peak_calls} calls, "
        f"CPU {step.cpu_mean:.0f}%/{step.cpu_peak:.0f}%, RSS {step.rss_peak_mb:.0f} MB, "
        f"RTP gap {step.rtp.mean_ms:.2f}/{step.rtp.p99_ms:.2f} ms, {step.seconds:.0f} s)"
        + (f" {'; '.join(step.notes)}" if step.notes else "")
    )


def capacity_step(kind: str, calls: int, profile: Path | None = None) -> Step:
    began = time.monotonic()
    step = Step(kind, calls, load=loadavg())
    workdir = WORK / "capacity" / f"{kind}-{calls}"
    shutil.rmtree(workdir, ignore_errors=True)
    answerer = make_answerer(kind, workdir)
    caller_port, media_port = free_port(), free_port()
    sink = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)  # the SIPp UAS's "engineer"
    sink.bind(("127.0.0.1", 0))
    try:
        if isinstance(answerer, SippUas):
            answerer.start(
                calls=calls, engineer_port=sink.getsockname()[1], caller_port=caller_port
            )
        elif isinstance(answerer, PyVoip):
            answerer.start(caller_port=caller_port)
        else:
            answerer.start()
        time.sleep(1.0)
        spies = []
        if profile is not None:
            # All threads (where time goes) and only the GIL holder (what serialises
            # Python), neither pausing the process; --threads walks every thread at
            # each sample, so it samples less often to keep up.
            seconds = str(int(calls / CAPACITY_RATE + 2 + 25))
            for name, flag, rate in (("threads", "--threads", "20"), ("gil", "--gil", "50")):
                command = [str(PY_SPY), "record", "--pid", str(answerer.pid), "--nonblocking"]
                command += [flag, "--rate", rate, "--duration", seconds, "--format", "raw"]
                command += ["--output", str(profile / f"{name}.txt")]
                spies.append(PROCESSES.start(command, profile / f"{name}.log"))

        def settle(done: int) -> None:
            for spy in spies:
                with contextlib.suppress(subprocess.TimeoutExpired):
                    spy.wait(timeout=30)
            answerer.settle(done)

        drive_step(
            step,
            workdir,
            [answerer.pid],
            host="127.0.0.1",
            port=answerer.port,
            source="127.0.0.1",
            caller_port=caller_port,
            media_port=media_port,
            settle=settle,
        )
        step.problems += answerer.verify(calls, "21")
        step.clean = not step.problems
    except Exception as exc:  # a step that cannot run is a step that is not clean
        step.problems.append(f"{type(exc).__name__}: {exc}")
    finally:
        answerer.stop()
        sink.close()
    step.seconds = time.monotonic() - began
    log_step(step)
    return step


def climb(steps: Sequence[int], run_step: Any, halfway: bool = True) -> list[Step]:
    """Climb the steps until one is not clean; then (`halfway`) try once halfway back to the
    last clean one."""
    done: list[Step] = []
    for calls in steps:
        step = run_step(calls)
        done.append(step)
        if not step.clean:
            below = done[-2].calls if len(done) > 1 else 0
            middle = (below + calls) // 20 * 10
            if halfway and below < middle < calls:
                done.insert(-1, run_step(middle))
            break
    return done


def capacity(kind: str, steps: Sequence[int]) -> list[Step]:
    return climb(steps, lambda calls: capacity_step(kind, calls))


# ---- two nodes behind Kamailio ---------------------------------------------------------------

sys.path.insert(0, str(REPO))  # the tests' helpers: tests/kamailio.py, tests/pg.py
from tests.kamailio import PROXY, TRUNK, kamailio_command  # noqa: E402


class Kamailio:
    """deploy/kamailio/kamailio.cfg as shipped, in the foreground, its defines pointed at
    loopback and at the nodes given; its own timing defaults (probes, node timeout) kept."""

    def __init__(self, workdir: Path, nodes: Sequence[str]) -> None:
        self.workdir = workdir
        self.nodes = list(nodes)  # SIP URIs
        self.port = free_port(PROXY)
        self.log = workdir / "kamailio.log"
        # Unix socket paths are limited to 107 bytes: a short directory of its own.
        self.rundir = Path(tempfile.mkdtemp(prefix="bench-kam-"))
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def pid(self) -> int:
        assert self.process is not None
        return self.process.pid

    def start(self) -> None:
        command = kamailio_command(
            self.workdir, self.rundir, port=self.port, nodes=self.nodes, trunk_tag="bench-trunk"
        )
        self.process = PROCESSES.start(command, self.log)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and self.process.poll() is None:
            if self.rpc("core.uptime").returncode == 0:
                return
            time.sleep(0.2)
        raise RuntimeError("kamailio did not start:\n" + self.log.read_text()[-3000:])

    def rpc(self, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            ["kamcmd", "-s", f"unix:{self.rundir}/ctl", *args],
            capture_output=True,
            text=True,
            timeout=10,
        )

    def wait_for_nodes(self, timeout: float = 30.0) -> None:
        """Until the dispatcher has every node active (its first OPTIONS probe answered)."""
        deadline = time.monotonic() + timeout
        states: dict[str, str] = {}
        while time.monotonic() < deadline:
            text = self.rpc("dispatcher.list").stdout
            states = dict(re.findall(r"URI:\s*(\S+)\s+FLAGS:\s*(\S+)", text))
            if all(states.get(uri, "") == "AP" for uri in self.nodes):
                return
            time.sleep(0.5)
        raise RuntimeError(f"the dispatcher does not have every node active: {states}")

    def log_lines(self, pattern: str) -> list[str]:
        regex = re.compile(pattern)
        text = self.log.read_text(errors="replace") if self.log.exists() else ""
        return [line for line in text.splitlines() if regex.search(line)]

    def stop(self) -> None:
        if self.process is not None:
            PROCESSES.stop(self.process)
        shutil.rmtree(self.rundir, ignore_errors=True)


def start_postgres() -> Any:
    """The tests' throwaway PostgreSQL server (tests/pg.py), started; the caller stops it.
    Raises when tests/pg.py cannot be imported or finds no server binaries."""
    from tests.pg import PostgresCluster

    return PostgresCluster.start()


def postmaster_pid(server: Any) -> int:
    return int((server.data / "postmaster.pid").read_text().split()[0])


def usage(samples: list[Sample]) -> Usage:
    return Usage(
        cpu_percent(samples),
        peak_cpu_percent(samples),
        max((s.rss_kb for s in samples), default=0) / 1024,
    )


def cluster_step(calls: int, server: Any) -> Step:
    """One capacity step through Kamailio to CLUSTER_NODES nodes sharing one database on
    `server`, measured as a one-node step is (CPU and memory summed over the nodes), with
    each node's, Kamailio's and PostgreSQL's own figures and the calls each node took."""
    began = time.monotonic()
    step = Step(CLUSTER_KIND, calls, load=loadavg())
    workdir = WORK / "cluster" / f"x{len(CLUSTER_NODES)}-{calls}"
    shutil.rmtree(workdir, ignore_errors=True)
    try:
        database = server.create_database()
    except Exception as exc:
        step.problems.append(f"no database: {type(exc).__name__}: {exc}")
        log_step(step)
        return step
    nodes = {
        name: FaultLine(workdir / f"node-{name}", database=server.url(database))
        for name in CLUSTER_NODES
    }
    proxy = Kamailio(workdir / "kamailio", [f"sip:127.0.0.1:{n.port}" for n in nodes.values()])
    try:
        for line in nodes.values():
            # deploy/README.md's node settings: identity believed from Kamailio alone.
            line.settings["trunk"] = {
                "trusted_addresses": PROXY,
                "require_trusted_source": "yes",
            }
            line.write_config()
        next(iter(nodes.values())).add_handsets()  # one database: set up once
        for line in nodes.values():
            line.launch()
        for line in nodes.values():
            line.wait_ready()
        proxy.start()
        proxy.wait_for_nodes()
        time.sleep(1.0)
        pids = {name: line.pid for name, line in nodes.items()}
        parts = {f"node {name}": Sampler(pid) for name, pid in pids.items()}
        parts["Kamailio"] = Sampler(proxy.pid, tree=True)
        parts["PostgreSQL"] = Sampler(postmaster_pid(server), tree=True)
        first = next(iter(nodes.values()))
        with contextlib.ExitStack() as stack:
            for sampler in parts.values():
                stack.enter_context(sampler)
            run = drive_step(
                step,
                workdir,
                list(pids.values()),
                host=PROXY,
                port=proxy.port,
                source=TRUNK,
                caller_port=free_port(TRUNK),
                media_port=free_port(TRUNK),
                settle=first.settle,
            )
        step.usage = {
            name: usage(sampler.between(run.started, run.ended)) for name, sampler in parts.items()
        }
        step.problems += first.verify(calls, "21")
        step.clean = not step.problems
        for name, line in nodes.items():
            took = len(line.log_lines(r"committed from call"))
            refused = len(line.log_lines(r"busy: .* refused"))
            step.notes.append(f"node {name}: {took} reported, {refused} refused busy")
        for pattern, what in (
            (r"did not answer: marked down", "node timeouts (marked down)"),
            (r"fault-line node down", "nodes taken out by probes"),
            (r"no fault-line node", "calls no node took"),
        ):
            if found := proxy.log_lines(pattern):
                step.notes.append(f"Kamailio: {len(found)} {what}")
    except Exception as exc:
        step.problems.append(f"{type(exc).__name__}: {exc}")
    finally:
        proxy.stop()
        for line in nodes.values():
            line.stop()
        with contextlib.suppress(Exception):
            server.drop_database(database)
    step.seconds = time.monotonic() - began
    log_step(step)
    return step


def cluster(steps: Sequence[int]) -> list[Step]:
    """The climb of `capacity`, through Kamailio to two nodes on one PostgreSQL server.

    Without the halfway step: a two-node step takes two to four minutes
    (a failing one the longest), and bench/run is kept within ~20 minutes.
    """
    try:
        server = start_postgres()
    except Exception as exc:
        return [Step(CLUSTER_KIND, steps[0], problems=[f"no PostgreSQL: {exc}"])]
    try:
        return climb(steps, lambda calls: cluster_step(calls, server), halfway=False)
    finally:
        server.stop()


# ---- answer and page latency -----------------------------------------------------------------


@dataclass
class Latency:
    kind: str
    values: list[float] = field(default_factory=list)
    expected: int = 0
    note: str = ""

    @property
    def p50(self) -> float:
        return percentile(self.values, 0.5)

    @property
    def p99(self) -> float:
        return percentile(self.values, 0.99)


def answer_latency(kind: str) -> Latency:
    workdir = WORK / "answer" / kind
    shutil.rmtree(workdir, ignore_errors=True)
    answerer = make_answerer(kind, workdir)
    caller_port, media_port = free_port(), free_port()
    result = Latency(kind, expected=ANSWER_CALLS)
    try:
        if isinstance(answerer, SippUas):
            answerer.start(calls=ANSWER_CALLS)  # the stock UAS: sipp -sn uas
        elif isinstance(answerer, PyVoip):
            answerer.start(caller_port=caller_port)
        else:
            answerer.start()
        time.sleep(1.0)
        capture = workdir / "sip.pcap"
        with Capture(capture, f"udp port {answerer.port}"):
            run = run_sipp_caller(
                workdir,
                BENCH / "caller_answer.xml",
                answerer.port,
                calls=ANSWER_CALLS,
                rate=ANSWER_RATE,
                limit=ANSWER_CALLS,
                hold_ms=ANSWER_HOLD_MS,
                priority="",
                caller_port=caller_port,
                media_port=media_port,
                timeout=ANSWER_CALLS / ANSWER_RATE + 35,
            )
        result.values = answer_latencies(capture, answerer.port)
        if run.failed or run.successful != ANSWER_CALLS:
            result.note = f"{run.successful} successful, {run.failed} failed"
    except Exception as exc:
        result.note = f"{type(exc).__name__}: {exc}"
    finally:
        answerer.stop()
    log(
        f"answer latency {kind}: p50 {result.p50:.1f} ms, p99 {result.p99:.1f} ms "
        f"over {len(result.values)} calls {result.note}"
    )
    return result


def page_latency(kind: str) -> Latency:
    workdir = WORK / "page" / kind
    shutil.rmtree(workdir, ignore_errors=True)
    answerer = make_answerer(kind, workdir)
    caller_port, media_port = free_port(), free_port()
    engineer_port = free_port()
    result = Latency(kind, expected=PAGE_CALLS)
    engineer: subprocess.Popen[bytes] | None = None
    sink: socket.socket | None = None
    try:
        if isinstance(answerer, SippUas):
            # SIPp's "page" is one INVITE to a socket that never answers.
            sink = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            sink.bind(("127.0.0.1", engineer_port))
        else:
            engineer = PROCESSES.start(
                [
                    "sipp",
                    "-sf",
                    str(ENGINEER_SCENARIO),
                    "-i",
                    "127.0.0.1",
                    "-p",
                    str(engineer_port),
                    "-mp",
                    str(free_port()),
                    "-m",
                    str(PAGE_CALLS),
                    "-nostdin",
                    "-timeout",
                    "180s",
                    "-trace_err",
                    "-error_file",
                    str(workdir / "engineer-errors.log"),
                ],  # fmt: skip
                workdir / "engineer.log",
                cwd=workdir,
            )
        if isinstance(answerer, FaultLine):
            answerer.start(
                paging={
                    "levels": "oncall:30:1:0:0",
                    "repeats": "1",
                    "priorities": "critical",
                    "message_plays": "1",
                    "key_timeout": "3",
                },
                engineer=f"sip:engineer@127.0.0.1:{engineer_port}",
            )
        elif isinstance(answerer, SippUas):
            answerer.start(calls=PAGE_CALLS, engineer_port=engineer_port, caller_port=caller_port)
        else:
            answerer.start(caller_port=caller_port, engineer_port=engineer_port)
        time.sleep(1.0)
        capture = workdir / "sip.pcap"
        with Capture(capture, f"udp port {answerer.port} or udp port {engineer_port}"):
            run = run_sipp_caller(
                workdir,
                BENCH / "caller_report.xml",
                answerer.port,
                calls=PAGE_CALLS,
                rate=PAGE_RATE,
                limit=PAGE_CALLS,
                hold_ms=0,
                priority="3",
                caller_port=caller_port,
                media_port=media_port,
                timeout=180,
            )
            if engineer is not None:
                with contextlib.suppress(subprocess.TimeoutExpired):
                    engineer.wait(timeout=60)
        result.values, infos, invites = page_latencies(capture, answerer.port, engineer_port)
        notes = []
        if run.failed or run.successful != PAGE_CALLS:
            notes.append(f"callers: {run.successful} successful, {run.failed} failed")
        if infos != PAGE_CALLS or invites != PAGE_CALLS:
            notes.append(f"{infos} confirming INFOs, {invites} engineer INVITEs")
        if isinstance(answerer, FaultLine):
            committed = len(answerer.log_lines(r"fault .* committed from call"))
            if committed != PAGE_CALLS:
                notes.append(f"{committed} faults committed")
        result.note = "; ".join(notes)
    except Exception as exc:
        result.note = f"{type(exc).__name__}: {exc}"
    finally:
        answerer.stop()
        if engineer is not None:
            PROCESSES.stop(engineer)
        if sink is not None:
            sink.close()
    log(
        f"page latency {kind}: p50 {result.p50:.1f} ms, p99 {result.p99:.1f} ms "
        f"over {len(result.values)} pages {result.note}"
    )
    return result


# ---- bridge: an engineer's callback joined to the customer ---------------------------------

BRIDGE_SCENARIO = REPO / "tests" / "e2e" / "scenarios" / "engineer_calls_back.xml"
MARKER_LEAD_S = 14  # silence first: the callback is rung, greeted and joined meanwhile
MARKER_BURSTS = 18  # then this many bursts, one a second
MARKER_HZ = 1000
MARKER_TONE_S = 0.3
ONSET_QUIET_PACKETS = 5  # a burst starts after this many quiet packets
MAX_DELAY_S = 0.5  # an onset heard later than this after one sent is not its echo


@dataclass
class BridgeAudio:
    kind: str  # "bridge" (through the fault line) or "direct" (SIPp to SIPp)
    gaps: RtpStats = field(default_factory=RtpStats)
    delays_ms: list[float] = field(default_factory=list)
    note: str = ""

    def cells(self) -> list[str]:
        delays = self.delays_ms
        return [
            self.kind,
            fmt(self.gaps.p50_ms, 1, " ms"),
            fmt(self.gaps.p99_ms, 1, " ms"),
            fmt(self.gaps.max_ms, 1, " ms"),
            f"{len(delays)}/{MARKER_BURSTS}",
            fmt(statistics.median(delays) if delays else float("nan"), 1, " ms"),
            fmt(max(delays) if delays else float("nan"), 1, " ms"),
            self.note,
        ]


def _ulaw_energy(payload: bytes) -> float:
    """Mean square of a PCMU payload, linear, full scale 1."""
    total = 0.0
    for byte in payload:
        u = ~byte & 0xFF
        magnitude = ((((u & 0x0F) << 3) + 0x84) << ((u >> 4) & 0x07)) - 0x84
        total += (magnitude / 32768.0) ** 2
    return total / max(1, len(payload))


def _onsets(packets: list[tuple[float, bytes]]) -> list[float]:
    """Times of the first loud packet after a quiet run: where each burst begins."""
    onsets, quiet = [], 0
    for at, payload in packets:
        if _ulaw_energy(payload) > 1e-3:
            if quiet >= ONSET_QUIET_PACKETS:
                onsets.append(at)
            quiet = 0
        else:
            quiet += 1
    return onsets


def _stream(
    path: Path, *, source: int | None = None, to: int | None = None
) -> list[tuple[float, bytes]]:
    found = []
    for at, src, dst, payload in udp_packets(path):
        if len(payload) < 12 or payload[0] >> 6 != 2 or payload[1] & 0x7F != 0:
            continue  # PCMU only (not RTCP, not telephone-event)
        if (source is None or src == source) and (to is None or dst == to):
            found.append((at, payload[12 + 4 * (payload[0] & 15) :]))
    return found


def marker_delays(path: Path, sender: int, receiver: int) -> tuple[list[float], float]:
    """Each burst's one-way delay (ms) from `sender`'s media port to `receiver`'s, and when
    the first burst arrived (so that gaps are counted while the audio is joined)."""
    sent = _onsets(_stream(path, source=sender))
    heard = _onsets(_stream(path, to=receiver))
    delays = []
    for at in heard:
        before = [s for s in sent if s <= at]
        if before and at - before[-1] <= MAX_DELAY_S:
            delays.append((at - before[-1]) * 1000)
    return delays, heard[0] if heard else float("nan")


def _joined_gaps(path: Path, receiver: int, since: float) -> RtpStats:
    stamps = [at for at, _payload in _stream(path, to=receiver) if at >= since]
    gaps = [(b - a) * 1000 for a, b in zip(stamps, stamps[1:], strict=False)]
    stats = RtpStats(streams=1, packets=len(stamps), gaps=len(gaps))
    if gaps:
        stats.p50_ms = percentile(gaps, 0.50)
        stats.p99_ms = percentile(gaps, 0.99)
        stats.max_ms = max(gaps)
    return stats


def write_marker(path: Path) -> None:
    """Silence, then MARKER_BURSTS tone bursts a second apart, as raw mu-law for SIPp."""
    subprocess.run(
        ["sox", "-n", "-r", "8000", "-c", "1", "-e", "u-law", "-t", "raw", str(path),
         "synth", str(MARKER_TONE_S), "sine", str(MARKER_HZ), "vol", "0.3",
         "pad", "0", str(1 - MARKER_TONE_S), "repeat", str(MARKER_BURSTS - 1),
         "pad", str(MARKER_LEAD_S), "0"],
        check=True,
    )  # fmt: skip


def _customer(workdir: Path, port: int, media_port: int) -> subprocess.Popen[bytes]:
    return PROCESSES.start(
        ["sipp", "-sf", str(BENCH / "customer_marker.xml"), "-i", "127.0.0.1",
         "-p", str(port), "-mp", str(media_port), "-m", "1", "-nostdin",
         "-timeout", "120s", "-trace_err", "-error_file", str(workdir / "customer-errors.log")],
        workdir / "customer.log",
        cwd=workdir,
    )  # fmt: skip


def bridge_audio() -> list[BridgeAudio]:
    """The callback's bridge beside a direct SIPp-to-SIPp call, both timed from one capture.

    The customer (SIPp) streams silence then tone bursts; dumpcap sees each
    burst leave the customer's media port and arrive at the engineer's (or,
    direct, at the caller's). The delay is from onset to onset; the gaps are
    those between packets arriving once the calls are joined.
    """
    results = []
    for kind in ("bridge", "direct"):
        workdir = WORK / "bridge" / kind
        shutil.rmtree(workdir, ignore_errors=True)
        workdir.mkdir(parents=True)
        write_marker(workdir / "marker.ul")
        shutil.copy(workdir / "marker.ul", workdir / "engineer_talk.ul")  # the engineer's words
        result = BridgeAudio(kind)
        customer_port, customer_media = free_port(), free_port()
        listener_media = free_port()
        processes: list[subprocess.Popen[bytes]] = []
        line: FaultLine | None = None
        try:
            capture = workdir / "rtp.pcap"
            bpf = f"udp port {customer_media} or udp port {listener_media}"
            with Capture(capture, bpf):
                customer = _customer(workdir, customer_port, customer_media)
                processes.append(customer)
                if kind == "bridge":
                    engineer_port = free_port()
                    processes.append(PROCESSES.start(
                        ["sipp", "-sf", str(BRIDGE_SCENARIO), "-i", "127.0.0.1",
                         "-p", str(engineer_port), "-mp", str(listener_media), "-m", "1",
                         "-nostdin", "-timeout", "120s"],
                        workdir / "engineer.log", cwd=workdir,
                    ))  # fmt: skip
                    line = FaultLine(workdir)
                    line.start(
                        paging={"levels": "oncall:30:1:0:0", "repeats": "1",
                                "priorities": "critical", "callback": "yes"},
                        engineer=f"sip:engineer@127.0.0.1:{engineer_port}",
                    )  # fmt: skip
                    line.ivr("handsets", "set", handset(0), "--contact",
                             f"sip:customer@127.0.0.1:{customer_port}")  # fmt: skip
                    run_sipp_caller(
                        workdir, BENCH / "caller_report.xml", line.port, calls=1, rate=1,
                        limit=1, hold_ms=0, priority="3", caller_port=free_port(),
                        media_port=free_port(), timeout=60,
                    )  # fmt: skip
                else:
                    processes.append(PROCESSES.start(
                        ["sipp", "-sf", str(BENCH / "direct_caller.xml"), "-i", "127.0.0.1",
                         "-mp", str(listener_media), "-m", "1", "-nostdin", "-timeout", "120s",
                         f"127.0.0.1:{customer_port}"],
                        workdir / "caller.log", cwd=workdir,
                    ))  # fmt: skip
                with contextlib.suppress(subprocess.TimeoutExpired):
                    customer.wait(timeout=90)
            result.delays_ms, joined = marker_delays(capture, customer_media, listener_media)
            result.gaps = _joined_gaps(capture, listener_media, joined)
            if len(result.delays_ms) < MARKER_BURSTS // 2:
                result.note = f"only {len(result.delays_ms)} bursts heard"
        except Exception as exc:
            result.note = f"{type(exc).__name__}: {exc}"
        finally:
            if line is not None:
                line.stop()
            for process in processes:
                PROCESSES.stop(process)
        log(
            f"bridge audio {kind}: gap p99 {result.gaps.p99_ms:.1f} ms, delay median "
            f"{statistics.median(result.delays_ms) if result.delays_ms else float('nan'):.1f} ms "
            f"over {len(result.delays_ms)} bursts {result.note}"
        )
        results.append(result)
    return results


# ---- admin: the call log over a million calls ------------------------------------------------

OUTCOMES = ("reported", "reported", "reported", "abandoned", "rejected", "no_choice")


def _filler(kind: str) -> Any:
    kind = kind.lower()
    if any(word in kind for word in ("int", "bool")):
        return 0
    if any(word in kind for word in ("date", "time")):
        return "2026-01-01 00:00:00.000000"
    return ""


def seed_sqlite(path: Path, rows: int) -> None:
    """`rows` calls, 30 s apart, ending now; every NOT NULL column without a default filled."""
    now = datetime.now(UTC).replace(tzinfo=None)
    with contextlib.closing(sqlite3.connect(path)) as db:
        db.execute("PRAGMA synchronous=OFF")
        columns = db.execute("PRAGMA table_info(calls)").fetchall()
        known = {
            "sip_call_id", "direction", "from_header", "display_name", "source_address", "cli",
            "verified", "verification", "customer", "started_at", "answered_at", "ended_at",
            "digits", "outcome", "fault_reference",
        }  # fmt: skip
        extra = [
            (name, _filler(kind))
            for _, name, kind, notnull, default, pk in columns
            if notnull and default is None and not pk and name not in known
        ]
        names = sorted(known) + [name for name, _ in extra]

        def generate() -> Iterator[tuple[Any, ...]]:
            for i in range(rows):
                started = now - timedelta(seconds=30 * (rows - i))
                outcome = OUTCOMES[i % len(OUTCOMES)]
                number = f"+44207946{i % 10000:04d}"
                values = {
                    "sip_call_id": f"bench-{i}@127.0.0.1",
                    "direction": "inbound",
                    "from_header": f'"Desk" <sip:{number}@127.0.0.1>;tag={i}',
                    "display_name": "Desk",
                    "source_address": "127.0.0.1",
                    "cli": number,
                    "verified": 1,
                    "verification": "from header",
                    "customer": f"Customer {i % 500} Ltd",
                    "started_at": f"{started:%Y-%m-%d %H:%M:%S.%f}",
                    "answered_at": f"{started + timedelta(seconds=0.01):%Y-%m-%d %H:%M:%S.%f}",
                    "ended_at": f"{started + timedelta(seconds=40):%Y-%m-%d %H:%M:%S.%f}",
                    "digits": "21" if outcome == "reported" else "",
                    "outcome": outcome,
                    "fault_reference": f"{i % 1000000:06d}" if outcome == "reported" else None,
                }
                yield tuple(values[name] for name in sorted(known)) + tuple(v for _, v in extra)

        placeholders = ", ".join("?" for _ in names)
        with db:
            db.executemany(
                f"INSERT INTO calls ({', '.join(names)}) VALUES ({placeholders})", generate()
            )


def seed_postgres(connection: Any, rows: int) -> None:
    columns = connection.execute(
        "SELECT column_name, data_type FROM information_schema.columns WHERE table_name = 'calls'"
        " AND is_nullable = 'NO' AND column_default IS NULL"
    ).fetchall()
    known = {
        "sip_call_id": "'bench-' || g || '@127.0.0.1'",
        "direction": "'inbound'",
        "from_header": "'\"Desk\" <sip:+44207946' || lpad((g % 10000)::text, 4, '0')"
        " || '@127.0.0.1>'",
        "display_name": "'Desk'",
        "source_address": "'127.0.0.1'",
        "cli": "'+44207946' || lpad((g % 10000)::text, 4, '0')",
        "verified": "true",
        "verification": "'from header'",
        "customer": "'Customer ' || (g % 500) || ' Ltd'",
        "started_at": f"now() - ({rows} - g) * interval '30 seconds'",
        "answered_at": f"now() - ({rows} - g) * interval '30 seconds' + interval '10 ms'",
        "ended_at": f"now() - ({rows} - g) * interval '30 seconds' + interval '40 s'",
        "digits": "CASE WHEN g % 6 < 3 THEN '21' ELSE '' END",
        "outcome": "(ARRAY['reported','reported','reported','abandoned','rejected','no_choice'])"
        "[g % 6 + 1]",
        "fault_reference": "CASE WHEN g % 6 < 3 THEN lpad(g::text, 6, '0') END",
    }
    for name, kind in columns:
        if name not in known and name != "id":
            filler = _filler(kind)
            known[name] = "now()" if isinstance(filler, str) and filler[:1] == "2" else repr(filler)
    names = list(known)
    connection.execute(
        f"INSERT INTO calls ({', '.join(names)}) "
        f"SELECT {', '.join(known[name] for name in names)} FROM generate_series(1, {rows}) g"
    )
    connection.execute("ANALYZE calls")


IN_PROCESS = textwrap.dedent(
    """
    import json, sys, time
    from ivr.config import load_config
    from ivr.store.db import Database
    from ivr.store.calls import CallFilter, call_as_dict, list_calls
    from ivr.admin.calls_cli import list_calls_text
    config = load_config(sys.argv[1])
    db = Database(config.database_url)
    filters = {"first page": CallFilter(limit=50),
               "one caller": CallFilter(limit=50, cli="+442079460042"),
               "one outcome": CallFilter(limit=50, outcome="abandoned")}
    out = {}
    for name, f in filters.items():
        times = []
        for _ in range(7):
            t = time.perf_counter()
            with db.engine.connect() as connection:
                rows = [call_as_dict(c) for c in list_calls(connection, f)]
            list_calls_text(rows, config.timezone)
            times.append((time.perf_counter() - t) * 1000)
        out[name] = {"first_ms": times[0], "median_ms": sorted(times)[3], "rows": len(rows)}
    print(json.dumps(out))
    """
)


@dataclass
class AdminResult:
    database: str
    cli_ms: float = float("nan")  # `ivr calls list --limit 50`, wall, median of 5
    cli_empty_ms: float = float("nan")  # the same on an empty call log (interpreter start-up)
    in_process: dict[str, dict[str, float]] = field(default_factory=dict)
    web_first_ms: float = float("nan")  # GET /calls from `ivr web`, first after sign-in
    web_ms: float = float("nan")  # the same, median of the next ten
    seed_seconds: float = float("nan")
    note: str = ""

    @property
    def page_ms(self) -> float:
        if not math.isnan(self.web_ms):
            return self.web_ms
        first = self.in_process.get("first page")
        return first["median_ms"] if first else self.cli_ms - self.cli_empty_ms


WEB_PASSWORD = "bench-password-not-secret"
_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def time_web(line: FaultLine, result: AdminResult) -> None:
    """`ivr web` on a loopback port: sign in as an admin, then time GET /calls (the first page)."""
    import http.cookiejar
    import urllib.parse
    import urllib.request

    subprocess.run(
        [*IVR, "--config", str(line.config), "admins", "add", "bench", "--password-stdin"],
        input=WEB_PASSWORD + "\n",
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    base = f"http://127.0.0.1:{port}"
    web = PROCESSES.start(
        [*IVR, "--config", str(line.config), "web", "--host", "127.0.0.1", "--port", str(port)],
        line.workdir / "web.log",
    )
    opener = urllib.request.build_opener(
        urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar())
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                opener.open(base + "/healthz", timeout=5).read()
                break
            except OSError:
                if time.monotonic() > deadline or web.poll() is not None:
                    raise RuntimeError("ivr web did not start") from None
                time.sleep(0.2)
        page = opener.open(base + "/login", timeout=30).read().decode()
        token = _CSRF.search(page)
        form = {"name": "bench", "password": WEB_PASSWORD, "next": "/calls"}
        form["csrf_token"] = token.group(1) if token else ""
        signed_in = opener.open(
            base + "/login", data=urllib.parse.urlencode(form).encode(), timeout=30
        )
        if "/login" in signed_in.geturl():
            raise RuntimeError("could not sign in to ivr web")
        times = []
        for _ in range(11):
            began = time.perf_counter()
            body = opener.open(base + "/calls", timeout=60).read()
            times.append((time.perf_counter() - began) * 1000)
            if b"csrf" not in body and len(body) < 1000:
                raise RuntimeError("GET /calls did not return the call log")
        result.web_first_ms = times[0]
        result.web_ms = statistics.median(times[1:])
    finally:
        PROCESSES.stop(web)


def time_cli(line: FaultLine, runs: int = 5) -> float:
    line.ivr("calls", "list", "--limit", "50")  # warm the page cache first
    times = []
    for _ in range(runs):
        began = time.perf_counter()
        line.ivr("calls", "list", "--limit", "50")
        times.append((time.perf_counter() - began) * 1000)
    return statistics.median(times)


def admin_measure(line: FaultLine, result: AdminResult, seed: Any) -> None:
    line.write_config()
    line.add_handsets()
    result.cli_empty_ms = time_cli(line)
    began = time.monotonic()
    seed()
    result.seed_seconds = time.monotonic() - began
    result.cli_ms = time_cli(line)
    probe = subprocess.run(
        [str(REPO / ".venv" / "bin" / "python"), "-c", IN_PROCESS, str(line.config)],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=REPO,
    )
    if probe.returncode == 0:
        result.in_process = json.loads(probe.stdout.strip().splitlines()[-1])
    else:
        result.note = "in-process query not run: " + probe.stderr.strip().splitlines()[-1]
    try:
        time_web(line, result)
    except Exception as exc:
        result.note += f" web page not timed: {type(exc).__name__}: {exc}"
    log(
        f"admin {result.database}: seeded {ADMIN_ROWS} calls in {result.seed_seconds:.0f} s; "
        f"CLI {result.cli_ms:.0f} ms (empty log {result.cli_empty_ms:.0f} ms); "
        f"in-process {json.dumps(result.in_process)}; GET /calls {result.web_first_ms:.0f} ms "
        f"first, {result.web_ms:.0f} ms median {result.note}"
    )


def admin() -> list[AdminResult]:
    results = []
    workdir = WORK / "admin" / "sqlite"
    shutil.rmtree(workdir, ignore_errors=True)
    line = FaultLine(workdir)
    sqlite_result = AdminResult("SQLite")
    try:
        admin_measure(
            line, sqlite_result, lambda: seed_sqlite(workdir / "faultline.db", ADMIN_ROWS)
        )
    except Exception as exc:
        sqlite_result.note = f"{type(exc).__name__}: {exc}"
    results.append(sqlite_result)

    pg_result = AdminResult("PostgreSQL")
    results.append(pg_result)
    try:
        cluster = start_postgres()
    except Exception as exc:
        pg_result.note = f"not run: {type(exc).__name__}: {exc}"
        return results
    try:
        name = cluster.create_database()
        workdir = WORK / "admin" / "postgresql"
        shutil.rmtree(workdir, ignore_errors=True)
        line = FaultLine(workdir, database=cluster.url(name))
        pg_result.database = f"PostgreSQL {cluster.connect().info.server_version // 10000}"

        def seed() -> None:
            with cluster.connect(name) as connection:
                seed_postgres(connection, ADMIN_ROWS)

        admin_measure(line, pg_result, seed)
    except Exception as exc:
        pg_result.note = f"{type(exc).__name__}: {exc}"
    finally:
        cluster.stop()
    return results


# ---- profile ---------------------------------------------------------------------------------


# Frames every sample passes through (thread start, the event loop, the CLI): not findings.
BOILERPLATE = re.compile(
    r"\((threading|asyncio/\w+|click/\w+|concurrent/futures/thread|selectors|ivr/admin/cli)\.py\)"
    r"|^<module>|^(run|serve|main) \(|Runner\.run|_WorkItem\.run"
)


def summarise_profile(path: Path, top: int = 12) -> dict[str, list[tuple[str, float]]]:
    """Own and total shares of py-spy's raw (collapsed) samples, and the share of each thread."""
    own: dict[str, int] = defaultdict(int)
    total: dict[str, int] = defaultdict(int)
    threads: dict[str, int] = defaultdict(int)
    samples = 0
    if not path.exists():
        return {}
    for line in path.read_text(errors="replace").splitlines():
        stack, _, count_text = line.rpartition(" ")
        if not stack or not count_text.isdigit():
            continue
        count = int(count_text)
        frames = stack.split(";")
        samples += count
        if frames and frames[0].startswith(("thread ", "process ")):
            threads[re.sub(r"\s*\(0x[0-9a-f]+\)", "", frames[0])] += count
            frames = frames[1:]
        frames = [re.sub(r"^(.*?) \((.*?):\d+\)$", r"\1 (\2)", frame) for frame in frames]
        frames = [re.sub(r"/\S*/(site-packages|ivr|lib/python3\.\d+)/", r"\1/", f) for f in frames]
        if frames:
            own[frames[-1]] += count
        for frame in set(frames):
            if not BOILERPLATE.search(frame):
                total[frame] += count
    if not samples:
        return {}

    def share(table: dict[str, int]) -> list[tuple[str, float]]:
        ranked = sorted(table.items(), key=lambda item: -item[1])[:top]
        return [(name, 100 * count / samples) for name, count in ranked]

    return {"own": share(own), "total": share(total), "threads": share(threads)}


# ---- report ----------------------------------------------------------------------------------


def version(command: Sequence[str], pattern: str = r"(\d+(?:\.\d+)+\S*)") -> str:
    try:
        out = subprocess.run(list(command), capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.TimeoutExpired):
        return "not found"
    match = re.search(pattern, out.stdout + out.stderr)
    return match.group(1) if match else "unknown"


def machine() -> dict[str, str]:
    meminfo = Path("/proc/meminfo").read_text()
    total_kb = int(re.search(r"MemTotal:\s+(\d+)", meminfo).group(1))  # type: ignore[union-attr]
    cpu = re.search(r"model name\s*:\s*(.*)", Path("/proc/cpuinfo").read_text())
    main_python = str(REPO / ".venv" / "bin" / "python")
    return {
        "cores": str(os.cpu_count()),
        "cpu": cpu.group(1).strip() if cpu else platform.processor(),
        "memory": f"{total_kb / 1024 / 1024:.1f} GiB",
        "kernel": platform.release(),
        "python": version([main_python, "--version"]),
        "baresip-python": version(
            [
                main_python,
                "-c",
                "import importlib.metadata as m; print(m.version('baresip-python'))",
            ]
        ),
        "pyVoIP": version([str(BENCH_PYTHON), "-c", "import pyVoIP; print(pyVoIP.__version__)"]),
        "SIPp": version(["sipp", "-v"], r"SIPp v(\S+?)[-.,]?(?:SCTP|\s|$)"),
        "tshark/dumpcap": version(["dumpcap", "--version"]),
        "SQLite": sqlite3.sqlite_version,
        "py-spy": version([str(PY_SPY), "--version"]),
    }


def fmt(value: float, digits: int = 1, unit: str = "") -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "n/a"
    return f"{value:.{digits}f}{unit}"


@dataclass
class Report:
    started: datetime
    machine: dict[str, str]
    capacity: dict[str, list[Step]] = field(default_factory=dict)
    cluster: list[Step] = field(default_factory=list)  # two nodes behind Kamailio
    answer: dict[str, Latency] = field(default_factory=dict)
    page: dict[str, Latency] = field(default_factory=dict)
    admin: list[AdminResult] = field(default_factory=list)
    bridge: list[BridgeAudio] = field(default_factory=list)
    profile: dict[str, list[tuple[str, float]]] = field(default_factory=dict)
    profile_note: str = ""
    loads: list[str] = field(default_factory=list)
    seconds: float = 0.0

    def steps(self, kind: str) -> list[Step]:
        return self.cluster if kind == CLUSTER_KIND else self.capacity.get(kind, [])

    def best(self, kind: str) -> Step | None:
        clean = [step for step in self.steps(kind) if step.clean]
        return max(clean, key=lambda step: step.calls) if clean else None

    def first_failure(self, kind: str) -> Step | None:
        failed = [step for step in self.steps(kind) if not step.clean]
        return failed[0] if failed else None

    def capacity_cell(self, kind: str) -> str:
        if not self.steps(kind):
            return "not run"
        best, failed = self.best(kind), self.first_failure(kind)
        text = str(best.calls) if best else "0"
        if failed is not None:
            text += f" ({failed.calls} not clean)"
        elif best is not None and best.calls == max(step.calls for step in self.steps(kind)):
            text += " (bound)"
        return text

    def table(self) -> list[list[str]]:
        rows = [["measure", *(KIND_TITLES[k] for k in KINDS), "target"]]

        def row(name: str, cell: Any, target: str) -> None:
            rows.append([name, *(cell(kind) for kind in KINDS), target])

        def at_best(kind: str, getter: Any) -> str:
            step = self.best(kind)
            return getter(step) if step is not None else "n/a"

        row("simultaneous callers, 0 failures", self.capacity_cell, TARGETS["capacity"])
        rows.append(
            [
                "the same, two nodes behind Kamailio, one PostgreSQL",
                self.capacity_cell(CLUSTER_KIND),
                *("n/a" for _ in KINDS[1:]),
                TARGETS["cluster"],
            ]
        )
        row(
            "CPU, % of one core: mean / peak (at that load)",
            lambda k: at_best(k, lambda s: f"{fmt(s.cpu_mean, 0)} / {fmt(s.cpu_peak, 0)}"),
            "",
        )
        row(
            "CPU per concurrent call, % of a core",
            lambda k: at_best(k, lambda s: fmt(s.cpu_per_call, 2)),
            "",
        )
        row(
            "memory per concurrent call (RSS)",
            lambda k: at_best(k, lambda s: fmt(s.rss_per_call_kb, 0, " KiB")),
            "",
        )

        def latency(table: dict[str, Latency], kind: str) -> str:
            if kind not in table:
                return "not run"
            item = table[kind]
            if not item.values:
                return "n/a" + (f" ({item.note})" if item.note else "")
            text = f"{fmt(item.p50)} / {fmt(item.p99)} ms"
            if len(item.values) != item.expected or item.note:
                text += (
                    f" ({len(item.values)}/{item.expected}{'; ' + item.note if item.note else ''})"
                )
            return text

        row(
            f"INVITE -> 200 OK, p50 / p99 ({ANSWER_RATE} calls/s)",
            lambda k: latency(self.answer, k),
            "p99 " + TARGETS["answer_p99"],
        )
        row(
            f"confirm INFO -> engineer INVITE, p50 / p99 ({PAGE_CALLS} critical)",
            lambda k: latency(self.page, k),
            "p99 " + TARGETS["page_p99"],
        )
        row(
            "RTP gap sent, mean / p99 (highest clean load)",
            lambda k: at_best(k, lambda s: f"{fmt(s.rtp.mean_ms, 2)} / {fmt(s.rtp.p99_ms, 1)} ms"),
            f"{TARGETS['rtp_mean']} / {TARGETS['rtp_p99']}",
        )
        row(
            "RTP gaps > 25 ms; longest gap",
            lambda k: at_best(
                k, lambda s: f"{fmt(s.rtp.over_25_pct, 2)} %; {fmt(s.rtp.max_ms, 0)} ms"
            ),
            "",
        )
        for result in self.admin:
            rows.append(
                [
                    f"call log first page, 1M calls, {result.database}",
                    self.admin_cell(result),
                    "n/a",
                    "n/a",
                    TARGETS["admin"],
                ]
            )
        return rows

    @staticmethod
    def admin_cell(result: AdminResult) -> str:
        if not result.in_process and math.isnan(result.cli_ms):
            return "not run" + (f" ({result.note})" if result.note else "")
        parts = []
        if not math.isnan(result.web_ms):
            parts.append(
                f"GET /calls {fmt(result.web_ms, 0)} ms (first {fmt(result.web_first_ms, 0)} ms)"
            )
        first = result.in_process.get("first page")
        if first:
            parts.append(f"query+render {fmt(first['median_ms'], 0)} ms")
        if not math.isnan(result.cli_ms):
            parts.append(
                f"`ivr calls list` {fmt(result.cli_ms, 0)} ms wall "
                f"({fmt(result.cli_empty_ms, 0)} ms on an empty log)"
            )
        return "; ".join(parts)

    def markdown(self) -> str:
        table = self.table()
        widths = [max(len(row[i]) for row in table) for i in range(len(table[0]))]

        def line(row: list[str]) -> str:
            return (
                "| " + " | ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)) + " |"
            )

        out = [line(table[0]), "|" + "|".join("-" * (w + 2) for w in widths) + "|"]
        out += [line(row) for row in table[1:]]
        return "\n".join(out)

    def verdicts(self) -> list[str]:
        notes = []
        best = self.best("faultline")
        capacity = best.calls if best else 0
        if "faultline" in self.capacity:
            notes.append(
                f"capacity {capacity} simultaneous callers: "
                f"{'met' if capacity >= 300 else 'MISSED'}"
            )
        if self.cluster:
            best_two = self.best(CLUSTER_KIND)
            calls = best_two.calls if best_two else 0
            notes.append(
                f"two nodes {calls} simultaneous callers: {'met' if calls >= 480 else 'MISSED'}"
            )
        answer = self.answer.get("faultline")
        if answer and answer.values:
            ok = answer.p99 <= 20
            notes.append(f"answer p99 {answer.p99:.1f} ms: {'met' if ok else 'MISSED'}")
        page = self.page.get("faultline")
        if page and page.values:
            ok = page.p99 <= 100
            notes.append(f"page p99 {page.p99:.1f} ms: {'met' if ok else 'MISSED'}")
        if best is not None:
            ok = abs(best.rtp.mean_ms - 20) < 0.05 and best.rtp.p99_ms <= 25
            notes.append(
                f"RTP gap {best.rtp.mean_ms:.2f} / {best.rtp.p99_ms:.1f} ms: "
                f"{'met' if ok else 'MISSED'}"
            )
        for result in self.admin:
            if not math.isnan(result.page_ms):
                ok = result.page_ms <= 200
                notes.append(
                    f"call log on {result.database} {result.page_ms:.0f} ms: "
                    f"{'met' if ok else 'MISSED'}"
                )
        return notes

    def issue_rows(self) -> list[list[str]]:
        """Issue 19's table: each figure as it was, its target, and this run's measure."""
        at_issue_step = next(
            (
                s
                for s in self.capacity.get("faultline", [])
                if s.calls == ISSUE_CALLERS and s.peak_calls
            ),
            None,
        )
        answer, page = self.answer.get("faultline"), self.page.get("faultline")
        best, two = self.best("faultline"), self.best(CLUSTER_KIND)
        two_failed = self.first_failure(CLUSTER_KIND)
        cli = [
            f"{fmt(r.cli_ms / 1000, 2)} s ({r.database})"
            for r in self.admin
            if not math.isnan(r.cli_ms)
        ]
        measured = [
            f"{fmt(at_issue_step.cpu_per_call, 2)} % (one node; peak CPU / callers up)"
            if at_issue_step
            else "not run",
            f"{fmt(at_issue_step.rss_per_call_kb, 0)} KiB (one node, {ISSUE_CALLERS} callers)"
            if at_issue_step
            else "not run",
            f"{fmt(answer.p99)} ms" if answer and answer.values else "not run",
            f"{fmt(page.p99)} ms ({len(page.values)} pages)" if page and page.values else "not run",
            ", ".join(cli) or "not run",
            (
                f"{two.calls if two else 0} (two nodes behind Kamailio"
                + (f"; {two_failed.calls} not clean" if two_failed else "")
                + ")"
                if self.cluster
                else "two nodes not run"
            )
            + (f"; one node: {best.calls}" if best else ""),
        ]
        rows = [["figure", "before (issue 19)", "target", "this run"]]
        for (figure, before, target), measure in zip(ISSUE_19, measured, strict=True):
            rows.append([figure, before, target, measure])
        return rows

    def issue_markdown(self) -> str:
        rows = self.issue_rows()
        out = ["| " + " | ".join(rows[0]) + " |", "|" + "---|" * len(rows[0])]
        for row in rows[1:]:
            out.append("| " + " | ".join(cell.replace("|", "/") for cell in row) + " |")
        loads = ", ".join(self.loads) or "not sampled"
        return "\n".join(out) + f"\n\nLoad averages (1, 5, 15 min) during the run: {loads}."

    def steps_markdown(self) -> str:
        head = (
            "| answerer | callers | clean | peak up | CPU mean / peak % (user share) "
            "| RSS idle / peak MB "
            "| RSS per call KiB | threads | RTP streams heard | RTP gap mean / p99 / max ms "
            "| load avg | problems |"
        )
        out = [head, "|" + "---|" * 12]
        for kind in (*KINDS, CLUSTER_KIND):
            for s in self.steps(kind):
                out.append(
                    f"| {kind} | {s.calls} | {'yes' if s.clean else 'no'} | {s.peak_calls} "
                    f"| {fmt(s.cpu_mean, 0)} / {fmt(s.cpu_peak, 0)} ({fmt(s.cpu_user_pct, 0)} %) "
                    f"| {fmt(s.rss_idle_mb, 0)} / {fmt(s.rss_peak_mb, 0)} "
                    f"| {fmt(s.rss_per_call_kb, 0)} | {s.threads_peak} "
                    f"| {s.rtp.heard}/{s.calls} "
                    f"| {fmt(s.rtp.mean_ms, 2)} / {fmt(s.rtp.p99_ms, 1)} / {fmt(s.rtp.max_ms, 0)} "
                    f"| {s.load} | {'; '.join(s.problems).replace('|', '/') or '-'} |"
                )
        return "\n".join(out)

    def threads_markdown(self) -> str:
        steps = [s for s in self.steps("faultline") if s.thread_cpu]
        if not steps:
            return ""
        groups = [*ENGINE_THREADS, STACK_AND_PYTHON]
        out = ["| callers | " + " | ".join(groups) + " | all |", "|" + "---|" * (len(groups) + 2)]
        for s in steps:
            cells = [fmt(s.thread_cpu.get(group, 0.0), 3) for group in groups]
            total = fmt(sum(s.thread_cpu.values()), 3)
            out.append(f"| {s.calls} | " + " | ".join(cells) + f" | {total} |")
        return "\n".join(out)

    def cluster_markdown(self) -> str:
        """The whole box at each two-node step: each node, Kamailio, PostgreSQL."""
        parts = [*(f"node {name}" for name in CLUSTER_NODES), "Kamailio", "PostgreSQL"]
        head = "| callers | clean | " + " | ".join(f"{part} CPU mean / peak %" for part in parts)
        out = [
            head + " | nodes' RSS peak MB | load avg | calls each node took |",
            "|" + "---|" * (len(parts) + 5),
        ]
        for s in self.cluster:
            cells = [
                f"{fmt(s.usage[part].cpu_mean, 0)} / {fmt(s.usage[part].cpu_peak, 0)}"
                if part in s.usage
                else "n/a"
                for part in parts
            ]
            rss = " + ".join(
                fmt(s.usage[part].rss_peak_mb, 0) for part in parts[:-2] if part in s.usage
            )
            out.append(
                f"| {s.calls} | {'yes' if s.clean else 'no'} | {' | '.join(cells)} "
                f"| {rss or 'n/a'} | {s.load} | {'; '.join(s.notes) or '-'} |"
            )
        return "\n".join(out)

    def write(self, path: Path) -> None:
        m = self.machine
        lines = [
            "# Benchmarks",
            "",
            f"Written by `bench/run` on {self.started:%Y-%m-%d %H:%M} UTC "
            f"(took {self.seconds / 60:.1f} min). Methods: the docstring of bench/bench.py; "
            "findings and suggested fixes: bench/FINDINGS.md.",
            "",
            f"Machine: {m['cores']} cores ({m['cpu']}), {m['memory']} memory, Linux "
            f"{m['kernel']}. Python {m['python']}, baresip-python {m['baresip-python']}, "
            f"pyVoIP {m['pyVoIP']}, SIPp {m['SIPp']}, dumpcap {m['tshark/dumpcap']}, "
            f"SQLite {m['SQLite']}, py-spy {m['py-spy']}.",
            "",
            "The machine is shared: load averages (1, 5, 15 min) seen during the run: "
            + ", ".join(self.loads)
            + ". Everything (callers, answerer, capture) runs on the same cores.",
            "",
            self.markdown(),
            "",
            "Targets: " + "; ".join(self.verdicts()) + ".",
            "",
            "## Issue 19: target beside measure",
            "",
            self.issue_markdown(),
            "",
            "## Capacity steps",
            "",
            f"SIPp `-l N -m N -r {CAPACITY_RATE}` with bench/caller_report.xml (priority 2, then "
            "confirm 1), each caller holding for N/50 + 2 s before its first key so that all N "
            "calls are up at once ('peak up' is SIPp's own count). CPU is % of one core over "
            "the SIPp run (mean) and the busiest 2 s (peak); RSS per call is "
            "(peak - idle) / peak up.",
            "",
            self.steps_markdown(),
            "",
        ]
        threads = self.threads_markdown()
        if threads:
            lines += [
                "Where the fault line's CPU goes, % of a core per call (mean over the step, "
                "from /proc/PID/task: the engine's threads by name, and everything else in "
                "the process):",
                "",
                threads,
                "",
            ]
        if self.cluster:
            lines += [
                "## Two nodes behind Kamailio",
                "",
                f"The same SIPp callers, from the carrier trunk's address ({TRUNK}), sent to "
                f"Kamailio ({PROXY}) running deploy/kamailio/kamailio.cfg as shipped (round-robin "
                f"over the nodes; a node's 486 moves the call to the next), in front of "
                f"{len(CLUSTER_NODES)} `ivr serve` nodes (`max_calls` 240 each) on one "
                "PostgreSQL server (tests/pg.py), all on this machine. The step's row above sums "
                "the nodes' CPU and memory; the faults and calls counted are those in the shared "
                "database. Kamailio and PostgreSQL are whole process trees; the last column "
                "counts, from each node's log, the faults it committed and the callers it "
                "turned away busy.",
                "",
                self.cluster_markdown(),
                "",
            ]
        if self.bridge:
            lines += [
                "## Bridge audio (an engineer's callback joined to the customer)",
                "",
                "The customer (SIPp) streams silence, then tone bursts a second apart; dumpcap "
                "times each burst's first packet leaving the customer and arriving at the "
                "engineer (through the fault line's 20 ms relay) or, beside it, at a SIPp "
                "caller calling the customer directly. Gaps are between packets arriving "
                "once the first burst is heard.",
                "",
                "| call | gap p50 | gap p99 | gap max | bursts heard | delay median "
                "| delay max | note |",
                "|---|---|---|---|---|---|---|---|",
                *("| " + " | ".join(row.cells()) + " |" for row in self.bridge),
                "",
            ]
        if self.profile or self.profile_note:
            lines += ["## Profile of the fault line (py-spy)", "", self.profile_note, ""]
            for title, key in (
                ("Threads (share of all samples)", "threads"),
                ("Holding the GIL, own time (share of GIL samples)", "gil_own"),
                ("Holding the GIL, including callees (share of GIL samples)", "gil_total"),
            ):
                if self.profile.get(key):
                    lines += [f"{title}:", ""]
                    lines += [f"- {share:5.1f} % `{name}`" for name, share in self.profile[key]]
                    lines += [""]
        path.write_text("\n".join(lines), encoding="utf-8")


# ---- main ------------------------------------------------------------------------------------


def wait_for_quiet(limit: float = 30.0) -> None:
    """Other work on this machine skews every figure: wait a little for it to calm down."""
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline and float(loadavg().split()[0]) > 1.0:
        time.sleep(5)
    log(f"load average {loadavg()}")


def prepare() -> None:
    WORK.mkdir(exist_ok=True)
    PROMPT_CACHE.mkdir(exist_ok=True)
    # Render the production prompts into the bench's cache before any timing starts.
    # pyttsx3's espeak driver now and then writes no file for a long prompt: try again.
    line = FaultLine(WORK / "prompts")
    line.write_config()
    for attempt in range(3):
        try:
            line.ivr("prompts", "build", timeout=600)
            break
        except RuntimeError as exc:
            if attempt == 2:
                raise
            log(f"prompt build failed, trying again: {str(exc).strip().splitlines()[-1]}")
    tone = WORK / "tone.ul"
    if not tone.exists():
        # 40 s of a quiet 440 Hz tone, mu-law: what SIPp's UAS streams (rtp_stream).
        subprocess.run(
            ["sox", "-n", "-r", "8000", "-c", "1", "-e", "u-law", "-t", "raw", str(tone),
             "synth", "40", "sine", "440", "vol", "0.3"],
            check=True,
        )  # fmt: skip


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--only",
        default="capacity,cluster,answer,page,bridge,admin,profile",
        help="comma-separated parts to run (default: all)",
    )
    parser.add_argument("--kinds", default=",".join(KINDS), help="answerers to run")
    parser.add_argument("--steps", default=",".join(map(str, STEPS)), help="capacity steps")
    parser.add_argument(
        "--cluster-steps",
        default=",".join(map(str, CLUSTER_STEPS)),
        help="capacity steps of the two nodes behind Kamailio",
    )
    parser.add_argument("--no-wait", action="store_true", help="do not wait for a quiet machine")
    parser.add_argument("--results", default=str(RESULTS), help="where to write the report")
    args = parser.parse_args(argv)
    parts = set(args.only.split(","))
    kinds = [kind for kind in KINDS if kind in args.kinds.split(",")]
    steps = [int(step) for step in args.steps.split(",")]

    began = time.monotonic()
    prepare()
    if not args.no_wait:
        wait_for_quiet()
    report = Report(datetime.now(UTC), machine())
    report.loads.append(loadavg())
    try:
        if "capacity" in parts:
            for kind in kinds:
                report.capacity[kind] = capacity(kind, steps)
                report.loads.append(loadavg())
        if "cluster" in parts and "faultline" in kinds:
            report.cluster = cluster([int(step) for step in args.cluster_steps.split(",")])
            report.loads.append(loadavg())
        if "answer" in parts:
            for kind in kinds:
                report.answer[kind] = answer_latency(kind)
            report.loads.append(loadavg())
        if "page" in parts:
            for kind in kinds:
                report.page[kind] = page_latency(kind)
            report.loads.append(loadavg())
        if "bridge" in parts:
            report.bridge = bridge_audio()
            report.loads.append(loadavg())
        if "admin" in parts:
            report.admin = admin()
            report.loads.append(loadavg())
        if "profile" in parts and "faultline" in kinds:
            profile(report)
    finally:
        PROCESSES.stop_all()
    report.seconds = time.monotonic() - began
    results = Path(args.results)
    report.write(results)
    print(report.markdown())
    print("\nTargets: " + "; ".join(report.verdicts()))
    print(f"\n(written to {results}; {report.seconds / 60:.1f} min)")
    return 0


def profile(report: Report) -> None:
    """py-spy on the fault line during a repeat of the ISSUE_CALLERS step: issue 19 asks where
    the time goes at the load its per-call CPU and memory figures come from, which one node
    holds cleanly (the first failing step mostly shows callers being turned away)."""
    calls = ISSUE_CALLERS
    directory = WORK / "profile" / f"faultline-{calls}"
    shutil.rmtree(directory, ignore_errors=True)
    directory.mkdir(parents=True)
    step = capacity_step("faultline", calls, profile=directory)
    threads = summarise_profile(directory / "threads.txt")
    gil = summarise_profile(directory / "gil.txt", top=15)
    report.profile = {
        "threads": threads.get("threads", []),
        "gil_own": gil.get("own", []),
        "gil_total": gil.get("total", []),
    }
    held = ""
    spy_log = (directory / "gil.log").read_text(errors="replace")
    seconds = re.search(r"for (\d+) seconds", spy_log)
    samples = re.search(r"Samples: (\d+)", spy_log)
    if seconds and samples:
        share = 100 * int(samples.group(1)) / (50 * int(seconds.group(1)))
        held = f" Some thread held the GIL in about {share:.0f} % of the GIL recorder's samples."
    report.profile_note = (
        f"`py-spy record --nonblocking` on `ivr serve` during a repeat of the "
        f"{calls}-caller step ({'clean' if step.clean else 'not clean'} this time; its figures "
        f"are not in the table): once with `--threads` (every thread's samples, native time "
        f"included as the Python frame that called it) and once with `--gil` (only the thread "
        f"holding the GIL, 50 Hz; --threads at 20 Hz).{held} Raw files: bench/.work/profile/ "
        f"(not committed)."
    )


if __name__ == "__main__":
    sys.exit(main())
