"""Building a `Config` from sip.conf: every setting named, ranged and checked at load.

Each section has one function below; each setting is read once, with its
default as it would be written in the file and the rule for its value, so
that the defaults `ivr config check` shows are the ones in force.
"""

from __future__ import annotations

import ipaddress
import os
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import NamedTuple
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from ivr.callers import InvalidNumber, normalise_number
from ivr.config.calendar import core_hours, sla_rules
from ivr.config.email import email_config
from ivr.config.model import (
    DEFAULT_SCANNER_USER_AGENTS,
    MAX_INBOUND_CALLS,
    Config,
    GuardConfig,
    LogFormat,
    LogLevel,
    MenuConfig,
    PromptConfig,
    RecordingConfig,
    SupportConfig,
    TrunkConfig,
    WebConfig,
)
from ivr.config.network import media, tls, transports
from ivr.config.paging import page_call, paging_policy
from ivr.config.source import ConfigError, Invalid, Section, Setting, Source, resolve_path
from ivr.config.values import boolean, decimal, host_port, one_of, text, whole, yes_no
from ivr.domain import UnknownCallers
from ivr.store.db import check_database_url

# Where secrets may come from instead of sip.conf (besides KEY_file = PATH);
# a variable that is set wins over the file.
DATABASE_URL_ENV = "IVR_DATABASE_URL"
TRUNK_PASSWORD_ENV = "IVR_TRUNK_PASSWORD"


class LoadedConfig(NamedTuple):
    config: Config
    settings: list[Setting]  # every setting in force, secrets masked, in reading order


def _path(base: Path) -> Callable[[str], Path]:
    def parse(raw: str) -> Path:
        return resolve_path(base, raw)

    return parse


def _show_host_port(value: tuple[str, int]) -> str:
    host, port = value
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def _optional_host_port(raw: str) -> tuple[str, int] | None:
    """HOST:PORT, or nothing at all for a listener that is off."""
    return host_port(raw) if raw.strip() else None


def _show_optional_host_port(value: tuple[str, int] | None) -> str:
    return "" if value is None else _show_host_port(value)


def _phone_number(raw: str) -> str:
    try:
        return normalise_number(raw)
    except InvalidNumber as exc:
        raise Invalid(str(exc)) from None


def _timezone(raw: str) -> ZoneInfo:
    try:
        return ZoneInfo(raw)
    except (ZoneInfoNotFoundError, ValueError):
        raise Invalid(f"unknown time zone {raw!r}") from None


def _database(base: Path, data_dir: Path) -> Callable[[str], str]:
    def parse(raw: str) -> str:
        prefix = "sqlite:///"
        url = raw
        if (
            raw.startswith(prefix)
            and not raw.startswith(prefix + "/")
            and raw != prefix + ":memory:"
        ):
            url = prefix + str(_path(base)(raw[len(prefix) :]))
        try:
            sqlite_path = check_database_url(url).sqlite_path
        except ValueError as exc:
            raise Invalid(str(exc)) from None
        # The data directory is the fault line's own and is made at start-up;
        # any other missing directory is a typo that would start an empty database.
        own = sqlite_path is None or sqlite_path.parent in (data_dir, data_dir.resolve())
        if sqlite_path is not None and not own and not sqlite_path.parent.is_dir():
            raise Invalid(
                f"the directory {sqlite_path.parent} does not exist; create it or correct "
                "the path (a new, empty database there would turn every caller away)"
            )
        return url

    return parse


def _show_database(url: str) -> str:
    return check_database_url(url).masked


def _networks(raw: str) -> tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]:
    networks = []
    for item in (part.strip() for part in raw.split(",")):
        if not item:
            continue
        try:
            networks.append(ipaddress.ip_network(item, strict=False))
        except ValueError:
            raise Invalid(f"{item!r} is not an address or network") from None
    return tuple(networks)


def _show_list(values: tuple[object, ...]) -> str:
    return ", ".join(map(str, values))


def _scanner_agents(raw: str) -> tuple[str, ...]:
    agents = tuple(part.strip() for part in raw.split(",") if part.strip())
    for agent in agents:
        if not agent.isprintable() or '"' in agent:
            raise Invalid(f"{agent!r} must be plain text")
    return agents


def _trunk(section: Section) -> TrunkConfig:
    return TrunkConfig(
        registrar=section.get("registrar", "", text) or None,
        username=section.get("username", "", text),
        password=section.get("password", "", text, secret_env=TRUNK_PASSWORD_ENV),
        trusted_networks=section.get("trusted_addresses", "", _networks, show=_show_list),
        require_trusted_source=section.get("require_trusted_source", "no", boolean),
    )


def _guard(section: Section) -> GuardConfig:
    return GuardConfig(
        enabled=section.get("enabled", "yes", boolean),
        requests_per_second=section.get("requests_per_second", "20", whole(1, 100_000)),
        burst=section.get("burst", "40", whole(1, 100_000)),
        ban_seconds=section.get("ban_seconds", "60", whole(1, 7 * 86400, " seconds")),
        scanner_user_agents=section.get(
            "scanner_user_agents",
            _show_list(DEFAULT_SCANNER_USER_AGENTS),
            _scanner_agents,
            show=_show_list,
            keep_empty=True,
        ),
    )


def _prompts(section: Section, base: Path) -> PromptConfig:
    defaults = PromptConfig()
    path = _path(base)
    return PromptConfig(
        language=section.get("language", defaults.language, text),
        voice=section.get("voice", defaults.voice, text),
        rate=section.get("rate", str(defaults.rate), whole(80, 450, " words a minute")),
        volume=section.get("volume", str(defaults.volume), decimal(0, 1)),
        catalogue_dir=section.get("catalogue_dir", "prompts", path, show=str),
        cache_dir=section.get("cache_dir", "var/prompt-cache", path, show=str),
        recorded_dir=section.get("recorded_dir", "prompts/recorded", path, show=str),
    )


def _menu(section: Section) -> MenuConfig:
    return MenuConfig(
        first_digit_timeout=section.get("first_digit_timeout", "10", decimal(1, 120, " seconds")),
        tries=section.get("tries", "3", whole(1, 10)),
        recent_fault_minutes=section.get(
            "recent_fault_minutes", "60", decimal(0, 7 * 1440, " minutes")
        ),
        inband_dtmf=section.get("inband_dtmf", "yes", boolean),
        open_fault_status=section.get("open_fault_status", "yes", boolean),
        unknown_callers=section.get("unknown_callers", "pin", one_of(UnknownCallers), show=str),
    )


def _recording(section: Section, data_dir: Path) -> RecordingConfig:
    return RecordingConfig(
        enabled=section.get("enabled", "yes", boolean),
        directory=section.get("directory", "recordings", _path(data_dir), show=str),
        max_seconds=section.get("max_seconds", "120", decimal(1, 3600, " seconds")),
        silence_seconds=section.get("silence_seconds", "5", decimal(0.5, 600, " seconds")),
    )


def _support(section: Section) -> SupportConfig:
    defaults = SupportConfig()
    return SupportConfig(
        ticket=section.get("ticket", defaults.ticket, text),
        email=section.get("email", defaults.email, text),
    )


def _web(section: Section, base: Path) -> WebConfig:
    host, port = section.get("listen", "127.0.0.1:8080", host_port, show=_show_host_port)
    return WebConfig(
        listen_host=host,
        listen_port=port,
        session_hours=section.get("session_hours", "8", decimal(0.1, 720, " hours")),
        secret_key_file=section.get("secret_key_file", "var/web-secret.key", _path(base), str),
        metrics=section.get("metrics", "yes", boolean, show=yes_no),
        secure_cookies=section.get("secure_cookies", "no", boolean, show=yes_no),
        trusted_proxies=section.get("trusted_proxies", "", _networks, show=_show_list),
    )


def _config(source: Source) -> Config:
    base = source.base
    general = source.section("general")
    host, port = general.get("listen", "127.0.0.1:5060", host_port, show=_show_host_port)
    public_number = general.get("public_number", Config().public_number, _phone_number)
    data_dir = general.get("data_dir", "var", _path(base), show=str)
    database_url = general.get(
        "database",
        "sqlite:///var/faultline.db",
        _database(base, data_dir),
        show=_show_database,
        secret_env=DATABASE_URL_ENV,
    )
    timezone = general.get("timezone", "Europe/London", _timezone, show=str)
    max_calls = general.get(
        "max_calls", "200", whole(1, MAX_INBOUND_CALLS, " (255 call lines, some kept for pages)")
    )
    rtp_timeout = general.get("rtp_timeout", "60", whole(0, 3600, " seconds"))
    database_wait = general.get("database_wait_seconds", "30", decimal(0, 600, " seconds"))
    auto_migrate = general.get("auto_migrate", "yes", boolean, show=yes_no)
    log_format = general.get("log_format", "text", one_of(LogFormat), show=str)
    log_level = general.get("log_level", "info", one_of(LogLevel), show=str)
    metrics_listen = general.get(
        "metrics_listen",
        "127.0.0.1:9460",
        _optional_host_port,
        show=_show_optional_host_port,
        keep_empty=True,
    )
    sip_transports, tls_port = transports(general, port)
    tls_config = tls(source.section("tls"), base, general, sip_transports)
    sip_ports = tuple(p for p in (port, tls_port) if p is not None)
    media_config = media(source.section("media"), max_calls, sip_ports)
    trunk = _trunk(source.section("trunk"))
    guard = _guard(source.section("guard"))
    prompts = _prompts(source.section("prompts"), base)
    menu = _menu(source.section("menu"))
    recording = _recording(source.section("recording"), data_dir)
    hours = core_hours(source.section("hours"), timezone)
    sla = sla_rules(source.section("sla", what="priority"))
    support = _support(source.section("support"))
    paging_section = source.section("paging")
    paging = paging_policy(paging_section)
    page_call_config = page_call(paging_section, paging)
    web = _web(source.section("web"), base)
    email = email_config(source.section("email"), source.parser.has_section("email"))
    return Config(
        listen_host=host,
        listen_port=port,
        public_number=public_number,
        database_url=database_url,
        data_dir=data_dir,
        timezone=timezone,
        max_calls=max_calls,
        rtp_timeout=rtp_timeout,
        database_wait_seconds=database_wait,
        auto_migrate=auto_migrate,
        log_format=log_format,
        log_level=log_level,
        metrics_listen=metrics_listen,
        transports=sip_transports,
        tls_port=tls_port,
        tls=tls_config,
        media=media_config,
        trunk=trunk,
        prompts=prompts,
        menu=menu,
        recording=recording,
        hours=hours,
        support=support,
        paging=paging,
        web=web,
        page_call=page_call_config,
        guard=guard,
        sla=sla,
        email=email,
    )


def read_config(path: str | Path, environ: Mapping[str, str] | None = None) -> LoadedConfig:
    """Read and validate sip.conf, with every setting in force (for `ivr config check`).

    `environ` supplies the secrets' variables (the process environment by
    default). Raises ConfigError listing every problem in the file.
    """
    source = Source(Path(path), os.environ if environ is None else environ)
    if source.problems:
        raise ConfigError(source.problems)
    config = _config(source)
    source.unknown_names()
    if source.problems:
        raise ConfigError(sorted(source.problems, key=lambda problem: problem.line or 0))
    return LoadedConfig(config, source.settings)


def load_config(path: str | Path, environ: Mapping[str, str] | None = None) -> Config:
    """Read and validate sip.conf; raises ConfigError listing every problem."""
    return read_config(path, environ).config
