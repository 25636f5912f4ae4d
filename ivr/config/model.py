"""The settings sip.conf gives the service, as typed values with their defaults.

Building them from the file is `ivr.config.load`'s job; these classes only
hold the result, so that tests and the service can make one by hand.
"""

from __future__ import annotations

import enum
import ipaddress
import logging
from dataclasses import dataclass, field
from datetime import time
from pathlib import Path
from zoneinfo import ZoneInfo

from ivr.domain import AfterHours, UnknownCallers
from ivr.paging.policy import Policy
from ivr.sla import DEFAULT_SLA_RULES, MONDAY_TO_FRIDAY, BusinessCalendar, SlaRules

# The SIP engine has 255 call lines per user agent; inbound calls may use at
# most this many, so that page calls always find a free line.
MAX_INBOUND_CALLS = 240


class LogFormat(enum.StrEnum):
    """How log lines are written: for people reading them, or for a log shipper."""

    TEXT = "text"  # one line of text per record
    JSON = "json"  # one JSON object per line: time, level, logger, message


class LogLevel(enum.StrEnum):
    """The least a log record must be to be written (`ivr serve --log-level` wins)."""

    DEBUG = "debug"
    INFO = "info"
    WARNING = "warning"
    ERROR = "error"

    @property
    def number(self) -> int:
        """The logging module's number for this level."""
        return logging.getLevelNamesMapping()[self.value.upper()]


@dataclass(frozen=True)
class TrunkConfig:
    registrar: str | None = None
    username: str = ""
    password: str = ""
    trusted_networks: tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...] = ()
    require_trusted_source: bool = False

    def is_trusted(self, address: str | None) -> bool:
        """Whether a request from this source address may assert identity."""
        if not address:
            return False
        try:
            ip = ipaddress.ip_address(address)
        except ValueError:
            return False
        return any(ip in net for net in self.trusted_networks)


@dataclass(frozen=True)
class PromptConfig:
    language: str = "en-GB"
    voice: str = "gmw/en-gb-x-rp"
    rate: int = 165
    volume: float = 1.0
    catalogue_dir: Path = Path("prompts")
    cache_dir: Path = Path("var/prompt-cache")
    recorded_dir: Path = Path("prompts/recorded")


@dataclass(frozen=True)
class MenuConfig:
    first_digit_timeout: float = 10.0
    tries: int = 3
    recent_fault_minutes: float = 60.0
    inband_dtmf: bool = True
    # A verified caller with open faults hears where the newest stands, first.
    open_fault_status: bool = True
    # A caller whose number is not a supplied handset may prove who they are
    # with an account number and PIN (the handset may be what is down).
    unknown_callers: UnknownCallers = UnknownCallers.PIN


@dataclass(frozen=True)
class RecordingConfig:
    """The caller's spoken description of a fault."""

    enabled: bool = True
    directory: Path = Path("var/recordings")
    max_seconds: float = 120.0
    silence_seconds: float = 5.0


@dataclass(frozen=True)
class HoursConfig:
    open: time = time(9, 0)
    close: time = time(17, 0)
    holidays: str = "GB-ENG"
    # Working days as date.weekday() numbers, Monday 0: Monday to Friday.
    days: frozenset[int] = MONDAY_TO_FRIDAY
    # Which faults the phone takes out of hours (the SLA: critical only).
    after_hours: AfterHours = AfterHours.CRITICAL_ONLY

    def calendar(self, tz: ZoneInfo) -> BusinessCalendar:
        """The business calendar these hours describe in the service's time zone."""
        return BusinessCalendar(
            tz=tz, open=self.open, close=self.close, holiday_region=self.holidays, days=self.days
        )


@dataclass(frozen=True)
class PageCallConfig:
    """How a page call sounds: how often the message is said, how long to wait for a key."""

    message_plays: int = 3
    key_timeout: float = 5.0
    # How long a node holds a page it is calling for; None: the longest ring
    # plus a margin (ivr.paging.scheduler). After a node dies, another node
    # takes its page over once the lease has run out.
    lease_seconds: float | None = None
    # After 1, offer 5: the fault line calls the customer back and joins the calls.
    callback: bool = True


@dataclass(frozen=True)
class SupportConfig:
    ticket: str = "open a support ticket on the CLI SECURE customer portal"
    email: str = "support at clisecure dot co dot uk"


@dataclass(frozen=True)
class WebConfig:
    """The admin web page (`ivr web`): where it listens and how sign-ins last."""

    listen_host: str = "127.0.0.1"
    listen_port: int = 8080
    session_hours: float = 8.0
    secret_key_file: Path = Path("var/web-secret.key")
    metrics: bool = True
    secure_cookies: bool = False
    # Reverse proxies whose X-Forwarded-For names the client (sign-in limits).
    trusted_proxies: tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...] = ()


@dataclass(frozen=True)
class EmailConfig:
    """`[email]`: the SMTP server customers' e-mails go through, and how failures are retried."""

    smtp_host: str
    smtp_port: int
    sender: str  # the From address
    starttls: bool = True
    username: str = ""
    password: str = ""
    timeout_seconds: float = 30.0
    # Doubling waits between attempts, from the first to the longest, then failed.
    retry_first_seconds: float = 30.0
    retry_max_seconds: float = 3600.0
    max_attempts: int = 8
    # How often the sender looks for messages another process queued.
    poll_seconds: float = 5.0


DEFAULT_SCANNER_USER_AGENTS = ("friendly-scanner", "sipvicious", "sipcli", "VaxSIPUserAgent")


@dataclass(frozen=True)
class GuardConfig:
    """Flood and scanner guard on the SIP port (ivr/sip/guard.py)."""

    enabled: bool = True
    requests_per_second: int = 20
    burst: int = 40
    ban_seconds: int = 60
    scanner_user_agents: tuple[str, ...] = DEFAULT_SCANNER_USER_AGENTS


class Transport(enum.StrEnum):
    """How SIP reaches the fault line."""

    UDP = "udp"
    TCP = "tcp"
    TLS = "tls"


class Srtp(enum.StrEnum):
    """Whether the audio is encrypted (SRTP, keys in the SDP: SDES)."""

    OFF = "off"  # plain RTP only
    OPTIONAL = "optional"  # encrypted when the caller offers it, plain otherwise
    MANDATORY = "mandatory"  # a caller who cannot encrypt is refused


class JitterBuffer(enum.StrEnum):
    """How received audio is held to even out its arrival (the engine's own buffer)."""

    OFF = "off"  # decoded as it arrives: least delay for the callback bridge
    FIXED = "fixed"  # held 100-200 ms whatever the network does
    ADAPTIVE = "adaptive"  # held as long as the arrival jitter needs


class Codec(enum.StrEnum):
    """The audio codecs the fault line can speak, in the order of preference given."""

    G722 = "g722"  # wideband; prompts and keys still go through the 8 kHz pipeline
    PCMA = "pcma"
    PCMU = "pcmu"


@dataclass(frozen=True)
class TlsConfig:
    """SIP over TLS: our certificate and key, and whom we trust when we call out."""

    certificate: Path | None = None
    key: Path | None = None  # None: the key is in the certificate file
    ca: Path | None = None  # None: a TLS peer we call is not authenticated


@dataclass(frozen=True)
class MediaConfig:
    # The UDP ports RTP and RTCP may use (so a firewall can open just these);
    # None: any port the system gives.
    rtp_ports: tuple[int, int] | None = None
    srtp: Srtp = Srtp.OFF
    codecs: tuple[Codec, ...] = (Codec.G722, Codec.PCMU, Codec.PCMA)
    jitter_buffer: JitterBuffer = JitterBuffer.OFF


@dataclass(frozen=True)
class Config:
    listen_host: str = "127.0.0.1"
    listen_port: int = 5060
    public_number: str = "+442033551151"
    database_url: str = "sqlite:///var/faultline.db"
    data_dir: Path = Path("var")
    timezone: ZoneInfo = field(default_factory=lambda: ZoneInfo("Europe/London"))
    max_calls: int = 200
    rtp_timeout: int = 60
    # How long a caller's confirmed fault (or any other write) waits for a
    # database that has gone away before the caller hears of a technical problem.
    database_wait_seconds: float = 30.0
    # Whether `ivr serve` brings the schema to the newest migration as it
    # starts; with no, it refuses a database behind the code (`ivr db upgrade`).
    auto_migrate: bool = True
    log_format: LogFormat = LogFormat.TEXT
    log_level: LogLevel = LogLevel.INFO
    # Where `ivr serve` answers /metrics and /healthz for this node; None: nowhere.
    metrics_listen: tuple[str, int] | None = ("127.0.0.1", 9460)
    # SIP listeners: UDP and TCP on listen_port, TLS on tls_port (the
    # engine puts TLS one port above UDP and TCP when they listen too).
    transports: tuple[Transport, ...] = (Transport.UDP, Transport.TCP)
    tls_port: int | None = None
    tls: TlsConfig = field(default_factory=TlsConfig)
    media: MediaConfig = field(default_factory=MediaConfig)
    trunk: TrunkConfig = field(default_factory=TrunkConfig)
    prompts: PromptConfig = field(default_factory=PromptConfig)
    menu: MenuConfig = field(default_factory=MenuConfig)
    recording: RecordingConfig = field(default_factory=RecordingConfig)
    hours: HoursConfig = field(default_factory=HoursConfig)
    support: SupportConfig = field(default_factory=SupportConfig)
    paging: Policy = field(default_factory=Policy)
    web: WebConfig = field(default_factory=WebConfig)
    page_call: PageCallConfig = field(default_factory=PageCallConfig)
    guard: GuardConfig = field(default_factory=GuardConfig)
    # Without an [email] section no e-mail is sent (the outbox still fills).
    email: EmailConfig | None = None
    # The SLA targets per priority ([sla]); the published SLA unless configured.
    sla: SlaRules = field(default_factory=lambda: DEFAULT_SLA_RULES)
