"""Free ports for the services and SIP peers the tests start.

A port handed out here is not bound until a moment later, by another
process (`ivr serve`, SIPp, baresip, Kamailio), so two things must not
take it meanwhile:

* the kernel, for someone's outgoing connection or `bind(0)`: ports come
  from below the ephemeral range (`ip_local_port_range`), which the kernel
  never hands out by itself;
* another pytest-xdist worker: each worker owns its own slice of that
  range and walks through it in order, so no two workers, and no two
  pickers in one worker, ever agree on a port.

A SIP stack binds its port for UDP and TCP at once, so every port handed
out was free for both when probed.
"""

from __future__ import annotations

import os
import socket
import threading
from pathlib import Path

LOWEST = 20000  # below this, well-known services of the machine may listen
_LOCK = threading.Lock()


def _ephemeral_low() -> int:
    try:
        low = int(Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        low = 32768
    return low


def _slice() -> range:
    """This worker's ports: its share of LOWEST up to the ephemeral range."""
    top = _ephemeral_low()
    if top - LOWEST < 2000:
        raise RuntimeError(
            f"the ephemeral port range starts at {top}: tests need ports {LOWEST}-{LOWEST + 2000} "
            "outside it (lower net.ipv4.ip_local_port_range's start)"
        )
    worker = os.environ.get("PYTEST_XDIST_WORKER", "gw0")
    count = int(os.environ.get("PYTEST_XDIST_WORKER_COUNT", "1"))
    index = int(worker.removeprefix("gw")) if worker.startswith("gw") else 0
    size = (top - LOWEST) // max(count, 1)
    start = LOWEST + index * size
    return range(start, start + size)


_PORTS = _slice()
_next = _PORTS.start


def _bindable(host: str, port: int, kind: socket.SocketKind) -> bool:
    with socket.socket(socket.AF_INET, kind) as probe:
        try:
            probe.bind((host, port))
        except OSError:
            return False
    return True


def _take(count: int, host: str, udp_above: tuple[int, ...]) -> int:
    """The first of `count` consecutive ports free for UDP and TCP, and the UDP ports
    `udp_above` it free too; the walk through the slice moves past them."""
    global _next
    span = count + max(udp_above, default=0)
    hosts = {host, "127.0.0.1"}
    with _LOCK:
        for _ in range(len(_PORTS)):
            if _next + span > _PORTS.stop:
                _next = _PORTS.start  # wrap: ports from long ago belong to finished tests
            base = _next
            _next += span
            free = all(
                _bindable(address, port, kind)
                for address in hosts
                for port in range(base, base + count)
                for kind in (socket.SOCK_DGRAM, socket.SOCK_STREAM)
            ) and all(_bindable(host, base + offset, socket.SOCK_DGRAM) for offset in udp_above)
            if free:
                return base
    raise RuntimeError(f"no free ports left in {_PORTS.start}-{_PORTS.stop - 1}")


def free_port(host: str = "127.0.0.1", *, udp_above: tuple[int, ...] = (2,)) -> int:
    """A port free for UDP and TCP on `host` (and on 127.0.0.1, where tests probe).

    `udp_above`: offsets of further UDP ports that must be free too (SIPp's
    media port takes the one two above it for video).
    """
    return _take(1, host, udp_above)


def free_ports(count: int, host: str = "127.0.0.1") -> int:
    """The first of `count` consecutive ports, each free for UDP and TCP (an RTP range, or
    a SIP port with TLS one above it)."""
    return _take(count, host, ())
