"""sip.conf's network settings: SIP transports, [tls] and [media], and what the engine cannot do."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from ivr.config import Config, ConfigError, load_config
from ivr.config.model import Codec, JitterBuffer, Srtp, Transport
from ivr.sip.engine import SipEngine, settings_from


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "sip.conf"
    path.write_text(text, encoding="utf-8")
    return path


def problems(path: Path) -> list[str]:
    with pytest.raises(ConfigError) as caught:
        load_config(path, environ={})
    return [str(problem) for problem in caught.value.problems]


@pytest.fixture(scope="module")
def pem(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A throwaway self-signed certificate (cert.pem), its key (key.pem) and both (both.pem)."""
    where = tmp_path_factory.mktemp("pem")
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
         "-subj", "/CN=127.0.0.1", "-keyout", str(where / "key.pem"),
         "-out", str(where / "cert.pem")],
        check=True, capture_output=True,
    )  # fmt: skip
    (where / "both.pem").write_bytes(
        (where / "cert.pem").read_bytes() + (where / "key.pem").read_bytes()
    )
    return where


def test_defaults_are_udp_and_tcp_plain_rtp_and_g722_first(tmp_path: Path) -> None:
    config = load_config(write(tmp_path, ""))
    assert config.transports == (Transport.UDP, Transport.TCP)
    assert config.tls_port is None
    assert config.media.rtp_ports is None
    assert config.media.srtp is Srtp.OFF
    assert config.media.codecs == (Codec.G722, Codec.PCMU, Codec.PCMA)
    assert (config.transports, config.media) == (Config().transports, Config().media)


def test_tls_beside_udp_listens_one_port_above(tmp_path: Path, pem: Path) -> None:
    text = (
        "[general]\nlisten = 127.0.0.1:5070\ntransport = udp, tls\n"
        f"[tls]\ncertificate = {pem}/both.pem\n"
    )
    config = load_config(write(tmp_path, text))
    assert config.transports == (Transport.UDP, Transport.TLS)
    assert config.tls_port == 5071
    assert config.tls.certificate == pem / "both.pem" and config.tls.key is None


def test_tls_alone_listens_on_the_listen_port_or_its_own(tmp_path: Path, pem: Path) -> None:
    tls = f"[tls]\ncertificate = {pem}/cert.pem\nkey = {pem}/key.pem\nca = {pem}/cert.pem\n"
    alone = load_config(
        write(tmp_path, f"[general]\nlisten = 127.0.0.1:5061\ntransport = tls\n{tls}")
    )
    assert (alone.transports, alone.tls_port) == ((Transport.TLS,), 5061)
    assert alone.tls.key == pem / "key.pem" and alone.tls.ca == pem / "cert.pem"
    own = load_config(write(tmp_path, f"[general]\ntransport = tls:5081\n{tls}"))
    assert own.tls_port == 5081


def test_media_settings_are_read(tmp_path: Path) -> None:
    text = (
        "[general]\nmax_calls = 10\n"
        "[media]\nrtp_ports = 10000-10019\nsrtp = Mandatory\ncodecs = pcma, g722\n"
        "jitter_buffer = adaptive\n"
    )
    config = load_config(write(tmp_path, text))
    media = config.media
    assert media.rtp_ports == (10000, 10019)
    assert media.srtp is Srtp.MANDATORY
    assert media.codecs == (Codec.PCMA, Codec.G722)
    assert media.jitter_buffer is JitterBuffer.ADAPTIVE
    stack = SipEngine(settings_from(config))._stack_directives()
    assert "audio_jitter_buffer_type adaptive\n" in stack


def test_an_odd_first_rtp_port_is_left_unused(tmp_path: Path) -> None:
    """The engine puts RTP on the even port at or below the one it draws: it is given
    the range from an even port, so that it never uses the port below the range."""
    text = "[general]\nmax_calls = 9\n[media]\nrtp_ports = 10001-10019\n"
    assert settings_from(load_config(write(tmp_path, text))).rtp_range == "10002-10019"
    too_small = write(tmp_path, "[general]\nmax_calls = 10\n[media]\nrtp_ports = 10001-10020\n")
    [found] = problems(too_small)
    assert "10001-10020 has room for 9 calls" in found


def test_received_audio_is_not_held_in_a_jitter_buffer_unless_asked(tmp_path: Path) -> None:
    config = load_config(write(tmp_path, "[general]\n"))
    assert config.media.jitter_buffer is JitterBuffer.OFF
    stack = SipEngine(settings_from(config))._stack_directives()
    assert "audio_jitter_buffer_type off\n" in stack


MISTAKES = [
    ("[general]\ntransport = udp, sctp", "[general] transport: expected udp or tcp or tls"),
    ("[general]\ntransport = udp, udp", "[general] transport: udp is given twice"),
    ("[general]\ntransport = udp:5070", "[general] transport: 'udp:5070': udp and tcp listen on"),
    (
        "[general]\ntransport = udp, tls:5070",
        "[general] transport: tls:5070: with udp or tcp on port 5060 the SIP engine puts TLS on "
        "port 5061",
    ),
    ("[general]\ntransport = tcp, tls", "[general] transport: tls needs a certificate: set [tls]"),
    ("[tls]\ncertificate = nowhere.pem", "[tls] certificate: cannot read "),
    ("[tls]\nca = sip.conf", "[tls] ca: "),
    ("[media]\nrtp_ports = 10000", "[media] rtp_ports: expected LOW-HIGH, e.g. 10000-20000"),
    ("[media]\nrtp_ports = 80-1000", "[media] rtp_ports: must be from 1024 to 65535, got 80"),
    ("[media]\nrtp_ports = 20000-10000", "[media] rtp_ports: the range must go up: 20000 is not"),
    (
        "[media]\nrtp_ports = 10000-10099",
        "[media] rtp_ports: 10000-10099 has room for 50 calls (2 ports each, RTP and RTCP), "
        "fewer than [general] max_calls = 200",
    ),
    ("[media]\nrtp_ports = 5000-6000", "[media] rtp_ports: 5000-6000 holds the SIP port 5060"),
    (
        "[media]\nexternal_address = 203.0.113.7",
        "[media] external_address: the SIP engine (baresip) cannot put a fixed external address",
    ),
    ("[media]\nsrtp = dtls", "[media] srtp: expected off or optional or mandatory, got 'dtls'"),
    ("[media]\ncodecs = g722, opus", "[media] codecs: expected g722 or pcma or pcmu, got 'opus'"),
    ("[media]\ncodecs = pcmu, PCMU", "[media] codecs: pcmu is given twice"),
    (
        "[media]\njitter_buffer = 60",
        "[media] jitter_buffer: expected off or fixed or adaptive, got '60'",
    ),
]


@pytest.mark.parametrize(("text", "message"), MISTAKES)
def test_each_mistake_is_named_on_its_line(tmp_path: Path, text: str, message: str) -> None:
    path = write(tmp_path, text + "\n")
    [found] = problems(path)
    assert found.startswith(f"{path}:2: {message}"), found


def test_a_certificate_without_its_key_is_refused(tmp_path: Path, pem: Path) -> None:
    path = write(tmp_path, f"[tls]\ncertificate = {pem}/cert.pem\n")
    [found] = problems(path)
    assert found == (
        f"{path}:2: [tls] certificate: {pem}/cert.pem holds no private key: name it with key = PATH"
    )


def test_a_key_without_a_certificate_is_refused(tmp_path: Path, pem: Path) -> None:
    path = write(tmp_path, f"[tls]\nkey = {pem}/key.pem\n")
    [found] = problems(path)
    assert found == f"{path}:2: [tls] key: a key needs its certificate: set certificate too"


def test_a_key_file_must_hold_a_key(tmp_path: Path, pem: Path) -> None:
    path = write(tmp_path, f"[tls]\ncertificate = {pem}/cert.pem\nkey = {pem}/cert.pem\n")
    [found] = problems(path)
    assert found == f"{path}:3: [tls] key: {pem}/cert.pem holds no private key (PEM)"
