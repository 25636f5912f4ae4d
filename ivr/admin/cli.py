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

DISTRIBUTION = "faultline-ivr"  # [project] name in pyproject.toml


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
# The one version: pyproject.toml's, as installed (importlib.metadata).
@click.version_option(package_name=DISTRIBUTION, prog_name="ivr", message="%(prog)s %(version)s")
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
    """The CLI SECURE fault line: answer fault calls, review calls and faults.

    Every noun has its verbs (`ivr calls list`, `ivr faults ack REF`); each
    command's --help says what it does, and every listing takes --json.

    Exit codes: 0 done; 1 refused, not found or a check failed (the message
    says why); 2 bad usage (an unknown command or option, or a value that
    does not parse: the message names it).
    """
    ctx.obj = AppContext(config_path)


def _register() -> None:
    # Imported here so that each noun lives in its own small module.
    from ivr.admin import (
        admins_cli,
        calls_cli,
        config_cli,
        db_cli,
        engineers_cli,
        faults_cli,
        handsets_cli,
        oncall_cli,
        outages_cli,
        page_cli,
        pages_cli,
        prompts_cli,
        serve_cli,
        sla_cli,
        web_cli,
    )

    for command in (
        serve_cli.serve,
        handsets_cli.handsets,
        calls_cli.calls,
        faults_cli.faults,
        sla_cli.sla,
        outages_cli.outages,
        engineers_cli.engineers,
        oncall_cli.oncall,
        page_cli.page,
        pages_cli.pages,
        prompts_cli.prompts,
        admins_cli.admins,
        web_cli.web,
        db_cli.db,
        config_cli.config,
    ):
        main.add_command(command)


_register()


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
