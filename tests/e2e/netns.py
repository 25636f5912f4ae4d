"""A network namespace with only loopback, for tests whose traffic must not leave.

Torture messages name outside hosts (Via, Contact, SDP) and the service may
follow them; the flood test installs firewall rules. Inside a namespace of
our own, the only interface is `lo`: nothing can reach another machine,
and rules vanish with the namespace.
"""

from __future__ import annotations

import os
import secrets
import shutil
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass

import pytest


@dataclass(frozen=True)
class NetNamespace:
    name: str

    @property
    def prefix(self) -> tuple[str, ...]:
        """Put before a command to run it inside the namespace."""
        return ("ip", "netns", "exec", self.name)

    def route_everything_to_loopback(self) -> None:
        """Default routes through `lo`, so that outside addresses look reachable.

        The SIP stack will only set up a call whose media address it has a
        route to, and replies to the host in a message's Via. With these
        routes every address is delivered locally: to a socket of the test
        if one listens there, else nowhere. Still nothing leaves.
        """
        for command in (
            ("ip", "route", "add", "default", "dev", "lo", "src", "127.0.0.1"),
            ("ip", "-6", "route", "add", "default", "dev", "lo"),
        ):
            result = self.run(*command)
            assert result.returncode == 0, result.stderr

    def run(self, *command: str, timeout: float = 60.0) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [*self.prefix, *command], capture_output=True, text=True, timeout=timeout
        )


def _ip(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["ip", *args], capture_output=True, text=True, timeout=30)


def can_make_namespaces() -> str | None:
    """Why namespaces cannot be used here, or None when they can."""
    if os.geteuid() != 0:
        return "needs root to create a network namespace"
    if shutil.which("ip") is None:
        return "needs iproute2 (ip)"
    return None


@pytest.fixture
def netns(request: pytest.FixtureRequest) -> Iterator[NetNamespace]:
    """A fresh namespace (lo up, nothing else), deleted after the test."""
    reason = can_make_namespaces()
    if reason:
        pytest.fail(f"{reason} (scripts/test runs as root; scripts/bootstrap installs iproute2)")
    name = f"ivr-{request.node.name[:12]}-{secrets.token_hex(3)}".replace("[", "-")
    name = "".join(c if c.isalnum() or c == "-" else "-" for c in name)
    created = _ip("netns", "add", name)
    if created.returncode != 0:
        pytest.fail(f"cannot create a network namespace: {created.stderr.strip()}")
    try:
        up = _ip("netns", "exec", name, "ip", "link", "set", "lo", "up")
        assert up.returncode == 0, up.stderr
        yield NetNamespace(name)
    finally:
        _ip("netns", "delete", name)
