"""What an engineer's phone heard: RTP captured on loopback, decoded, and a tone measured.

SIPp answers as the engineer but keeps no audio, so dumpcap (the capture
engine tshark runs) records the RTP sent to its media port; here it is
read with a few lines of struct, ordered by sequence number and decoded
from PCMU. The measure is a steady tone: the packets (20 ms frames) in
which one frequency carries most of the energy, which speech prompts
never sustain.
"""

from __future__ import annotations

import struct
import subprocess
import threading
import wave
from pathlib import Path

import numpy as np
import numpy.typing as npt

FRAME = 160  # samples in one 20 ms RTP packet at 8 kHz
RATE = 8000
PCMU = 0
READY_SECONDS = 10.0


class Capture:
    """dumpcap on lo for UDP to one port (or a filter of its own), as classic pcap; a context
    manager."""

    def __init__(self, path: Path, port: int = 0, capture_filter: str | None = None) -> None:
        self.path = path
        self.port = port
        self.filter = capture_filter or f"udp dst port {port}"
        self.process: subprocess.Popen[str] | None = None
        self.log: list[str] = []
        self._reader: threading.Thread | None = None

    def __enter__(self) -> Capture:
        command = [
            "dumpcap",
            "-i",
            "lo",
            "-f",
            self.filter,
            "-P",
            "-w",
            str(self.path),
        ]
        self.process = subprocess.Popen(
            command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True
        )
        stderr = self.process.stderr
        assert stderr is not None
        capturing = threading.Event()

        def read() -> None:
            # dumpcap says "Capturing on ..." once the interface is open and filtered.
            for line in stderr:
                self.log.append(line)
                if line.startswith("Capturing on"):
                    capturing.set()

        self._reader = threading.Thread(target=read, daemon=True)
        self._reader.start()
        if not capturing.wait(READY_SECONDS):
            self.__exit__()
            raise AssertionError(f"dumpcap did not start capturing:\n{''.join(self.log)}")
        return self

    def __exit__(self, *exc: object) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=20)
        if self._reader is not None:
            self._reader.join(timeout=20)


def udp_datagrams(path: Path) -> list[tuple[int, int, bytes]]:
    """(source port, destination port, payload) of each IPv4 UDP datagram in a pcap of lo."""
    data = path.read_bytes()
    magic = data[:4]
    endian = "<" if magic in (b"\xd4\xc3\xb2\xa1", b"\x4d\x3c\xb2\xa1") else ">"
    linktype = struct.unpack_from(endian + "I", data, 20)[0]
    link = {1: 14, 113: 16, 0: 4}[linktype]
    datagrams = []
    offset = 24
    while offset + 16 <= len(data):
        _seconds, _fraction, length, _ = struct.unpack_from(endian + "IIII", data, offset)
        frame = data[offset + 16 : offset + 16 + length]
        offset += 16 + length
        ip = frame[link:]
        if len(ip) < 28 or ip[0] >> 4 != 4 or ip[9] != 17:
            continue
        udp = ip[(ip[0] & 15) * 4 :]
        source, destination = struct.unpack_from("!HH", udp)
        datagrams.append((source, destination, udp[8:]))
    return datagrams


def rtp_payloads(path: Path) -> list[tuple[int, int, bytes]]:
    """(payload type, sequence number, payload) of each RTP packet in a pcap of lo."""
    packets = []
    for _source, _destination, rtp in udp_datagrams(path):
        if len(rtp) < 12 or rtp[0] >> 6 != 2:
            continue
        header = 12 + 4 * (rtp[0] & 15)
        if rtp[0] & 0x10:
            header += 4 + 4 * struct.unpack_from("!H", rtp, header + 2)[0]
        sequence = struct.unpack_from("!H", rtp, 2)[0]
        packets.append((rtp[1] & 0x7F, sequence, rtp[header:]))
    return packets


def ulaw_to_pcm(payload: bytes) -> npt.NDArray[np.float64]:
    """G.711 mu-law to linear samples in [-1, 1]."""
    u = ~np.frombuffer(payload, dtype=np.uint8)
    sign = np.where(u & 0x80, -1.0, 1.0)
    exponent = (u >> 4) & 0x07
    mantissa = u & 0x0F
    magnitude = (((mantissa.astype(np.int32) << 3) + 0x84) << exponent) - 0x84
    return sign * magnitude / 32768.0


def received_audio(path: Path) -> npt.NDArray[np.float64]:
    """The PCMU audio sent to the captured port, in sequence order (one stream)."""
    packets = [(seq, payload) for pt, seq, payload in rtp_payloads(path) if pt == PCMU]
    if not packets:
        return np.zeros(0)
    # Unwrap the 16-bit sequence number from the first packet on.
    first = packets[0][0]
    ordered = sorted(packets, key=lambda item: (item[0] - first) % 65536)
    return np.concatenate([ulaw_to_pcm(payload) for _seq, payload in ordered])


def wav_audio(path: Path) -> npt.NDArray[np.float64]:
    with wave.open(str(path), "rb") as wav:
        assert (wav.getnchannels(), wav.getsampwidth(), wav.getframerate()) == (1, 2, RATE)
        frames = wav.readframes(wav.getnframes())
    return np.frombuffer(frames, dtype="<i2") / 32768.0


def tone_frames(audio: npt.NDArray[np.float64], frequency: float) -> int:
    """The longest run of 20 ms frames whose energy is mostly at `frequency`."""
    window = np.arange(FRAME)
    probe = np.exp(-2j * np.pi * frequency * window / RATE)
    longest = run = 0
    for start in range(0, len(audio) - FRAME + 1, FRAME):
        frame = audio[start : start + FRAME]
        energy = float(np.sum(frame**2))
        at_tone = 2 * abs(np.dot(frame, probe)) ** 2 / FRAME
        run = run + 1 if energy > 1e-4 and at_tone > 0.6 * energy else 0
        longest = max(longest, run)
    return longest
