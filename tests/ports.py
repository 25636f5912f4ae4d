"""Free ports for the services and SIP peers the tests start.

A SIP stack (the fault line's engine, baresip phones) binds its port for
UDP and TCP at once, so a port that is free for UDP alone can still fail
with "Address already in use" when something holds it for TCP. Every port
handed out here was free for both when probed, and is never handed out
again by this process while it is recent (two pickers in one test must not
agree on a port).
"""

from __future__ import annotations

import socket
import threading
from collections import deque

# Ports handed out lately: a port from long ago belongs to a test that has
# finished, so the memory is bounded and the range never runs dry.
REMEMBERED = 4096
_TAKEN: deque[int] = deque(maxlen=REMEMBERED)
_LOCK = threading.Lock()


def _bindable(host: str, port: int, kind: socket.SocketKind) -> bool:
    with socket.socket(socket.AF_INET, kind) as probe:
        try:
            probe.bind((host, port))
        except OSError:
            return False
    return True


def free_port(host: str = "127.0.0.1", *, udp_above: tuple[int, ...] = (2,)) -> int:
    """A port free for UDP and TCP on `host` (and on 127.0.0.1, where tests probe).

    `udp_above`: offsets of further UDP ports that must be free too (SIPp's
    media port takes the one two above it for video).
    """
    while True:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
            probe.bind((host, 0))
            port: int = probe.getsockname()[1]
        if port + max(udp_above, default=0) > 65535:  # no room for the ports above
            continue
        hosts = {host, "127.0.0.1"}
        block = {port, *(port + offset for offset in udp_above)}
        with _LOCK:
            if block.intersection(_TAKEN):
                continue
            free = all(
                _bindable(address, port, kind)
                for address in hosts
                for kind in (socket.SOCK_DGRAM, socket.SOCK_STREAM)
            ) and all(_bindable(host, port + offset, socket.SOCK_DGRAM) for offset in udp_above)
            if free:
                _TAKEN.extend(block)
                return port


def free_ports(count: int, host: str = "127.0.0.1") -> int:
    """The first of `count` consecutive ports, each free for UDP and TCP (an RTP range, or
    a SIP port with TLS one above it)."""
    while True:
        base = free_port(host, udp_above=())
        if base + count - 1 > 65535:
            continue
        block = set(range(base, base + count))
        with _LOCK:
            if (block - {base}).intersection(_TAKEN):
                continue
            if all(
                _bindable(host, port, kind)
                for port in block - {base}
                for kind in (socket.SOCK_DGRAM, socket.SOCK_STREAM)
            ):
                _TAKEN.extend(block)
                return base
