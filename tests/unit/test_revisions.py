"""ivr.store.revisions reads the migration files as Alembic does, without importing it."""

from __future__ import annotations

from pathlib import Path

import pytest

from ivr.store import migrations, revisions


def test_heads_and_known_revisions_are_alembics() -> None:
    script = migrations.script()
    assert revisions.heads() == tuple(sorted(script.get_heads()))
    assert revisions.known() == {revision.revision for revision in script.walk_revisions()}


def test_each_revision_follows_the_one_alembic_says() -> None:
    for revision in migrations.script().walk_revisions():
        assert revisions.graph()[revision.revision] == revision._normalized_down_revisions


def test_a_merge_and_a_branch_read_as_alembic_would(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    files = {
        "a.py": 'revision = "a"\ndown_revision = None\n',
        "b.py": 'revision: str = "b"\ndown_revision: str | None = "a"\n',
        "c.py": 'revision = "c"\ndown_revision = "a"\n',
        "d.py": 'revision = "d"\ndown_revision = ("b", "c")\n',
        "e.py": 'revision = "e"\ndown_revision = "d"\n',
        "f.py": 'revision = "f"\ndown_revision = "d"\n',
        # Written over several lines, with a comment: read from the whole file.
        "g.py": 'revision = "g"  # the merge\ndown_revision = (\n    "e",\n    "f",\n)\n',
        "helper.py": "x = 1\n",
    }
    for name, text in files.items():
        (tmp_path / name).write_text(text, encoding="utf-8")
    monkeypatch.setattr(revisions, "VERSIONS_DIR", tmp_path)
    revisions.graph.cache_clear()
    try:
        assert revisions.graph()["d"] == ("b", "c")
        assert revisions.graph()["a"] == ()
        assert revisions.graph()["g"] == ("e", "f")
        assert revisions.heads() == ("g",)
        assert revisions.known() == {"a", "b", "c", "d", "e", "f", "g"}
    finally:
        revisions.graph.cache_clear()
