"""`ivr db`: the schema's migrations, applied and checked by hand.

`ivr serve` and every other command upgrade the database on their own; these
commands are for an operator who wants to upgrade first (before a restart,
say), or a deployment check that fails while the database is behind.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import click
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.util import CommandError

from ivr.admin.context import AppContext, echo_json, pass_app
from ivr.store import migrations
from ivr.store.db import Database


@click.group()
def db() -> None:
    """Apply and check the database's schema migrations."""


@contextmanager
def _database(app: AppContext) -> Iterator[Database]:
    # Not app.db: that one upgrades the schema as it opens.
    database = Database(app.config.database_url)
    try:
        yield database
    finally:
        database.dispose()


def _where(database: Database) -> str:
    return database.engine.url.render_as_string(hide_password=True)


def _show(revisions: tuple[str, ...]) -> str:
    return ", ".join(revisions) or "empty (never migrated)"


@db.command("upgrade")
@click.option("--revision", default="head", show_default=True, help="Revision to upgrade to.")
@pass_app
def upgrade(app: AppContext, revision: str) -> None:
    """Apply the migrations up to REVISION (newest by default)."""
    if not revision.strip():
        raise click.ClickException("no revision given: give head, or one ivr db current shows")
    with _database(app) as database:
        try:
            migrations.upgrade(database.engine, revision)
        except (CommandError, migrations.MigrationError) as exc:
            raise click.ClickException(str(exc)) from None
        except AssertionError:
            # Alembic asserts, instead of raising its own error, on some
            # relative revisions it cannot resolve (head+5).
            raise click.ClickException(
                f"cannot upgrade to {revision!r}: no such revision"
            ) from None
        click.echo(str(_status(database)))


@dataclass(frozen=True)
class Status:
    database: str
    current: tuple[str, ...]
    head: tuple[str, ...]

    @property
    def at_head(self) -> bool:
        return set(self.current) == set(self.head)

    def __str__(self) -> str:
        if self.at_head:
            return f"{self.database} is at {_show(self.current)} (head)"
        return f"{self.database} is at {_show(self.current)}; newest is {_show(self.head)}"


def _status(database: Database) -> Status:
    with database.engine.connect() as connection:
        now = migrations.current(connection)
    return Status(_where(database), now, migrations.heads())


@db.command("current")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@pass_app
def current(app: AppContext, as_json: bool) -> None:
    """Show the revision the database is at, and the newest one."""
    with _database(app) as database:
        status = _status(database)
    if as_json:
        echo_json(
            {
                "database": status.database,
                "current": list(status.current),
                "head": list(status.head),
                "at_head": status.at_head,
            }
        )
    else:
        click.echo(str(status))


@db.command("check")
@pass_app
def check(app: AppContext) -> None:
    """Exit non-zero unless the database is at the newest revision."""
    with _database(app) as database:
        status = _status(database)
    if not status.at_head:
        click.echo(f"{status}: run `ivr db upgrade`", err=True)
        raise SystemExit(1)
    click.echo(str(status))


@db.command("revision")
@click.option("-m", "--message", required=True, help="What the migration does, in a few words.")
@pass_app
def revision(app: AppContext, message: str) -> None:
    """Write a new migration for the models' changes (developers; review it before committing).

    The configured database is first upgraded to the newest revision, then
    compared with the models; the difference becomes the new migration in
    ivr/store/migrations/versions/.
    """
    metadata = migrations.load_models()
    with _database(app) as database:
        migrations.upgrade(database.engine)
        with migrations.migration_lock(database.engine) as connection:
            context = MigrationContext.configure(connection, opts={"compare_type": True})
            if not compare_metadata(context, metadata):
                raise click.ClickException("the models match the migrations: nothing to write")
            number = len(list(migrations.script().walk_revisions())) + 1
            config = migrations.alembic_config(connection)
            # Formatted like the rest of the code (ruff is a dev dependency).
            for key, value in {
                "hooks": "ruff",
                "ruff.type": "module",
                "ruff.module": "ruff",
                "ruff.options": "format REVISION_SCRIPT_FILENAME",
            }.items():
                config.set_section_option("post_write_hooks", key, value)
            command.revision(
                config,
                message=message,
                autogenerate=True,
                rev_id=f"{number:04d}",
            )
