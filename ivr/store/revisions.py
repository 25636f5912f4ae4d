"""Which schema revision a database is at, and which the code knows, without Alembic.

Every command but `ivr db upgrade` only asks "is the database current?";
importing Alembic's machinery to answer that cost a CLI command more than it
spent on its own work. The revision ids are read from the migration files
themselves (`revision = ...`, `down_revision = ...`, as Alembic writes them),
so there is no list to keep in step; tests/unit/test_revisions.py checks
that the answer matches Alembic's own reading of the same directory.
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from sqlalchemy import Connection, Engine, inspect, text

VERSIONS_DIR = Path(__file__).resolve().parent / "migrations" / "versions"
VERSION_TABLE = "alembic_version"  # Alembic's default name


def _assigned(module: ast.Module, name: str) -> object:
    """The literal value of the top-level assignment to `name`, or None if there is none."""
    for node in module.body:
        if isinstance(node, ast.Assign):
            targets = node.targets
        elif isinstance(node, ast.AnnAssign) and node.value is not None:
            targets = [node.target]
        else:
            continue
        if any(isinstance(target, ast.Name) and target.id == name for target in targets):
            return ast.literal_eval(node.value)  # type: ignore[arg-type]
    return None


# The lines that may assign the ids: parsing only these, not the whole file with
# its upgrade() and downgrade(), was most of the schema check's cost.
_ID_LINES = re.compile(r"^(?:revision|down_revision)\s*(?::[^=\n]*)?=.*$", re.MULTILINE)


def _ids_module(path: Path) -> ast.Module:
    """The file's top-level assignments of the revision ids (the whole file if they
    do not parse on their own, e.g. a tuple written over several lines)."""
    source = path.read_text(encoding="utf-8")
    try:
        return ast.parse("\n".join(_ID_LINES.findall(source)), str(path))
    except SyntaxError:
        return ast.parse(source, str(path))


@cache
def graph() -> dict[str, tuple[str, ...]]:
    """Each revision the code knows, with the revision(s) it follows."""
    revisions: dict[str, tuple[str, ...]] = {}
    for path in sorted(VERSIONS_DIR.glob("*.py")):
        module = _ids_module(path)
        revision = _assigned(module, "revision")
        if not isinstance(revision, str):
            continue
        down = _assigned(module, "down_revision")
        revisions[revision] = (down,) if isinstance(down, str) else tuple(down or ())  # type: ignore[arg-type]
    return revisions


def known() -> frozenset[str]:
    return frozenset(graph())


def heads() -> tuple[str, ...]:
    """The newest revision(s) the code knows; one unless branches were merged badly."""
    followed = {down for downs in graph().values() for down in downs}
    return tuple(sorted(set(graph()) - followed))


def current(connection: Connection) -> tuple[str, ...]:
    """The revision(s) the database is at; empty when it has never been migrated."""
    if not inspect(connection).has_table(VERSION_TABLE):
        return ()
    rows = connection.execute(text(f"SELECT version_num FROM {VERSION_TABLE}"))
    return tuple(sorted(row[0] for row in rows))


def _listed(revisions: tuple[str, ...]) -> str:
    return ", ".join(revisions) or "empty (never migrated)"


@dataclass(frozen=True)
class Status:
    """Where a database's schema stands against the code's newest revision."""

    database: str  # its URL, password hidden
    current: tuple[str, ...]
    head: tuple[str, ...]

    @property
    def at_head(self) -> bool:
        return set(self.current) == set(self.head)

    @property
    def unknown(self) -> tuple[str, ...]:
        """Revisions the database is at that this code does not have (a newer version's)."""
        return tuple(sorted(set(self.current) - known()))

    def __str__(self) -> str:
        if self.at_head:
            return f"{self.database} is at {_listed(self.current)} (head)"
        return f"{self.database} is at {_listed(self.current)}; newest is {_listed(self.head)}"


def status(engine: Engine) -> Status:
    with engine.connect() as connection:
        now = current(connection)
    return Status(engine.url.render_as_string(hide_password=True), now, heads())
