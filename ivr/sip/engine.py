"""The SIP engine: the only module that imports baresip.

It answers calls, plays PCM, reports digits and hang-ups, and dials out.
It knows nothing of faults or menus; the session layer drives it.

The engine's known traps are handled here, once:
- the default cap of 2 concurrent calls (we set our own);
- a spurious re-INVITE on inbound calls unless video is off (video_codecs=none);
- INVITEs to any number other than the account user get 404 unless catchall=yes;
- incoming headers are visible only when listed in expose_headers;
- the transport source of a request is not reported, and SIP INFO with
  application/dtmf is answered 488 and its digit dropped: see ivr.sip.trace;
- every answer the stack itself gives before it reports a call (500 for a
  body it cannot take, 180 as soon as it has one) is out of our hands: the
  binding reports a call only after its 180, and can refuse it only with 486;
- an account answers requests of its own transport only, so there is one
  user agent per SIP transport; TLS listens one port above `sip_listen`;
- the TLS certificate and its key must be one PEM file;
- a wideband codec (G.722) is decoded to 16 kHz and the received-audio tap
  sits before the stack's resampler: the transmit side is fed at 8 kHz
  (`ausrc_srate`) and resampled by the stack, the received side is brought
  down to 8 kHz here (ivr.audio.downsample), by the rate the stack reports.
"""

from __future__ import annotations

import asyncio
import contextlib
import enum
import logging
import os
import shutil
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Literal, TypeVar

import baresip
from baresip import Account, Config, Event, Runtime, StackEvent, UserAgent
from baresip.errors import split_status

from ivr.audio.downsample import TARGET_RATE, Downsampler
from ivr.config import Config as SipConf
from ivr.sip.digits import DigitInput
from ivr.sip.player import play_pcm
from ivr.sip.trace import InviteKey, SipTrace

log = logging.getLogger(__name__)
ActiveCallT = TypeVar("ActiveCallT", bound="ActiveCall")

# Header names whose first instance the engine hands us (compact forms too).
# Via, v and CSeq name the transaction that made the call (ivr.sip.trace).
EXPOSED_HEADERS = (
    "From", "f", "To", "t", "P-Asserted-Identity", "Privacy", "User-Agent", "Via", "v", "CSeq",
)  # fmt: skip
ESTABLISH_TIMEOUT = 10.0
TRACE_LOGGER = "baresip.native.sip"
NATIVE_LOGGER = "baresip.native"
# The stack numbers a user agent's calls with line numbers 1-255; a call
# beyond that fails with 500 (not 486). We keep under it and leave lines for
# page calls: see ivr.config.MAX_INBOUND_CALLS.
STACK_CALL_LINES = 250
# How often received audio is collected from every call that has a listener
# (in-band DTMF, a recording): one task for all calls, not one per call. The
# stack keeps about a second of received audio per call and skips a reader
# forward once it is half a second behind, so a tenth of a second is safe,
# and it is soon enough for a key: a tone is heard at most that much later.
# Collecting every 40 ms, with a 16 kB read buffer zeroed each time, was the
# largest steady Python cost of a call in the menu.
RX_PUMP_SECONDS = 0.1
# One read's buffer: a tenth of a second of 16 kHz audio, with room to spare.
# A read that fills it is followed by another at once.
RX_READ_BYTES = 4096
RX_READS_PER_PUMP = 8
# Our names for codecs and SRTP modes (sip.conf's), as the stack spells them.
STACK_CODECS = {"g722": "G722/16000/1", "pcmu": "pcmu", "pcma": "pcma"}
STACK_MEDIA_ENCRYPTION = {"off": None, "optional": "srtp", "mandatory": "srtp-mand"}
STACK_TRANSPORTS: dict[str, Literal["udp", "tcp", "tls"]] = {
    "udp": "udp", "tcp": "tcp", "tls": "tls",
}  # fmt: skip


@dataclass(frozen=True)
class EngineSettings:
    listen_host: str
    listen_port: int  # UDP and TCP; TLS's own when TLS is the only transport
    user: str = "faultline"
    max_calls: int | None = STACK_CALL_LINES
    rtp_timeout: int = 60
    registrar: str | None = None
    username: str = ""
    password: str = ""
    transports: tuple[str, ...] = ("udp", "tcp")  # keys of STACK_TRANSPORTS
    tls_certificate: Path | None = None
    tls_key: Path | None = None  # None: in the certificate file
    tls_ca: Path | None = None
    rtp_ports: tuple[int, int] | None = None
    srtp: str = "off"  # a key of STACK_MEDIA_ENCRYPTION
    codecs: tuple[str, ...] = ("g722", "pcmu", "pcma")  # keys of STACK_CODECS
    jitter_buffer: str = "off"  # the stack's audio_jitter_buffer_type: off, fixed, adaptive

    @property
    def tls_port(self) -> int | None:
        if "tls" not in self.transports:
            return None
        return self.listen_port if self.transports == ("tls",) else self.listen_port + 1

    @property
    def sip_listen_port(self) -> int:
        """The stack's one listen port: TLS is derived from it, one above."""
        return self.listen_port - 1 if self.transports == ("tls",) else self.listen_port

    @property
    def rtp_range(self) -> str | None:
        """The range as the stack is given it: from an even port. The stack puts RTP on
        an even port by clearing the lowest bit of the one it draws, so from an odd start
        it could use the port just below the range (and a firewall would drop it)."""
        if self.rtp_ports is None:
            return None
        low, high = self.rtp_ports
        return f"{low + low % 2}-{high}"

    def listeners(self) -> str:
        """Where SIP is listened for, for the log: "127.0.0.1:5060 (udp, tcp), 5061 (tls)"."""
        plain = [t for t in self.transports if t != "tls"]
        parts = [f"{self.listen_host}:{self.listen_port} ({', '.join(plain)})"] if plain else []
        if self.tls_port is not None:
            parts.append(f"{'' if plain else self.listen_host + ':'}{self.tls_port} (tls)")
        return ", ".join(parts)


def settings_from(
    config: SipConf, *, listen_port: int | None = None, max_calls: int = STACK_CALL_LINES
) -> EngineSettings:
    """The engine as sip.conf describes it; `ivr serve` and `ivr page test` alike.

    `listen_port` replaces the configured one (a page test must not take the
    service's port); with TLS alone it is TLS's port.
    """
    port = config.tls_port if config.transports == ("tls",) else config.listen_port
    return EngineSettings(
        listen_host=config.listen_host,
        listen_port=listen_port or port or config.listen_port,
        max_calls=max_calls,
        rtp_timeout=config.rtp_timeout,
        registrar=config.trunk.registrar,
        username=config.trunk.username,
        password=config.trunk.password,
        transports=tuple(config.transports),
        tls_certificate=config.tls.certificate,
        tls_key=config.tls.key,
        tls_ca=config.tls.ca,
        rtp_ports=config.media.rtp_ports,
        srtp=config.media.srtp.value,
        codecs=tuple(config.media.codecs),
        jitter_buffer=config.media.jitter_buffer.value,
    )


@dataclass(frozen=True)
class CallMedia:
    """A finished call's RTP, from the stack's closing statistics (node metrics)."""

    sent: int
    received: int
    lost_sent: int  # that the far end's RTCP reported lost
    lost_received: int  # sent to us and never received
    jitter_seconds: float  # interarrival jitter of what we received (RFC 3550)


class _CallAudioSink:
    """Adapts baresip's CallAudio to the player's AudioSink."""

    def __init__(self, call: baresip.Call) -> None:
        self._audio = call.audio

    def write(self, pcm: bytes | memoryview) -> int:
        try:
            return self._audio.write(pcm)
        except (baresip.AudioNotActive, baresip.AudioRestarted):
            return 0

    def buffered(self) -> int:
        try:
            return self._audio.info().tx_buffered
        except baresip.AudioNotActive:
            return 0

    def flush(self) -> None:
        with contextlib.suppress(baresip.AudioNotActive, baresip.AudioRestarted):
            self._audio.flush_tx()


class ActiveCall:
    """A call in either direction, as the layers above see it: audio out, keys in, hang-up."""

    def __init__(self, call: baresip.Call) -> None:
        self._call = call
        self.call_id = call.call_id or ""
        self._digit_listeners: list[Callable[[str], None]] = []
        # Keys pressed once the call is up but before anyone listens (the call
        # is answered while its log row is written): kept for the first listener.
        self._early_digits: list[str] = []
        self._closed_listeners: list[Callable[[str], None]] = []
        self._audio_listeners: list[Callable[[bytes], None]] = []
        # Brings received audio to 8 kHz; made once the stack reports its rate.
        self._rx_to_narrowband: Downsampler | None = None
        loop = asyncio.get_running_loop()
        self._established: asyncio.Future[bool] = loop.create_future()
        self._digits = DigitInput(self._deliver_digit, loop.time, inband=False)
        self.closed = False
        self.close_reason = ""
        call.on(self._on_event)

    def _on_event(self, event: StackEvent) -> None:
        if event.call_id and not self.call_id:
            self.call_id = event.call_id
        if event.event is Event.CALL_ESTABLISHED and not self._established.done():
            self._established.set_result(True)
        elif event.event is Event.CALL_DTMF_START and event.text:
            # Key-down: a barge-in stops the prompt as the key is pressed.
            # The engine reports RFC 4733 and SIP INFO digits here once each.
            self.signalled_digit(event.text)
        elif event.event is Event.CALL_CLOSED:
            self._mark_closed(event.text or "")

    def _mark_closed(self, reason: str) -> None:
        if self.closed:
            return
        self.closed = True
        self.close_reason = reason
        if not self._established.done():
            self._established.set_result(False)
        for closed in list(self._closed_listeners):
            closed(reason)

    def signalled_digit(self, key: str) -> None:
        """A key signalled out of band (RFC 4733 or SIP INFO), not heard in the audio."""
        if not self.closed:
            self._digits.signalled(key)

    def on_digit(self, listener: Callable[[str], None]) -> None:
        self._digit_listeners.append(listener)
        early, self._early_digits = self._early_digits, []
        for key in early:
            listener(key)

    def listen_for_inband_digits(self) -> None:
        """Also detect keys sent as tones in the audio (each press still counts once)."""
        if self._digits.listens_to_audio:
            return
        self._digits = DigitInput(self._deliver_digit, asyncio.get_running_loop().time, inband=True)
        self.on_audio(self._digits.audio)

    def hear_inband_digits(self, on: bool) -> None:
        """Read the caller's audio for in-band keys only while a key would count.

        Does nothing unless `listen_for_inband_digits` was called. Reading and
        analysing every call's audio all the time costs the service more than
        anything but the engine; when listening starts again, audio received
        meanwhile is dropped (nothing else is reading it), so that a key pressed
        while keys did not count is not taken late.
        """
        if not self._digits.listens_to_audio:
            return
        listening = self._digits.audio in self._audio_listeners
        if on and not listening:
            if not self._audio_listeners:
                self.discard_received_audio()
            self._digits.restart_detector()
            self.on_audio(self._digits.audio)
        elif not on and listening:
            self.off_audio(self._digits.audio)

    def _deliver_digit(self, key: str) -> None:
        if not self._digit_listeners:
            self._early_digits.append(key)
            return
        for listener in list(self._digit_listeners):
            listener(key)

    def on_closed(self, listener: Callable[[str], None]) -> None:
        self._closed_listeners.append(listener)

    def on_audio(self, listener: Callable[[bytes], None]) -> None:
        """Receive the caller's audio (8 kHz 16-bit mono PCM) as it arrives."""
        self._audio_listeners.append(listener)

    def off_audio(self, listener: Callable[[bytes], None]) -> None:
        if listener in self._audio_listeners:
            self._audio_listeners.remove(listener)

    def discard_received_audio(self) -> None:
        """Drop audio received so far, so that what is read next starts now."""
        with contextlib.suppress(baresip.AudioNotActive, baresip.AudioRestarted):
            while self._call.audio.read(RX_READ_BYTES):
                pass

    def _pump_audio(self) -> None:
        if not self._audio_listeners or self.closed:
            return
        try:
            if self._rx_to_narrowband is None:
                info = self._call.audio.info()
                if not info.rx_ready:
                    return
                self._rx_to_narrowband = Downsampler(info.rx_sample_rate or TARGET_RATE)
            received = self._read_received()
        except baresip.AudioRestarted:
            self._rx_to_narrowband = None  # renegotiated: perhaps another codec
            return
        except baresip.AudioNotActive:
            return
        pcm = self._rx_to_narrowband(received)
        if pcm:
            for listener in list(self._audio_listeners):
                listener(pcm)

    def _read_received(self) -> bytes:
        """What has arrived since the last pump, in as few reads as it takes."""
        chunks = []
        for _ in range(RX_READS_PER_PUMP):
            chunk = self._call.audio.read(RX_READ_BYTES)
            chunks.append(chunk)
            if len(chunk) < RX_READ_BYTES:
                break
        return b"".join(chunks)

    def media(self) -> CallMedia | None:
        """The call's RTP once it has closed (None before, or when the stack gave none)."""
        stats = self._call.final_stats
        if stats is None:
            return None
        return CallMedia(
            stats.tx_packets,
            stats.rx_packets,
            stats.tx_lost,
            stats.rx_lost,
            stats.rx_jitter_ms / 1000,
        )

    async def play(self, pcm: bytes) -> None:
        """Play PCM (8 kHz, 16-bit mono); cancel the awaiting task to stop it."""
        await play_pcm(_CallAudioSink(self._call), pcm)

    async def hangup(self) -> None:
        if self.closed:
            return
        with contextlib.suppress(baresip.BaresipError):
            await self._call.hangup()


class InboundCall(ActiveCall):
    """One call to the fault line, with the INVITE's headers."""

    def __init__(self, call: baresip.Call) -> None:
        super().__init__(call)
        headers = {name.lower(): value for name, value in call.headers.items()}
        self.from_header: str | None = headers.get("from") or headers.get("f") or call.peer
        self.to_header: str | None = headers.get("to") or headers.get("t")
        self.asserted_identity: str | None = headers.get("p-asserted-identity")
        self.user_agent: str | None = headers.get("user-agent")
        self.invite_key = InviteKey.of_call(self.call_id, call.headers)
        self.source_address: str | None = None
        # From headers in the INVITE as received (the engine shows only the
        # first); None when its trace record was not seen.
        self.from_count: int | None = None

    async def reject_busy(self) -> None:
        """Turn the call away with 486 Busy Here, unanswered."""
        with contextlib.suppress(baresip.BaresipError):
            await self._call.reject()

    async def answer(self) -> bool:
        """Answer and wait for the caller's ACK; False if the call went away first."""
        try:
            await self._call.answer()
        except baresip.BaresipError as exc:
            log.info("answer failed for %s: %s", self.call_id, exc)
            return False
        try:
            return await asyncio.wait_for(asyncio.shield(self._established), ESTABLISH_TIMEOUT)
        except TimeoutError:
            return False


class DialOutcome(enum.Enum):
    ANSWERED = "answered"
    BUSY = "busy"
    NO_ANSWER = "no_answer"
    REJECTED = "rejected"
    FAILED = "failed"


@dataclass(frozen=True)
class DialResult:
    outcome: DialOutcome
    sip_status: int | None = None
    reason: str = ""
    call: ActiveCall | None = None


def classify_close(reason: str) -> DialResult:
    """How an outbound call that closed before it was answered ended."""
    status, phrase = split_status(reason)
    if status in (486, 600):
        return DialResult(DialOutcome.BUSY, status, phrase)
    if status is not None and status >= 300:
        return DialResult(DialOutcome.REJECTED, status, phrase)
    return DialResult(DialOutcome.FAILED, status, reason or "call failed")


class SipEngine:
    """Owns the baresip runtime and the fault line's user agent."""

    def __init__(self, settings: EngineSettings) -> None:
        self.settings = settings
        self._runtime: Runtime | None = None
        self._ua: UserAgent | None = None  # the first transport's: it dials out
        self._private_dir: Path | None = None
        self.trace: SipTrace | None = None
        # CALL_CLOSED reasons by call handle, seen runtime-wide: a final
        # response that lands within a few ms of an outbound INVITE can close
        # the call before dial() has returned the Call that would hear it.
        self._closed_reasons: dict[int, str] = {}
        self._live: set[ActiveCall] = set()
        self._rx_pump: asyncio.Task[None] | None = None
        # Told each call's RTP as it closes (node metrics).
        self.on_media: Callable[[CallMedia], None] | None = None

    async def start(self, on_incoming: Callable[[InboundCall], None]) -> None:
        loop = asyncio.get_running_loop()
        self.trace = SipTrace(loop)
        trace = logging.getLogger(TRACE_LOGGER)
        trace.setLevel(logging.DEBUG)
        trace.propagate = False  # the trace is ours to read, not to print
        trace.addHandler(self.trace)
        # The stack says here when its log overflowed: trace records were lost.
        logging.getLogger(NATIVE_LOGGER).addHandler(self.trace)

        s = self.settings
        self._runtime = Runtime()
        try:
            config = Config(
                net_interface=s.listen_host,
                max_concurrent_calls=s.max_calls,
                expose_headers=EXPOSED_HEADERS,
                sip_trace=True,
                rtp_timeout=s.rtp_timeout,
                extra_config_text=self._stack_directives(),
            )
            await self._runtime.start(config)
        finally:
            # The stack has read the joined certificate and key as it started.
            self._forget_certificate_file()
        self._runtime.subscribe(self._remember_close)
        media_encryption = STACK_MEDIA_ENCRYPTION[s.srtp]
        account = Account(
            user=s.username or s.user,
            domain=s.registrar or f"{s.listen_host}:{s.listen_port}",
            password=s.password,
            reg_interval=600 if s.registrar else 0,
            transport=STACK_TRANSPORTS[s.transports[0]],
            audio_codecs=tuple(STACK_CODECS[codec] for codec in s.codecs),
            extra_params=(
                "catchall=yes",
                "video_codecs=none",
                *((f"mediaenc={media_encryption}",) if media_encryption else ()),
            ),
        )
        self._ua = await UserAgent.create(self._runtime, account)
        agents = [self._ua]
        for transport in s.transports[1:]:
            other = replace(account, transport=STACK_TRANSPORTS[transport], reg_interval=0)
            agents.append(await UserAgent.create(self._runtime, other))
        if s.registrar:
            await self._ua.register()

        def incoming(call: baresip.Call) -> None:
            on_incoming(self._track(InboundCall(call)))

        for agent in agents:
            agent.on_incoming(incoming)
        self._rx_pump = asyncio.get_running_loop().create_task(self._pump_received_audio())
        log.info(
            "listening for SIP on %s; codecs %s; SRTP %s; RTP ports %s",
            s.listeners(), ", ".join(s.codecs), s.srtp,
            s.rtp_range or "any",
        )  # fmt: skip

    def _stack_directives(self) -> str:
        """The stack's own configuration lines for what its Config does not model."""
        s = self.settings
        lines = [
            f"sip_listen {s.listen_host}:{s.sip_listen_port}",
            f"sip_transports {','.join(s.transports)}",
            # Dialled URIs without ;transport= go out on our first transport.
            f"sip_trans_def {s.transports[0]}",
            # Prompts are fed at 8 kHz whatever the codec; the stack resamples.
            f"ausrc_srate {TARGET_RATE}",
            # Off by default ([media] jitter_buffer): received audio is decoded
            # as it arrives. Nobody here listens to it live but the callback
            # bridge's engineer, whose relay re-times it onto 20 ms anyway. The
            # stack's default (fixed, 100-200 ms) held every call's audio about
            # 70 ms and ran a timer per packet on the stack's thread: bridge
            # delay about 150 -> 80 ms, that thread's CPU per call about halved,
            # about 12 KiB less memory per call (bench/FINDINGS.md).
            f"audio_jitter_buffer_type {s.jitter_buffer}",
        ]
        if s.rtp_range is not None:
            lines.append(f"rtp_ports {s.rtp_range}")
        certificate = self._certificate_file()
        if certificate is not None:
            lines.append(f"sip_certificate {certificate}")
        if s.tls_ca is not None:
            lines += [f"sip_cafile {s.tls_ca}", "sip_verify_server yes"]
        else:
            lines.append("sip_verify_server no")
        return "".join(line + "\n" for line in lines)

    def _certificate_file(self) -> Path | None:
        """The certificate with its key in one file (the stack reads one), private to us,
        and only until the stack has started."""
        s = self.settings
        if s.tls_certificate is None or s.tls_key is None:
            return s.tls_certificate
        self._private_dir = Path(tempfile.mkdtemp(prefix="ivr-tls-"))  # mode 0700
        joined = self._private_dir / "certificate-and-key.pem"
        descriptor = os.open(joined, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "wb") as out:
            out.write(s.tls_certificate.read_bytes().rstrip(b"\n") + b"\n")
            out.write(s.tls_key.read_bytes())
        return joined

    def _forget_certificate_file(self) -> None:
        if self._private_dir is not None:
            shutil.rmtree(self._private_dir, ignore_errors=True)
            self._private_dir = None

    def _track(self, call: ActiveCallT) -> ActiveCallT:
        self._live.add(call)
        relay = self.trace
        if relay is not None and call.call_id:
            relay.listen(call.call_id, call.signalled_digit)

        def closed(_reason: str) -> None:
            self._live.discard(call)
            if relay is not None:
                relay.forget(call.call_id)
            media = call.media()
            if media is not None and self.on_media is not None:
                self.on_media(media)

        call.on_closed(closed)
        return call

    async def _pump_received_audio(self) -> None:
        while True:
            await asyncio.sleep(RX_PUMP_SECONDS)
            for call in list(self._live):
                try:
                    call._pump_audio()
                except Exception:
                    log.exception("received audio of %s could not be delivered", call.call_id)

    def _remember_close(self, event: StackEvent) -> None:
        if event.event is Event.CALL_CLOSED and event.call:
            self._closed_reasons[event.call] = event.text or ""
            while len(self._closed_reasons) > 1024:
                self._closed_reasons.pop(next(iter(self._closed_reasons)))

    async def dial(self, uri: str, ring_timeout: float) -> DialResult:
        """Call `uri`; ring for at most `ring_timeout` seconds (then CANCEL)."""
        if self._ua is None:
            raise RuntimeError("engine not started")
        try:
            call = await self._ua.dial(uri)
        except ValueError as exc:
            return DialResult(DialOutcome.FAILED, None, f"bad address: {exc}")
        except baresip.BaresipError as exc:
            return DialResult(DialOutcome.FAILED, None, str(exc))
        active = self._track(ActiveCall(call))
        early = self._closed_reasons.pop(call.handle, None)
        if early is not None:
            active._mark_closed(early)
            return classify_close(early)
        try:
            await call.wait_established(timeout=ring_timeout)
        except asyncio.CancelledError:
            # The page was stopped while the phone rang: stop ringing it.
            with contextlib.suppress(baresip.BaresipError):
                await call.hangup()
            raise
        except baresip.CallTimeout:
            # wait_established has hung up the ringing call: a CANCEL went out.
            return DialResult(DialOutcome.NO_ANSWER, None, "no answer")
        except baresip.CallFailed as exc:
            return classify_close(f"{exc.status} {exc.reason}" if exc.status else exc.reason)
        return DialResult(DialOutcome.ANSWERED, 200, "OK", active)

    async def source_of(self, call: InboundCall) -> str | None:
        """The host the call's INVITE came from, or None when that is not certain.

        Also notes on the call how many From headers its INVITE had.
        """
        if self.trace is None:
            return None
        origin = await self.trace.origin(call.invite_key)
        call.from_count = origin.from_headers
        if not origin.certain:
            hosts = ", ".join(origin.hosts) or "nowhere traced"
            log.warning(
                "call %s: source uncertain, so untrusted: %s (%s)",
                call.call_id, origin.reason, hosts,
            )  # fmt: skip
        return origin.source

    async def drain(self) -> None:
        if self._runtime is not None:
            await self._runtime.drain()

    async def close(self) -> None:
        if self._rx_pump is not None:
            self._rx_pump.cancel()
        if self._runtime is not None:
            await self._runtime.close()
            self._runtime = None
        if self.trace is not None:
            logging.getLogger(TRACE_LOGGER).removeHandler(self.trace)
            logging.getLogger(NATIVE_LOGGER).removeHandler(self.trace)
