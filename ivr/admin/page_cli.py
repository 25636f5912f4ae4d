"""`ivr page test ENGINEER`: ring an engineer the way a real page would, to prove the path works.

It runs its own SIP user agent on a free port next to the service, plays a
test message and waits for the engineer's key, so an operator can check
a new engineer's phone, the trunk and the audio before a real fault does.
"""

from __future__ import annotations

import asyncio
import socket
import sys

import click

from ivr.admin.context import AppContext, pass_app
from ivr.flow.events import Answered
from ivr.flow.speech import Prompt
from ivr.paging.page_flow import PageFlow, PageSettings
from ivr.paging.policy import AttemptResult
from ivr.prompts import PromptLibrary
from ivr.runner import FlowRunner
from ivr.sip.engine import DialOutcome, EngineSettings, SipEngine
from ivr.store.paging import find_engineer


def _free_port(host: str) -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        probe.bind((host, 0))
        port: int = probe.getsockname()[1]
        return port


@click.group()
def page() -> None:
    """Place page calls by hand."""


@page.command("test")
@click.argument("engineer")
@click.option(
    "--ring",
    default=30,
    show_default=True,
    type=click.IntRange(1, 600),
    help="Seconds to let it ring.",
)
@pass_app
def test(app: AppContext, engineer: str, ring: int) -> None:
    """Ring ENGINEER with a test message; exit 0 only if they press 1."""
    with app.db.sessions() as session:
        found = find_engineer(session, engineer)
        if found is None:
            raise click.ClickException(f"no engineer called {engineer!r}")
        contact = found.contact
    config = app.config
    if not contact.startswith(("sip:", "sips:")):
        if not config.trunk.registrar:
            raise click.ClickException(f"{contact} is a number and no trunk is configured")
        contact = f"sip:{contact}@{config.trunk.registrar}"
    result, detail = asyncio.run(_ring(app, contact, ring))
    click.echo(f"{engineer} at {contact}: {result.value} ({detail})")
    sys.exit(0 if result is AttemptResult.ACKNOWLEDGED else 1)


async def _ring(app: AppContext, uri: str, ring: int) -> tuple[AttemptResult, str]:
    config = app.config
    prompts = PromptLibrary(config.prompts, config.support)
    await asyncio.to_thread(prompts.load)
    engine = SipEngine(
        EngineSettings(
            listen_host=config.listen_host,
            listen_port=_free_port(config.listen_host),
            max_calls=2,
            registrar=config.trunk.registrar,
            username=config.trunk.username,
            password=config.trunk.password,
        )
    )
    await engine.start(lambda call: None)
    try:
        dialled = await engine.dial(uri, ring)
        if dialled.outcome is not DialOutcome.ANSWERED or dialled.call is None:
            results = {
                DialOutcome.BUSY: AttemptResult.BUSY,
                DialOutcome.NO_ANSWER: AttemptResult.NO_ANSWER,
                DialOutcome.REJECTED: AttemptResult.REJECTED,
            }
            status = f"SIP {dialled.sip_status}" if dialled.sip_status else dialled.reason
            return results.get(dialled.outcome, AttemptResult.FAILED), status
        flow = PageFlow(
            [Prompt("page_test"), Prompt("page_options")],
            PageSettings(config.page_call.message_plays, config.page_call.key_timeout),
        )
        await FlowRunner(dialled.call, flow, prompts).run(Answered(verified=True))
        await dialled.call.hangup()
        return flow.result or AttemptResult.HUNG_UP, f"keys {''.join(flow.keys) or 'none'}"
    finally:
        await engine.close()
