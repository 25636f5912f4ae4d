"""sip.conf's network settings: SIP transports, `[tls]` and `[media]`.

Each is what the SIP engine (baresip) can actually do, and a combination it
cannot do is refused here, by name, rather than failing at start-up or on
the first call:
- TLS listens one port above UDP and TCP when they listen too (the engine
  derives it from the one listen address; it has no separate TLS address);
- the certificate file holds the key too, unless `key` names it (the
  engine reads one file; the service joins the two at start-up);
- no fixed external address can be put in SDP and Contact (the engine has
  no such setting: it learns a public address only through STUN or ICE);
- RTP needs two ports a call (RTP and RTCP) within `rtp_ports`.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from ivr.config.model import Codec, JitterBuffer, MediaConfig, Srtp, TlsConfig, Transport
from ivr.config.source import Invalid, Section, resolve_path
from ivr.config.values import one_of, whole

Listener = tuple[Transport, int | None]  # a transport, with the port written for it if any

PORTS_PER_CALL = 2  # RTP and RTCP
LOWEST_RTP_PORT = 1024
_PEM_CERTIFICATE = "-----BEGIN CERTIFICATE-----"
_PEM_KEY = "PRIVATE KEY-----"
EXTERNAL_ADDRESS_REFUSED = (
    "the SIP engine (baresip) cannot put a fixed external address in SDP and Contact; "
    "give the node an address its callers reach (behind 1:1 NAT, a SIP proxy with a "
    "media relay in front of it) and leave this empty"
)


def _listener(item: str) -> Listener:
    name, sep, port = item.partition(":")
    kind = one_of(Transport)(name)
    if not sep:
        return kind, None
    if kind is not Transport.TLS:
        raise Invalid(f"{item!r}: udp and tcp listen on the port in listen; only tls takes a port")
    return kind, whole(1, 65535)(port)


def _listeners(raw: str) -> tuple[Listener, ...]:
    listeners = tuple(_listener(part.strip()) for part in raw.split(",") if part.strip())
    if not listeners:
        raise Invalid("expected one or more of udp, tcp, tls (e.g. udp, tls)")
    kinds = [kind for kind, _ in listeners]
    for kind in set(kinds):
        if kinds.count(kind) > 1:
            raise Invalid(f"{kind} is given twice")
    return listeners


def _show_listeners(listeners: tuple[Listener, ...]) -> str:
    return ", ".join(kind if port is None else f"{kind}:{port}" for kind, port in listeners)


def transports(general: Section, listen_port: int) -> tuple[tuple[Transport, ...], int | None]:
    """The SIP transports, and the port TLS listens on when it is one of them."""
    default = ((Transport.UDP, None), (Transport.TCP, None))
    listeners = general.get("transport", _show_listeners(default), _listeners, show=_show_listeners)
    kinds = tuple(kind for kind, _ in listeners)
    if Transport.TLS not in kinds or not general.ok("transport", "listen"):
        return kinds, None
    written = dict(listeners)[Transport.TLS]
    if kinds == (Transport.TLS,):
        tls_port = written or listen_port
        if tls_port > 1:
            return kinds, tls_port
        general.problem("transport", "tls cannot listen on port 1")
    elif written is not None and written != listen_port + 1:
        general.problem(
            "transport",
            f"tls:{written}: with udp or tcp on port {listen_port} the SIP engine puts TLS on "
            f"port {listen_port + 1}; write tls:{listen_port + 1}, or tls alone",
        )
    elif listen_port == 65535:
        general.problem("transport", "tls would listen on port 65536: lower the listen port")
    else:
        return kinds, listen_port + 1
    return tuple(kind for kind, _ in default), None


def _pem_file(base: Path, marker: str, what: str) -> Callable[[str], Path]:
    def parse(raw: str) -> Path:
        path = resolve_path(base, raw)
        try:
            content = path.read_text(encoding="ascii", errors="replace")
        except OSError as exc:
            raise Invalid(f"cannot read {path}: {exc.strerror}") from None
        if marker not in content:
            raise Invalid(f"{path} holds no {what} (PEM)")
        return path

    return parse


def _optional(parse: Callable[[str], Path]) -> Callable[[str], Path | None]:
    def optional(raw: str) -> Path | None:
        return parse(raw) if raw else None

    return optional


def _show_path(path: Path | None) -> str:
    return "" if path is None else str(path)


def tls(
    section: Section, base: Path, general: Section, transports: tuple[Transport, ...]
) -> TlsConfig:
    """Our certificate and key (needed to listen for TLS) and the CA for peers we call.

    A missing certificate is blamed on `[general] transport`, the line that asked for TLS.
    """
    certificate = section.get(
        "certificate",
        "",
        _optional(_pem_file(base, _PEM_CERTIFICATE, "certificate")),
        show=_show_path,
    )
    key = section.get(
        "key", "", _optional(_pem_file(base, _PEM_KEY, "private key")), show=_show_path
    )
    ca = section.get(
        "ca", "", _optional(_pem_file(base, _PEM_CERTIFICATE, "certificate")), show=_show_path
    )
    config = TlsConfig(certificate=certificate, key=key, ca=ca)
    if not section.ok("certificate", "key"):
        return config
    if certificate is None and Transport.TLS in transports:
        general.problem("transport", "tls needs a certificate: set [tls] certificate (and key)")
    elif certificate is None and key is not None:
        section.problem("key", "a key needs its certificate: set certificate too")
    elif certificate is not None and key is None:
        content = certificate.read_text(encoding="ascii", errors="replace")
        if _PEM_KEY not in content:
            section.problem(
                "certificate", f"{certificate} holds no private key: name it with key = PATH"
            )
    return config


def _port_range(raw: str) -> tuple[int, int] | None:
    if not raw:
        return None
    low_text, sep, high_text = raw.partition("-")
    if not sep:
        raise Invalid(f"expected LOW-HIGH, e.g. 10000-20000, got {raw!r}")
    port = whole(LOWEST_RTP_PORT, 65535)
    low, high = port(low_text.strip()), port(high_text.strip())
    if high <= low:
        raise Invalid(f"the range must go up: {low} is not below {high}")
    return low, high


def _show_range(ports: tuple[int, int] | None) -> str:
    return "" if ports is None else f"{ports[0]}-{ports[1]}"


def _codecs(raw: str) -> tuple[Codec, ...]:
    codecs = tuple(one_of(Codec)(part.strip()) for part in raw.split(",") if part.strip())
    if not codecs:
        raise Invalid("expected one or more of g722, pcma, pcmu")
    for codec in set(codecs):
        if codecs.count(codec) > 1:
            raise Invalid(f"{codec} is given twice")
    return codecs


def _show_codecs(codecs: tuple[Codec, ...]) -> str:
    return ", ".join(codecs)


def _no_external_address(raw: str) -> None:
    if raw:
        raise Invalid(EXTERNAL_ADDRESS_REFUSED)


def media(section: Section, max_calls: int, sip_ports: tuple[int, ...]) -> MediaConfig:
    """RTP ports, SRTP, codecs and the jitter buffer; the port range must hold `max_calls` calls."""
    defaults = MediaConfig()
    rtp_ports = section.get("rtp_ports", "", _port_range, show=_show_range)
    section.get("external_address", "", _no_external_address, show=lambda _: "")
    config = MediaConfig(
        rtp_ports=rtp_ports,
        srtp=section.get("srtp", defaults.srtp.value, one_of(Srtp), show=str),
        codecs=section.get("codecs", _show_codecs(defaults.codecs), _codecs, show=_show_codecs),
        jitter_buffer=section.get(
            "jitter_buffer", defaults.jitter_buffer.value, one_of(JitterBuffer), show=str
        ),
    )
    if rtp_ports is not None and section.ok("rtp_ports"):
        low, high = rtp_ports
        # RTP takes even ports (the engine starts an odd range one port up).
        calls = (high - (low + low % 2) + 1) // PORTS_PER_CALL
        if calls < max_calls:
            section.problem(
                "rtp_ports",
                f"{low}-{high} has room for {calls} calls ({PORTS_PER_CALL} ports each, RTP "
                f"and RTCP), fewer than [general] max_calls = {max_calls}",
            )
        clash = [port for port in sip_ports if low <= port <= high]
        if clash:
            section.problem("rtp_ports", f"{low}-{high} holds the SIP port {clash[0]}")
    return config
