"""deploy/kamailio/kamailio.cfg as shipped: Kamailio accepts it, and its edge matches the nodes.

`kamailio -c` parses the file and loads its modules without opening a
socket, so a misspelt module parameter or a define that does not expand
fails here rather than at a restart in production. The flood test
(tests/e2e/test_edge.py) shows what the edge does.
"""

from __future__ import annotations

import glob
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from ivr.config.model import DEFAULT_SCANNER_USER_AGENTS

KAMAILIO = Path(__file__).resolve().parents[2] / "deploy" / "kamailio"
CFG = KAMAILIO / "kamailio.cfg"
MODULES = "/usr/lib/*/kamailio/modules"


def check(*defines: str) -> subprocess.CompletedProcess[str]:
    binary = shutil.which("kamailio") or "/usr/sbin/kamailio"
    modules = sorted(glob.glob(MODULES))
    assert Path(binary).exists() and modules, "kamailio is not installed: run scripts/bootstrap"
    lists = (
        f'DS_LIST="{KAMAILIO / "dispatcher.list"}"',
        f'TRUSTED_LIST="{KAMAILIO / "trusted.list"}"',
    )
    arguments = [arg for define in (*lists, *defines) for arg in ("-A", define)]
    return subprocess.run(
        [binary, "-c", "-f", str(CFG), "-L", modules[0], *arguments],
        capture_output=True,
        text=True,
        timeout=60,
    )


@pytest.mark.parametrize(
    "defines",
    [
        (),
        ("FLOOD_UNIT=1", "FLOOD_DENSITY=8", "BAN_SECONDS=3600", "HTABLE_TIMER=5"),
        ('SCANNER_UA="evil-scan|other"',),
    ],
)
def test_kamailio_accepts_the_cfg_and_its_edge_defines(defines: tuple[str, ...]) -> None:
    result = check(*defines)
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_edge_loads_pike_and_bans_in_the_first_route() -> None:
    text = CFG.read_text(encoding="utf-8")
    assert 'loadmodule "pike.so"' in text
    first = re.search(r"request_route \{\s*(\S+);", text)
    assert first is not None and first.group(1) == "route(EDGE)"


def test_the_edge_drops_every_scanner_the_nodes_refuse() -> None:
    # The proxy's list may be longer; it must never miss one the nodes name.
    define = re.search(r'#!define SCANNER_UA "([^"]+)"', CFG.read_text(encoding="utf-8"))
    assert define is not None
    pattern = re.compile(define.group(1))  # ERE alternatives of plain words: same in Python
    for agent in DEFAULT_SCANNER_USER_AGENTS:
        # route[EDGE] lower-cases the User-Agent before matching.
        assert pattern.search(f"{agent}/1.0".lower()), agent
    assert not pattern.search("baresip v2.9.0 (x86_64/linux)")
