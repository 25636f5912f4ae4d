"""baresip (Debian's baresip-core) as an independent SIP phone, driven over ctrl_tcp.

A second implementation of the caller's side, besides SIPp: it negotiates
media itself, sends keys as RFC 4733 events (`sndcode`) and writes every
sample it hears to a WAV file, so a test can check what a caller heard.
"""

from __future__ import annotations

import json
import shutil
import socket
import subprocess
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

CONNECT_TIMEOUT = 10.0
# Spacing between keys, as a person dials: each press is its own RFC 4733 event.
INTER_DIGIT_SECONDS = 0.3


@dataclass(frozen=True)
class PhoneNetwork:
    """How the phone reaches the line; the default is plain SIP over UDP with G.711 (PCMU)."""

    codec: str = "PCMU"  # baresip's name: PCMU, PCMA or G722 (a 16 kHz codec)
    transport: str = "udp"
    certificate: Path | None = None  # PEM with its key: the phone's TLS listener (port + 1)
    ca: Path | None = None
    mediaenc: str | None = None  # srtp-mand: SRTP (SDES) or nothing
    rtp_ports: tuple[int, int] | None = None
    # A WAV at the codec's rate that the phone sends; silence when None.
    source: Path | None = None

    @property
    def rate(self) -> int:
        return 16000 if self.codec == "G722" else 8000


class BaresipPhone:
    def __init__(
        self,
        workdir: Path,
        number: str,
        sip_port: int,
        ctrl_port: int,
        network: PhoneNetwork = PhoneNetwork(),
    ) -> None:
        # A short directory: baresip's sndfile module cuts the dump's path at
        # a fixed length (it drops ".wav" under a deep pytest directory).
        self.dir = Path(tempfile.mkdtemp(prefix=f"bs{sip_port}-"))
        (workdir / f"baresip-{number}-{sip_port}").symlink_to(self.dir)
        self.dir_heard = self.dir
        self.ctrl_port = ctrl_port
        silence = self.dir / "silence.wav"
        rate = str(network.rate)
        subprocess.run(
            ["sox", "-n", "-r", rate, "-c", "1", "-b", "16", str(silence), "trim", "0", "120"],
            check=True,
        )
        source = network.source or silence
        options = [f"sip_certificate {network.certificate}"] if network.certificate else []
        options += [f"sip_cafile {network.ca}"] if network.ca else []
        if network.rtp_ports is not None:
            options.append("rtp_ports {}-{}".format(*network.rtp_ports))
        options += ["module g722.so"] if network.codec == "G722" else []
        options += ["module srtp.so"] if network.mediaenc else []
        (self.dir / "config").write_text(
            "poll_method epoll\n"
            f"sip_listen 127.0.0.1:{sip_port}\n"
            "net_interface 127.0.0.1\n"
            f"snd_path {self.dir}\n"
            f"audio_source aufile,{source}\n"
            f"audio_alert aufile,{silence}\n"
            "module_path /usr/lib/baresip/modules\n"
            "module g711.so\nmodule aufile.so\nmodule sndfile.so\n"
            # Before account.so: an account's mediaenc names a loaded module.
            + "".join(f"{line}\n" for line in options)
            + "module menu.so\nmodule account.so\n"
            "module_app ctrl_tcp.so\n"
            f"ctrl_tcp_listen 127.0.0.1:{ctrl_port}\n",
            encoding="ascii",
        )
        (self.dir / "accounts").write_text(
            f"<sip:{number}@127.0.0.1;transport={network.transport}>;regint=0;dtmfmode=rtpevent"
            f";audio_codecs={network.codec}{'/16000/1' if network.rate == 16000 else ''}"
            f"{f';mediaenc={network.mediaenc}' if network.mediaenc else ''}\n",
            encoding="ascii",
        )
        self.events: list[dict[str, Any]] = []
        self._changed = threading.Condition()
        self.process = subprocess.Popen(
            ["baresip", "-f", str(self.dir)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            stdin=subprocess.DEVNULL,
        )
        self._sock = self._connect()
        threading.Thread(target=self._read, daemon=True).start()

    def _connect(self) -> socket.socket:
        deadline = time.monotonic() + CONNECT_TIMEOUT
        while True:
            try:
                return socket.create_connection(("127.0.0.1", self.ctrl_port), timeout=1)
            except OSError:
                if time.monotonic() > deadline or self.process.poll() is not None:
                    raise
                time.sleep(0.05)

    def _read(self) -> None:
        buffer = b""
        self._sock.settimeout(None)
        while True:
            try:
                chunk = self._sock.recv(65536)
            except OSError:
                return
            if not chunk:
                return
            buffer += chunk
            while b":" in buffer:
                length_text, _, rest = buffer.partition(b":")
                length = int(length_text)
                if len(rest) < length + 1:
                    break
                message, buffer = rest[:length], rest[length + 1 :]
                with self._changed:
                    self.events.append(json.loads(message))
                    self._changed.notify_all()

    def command(self, name: str, params: str = "") -> None:
        data = json.dumps({"command": name, "params": params, "token": name}).encode()
        self._sock.sendall(str(len(data)).encode() + b":" + data + b",")

    def wait_event(self, kind: str, timeout: float = 60.0) -> dict[str, Any]:
        with self._changed:
            found = self._changed.wait_for(
                lambda: any(e.get("type") == kind for e in self.events), timeout
            )
            if not found:
                raise AssertionError(f"baresip never reported {kind}: {self.events[-5:]}")
            return next(e for e in self.events if e.get("type") == kind)

    def dial(self, uri: str, expect: str = "CALL_ESTABLISHED") -> dict[str, Any]:
        """Dial and wait until the call is up or has ended; `expect` says which it must be."""
        self.command("dial", uri)
        ends = ("CALL_ESTABLISHED", "CALL_CLOSED")
        with self._changed:
            found = self._changed.wait_for(
                lambda: any(e.get("type") in ends for e in self.events), 60.0
            )
            if not found:
                raise AssertionError(f"the call neither started nor ended: {self.events[-5:]}")
            event = next(e for e in self.events if e.get("type") in ends)
        if event["type"] != expect:
            raise AssertionError(f"expected {expect}, got {event}")
        return event

    def press(self, keys: str) -> None:
        for index, key in enumerate(keys):
            if index:
                time.sleep(INTER_DIGIT_SECONDS)
            self.command("sndcode", key)

    @property
    def heard(self) -> Path:
        """The WAV of everything this phone received (baresip's sndfile dump, decoded side).

        The phone is shut down first, so that the dump is complete and closed.
        """
        self.close()
        dumps = sorted(self.dir.glob("dump-*-dec.wav"))
        if not dumps:
            raise AssertionError(f"baresip wrote no received-audio dump in {self.dir}")
        return dumps[-1]

    def close(self) -> None:
        if self.process.poll() is None:
            try:
                self.command("quit")
                self.process.wait(timeout=10)
            except (OSError, subprocess.TimeoutExpired):
                self.process.kill()
                self.process.wait()
        self._sock.close()

    def remove(self) -> None:
        self.close()
        shutil.rmtree(self.dir, ignore_errors=True)
