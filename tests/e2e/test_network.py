"""The network settings, end to end with baresip as the caller: SIP over TLS with SRTP,
a caller that speaks only G.722, and RTP kept within [media] rtp_ports (seen by dumpcap)."""

from __future__ import annotations

import subprocess
import wave
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from tests.e2e.baresip_phone import BaresipPhone, PhoneNetwork
from tests.e2e.conftest import KNOWN_NUMBER
from tests.e2e.rtp_capture import Capture, udp_datagrams
from tests.ports import free_port, free_ports

LINE = "02033551151"
SPEECH_LEVEL = 200.0  # RMS of a 20 ms frame that counts as sound, not line silence
CALLER_TONE_HZ = 1000  # what the G.722 caller says, at 16 kHz


@pytest.fixture
def pem(tmp_path: Path) -> Path:
    """A throwaway self-signed certificate for 127.0.0.1: cert.pem, key.pem and both.pem."""
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
         "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
         "-keyout", str(tmp_path / "key.pem"), "-out", str(tmp_path / "cert.pem")],
        check=True, capture_output=True,
    )  # fmt: skip
    both = (tmp_path / "cert.pem").read_bytes() + (tmp_path / "key.pem").read_bytes()
    (tmp_path / "both.pem").write_bytes(both)
    return tmp_path


@pytest.fixture
def phones(tmp_path: Path) -> Iterator[list[BaresipPhone]]:
    made: list[BaresipPhone] = []
    yield made
    for phone in made:
        phone.remove()


def sound_seconds(path: Path) -> float:
    """From the first to the last 20 ms frame with sound in it."""
    with wave.open(str(path)) as wav:
        rate = wav.getframerate()
        samples = np.frombuffer(wav.readframes(wav.getnframes()), dtype="<i2").astype(float)
    frame = rate // 50
    frames = samples[: len(samples) // frame * frame].reshape(-1, frame)
    loud = np.flatnonzero(np.sqrt(np.mean(frames**2, axis=1)) > SPEECH_LEVEL)
    return 0.0 if len(loud) == 0 else (loud[-1] - loud[0] + 1) / 50


def test_a_call_over_tls_with_srtp_reports_a_fault(
    fault_line_factory: Any, pem: Path, phones: list[BaresipPhone], tmp_path: Path
) -> None:
    sip = free_ports(2)  # UDP on the first, TLS one above
    line = fault_line_factory(
        general={"listen": f"127.0.0.1:{sip}", "transport": "udp, tls"},
        tls={"certificate": str(pem / "cert.pem"), "key": str(pem / "key.pem"),
             "ca": str(pem / "cert.pem")},
        media={"srtp": "mandatory"},
        start=False,
    )  # fmt: skip
    private = tmp_path / "tmp"
    private.mkdir()
    line.start(("TMPDIR", str(private)))
    # The key joined to the certificate for the engine is gone once it has started.
    assert not list(private.glob("ivr-tls-*/*")), list(private.iterdir())
    # The phone listens for TLS too (with the same certificate, which the
    # line trusts as its CA): the line's BYE opens a connection to it.
    network = PhoneNetwork(
        transport="tls", certificate=pem / "both.pem", ca=pem / "cert.pem", mediaenc="srtp-mand"
    )
    phone = BaresipPhone(tmp_path, KNOWN_NUMBER, free_ports(2), free_port(), network)
    phones.append(phone)
    signalling = tmp_path / "tls.pcap"
    with Capture(signalling, capture_filter=f"tcp port {sip + 1}"):
        phone.dial(f"sip:{LINE}@127.0.0.1:{sip + 1};transport=tls")
        phone.press("21")
        phone.wait_event("CALL_CLOSED", timeout=90)
    (fault,) = line.ivr_json("faults", "list")
    assert fault["priority"] == "high"
    (call,) = line.ivr_json("calls", "list")
    assert (call["outcome"], call["digits"]) == ("reported", "21")
    # The caller heard the prompts through SRTP (the line takes nothing else)...
    assert sound_seconds(phone.heard) > 2.0
    # ...and the signalling, SDES keys included, crossed the wire only encrypted.
    wire = signalling.read_bytes()
    assert len(wire) > 2000, "the capture saw the TLS connection"
    assert b"INVITE" not in wire and b"a=crypto" not in wire
    # A caller who offers plain RTP is refused: SRTP is mandatory here.
    plain = BaresipPhone(
        tmp_path, KNOWN_NUMBER, free_ports(2), free_port(), replace(network, mediaenc=None)
    )
    phones.append(plain)
    refused = plain.dial(f"sip:{LINE}@127.0.0.1:{sip + 1};transport=tls", expect="CALL_CLOSED")
    assert refused["param"].startswith("488"), refused


def test_a_g722_caller_is_served_at_8_khz_with_rtp_in_the_range(
    fault_line_factory: Any, phones: list[BaresipPhone], tmp_path: Path
) -> None:
    # The line's range starts on an odd port: the engine takes even ports for RTP,
    # and must still keep within the range (not drop to the even port below it).
    first = free_ports(21)
    line_rtp = first + 1 - first % 2
    line = fault_line_factory(
        general={"max_calls": "9"},
        media={"rtp_ports": f"{line_rtp}-{line_rtp + 19}", "codecs": "g722, pcmu"},
        recording={"max_seconds": "2"},
    )
    # The phone's from an even port, so that its RTP is where the capture looks.
    first = free_ports(5)
    phone_rtp = first + first % 2
    voice = tmp_path / "tone16k.wav"
    subprocess.run(
        ["sox", "-n", "-r", "16000", "-c", "1", "-b", "16", str(voice),
         "synth", "120", "sine", str(CALLER_TONE_HZ), "vol", "0.3"],
        check=True,
    )  # fmt: skip
    network = PhoneNetwork(codec="G722", rtp_ports=(phone_rtp, phone_rtp + 3), source=voice)
    phone = BaresipPhone(tmp_path, KNOWN_NUMBER, free_port(), free_port(), network)
    phones.append(phone)
    media = tmp_path / "rtp.pcap"
    with Capture(media, capture_filter=f"udp portrange {phone_rtp}-{phone_rtp + 3}"):
        phone.dial(f"sip:{LINE}@127.0.0.1:{line.port}")
        phone.press("3")
        phone.press("1")
        phone.wait_event("CALL_CLOSED", timeout=90)
    (fault,) = line.ivr_json("faults", "list")
    assert fault["priority"] == "critical"
    # Prompts fed at 8 kHz reached a 16 kHz G.722 phone as speech.
    with wave.open(str(phone.heard)) as heard:
        assert heard.getframerate() == 16000
    assert sound_seconds(phone.heard) > 2.0
    # What the caller said came back to 8 kHz at its own pitch: the
    # description kept is the caller's 1 kHz, not 500 Hz (16 kHz read as 8).
    (recording,) = (tmp_path / "data" / "recordings").rglob("*.wav")
    with wave.open(str(recording)) as kept:
        assert kept.getframerate() == 8000
        said = np.frombuffer(kept.readframes(kept.getnframes()), dtype="<i2").astype(float)
    peak = np.argmax(np.abs(np.fft.rfft(said))) * 8000 / len(said)
    assert abs(peak - CALLER_TONE_HZ) < 10, peak
    # Every RTP and RTCP datagram to or from the phone had the line's end in its range.
    datagrams = udp_datagrams(media)
    assert len(datagrams) > 100, "the capture saw the call's media"
    phone_ports = range(phone_rtp, phone_rtp + 4)
    line_ports = range(line_rtp, line_rtp + 20)
    far_ends = {dst if src in phone_ports else src for src, dst, _ in datagrams}
    assert far_ends and far_ends <= set(line_ports), sorted(far_ends)
