"""`ivr`: the one command line for operators and admins.

Every noun is a group (`ivr handsets add`, `ivr faults list`, ...). The
configuration file is chosen once, with --config or IVR_CONFIG, and loaded
lazily so that `--help` works without one.
"""

from __future__ import annotations

import sys
from pathlib import Path

import click

from ivr.admin.context import AppContext


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "--config",
    "config_path",
    envvar="IVR_CONFIG",
    default="sip.conf",
    show_default=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="sip.conf to read (env IVR_CONFIG).",
)
@click.pass_context
def main(ctx: click.Context, config_path: Path) -> None:
    """The CLI SECURE fault line: answer fault calls, review calls and faults."""
    ctx.obj = AppContext(config_path)


def _register() -> None:
    # Imported here so that each noun lives in its own small module.
    from ivr.admin import calls_cli, faults_cli, handsets_cli, serve_cli

    main.add_command(serve_cli.serve)
    main.add_command(handsets_cli.handsets)
    main.add_command(calls_cli.calls)
    main.add_command(faults_cli.faults)
    # Further nouns register below, one line each.
    from ivr.admin import page_cli

    main.add_command(page_cli.page)
    from ivr.admin import db_cli

    main.add_command(db_cli.db)
    from ivr.admin import admins_cli, web_cli

    main.add_command(admins_cli.admins)
    main.add_command(web_cli.web)
    from ivr.admin import engineers_cli, oncall_cli, pages_cli

    main.add_command(engineers_cli.engineers)
    main.add_command(oncall_cli.oncall)
    main.add_command(pages_cli.pages)
    from ivr.admin import prompts_cli

    main.add_command(prompts_cli.prompts)
    from ivr.admin import sla_cli

    main.add_command(sla_cli.sla)
    from ivr.admin import outages_cli

    main.add_command(outages_cli.outages)


_register()


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
