"""sip.conf, loaded once into a typed, validated object.

Everything the service needs from the operator is read here so that a typo
is reported at start-up with the section and key, not mid-call.
"""

from __future__ import annotations

import configparser
import ipaddress
from dataclasses import dataclass, field
from datetime import time
from pathlib import Path
from types import MappingProxyType
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from ivr.flow.events import Priority
from ivr.paging.rota import parse_weekday
from ivr.sla import DEFAULT_SLA_RULES, WEEKDAYS, Clock, SlaRule, SlaRules, Target

if TYPE_CHECKING:
    from ivr.paging.policy import Policy


# The SIP engine has 255 call lines per user agent; inbound calls may use at
# most this many, so that page calls always find a free line.
MAX_INBOUND_CALLS = 240


class ConfigError(ValueError):
    """The configuration cannot be used; the message names the key."""


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
    days: frozenset[int] = WEEKDAYS


@dataclass(frozen=True)
class PageCallConfig:
    """How a page call sounds: how often the message is said, how long to wait for a key."""

    message_plays: int = 3
    key_timeout: float = 5.0
    # How long a node holds a page it is calling for; None: the longest ring
    # plus a margin (ivr.paging.scheduler). After a node dies, another node
    # takes its page over once the lease has run out.
    lease_seconds: float | None = None


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


DEFAULT_SCANNER_USER_AGENTS = ("friendly-scanner", "sipvicious", "sipcli", "VaxSIPUserAgent")


@dataclass(frozen=True)
class GuardConfig:
    """Flood and scanner guard on the SIP port (ivr/sip/guard.py)."""

    enabled: bool = True
    requests_per_second: int = 20
    burst: int = 40
    ban_seconds: int = 60
    scanner_user_agents: tuple[str, ...] = DEFAULT_SCANNER_USER_AGENTS


def _default_paging() -> Policy:
    # Imported late: the policy module raises ConfigError, defined here.
    from ivr.paging.policy import Policy

    return Policy()


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
    trunk: TrunkConfig = field(default_factory=TrunkConfig)
    prompts: PromptConfig = field(default_factory=PromptConfig)
    menu: MenuConfig = field(default_factory=MenuConfig)
    recording: RecordingConfig = field(default_factory=RecordingConfig)
    hours: HoursConfig = field(default_factory=HoursConfig)
    support: SupportConfig = field(default_factory=SupportConfig)
    paging: Policy = field(default_factory=_default_paging)
    web: WebConfig = field(default_factory=WebConfig)
    page_call: PageCallConfig = field(default_factory=PageCallConfig)
    guard: GuardConfig = field(default_factory=GuardConfig)
    # The SLA targets per priority ([sla]); the published SLA unless configured.
    sla: SlaRules = field(default_factory=lambda: DEFAULT_SLA_RULES)


def _resolve(base: Path, value: str) -> Path:
    path = Path(value).expanduser()
    return path if path.is_absolute() else (base / path)


def _database_url(base: Path, url: str) -> str:
    """Make a relative SQLite path relative to the config file, not the cwd."""
    prefix = "sqlite:///"
    if url.startswith(prefix) and not url.startswith(prefix + "/") and url != prefix + ":memory:":
        return prefix + str(_resolve(base, url[len(prefix) :]))
    return url


def _split_hostport(value: str, key: str) -> tuple[str, int]:
    host, sep, port = value.rpartition(":")
    if not sep or not host:
        raise ConfigError(f"[general] {key}: expected HOST:PORT, got {value!r}")
    try:
        port_number = int(port)
    except ValueError:
        raise ConfigError(f"[general] {key}: port {port!r} is not a number") from None
    if not 0 < port_number < 65536:
        raise ConfigError(f"[general] {key}: port {port_number} is out of range")
    return host.strip("[]"), port_number


def _time(value: str, where: str) -> time:
    try:
        hours, minutes = value.split(":")
        return time(int(hours), int(minutes))
    except ValueError:
        raise ConfigError(f"{where}: expected HH:MM, got {value!r}") from None


_DAYS_EXPECTED = "expected days such as mon-fri, or mon,tue,thu, or sun-thu"


def _day(name: str, value: str) -> int:
    try:
        return parse_weekday(name)
    except ValueError as exc:
        raise ConfigError(f"[hours] days: {exc}; {_DAYS_EXPECTED}, got {value!r}") from None


def _days(value: str) -> frozenset[int]:
    """`[hours] days`: comma-separated days and ranges of days, e.g. "mon-fri, sun"."""
    days: set[int] = set()
    for item in (part.strip() for part in value.split(",")):
        if not item:
            continue
        first, dash, last = item.partition("-")
        start = _day(first, value)
        # A range may run past Sunday: sun-thu is Sunday to Thursday.
        span = (_day(last, value) - start) % 7 if dash else 0
        days.update((start + step) % 7 for step in range(span + 1))
    if not days:
        raise ConfigError(f"[hours] days: {_DAYS_EXPECTED}, got {value!r}")
    return frozenset(days)


_SLA_STAGES = {
    "ack": "acknowledge",
    "acknowledge": "acknowledge",
    "respond": "respond",
    "resolve": "resolve",
}
_SLA_EXPECTED = (
    "expected ack, respond and resolve each with HOURS and core or clock, "
    "e.g. 'ack 5 core, respond 8 core, resolve 40 core' ('resolve none' for no deadline)"
)


def _sla_rule(key: str, value: str) -> SlaRule:
    """One `[sla]` priority: all three stages, so that each line reads as the whole rule."""
    where = f"[sla] {key}"
    targets: dict[str, Target | None] = {}
    for item in (part.strip() for part in value.replace("\n", ",").split(",")):
        if not item:
            continue
        words = item.lower().split()
        stage = _SLA_STAGES.get(words[0])
        if stage is None:
            raise ConfigError(f"{where}: unknown stage {words[0]!r} in {item!r}; {_SLA_EXPECTED}")
        if stage in targets:
            raise ConfigError(f"{where}: {stage} is given twice; {_SLA_EXPECTED}")
        if words[1:] == ["none"]:
            if stage != "resolve":
                raise ConfigError(
                    f"{where}: {stage} must have a deadline; only resolve may be none"
                )
            targets[stage] = None
            continue
        if len(words) != 3:
            raise ConfigError(f"{where}: cannot read {item!r}; {_SLA_EXPECTED}")
        try:
            hours = float(words[1])
        except ValueError:
            raise ConfigError(
                f"{where}: {stage} hours {words[1]!r} is not a number; {_SLA_EXPECTED}"
            ) from None
        try:
            clock = Clock(words[2])
        except ValueError:
            raise ConfigError(
                f"{where}: {stage} counts {words[2]!r} hours; expected core (business hours "
                "only) or clock (every hour)"
            ) from None
        try:
            targets[stage] = Target(hours, clock)
        except ValueError as exc:
            raise ConfigError(f"{where}: {stage} {exc}") from None
    missing = [stage for stage in ("acknowledge", "respond", "resolve") if stage not in targets]
    if missing:
        raise ConfigError(f"{where}: no {' or '.join(missing)} given; {_SLA_EXPECTED}")
    acknowledge, respond = targets["acknowledge"], targets["respond"]
    assert acknowledge is not None and respond is not None  # only resolve may be none
    try:
        return SlaRule(acknowledge=acknowledge, respond=respond, resolve=targets["resolve"])
    except ValueError as exc:
        raise ConfigError(f"{where}: {exc}") from None


def _sla_rules(parser: configparser.ConfigParser) -> SlaRules:
    """`[sla]`: one key per priority; absent priorities keep the published SLA."""
    if not parser.has_section("sla"):
        return DEFAULT_SLA_RULES
    known = {p.value: p for p in Priority}
    keys = [key for key in parser.options("sla") if key not in parser.defaults()]
    unknown = sorted(set(keys) - set(known))
    if unknown:
        raise ConfigError(f"[sla] {unknown[0]}: not a priority; the keys are {', '.join(known)}")
    rules = dict(DEFAULT_SLA_RULES)
    for key in keys:
        raw = parser.get("sla", key).strip()
        if raw:
            rules[known[key]] = _sla_rule(key, raw)
    return MappingProxyType(rules)


def _networks(
    value: str, key: str = "[trunk] trusted_addresses"
) -> tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]:
    networks = []
    for item in (part.strip() for part in value.split(",")):
        if not item:
            continue
        try:
            networks.append(ipaddress.ip_network(item, strict=False))
        except ValueError:
            raise ConfigError(f"{key}: {item!r} is not an address or network") from None
    return tuple(networks)


def _web_config(parser: configparser.ConfigParser, base: Path) -> WebConfig:
    section = parser["web"] if parser.has_section("web") else {}
    listen = (section.get("listen") or "").strip() or "127.0.0.1:8080"
    host, sep, port = listen.rpartition(":")
    if not sep or not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise ConfigError(f"[web] listen: expected HOST:PORT, got {listen!r}")
    raw_hours = (section.get("session_hours") or "").strip() or "8"
    try:
        hours = float(raw_hours)
    except ValueError:
        raise ConfigError(f"[web] session_hours: {raw_hours!r} is not a number") from None
    if not 0 < hours <= 24 * 30:
        raise ConfigError("[web] session_hours: must be more than 0 and at most 720")
    flags = {}
    for key, default in (("metrics", True), ("secure_cookies", False)):
        try:
            flags[key] = parser.getboolean("web", key, fallback=default)
        except ValueError:
            raise ConfigError(f"[web] {key}: expected yes or no") from None
    key_file = (section.get("secret_key_file") or "").strip() or "var/web-secret.key"
    return WebConfig(
        listen_host=host.strip("[]"),
        listen_port=int(port),
        session_hours=hours,
        secret_key_file=_resolve(base, key_file),
        metrics=flags["metrics"],
        secure_cookies=flags["secure_cookies"],
        trusted_proxies=_networks(section.get("trusted_proxies") or "", "[web] trusted_proxies"),
    )


def _guard_config(parser: configparser.ConfigParser) -> GuardConfig:
    section = parser["guard"] if parser.has_section("guard") else {}
    try:
        enabled = parser.getboolean("guard", "enabled", fallback=True)
    except ValueError:
        raise ConfigError("[guard] enabled: expected yes or no") from None
    numbers = {}
    for key, default in (("requests_per_second", 20), ("burst", 40), ("ban_seconds", 60)):
        raw = (section.get(key) or "").strip() or str(default)
        if not raw.isdigit() or int(raw) < 1:
            raise ConfigError(f"[guard] {key}: expected a whole number of at least 1, got {raw!r}")
        numbers[key] = int(raw)
    raw_agents = section.get("scanner_user_agents")
    agents = (
        DEFAULT_SCANNER_USER_AGENTS
        if raw_agents is None
        else tuple(part.strip() for part in raw_agents.split(",") if part.strip())
    )
    for agent in agents:
        if not agent.isprintable() or '"' in agent:
            raise ConfigError(f"[guard] scanner_user_agents: {agent!r} must be plain text")
    return GuardConfig(
        enabled=enabled,
        requests_per_second=numbers["requests_per_second"],
        burst=numbers["burst"],
        ban_seconds=numbers["ban_seconds"],
        scanner_user_agents=agents,
    )


def load_config(path: str | Path) -> Config:
    """Read and validate a sip.conf file."""
    path = Path(path)
    parser = configparser.ConfigParser(inline_comment_prefixes=(";", "#"))
    try:
        with path.open(encoding="utf-8") as handle:
            parser.read_file(handle)
    except OSError as exc:
        raise ConfigError(f"cannot read {path}: {exc.strerror}") from None
    except configparser.Error as exc:
        raise ConfigError(f"{path}: {exc}") from None
    return config_from_parser(parser, path.resolve().parent)


def config_from_parser(parser: configparser.ConfigParser, base: Path) -> Config:
    """Build a Config from parsed INI sections, filling defaults."""

    def get(section: str, key: str, default: str) -> str:
        return parser.get(section, key, fallback=default).strip() or default

    def number(section: str, key: str, default: float, kind: type = float) -> float:
        raw = get(section, key, str(default))
        try:
            value = kind(raw)
        except ValueError:
            raise ConfigError(f"[{section}] {key}: {raw!r} is not a number") from None
        if value < 0:
            raise ConfigError(f"[{section}] {key}: must not be negative")
        return float(value)

    def boolean(section: str, key: str, default: bool) -> bool:
        try:
            return parser.getboolean(section, key, fallback=default)
        except ValueError:
            raise ConfigError(f"[{section}] {key}: expected yes or no") from None

    defaults = Config()
    host, port = _split_hostport(get("general", "listen", "127.0.0.1:5060"), "listen")
    tz_name = get("general", "timezone", "Europe/London")
    try:
        timezone = ZoneInfo(tz_name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ConfigError(f"[general] timezone: unknown time zone {tz_name!r}") from None

    registrar = parser.get("trunk", "registrar", fallback="").strip() or None
    trunk = TrunkConfig(
        registrar=registrar,
        username=parser.get("trunk", "username", fallback="").strip(),
        password=parser.get("trunk", "password", fallback="").strip(),
        trusted_networks=_networks(parser.get("trunk", "trusted_addresses", fallback="")),
        require_trusted_source=boolean("trunk", "require_trusted_source", False),
    )
    prompts = PromptConfig(
        language=get("prompts", "language", defaults.prompts.language),
        voice=get("prompts", "voice", defaults.prompts.voice),
        rate=int(number("prompts", "rate", defaults.prompts.rate, int)),
        volume=min(1.0, number("prompts", "volume", defaults.prompts.volume)),
        catalogue_dir=_resolve(base, get("prompts", "catalogue_dir", "prompts")),
        cache_dir=_resolve(base, get("prompts", "cache_dir", "var/prompt-cache")),
        recorded_dir=_resolve(base, get("prompts", "recorded_dir", "prompts/recorded")),
    )
    tries = int(number("menu", "tries", defaults.menu.tries, int))
    if tries < 1:
        raise ConfigError("[menu] tries: must be at least 1")
    menu = MenuConfig(
        first_digit_timeout=number("menu", "first_digit_timeout", 10.0),
        tries=tries,
        recent_fault_minutes=number("menu", "recent_fault_minutes", 60.0),
        inband_dtmf=boolean("menu", "inband_dtmf", True),
    )
    data_dir = _resolve(base, get("general", "data_dir", "var"))
    recording = RecordingConfig(
        enabled=boolean("recording", "enabled", True),
        directory=_resolve(data_dir, get("recording", "directory", "recordings")),
        max_seconds=max(1.0, number("recording", "max_seconds", 120.0)),
        silence_seconds=max(0.5, number("recording", "silence_seconds", 5.0)),
    )
    hours = HoursConfig(
        open=_time(get("hours", "open", "09:00"), "[hours] open"),
        close=_time(get("hours", "close", "17:00"), "[hours] close"),
        holidays=get("hours", "holidays", "GB-ENG"),
        days=_days(get("hours", "days", "mon-fri")),
    )
    if hours.close <= hours.open:
        raise ConfigError("[hours] close must be after open")
    support = SupportConfig(
        ticket=get("support", "ticket", defaults.support.ticket),
        email=get("support", "email", defaults.support.email),
    )
    from ivr.paging.policy import policy_from_config

    paging = policy_from_config(parser["paging"] if parser.has_section("paging") else {})
    max_calls = int(number("general", "max_calls", defaults.max_calls, int))
    if not 1 <= max_calls <= MAX_INBOUND_CALLS:
        raise ConfigError(
            f"[general] max_calls: must be 1 to {MAX_INBOUND_CALLS} (the SIP engine has 255 "
            "call lines and page calls need some); run another node for more"
        )
    return Config(
        listen_host=host,
        listen_port=port,
        public_number=get("general", "public_number", defaults.public_number),
        database_url=_database_url(base, get("general", "database", defaults.database_url)),
        data_dir=data_dir,
        timezone=timezone,
        max_calls=max_calls,
        rtp_timeout=int(number("general", "rtp_timeout", defaults.rtp_timeout, int)),
        trunk=trunk,
        prompts=prompts,
        menu=menu,
        recording=recording,
        hours=hours,
        support=support,
        paging=paging,
        web=_web_config(parser, base),
        guard=_guard_config(parser),
        sla=_sla_rules(parser),
        page_call=PageCallConfig(
            message_plays=max(1, int(number("paging", "message_plays", 3, int))),
            key_timeout=number("paging", "key_timeout", 5.0),
            lease_seconds=_lease_seconds(parser, paging),
        ),
    )


def _lease_seconds(parser: configparser.ConfigParser, paging: Policy) -> float | None:
    raw = parser.get("paging", "lease_seconds", fallback="").strip()
    if not raw:
        return None
    try:
        seconds = float(raw)
    except ValueError:
        raise ConfigError(f"[paging] lease_seconds: {raw!r} is not a number") from None
    longest_ring = max(level.ring_seconds for level in paging.levels)
    if seconds <= longest_ring:
        raise ConfigError(
            f"[paging] lease_seconds: must be longer than the longest ring ({longest_ring} s), "
            "or another node takes a page over while its phone still rings"
        )
    return seconds
