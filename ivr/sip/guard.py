"""Flood and scanner guard: firewall rules in front of the SIP port.

The SIP engine gives us no per-packet hook, so the guard works below it,
in the kernel, in the spirit of Kamailio's pike module:

- every source address has a packet-rate meter on the SIP port; a source
  going over `requests_per_second` (after a `burst`) is put in a ban set
  for `ban_seconds`, and everything it sends to the SIP port is dropped
  until the ban expires;
- datagrams whose User-Agent names a known SIP scanner are dropped.

Rate limiting is an nftables table of our own (`inet ivr_guard_<port>`),
replaced whole at start-up (a table left behind by a crash goes with it)
and deleted at shutdown. nftables cannot search a payload for a string,
so scanner User-Agents are matched with iptables' `string` match
(iptables-nft) in a chain of our own (`IVR_GUARD_<port>`). Addresses the
trunk trusts are never rate-limited: a carrier sends every call from one
address. Behind Kamailio that address is the proxy's, which carries every
call, so the guard would limit nothing there: the proxy limits floods and
drops scanners itself (deploy/kamailio), and `[guard] enabled = no` is the
setting for such a node.

Rule text is built by pure functions (tested without a kernel); `Guard`
applies it with `nft -f -` and `iptables`, and degrades to a logged
warning when not root or when the tools are missing.
"""

from __future__ import annotations

import ipaddress
import logging
import os
import shutil
import subprocess
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from ivr.config import GuardConfig

log = logging.getLogger(__name__)

# How long a quiet source's rate meter is kept.
METER_IDLE_SECONDS = 10
# Most sources tracked in one meter or ban set.
SET_SIZE = 65535
TOOL_TIMEOUT = 10.0

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def is_scanner(user_agent: str | None, scanners: Sequence[str]) -> bool:
    """Whether a User-Agent value names one of the scanners (case-insensitive)."""
    if not user_agent:
        return False
    value = user_agent.casefold()
    return any(scanner.casefold() in value for scanner in scanners)


def table_name(port: int) -> str:
    return f"ivr_guard_{port}"


def chain_name(port: int) -> str:
    return f"IVR_GUARD_{port}"


def _elements(networks: Sequence[Network]) -> str:
    return ", ".join(str(net) for net in networks)


def nft_ruleset(port: int, settings: GuardConfig, exempt: Sequence[Network] = ()) -> str:
    """The `nft -f` script that (re)creates the rate-limiting table for `port`.

    It declares the table, deletes it and declares it again with its
    contents, in one transaction: a stale table from an earlier run is
    replaced, and a running guard is never without rules.
    """
    table = table_name(port)
    rate = f"limit rate over {settings.requests_per_second}/second burst {settings.burst} packets"
    exempt4 = [net for net in exempt if net.version == 4]
    exempt6 = [net for net in exempt if net.version == 6]
    lines = [
        f"table inet {table}",
        f"delete table inet {table}",
        f"table inet {table} {{",
    ]
    for family, addr_type, nets in (("4", "ipv4_addr", exempt4), ("6", "ipv6_addr", exempt6)):
        if nets:
            lines.append(
                f"    set exempt{family} {{ type {addr_type}; flags interval; "
                f"elements = {{ {_elements(nets)} }}; }}"
            )
        lines += [
            f"    set meter{family} {{ type {addr_type}; flags dynamic,timeout; "
            f"timeout {METER_IDLE_SECONDS}s; size {SET_SIZE}; }}",
            f"    set banned{family} {{ type {addr_type}; flags dynamic,timeout; "
            f"timeout {settings.ban_seconds}s; size {SET_SIZE}; }}",
        ]
    lines += [
        "    chain input {",
        "        type filter hook input priority filter - 10; policy accept;",
        f"        meta l4proto {{ udp, tcp }} th dport {port} jump sip",
        "    }",
        "    chain sip {",
    ]
    if exempt4:
        lines.append("        ip saddr @exempt4 accept")
    if exempt6:
        lines.append("        ip6 saddr @exempt6 accept")
    lines += [
        "        ip saddr @banned4 drop",
        "        ip6 saddr @banned6 drop",
        f"        update @meter4 {{ ip saddr {rate} }} add @banned4 {{ ip saddr }} drop",
        f"        update @meter6 {{ ip6 saddr {rate} }} add @banned6 {{ ip6 saddr }} drop",
        "    }",
        "}",
    ]
    return "\n".join(lines) + "\n"


def nft_teardown(port: int) -> str:
    """The `nft -f` script that removes the table (and does not fail if it is gone)."""
    table = table_name(port)
    return f"table inet {table}\ndelete table inet {table}\n"


def scanner_rules(port: int, scanners: Sequence[str]) -> list[list[str]]:
    """iptables arguments that fill our chain: drop datagrams naming a scanner."""
    chain = chain_name(port)
    return [
        [
            "-A",
            chain,
            "-m",
            "string",
            "--algo",
            "bm",
            "--icase",
            "--string",
            f"User-Agent: {agent}",
            "-j",
            "DROP",
        ]  # fmt: skip
        for agent in scanners
    ]


def jump_rules(port: int) -> list[list[str]]:
    """The INPUT rules (without -I/-D/-C) that send SIP traffic through our chain."""
    return [
        ["INPUT", "-p", proto, "--dport", str(port), "-j", chain_name(port)]
        for proto in ("udp", "tcp")
    ]


Runner = Callable[..., subprocess.CompletedProcess[str]]


def _run(command: list[str], stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        command, input=stdin, capture_output=True, text=True, timeout=TOOL_TIMEOUT, check=False
    )


@dataclass
class Guard:
    """Installs and removes the guard's rules for one SIP port."""

    settings: GuardConfig
    port: int
    exempt: tuple[Network, ...] = ()
    run: Runner = _run
    which: Callable[[str], str | None] = shutil.which
    euid: Callable[[], int] = os.geteuid
    installed: list[str] = field(default_factory=list)  # "nft", "iptables", "ip6tables"

    def install(self) -> list[str]:
        """Put the rules in place; returns which parts are active (may be none)."""
        self.installed = []
        if not self.settings.enabled:
            log.info(
                "guard: disabled in [guard]; no firewall rules on SIP port %d (behind Kamailio, "
                "the proxy limits floods and drops scanners)",
                self.port,
            )
            return []
        if self.euid() != 0:
            log.warning(
                "guard: not running as root; SIP port %d has no flood or scanner filter", self.port
            )
            return []
        self._install_nft()
        if self.settings.scanner_user_agents:
            for tool in ("iptables", "ip6tables"):
                self._install_scanner_filter(tool)
        return list(self.installed)

    def _install_nft(self) -> None:
        if self.which("nft") is None:
            log.warning("guard: nft not found (Debian package nftables); no per-source rate limit")
            return
        result = self.run(["nft", "-f", "-"], nft_ruleset(self.port, self.settings, self.exempt))
        if result.returncode != 0:
            log.warning("guard: nft refused the rules: %s", result.stderr.strip()[:500])
            return
        self.installed.append("nft")
        log.info(
            "guard: table inet %s: over %d/s (burst %d) from one source bans it for %d s",
            table_name(self.port),
            self.settings.requests_per_second,
            self.settings.burst,
            self.settings.ban_seconds,
        )

    def _install_scanner_filter(self, tool: str) -> None:
        if self.which(tool) is None:
            log.warning(
                "guard: %s not found (Debian package iptables); scanner INVITEs are still "
                "refused by the call handler, other scanner requests are answered",
                tool,
            )
            return
        chain = chain_name(self.port)
        created = self.run([tool, "-w", "-N", chain])
        if created.returncode != 0:  # left from an earlier run: start it afresh
            self.run([tool, "-w", "-F", chain])
        for rule in scanner_rules(self.port, self.settings.scanner_user_agents):
            result = self.run([tool, "-w", *rule])
            if result.returncode != 0:
                log.warning("guard: %s refused a scanner rule: %s", tool, result.stderr.strip())
                self._remove_scanner_filter(tool)
                return
        for jump in jump_rules(self.port):
            if self.run([tool, "-w", "-C", *jump]).returncode != 0:
                self.run([tool, "-w", "-I", *jump])
        self.installed.append(tool)
        log.info(
            "guard: %s chain %s drops User-Agents %s",
            tool,
            chain,
            ", ".join(self.settings.scanner_user_agents),
        )

    def remove(self) -> None:
        """Take every rule out again (safe to call when nothing was installed)."""
        if "nft" in self.installed:
            result = self.run(["nft", "-f", "-"], nft_teardown(self.port))
            if result.returncode != 0:
                log.warning("guard: could not delete the nft table: %s", result.stderr.strip())
        for tool in ("iptables", "ip6tables"):
            if tool in self.installed:
                self._remove_scanner_filter(tool)
        self.installed = []

    def _remove_scanner_filter(self, tool: str) -> None:
        for jump in jump_rules(self.port):
            # The same jump is never inserted twice, but be sure: bounded.
            for _ in range(4):
                if self.run([tool, "-w", "-D", *jump]).returncode != 0:
                    break
        chain = chain_name(self.port)
        self.run([tool, "-w", "-F", chain])
        self.run([tool, "-w", "-X", chain])
