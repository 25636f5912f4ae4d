"""`ivr config check`: sip.conf validated before a restart, and what it puts in force.

Like `kamailio -c` and Asterisk's `core show settings`: an operator edits the
file, checks it, and sees every setting in force (defaults included, secrets
masked) and where each came from, without starting the service.
"""

from __future__ import annotations

from pathlib import Path

import click

from ivr.admin.context import AppContext, echo_json, pass_app
from ivr.config import ConfigError, Setting, read_config


@click.group()
def config() -> None:
    """Check sip.conf and show the settings in force."""


def _table(settings: list[Setting]) -> list[str]:
    # Aligned origins, except after the few long values (levels, paths).
    width = min(40, max((len(f"{s.key} = {s.value}") for s in settings), default=0))
    lines: list[str] = []
    section = None
    for setting in settings:
        if setting.section != section:
            if section is not None:
                lines.append("")
            section = setting.section
            lines.append(f"[{section}]")
        line = f"{setting.key} = {setting.value}"
        lines.append(f"{line:<{width}}  ; {setting.origin}")
    return lines


@config.command("check")
@click.argument(
    "file",
    required=False,
    type=click.Path(dir_okay=False, path_type=Path),
)
@click.option("--json", "as_json", is_flag=True, help="Print JSON for scripts.")
@pass_app
def check(app: AppContext, file: Path | None, as_json: bool) -> None:
    """Validate FILE (the --config file by default) and print the settings in force.

    Secrets are masked. The trunk password and the database URL may come
    from the environment (IVR_TRUNK_PASSWORD, IVR_DATABASE_URL), which wins
    over the file, or from KEY_file = PATH. Exit 0 when the file is usable;
    1 with every problem listed (file, line and setting) when it is not.
    """
    path = file if file is not None else app.config_path
    try:
        loaded = read_config(path)
    except ConfigError as exc:
        if as_json:
            echo_json({"file": str(path), "ok": False, "problems": [str(p) for p in exc.problems]})
        else:
            for problem in exc.problems:
                click.echo(str(problem), err=True)
        count = len(exc.problems)
        noun = "problem" if count == 1 else "problems"
        raise click.ClickException(f"{count} {noun} in {path}") from None
    if as_json:
        settings = [setting._asdict() for setting in loaded.settings]
        echo_json({"file": str(path), "ok": True, "settings": settings})
        return
    click.echo(f"{path}: OK")
    click.echo("\n".join(_table(loaded.settings)))
