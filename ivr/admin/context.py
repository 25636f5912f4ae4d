"""What every CLI command shares: the configuration and the database, loaded on first use."""

from __future__ import annotations

import json
from functools import cached_property
from pathlib import Path
from typing import Any

import click

from ivr.config import Config, ConfigError, load_config
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
        database = Database(self.config.database_url)
        database.create_schema()
        return database


def echo_json(data: Any) -> None:
    """Print JSON for scripts: stable key order, ISO 8601 instants."""
    click.echo(json.dumps(data, indent=2, sort_keys=True, default=str))


pass_app = click.make_pass_decorator(AppContext)
