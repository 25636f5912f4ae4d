"""`ivr db`: the schema's migrations, applied and checked by hand.

Only `ivr db upgrade` and `ivr serve` (unless `[general] auto_migrate = no`)
change the schema; every other command refuses a database behind the code
and names `ivr db upgrade`. `db check` is for a deployment check that fails
while the database is behind.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import click

from ivr.admin.context import AppContext, echo_json, pass_app
from ivr.store import revisions
from ivr.store.db import Database


@click.group()
def db() -> None:
    """Apply and check the database's schema migrations."""


@contextmanager
def _database(app: AppContext) -> Iterator[Database]:
    # Not app.db: that one refuses a database behind the code.
    database = Database(app.config.database_url)
    try:
        yield database
    finally:
        database.dispose()


@db.command("upgrade")
@click.option("--revision", default="head", show_default=True, help="Revision to upgrade to.")
@pass_app
def upgrade(app: AppContext, revision: str) -> None:
    """Apply the migrations up to REVISION (newest by default)."""
    if not revision.strip():
        raise click.ClickException("no revision given: give head, or one ivr db current shows")
    from ivr.store import migrations  # Alembic: only the commands that migrate import it

    with _database(app) as database:
        try:
            migrations.upgrade(database.engine, revision)
        except migrations.MigrationError as exc:
            raise click.ClickException(str(exc)) from None
        click.echo(str(revisions.status(database.engine)))


@db.command("current")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@pass_app
def current(app: AppContext, as_json: bool) -> None:
    """Show the revision the database is at, and the newest one."""
    with _database(app) as database:
        status = revisions.status(database.engine)
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
        status = revisions.status(database.engine)
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
    from ivr.store import migrations

    with _database(app) as database:
        try:
            migrations.write_revision(database.engine, message)
        except migrations.MigrationError as exc:
            raise click.ClickException(str(exc)) from None
