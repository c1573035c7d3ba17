"""``KrakenWSClient``: the typed asyncio client for the Kraken Spot WebSocket API v2.

The class is assembled from its parts: lifecycle, events, ``send()`` and order safety here,
subscriptions and live books in `._channels`, trading in `._trading`; all of them
delegate to one `ClientCore`.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Callable, Mapping
from typing import cast

from pydantic import BaseModel

from ..auth import TokenProvider
from ..endpoints import KRAKEN_AUTH_WS_URL, KRAKEN_L3_WS_URL, KRAKEN_REST_URL, KRAKEN_WS_URL
from ..events import Endpoint, OrderResolved
from ..exceptions import InvalidState
from ..models.common import TRADING_METHODS
from ..models.messages import ServerMessage
from ..protocol import codec
from ..protocol.state import ConnectionState
from ..protocol.subscriptions import TOKEN_CHANNELS
from ..ratelimit import TradingRateLimiter
from ..reconcile import InDoubtOrder
from ..transport.base import Connector
from ._channels import ChannelMethods
from ._connection import ConnectionSettings
from ._core import ClientCore, ClientOptions
from ._queue import ENDPOINTS
from ._trading import TradingMethods
from .types import ClientEvent, EventCallback, endpoint_for_channel

__all__ = ["KrakenWSClient"]


def _symbols_of(event: ClientEvent) -> set[str]:
    data = getattr(event, "data", None)
    if isinstance(data, list):
        return {s for item in data if isinstance(s := getattr(item, "symbol", None), str)}
    return set()


class KrakenWSClient(TradingMethods, ChannelMethods):
    """Typed asyncio client for the Kraken Spot WebSocket API v2.

    Use it as an async context manager; iterate it for events:

    ```python
    async with KrakenWSClient() as client:
        await client.subscribe_ticker(["BTC/USD"])
        async for event in client:
            ...
    ```

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
            `RateLimitError` before sending an order that would
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
        ws_url: str = KRAKEN_WS_URL,
        auth_ws_url: str = KRAKEN_AUTH_WS_URL,
        l3_ws_url: str = KRAKEN_L3_WS_URL,
        rest_url: str = KRAKEN_REST_URL,
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
        if connector is None:
            from ..transport.websockets import connect

            connector = connect
        settings = ConnectionSettings(
            request_timeout=request_timeout,
            watchdog_timeout=watchdog_timeout,
            ping_interval=ping_interval,
            strict=strict,
            max_reconnect_attempts=max_reconnect_attempts,
            subscribe_rate=subscribe_rate,
            subscribe_burst=subscribe_burst,
        )
        options = ClientOptions(
            urls={"public": ws_url, "auth": auth_ws_url, "l3": l3_ws_url},
            settings=settings,
            reconnect_initial_delay=reconnect_initial_delay,
            reconnect_max_delay=reconnect_max_delay,
            max_queue=max_queue,
            book_resync_interval=book_resync_interval,
            reconcile_grace=reconcile_grace,
        )
        self._core = ClientCore(
            options,
            tokens=token_provider or TokenProvider(key, secret, rest_url=rest_url),
            connector=connector,
            rate_limiter=rate_limiter,
            on_event=on_event,
            on_raw_frame=on_raw_frame,
            clock=clock,
        )
        self.request_timeout = request_timeout
        self.watchdog_timeout = watchdog_timeout
        self.ping_interval = ping_interval
        self.max_reconnect_attempts = max_reconnect_attempts
        self.strict = strict
        self.clock = clock
        self.rate_limiter = rate_limiter
        self.auto_cl_ord_id = auto_cl_ord_id
        self._started = False

    def __repr__(self) -> str:
        conns = ", ".join(f"{e}={c.proto.state.value}" for e, c in self._core.connections.items())
        return f"KrakenWSClient({conns or 'no connections'}, closed={self._core.closed})"

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
        if self._core.closed:
            raise InvalidState("the client is closed; create a new one")
        self._started = True

    async def close(self) -> None:
        """Close every connection and stop every task (idempotent).

        Pending requests fail with `ConnectionLost`; iterators
        stop after the events already queued.
        """
        await self._core.close()

    @property
    def closed(self) -> bool:
        """Whether `close` was called."""
        return self._core.closed

    def connection_state(self, endpoint: Endpoint) -> ConnectionState:
        """State of one endpoint's connection (``DISCONNECTED`` if never used)."""
        conn = self._core.connections.get(endpoint)
        return conn.proto.state if conn is not None else ConnectionState.DISCONNECTED

    def subscriptions(self, endpoint: Endpoint | None = None) -> list[dict[str, object]]:
        """Desired subscriptions with their original params (no tokens), per symbol.

        Args:
            endpoint: Only this endpoint's; all when ``None``.
        """
        out: list[dict[str, object]] = []
        for name, conn in self._core.connections.items():
            if endpoint is None or endpoint == name:
                out.extend(dict(r.params) for r in conn.proto.subscriptions.desired())
        return out

    def acknowledged_subscriptions(
        self, endpoint: Endpoint | None = None
    ) -> list[dict[str, object]]:
        """Subscriptions the server acked on the current connections."""
        out: list[dict[str, object]] = []
        for name, conn in self._core.connections.items():
            if endpoint is None or endpoint == name:
                out.extend(dict(r.params) for r in conn.proto.subscriptions.acknowledged())
        return out

    # --- events ---------------------------------------------------------------------------

    def __aiter__(self) -> AsyncIterator[ClientEvent]:
        core = self._core
        if core.main_queue is None:
            raise InvalidState("events go to on_event; use client.events() to iterate as well")
        return core.iterate(core.main_queue, remove=False)

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

        sources = ENDPOINTS if channel is None else frozenset({endpoint_for_channel(channel)})
        return self._core.iterate(self._core.new_queue(accept, sources), remove=True)

    # --- any request ----------------------------------------------------------------------

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
            endpoint = endpoint_for_channel(channel)
        else:
            endpoint = "public"
        token = method in TRADING_METHODS or channel in TOKEN_CHANNELS
        completed = await self._core.request(endpoint, validated, token=token, timeout=timeout)
        # Responses are decoded frames, so members of ServerMessage.
        return cast("tuple[ServerMessage, ...]", completed.responses)

    # --- order safety ---------------------------------------------------------------------

    def in_doubt_orders(self) -> list[InDoubtOrder]:
        """Orders whose request got no answer and that Kraken's data has not resolved yet.

        Each one came with a ``ConnectionLost`` or ``RequestTimeout`` whose ``outcome_unknown``
        was true. The client resolves them on its own (an `OrderResolved` event each);
        `resolve_in_doubt` waits for that.
        """
        return self._core.orders.in_doubt()

    async def resolve_in_doubt(self, timeout: float | None = None) -> list[OrderResolved]:
        """Wait until every order in doubt now is resolved from Kraken's own data.

        Resolution needs the auth endpoint: a late answer, the live ``executions`` stream, or an
        executions snapshot (open orders and recent fills) that the client fetches on a
        separate, short-lived connection after the auth endpoint is back.

        Args:
            timeout: Seconds to wait (``None``: until resolved).

        Returns:
            One `OrderResolved` per order that was in doubt, oldest first.

        Raises:
            RequestTimeout: Some are still in doubt after ``timeout`` (they stay listed by
                `in_doubt_orders`).
        """
        return await self._core.orders.resolve_all(timeout)
