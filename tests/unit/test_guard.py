"""The flood and scanner guard: rule text, applying it, and its configuration."""

from __future__ import annotations

import configparser
import ipaddress
import subprocess
from pathlib import Path

import pytest

from ivr.config import ConfigError, GuardConfig, load_config
from ivr.sip.guard import (
    Guard,
    chain_name,
    is_scanner,
    jump_rules,
    nft_ruleset,
    nft_teardown,
    scanner_rules,
    table_name,
)

TRUNK = ipaddress.ip_network("192.0.2.0/28")
TRUNK6 = ipaddress.ip_network("2001:db8::/64")


def test_the_ruleset_replaces_its_own_table_in_one_go() -> None:
    text = nft_ruleset(5060, GuardConfig())
    first, second, third = text.splitlines()[:3]
    # Declaring, deleting and declaring again: one transaction that works
    # whether or not a table was left behind by an earlier run.
    assert first == "table inet ivr_guard_5060"
    assert second == "delete table inet ivr_guard_5060"
    assert third == "table inet ivr_guard_5060 {"
    assert text.count("{") == text.count("}")


def test_the_ruleset_meters_each_source_and_bans_it() -> None:
    text = nft_ruleset(5070, GuardConfig(requests_per_second=7, burst=9, ban_seconds=30))
    assert "meta l4proto { udp, tcp } th dport 5070 jump sip" in text
    assert "timeout 30s" in text
    assert (
        "update @meter4 { ip saddr limit rate over 7/second burst 9 packets }"
        " add @banned4 { ip saddr } drop"
    ) in text
    assert "ip6 saddr limit rate over 7/second burst 9 packets" in text
    # A banned source is dropped before it is metered again.
    assert text.index("ip saddr @banned4 drop") < text.index("update @meter4")
    assert "exempt" not in text


def test_trusted_networks_are_never_limited() -> None:
    text = nft_ruleset(5060, GuardConfig(), (TRUNK, TRUNK6))
    assert "elements = { 192.0.2.0/28 }" in text
    assert "elements = { 2001:db8::/64 }" in text
    assert text.index("ip saddr @exempt4 accept") < text.index("ip saddr @banned4 drop")
    assert "ip6 saddr @exempt6 accept" in text


def test_teardown_does_not_fail_when_the_table_is_gone() -> None:
    assert nft_teardown(5060) == "table inet ivr_guard_5060\ndelete table inet ivr_guard_5060\n"


def test_scanner_rules_match_the_user_agent_header() -> None:
    rules = scanner_rules(5060, ("friendly-scanner", "sipcli"))
    assert rules[0] == [
        "-A", "IVR_GUARD_5060", "-m", "string", "--algo", "bm", "--icase",
        "--string", "User-Agent: friendly-scanner", "-j", "DROP",
    ]  # fmt: skip
    assert len(rules) == 2
    assert jump_rules(5060) == [
        ["INPUT", "-p", "udp", "--dport", "5060", "-j", "IVR_GUARD_5060"],
        ["INPUT", "-p", "tcp", "--dport", "5060", "-j", "IVR_GUARD_5060"],
    ]
    assert (table_name(1), chain_name(1)) == ("ivr_guard_1", "IVR_GUARD_1")


@pytest.mark.parametrize(
    ("user_agent", "expected"),
    [
        ("friendly-scanner", True),
        ("Friendly-Scanner/1.0", True),
        ("sipvicious 0.3.4", True),
        ("VaxSIPUserAgent/3.1", True),
        ("Linphone/5.2 (belle-sip/5.2)", False),
        ("", False),
        (None, False),
    ],
)
def test_scanners_are_known_by_user_agent(user_agent: str | None, expected: bool) -> None:
    assert is_scanner(user_agent, GuardConfig().scanner_user_agents) is expected


def test_no_scanner_list_lets_everyone_through() -> None:
    assert not is_scanner("friendly-scanner", ())


class FakeTools:
    """DbWriter commands instead of running them; fails those it is told to."""

    def __init__(self, failing: tuple[str, ...] = ()) -> None:
        self.commands: list[tuple[list[str], str | None]] = []
        self.failing = failing

    def __call__(
        self, command: list[str], stdin: str | None = None
    ) -> subprocess.CompletedProcess[str]:
        self.commands.append((command, stdin))
        failed = any(word in " ".join(command) for word in self.failing)
        return subprocess.CompletedProcess(command, 1 if failed else 0, "", "no" if failed else "")

    def ran(self, tool: str) -> list[list[str]]:
        return [command for command, _ in self.commands if command[0] == tool]


def guard(
    tools: FakeTools,
    *,
    euid: int = 0,
    have: tuple[str, ...] = ("nft", "iptables", "ip6tables"),
    **settings: object,
) -> Guard:
    return Guard(
        GuardConfig(**settings),  # type: ignore[arg-type]
        5060,
        (TRUNK,),
        run=tools,
        which=lambda name: f"/usr/sbin/{name}" if name in have else None,
        euid=lambda: euid,
    )


def test_install_applies_both_parts_and_remove_takes_them_out() -> None:
    tools = FakeTools(failing=("-C",))  # no jump yet
    subject = guard(tools)
    assert subject.install() == ["nft", "iptables", "ip6tables"]
    nft = tools.commands[0]
    assert nft[0] == ["nft", "-f", "-"]
    assert nft[1] == nft_ruleset(5060, GuardConfig(), (TRUNK,))
    iptables = tools.ran("iptables")
    assert iptables[0] == ["iptables", "-w", "-N", "IVR_GUARD_5060"]
    assert ["iptables", "-w", "-I", *jump_rules(5060)[0]] in iptables
    tools.commands.clear()
    subject.remove()
    assert tools.commands[0] == (["nft", "-f", "-"], nft_teardown(5060))
    assert ["iptables", "-w", "-X", "IVR_GUARD_5060"] in tools.ran("iptables")
    assert ["ip6tables", "-w", "-X", "IVR_GUARD_5060"] in tools.ran("ip6tables")
    assert subject.installed == []


def test_a_jump_already_there_is_not_added_twice() -> None:
    tools = FakeTools()
    guard(tools).install()
    assert not any("-I" in command for command in tools.ran("iptables"))


def test_a_chain_left_from_a_crash_is_flushed_and_reused() -> None:
    tools = FakeTools(failing=("-N",))
    assert "iptables" in guard(tools).install()
    assert ["iptables", "-w", "-F", "IVR_GUARD_5060"] in tools.ran("iptables")


def test_disabled_or_not_root_installs_nothing(caplog: pytest.LogCaptureFixture) -> None:
    tools = FakeTools()
    assert guard(tools, enabled=False).install() == []
    assert guard(tools, euid=1000).install() == []
    assert tools.commands == []
    assert "not running as root" in caplog.text


def test_a_disabled_guard_says_where_the_protection_is(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level("INFO")
    tools = FakeTools()
    assert guard(tools, enabled=False).install() == []
    assert "disabled in [guard]; no firewall rules on SIP port 5060" in caplog.text
    assert "behind Kamailio" in caplog.text
    assert tools.commands == []


def test_missing_tools_are_warned_about_and_skipped(caplog: pytest.LogCaptureFixture) -> None:
    tools = FakeTools()
    assert guard(tools, have=("iptables",)).install() == ["iptables"]
    assert "nft not found" in caplog.text
    assert "ip6tables not found" in caplog.text
    assert tools.ran("nft") == []


def test_refused_rules_are_reported_and_not_counted(caplog: pytest.LogCaptureFixture) -> None:
    tools = FakeTools(failing=("nft", "--string"))
    subject = guard(tools)
    assert subject.install() == []
    assert "nft refused the rules" in caplog.text
    assert "refused a scanner rule" in caplog.text
    # The half-made chain was taken out again.
    assert ["iptables", "-w", "-X", "IVR_GUARD_5060"] in tools.ran("iptables")


def test_an_empty_scanner_list_installs_no_string_rules() -> None:
    tools = FakeTools()
    assert guard(tools, scanner_user_agents=()).install() == ["nft"]


# ---- sip.conf [guard] ----------------------------------------------------------------------


def parse(tmp_path: Path, text: str) -> GuardConfig:
    path = tmp_path / "sip.conf"
    path.write_text(text, encoding="utf-8")
    return load_config(path).guard


def test_guard_defaults_are_on(tmp_path: Path) -> None:
    assert parse(tmp_path, "") == GuardConfig()
    assert GuardConfig().enabled
    assert "friendly-scanner" in GuardConfig().scanner_user_agents


def test_guard_settings_are_read(tmp_path: Path) -> None:
    config = parse(
        tmp_path,
        "[guard]\nenabled = no\nrequests_per_second = 5\nburst = 8\nban_seconds = 300\n"
        "scanner_user_agents = evil-scan , other\n",
    )
    assert config == GuardConfig(False, 5, 8, 300, ("evil-scan", "other"))
    assert parse(tmp_path, "[guard]\nscanner_user_agents =\n").scanner_user_agents == ()


@pytest.mark.parametrize("word", ["no", "off", "false", "No"])
def test_the_guard_turned_off_behind_kamailio_keeps_every_other_default(
    tmp_path: Path, word: str
) -> None:
    # The call handler still refuses scanner INVITEs by the same list.
    assert parse(tmp_path, f"[guard]\nenabled = {word}\n") == GuardConfig(enabled=False)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[guard]\nrequests_per_second = 0\n", "requests_per_second"),
        ("[guard]\nburst = lots\n", "burst"),
        ("[guard]\nban_seconds = -1\n", "ban_seconds"),
        ("[guard]\nenabled = perhaps\n", "enabled"),
        ('[guard]\nscanner_user_agents = "quoted"\n', "scanner_user_agents"),
    ],
)
def test_bad_guard_settings_name_the_key(tmp_path: Path, text: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        parse(tmp_path, text)


def test_the_example_config_documents_the_guard() -> None:
    example = Path(__file__).resolve().parents[2] / "sip.conf.example"
    parser = configparser.ConfigParser(inline_comment_prefixes=(";", "#"))
    parser.read(example)
    assert set(parser["guard"]) == {
        "enabled",
        "requests_per_second",
        "burst",
        "ban_seconds",
        "scanner_user_agents",
    }
    assert load_config(example).guard == GuardConfig()
