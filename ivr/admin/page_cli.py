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
from ivr.flow.speech import Prompt, SpeechPart
from ivr.pager.dialer import PageDialer, contact_uri
from ivr.paging.page_flow import PageSettings
from ivr.paging.policy import AttemptResult
from ivr.prompts import PromptLibrary
from ivr.sip.engine import SipEngine, settings_from
from ivr.store.engineers import find_engineer


def _free_port(host: str) -> int:
    """A port free for both UDP and TCP on `host`: the engine listens on both."""
    for _ in range(50):
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as udp:
            udp.bind((host, 0))
            port: int = udp.getsockname()[1]
            with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as tcp:
                try:
                    tcp.bind((host, port))
                except OSError:
                    continue
                return port
    raise click.ClickException(f"no port free for SIP on {host}")


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
    uri = contact_uri(contact, app.config.trunk.registrar)
    if uri is None:
        raise click.ClickException(f"{contact} is a number and no trunk is configured")
    result, detail = asyncio.run(_ring(app, uri, ring))
    click.echo(f"{engineer} at {uri}: {result.value} ({detail})")
    sys.exit(0 if result is AttemptResult.ACKNOWLEDGED else 1)


async def _ring(app: AppContext, uri: str, ring: int) -> tuple[AttemptResult, str]:
    config = app.config
    prompts = PromptLibrary(config.prompts, config.support)
    await asyncio.to_thread(prompts.load)
    engine = SipEngine(
        settings_from(config, listen_port=_free_port(config.listen_host), max_calls=2)
    )
    await engine.start(lambda call: None)
    try:
        settings = PageSettings(config.page_call.message_plays, config.page_call.key_timeout)

        async def message() -> list[SpeechPart]:
            return [Prompt("page_test"), Prompt("page_options")]

        rung = await PageDialer(engine, prompts, settings).ring(uri, ring, message)
    finally:
        await engine.close()
    unanswered = rung.sip_status not in (None, 200)
    return rung.result, f"SIP {rung.sip_status}" if unanswered else rung.detail
