"""The running fault line: wires configuration, storage, prompts and SIP together."""

from __future__ import annotations

import asyncio
import gc
import logging
import socket
from collections.abc import Callable
from datetime import UTC, datetime

from ivr.audio.describing import DescriptionBoard
from ivr.config import Config, ConfigError
from ivr.config import reload as config_reload
from ivr.db_writer import DbWriter
from ivr.domain import Priority
from ivr.flow.call_flow import FlowSettings
from ivr.mail.sender import EmailSender
from ivr.metrics import Health, MetricsServer, NodeMetrics
from ivr.pager.scheduler import PagingScheduler
from ivr.paging.page_flow import PageSettings
from ivr.prompts import PromptError, PromptLibrary
from ivr.session import CallSession, SessionDeps
from ivr.sip.engine import InboundCall, SipEngine, settings_from
from ivr.sip.guard import Guard
from ivr.sla import BusinessCalendar
from ivr.store.calls import close_interrupted_calls
from ivr.store.db import Database
from ivr.store.oncall import pageable_now
from ivr.store.outages import list_outages

log = logging.getLogger(__name__)


def system_clock() -> datetime:
    return datetime.now(UTC)


def offset_clock(start: datetime) -> Callable[[], datetime]:
    """A clock that starts at `start` and runs at real speed (for after-hours tests)."""
    offset = start - datetime.now(UTC)
    return lambda: datetime.now(UTC) + offset


class StartupError(RuntimeError):
    """The service cannot start (its SIP port is taken, say); the message is for the operator."""


class FaultLineService:
    def __init__(self, config: Config, clock: Callable[[], datetime] = system_clock) -> None:
        self.config = config
        self.clock = clock
        self.db = Database(config.database_url)
        self.calendar = self._calendar(config)
        self.prompts = PromptLibrary(config.prompts, config.support)
        self.engine = SipEngine(settings_from(config))
        # Who this node is, in the call log and on page leases: the same
        # after a restart, so the restarted node recognises its own work.
        self.node = f"{socket.gethostname()}:{config.listen_port}"
        self.writer = DbWriter(
            self.db,
            self.calendar,
            config.paging,
            node=self.node,
            rules=config.sla,
            wait_seconds=config.database_wait_seconds,
        )
        self.descriptions = DescriptionBoard()  # shared by the calls and the page calls
        self.pager = PagingScheduler(
            self.db,
            self.engine,
            self.prompts,
            config.paging,
            owner=self.node,
            tz=config.timezone,
            clock=clock,
            registrar=config.trunk.registrar,
            page_settings=PageSettings(
                plays=config.page_call.message_plays, key_timeout=config.page_call.key_timeout
            ),
            descriptions=self.descriptions,
            callback=config.page_call.callback,
        )
        self.pager.reconfigure(
            config.paging, self.prompts, self.pager.dialer.settings, config.page_call.lease_seconds
        )
        self.guard = Guard(config.guard, config.listen_port, config.trunk.trusted_networks)
        self.mailer = self._mailer(config)
        self._sessions: dict[asyncio.Task[None], CallSession] = {}
        self._stopping = False
        self._listening = False
        self._call_deps = self._deps()
        self._reloading = asyncio.Lock()
        self.metrics = NodeMetrics()
        self._instrument()

    def _instrument(self) -> None:
        """Connect the node's metrics to the parts that count (each a hook of one line)."""
        metrics = self.metrics
        metrics.calls_in_progress.set_function(lambda: len(self._sessions))
        metrics.db_queue.set_function(lambda: self.writer.pending)
        self.writer.on_commit = metrics.commit
        self.engine.on_media = metrics.media
        self.pager.on_attempt = lambda result: metrics.page_attempt(result.value)
        if self.mailer is not None:
            self.mailer.on_result = metrics.email

    def health(self) -> Health:
        """Whether this node can take a call: SIP listens and the database answers."""
        try:
            self.db.ping()
        except Exception as exc:
            return Health(self._listening, False, f"database: {exc}")
        return Health(self._listening, True, "" if self._listening else "SIP is not listening")

    def _fault_committed(self, reference: str, priority: Priority) -> None:
        if self.config.paging.pages(priority.value):
            self.pager.wake()
        if self.mailer is not None:
            self.mailer.wake()

    def _deps(self) -> SessionDeps:
        return SessionDeps(
            writer=self.writer,
            speech=self.prompts,
            trunk=self.config.trunk,
            calendar=self.calendar,
            flow_settings=FlowSettings(
                first_digit_timeout=self.config.menu.first_digit_timeout,
                tries=self.config.menu.tries,
                describe=self.config.recording.enabled,
                max_description_seconds=self.config.recording.max_seconds,
                unknown_callers=self.config.menu.unknown_callers,
                after_hours=self.config.hours.after_hours,
            ),
            recording=self.config.recording,
            recent_fault_minutes=self.config.menu.recent_fault_minutes,
            open_fault_status=self.config.menu.open_fault_status,
            inband_dtmf=self.config.menu.inband_dtmf,
            descriptions=self.descriptions,
            clock=self.clock,
            source_of=self.engine.source_of,
            on_fault=self._fault_committed,
            scanner_user_agents=self.config.guard.scanner_user_agents,
            prepare_text=self.prompts.prepare_text,
        )

    async def reload(self, load: Callable[[], Config]) -> bool:
        """Take what can change without dropping a call from a re-read sip.conf (SIGHUP).

        New calls get the new settings; calls in progress keep theirs. A file
        with a mistake, or prompts that cannot be built, change nothing: the
        error is logged and the service goes on as it was. Returns whether
        the new settings are in force.
        """
        async with self._reloading:
            try:
                new = await asyncio.to_thread(load)
            except ConfigError as exc:
                log.error("configuration NOT reloaded, still running as before:\n%s", exc)
                return False
            except Exception:
                log.exception("configuration NOT reloaded, still running as before")
                return False
            found = config_reload.changes(self.config, new)
            # The prompts are read again even when sip.conf did not change:
            # the catalogue or a recording may have (the cache keeps it quick).
            prompts = PromptLibrary(new.prompts, new.support)
            try:
                summary = await asyncio.to_thread(prompts.build)
            except PromptError as exc:
                log.error("configuration NOT reloaded, still running as before: %s", exc)
                return False
            log.info("prompts reloaded: %s", summary)
            mail_before = self.config.email
            self._apply(config_reload.apply(self.config, new), prompts)
            if self.config.email != mail_before:
                await self._restart_mailer()
            log.info(
                "configuration reloaded, for new calls: %s",
                ", ".join(found.reloaded) or "no setting changed",
            )
            for name in found.need_restart:
                log.warning("reload: %s changed; it applies only after a restart", name)
            for name in found.not_served:
                log.info("reload: %s changed; `ivr web` reads it when it restarts", name)
            return True

    def _calendar(self, config: Config) -> BusinessCalendar:
        calendar = config.hours.calendar(config.timezone)
        calendar.load(self.clock().date())
        return calendar

    def _apply(self, config: Config, prompts: PromptLibrary) -> None:
        self.config = config
        self.prompts = prompts
        self.calendar = self._calendar(config)
        # A fault committed from now on is timed and paged by the new rules,
        # whenever its call began: the rules in force when it is reported.
        self.writer.calendar = self.calendar
        self.writer.rules = config.sla
        self.writer.paging = config.paging
        self.pager.reconfigure(
            config.paging,
            prompts,
            PageSettings(
                plays=config.page_call.message_plays, key_timeout=config.page_call.key_timeout
            ),
            config.page_call.lease_seconds,
        )
        self._call_deps = self._deps()

    async def _restart_mailer(self) -> None:
        """Send by the new `[email]`: a message being sent finishes first, the rest wait."""
        if self.mailer is not None:
            await self.mailer.stop()
        self.mailer = self._mailer(self.config)
        if self.mailer is None:
            log.warning("e-mail: [email] was removed, so customers are sent no e-mail")
        else:
            self.mailer.on_result = self.metrics.email
            await self.mailer.start()

    def _mailer(self, config: Config) -> EmailSender | None:
        if config.email is None:
            return None
        return EmailSender(self.db, config.email, config.timezone, self.node, self.clock)

    def _close_interrupted_calls(self) -> None:
        """Calls this node still shows in progress died with its previous process."""
        with self.db.sessions.begin() as session:
            count = close_interrupted_calls(session, self.node)
        if count:
            log.warning("%d call(s) were cut off when %s last stopped", count, self.node)

    def _prepare_outages(self) -> None:
        """Render current and future outage messages now, so that no call waits for them."""
        with self.db.sessions() as session:
            messages = [outage.message for outage in list_outages(session, self.clock())]
        for message in messages:
            try:
                self.prompts.prepare_text(message)
            except PromptError as exc:
                log.error("outage message not rendered (%s); retried when a call needs it", exc)
        if messages:
            log.info("outage messages ready: %d", len(messages))

    def _warn_if_nobody_on_call(self) -> None:
        """Say so at start-up if a critical fault reported now would ring nobody."""
        with self.db.sessions() as session:
            pageable = pageable_now(session, self.config.paging, self.clock())
        if not pageable:
            log.warning(
                "nobody can be paged for a critical fault right now (empty rota, no engineers, "
                "or only inactive ones): set one up with `ivr engineers add` and "
                "`ivr oncall rota set`; `ivr oncall now` checks"
            )
        else:
            log.info("on call for critical faults: %s", ", ".join(pageable))

    def _forget_session(self, task: asyncio.Task[None]) -> None:
        session = self._sessions.pop(task, None)
        if session is not None:
            self.metrics.call_finished(session.flow.summary.outcome)
        if not task.cancelled() and task.exception() is not None:
            log.error("call session ended with an error", exc_info=task.exception())

    def _serve_metrics(self) -> MetricsServer | None:
        if self.config.metrics_listen is None:
            return None
        host, port = self.config.metrics_listen
        try:
            server = MetricsServer(host, port, self.metrics, self.health)
        except OSError as exc:
            raise StartupError(f"cannot serve metrics on {host}:{port}: {exc}") from exc
        server.start()
        return server

    async def run(self, stop: asyncio.Event, ready: Callable[[str], object] | None = None) -> None:
        """Serve calls until `stop` is set, then let live calls finish.

        `ready` is told (with the line printed) once SIP listens and the
        prompts are ready: `ivr serve` passes systemd's READY=1 there.

        The prompts come first: rendering what the cache lacks, and raising
        PromptError (naming the prompt) for a catalogue or recording that
        cannot be used, before the database is touched or a SIP port opened.
        """
        summary = await asyncio.to_thread(self.prompts.build)
        log.info("prompts ready: %s", summary)
        if self.config.auto_migrate:  # else `ivr serve` checked the schema is current
            self.db.create_schema()
        await asyncio.to_thread(self._close_interrupted_calls)
        await asyncio.to_thread(self._prepare_outages)
        await asyncio.to_thread(self._warn_if_nobody_on_call)
        if self.mailer is None:
            log.warning("e-mail: sip.conf has no [email] section, so customers are sent no e-mail")
        self._call_deps = self._deps()
        loop = asyncio.get_running_loop()

        def incoming(call: InboundCall) -> None:
            if len(self._sessions) >= self.config.max_calls:
                log.warning(
                    "busy: %d calls in progress; %s refused", len(self._sessions), call.call_id
                )
                loop.create_task(call.reject_busy())
                return
            # Each call keeps the settings in force when it came in (SIGHUP swaps them).
            session = CallSession(call, self._call_deps)
            if self._stopping:
                session.shutdown()
            task = loop.create_task(session.run())
            self._sessions[task] = session
            task.add_done_callback(self._forget_session)

        metrics_server = self._serve_metrics()  # /healthz says "not listening" until SIP does
        try:
            await self.engine.start(incoming)
        except Exception as exc:
            if metrics_server is not None:
                metrics_server.stop()
            # The engine's errors are the SIP stack's own types, which only
            # ivr.sip may import; any of them here means nothing is listening.
            raise StartupError(
                f"cannot listen for SIP on {self.engine.settings.listeners()}: {exc}"
            ) from exc
        self._listening = True
        if self.engine.trace is not None:
            self.engine.trace.on_response_sent = self.metrics.response_sent
        await asyncio.to_thread(self.guard.install)
        await self.pager.start()
        if self.mailer is not None:
            await self.mailer.start()
        # What start-up made (modules, prompts, the SIP stack's objects) lives
        # as long as the service: keep it out of the garbage collector's full
        # passes, which otherwise walk it all and held every call's event
        # loop (and the SIP thread, waiting for the interpreter) for ~0.1 s.
        gc.collect()
        gc.freeze()
        line = f"fault line ready on sip:{self.config.listen_host}:{self.config.listen_port}"
        print(line, flush=True)
        if ready is not None:
            ready(line)
        try:
            await stop.wait()
        finally:
            log.info("stopping: %d call(s) in progress", len(self._sessions))
            self._stopping = True
            for session in list(self._sessions.values()):
                session.shutdown()
            if self._sessions:
                await asyncio.wait(list(self._sessions), timeout=30)
            await self.pager.stop()
            if self.mailer is not None:
                await self.mailer.stop()
            self._listening = False
            await self.engine.close()
            if metrics_server is not None:
                metrics_server.stop()
            await asyncio.to_thread(self.guard.remove)
            self.writer.close()
            self.db.dispose()
