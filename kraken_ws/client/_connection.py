"""The I/O side of one endpoint: socket, reader, timer and reconnect loop.

A `Connection` moves frames between a `Transport` and its
`KrakenProtocol` (which holds the hard state: pending
requests, subscriptions, deadlines), resolves the futures of requests, replays subscriptions after
a reconnect and reconnects with backoff (`kraken_ws.reconnect`). Everything else it needs
from the client goes through the narrow `ConnectionOwner` interface: the client is the
only owner, and tests can be another.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass
from typing import Any, Protocol

from pydantic import BaseModel

from ..events import (
    Connected,
    Disconnected,
    Endpoint,
    LifecycleEvent,
    Reconnecting,
    Resubscribed,
)
from ..exceptions import ConnectError, ConnectionClosed, DecodeError, SessionError, api_error_for
from ..protocol import codec
from ..protocol.connection import KrakenProtocol
from ..protocol.envelope import response_fields
from ..protocol.events import (
    ConnectionDead,
    InvalidFrame,
    ProtocolEvent,
    RequestCompleted,
    RequestFailed,
    UnsolicitedResponse,
)
from ..protocol.state import ConnectionState
from ..ratelimit import MessagePacer
from ..reconnect import classify_error
from ..transport.base import Transport

__all__ = ["Connection", "ConnectionOwner", "ConnectionSettings"]

_log = logging.getLogger("kraken_ws.client")

# Frames longer than this (characters) are decoded in steps (codec.decode_in_steps): below it a
# frame holds at most about a thousand items, a few milliseconds of validation.
_STEPPED_FROM = 32 * 1024


def _nothing() -> None:
    # recv_nowait of a transport without one: every frame through recv.
    return None


@dataclass(frozen=True, slots=True)
class ConnectionSettings:
    """The client's settings that a connection obeys (see ``KrakenWSClient`` for each)."""

    request_timeout: float
    watchdog_timeout: float | None
    ping_interval: float | None
    strict: bool
    max_reconnect_attempts: int | None
    subscribe_rate: float
    subscribe_burst: int


class ConnectionOwner(Protocol):
    """What a `Connection` needs from the client, and nothing more."""

    def clock(self) -> float:
        """The client's monotonic clock, in seconds."""
        ...

    def backoff(self) -> Iterator[float]:
        """A fresh sequence of reconnect delays."""
        ...

    async def connect(self, url: str) -> Transport:
        """Open a transport."""
        ...

    async def token(self, *, refresh: bool = False) -> str:
        """A WebSocket token (single flight)."""
        ...

    def prefetch_token(self) -> None:
        """Start fetching a token in the background if there are credentials and none cached."""
        ...

    def spawn(self, awaitable: Awaitable[Any]) -> asyncio.Future[Any]:
        """Run a background task the client cancels on close."""
        ...

    def emit(self, event: LifecycleEvent) -> None:
        """Hand a lifecycle event to every consumer."""
        ...

    @property
    def raw_listening(self) -> bool:
        """Whether `raw_frame` has anyone to tell: read per frame, so it must stay current."""
        ...

    def raw_frame(self, endpoint: Endpoint, text: str) -> None:
        """A text frame arrived, before it is decoded (called only while `raw_listening`)."""
        ...

    def protocol_event(self, conn: Connection, event: ProtocolEvent) -> None:
        """An event from the connection's protocol (seen before the connection acts on it)."""
        ...

    @property
    def book_frame(self) -> Callable[[Connection, Any, float], bool]:
        """Apply a plain book frame straight to its book (`kraken_ws.book.wire`).

        A property, so that the connection calls the books' own method, one call per frame.

        Offered the frame's text first (``obj`` a ``str``: a quiet book's plain update is
        matched from it, never parsed), then, if that returned ``False``, its parsed value.

        Its typed event, if a consumer takes it, is emitted from there too.

        Returns:
            Whether it was handled so; ``False``: validate it on the typed path.
        """
        ...

    def connection_opened(self, conn: Connection, *, reconnect: bool) -> None:
        """The socket is open and subscriptions are being replayed."""
        ...

    def connection_lost(self, conn: Connection) -> None:
        """The socket is gone (its pending requests have failed already)."""
        ...

    def connection_failed(self, conn: Connection, error: BaseException) -> None:
        """The endpoint gave up for good."""
        ...

    def next_housekeeping(self, conn: Connection) -> float | None:
        """When `housekeeping` next has work on this connection, if ever."""
        ...

    def housekeeping(self, conn: Connection, now: float) -> None:
        """Timed work of the client on this connection (book resyncs), run by its timer."""
        ...


class Connection:
    """The I/O side of one endpoint: socket, reader, timer, reconnect loop.

    Args:
        owner: The client.
        endpoint: Which endpoint.
        url: Its URL.
        settings: Timeouts, reconnect limit and pacing.
    """

    def __init__(
        self, owner: ConnectionOwner, endpoint: Endpoint, url: str, settings: ConnectionSettings
    ) -> None:
        self.owner = owner
        self.settings = settings
        self.endpoint = endpoint
        self.url = url
        self.proto = KrakenProtocol(
            request_timeout=settings.request_timeout,
            watchdog_timeout=settings.watchdog_timeout,
            ping_interval=settings.ping_interval,
            strict=settings.strict,
        )
        self.transport: Transport | None = None
        self.opened = asyncio.Event()
        self.waiters: dict[int, asyncio.Future[RequestCompleted]] = {}
        self.replay_ids: set[int] = set()
        self.replay_count = 0
        self.replay_retrying = False
        self.token_retried = False
        self.wake = asyncio.Event()
        self.send_lock = asyncio.Lock()
        self.task: asyncio.Task[None] | None = None
        self.fatal: BaseException | None = None
        # Why the last attempt failed, for "not connected within ..." errors.
        self.last_error: str | None = None
        self.connected_once = False
        self.dead_reason: str | None = None
        self._closing = False
        self.pacer = MessagePacer(
            rate=settings.subscribe_rate, burst=settings.subscribe_burst, clock=owner.clock
        )

    def is_closing(self) -> bool:
        """Whether the client is closing this connection."""
        # A method rather than an attribute: the flag flips across awaits, and mypy would
        # otherwise narrow it to its value at the loop's condition.
        return self._closing

    def set_closing(self) -> None:
        """The client is closing: stop reconnecting, stop decoding."""
        self._closing = True

    def take_dead_reason(self) -> str | None:
        """Why the watchdog dropped the socket, once (``None`` if it did not)."""
        # A method for the same reason as is_closing(): set by the timer across awaits.
        reason, self.dead_reason = self.dead_reason, None
        return reason

    def __repr__(self) -> str:
        return f"<Connection {self.endpoint} {self.proto.state.value}>"

    def start(self) -> None:
        """Start the reconnect loop (once)."""
        if self.task is None:
            self.task = asyncio.get_running_loop().create_task(
                self._run(), name=f"kraken-ws-{self.endpoint}"
            )

    # --- reconnect loop ---------------------------------------------------------------------

    async def _run(self) -> None:
        owner, settings = self.owner, self.settings
        delays = owner.backoff()
        attempt = 0
        while not self.is_closing():
            error: BaseException | None = None
            code: int | None = None
            reason = ""
            opened = False
            self.dead_reason = None
            try:
                self.proto.connecting()
                if self.endpoint != "public":
                    # Every request here but ping needs the token: fetch it while the socket
                    # connects, so that the first order does not wait for a REST round trip.
                    owner.prefetch_token()
                self.transport = await owner.connect(self.url)
                token: str | None = None
                if self.proto.needs_token:
                    token = await owner.token()
                if self.is_closing():
                    break
                self.replay_ids = set(self.proto.connection_opened(now=owner.clock(), token=token))
                self.replay_count = len(self.replay_ids)
                self.token_retried = False
                self.replay_retrying = False
                opened = True
                self.opened.set()
                attempt = 0
                delays = owner.backoff()
                reconnect = self.connected_once
                self.connected_once = True
                owner.emit(Connected(self.endpoint, reconnect=reconnect))
                owner.connection_opened(self, reconnect=reconnect)
                await self.flush()
                await self._pump()
            except asyncio.CancelledError:
                raise
            except ConnectionClosed as exc:
                error, code, reason = exc, exc.code, exc.reason
                # If we aborted it ourselves, say why rather than an empty 1006 reason.
                reason = self.take_dead_reason() or reason
            except Exception as exc:
                error, code, reason = exc, None, f"{type(exc).__name__}: {exc}"
            finally:
                self.opened.clear()
                transport, self.transport = self.transport, None
                if transport is not None:
                    with contextlib.suppress(Exception):
                        if error is not None:
                            await transport.abort()
                        else:
                            await transport.close()
                if self.proto.state is not ConnectionState.CLOSED:
                    self.proto.connection_lost(now=owner.clock(), reason=reason or "closed")
                    self.dispatch()
                owner.connection_lost(self)
                if opened:
                    owner.emit(Disconnected(self.endpoint, code, reason))
            if self.is_closing():
                break
            self.last_error = reason or None
            fatal = classify_error(error) if error is not None else None
            if fatal is not None:
                self.fail(fatal)
                return
            attempt += 1
            limit = settings.max_reconnect_attempts
            if limit is not None and attempt > limit:
                self.fail(
                    ConnectError(
                        f"{self.endpoint}: gave up after {limit} reconnection attempts: {reason}"
                    )
                )
                return
            delay = next(delays)
            owner.emit(Reconnecting(self.endpoint, attempt, delay))
            _log.info(
                "%s: reconnecting in %.3fs (attempt %d): %s", self.endpoint, delay, attempt, reason
            )
            await asyncio.sleep(delay)

    def fail(self, error: BaseException) -> None:
        """Give up for good: remember why, so requests and iterators raise it."""
        self.fatal = error
        _log.error("%s: connection failed permanently: %s", self.endpoint, error)
        for future in self.waiters.values():
            if not future.done():
                future.set_exception(error)
        self.waiters.clear()
        self.owner.connection_failed(self, error)

    async def _pump(self) -> None:
        transport = self.transport
        assert transport is not None
        proto = self.proto
        # Locals: this loop runs once per frame, and a quiet book's frame is little more.
        owner = self.owner
        clock = owner.clock
        book_frame = owner.book_frame
        # A frame already received is taken without a coroutine (PollingTransport): on a busy
        # feed, that is nearly every frame.
        poll: Callable[[], str | bytes | None] = getattr(transport, "recv_nowait", _nothing)
        timer = asyncio.get_running_loop().create_task(self._timer(transport))
        try:
            while True:
                text = poll()
                if text is None:
                    text = await transport.recv()
                if isinstance(text, bytes):
                    # Kraken sends text frames only. A binary frame is not decoded (its bytes
                    # could be anything); it is reported and skipped, the connection kept.
                    _log.warning("%s: binary frame of %d bytes ignored", self.endpoint, len(text))
                    continue
                if self._closing:
                    # The client is closing: read on to the server's close frame (it waits
                    # behind whatever was already in flight) without decoding any of it.
                    continue
                if owner.raw_listening:
                    owner.raw_frame(self.endpoint, text)
                if len(text) <= _STEPPED_FROM:
                    # proto.receive_text, split so that a plain book frame goes straight to its
                    # book: offered its text first (a quiet book's plain update is matched from
                    # it, never parsed), then _receive parses and validates the rest.
                    now = clock()
                    if not book_frame(self, text, now):
                        self._receive(text, now)
                else:
                    await self._receive_large(text)
                if proto.idle:
                    continue  # nearly every frame: no event to act on, nothing to write
                self.dispatch()
                # What flush() does, without awaiting a coroutine per frame.
                frames = proto.data_to_send()
                if frames:
                    await self._write(frames)
        finally:
            timer.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await timer

    def _receive(self, text: str, now: float) -> None:
        # The rest of proto.receive_text for a frame whose text book_frame did not take (see
        # _pump): parse once (exact decimals, bounds), let the owner take a plain book frame
        # from its value (kraken_ws.book.wire decides what is plain), else validate.
        try:
            obj = codec.parse(text)
        except DecodeError as exc:
            self.proto.receive_message(exc, now=now)
            return
        # A frame whose value is a string is never offered: book_frame would take it for a text
        # to match (a JSON string holding a book frame's text is no book frame).
        if type(obj) is not str and self.owner.book_frame(self, obj, now):
            return
        message = codec.decode_object(obj, strict=self.settings.strict, raw=text)
        self.proto.receive_message(message, now=now)

    async def _receive_large(self, text: str) -> None:
        # A large frame may pack tens of thousands of items: decode it a slice at a time and let
        # the loop run in between, so that no frame stalls the other endpoints, the timers or
        # the user's code for long. Frames stay in order: the next one is read only after.
        steps = codec.decode_in_steps(text, strict=self.settings.strict)
        message: BaseModel | DecodeError
        try:
            while True:
                next(steps)
                await asyncio.sleep(0)
        except StopIteration as done:
            message = done.value
        except DecodeError as exc:
            message = exc
        # The frame's own work (a book applied, events queued) gets a step of its own too.
        await asyncio.sleep(0)
        self.proto.receive_message(message, now=self.owner.clock())

    async def _timer(self, transport: Transport) -> None:
        owner = self.owner
        while True:
            now = owner.clock()
            wakeups = [
                w
                for w in (self.proto.next_wakeup(), owner.next_housekeeping(self))
                if w is not None
            ]
            delay = max(0.0, min(wakeups) - now) if wakeups else None
            self.wake.clear()
            with contextlib.suppress(TimeoutError):
                # asyncio.timeout, not wait_for: on 3.11 wait_for can swallow a cancellation
                # that races with completion, and this task must stop when cancelled.
                async with asyncio.timeout(delay):
                    await self.wake.wait()
            now = owner.clock()
            self.proto.tick(now=now)
            owner.housekeeping(self, now)
            dead = self.dispatch()
            if dead:
                # Abort the socket: the reader's recv raises and the loop reconnects.
                await transport.abort()
                return
            await self.flush()

    async def flush(self) -> None:
        """Write what the protocol queued, in order (one writer at a time)."""
        await self._write(self.proto.data_to_send())

    async def _write(self, frames: list[str]) -> None:
        transport = self.transport
        if not frames or transport is None:
            return
        async with self.send_lock:
            for frame in frames:
                try:
                    await transport.send(frame)
                except ConnectionClosed:
                    # The reader sees the same closure and runs the reconnect logic.
                    return

    # --- protocol events --------------------------------------------------------------------

    def dispatch(self) -> bool:
        """Act on the protocol's events; return whether the watchdog declared it dead."""
        dead = False
        for event in self.proto.events_received():
            dead |= self._handle(event)
        return dead

    def _handle(self, event: ProtocolEvent) -> bool:
        # The owner sees every event first (channel data, completions, failures of orders whose
        # outcome is unknown, late answers, gaps); this side only does the connection's own part.
        self.owner.protocol_event(self, event)
        if isinstance(event, RequestCompleted):
            future = self.waiters.pop(event.req_id, None)
            if future is not None:
                if not future.done():
                    future.set_result(event)
            elif event.req_id in self.replay_ids:
                self._replay_answered(event)
        elif isinstance(event, RequestFailed):
            future = self.waiters.pop(event.req_id, None)
            if future is not None and not future.done():
                future.set_exception(event.error)
            if event.req_id in self.replay_ids:
                self.replay_ids.discard(event.req_id)
                self._maybe_resubscribed()
        elif isinstance(event, UnsolicitedResponse):
            _log.debug("%s: unsolicited response: %r", self.endpoint, type(event.message).__name__)
        elif isinstance(event, InvalidFrame):
            _log.warning("%s: invalid frame ignored: %s", self.endpoint, event.error)
        elif isinstance(event, ConnectionDead):
            self.dead_reason = f"watchdog: no frame for {event.silent_for:.3f}s"
            _log.warning("%s: %s; dropping the connection", self.endpoint, self.dead_reason)
            return True
        return False

    def _replay_answered(self, event: RequestCompleted) -> None:
        self.replay_ids.discard(event.req_id)
        for response in event.responses:
            _method, _rid, ok, error, symbol = response_fields(response)
            if ok or error is None:
                continue
            exc = api_error_for(error, method="subscribe", req_id=event.req_id, symbol=symbol)
            if isinstance(exc, SessionError) and not self.token_retried:
                # The token we replayed with was refused: fetch a fresh one and replay again.
                self.token_retried = True
                self.replay_retrying = True
                self.owner.spawn(self._replay_private_again())
                break
            _log.warning("%s: resubscription rejected: %s", self.endpoint, exc)
        self._maybe_resubscribed()

    def _maybe_resubscribed(self) -> None:
        # Resubscribed is emitted once every replayed request has been answered.
        if self.replay_count and not self.replay_ids and not self.replay_retrying:
            self.owner.emit(Resubscribed(self.endpoint, self.replay_count))
            self.replay_count = 0

    async def _replay_private_again(self) -> None:
        try:
            token = await self.owner.token(refresh=True)
            if not self.opened.is_set():
                return
            # Only what is still unacknowledged: re-sending a live one earns "Already subscribed".
            for record in self.proto.subscriptions.desired():
                if record.private and not record.acknowledged:
                    rid = self.proto.send(
                        {"method": "subscribe", "params": record.params},
                        now=self.owner.clock(),
                        token=token,
                    )
                    self.replay_ids.add(rid)
        finally:
            self.replay_retrying = False
        self._maybe_resubscribed()
        await self.flush()
