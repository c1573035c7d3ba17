"""``ClientCore``: the machinery behind ``KrakenWSClient``'s methods.

One object owns what the user-facing methods share: the three endpoint connections (opened
lazily), the token provider, the event queues and callback, background tasks, the live books and
the order-safety component, and the one request pipeline every method goes through:

```text
open the endpoint -> token -> pace (subscriptions) -> send -> await the answer
```

under a single deadline. The core is the ``owner`` of each `Connection`,
of `LiveBooks` and of `OrderSafety`: it implements their small
owner interfaces, and they reach nothing else.
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any, TypeVar, cast

from pydantic import BaseModel

from ..auth import TokenProvider
from ..events import (
    ConnectionFailed,
    Endpoint,
    LateResponse,
    SequenceGap,
)
from ..exceptions import (
    ConnectError,
    ConnectionLost,
    InvalidState,
    KrakenAPIError,
    RequestTimeout,
    SessionError,
    api_error_for,
)
from ..models.channels.executions import (
    ExecutionsSnapshot,
    ExecutionsSubscribeResult,
    ExecutionsUpdate,
)
from ..models.messages import ChannelFrame
from ..models.methods.subscribe import SubscribeSuccess
from ..protocol.envelope import response_fields
from ..protocol.events import (
    ChannelData,
    ProtocolEvent,
    RequestCompleted,
    RequestFailed,
)
from ..protocol.state import ConnectionState
from ..ratelimit import NullRateLimiter, TradingRateLimiter
from ..reconnect import backoff
from ..transport.base import Connector, Transport
from ._books import LiveBooks
from ._connection import Connection, ConnectionSettings
from ._orders import OrderSafety
from ._queue import ENDPOINTS, EventQueue
from .types import ClientEvent, EventCallback

__all__ = ["ClientCore", "ClientOptions"]

_log = logging.getLogger("kraken_ws.client")

_T = TypeVar("_T", bound=BaseModel)


@dataclass(frozen=True, slots=True)
class ClientOptions:
    """Everything ``KrakenWSClient(...)`` was given (see its docstring for each)."""

    urls: dict[Endpoint, str]
    settings: ConnectionSettings
    reconnect_initial_delay: float
    reconnect_max_delay: float
    max_queue: int
    book_resync_interval: float
    reconcile_grace: float


class ClientCore:
    """The shared machinery of one client (see the module docstring).

    Args:
        options: The client's options.
        tokens: Supplies WebSocket tokens.
        connector: Opens transports.
        rate_limiter: The local model of the trading counter (a null one counts nothing).
        on_event: Callback for every event, or ``None`` (then a default queue is fed).
        on_raw_frame: Called with every received text frame before decoding.
        clock: Monotonic clock in seconds.
    """

    def __init__(
        self,
        options: ClientOptions,
        *,
        tokens: TokenProvider,
        connector: Connector,
        rate_limiter: TradingRateLimiter | None,
        on_event: EventCallback | None,
        on_raw_frame: Callable[[Endpoint, str], None] | None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.options = options
        self.settings = options.settings
        self.request_timeout = options.settings.request_timeout
        self.auth_url = options.urls["auth"]
        self.clock = clock
        self.tokens = tokens
        self.connector = connector
        self.limiter: TradingRateLimiter = rate_limiter or NullRateLimiter()
        self.on_event = on_event
        self._on_raw_frame = on_raw_frame
        self.raw_listening = on_raw_frame is not None
        self.queues: list[EventQueue] = []
        self.main_queue: EventQueue | None = None if on_event is not None else self.new_queue()
        self.connections: dict[Endpoint, Connection] = {}
        self.tasks: set[asyncio.Future[Any]] = set()
        self.live = LiveBooks(self, resync_interval=options.book_resync_interval)
        self.orders = OrderSafety(self, grace=options.reconcile_grace)
        self.closed = False

    # --- lifecycle ------------------------------------------------------------------------------

    async def close(self) -> None:
        """Close every connection and stop every task (idempotent)."""
        if self.closed:
            return
        self.closed = self.orders.closed = True
        for conn in self.connections.values():
            conn.set_closing()
            if conn.proto.state is not ConnectionState.CLOSED:
                conn.proto.close()
            if conn.transport is not None:
                with contextlib.suppress(Exception):
                    await conn.transport.close(1000, "client closing")
        for conn in self.connections.values():
            if conn.task is not None:
                conn.task.cancel()
        tasks: list[asyncio.Future[Any]] = [
            c.task for c in self.connections.values() if c.task is not None
        ]
        tasks += list(self.tasks)
        for task in self.tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        for conn in self.connections.values():
            if conn.transport is not None:
                with contextlib.suppress(Exception):
                    await conn.transport.abort()
                conn.transport = None
            if conn.proto.state is not ConnectionState.CLOSED:
                conn.proto.connection_lost(now=self.clock(), reason="client closed")
            conn.dispatch()
            for future in conn.waiters.values():
                if not future.done():
                    future.set_exception(ConnectionLost("client closed"))
            conn.waiters.clear()
        await self.tokens.aclose()
        for queue in self.queues:
            queue.finish()

    def conn(self, endpoint: Endpoint) -> Connection:
        """The endpoint's connection, created and started on first use.

        Raises:
            InvalidState: The client is closed.
            BaseException: The endpoint failed for good (its error).
        """
        if self.closed:
            raise InvalidState("the client is closed")
        conn = self.connections.get(endpoint)
        if conn is None:
            url = self.options.urls[endpoint]
            conn = self.connections[endpoint] = Connection(self, endpoint, url, self.settings)
        if conn.fatal is not None:
            raise conn.fatal
        conn.start()
        return conn

    async def open(self, endpoint: Endpoint, timeout: float) -> Connection:
        """The endpoint's connection once it is open.

        Raises:
            ConnectError: Not open within ``timeout`` (names the last connection error).
        """
        conn = self.conn(endpoint)
        if conn.opened.is_set():
            return conn
        waiter = asyncio.ensure_future(conn.opened.wait())
        assert conn.task is not None
        try:
            done, _ = await asyncio.wait(
                {waiter, conn.task}, timeout=timeout, return_when=asyncio.FIRST_COMPLETED
            )
        finally:
            # Also when the caller is cancelled: a pending waiter would outlive the call.
            if not waiter.done():
                waiter.cancel()
        if waiter not in done:
            with contextlib.suppress(asyncio.CancelledError):
                await waiter
            if conn.fatal is not None:
                raise conn.fatal
            last = f" (last error: {conn.last_error})" if conn.last_error else ""
            raise ConnectError(f"{endpoint}: not connected within {timeout:.3f}s{last}")
        return conn

    # --- events ---------------------------------------------------------------------------------

    def new_queue(
        self,
        accept: Callable[[ClientEvent], bool] | None = None,
        sources: frozenset[Endpoint] = ENDPOINTS,
    ) -> EventQueue:
        """A new consumer queue, fed from now on."""
        queue = EventQueue(self.options.max_queue, accept, sources)
        self.queues.append(queue)
        return queue

    async def iterate(self, queue: EventQueue, *, remove: bool) -> AsyncIterator[ClientEvent]:
        """Yield a queue's events until the client closes (or its endpoints fail)."""
        try:
            while True:
                try:
                    yield await queue.get()
                except StopAsyncIteration:
                    return
        finally:
            if remove and queue in self.queues:
                self.queues.remove(queue)

    def emit(self, event: ClientEvent) -> None:
        """Hand an event to every queue and to the callback."""
        for queue in self.queues:
            queue.put(event)
        if self.on_event is not None:
            try:
                result = self.on_event(event)
                # None first: a plain callback's answer, for every event (isawaitable costs more).
                if result is not None and inspect.isawaitable(result):
                    self.spawn(result)
            except Exception:
                _log.exception("on_event callback failed")

    def spawn(self, awaitable: Awaitable[Any]) -> asyncio.Future[Any]:
        """Run a background task; ``close()`` cancels it."""
        # The coroutine itself becomes the task: a wrapper cancelled before its first step would
        # leave it never awaited (a RuntimeWarning, an error under our test settings).
        task = asyncio.ensure_future(awaitable)
        self.tasks.add(task)

        def done(t: asyncio.Future[Any]) -> None:
            self.tasks.discard(t)
            if not t.cancelled() and t.exception() is not None:
                _log.warning("background task failed: %s", t.exception())

        task.add_done_callback(done)
        return task

    # --- owner of connections, live books and order safety --------------------------------------

    def backoff(self) -> Iterator[float]:
        """A fresh sequence of reconnect delays (full jitter)."""
        return backoff(self.options.reconnect_initial_delay, 2.0, self.options.reconnect_max_delay)

    async def connect(self, url: str) -> Transport:
        """Open a transport to ``url``."""
        return await self.connector(url)

    async def token(self, *, refresh: bool = False) -> str:
        """A WebSocket token (one fetch at a time however many callers wait)."""
        return await self.tokens.get(refresh=refresh)

    def prefetch_token(self) -> None:
        """Start fetching a token if there are credentials and none is cached."""
        if self.tokens.has_credentials and self.tokens.cached is None:
            self.spawn(self.tokens.get())

    def invalidate_token(self) -> None:
        """Forget the cached token."""
        self.tokens.invalidate()

    def cached_token(self) -> str | None:
        """The cached token, if any."""
        return self.tokens.cached

    def connection(self, endpoint: Endpoint) -> Connection | None:
        """An endpoint's connection, if it was ever used."""
        return self.connections.get(endpoint)

    def auth_connection(self) -> Connection | None:
        """The auth endpoint's connection, if it was ever used."""
        return self.connections.get("auth")

    @property
    def on_raw_frame(self) -> Callable[[Endpoint, str], None] | None:
        """The hook called with every received text frame, if any."""
        return self._on_raw_frame

    @on_raw_frame.setter
    def on_raw_frame(self, hook: Callable[[Endpoint, str], None] | None) -> None:
        # raw_listening is what the connections read per frame (one attribute, no call when
        # nobody listens): set here, so that a hook set later is called from the next frame.
        self._on_raw_frame = hook
        self.raw_listening = hook is not None

    def raw_frame(self, endpoint: Endpoint, text: str) -> None:
        """Pass a received frame to ``on_raw_frame``, if any."""
        hook = self._on_raw_frame
        if hook is not None:
            try:
                hook(endpoint, text)
            except Exception:
                # A failing observer must not take the connection down with it.
                _log.exception("on_raw_frame callback failed")

    def protocol_event(self, conn: Connection, event: ProtocolEvent) -> None:
        """Route what the client (not the connection) acts on."""
        if isinstance(event, ChannelData):
            self._channel_data(event.message)
        elif isinstance(event, RequestCompleted):
            self._calibrate(event)
            self.orders.completed(event)
        elif isinstance(event, RequestFailed):
            error = event.error
            if isinstance(error, ConnectionLost | RequestTimeout):
                self.orders.doubt(error, connection_gone=isinstance(error, ConnectionLost))
        elif isinstance(event, LateResponse):
            self.orders.late_response(event)
        elif isinstance(event, SequenceGap):
            self.orders.sequence_gap(conn, event)

    @property
    def book_frame(self) -> Callable[[Connection, Any, float], bool]:
        """A frame's text, then its parsed value: the live books take a plain book frame.

        The rule is `LiveBooks.book_frame`; the connection is handed that method itself (one
        call per frame, not two).
        """
        return self.live.book_frame

    def _channel_data(self, message: BaseModel) -> None:
        channel = getattr(message, "channel", None)
        if isinstance(message, ExecutionsSnapshot | ExecutionsUpdate):
            self.orders.executions(message)
            return
        if channel in ("book", "level3", "instrument") and not self.live.feed(message):
            return  # a frame of a book nobody reads as typed events (docs/books.md)
        if self.settings.strict and channel is None:
            return
        # The protocol classifies only channel frames (and unknown frames) as ChannelData.
        self.emit(cast("ChannelFrame", message))

    def _calibrate(self, event: RequestCompleted) -> None:
        # Every executions ack (a user's subscribe or a replay after a reconnect) names the
        # account's tier maximum: the local model follows it rather than the tier it was built
        # with.
        for response in event.responses:
            if isinstance(response, SubscribeSuccess):
                result = response.result
                if isinstance(result, ExecutionsSubscribeResult) and result.maxratecount:
                    self.limiter.calibrate(result.maxratecount)

    def connection_opened(self, conn: Connection, *, reconnect: bool) -> None:
        """A socket opened."""
        if conn.endpoint == "auth":
            self.orders.auth_opened(reconnect=reconnect)

    def connection_lost(self, conn: Connection) -> None:
        """A socket went: its books are stale, answers to its in-doubt requests cannot come."""
        if conn.endpoint == "auth":
            self.orders.auth_lost()
        self.live.connection_lost(conn.endpoint)

    def connection_failed(self, conn: Connection, error: BaseException) -> None:
        """An endpoint failed for good: only its own streams end (the others go on)."""
        self.emit(ConnectionFailed(conn.endpoint, error))
        failed = {e for e, c in self.connections.items() if c.fatal is not None}
        for queue in self.queues:
            # A stream ends when nothing it accepts can arrive any more.
            used = queue.sources & set(self.connections)
            if used and used <= failed:
                queue.finish(error)

    def next_housekeeping(self, conn: Connection) -> float | None:
        """When a book of this connection is next due for a resync."""
        return self.live.next_resync(conn)

    def housekeeping(self, conn: Connection, now: float) -> None:
        """Send the resyncs that are due."""
        self.live.resync_due(conn, now)

    # --- the request pipeline -------------------------------------------------------------------

    async def request(
        self,
        endpoint: Endpoint,
        request: BaseModel | Mapping[str, object],
        *,
        token: bool,
        timeout: float | None,
        pace: bool = False,
    ) -> RequestCompleted:
        """Send a request on an endpoint and wait for every response it expects.

        A refused token (``SessionError``) is refetched and the request retried once, within
        the same deadline.
        """
        timeout = self.request_timeout if timeout is None else timeout
        deadline = self.clock() + timeout
        for attempt in (1, 2):
            completed = await self._request_once(
                endpoint, request, token=token, refresh=attempt == 2, pace=pace, deadline=deadline
            )
            if token and attempt == 1 and _session_rejected(completed):
                # A stale token is reported, not fatal; refetch once and retry.
                _log.info("token refused; fetching a new one and retrying once")
                self.tokens.invalidate()
                continue
            return completed
        return completed

    async def _request_once(
        self,
        endpoint: Endpoint,
        request: BaseModel | Mapping[str, object],
        *,
        token: bool,
        refresh: bool,
        pace: bool,
        deadline: float,
    ) -> RequestCompleted:
        conn: Connection | None = None
        req_id: int | None = None
        future: asyncio.Future[RequestCompleted] | None = None
        try:
            # One bound for every step (connect, token, pacing, write, answer): whatever stalls,
            # the caller has the answer or an error by the deadline, never a hang. The protocol's
            # own deadline normally ends the wait first; this one guards every await around it.
            async with asyncio.timeout(max(deadline - self.clock(), 0.0)):
                conn = await self.open(endpoint, max(deadline - self.clock(), 0.0))
                value = await self.tokens.get(refresh=refresh) if token else None
                if pace:
                    delay = conn.pacer.reserve()
                    if delay > 0:
                        await asyncio.sleep(delay)
                if not conn.opened.is_set():
                    conn = await self.open(endpoint, max(deadline - self.clock(), 0.0))
                future = asyncio.get_running_loop().create_future()
                remaining = max(deadline - self.clock(), 0.001)
                req_id = conn.proto.send(request, now=self.clock(), token=value, timeout=remaining)
                conn.waiters[req_id] = future
                conn.wake.set()
                await conn.flush()
                # Shielded: when this bound fires, the future must keep whatever the protocol
                # sets on it in the same instant (its answer or its own error) for the handler.
                return await asyncio.shield(future)
        except (RequestTimeout, ConnectionLost):
            raise  # the protocol's verdicts; in-doubt orders were recorded when they were made
        except TimeoutError:
            if req_id is None and (conn is None or not conn.opened.is_set()):
                found = self.connections.get(endpoint)
                last = found.last_error if found is not None else None
                raise ConnectError(
                    f"{endpoint}: not connected within the request timeout"
                    + (f" (last error: {last})" if last else "")
                ) from None
            if future is not None and future.done() and not future.cancelled():
                # The protocol decided in the same instant (an answer, or its own error).
                error = future.exception()
                if error is not None:
                    raise error from None
                return future.result()
            if conn is None or req_id is None:
                raise RequestTimeout(
                    f"{_method_of(request)} not sent within the request timeout "
                    f"({endpoint} endpoint not ready); nothing reached Kraken",
                    method=_method_of(request),
                ) from None
            raise self._give_up(conn, req_id) from None
        except asyncio.CancelledError:
            if conn is not None and req_id is not None:
                # The caller stopped waiting: its order may still be acted on; track it.
                self._give_up(conn, req_id)
            raise

    def _give_up(self, conn: Connection, req_id: int) -> RequestTimeout:
        conn.waiters.pop(req_id, None)
        error = conn.proto.give_up(req_id, now=self.clock())
        if error is None:
            return RequestTimeout(f"no response to req_id={req_id}", req_id=req_id)
        self.orders.doubt(error, connection_gone=False)
        return error

    async def call(
        self,
        request: BaseModel,
        result_type: type[_T],
        *,
        timeout: float | None,
        symbol: str | None = None,
        cost: float = 0.0,
    ) -> _T:
        """Send an auth request with one response and return its typed ``result``.

        Raises:
            RateLimitError: The local model refuses the cost (nothing sent).
            KrakenAPIError: Kraken refused it.
        """
        method = str(getattr(request, "method", ""))
        if symbol is not None and cost:
            self.limiter.charge(symbol, cost)
        completed = await self.request("auth", request, token=True, timeout=timeout)
        response = completed.responses[0]
        raise_for(completed, response)
        result = getattr(response, "result", None)
        if not isinstance(result, result_type):
            raise KrakenAPIError("response without a result", method=method, response=response)
        return result


def raise_for(completed: RequestCompleted, response: BaseModel) -> None:
    """Raise the ``KrakenAPIError`` subclass of a failed response."""
    _method, req_id, ok, error, symbol = response_fields(response)
    if not ok:
        raise api_error_for(
            error or "unknown error",
            method=completed.method,
            req_id=req_id,
            symbol=symbol,
            response=response,
        )


def _session_rejected(completed: RequestCompleted) -> bool:
    for response in completed.responses:
        _m, _r, ok, error, _s = response_fields(response)
        if not ok and error is not None and isinstance(api_error_for(error), SessionError):
            return True
    return False


def _method_of(request: BaseModel | Mapping[str, object]) -> str:
    if isinstance(request, Mapping):
        return str(request.get("method"))
    return str(getattr(request, "method", "request"))
