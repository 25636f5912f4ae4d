"""Every `ivr` command and option explains itself in --help."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from ivr.admin.cli import main


def walk(
    command: click.Command, path: tuple[str, ...], parent: click.Context | None
) -> Iterator[tuple[tuple[str, ...], click.Command, click.Context]]:
    """Every command under `command` (itself included), with the context --help would use."""
    ctx = click.Context(command, info_name=path[-1], parent=parent)
    yield path, command, ctx
    if isinstance(command, click.Group):
        for name, sub in sorted(command.commands.items()):
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
