"""sip.conf, loaded once into a typed, validated object.

Everything the service needs from the operator is read here so that a typo
is reported at start-up, for every command, with the file, the line and the
setting, not mid-call. The pure cores (the SLA clock, the paging policy)
know nothing of the file: their text forms are read here.
"""

from ivr.config.email import SMTP_PASSWORD_ENV
from ivr.config.load import (
    DATABASE_URL_ENV,
    TRUNK_PASSWORD_ENV,
    LoadedConfig,
    load_config,
    read_config,
)
from ivr.config.model import (
    DEFAULT_SCANNER_USER_AGENTS,
    MAX_INBOUND_CALLS,
    Config,
    EmailConfig,
    GuardConfig,
    HoursConfig,
    LogFormat,
    LogLevel,
    MenuConfig,
    PageCallConfig,
    PromptConfig,
    RecordingConfig,
    SupportConfig,
    TrunkConfig,
    WebConfig,
)
from ivr.config.source import ConfigError, Problem, Setting

__all__ = [
    "DATABASE_URL_ENV",
    "DEFAULT_SCANNER_USER_AGENTS",
    "MAX_INBOUND_CALLS",
    "SMTP_PASSWORD_ENV",
    "TRUNK_PASSWORD_ENV",
    "Config",
    "ConfigError",
    "EmailConfig",
    "GuardConfig",
    "HoursConfig",
    "LoadedConfig",
    "LogFormat",
    "LogLevel",
    "MenuConfig",
    "PageCallConfig",
    "Problem",
    "PromptConfig",
    "RecordingConfig",
    "Setting",
    "SupportConfig",
    "TrunkConfig",
    "WebConfig",
    "load_config",
    "read_config",
]
