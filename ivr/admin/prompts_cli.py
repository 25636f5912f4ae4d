"""`ivr prompts`: render the prompt catalogue, check recordings, hear a text.

`build` does ahead of time what the service does at start-up, so a changed
catalogue or voice can be rendered (and listened to) before a restart.
"""

from __future__ import annotations

import contextlib
from pathlib import Path
from typing import Any

import click

from ivr.admin.context import AppContext, pass_app
from ivr.prompts import PromptError, PromptLibrary, Severity


def _library(app: AppContext) -> PromptLibrary:
    try:
        return PromptLibrary(app.config.prompts, app.config.support)
    except PromptError as exc:
        raise click.ClickException(str(exc)) from None


@click.group()
def prompts() -> None:
    """The prompt catalogue: rendering, recorded overrides, previews."""


@prompts.command()
@pass_app
def build(app: AppContext) -> None:
    """Render every prompt that is not cached yet."""
    library = _library(app)
    with contextlib.ExitStack() as stack:
        bar: Any = None

        def progress(done: int, total: int, prompt_id: str) -> None:
            nonlocal bar
            if bar is None:
                bar = stack.enter_context(
                    click.progressbar(
                        length=total,
                        label="Rendering prompts",
                        item_show_func=lambda item: item,
                    )
                )
            bar.update(1, prompt_id)

        try:
            summary = library.build(progress)
        except PromptError as exc:
            raise click.ClickException(str(exc)) from None
    click.echo(str(summary))


@prompts.command()
@pass_app
def check(app: AppContext) -> None:
    """Check the recorded prompts; exit 1 if any cannot be used."""
    library = _library(app)
    directory = app.config.prompts.recorded_dir
    try:
        problems = library.check_recordings()
    except PromptError as exc:
        raise click.ClickException(str(exc)) from None
    for problem in problems:
        colour = {Severity.ERROR: "red", Severity.WARNING: "yellow"}.get(problem.severity)
        click.secho(str(problem), fg=colour)
    errors = sum(problem.is_error for problem in problems)
    if errors:
        raise click.ClickException(f"{errors} recording(s) in {directory} cannot be used")
    click.echo(f"Recordings in {directory}: no errors.")


@prompts.command()
@click.argument("text")
@click.option(
    "--out",
    "out_path",
    required=True,
    type=click.Path(dir_okay=False, writable=True, path_type=Path),
    help="WAV file to write (8 kHz, as callers hear it).",
)
@pass_app
def say(app: AppContext, text: str, out_path: Path) -> None:
    """Write TEXT, spoken in the configured voice, to a WAV file."""
    # Checked before the (slow) synthesis, so a typo in the path costs nothing.
    if not out_path.parent.is_dir():
        raise click.BadParameter(
            f"{out_path.parent} is not a directory that exists", param_hint="'--out'"
        )
    # Opened here first: when the wave module cannot open its file, the
    # half-made writer it leaves behind prints a traceback as it is collected.
    try:
        existed = out_path.exists()
        out_path.open("ab").close()
    except (OSError, ValueError) as exc:  # ValueError: a NUL in the name
        why = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        raise click.ClickException(
            f"cannot write {click.format_filename(out_path)}: {why}"
        ) from None
    library = _library(app)
    try:
        library.say(text, out_path)
    except (PromptError, OSError) as exc:
        if not existed:
            out_path.unlink(missing_ok=True)
        if isinstance(exc, OSError):
            raise click.ClickException(
                f"cannot write {click.format_filename(out_path)}: {exc.strerror or exc}"
            ) from None
        raise click.ClickException(str(exc)) from None
    click.echo(f"Wrote {click.format_filename(out_path)}")
