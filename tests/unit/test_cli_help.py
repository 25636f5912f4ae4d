"""Every `ivr` command and option explains itself in --help."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from ivr.admin.cli import NOUNS, main
from ivr.store.db import Database
from ivr.store.tables import CALLS


def walk(
    command: click.Command, path: tuple[str, ...], parent: click.Context | None
) -> Iterator[tuple[tuple[str, ...], click.Command, click.Context]]:
    """Every command under `command` (itself included), with the context --help would use."""
    ctx = click.Context(command, info_name=path[-1], parent=parent)
    yield path, command, ctx
    if isinstance(command, click.Group):
        # Through list_commands/get_command, as --help does: `ivr` loads its nouns on first use.
        for name in sorted(command.list_commands(ctx)):
            sub = command.get_command(ctx, name)
            assert sub is not None, name
            yield from walk(sub, (*path, name), ctx)


COMMANDS = list(walk(main, ("ivr",), None))
IDS = [" ".join(path) for path, _, _ in COMMANDS]


def test_the_walk_finds_every_noun() -> None:
    nouns = {path[1] for path, _, _ in COMMANDS if len(path) > 1}
    assert {
        "calls",
        "faults",
        "handsets",
        "engineers",
        "oncall",
        "pages",
        "outages",
        "prompts",
        "admins",
        "customers",
    } <= nouns
    assert len(COMMANDS) > 40


@pytest.mark.parametrize(("path", "command", "ctx"), COMMANDS, ids=IDS)
def test_every_command_and_option_has_help(
    path: tuple[str, ...], command: click.Command, ctx: click.Context
) -> None:
    assert (command.help or "").strip(), f"{' '.join(path)} has no help text"
    missing = [
        "/".join(param.opts)
        for param in command.get_params(ctx)
        if isinstance(param, click.Option)
        and param.name != "help"
        and not (param.help or "").strip()
    ]
    assert missing == [], f"{' '.join(path)}: options without help: {missing}"


@pytest.mark.parametrize(("path", "command", "ctx"), COMMANDS, ids=IDS)
def test_help_renders_without_a_config_file(
    path: tuple[str, ...], command: click.Command, ctx: click.Context, tmp_path: Path
) -> None:
    absent = tmp_path / "absent.conf"
    args = ["--config", str(absent), *path[1:], "--help"]
    result = CliRunner().invoke(main, args, prog_name="ivr")
    assert result.exit_code == 0, result.output
    assert f"Usage: ivr {' '.join(path[1:])}".rstrip() in result.output
    first_line = (command.help or "").strip().splitlines()[0]
    assert first_line in " ".join(result.output.split())  # rewrapped to the terminal
    assert not absent.exists()


def test_the_top_level_help_documents_exit_codes() -> None:
    result = CliRunner().invoke(main, ["--help"])
    assert result.exit_code == 0
    text = " ".join(result.output.split())
    assert "Exit codes: 0 done; 1 refused, not found or a check failed" in text
    assert "2 bad usage" in text


# What `ivr calls list` and `ivr calls export` must not import, each of which cost it more
# than its own query did (bench/FINDINGS.md, section 11): the service, the web UI, the prompt
# renderer, the holiday tables, Alembic, the ORM (listings read the call log with Core,
# `ivr.store.tables`) and the models it maps, and the call flow (sip.conf's words for it
# are in ivr.domain). Checked by what is imported rather than by timing the command.
HEAVY_FOR_A_LISTING = (
    "alembic",
    "holidays",
    "numpy",
    "sqlalchemy.orm",
    "ivr.store.models",
    "ivr.store.customers",
    "ivr.store.admins",
    "ivr.flow",
    "ivr.service",
    "ivr.admin.web",
    "ivr.sip",
)


@pytest.mark.parametrize("verb", ["list", "export"])
def test_a_listing_imports_only_what_it_uses(tmp_path: Path, verb: str) -> None:
    """Run in a fresh interpreter, as a user runs it, on a database with a call in it
    (so rows are read and printed)."""
    conf = tmp_path / "sip.conf"
    conf.write_text(f"[general]\ndatabase = sqlite:///{tmp_path}/x.db\n", encoding="utf-8")
    database = Database(f"sqlite:///{tmp_path}/x.db")
    database.create_schema()
    with database.engine.begin() as connection:
        connection.execute(CALLS.insert().values(sip_call_id="one@127.0.0.1", cli="+442079460000"))
    database.dispose()
    code = (
        "import sys\n"
        "from ivr.admin.cli import main\n"
        f"main(['--config', {str(conf)!r}, 'calls', {verb!r}], standalone_mode=False)\n"
        f"heavy = {HEAVY_FOR_A_LISTING!r}\n"
        "inside = tuple(h + '.' for h in heavy)\n"
        "print(sorted(m for m in sys.modules if m in heavy or m.startswith(inside)))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert "+442079460000" in result.stdout  # the call was listed
    assert result.stdout.strip().splitlines()[-1] == "[]"


def test_every_noun_is_named_as_its_command_is() -> None:
    ctx = click.Context(main)
    for name in NOUNS:
        command = main.get_command(ctx, name)
        assert command is not None and command.name == name
