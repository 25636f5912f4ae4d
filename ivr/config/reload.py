"""What a re-read sip.conf changes, and which of it a running `ivr serve` can take (SIGHUP).

What a call hears and how faults are timed and paged can change between
calls; what the process is built around (its SIP socket, its database, its
data directory, the trunk registration) cannot without a restart. The rule
lives here once, so that the log says the same as the service does.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from ivr.config.model import Config

# The Config fields a running service takes on SIGHUP, and the section each
# is written in.
RELOADABLE = {
    "prompts": "prompts",
    "menu": "menu",
    "hours": "hours",
    "sla": "sla",
    "paging": "paging",
    "page_call": "paging",
    "support": "support",
    "email": "email",
    "log_level": "general",
}
# The sections whose Config field has the same name; anything else is [general].
SECTIONS = (
    "trunk",
    "prompts",
    "menu",
    "recording",
    "hours",
    "support",
    "web",
    "guard",
    "sla",
    "tls",
    "media",
)
# Sections whose record's fields are named as their settings are, so a change names the setting.
BY_SETTING = frozenset({"prompts", "menu", "recording", "hours", "support", "guard"})
# Read by `ivr web`, not by `ivr serve`: a change waits for `ivr web` to restart.
NOT_SERVED = frozenset({"web"})


@dataclass(frozen=True)
class Changes:
    reloaded: tuple[str, ...]  # "[menu] tries": in force for the next call
    need_restart: tuple[str, ...]  # "[general] listen": only a restart applies it
    not_served: tuple[str, ...] = ()  # "[web] listen": none of `ivr serve`'s business

    def __bool__(self) -> bool:
        return bool(self.reloaded or self.need_restart or self.not_served)


def _section(field: str) -> str:
    if field in RELOADABLE:
        return RELOADABLE[field]
    return field if field in SECTIONS else "general"


def _names(field: str, old: object, new: object) -> list[str]:
    """The settings that differ, by name where the section is a plain record of them."""
    section = _section(field)
    if field == "log_level":
        return ["[general] log_level"]
    if section == "general":
        key = {"listen_host": "listen", "listen_port": "listen", "database_url": "database"}
        return [f"[general] {key.get(field, field)}"]
    if field in BY_SETTING and dataclasses.is_dataclass(old) and type(old) is type(new):
        return [
            f"[{section}] {f.name}"
            for f in dataclasses.fields(old)
            if getattr(old, f.name) != getattr(new, f.name)
        ]
    return [f"[{section}]"]


def changes(old: Config, new: Config) -> Changes:
    """Which settings differ between the config in force and a re-read one."""
    reloaded: list[str] = []
    restart: list[str] = []
    not_served: list[str] = []
    for field in dataclasses.fields(Config):
        before, after = getattr(old, field.name), getattr(new, field.name)
        if before == after:
            continue
        names = _names(field.name, before, after)
        if field.name in RELOADABLE:
            target = reloaded
        elif field.name in NOT_SERVED:
            target = not_served
        else:
            target = restart
        target.extend(name for name in names if name not in target)
    return Changes(tuple(reloaded), tuple(restart), tuple(not_served))


def apply(old: Config, new: Config) -> Config:
    """What a running service works by after SIGHUP: `new`'s reloadable parts, `old`'s rest."""
    return dataclasses.replace(old, **{name: getattr(new, name) for name in RELOADABLE})
