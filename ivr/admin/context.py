"""What every CLI command shares: the configuration, the database and the clock.

Only `ivr db upgrade` and `ivr serve` (unless `[general] auto_migrate = no`)
change the schema. Every other command opens the database as it finds it
and refuses one that is behind the code (a fresh, never-migrated file
included): a listing must not migrate a production database behind the
operator's back, in the middle of a roll across nodes, as a side effect.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime
from functools import cached_property
from pathlib import Path
from typing import Any

import click

from ivr.config import Config, ConfigError, load_config
from ivr.store import revisions
from ivr.store.db import Database

Clock = Callable[[], datetime]

# Row ids as the database can hold them: PostgreSQL's INTEGER is 32 bits, so a
# larger id can never exist and would fail inside the driver instead.
DB_ID = click.IntRange(1, 2**31 - 1)


class Utf8Text(click.ParamType):
    """Text typed on the command line, refused when its bytes were not UTF-8.

    Python keeps such bytes as lone surrogates, which neither the database
    nor a terminal will take; refused while parsing, the message names the
    option (exit 2). File names stay click.Path: on disk any bytes are fine.
    """

    name = "text"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> str:
        text = click.STRING.convert(value, param, ctx)
        if any("\ud800" <= char <= "\udfff" for char in text):
            self.fail(f"{text!r} is not UTF-8 text", param, ctx)
        return text


UTF8_TEXT = Utf8Text()


def system_clock() -> datetime:
    return datetime.now(UTC)


class AppContext:
    """Loaded on first use, so that `--help` works without a sip.conf.

    The clock lives here, not in each command module, so a test sets one
    clock for the whole command line (CliRunner.invoke(obj=clock)).
    """

    def __init__(self, config_path: Path, clock: Clock = system_clock) -> None:
        self.config_path = config_path
        self.clock = clock

    def now(self) -> datetime:
        return self.clock()

    @cached_property
    def config(self) -> Config:
        try:
            return load_config(self.config_path)
        except ConfigError as exc:
            raise click.ClickException(str(exc)) from None

    @cached_property
    def db(self) -> Database:
        """The database, refused (exit 1, naming `ivr db upgrade`) unless its schema is current."""
        database = Database(self.config.database_url)
        try:
            require_current_schema(database)
        except click.ClickException:
            database.dispose()
            raise
        return database


def require_current_schema(database: Database) -> None:
    """Raise a ClickException (exit 1) saying what to do unless `database` is at the newest
    revision: `ivr db upgrade` when it is behind, the newer version when it is ahead."""
    status = revisions.status(database.engine)
    if status.at_head:
        return
    if unknown := status.unknown:
        raise click.ClickException(
            f"{status.database} is at revision {', '.join(unknown)}, which this version of the "
            "fault line does not have: it was migrated by a newer version; run that version"
        )
    raise click.ClickException(
        f"{status}: run `ivr db upgrade` first (only `ivr db upgrade` and `ivr serve` "
        "change the schema)"
    )


def echo_json(data: Any) -> None:
    """Print JSON for scripts: stable key order, ISO 8601 instants."""
    click.echo(json.dumps(data, indent=2, sort_keys=True, default=str))


pass_app = click.make_pass_decorator(AppContext)
