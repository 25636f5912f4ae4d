"""deploy/kamailio/kamailio.cfg as shipped, run on loopback: the addresses, the two
list files it reads and its command line, as the scale-out tests and the bench
both run it (deploy/README.md shows the same command for production).

The layout is deploy/README.md's: the proxy on an address of its own (the only
one the nodes believe caller identity from), callers coming in from the
carrier trunk's (trusted by the proxy, so never flood-limited), the nodes on
127.0.0.1.
"""

from __future__ import annotations

import glob
import shutil
from collections.abc import Mapping, Sequence
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
KAMAILIO_CFG = REPO / "deploy" / "kamailio" / "kamailio.cfg"
KAMAILIO_MODULES = "/usr/lib/*/kamailio/modules"
PROXY = "127.0.0.2"  # Kamailio; the nodes trust caller identity from here only
TRUNK = "127.0.0.3"  # the carrier trunk, in the proxy's trusted.list


def kamailio_command(
    workdir: Path,
    rundir: Path,
    *,
    port: int,
    nodes: Sequence[str],
    trunk_tag: str,
    defines: Mapping[str, str] = {},
) -> list[str]:
    """The foreground command for kamailio.cfg on PROXY:`port`, dispatching to `nodes`
    (SIP URIs), with its dispatcher and trusted lists written into `workdir` and its
    pid file and control socket in `rundir` (keep it short: socket paths are limited
    to 107 bytes). `defines` add to or replace the -A defines given here."""
    binary = shutil.which("kamailio") or "/usr/sbin/kamailio"
    modules = sorted(glob.glob(KAMAILIO_MODULES))
    if not Path(binary).exists() or not modules:
        raise RuntimeError("kamailio is not installed: run scripts/bootstrap")
    workdir.mkdir(parents=True, exist_ok=True)
    dispatcher = workdir / "dispatcher.list"
    dispatcher.write_text(
        "".join(f"1 {uri} 0 0 name=node-{i}\n" for i, uri in enumerate(nodes)), encoding="ascii"
    )
    trusted = workdir / "trusted.list"
    trusted.write_text(f"1 {TRUNK} 32 0 {trunk_tag}\n", encoding="ascii")
    every = {
        "SIP_ADDR": PROXY,
        "SIP_PORT": str(port),
        "DS_LIST": f'"{dispatcher}"',
        "TRUSTED_LIST": f'"{trusted}"',
        "CTL_SOCKET": f'"unix:{rundir}/ctl"',
        **defines,
    }
    return [
        binary, "-DD", "-E", "-f", str(KAMAILIO_CFG), "-L", modules[0],
        "-P", str(rundir / "kamailio.pid"), "-Y", str(rundir),
        *(arg for name, value in every.items() for arg in ("-A", f"{name}={value}")),
    ]  # fmt: skip
