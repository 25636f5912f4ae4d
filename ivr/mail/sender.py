"""Delivers the e-mail outbox over SMTP from inside `ivr serve`, never on a call's path.

Calls and engineers' keys only write outbox rows (`ivr.store.outbox`); this
task claims due rows one at a time, composes, hands them to the SMTP server
(smtplib, in a worker thread) and marks them sent. A failure is retried
after a doubling wait and, after `[email] max_attempts`, marked failed and
logged. Pending rows survive a restart; see `ivr.store.outbox` for why a
crash can never send a pending message twice.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import smtplib
import ssl
from collections.abc import Callable
from datetime import datetime
from email.message import EmailMessage
from typing import NamedTuple
from zoneinfo import ZoneInfo

from ivr.config.model import EmailConfig
from ivr.mail.compose import Envelope, compose
from ivr.store.db import Database
from ivr.store.outbox import (
    FAILED,
    Backoff,
    claim_due,
    mark_attempt_failed,
    mark_sent,
    next_due,
    thread_tokens,
)

log = logging.getLogger(__name__)


class _Claimed(NamedTuple):
    id: int
    reference: str | None
    message: EmailMessage


class EmailSender:
    def __init__(
        self,
        db: Database,
        config: EmailConfig,
        tz: ZoneInfo,
        owner: str,
        clock: Callable[[], datetime],
    ) -> None:
        self.db = db
        self.config = config
        self.tz = tz
        self.owner = owner
        self.clock = clock
        self.backoff = Backoff(
            config.retry_first_seconds, config.retry_max_seconds, config.max_attempts
        )
        # Long enough for one message's connect, greeting and DATA to time out.
        self.lease_seconds = 3 * config.timeout_seconds + 10
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        # Told each attempt's result (sent, retry, failed): the node's metrics.
        self.on_result: Callable[[str], None] = lambda result: None

    def wake(self) -> None:
        """Look at the outbox now (a fault was just committed by this process)."""
        self._wake.set()

    async def start(self) -> None:
        log.info(
            "e-mail: sending through %s:%d as %s",
            self.config.smtp_host,
            self.config.smtp_port,
            self.config.sender,
        )
        self._task = asyncio.create_task(self._run())

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)

    async def _run(self) -> None:
        while True:
            self._wake.clear()  # before reading, so a wake during the round is not lost
            try:
                due = await asyncio.to_thread(self.send_due)
            except Exception:  # the database away, say: the next round tries again
                log.exception("e-mail: the outbox could not be read")
                due = None
            wait = self.config.poll_seconds
            if due is not None:
                wait = min(wait, max((due - self.clock()).total_seconds(), 0.0))
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout=wait)

    def send_due(self) -> datetime | None:
        """Send every due message, over one connection; returns when the next one is due.

        A message that fails ends the round (the server is likely down), so
        the others wait for the next round instead of failing one by one.
        """
        smtp: smtplib.SMTP | None = None
        try:
            while (claimed := self._claim()) is not None:
                try:
                    if smtp is None:
                        smtp = self._connect()
                    smtp.send_message(claimed.message)
                except (smtplib.SMTPException, OSError, ssl.SSLError) as exc:
                    self._failed(claimed, f"{type(exc).__name__}: {exc}")
                    break
                with self.db.sessions.begin() as session:
                    mark_sent(session, claimed.id, self.owner, self.clock())
                log.info("e-mail %d sent (%s)", claimed.id, claimed.message["Subject"])
                self.on_result("sent")
        finally:
            if smtp is not None:
                try:
                    smtp.quit()
                except (smtplib.SMTPException, OSError):
                    smtp.close()
        with self.db.sessions() as session:
            return next_due(session)

    def _claim(self) -> _Claimed | None:
        now = self.clock()
        with self.db.sessions.begin() as session:
            rows = claim_due(session, now, self.owner, self.lease_seconds, limit=1)
            if not rows:
                return None
            row = rows[0]
            facts = dict(row.facts) | {"reference": row.reference}
            envelope = Envelope(
                self.config.sender, list(row.recipients), row.token, thread_tokens(session, row)
            )
            return _Claimed(row.id, row.reference, compose(row.kind, facts, envelope, self.tz, now))

    def _connect(self) -> smtplib.SMTP:
        smtp = smtplib.SMTP(
            self.config.smtp_host, self.config.smtp_port, timeout=self.config.timeout_seconds
        )
        try:
            if self.config.starttls:
                smtp.starttls(context=ssl.create_default_context())
            if self.config.username:
                smtp.login(self.config.username, self.config.password)
        except BaseException:
            smtp.close()
            raise
        return smtp

    def _failed(self, claimed: _Claimed, error: str) -> None:
        with self.db.sessions.begin() as session:
            row = mark_attempt_failed(
                session, claimed.id, self.owner, self.clock(), error, self.backoff
            )
            if row is None:
                return
            self.on_result("failed" if row.status == FAILED else "retry")
            if row.status == FAILED:
                log.error(
                    "e-mail %d (%s) failed after %d attempts, given up: %s "
                    "(`ivr emails retry %d` sends it again)",
                    row.id,
                    claimed.message["Subject"],
                    row.attempts,
                    error,
                    row.id,
                )
            else:
                log.warning(
                    "e-mail %d not sent (attempt %d): %s; trying again at %s",
                    row.id,
                    row.attempts,
                    error,
                    row.next_attempt_at.isoformat(timespec="seconds"),
                )
