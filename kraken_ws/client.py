"""``KrakenWSClient``: the asyncio client over the sans-I/O protocol.

One :class:`~kraken_ws.protocol.connection.KrakenProtocol` per endpoint (public, auth, level3)
holds the hard state (pending requests, subscriptions, deadlines). This module only moves data
between it and a :class:`~kraken_ws.transport.base.Transport`, resolves futures, queues events
for consumers, runs the reconnect loop (:mod:`kraken_ws._reconnect`) and keeps books live
(:mod:`kraken_ws.book`).

Connections open lazily: the public one on the first public subscription, the auth one on the
first private subscription or trading method, the level3 one on the first ``level3`` request.
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import logging
import time
import uuid
from collections import deque
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Mapping, Sequence
from decimal import Decimal
from typing import Any, Literal, TypeAlias, TypeVar, cast

from pydantic import BaseModel

from ._reconnect import backoff, classify_error
from .auth import TokenProvider
from .book.l2 import OrderBook
from .book.l3 import L3Book
from .book.manager import BookManager, BookUpdated, ResyncNeeded
from .exceptions import (
    ConnectError,
    ConnectionClosed,
    ConnectionLost,
    DecodeError,
    InvalidState,
    KrakenAPIError,
    KrakenWSError,
    RequestTimeout,
    SessionError,
    api_error_for,
)
from .models.channels.balances import BalancesSubscribeParams, BalancesUnsubscribeParams
from .models.channels.book import BookSubscribeParams, BookUnsubscribeParams
from .models.channels.executions import (
    ExecutionReport,
    ExecutionsSnapshot,
    ExecutionsSubscribeParams,
    ExecutionsSubscribeResult,
    ExecutionsUnsubscribeParams,
    ExecutionsUpdate,
)
from .models.channels.instrument import InstrumentSubscribeParams, InstrumentUnsubscribeParams
from .models.channels.level3 import Level3SubscribeParams, Level3UnsubscribeParams
from .models.channels.ohlc import OhlcSubscribeParams, OhlcUnsubscribeParams
from .models.channels.ticker import TickerSubscribeParams, TickerUnsubscribeParams
from .models.channels.trade import TradeSubscribeParams, TradeUnsubscribeParams
from .models.common import (
    PRIVATE_CHANNELS,
    TRADING_METHODS,
    BookDepth,
    EventTrigger,
    ExecutionVenue,
    FeePreference,
    L3Depth,
    OhlcInterval,
    OrderType,
    PriceType,
    Side,
    StpType,
    TimeInForce,
    TriggerReference,
)
from .models.messages import ChannelFrame, ServerMessage
from .models.methods.add_order import (
    AddOrderConditional,
    AddOrderParams,
    AddOrderRequest,
    AddOrderResult,
    AddOrderTriggers,
)
from .models.methods.amend_order import AmendOrderParams, AmendOrderRequest, AmendOrderResult
from .models.methods.batch_add import (
    BatchAddOrder,
    BatchAddOrderResult,
    BatchAddParams,
    BatchAddRequest,
)
from .models.methods.batch_cancel import (
    BatchCancelParams,
    BatchCancelRequest,
    BatchCancelResult,
    BatchCancelSuccess,
)
from .models.methods.cancel_after import (
    CancelAllOrdersAfterParams,
    CancelAllOrdersAfterRequest,
    CancelAllOrdersAfterResult,
)
from .models.methods.cancel_all import CancelAllParams, CancelAllRequest, CancelAllResult
from .models.methods.cancel_order import CancelOrderParams, CancelOrderRequest, CancelOrderResult
from .models.methods.edit_order import EditOrderParams, EditOrderRequest, EditOrderResult
from .models.methods.ping import PingRequest
from .models.methods.subscribe import SubscribeRequest, SubscribeSuccess
from .models.methods.unsubscribe import UnsubscribeRequest, UnsubscribeSuccess
from .protocol import codec
from .protocol._json import dumps
from .protocol.connection import KrakenProtocol, response_fields
from .protocol.events import (
    BookResync,
    ChannelData,
    Connected,
    ConnectionDead,
    ConnectionFailed,
    Disconnected,
    Endpoint,
    EventsDropped,
    FillsRecovered,
    InvalidFrame,
    LateResponse,
    LifecycleEvent,
    OrderResolved,
    ProtocolEvent,
    Reconnecting,
    RequestCompleted,
    RequestFailed,
    Resubscribed,
    SequenceGap,
    UnsolicitedResponse,
)
from .protocol.state import ConnectionState
from .protocol.subscriptions import TOKEN_CHANNELS
from .ratelimit import MessagePacer, TradingRateLimiter
from .reconcile import InDoubtOrder, OrderLedger, Resolution, parse_timestamp
from .transport.base import Connector, Transport

__all__ = ["ClientEvent", "KrakenWSClient"]

_log = logging.getLogger(__name__)

ClientEvent: TypeAlias = ChannelFrame | LifecycleEvent
"""What the client yields: a typed channel frame (``BookUpdate``, ``ExecutionsUpdate``,
``Heartbeat``, ...) or a lifecycle event (``Connected``, ``Disconnected``, ...)."""

EventCallback: TypeAlias = Callable[[ClientEvent], Awaitable[None] | None]
"""``on_event`` callback: plain function or coroutine function."""

Number: TypeAlias = Decimal | int | str | float
"""A price or quantity as the user may pass it; converted exactly (floats via their repr)."""

SubscribeParamsModel: TypeAlias = (
    TickerSubscribeParams
    | BookSubscribeParams
    | Level3SubscribeParams
    | OhlcSubscribeParams
    | TradeSubscribeParams
    | InstrumentSubscribeParams
    | ExecutionsSubscribeParams
    | BalancesSubscribeParams
)
"""Params of any ``subscribe``."""

UnsubscribeParamsModel: TypeAlias = (
    TickerUnsubscribeParams
    | BookUnsubscribeParams
    | Level3UnsubscribeParams
    | OhlcUnsubscribeParams
    | TradeUnsubscribeParams
    | InstrumentUnsubscribeParams
    | ExecutionsUnsubscribeParams
    | BalancesUnsubscribeParams
)
"""Params of any ``unsubscribe``."""

_T = TypeVar("_T", bound=BaseModel)

_NEVER_DROP_CHANNELS = frozenset({"executions", "balances"})
_ENDPOINTS: frozenset[Endpoint] = frozenset({"public", "auth", "l3"})


def _endpoint_for_channel(channel: str) -> Endpoint:
    if channel == "level3":
        return "l3"
    if channel in PRIVATE_CHANNELS:
        return "auth"
    return "public"


def _given(**fields: object) -> dict[str, object]:
    # Only what the caller passed goes into the model: "not given" never becomes a wire null.
    return {k: v for k, v in fields.items() if v is not None}


def _symbols_of(event: ClientEvent) -> set[str]:
    data = getattr(event, "data", None)
    if isinstance(data, list):
        return {s for item in data if isinstance(s := getattr(item, "symbol", None), str)}
    return set()


def _method_of(request: BaseModel | Mapping[str, object]) -> str:
    if isinstance(request, Mapping):
        return str(request.get("method"))
    return str(getattr(request, "method", "request"))


# --- event queues -------------------------------------------------------------------------------


def _is_droppable(event: ClientEvent) -> bool:
    if not isinstance(event, BaseModel):
        return False
    channel = getattr(event, "channel", None)
    return isinstance(channel, str) and channel not in _NEVER_DROP_CHANNELS


class _EventQueue:
    """One consumer's queue.

    Policy: market data (book, ticker, trade, ohlc, instrument, level3, heartbeat, status) is
    droppable. When a consumer is ``maxsize`` market-data events behind, the *oldest* one is
    dropped, counted, and one :class:`EventsDropped` warning is queued. Private data
    (``executions``, ``balances``) and lifecycle events are never dropped: losing a fill is worse
    than using memory. Sequence numbers keep the two kinds in arrival order.
    """

    def __init__(
        self,
        maxsize: int,
        accept: Callable[[ClientEvent], bool] | None = None,
        sources: frozenset[Endpoint] = _ENDPOINTS,
    ) -> None:
        if maxsize < 1:
            raise ValueError("maxsize must be >= 1")
        self.maxsize = maxsize
        self._accept = accept
        self.sources = sources
        """Endpoints whose events this queue can get (it ends when all of those in use fail)."""
        self._market: deque[tuple[int, ClientEvent]] = deque()
        self._priority: deque[tuple[int, ClientEvent | None]] = deque()
        self._seq = 0
        self._dropped_since_report = 0
        self.dropped_total = 0
        self._ready = asyncio.Event()
        self._error: BaseException | None = None
        self._finished = False

    def __len__(self) -> int:
        return len(self._market) + len(self._priority)

    def put(self, event: ClientEvent) -> None:
        if self._finished or (self._accept is not None and not self._accept(event)):
            return
        self._seq += 1
        if _is_droppable(event):
            if len(self._market) >= self.maxsize:
                self._market.popleft()
                self.dropped_total += 1
                if self._dropped_since_report == 0:
                    # One pending warning (None marker); its count is read when it is consumed.
                    self._priority.append((self._seq, None))
                    self._seq += 1
                self._dropped_since_report += 1
            self._market.append((self._seq, event))
        else:
            self._priority.append((self._seq, event))
        self._ready.set()

    def finish(self, error: BaseException | None = None) -> None:
        self._finished = True
        self._error = error
        self._ready.set()

    def get_nowait(self) -> ClientEvent | None:
        market, priority = self._market, self._priority
        if priority and (not market or priority[0][0] < market[0][0]):
            item = priority.popleft()[1]
            if item is None:
                count, self._dropped_since_report = self._dropped_since_report, 0
                return EventsDropped(count=count, total=self.dropped_total)
            return item
        if market:
            return market.popleft()[1]
        return None

    async def get(self) -> ClientEvent:
        while True:
            event = self.get_nowait()
            if event is not None:
                return event
            if self._finished:
                if self._error is not None:
                    raise self._error
                raise StopAsyncIteration
            self._ready.clear()
            await self._ready.wait()


# --- one connection -----------------------------------------------------------------------------


class _Connection:
    """The I/O side of one endpoint: socket, reader, timer, reconnect loop."""

    def __init__(self, client: KrakenWSClient, endpoint: Endpoint, url: str) -> None:
        self.client = client
        self.endpoint = endpoint
        self.url = url
        self.proto = KrakenProtocol(
            request_timeout=client.request_timeout,
            watchdog_timeout=client.watchdog_timeout,
            ping_interval=client.ping_interval,
            strict=client.strict,
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
            rate=client.subscribe_rate, burst=client.subscribe_burst, clock=client.clock
        )

    def is_closing(self) -> bool:
        # A method rather than an attribute: the flag flips across awaits, and mypy would
        # otherwise narrow it to its value at the loop's condition.
        return self._closing

    def set_closing(self) -> None:
        self._closing = True

    def take_dead_reason(self) -> str | None:
        # A method for the same reason as is_closing(): set by the timer across awaits.
        reason, self.dead_reason = self.dead_reason, None
        return reason

    def __repr__(self) -> str:
        return f"<_Connection {self.endpoint} {self.proto.state.value}>"

    def start(self) -> None:
        if self.task is None:
            self.task = asyncio.get_running_loop().create_task(
                self._run(), name=f"kraken-ws-{self.endpoint}"
            )

    # --- reconnect loop ---------------------------------------------------------------------

    async def _run(self) -> None:
        client = self.client
        delays = client._backoff()
        attempt = 0
        while not self.is_closing():
            error: BaseException | None = None
            code: int | None = None
            reason = ""
            opened = False
            self.dead_reason = None
            try:
                self.proto.connecting()
                tokens = client._tokens
                if self.endpoint != "public" and tokens.has_credentials and tokens.cached is None:
                    # Every request here but ping needs the token: fetch it while the socket
                    # connects, so that the first order does not wait for a REST round trip.
                    # Shared with any request that asks meanwhile (single flight).
                    client._spawn(tokens.get())
                self.transport = await client._connector(self.url)
                token: str | None = None
                if self.proto.needs_token:
                    token = await client._tokens.get()
                if self.is_closing():
                    break
                self.replay_ids = set(self.proto.connection_opened(now=client.clock(), token=token))
                self.replay_count = len(self.replay_ids)
                self.token_retried = False
                self.replay_retrying = False
                opened = True
                self.opened.set()
                attempt = 0
                delays = client._backoff()
                reconnect = self.connected_once
                self.connected_once = True
                client._emit(Connected(self.endpoint, reconnect=reconnect))
                client._on_connected(self, reconnect=reconnect)
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
                    self.proto.connection_lost(now=client.clock(), reason=reason or "closed")
                    self.dispatch()
                client._on_connection_lost(self)
                if opened:
                    client._emit(Disconnected(self.endpoint, code, reason))
            if self.is_closing():
                break
            self.last_error = reason or None
            fatal = classify_error(error) if error is not None else None
            if fatal is not None:
                self.fail(fatal)
                return
            attempt += 1
            limit = client.max_reconnect_attempts
            if limit is not None and attempt > limit:
                self.fail(
                    ConnectError(
                        f"{self.endpoint}: gave up after {limit} reconnection attempts: {reason}"
                    )
                )
                return
            delay = next(delays)
            client._emit(Reconnecting(self.endpoint, attempt, delay))
            _log.info(
                "%s: reconnecting in %.3fs (attempt %d): %s", self.endpoint, delay, attempt, reason
            )
            await asyncio.sleep(delay)

    def fail(self, error: BaseException) -> None:
        """Give up for good: remember why, so requests and iterators raise it."""
        self.fatal = error
        _log.error("%s: connection failed permanently: %s", self.endpoint, error)
        self.client._on_fatal(self, error)

    async def _pump(self) -> None:
        transport = self.transport
        assert transport is not None
        timer = asyncio.get_running_loop().create_task(self._timer(transport))
        try:
            while True:
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
                if self.client._on_raw_frame is not None:
                    try:
                        self.client._on_raw_frame(self.endpoint, text)
                    except Exception:
                        # A failing observer must not take the connection down with it.
                        _log.exception("on_raw_frame callback failed")
                self.proto.receive_text(text, now=self.client.clock())
                self.dispatch()
                await self.flush()
        finally:
            timer.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await timer

    async def _timer(self, transport: Transport) -> None:
        client = self.client
        while True:
            now = client.clock()
            wakeups = [
                w
                for w in (self.proto.next_wakeup(), client._next_housekeeping(self))
                if w is not None
            ]
            delay = max(0.0, min(wakeups) - now) if wakeups else None
            self.wake.clear()
            with contextlib.suppress(TimeoutError):
                # asyncio.timeout, not wait_for: on 3.11 wait_for can swallow a cancellation
                # that races with completion, and this task must stop when cancelled.
                async with asyncio.timeout(delay):
                    await self.wake.wait()
            now = client.clock()
            self.proto.tick(now=now)
            client._housekeeping(self, now)
            dead = self.dispatch()
            if dead:
                # Abort the socket: the reader's recv raises and the loop reconnects.
                await transport.abort()
                return
            await self.flush()

    async def flush(self) -> None:
        transport = self.transport
        frames = self.proto.data_to_send()
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
        client = self.client
        if isinstance(event, ChannelData):
            client._on_channel_data(event.message)
        elif isinstance(event, RequestCompleted):
            client._on_completed(event)
            future = self.waiters.pop(event.req_id, None)
            if future is not None:
                if not future.done():
                    future.set_result(event)
            elif event.req_id in self.replay_ids:
                self._replay_answered(event)
        elif isinstance(event, RequestFailed):
            error = event.error
            if isinstance(error, ConnectionLost | RequestTimeout) and error.outcome_unknown:
                client._doubt(error, connection_gone=isinstance(error, ConnectionLost))
            future = self.waiters.pop(event.req_id, None)
            if future is not None and not future.done():
                future.set_exception(event.error)
            if event.req_id in self.replay_ids:
                self.replay_ids.discard(event.req_id)
                self._maybe_resubscribed()
        elif isinstance(event, LateResponse):
            client._on_late_response(event)
        elif isinstance(event, SequenceGap):
            client._on_sequence_gap(self, event)
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
                self.client._spawn(self._replay_private_again())
                break
            _log.warning("%s: resubscription rejected: %s", self.endpoint, exc)
        self._maybe_resubscribed()

    def _maybe_resubscribed(self) -> None:
        # Resubscribed is emitted once every replayed request has been answered.
        if self.replay_count and not self.replay_ids and not self.replay_retrying:
            self.client._emit(Resubscribed(self.endpoint, self.replay_count))
            self.replay_count = 0

    async def _replay_private_again(self) -> None:
        client = self.client
        try:
            token = await client._tokens.get(refresh=True)
            if not self.opened.is_set():
                return
            # Only what is still unacknowledged: re-sending a live one earns "Already subscribed".
            for record in self.proto.subscriptions.desired():
                if record.private and not record.acknowledged:
                    rid = self.proto.send(
                        {"method": "subscribe", "params": record.params},
                        now=client.clock(),
                        token=token,
                    )
                    self.replay_ids.add(rid)
        finally:
            self.replay_retrying = False
        self._maybe_resubscribed()
        await self.flush()


# --- the client ---------------------------------------------------------------------------------


class KrakenWSClient:
    """Typed asyncio client for the Kraken Spot WebSocket API v2.

    Use it as an async context manager; iterate it for events::

        async with KrakenWSClient() as client:
            await client.subscribe_ticker(["BTC/USD"])
            async for event in client:
                ...

    Args:
        key: API key; needed for private channels, level3 and trading.
        secret: API secret (base64).
        ws_url: Public endpoint.
        auth_ws_url: Authenticated endpoint (private channels, trading).
        l3_ws_url: Level3 endpoint.
        rest_url: REST base for the WebSocket token.
        request_timeout: Default seconds to wait for a response.
        watchdog_timeout: Seconds without any frame after which a connection is declared dead
            and replaced. ``None`` disables the watchdog.
        ping_interval: Seconds without sending after which an application ``ping`` keeps the
            connection alive (Kraken closes idle sockets after about a minute).
        max_reconnect_attempts: Consecutive failed attempts before giving up; ``None`` never
            gives up.
        reconnect_initial_delay: Upper bound of the first reconnect delay (full jitter).
        reconnect_max_delay: Cap of the reconnect delay.
        strict: Decode strictly: frames that match no model are logged and dropped instead of
            being yielded as ``UnknownMessage``.
        max_queue: Market-data events a consumer may lag behind before the oldest are dropped.
        on_event: Callback for every event (alternative to iterating). When given, the default
            iteration queue is not fed (so an unread queue cannot grow without bound).
        on_raw_frame: Called with ``(endpoint, text)`` for every received text frame, before it
            is decoded (the python-kraken-sdk facade delivers these as plain dicts). It runs in
            the reader: keep it fast; an exception it raises is logged and ignored.
        connector: Opens transports (default: websockets). Tests pass a memory connector.
        token_provider: Supplies WebSocket tokens (default: REST via ``httpx``).
        rate_limiter: Optional local model of the per-pair trading counter; raises
            :class:`~kraken_ws.exceptions.RateLimitError` before sending an order that would
            exceed it.
        subscribe_rate: Subscription messages per second per connection (paced).
        subscribe_burst: Subscription messages sent without pacing.
        book_resync_interval: Minimum seconds between two resyncs of one book.
        auto_cl_ord_id: Give every ``add_order`` / ``batch_add`` order that has neither
            ``cl_ord_id`` nor ``order_userref`` a ``cl_ord_id`` (a UUID), so that an order whose
            answer is lost can always be found in Kraken's data.
        reconcile_grace: Seconds after sending before Kraken's data not listing an in-doubt
            order is taken to mean it was not placed (it may still be on its way before that).
        clock: Monotonic clock in seconds (injectable for tests).
    """

    def __init__(
        self,
        key: str = "",
        secret: str = "",
        *,
        ws_url: str = "wss://ws.kraken.com/v2",
        auth_ws_url: str = "wss://ws-auth.kraken.com/v2",
        l3_ws_url: str = "wss://ws-l3.kraken.com/v2",
        rest_url: str = "https://api.kraken.com",
        request_timeout: float = 10.0,
        watchdog_timeout: float | None = 10.0,
        ping_interval: float | None = 30.0,
        max_reconnect_attempts: int | None = None,
        reconnect_initial_delay: float = 0.5,
        reconnect_max_delay: float = 30.0,
        strict: bool = False,
        max_queue: int = 10_000,
        on_event: EventCallback | None = None,
        on_raw_frame: Callable[[Endpoint, str], None] | None = None,
        connector: Connector | None = None,
        token_provider: TokenProvider | None = None,
        rate_limiter: TradingRateLimiter | None = None,
        subscribe_rate: float = 20.0,
        subscribe_burst: int = 20,
        book_resync_interval: float = 2.0,
        auto_cl_ord_id: bool = True,
        reconcile_grace: float = 2.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.request_timeout = request_timeout
        self.watchdog_timeout = watchdog_timeout
        self.ping_interval = ping_interval
        self.max_reconnect_attempts = max_reconnect_attempts
        self.strict = strict
        self.clock = clock
        self.subscribe_rate = subscribe_rate
        self.subscribe_burst = subscribe_burst
        self.rate_limiter = rate_limiter
        self._reconnect_initial = reconnect_initial_delay
        self._reconnect_max = reconnect_max_delay
        self._urls: dict[Endpoint, str] = {"public": ws_url, "auth": auth_ws_url, "l3": l3_ws_url}
        if connector is None:
            from .transport.websockets import connect

            connector = connect
        self._connector: Connector = connector
        self._tokens = token_provider or TokenProvider(key, secret, rest_url=rest_url)
        self._on_event = on_event
        self._on_raw_frame = on_raw_frame
        self._max_queue = max_queue
        self._queues: list[_EventQueue] = []
        self._main_queue: _EventQueue | None = None if on_event is not None else self._new_queue()
        self._connections: dict[Endpoint, _Connection] = {}
        self._books = BookManager(resync_interval=book_resync_interval)
        self._l3books = BookManager(resync_interval=book_resync_interval)
        self._book_ready: dict[tuple[str, str], asyncio.Event] = {}
        self._tasks: set[asyncio.Task[Any]] = set()
        self._started = False
        self._closed = False
        self.auto_cl_ord_id = auto_cl_ord_id
        self._ledger = OrderLedger(grace=reconcile_grace)
        self._resolutions: dict[int, asyncio.Future[OrderResolved]] = {}
        self._reconcile_task: asyncio.Future[Any] | None = None
        self._reconcile_wake = asyncio.Event()
        self._recover_fills = False

    def __repr__(self) -> str:
        conns = ", ".join(f"{e}={c.proto.state.value}" for e, c in self._connections.items())
        return f"KrakenWSClient({conns or 'no connections'}, closed={self._closed})"

    # --- lifecycle --------------------------------------------------------------------------

    async def __aenter__(self) -> KrakenWSClient:
        await self.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close()

    async def start(self) -> None:
        """Start the client (idempotent). Connections open when first needed.

        Raises:
            InvalidState: The client was closed.
        """
        if self._closed:
            raise InvalidState("the client is closed; create a new one")
        self._started = True

    async def close(self) -> None:
        """Close every connection and stop every task (idempotent).

        Pending requests fail with :class:`~kraken_ws.exceptions.ConnectionLost`; iterators
        stop after the events already queued.
        """
        if self._closed:
            return
        self._closed = True
        for conn in self._connections.values():
            conn.set_closing()
            if conn.proto.state is not ConnectionState.CLOSED:
                conn.proto.close()
            if conn.transport is not None:
                with contextlib.suppress(Exception):
                    await conn.transport.close(1000, "client closing")
        for conn in self._connections.values():
            if conn.task is not None:
                conn.task.cancel()
        tasks = [c.task for c in self._connections.values() if c.task is not None]
        tasks += list(self._tasks)
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        for conn in self._connections.values():
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
        await self._tokens.aclose()
        for queue in self._queues:
            queue.finish()

    @property
    def closed(self) -> bool:
        """Whether :meth:`close` was called."""
        return self._closed

    def connection_state(self, endpoint: Endpoint) -> ConnectionState:
        """State of one endpoint's connection (``DISCONNECTED`` if never used)."""
        conn = self._connections.get(endpoint)
        return conn.proto.state if conn is not None else ConnectionState.DISCONNECTED

    def subscriptions(self, endpoint: Endpoint | None = None) -> list[dict[str, object]]:
        """Desired subscriptions with their original params (no tokens), per symbol.

        Args:
            endpoint: Only this endpoint's; all when ``None``.
        """
        out: list[dict[str, object]] = []
        for name, conn in self._connections.items():
            if endpoint is None or endpoint == name:
                out.extend(dict(r.params) for r in conn.proto.subscriptions.desired())
        return out

    def acknowledged_subscriptions(
        self, endpoint: Endpoint | None = None
    ) -> list[dict[str, object]]:
        """Subscriptions the server acked on the current connections."""
        out: list[dict[str, object]] = []
        for name, conn in self._connections.items():
            if endpoint is None or endpoint == name:
                out.extend(dict(r.params) for r in conn.proto.subscriptions.acknowledged())
        return out

    def _backoff(self) -> Iterator[float]:
        return backoff(self._reconnect_initial, 2.0, self._reconnect_max)

    def _spawn(self, awaitable: Awaitable[Any]) -> asyncio.Future[Any]:
        # The coroutine itself becomes the task: a wrapper cancelled before its first step would
        # leave it never awaited (a RuntimeWarning, an error under our test settings).
        task = asyncio.ensure_future(awaitable)
        self._tasks.add(task)

        def done(t: asyncio.Future[Any]) -> None:
            self._tasks.discard(t)
            if not t.cancelled() and t.exception() is not None:
                _log.warning("background task failed: %s", t.exception())

        task.add_done_callback(done)
        return task

    def _conn(self, endpoint: Endpoint) -> _Connection:
        if self._closed:
            raise InvalidState("the client is closed")
        conn = self._connections.get(endpoint)
        if conn is None:
            self._started = True
            conn = self._connections[endpoint] = _Connection(self, endpoint, self._urls[endpoint])
        if conn.fatal is not None:
            raise conn.fatal
        conn.start()
        return conn

    async def _open(self, endpoint: Endpoint, timeout: float) -> _Connection:
        conn = self._conn(endpoint)
        if conn.opened.is_set():
            return conn
        waiter = asyncio.ensure_future(conn.opened.wait())
        assert conn.task is not None
        done, _ = await asyncio.wait(
            {waiter, conn.task}, timeout=timeout, return_when=asyncio.FIRST_COMPLETED
        )
        if waiter not in done:
            waiter.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await waiter
            if conn.fatal is not None:
                raise conn.fatal
            last = f" (last error: {conn.last_error})" if conn.last_error else ""
            raise ConnectError(f"{endpoint}: not connected within {timeout:.3f}s{last}")
        return conn

    # --- event fan-out ----------------------------------------------------------------------

    def _new_queue(
        self,
        accept: Callable[[ClientEvent], bool] | None = None,
        sources: frozenset[Endpoint] = _ENDPOINTS,
    ) -> _EventQueue:
        queue = _EventQueue(self._max_queue, accept, sources)
        self._queues.append(queue)
        return queue

    def _emit(self, event: ClientEvent) -> None:
        for queue in self._queues:
            queue.put(event)
        if self._on_event is not None:
            try:
                result = self._on_event(event)
                if inspect.isawaitable(result):
                    self._spawn(result)
            except Exception:
                _log.exception("on_event callback failed")

    def __aiter__(self) -> AsyncIterator[ClientEvent]:
        if self._main_queue is None:
            raise InvalidState("events go to on_event; use client.events() to iterate as well")
        return self._iterate(self._main_queue, remove=False)

    def events(
        self, channel: str | None = None, symbol: str | None = None
    ) -> AsyncIterator[ClientEvent]:
        """A new filtered stream of events from now on (each call has its own queue).

        Args:
            channel: Only frames of this channel (lifecycle events have no channel).
            symbol: Only frames with data for this symbol.

        Returns:
            An async iterator; it ends when the client closes.
        """

        def accept(event: ClientEvent) -> bool:
            if channel is not None and getattr(event, "channel", None) != channel:
                return False
            return symbol is None or symbol in _symbols_of(event)

        sources = _ENDPOINTS if channel is None else frozenset({_endpoint_for_channel(channel)})
        return self._iterate(self._new_queue(accept, sources), remove=True)

    async def _iterate(self, queue: _EventQueue, *, remove: bool) -> AsyncIterator[ClientEvent]:
        try:
            while True:
                try:
                    yield await queue.get()
                except StopAsyncIteration:
                    return
        finally:
            if remove and queue in self._queues:
                self._queues.remove(queue)

    def _on_channel_data(self, message: BaseModel) -> None:
        channel = getattr(message, "channel", None)
        if channel == "executions" and isinstance(message, ExecutionsSnapshot | ExecutionsUpdate):
            self._on_executions(message)
            return
        if channel in ("book", "instrument"):
            self._feed_books(self._books, message)
        if channel in ("level3", "instrument"):
            self._feed_books(self._l3books, message)
        if self.strict and channel is None:
            return
        # The protocol classifies only channel frames (and unknown frames) as ChannelData.
        self._emit(cast("ChannelFrame", message))

    def _on_executions(self, message: ExecutionsSnapshot | ExecutionsUpdate) -> None:
        resolved = self._ledger.observe(message.data)
        kept = self._ledger.deliver(message.data)
        if kept is None:
            self._emit(message)
        elif kept or isinstance(message, ExecutionsSnapshot):
            # A replayed snapshot lists fills the user already has: never deliver one twice.
            self._emit(message.model_copy(update={"data": kept}))
        self._resolve(resolved)

    def _feed_books(self, manager: BookManager, message: BaseModel) -> None:
        for event in manager.feed(message):
            if isinstance(event, BookUpdated):
                if event.result.snapshot:
                    ready = self._book_ready.get((event.channel, event.symbol))
                    if ready is not None:
                        ready.set()
            elif isinstance(event, ResyncNeeded):
                _log.warning("%s %s: %s; resyncing", event.channel, event.symbol, event.reason)
                ready = self._book_ready.get((event.channel, event.symbol))
                if ready is not None:
                    ready.clear()
                self._emit(BookResync(event.channel, event.symbol, event.reason))
                conn = self._connections.get("l3" if event.channel == "level3" else "public")
                if conn is not None:
                    conn.wake.set()

    def _on_connection_lost(self, conn: _Connection) -> None:
        if conn.endpoint == "auth":
            # No answer to an in-doubt request can come any more.
            self._ledger.connection_gone(self.clock())
        # Books are rebuilt from the snapshot that follows the resubscription.
        manager = (
            self._l3books
            if conn.endpoint == "l3"
            else self._books
            if conn.endpoint == "public"
            else None
        )
        if manager is None:
            return
        channel = "level3" if conn.endpoint == "l3" else "book"
        for symbol in manager.symbols:
            book = manager.book(symbol)
            if book is not None:
                book.clear()
            ready = self._book_ready.get((channel, symbol))
            if ready is not None:
                ready.clear()

    def _on_fatal(self, conn: _Connection, error: BaseException) -> None:
        # Only this endpoint is finished: the others keep running (a 1008 on the public
        # endpoint must not stop trading). Requests in flight on it have already failed with
        # ConnectionLost (outcome unknown for orders) when its socket went.
        self._emit(ConnectionFailed(conn.endpoint, error))
        for future in conn.waiters.values():
            if not future.done():
                future.set_exception(error)
        conn.waiters.clear()
        failed = {e for e, c in self._connections.items() if c.fatal is not None}
        for queue in self._queues:
            # A stream ends when nothing it accepts can arrive any more.
            used = queue.sources & set(self._connections)
            if used and used <= failed:
                queue.finish(error)

    # --- order safety: in-doubt orders, late answers, fills of a gap (kraken_ws.reconcile) ----

    def in_doubt_orders(self) -> list[InDoubtOrder]:
        """Orders whose request got no answer and that Kraken's data has not resolved yet.

        Each one came with a ``ConnectionLost`` or ``RequestTimeout`` whose ``outcome_unknown``
        was true. The client resolves them on its own (an :class:`OrderResolved` event each);
        :meth:`resolve_in_doubt` waits for that.
        """
        return self._ledger.in_doubt()

    async def resolve_in_doubt(self, timeout: float | None = None) -> list[OrderResolved]:
        """Wait until every order in doubt now is resolved from Kraken's own data.

        Resolution needs the auth endpoint: a late answer, the live ``executions`` stream, or an
        executions snapshot (open orders and recent fills) that the client fetches on a
        separate, short-lived connection after the auth endpoint is back.

        Args:
            timeout: Seconds to wait (``None``: until resolved).

        Returns:
            One :class:`OrderResolved` per order that was in doubt, oldest first.

        Raises:
            RequestTimeout: Some are still in doubt after ``timeout`` (they stay listed by
                :meth:`in_doubt_orders`).
        """
        futures = [self._resolutions[e.key] for e in self._ledger.in_doubt()]
        if not futures:
            return []
        self._need_reconcile()
        _done, pending = await asyncio.wait(futures, timeout=timeout)
        if pending:
            raise RequestTimeout(f"{len(pending)} order(s) still in doubt after {timeout}s")
        return [f.result() for f in futures]

    def _doubt(self, error: ConnectionLost | RequestTimeout, *, connection_gone: bool) -> None:
        if error.request is None or error.method is None:
            return
        entries = self._ledger.add(
            error.method,
            error.req_id,
            error.request,
            now=self.clock(),
            connection_gone=connection_gone,
            reason=str(error),
        )
        loop = asyncio.get_running_loop()
        for entry in entries:
            self._resolutions[entry.key] = loop.create_future()
        self._need_reconcile()

    def _resolve(self, resolutions: list[Resolution]) -> None:
        for key, event in resolutions:
            _log.info(
                "in-doubt %s (req_id=%s) resolved: %s", event.method, event.req_id, event.outcome
            )
            self._emit(event)
            future = self._resolutions.pop(key, None)
            if future is not None and not future.done():
                future.set_result(event)

    def _on_completed(self, event: RequestCompleted) -> None:
        for response in event.responses:
            if not isinstance(response, SubscribeSuccess):
                continue
            result = response.result
            if not isinstance(result, ExecutionsSubscribeResult):
                continue
            if self.rate_limiter is not None and result.maxratecount:
                # Every executions ack names the account's tier maximum: the local model follows
                # it rather than the tier it was built with.
                self.rate_limiter.calibrate(result.maxratecount)
            if self._ledger.fills_since is None:
                # Fills older than the user's first executions subscription are history, not
                # fills of a gap.
                self._ledger.fills_since = parse_timestamp(response.time_in)

    def _on_late_response(self, event: LateResponse) -> None:
        _log.info("%s (req_id=%d) answered after %.3fs", event.method, event.req_id, event.elapsed)
        self._emit(event)
        self._resolve(self._ledger.late_response(event.req_id, event.method, event.response))

    def _on_sequence_gap(self, conn: _Connection, event: SequenceGap) -> None:
        _log.warning(
            "%s: %s sequence skipped from %d to %d; resubscribing",
            conn.endpoint,
            event.channel_name,
            event.expected,
            event.received,
        )
        self._emit(event)
        self._spawn(self._resubscribe(conn, event.channel_name))
        if event.channel_name == "executions":
            self._need_reconcile(fills=True)

    async def _resubscribe(self, conn: _Connection, channel: str) -> None:
        token = await self._tokens.get()
        if conn.proto.resubscribe(channel, now=self.clock(), token=token):
            await conn.flush()

    def _on_connected(self, conn: _Connection, *, reconnect: bool) -> None:
        if conn.endpoint == "auth" and reconnect:
            # Frames of the gap are gone (no session resume): look for fills and in-doubt
            # orders in Kraken's own data.
            self._need_reconcile(fills=True)

    def _need_reconcile(self, *, fills: bool = False) -> None:
        if self._closed:
            return
        auth = self._connections.get("auth")
        if fills and auth is not None and auth.proto.subscriptions.find("executions"):
            self._recover_fills = True
        if not self._ledger.in_doubt() and not self._recover_fills:
            return
        self._reconcile_wake.set()
        if self._reconcile_task is None or self._reconcile_task.done():
            self._reconcile_task = self._spawn(self._reconcile_loop())

    async def _reconcile_loop(self) -> None:
        delays = self._backoff()
        while not self._closed and (self._ledger.in_doubt() or self._recover_fills):
            conn = self._connections.get("auth")
            if conn is None or conn.fatal is not None:
                return  # nothing to ask; the orders stay listed by in_doubt_orders()
            if not conn.opened.is_set():
                await self._wait(conn.opened.wait(), conn.task)
                continue
            # Cleared before asking: a reason to look again that comes during the query (a
            # reconnect, a new order in doubt) is not lost.
            self._reconcile_wake.clear()
            fills, self._recover_fills = self._recover_fills, False
            taken_at = self.clock()
            try:
                reports = await self._executions_snapshot()
            except (KrakenWSError, OSError, TimeoutError) as exc:
                self._recover_fills |= fills
                delay = next(delays)
                _log.warning("reconciliation failed (%s); retrying in %.2fs", exc, delay)
                await self._wait(asyncio.sleep(delay))
                continue
            delays = self._backoff()
            self._apply_snapshot(reports, taken_at=taken_at, fills=fills)
            if self._recover_fills or self._reconcile_wake.is_set():
                continue
            if not self._ledger.in_doubt():
                return
            # Still in doubt: look again once the youngest can be judged, or when told to.
            at = self._ledger.next_judgement()
            if at is None:
                await self._wait(self._reconcile_wake.wait())
            else:
                await self._wait(
                    self._reconcile_wake.wait(), asyncio.sleep(max(at - self.clock(), 0.05))
                )

    async def _wait(self, *awaitables: Awaitable[Any] | None) -> None:
        # Until the first of them is done; the others are cancelled (tasks given are not).
        given = [a for a in awaitables if a is not None]
        futures = [asyncio.ensure_future(a) for a in given]
        owned = [f for f, a in zip(futures, given, strict=True) if f is not a]
        try:
            await asyncio.wait(futures, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for future in owned:
                future.cancel()
            await asyncio.gather(*owned, return_exceptions=True)

    async def _executions_snapshot(self) -> list[ExecutionReport]:
        """Open orders and the last 50 fills, on a short-lived auth connection of its own.

        A separate socket, so that the user's own ``executions`` subscription (with whatever
        params) is left alone and "Already subscribed" cannot happen.
        """
        async with asyncio.timeout(self.request_timeout):
            token = await self._tokens.get()
            transport = await self._connector(self._urls["auth"])
            try:
                params: dict[str, object] = {"channel": "executions", "token": token}
                params |= {"snap_orders": True, "snap_trades": True}
                await transport.send(dumps({"method": "subscribe", "params": params, "req_id": 1}))
                while True:
                    text = await transport.recv()
                    if isinstance(text, bytes):
                        continue
                    try:
                        message = codec.decode(text)
                    except DecodeError:
                        continue
                    if isinstance(message, ExecutionsSnapshot):
                        return message.data
                    method, _rid, ok, error, _sym = response_fields(message)
                    if method == "subscribe" and ok is False:
                        exc = api_error_for(error or "refused", method="subscribe")
                        if isinstance(exc, SessionError):
                            self._tokens.invalidate()
                        raise exc
            finally:
                with contextlib.suppress(Exception):
                    await transport.abort()

    def _apply_snapshot(
        self, reports: list[ExecutionReport], *, taken_at: float, fills: bool
    ) -> None:
        self._resolve(self._ledger.resolve(reports, taken_at=taken_at))
        if not fills:
            return
        missed = self._ledger.missed_fills(reports)
        if not missed:
            return
        trades = sum(1 for r in reports if r.exec_type == "trade")
        _log.warning("%d fill(s) of a gap recovered from the executions snapshot", len(missed))
        self._emit(
            FillsRecovered(
                len(missed),
                tuple(r.exec_id or "" for r in missed),
                truncated=trades >= 50 and len(missed) == trades,
            )
        )
        self._emit(ExecutionsUpdate(channel="executions", type="update", data=missed))

    # --- housekeeping (book resyncs), run by each connection's timer -------------------------

    def _manager_for(self, conn: _Connection) -> tuple[BookManager, str] | None:
        if conn.endpoint == "public":
            return self._books, "book"
        if conn.endpoint == "l3":
            return self._l3books, "level3"
        return None

    def _next_housekeeping(self, conn: _Connection) -> float | None:
        found = self._manager_for(conn)
        if found is None or not conn.opened.is_set():
            return None
        at = found[0].next_resync_at()
        return None if at is None else max(at, 0.0)

    def _housekeeping(self, conn: _Connection, now: float) -> None:
        found = self._manager_for(conn)
        if found is None or not conn.opened.is_set():
            return
        manager, channel = found
        for symbol in manager.resync_due(now):
            # level3: the connection is authenticated already; the cached token is still valid.
            token = self._tokens.cached if channel == "level3" else None
            try:
                conn.proto.resubscribe(channel, symbol, now=now, token=token)
            except (InvalidState, ValueError) as exc:
                _log.warning("%s %s: resync not sent: %s", channel, symbol, exc)

    # --- requests ---------------------------------------------------------------------------

    async def _request(
        self,
        endpoint: Endpoint,
        request: BaseModel | Mapping[str, object],
        *,
        token: bool,
        timeout: float | None,
        pace: bool = False,
    ) -> RequestCompleted:
        timeout = self.request_timeout if timeout is None else timeout
        deadline = self.clock() + timeout
        for attempt in (1, 2):
            completed = await self._request_once(
                endpoint, request, token=token, refresh=attempt == 2, pace=pace, deadline=deadline
            )
            if token and attempt == 1 and self._session_rejected(completed):
                # Reference §3.3: a stale token is reported, not fatal; refetch once and retry.
                _log.info("token refused; fetching a new one and retrying once")
                self._tokens.invalidate()
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
        conn: _Connection | None = None
        req_id: int | None = None
        future: asyncio.Future[RequestCompleted] | None = None
        try:
            # One bound for every step (connect, token, pacing, write, answer): whatever stalls,
            # the caller has the answer or an error by the deadline, never a hang. The protocol's
            # own deadline normally ends the wait first; this one guards every await around it.
            async with asyncio.timeout(max(deadline - self.clock(), 0.0)):
                conn = await self._open(endpoint, max(deadline - self.clock(), 0.0))
                value = await self._tokens.get(refresh=refresh) if token else None
                if pace:
                    delay = conn.pacer.reserve()
                    if delay > 0:
                        await asyncio.sleep(delay)
                if not conn.opened.is_set():
                    conn = await self._open(endpoint, max(deadline - self.clock(), 0.0))
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
                found = self._connections.get(endpoint)
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

    def _give_up(self, conn: _Connection, req_id: int) -> RequestTimeout:
        conn.waiters.pop(req_id, None)
        error = conn.proto.give_up(req_id, now=self.clock())
        if error is None:
            return RequestTimeout(f"no response to req_id={req_id}", req_id=req_id)
        self._doubt(error, connection_gone=False)
        return error

    @staticmethod
    def _session_rejected(completed: RequestCompleted) -> bool:
        for response in completed.responses:
            _m, _r, ok, error, _s = response_fields(response)
            if not ok and error is not None and isinstance(api_error_for(error), SessionError):
                return True
        return False

    @staticmethod
    def _raise_for(completed: RequestCompleted, response: BaseModel) -> None:
        _method, req_id, ok, error, symbol = response_fields(response)
        if not ok:
            raise api_error_for(
                error or "unknown error",
                method=completed.method,
                req_id=req_id,
                symbol=symbol,
                response=response,
            )

    async def _call(
        self,
        request: BaseModel,
        result_type: type[_T],
        *,
        timeout: float | None,
        symbol: str | None = None,
        cost: float = 0.0,
    ) -> _T:
        method = str(getattr(request, "method", ""))
        if self.rate_limiter is not None and symbol is not None and cost:
            self.rate_limiter.charge(symbol, cost)
        completed = await self._request("auth", request, token=True, timeout=timeout)
        response = completed.responses[0]
        self._raise_for(completed, response)
        result = getattr(response, "result", None)
        if not isinstance(result, result_type):
            raise KrakenAPIError("response without a result", method=method, response=response)
        return result

    async def send(
        self, request: BaseModel | Mapping[str, object], *, timeout: float | None = None
    ) -> tuple[ServerMessage, ...]:
        """Send any request (model or dict), validated, and return every response.

        The endpoint and the token are chosen from the method and channel. Errors are not
        raised: inspect ``success`` on each response.

        Args:
            request: A ``ClientRequest`` model or an equivalent dict.
            timeout: Seconds to wait (default ``request_timeout``).

        Returns:
            The responses (several for multi-symbol subscribes and multi-id cancels).

        Raises:
            pydantic.ValidationError: The request is invalid; nothing was sent.
            RequestTimeout: No (complete) answer in time.
            ConnectionLost: The connection dropped while waiting.
        """
        validated = codec.validate_request(request)
        wire = codec.request_to_wire(validated)
        method = str(wire.get("method"))
        params = wire.get("params") or {}
        channel = str(params.get("channel", "")) if isinstance(params, Mapping) else ""
        if method in TRADING_METHODS:
            endpoint: Endpoint = "auth"
        elif method in ("subscribe", "unsubscribe"):
            endpoint = _endpoint_for_channel(channel)
        else:
            endpoint = "public"
        token = method in TRADING_METHODS or channel in TOKEN_CHANNELS
        completed = await self._request(endpoint, validated, token=token, timeout=timeout)
        # Responses are decoded frames, so members of ServerMessage.
        return cast("tuple[ServerMessage, ...]", completed.responses)

    # --- subscriptions ----------------------------------------------------------------------

    async def subscribe(
        self, params: SubscribeParamsModel, *, timeout: float | None = None
    ) -> list[SubscribeSuccess]:
        """Subscribe to a channel and wait for every ack (one per symbol).

        Args:
            params: The channel's params model, e.g. ``TickerSubscribeParams(symbol=[...])``.
            timeout: Seconds to wait for the acks.

        Returns:
            The success acks.

        Raises:
            SubscriptionError: A symbol was rejected (``AlreadySubscribed``,
                ``UnsupportedPair``...); the other symbols stay subscribed.
            SessionError: The token was refused twice.
            ConnectionLost: The connection dropped before every ack arrived. The subscription
                stays registered and is replayed on reconnect (a ``Resubscribed`` event follows);
                call :meth:`unsubscribe` to drop it.
        """
        channel = params.channel
        endpoint = _endpoint_for_channel(channel)
        request = SubscribeRequest(params=params)
        completed = await self._request(
            endpoint, request, token=channel in TOKEN_CHANNELS, timeout=timeout, pace=True
        )
        acks: list[SubscribeSuccess] = []
        for response in completed.responses:
            self._raise_for(completed, response)
            if isinstance(response, SubscribeSuccess):
                acks.append(response)
        return acks

    async def unsubscribe(
        self, params: UnsubscribeParamsModel, *, timeout: float | None = None
    ) -> list[UnsubscribeSuccess]:
        """Unsubscribe and wait for every ack (one per symbol).

        Args:
            params: The channel's unsubscribe params model (repeat depth/interval/event_trigger).
            timeout: Seconds to wait.

        Returns:
            The success acks.

        Raises:
            SubscriptionError: A symbol was rejected.
        """
        channel = params.channel
        endpoint = _endpoint_for_channel(channel)
        completed = await self._request(
            endpoint,
            UnsubscribeRequest(params=params),
            token=channel in TOKEN_CHANNELS,
            timeout=timeout,
            pace=True,
        )
        acks: list[UnsubscribeSuccess] = []
        for response in completed.responses:
            self._raise_for(completed, response)
            if isinstance(response, UnsubscribeSuccess):
                acks.append(response)
        return acks

    async def subscribe_ticker(
        self,
        symbols: Sequence[str],
        *,
        event_trigger: EventTrigger | None = None,
        snapshot: bool | None = None,
        timeout: float | None = None,
    ) -> list[SubscribeSuccess]:
        """Subscribe to ``ticker`` (level 1) for ``symbols``.

        Args:
            symbols: Pairs, e.g. ``["BTC/USD"]``.
            event_trigger: ``"trades"`` (default) or ``"bbo"``.
            snapshot: Send a snapshot first (default true).
            timeout: Seconds to wait for the acks.

        Returns:
            The acks.
        """
        params = TickerSubscribeParams.model_validate(
            _given(symbol=list(symbols), event_trigger=event_trigger, snapshot=snapshot)
        )
        return await self.subscribe(params, timeout=timeout)

    async def subscribe_book(
        self,
        symbols: Sequence[str],
        *,
        depth: BookDepth | None = None,
        snapshot: bool | None = None,
        timeout: float | None = None,
    ) -> list[SubscribeSuccess]:
        """Subscribe to ``book`` (level 2) frames. For a maintained book use :meth:`book`.

        Args:
            symbols: Pairs.
            depth: 10 (default), 25, 100, 500 or 1000.
            snapshot: Send a snapshot first (default true).
            timeout: Seconds to wait for the acks.

        Returns:
            The acks.
        """
        params = BookSubscribeParams.model_validate(
            _given(symbol=list(symbols), depth=depth, snapshot=snapshot)
        )
        return await self.subscribe(params, timeout=timeout)

    async def subscribe_trade(
        self, symbols: Sequence[str], *, snapshot: bool | None = None, timeout: float | None = None
    ) -> list[SubscribeSuccess]:
        """Subscribe to ``trade``.

        Args:
            symbols: Pairs.
            snapshot: Send the last 50 trades first (default false).
            timeout: Seconds to wait for the acks.

        Returns:
            The acks.
        """
        params = TradeSubscribeParams.model_validate(
            _given(symbol=list(symbols), snapshot=snapshot)
        )
        return await self.subscribe(params, timeout=timeout)

    async def subscribe_ohlc(
        self,
        symbols: Sequence[str],
        *,
        interval: OhlcInterval,
        snapshot: bool | None = None,
        timeout: float | None = None,
    ) -> list[SubscribeSuccess]:
        """Subscribe to ``ohlc`` candles.

        Args:
            symbols: Pairs.
            interval: Candle minutes (1, 5, 15, 30, 60, 240, 1440, 10080, 21600).
            snapshot: Send recent candles first (default true).
            timeout: Seconds to wait for the acks.

        Returns:
            The acks.
        """
        params = OhlcSubscribeParams.model_validate(
            _given(symbol=list(symbols), interval=interval, snapshot=snapshot)
        )
        return await self.subscribe(params, timeout=timeout)

    async def subscribe_instrument(
        self,
        *,
        snapshot: bool | None = None,
        include_tokenized_assets: bool | None = None,
        execution_venue: ExecutionVenue | None = None,
        timeout: float | None = None,
    ) -> list[SubscribeSuccess]:
        """Subscribe to ``instrument`` reference data (also feeds book precisions).

        Args:
            snapshot: Send the reference data first (default true).
            include_tokenized_assets: Include xStocks.
            execution_venue: Venue filter.
            timeout: Seconds to wait for the ack.

        Returns:
            The ack.
        """
        params = InstrumentSubscribeParams.model_validate(
            _given(
                snapshot=snapshot,
                include_tokenized_assets=include_tokenized_assets,
                execution_venue=execution_venue,
            )
        )
        return await self.subscribe(params, timeout=timeout)

    async def subscribe_executions(
        self,
        *,
        snap_orders: bool | None = None,
        snap_trades: bool | None = None,
        order_status: bool | None = None,
        ratecounter: bool | None = None,
        rebased: bool | None = None,
        users: Literal["all"] | None = None,
        timeout: float | None = None,
    ) -> list[SubscribeSuccess]:
        """Subscribe to ``executions`` (orders and fills; auth endpoint, token added).

        Args:
            snap_orders: Include open orders in the snapshot (default true).
            snap_trades: Include the last 50 fills in the snapshot (default false).
            order_status: Every status transition (default true).
            ratecounter: Stream the rate counter.
            rebased: xStocks terms.
            users: ``"all"`` for master accounts.
            timeout: Seconds to wait for the ack.

        Returns:
            The ack.
        """
        params = ExecutionsSubscribeParams.model_validate(
            _given(
                snap_orders=snap_orders,
                snap_trades=snap_trades,
                order_status=order_status,
                ratecounter=ratecounter,
                rebased=rebased,
                users=users,
            )
        )
        return await self.subscribe(params, timeout=timeout)

    async def subscribe_balances(
        self,
        *,
        snapshot: bool | None = None,
        rebased: bool | None = None,
        users: Literal["all"] | None = None,
        timeout: float | None = None,
    ) -> list[SubscribeSuccess]:
        """Subscribe to ``balances`` (auth endpoint, token added).

        Args:
            snapshot: Send balances first (default true).
            rebased: xStocks terms.
            users: ``"all"`` for master accounts.
            timeout: Seconds to wait for the ack.

        Returns:
            The ack.
        """
        params = BalancesSubscribeParams.model_validate(
            _given(snapshot=snapshot, rebased=rebased, users=users)
        )
        return await self.subscribe(params, timeout=timeout)

    async def subscribe_level3(
        self,
        symbols: Sequence[str],
        *,
        depth: L3Depth | None = None,
        snapshot: bool | None = None,
        timeout: float | None = None,
    ) -> list[SubscribeSuccess]:
        """Subscribe to ``level3`` frames (level3 endpoint, token added). See :meth:`level3`.

        Args:
            symbols: Pairs.
            depth: 10 (default), 100 or 1000.
            snapshot: Send a snapshot first (default true).
            timeout: Seconds to wait for the acks.

        Returns:
            The acks.
        """
        params = Level3SubscribeParams.model_validate(
            _given(symbol=list(symbols), depth=depth, snapshot=snapshot)
        )
        return await self.subscribe(params, timeout=timeout)

    # --- books ------------------------------------------------------------------------------

    async def book(
        self, symbol: str, depth: BookDepth = 10, *, timeout: float | None = None
    ) -> OrderBook:
        """A live L2 book for ``symbol``, checksum-verified, resynced on mismatch.

        Subscribes ``book`` (once) and waits for the first verified snapshot. After a reconnect
        or a checksum mismatch the book is cleared (``is_valid`` false) until the next snapshot.

        Args:
            symbol: The pair.
            depth: Levels per side.
            timeout: Seconds to wait for the snapshot.

        Returns:
            The live :class:`~kraken_ws.book.OrderBook`.
        """
        return await self._live_book("book", symbol, depth, timeout)  # type: ignore[return-value]

    async def level3(
        self, symbol: str, depth: L3Depth = 10, *, timeout: float | None = None
    ) -> L3Book:
        """A live order-by-order book for ``symbol`` (level3 endpoint; needs credentials).

        Args:
            symbol: The pair.
            depth: Price levels per side.
            timeout: Seconds to wait for the snapshot.

        Returns:
            The live :class:`~kraken_ws.book.L3Book`.
        """
        return await self._live_book("level3", symbol, depth, timeout)  # type: ignore[return-value]

    async def _live_book(
        self, channel: Literal["book", "level3"], symbol: str, depth: int, timeout: float | None
    ) -> OrderBook | L3Book:
        timeout = self.request_timeout if timeout is None else timeout
        manager = self._books if channel == "book" else self._l3books
        existing = manager.book(symbol)
        key = (channel, symbol)
        if existing is None or existing.depth != depth:
            if existing is not None:
                raise InvalidState(
                    f"{symbol} already has a {channel} book of depth {existing.depth}"
                )
            manager.track(symbol, depth, level3=channel == "level3")
            self._book_ready[key] = asyncio.Event()
            try:
                if channel == "book":
                    await self.subscribe_book([symbol], depth=depth, timeout=timeout)  # type: ignore[arg-type]
                else:
                    await self.subscribe_level3([symbol], depth=depth, timeout=timeout)  # type: ignore[arg-type]
            except BaseException:
                manager.untrack(symbol)
                self._book_ready.pop(key, None)
                raise
        ready = self._book_ready[key]
        try:
            async with asyncio.timeout(timeout):
                await ready.wait()
        except TimeoutError:
            raise RequestTimeout(
                f"no valid {channel} snapshot for {symbol} within {timeout}s"
            ) from None
        book = manager.book(symbol)
        assert book is not None
        return book

    # --- methods ----------------------------------------------------------------------------

    async def ping(self, *, endpoint: Endpoint = "public", timeout: float | None = None) -> float:
        """Send an application ``ping`` and wait for the ``pong``.

        Args:
            endpoint: Which connection to ping (opened if needed).
            timeout: Seconds to wait.

        Returns:
            Round-trip time in seconds.
        """
        start = self.clock()
        completed = await self._request(endpoint, PingRequest(), token=False, timeout=timeout)
        self._raise_for(completed, completed.responses[0])
        return self.clock() - start

    async def add_order(
        self,
        *,
        order_type: OrderType,
        side: Side,
        symbol: str,
        order_qty: Number | None = None,
        limit_price: Number | None = None,
        limit_price_type: PriceType | None = None,
        triggers: AddOrderTriggers | None = None,
        time_in_force: TimeInForce | None = None,
        margin: bool | None = None,
        post_only: bool | None = None,
        reduce_only: bool | None = None,
        effective_time: str | None = None,
        expire_time: str | None = None,
        deadline: str | None = None,
        cl_ord_id: str | None = None,
        order_userref: int | None = None,
        conditional: AddOrderConditional | None = None,
        display_qty: Number | None = None,
        fee_preference: FeePreference | None = None,
        no_mpp: bool | None = None,
        stp_type: StpType | None = None,
        cash_order_qty: Number | None = None,
        validate: bool | None = None,
        sender_sub_id: str | None = None,
        stop_price: Number | None = None,
        trigger: TriggerReference | None = None,
        req_id: int | None = None,
        timeout: float | None = None,
    ) -> AddOrderResult:
        """Place an order (``add_order``).

        Arguments mirror :class:`~kraken_ws.models.methods.add_order.AddOrderParams`; the params
        are validated before anything is sent.

        Args:
            order_type: ``limit``, ``market``, ``iceberg``, ``stop-loss``, ...
            side: ``buy`` or ``sell``.
            symbol: Pair, e.g. ``"BTC/USD"``.
            order_qty: Base-asset quantity.
            limit_price: Limit price (limit-type orders).
            limit_price_type: ``static``/``pct``/``quote`` (trailing-stop-limit).
            triggers: Trigger for stop/take-profit/trailing orders.
            time_in_force: ``gtc`` (default), ``gtd``, ``ioc``, ``fok``.
            margin: Fund on margin.
            post_only: Cancel instead of taking liquidity.
            reduce_only: Only reduce a margin position.
            effective_time: Scheduled start (RFC3339).
            expire_time: GTD expiry (RFC3339).
            deadline: Engine deadline (RFC3339, 500 ms to 60 s ahead).
            cl_ord_id: Client order id.
            order_userref: Client tag (int32).
            conditional: OTO close-order template.
            display_qty: Iceberg visible quantity.
            fee_preference: ``base`` or ``quote``.
            no_mpp: Deprecated, ignored by Kraken.
            stp_type: Self-trade prevention.
            cash_order_qty: Quote quantity (market buys without margin).
            validate: Validate only; nothing is placed.
            sender_sub_id: Institutional STP id.
            stop_price: Deprecated; use ``triggers``.
            trigger: Deprecated; use ``triggers``.
            req_id: Request id to use (default: allocated).
            timeout: Seconds to wait (default ``request_timeout``).

        Give every order a ``cl_ord_id`` of your own (the client makes one up when you give
        neither ``cl_ord_id`` nor ``order_userref``, see ``auto_cl_ord_id``): if the answer is
        lost, that id is how the order is found in Kraken's data.

        Returns:
            The result (``order_id``...).

        Raises:
            pydantic.ValidationError: Invalid params; nothing was sent.
            KrakenAPIError: The matching subclass of Kraken's error (``InsufficientFunds``...).
            ConnectionLost: The connection dropped in flight. ``outcome_unknown`` is true if the
                request was written: the order is then tracked as in doubt and resolved by an
                ``OrderResolved`` event (:meth:`in_doubt_orders`, :meth:`resolve_in_doubt`).
            RequestTimeout: No answer within ``timeout``; same ``outcome_unknown`` rule. Its
                ``req_id`` stays reserved until the answer comes (a ``LateResponse`` event).
            RateLimitError: The local rate-limit model says the order would exceed the limit.
        """
        if cl_ord_id is None and order_userref is None and self.auto_cl_ord_id and not validate:
            # An id of our own makes the order findable in Kraken's data if its answer is lost.
            cl_ord_id = str(uuid.uuid4())
        params = AddOrderParams.model_validate(
            _given(
                order_type=order_type,
                side=side,
                symbol=symbol,
                order_qty=order_qty,
                limit_price=limit_price,
                limit_price_type=limit_price_type,
                triggers=triggers,
                time_in_force=time_in_force,
                margin=margin,
                post_only=post_only,
                reduce_only=reduce_only,
                effective_time=effective_time,
                expire_time=expire_time,
                deadline=deadline,
                cl_ord_id=cl_ord_id,
                order_userref=order_userref,
                conditional=conditional,
                display_qty=display_qty,
                fee_preference=fee_preference,
                no_mpp=no_mpp,
                stp_type=stp_type,
                cash_order_qty=cash_order_qty,
                validate_only=validate,
                sender_sub_id=sender_sub_id,
                stop_price=stop_price,
                trigger=trigger,
            )
        )
        request = AddOrderRequest.model_validate(_given(params=params, req_id=req_id))
        # A validate-only order never reaches the matching engine, so it is not counted
        # (unverified; the local exchange models it the same way).
        cost = 0.0 if validate else 1.0
        result = await self._call(
            request, AddOrderResult, timeout=timeout, symbol=symbol, cost=cost
        )
        if self.rate_limiter is not None and not validate:
            self.rate_limiter.order_placed(symbol, result.order_id, result.cl_ord_id)
        return result

    async def amend_order(
        self,
        *,
        order_id: str | None = None,
        cl_ord_id: str | None = None,
        order_qty: Number | None = None,
        display_qty: Number | None = None,
        limit_price: Number | None = None,
        limit_price_type: PriceType | None = None,
        post_only: bool | None = None,
        trigger_price: Number | None = None,
        trigger_price_type: PriceType | None = None,
        deadline: str | None = None,
        symbol: str | None = None,
        req_id: int | None = None,
        timeout: float | None = None,
    ) -> AmendOrderResult:
        """Amend an order in place (``amend_order``), keeping its id and, where possible, priority.

        Args:
            order_id: Kraken id (or ``cl_ord_id``).
            cl_ord_id: Client id (or ``order_id``).
            order_qty: New quantity.
            display_qty: New iceberg visible quantity.
            limit_price: New limit price.
            limit_price_type: Price type (trailing-stop-limit).
            post_only: Reject a price change that would take liquidity.
            trigger_price: New trigger price.
            trigger_price_type: Trigger price type.
            deadline: Engine deadline (RFC3339).
            symbol: Required for non-crypto pairs.
            req_id: Request id to use.
            timeout: Seconds to wait.

        Returns:
            The result (``amend_id``...).

        Raises:
            pydantic.ValidationError: Invalid params; nothing was sent.
            KrakenAPIError: ``UnknownOrder`` and friends.
            ConnectionLost: Dropped in flight (outcome unknown).
        """
        params = AmendOrderParams.model_validate(
            _given(
                order_id=order_id,
                cl_ord_id=cl_ord_id,
                order_qty=order_qty,
                display_qty=display_qty,
                limit_price=limit_price,
                limit_price_type=limit_price_type,
                post_only=post_only,
                trigger_price=trigger_price,
                trigger_price_type=trigger_price_type,
                deadline=deadline,
                symbol=symbol,
            )
        )
        request = AmendOrderRequest.model_validate(_given(params=params, req_id=req_id))
        limiter_symbol, cost = self._order_cost("amend", order_id, cl_ord_id)
        return await self._call(
            request, AmendOrderResult, timeout=timeout, symbol=limiter_symbol, cost=cost
        )

    async def edit_order(
        self,
        *,
        order_id: str,
        symbol: str,
        order_qty: Number | None = None,
        limit_price: Number | None = None,
        display_qty: Number | None = None,
        fee_preference: FeePreference | None = None,
        order_userref: int | None = None,
        post_only: bool | None = None,
        reduce_only: bool | None = None,
        triggers: AddOrderTriggers | None = None,
        deadline: str | None = None,
        validate: bool | None = None,
        no_mpp: bool | None = None,
        req_id: int | None = None,
        timeout: float | None = None,
    ) -> EditOrderResult:
        """Cancel-and-replace an order (``edit_order``); prefer :meth:`amend_order`.

        Args:
            order_id: The order to edit.
            symbol: Its pair.
            order_qty: New quantity.
            limit_price: New limit price.
            display_qty: New iceberg visible quantity.
            fee_preference: ``base`` or ``quote``.
            order_userref: New client tag for the new order.
            post_only: Post-only flag.
            reduce_only: Reduce-only flag.
            triggers: New trigger.
            deadline: Engine deadline (RFC3339).
            validate: Validate only.
            no_mpp: Deprecated, ignored.
            req_id: Request id to use.
            timeout: Seconds to wait.

        Returns:
            The result (new ``order_id``, ``original_order_id``).
        """
        params = EditOrderParams.model_validate(
            _given(
                order_id=order_id,
                symbol=symbol,
                order_qty=order_qty,
                limit_price=limit_price,
                display_qty=display_qty,
                fee_preference=fee_preference,
                order_userref=order_userref,
                post_only=post_only,
                reduce_only=reduce_only,
                triggers=triggers,
                deadline=deadline,
                validate_only=validate,
                no_mpp=no_mpp,
            )
        )
        request = EditOrderRequest.model_validate(_given(params=params, req_id=req_id))
        _sym, cost = self._order_cost("edit", order_id, None)
        result = await self._call(
            request, EditOrderResult, timeout=timeout, symbol=symbol, cost=cost
        )
        if self.rate_limiter is not None and not validate and result.order_id:
            # The replacement has a new id: cancelling it later must cost by its own age.
            self.rate_limiter.order_replaced(order_id, result.order_id)
        return result

    async def cancel_order(
        self,
        *,
        order_id: Sequence[str] | None = None,
        cl_ord_id: Sequence[str] | None = None,
        order_userref: Sequence[int] | None = None,
        req_id: int | None = None,
        timeout: float | None = None,
    ) -> list[CancelOrderResult]:
        """Cancel orders by id (``cancel_order``); one response per id, all collected.

        Args:
            order_id: Kraken ids.
            cl_ord_id: Client ids.
            order_userref: Client tags (each cancels every order carrying it).
            req_id: Request id to use.
            timeout: Seconds to wait for every response.

        Returns:
            One result per cancelled order.

        Raises:
            KrakenAPIError: The first failed id's error (``InvalidOrder``...); the other ids
                may have been cancelled (see ``error.response``).
        """
        params = CancelOrderParams.model_validate(
            _given(
                order_id=list(order_id) if order_id is not None else None,
                cl_ord_id=list(cl_ord_id) if cl_ord_id is not None else None,
                order_userref=list(order_userref) if order_userref is not None else None,
            )
        )
        request = CancelOrderRequest.model_validate(_given(params=params, req_id=req_id))
        if self.rate_limiter is not None:
            for oid in order_id or ():
                self.rate_limiter.charge_cancel(oid)
            for cid in cl_ord_id or ():
                self.rate_limiter.charge_cancel(cid)
        completed = await self._request("auth", request, token=True, timeout=timeout)
        results: list[CancelOrderResult] = []
        for response in completed.responses:
            self._raise_for(completed, response)
            result = getattr(response, "result", None)
            if isinstance(result, CancelOrderResult):
                results.append(result)
        return results

    async def cancel_all(
        self, *, req_id: int | None = None, timeout: float | None = None
    ) -> CancelAllResult:
        """Cancel every open order (``cancel_all``).

        Args:
            req_id: Request id to use.
            timeout: Seconds to wait.

        Returns:
            The result (``count``).
        """
        request = CancelAllRequest.model_validate(_given(params=CancelAllParams(), req_id=req_id))
        return await self._call(request, CancelAllResult, timeout=timeout)

    async def cancel_all_orders_after(
        self, timeout: int, *, req_id: int | None = None, request_timeout: float | None = None
    ) -> CancelAllOrdersAfterResult:
        """Arm, extend or (``timeout=0``) disarm the dead man's switch.

        Args:
            timeout: Seconds until every order is cancelled (< 86400); 0 disables.
            req_id: Request id to use.
            request_timeout: Seconds to wait for the answer.

        Returns:
            The result (``currentTime``, ``triggerTime``).
        """
        params = CancelAllOrdersAfterParams(timeout=timeout)
        request = CancelAllOrdersAfterRequest.model_validate(_given(params=params, req_id=req_id))
        return await self._call(request, CancelAllOrdersAfterResult, timeout=request_timeout)

    async def batch_add(
        self,
        *,
        symbol: str,
        orders: Sequence[BatchAddOrder],
        deadline: str | None = None,
        validate: bool | None = None,
        req_id: int | None = None,
        timeout: float | None = None,
    ) -> list[BatchAddOrderResult]:
        """Place 2 to 15 orders on one pair (``batch_add``).

        Args:
            symbol: The pair.
            orders: The orders (``BatchAddOrder`` models).
            deadline: Engine deadline for the batch.
            validate: Validate only.
            req_id: Request id to use.
            timeout: Seconds to wait.

        Returns:
            One row per order, in request order; a row may carry its own ``error``.
        """
        if self.auto_cl_ord_id and not validate:
            orders = [
                o
                if o.cl_ord_id is not None or o.order_userref is not None
                else o.model_copy(update={"cl_ord_id": str(uuid.uuid4())})
                for o in orders
            ]
        params = BatchAddParams.model_validate(
            _given(symbol=symbol, orders=list(orders), deadline=deadline, validate_only=validate)
        )
        request = BatchAddRequest.model_validate(_given(params=params, req_id=req_id))
        if self.rate_limiter is not None:
            self.rate_limiter.charge(symbol, len(params.orders) / 2)
        completed = await self._request("auth", request, token=True, timeout=timeout)
        response = completed.responses[0]
        self._raise_for(completed, response)
        rows = getattr(response, "result", None)
        if not isinstance(rows, list):
            raise KrakenAPIError(
                "batch_add response without rows", method="batch_add", response=response
            )
        out = [row for row in rows if isinstance(row, BatchAddOrderResult)]
        if self.rate_limiter is not None and not validate:
            for row in out:
                if row.order_id:
                    self.rate_limiter.order_placed(symbol, row.order_id, row.cl_ord_id)
        return out

    async def batch_cancel(
        self,
        *,
        orders: Sequence[str],
        cl_ord_id: Sequence[str] | None = None,
        req_id: int | None = None,
        timeout: float | None = None,
    ) -> BatchCancelResult:
        """Cancel 2 to 50 orders (``batch_cancel``).

        Args:
            orders: Kraken order ids or ``order_userref`` values as strings.
            cl_ord_id: Client ids.
            req_id: Request id to use.
            timeout: Seconds to wait.

        Returns:
            The result (``count``).
        """
        params = BatchCancelParams.model_validate(
            _given(
                orders=list(orders), cl_ord_id=list(cl_ord_id) if cl_ord_id is not None else None
            )
        )
        request = BatchCancelRequest.model_validate(_given(params=params, req_id=req_id))
        if self.rate_limiter is not None:
            for oid in [*orders, *(cl_ord_id or ())]:
                # Kraken accepts a batch cancel beyond the maximum and only counts it.
                self.rate_limiter.charge_cancel(oid, enforce=False)
        completed = await self._request("auth", request, token=True, timeout=timeout)
        response = completed.responses[0]
        self._raise_for(completed, response)
        if isinstance(response, BatchCancelSuccess):
            if response.result is not None:
                return response.result
            return BatchCancelResult(count=response.orders_cancelled or 0)
        raise KrakenAPIError(
            "unexpected batch_cancel response", method="batch_cancel", response=response
        )

    def _order_cost(
        self, kind: Literal["amend", "edit"], order_id: str | None, cl_ord_id: str | None
    ) -> tuple[str | None, float]:
        if self.rate_limiter is None:
            return None, 0.0
        return self.rate_limiter.modify_cost(kind, order_id or cl_ord_id or "")

    # --- dead man's switch ------------------------------------------------------------------

    @contextlib.asynccontextmanager
    async def dead_mans_switch(
        self, timeout: int = 60, refresh_every: float = 20.0
    ) -> AsyncIterator[CancelAllOrdersAfterResult]:
        """Keep ``cancel_all_orders_after`` armed while the block runs; disarm on exit.

        If the process dies or the connection stays down for ``timeout`` seconds, Kraken
        cancels every order.

        Args:
            timeout: Countdown armed at each refresh, seconds.
            refresh_every: Seconds between refreshes (well below ``timeout``).

        Yields:
            The first arming result.
        """
        if not 0 < refresh_every < timeout:
            raise ValueError("need 0 < refresh_every < timeout")
        first = await self.cancel_all_orders_after(timeout)

        async def refresh() -> None:
            while True:
                await asyncio.sleep(refresh_every)
                try:
                    await self.cancel_all_orders_after(timeout)
                except KrakenWSError as exc:
                    # Keep trying: a refresh lost to a reconnect is retried at the next beat,
                    # still well inside the countdown.
                    _log.warning("dead man's switch refresh failed: %s", exc)

        task = self._spawn(refresh())
        try:
            yield first
        finally:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
            if not self._closed:
                await self.cancel_all_orders_after(0)
