"""What every CLI command shares: the configuration and the database, loaded on first use.

Only `ivr db upgrade` and `ivr serve` (unless `[general] auto_migrate = no`)
change the schema. Every other command opens the database as it finds it
and refuses one that is behind the code (a fresh, never-migrated file
included): a listing must not migrate a production database behind the
operator's back, in the middle of a roll across nodes, as a side effect.
"""

from __future__ import annotations

import json
from functools import cached_property
from pathlib import Path
from typing import Any

import click

from ivr.config import Config, ConfigError, load_config
from ivr.store import migrations
from ivr.store.db import Database


class AppContext:
    def __init__(self, config_path: Path) -> None:
        self.config_path = config_path

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
    status = migrations.status(database.engine)
    if status.at_head:
        return
    known = {revision.revision for revision in migrations.script().walk_revisions()}
    if unknown := sorted(set(status.current) - known):
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
