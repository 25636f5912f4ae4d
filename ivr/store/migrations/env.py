"""Alembic environment: run by `ivr.store.migrations`, never by the `alembic` command.

The caller passes the connection in `config.attributes["connection"]` (and
holds the migration lock on it); a URL in `sqlalchemy.url` is used otherwise.
"""

from __future__ import annotations

from typing import Any, Literal

from alembic import context
from sqlalchemy import create_engine
from sqlalchemy.types import TypeDecorator

from ivr.store.migrations import load_models

target_metadata = load_models()


def render_item(type_: str, obj: Any, autogen_context: Any) -> str | Literal[False]:
    """Write our column types as the plain types underneath (UtcDateTime -> DateTime).

    A migration must not import the application's types: they may change or
    go away, and the migration must still run as written.
    """
    if type_ == "type" and isinstance(obj, TypeDecorator):
        return f"sa.{obj.impl!r}"
    return False


def run(connection: Any) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=True,  # SQLite cannot ALTER most things; batch copies the table
        compare_type=True,
        render_item=render_item,
    )
    with context.begin_transaction():
        context.run_migrations()


connection = context.config.attributes.get("connection")
if context.is_offline_mode():
    raise SystemExit("offline (--sql) migrations are not supported; run `ivr db upgrade`")
if connection is not None:
    run(connection)
else:
    engine = create_engine(context.config.get_main_option("sqlalchemy.url") or "")
    with engine.connect() as own:
        run(own)
    engine.dispose()
