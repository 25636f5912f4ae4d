"""deploy/systemd's units, checked by `systemd-analyze verify` as shipped.

The units name /opt/faultline/.venv/bin/ivr, which verify insists exists;
so the check runs against a throwaway root (--root) holding the units, a
stand-in for that command, and this machine's own systemd units (the
targets ours are ordered against). Any warning fails the test, not only
errors: an unknown or misspelt key is a warning to systemd, and a unit that
silently ignores its hardening is what this test is for.
"""

from __future__ import annotations

import shlex
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
UNITS = ROOT / "deploy" / "systemd"
NAMES = ("ivr-serve.service", "ivr-web.service")
SYSTEM_UNITS = Path("/usr/lib/systemd/system")


def settings(name: str) -> dict[str, list[str]]:
    """Every KEY=VALUE of a unit, comments left out, values in file order."""
    found: dict[str, list[str]] = {}
    for line in (UNITS / name).read_text(encoding="utf-8").splitlines():
        if line.startswith(("#", ";", "[")) or "=" not in line:
            continue
        key, _, value = line.partition("=")
        found.setdefault(key.strip(), []).append(value.strip())
    return found


def systemd_analyze() -> str:
    tool = shutil.which("systemd-analyze")
    assert tool is not None, (
        "systemd-analyze is missing: install the Debian package `systemd` "
        "(scripts/bootstrap installs it)"
    )
    return tool


def test_both_units_pass_systemd_analyze_verify_without_a_warning(tmp_path: Path) -> None:
    tool = systemd_analyze()
    unit_dir = tmp_path / "etc" / "systemd" / "system"
    unit_dir.mkdir(parents=True)
    for name in NAMES:
        shutil.copy(UNITS / name, unit_dir / name)
        command = Path(shlex.split(settings(name)["ExecStart"][0])[0])
        stand_in = tmp_path / command.relative_to("/")
        stand_in.parent.mkdir(parents=True, exist_ok=True)
        stand_in.write_text("#!/bin/sh\n")
        stand_in.chmod(0o755)
    assert SYSTEM_UNITS.is_dir(), f"{SYSTEM_UNITS} is missing: install the Debian package systemd"
    shutil.copytree(SYSTEM_UNITS, tmp_path / "usr" / "lib" / "systemd" / "system", symlinks=True)
    result = subprocess.run(
        [tool, "verify", "--man=no", f"--root={tmp_path}", *NAMES],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert result.stderr == "", result.stderr


def test_the_verify_check_catches_a_misspelt_setting(tmp_path: Path) -> None:
    """The check above is only worth having if a typo makes systemd-analyze speak."""
    tool = systemd_analyze()
    broken = tmp_path / "broken.service"
    broken.write_text("[Service]\nType=notfiy\nExecStart=/bin/true\n", encoding="utf-8")
    result = subprocess.run(
        [tool, "verify", "--man=no", str(broken)], capture_output=True, text=True, timeout=120
    )
    assert "notfiy" in result.stderr


@pytest.mark.parametrize("name", NAMES)
def test_each_unit_notifies_restarts_and_runs_unprivileged(name: str) -> None:
    unit = settings(name)
    assert unit["Type"] == ["notify"]
    assert unit["Restart"] == ["on-failure"]
    assert int(unit["WatchdogSec"][0]) > 0
    assert unit["User"] == ["faultline"]
    assert unit["NoNewPrivileges"] == ["yes"]
    assert "--config /etc/faultline/sip.conf" in unit["ExecStart"][0]


def test_only_serve_keeps_a_capability_and_it_is_cap_net_admin_for_the_guard() -> None:
    serve = settings("ivr-serve.service")
    assert serve["AmbientCapabilities"] == ["CAP_NET_ADMIN"]
    assert serve["CapabilityBoundingSet"] == ["CAP_NET_ADMIN"]
    assert "guard" in (UNITS / "ivr-serve.service").read_text(encoding="utf-8")
    web = settings("ivr-web.service")
    assert web["CapabilityBoundingSet"] == [""]
    assert "AmbientCapabilities" not in web
