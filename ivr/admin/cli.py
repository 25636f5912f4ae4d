"""`ivr`: the one command line for operators and admins.

Every noun is a group (`ivr handsets add`, `ivr faults list`, ...). The
configuration file is chosen once, with --config or IVR_CONFIG, and loaded
lazily so that `--help` works without one.
"""

from __future__ import annotations

import importlib
import logging
import sys
from pathlib import Path
from typing import Any

import click

from ivr.admin.context import UTF8_TEXT, AppContext, Clock, system_clock

log = logging.getLogger(__name__)

DISTRIBUTION = "faultline-ivr"  # [project] name in pyproject.toml


def one_line(text: str) -> str:
    """Text safe to print on one line: a message may quote what a user typed, and
    bytes that are not UTF-8 (kept as lone surrogates) cannot be written to a
    strict terminal at all, which would turn the message itself into a traceback."""
    text = " ".join(text.split())
    return text.encode("utf-8", "backslashreplace").decode("utf-8")


class GuardedGroup(click.Group):
    """The last resort: an error nobody foresaw is still one line and exit 1.

    Each known failure has its own message where it happens; this only
    catches what slipped past them, so a user never sees a traceback (with
    --debug, they asked for it, and get it).
    """

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except (click.ClickException, click.exceptions.Exit, click.Abort):
            raise
        except Exception as exc:
            if ctx.params.get("debug"):
                raise
            log.debug("unexpected error", exc_info=True)
            raise click.ClickException(
                one_line(f"unexpected error ({type(exc).__name__}): {exc}")
                + " (run with --debug for the traceback)"
            ) from None


class NounGroup(GuardedGroup):
    """The top-level group: its nouns are imported from NOUNS on first use."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(set(self.commands) | set(NOUNS))

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in self.commands and cmd_name in NOUNS:
            module_name, attribute = NOUNS[cmd_name].split(":")
            command = getattr(importlib.import_module(module_name), attribute)
            _text_is_utf8(command)
            self.add_command(command, cmd_name)
        return self.commands.get(cmd_name)


@click.group(cls=NounGroup, context_settings={"help_option_names": ["-h", "--help"]})
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
@click.option(
    "--debug",
    is_flag=True,
    envvar="IVR_DEBUG",
    help="On an unexpected error, show the Python traceback (env IVR_DEBUG).",
)
@click.pass_context
def main(ctx: click.Context, config_path: Path, debug: bool) -> None:
    """The CLI SECURE fault line: answer fault calls, review calls and faults.

    Every noun has its verbs (`ivr calls list`, `ivr faults ack REF`); each
    command's --help says what it does, and every listing takes --json.

    Exit codes: 0 done; 1 refused, not found or a check failed (the message
    says why); 2 bad usage (an unknown command or option, or a value that
    does not parse: the message names it).
    """
    # A caller (a test) may hand in the clock as the context object.
    clock: Clock = ctx.obj if callable(ctx.obj) else system_clock
    ctx.obj = AppContext(config_path, clock)


# Each noun's module and command, imported only when that noun is run (or
# `ivr --help` lists them all): a command pays only for what it uses, so
# `ivr calls list` does not import the service, the web UI or Alembic.
NOUNS: dict[str, str] = {
    "admins": "ivr.admin.admins_cli:admins",
    "calls": "ivr.admin.calls_cli:calls",
    "config": "ivr.admin.config_cli:config",
    "customers": "ivr.admin.customers_cli:customers",
    "db": "ivr.admin.db_cli:db",
    "emails": "ivr.admin.emails_cli:emails",
    "engineers": "ivr.admin.engineers_cli:engineers",
    "faults": "ivr.admin.faults_cli:faults",
    "handsets": "ivr.admin.handsets_cli:handsets",
    "oncall": "ivr.admin.oncall_cli:oncall",
    "outages": "ivr.admin.outages_cli:outages",
    "page": "ivr.admin.page_cli:page",
    "pages": "ivr.admin.pages_cli:pages",
    "prompts": "ivr.admin.prompts_cli:prompts",
    "serve": "ivr.admin.serve_cli:serve",
    "sla": "ivr.admin.sla_cli:sla",
    "web": "ivr.admin.web_cli:web",
}


def _text_is_utf8(command: click.Command) -> None:
    """Every plain text argument and option of every command takes UTF8_TEXT.

    Set here, once for each noun as it is loaded, so no command can forget it.
    """
    for param in command.params:
        if param.type is click.STRING:
            param.type = UTF8_TEXT
    if isinstance(command, click.Group):
        for subcommand in command.commands.values():
            _text_is_utf8(subcommand)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
