"""`LocalExchange`: a Kraken Spot WebSocket v2 exchange on 127.0.0.1.

Three websockets servers (public, auth, level3, each at ``/v2``) and an h11 REST server (token
endpoint and ``AssetPairs``) share one event loop, one simulated `Market` and one
`MatchingEngine`. This module holds the exchange's lifecycle and its public
fault API; the work is delegated to the modules listed in the package docstring.

Concurrency model: all state changes happen synchronously on the loop (a request is handled, or a
market tick is applied, then everything it changed is flushed to the connections' send queues
before the next await). A connection's frames therefore always arrive in causal order: ack,
snapshot, updates.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import logging
import random
import secrets
import time
from collections.abc import Callable, Iterable
from decimal import Decimal
from http import HTTPStatus
from types import TracebackType
from typing import Any, Self

from websockets.asyncio.server import Server, ServerConnection, serve
from websockets.exceptions import ConnectionClosed
from websockets.http11 import Request, Response

from kraken_ws.models.common import SystemStatus

from . import frames
from .calls import TokenCheck
from .channels import Channels
from .connection import Connection, ConnectionPool
from .engine import MatchingEngine
from .faults import MALFORMED_FRAME, Endpoint, FaultState, check_endpoint
from .http import DEFAULT_READ_TIMEOUT, HttpServer, TokenStore
from .limits import Tier, TierSpec
from .market import DEFAULT_INSTRUMENTS, InstrumentSpec, Market
from .publish import Publisher
from .router import Router, ping
from .subscriptions import SubscriptionRegistry
from .trading import Trading

__all__ = ["LocalExchange"]

_log = logging.getLogger(__name__)

# Close code and reason of an idle connection. Unverified: Kraken documents the ~1 minute idle
# timeout but not how the socket is closed; 1000 keeps clients reconnecting (1008 is terminal
# for Kraken's own SDK).
_IDLE_CLOSE_CODE = 1000
_IDLE_CLOSE_REASON = "Idle timeout"
# How often the housekeeping pass runs: engine timers (GTD expiry, the dead man's switch) and
# idle connections, all judged on the injected clock.
_HOUSEKEEPING_INTERVAL = 0.05


class LocalExchange:
    """A local Kraken Spot WebSocket v2 exchange for tests, examples and benchmarks.

    Use it as an async context manager (or call `start` / `stop`):

    ```python
    async with LocalExchange(rate=None) as ex:
        async with websockets.connect(ex.ws_url) as ws: ...
        await ex.step()          # one deterministic market tick per symbol
    ```

    Args:
        instruments: Instruments to simulate (default BTC/USD, ETH/USD, PEPE/USD).
        rate: Market updates per second per symbol; ``None`` = manual ticks via `step`.
        seed: Random seed of the market (same seed, same books).
        heartbeat_interval: Seconds between heartbeats after the first subscription (``None``
            disables them).
        api_key: API key of the test account (random if omitted).
        api_secret: Its base64 secret (random if omitted).
        balances: Initial funds of the test account.
        clock: Epoch seconds (injectable: token expiry, timestamps, GTD expiry).
        host: Interface to bind.
        port_base: If given, bind public/auth/l3/REST to ``port_base`` .. ``port_base + 3``;
            otherwise free ports are picked.
        book_levels: Levels per side of every simulated book (at least 1000).
        max_queue: Frames queued per connection before a slow client is disconnected.
        tier: Verification tier of the test account (``"starter"``, ``"intermediate"`` or
            ``"pro"``): the per-pair trading rate counter's threshold and decay, the
            ``maxratecount`` of the ``executions`` ack and the open-orders limit per pair
            ([Protocol notes §10.1][ref-10-1]). A `TierSpec` sets custom
            limits (e.g. very high ones for load tests).
        idle_timeout: Seconds (on ``clock``) without any message from the client after which
            the exchange closes the connection, as Kraken does after about a minute (reference
            [Protocol notes §1.2][ref-1-2]); any message resets it (WebSocket protocol pings do not
            count: unverified). ``None`` disables it. The connection is closed with code 1000 and
            reason ``Idle timeout`` (unverified: Kraken does not document how).
        max_msg_rate: Messages per second a connection may send (token bucket, bursts of the
            same size); over it a request is answered with ``Exceeded msg rate`` and not
            executed. Kraken's limit is unpublished and load-dependent, so ``None`` (default)
            disables it ([Protocol notes §9][ref-9], [§10.2][ref-10-2]).
        rest_read_timeout: Seconds the REST endpoint gives a client to send one complete
            request (headers and body); a partial request is then answered ``408`` and its
            connection closed, an idle keep-alive connection is closed (see
            `HttpServer`).
    """

    def __init__(
        self,
        *,
        instruments: Iterable[InstrumentSpec] | None = None,
        rate: float | None = None,
        seed: int = 0,
        heartbeat_interval: float | None = 1.0,
        api_key: str | None = None,
        api_secret: str | None = None,
        balances: dict[str, Decimal] | None = None,
        clock: Callable[[], float] | None = None,
        host: str = "127.0.0.1",
        port_base: int | None = None,
        book_levels: int = 1100,
        max_queue: int = 200_000,
        tier: Tier | TierSpec = "intermediate",
        idle_timeout: float | None = 60.0,
        max_msg_rate: float | None = None,
        rest_read_timeout: float = DEFAULT_READ_TIMEOUT,
    ) -> None:
        if max_msg_rate is not None and max_msg_rate <= 0:
            raise ValueError("max_msg_rate must be positive (or None to disable the limit)")
        self.instruments = list(instruments or DEFAULT_INSTRUMENTS)
        self.idle_timeout = idle_timeout
        """Seconds without a client message before a connection is closed (``None``: never)."""
        self.max_msg_rate = max_msg_rate
        """Messages per second per connection (``None``: unlimited)."""
        self.rate = rate
        self.heartbeat_interval = heartbeat_interval
        self.api_key = api_key or "LOCAL" + secrets.token_hex(14).upper()
        """API key of the funded test account."""
        self.api_secret = api_secret or base64.b64encode(secrets.token_bytes(64)).decode()
        """Its base64 API secret."""
        self.clock: Callable[[], float] = clock or time.time
        self.host = host
        self.port_base = port_base
        self.max_queue = max_queue
        self.faults = FaultState()
        """Armed faults (see the fault methods below)."""
        self.id_rng = random.Random(seed + 1)
        self.market = Market(self.instruments, seed, self.clock, book_levels)
        """The simulated market."""
        self.engine = MatchingEngine(self.market, self.clock, balances, tier=tier)
        """The matching engine (one funded account)."""
        self.tokens = TokenStore(self.clock)
        """Issued websocket tokens."""
        self._http = HttpServer(
            {self.api_key: self.api_secret},
            self.tokens,
            self.instruments,
            host,
            port_base + 3 if port_base is not None else 0,
            read_timeout=rest_read_timeout,
        )
        self._servers: dict[Endpoint, Server] = {}
        self._ports: dict[str, int] = {}
        self._connections = ConnectionPool()
        self._subscriptions: SubscriptionRegistry[Connection] = SubscriptionRegistry()
        self._publisher = Publisher(self.market, self.engine, self._subscriptions, self.faults)
        check_token = TokenCheck(self.tokens, self.api_key, self.faults)
        channels = Channels(
            self.market,
            self.engine,
            self.instruments,
            self._subscriptions,
            self.tokens,
            check_token,
            self.faults,
            self.clock,
        )
        trading = Trading(self.engine, check_token, self.clock)
        self._router = Router(
            {
                "ping": ping,
                "subscribe": channels.subscribe,
                "unsubscribe": channels.unsubscribe,
                **trading.table(),
            },
            self.faults,
            self.clock,
            after=self._publisher.flush,
        )
        self._driver: asyncio.Task[None] | None = None
        self._housekeeping: asyncio.Task[None] | None = None
        self._started = False

    @property
    def frames_published(self) -> int:
        """Market-data frames queued since start (all connections)."""
        return self._publisher.frames_published

    # -- lifecycle ------------------------------------------------------------------------

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.stop()

    async def start(self) -> None:
        """Bind every endpoint and start the market (idempotent)."""
        if self._started:
            return
        self._started = True
        for index, endpoint in enumerate(check_endpoint(None)):
            port = self.port_base + index if self.port_base is not None else 0
            self._servers[endpoint] = await serve(
                self._handler_for(endpoint),
                self.host,
                port,
                process_request=self._check_path,
                compression=None,
                max_size=2**20,
            )
            sock = next(iter(self._servers[endpoint].sockets))
            self._ports[endpoint] = sock.getsockname()[1]
        await self._http.start()
        self._ports["rest"] = self._http.port
        if self.rate:
            self._driver = asyncio.create_task(self._publisher.drive(self.rate))
        self._housekeeping = asyncio.create_task(self._run_housekeeping())

    async def stop(self) -> None:
        """Close every connection and server (idempotent)."""
        if not self._started:
            return
        self._started = False
        self.engine.stop()
        for task in (self._driver, self._housekeeping):
            if task is not None:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
        self._driver = self._housekeeping = None
        for server in self._servers.values():
            server.close(close_connections=True)
        for server in self._servers.values():
            await server.wait_closed()
        self._servers.clear()
        await self._http.stop()

    def _url(self, endpoint: str, scheme: str = "ws") -> str:
        if endpoint not in self._ports:
            raise RuntimeError("LocalExchange is not started")
        return f"{scheme}://{self.host}:{self._ports[endpoint]}"

    @property
    def ws_url(self) -> str:
        """Public endpoint, e.g. ``ws://127.0.0.1:PORT/v2``."""
        return self._url("public") + "/v2"

    @property
    def auth_ws_url(self) -> str:
        """Authenticated endpoint (executions, balances, trading), ending in ``/v2``."""
        return self._url("auth") + "/v2"

    @property
    def l3_ws_url(self) -> str:
        """Level3 endpoint, ending in ``/v2``."""
        return self._url("l3") + "/v2"

    @property
    def rest_url(self) -> str:
        """REST base, e.g. ``http://127.0.0.1:PORT`` (token endpoint, ``AssetPairs``)."""
        return self._url("rest", "http")

    @staticmethod
    def _check_path(connection: ServerConnection, request: Request) -> Response | None:
        if request.path.split("?")[0].rstrip("/") != "/v2":
            return connection.respond(HTTPStatus.NOT_FOUND, "Kraken WebSocket v2 lives at /v2\n")
        return None

    # -- connections ----------------------------------------------------------------------

    def _handler_for(self, endpoint: Endpoint) -> Callable[[ServerConnection], Any]:
        async def handler(ws: ServerConnection) -> None:
            await self._serve(ws, endpoint)

        return handler

    async def _serve(self, ws: ServerConnection, endpoint: Endpoint) -> None:
        conn = Connection(ws, endpoint, 2**64 + self.id_rng.getrandbits(63), self)
        await self._connections.add(conn)
        conn.send(frames.status(conn.connection_id, self.engine.status))
        try:
            async for message in ws:
                try:
                    self._router.receive(conn, message)
                except Exception:
                    # Last line of defence: an exception escaping this loop would make
                    # websockets close the connection (1011), i.e. one bad frame would look
                    # like a network failure to the client under test.
                    _log.exception("LocalExchange failed to receive %r", message[:200])
        except ConnectionClosed:
            pass
        finally:
            self._drop(conn)
            await conn.close_tasks()
            await self._connections.notify()

    def _drop(self, conn: Connection) -> None:
        self._connections.discard(conn)
        self._subscriptions.drop(conn)
        for token in conn.tokens:
            self.tokens.unpin(token)
        conn.tokens.clear()

    # -- market driving -------------------------------------------------------------------

    async def step(self, count: int = 1, symbol: str | None = None) -> None:
        """Apply ``count`` random market ticks to ``symbol`` (or each symbol) and publish them.

        Deterministic for a given seed: use it with ``rate=None``.
        """
        await self._publisher.step(count, symbol)

    async def _run_housekeeping(self) -> None:
        while True:
            await asyncio.sleep(_HOUSEKEEPING_INTERVAL)
            self._publisher.flush()  # settles the engine: its timers fire on the clock
            self.close_idle_connections()

    def close_idle_connections(self) -> int:
        """Close connections silent for ``idle_timeout`` seconds ([Protocol notes §1.2][ref-1-2]).

        The exchange runs this every 50 ms; tests with an injected clock may call it right
        after moving the clock to make the check deterministic.

        Returns:
            How many connections were closed.
        """
        timeout = self.idle_timeout
        if timeout is None:
            return 0
        now = self.clock()
        idle = [
            c
            for c in self._connections.on(None)
            if not c.closed and now - c.last_activity >= timeout
        ]
        for conn in idle:
            conn.close(_IDLE_CLOSE_CODE, _IDLE_CLOSE_REASON)
        return len(idle)

    # -- faults ---------------------------------------------------------------------------

    async def close_connections(
        self, code: int = 1000, reason: str = "", endpoint: str | None = None
    ) -> None:
        """Close connections cleanly with ``code``/``reason`` (endpoint ``None`` = all)."""
        conns = self._connections.on(endpoint)
        await asyncio.gather(*(c.ws.close(code, reason) for c in conns), return_exceptions=True)

    async def drop_connections(self, endpoint: str | None = None) -> None:
        """Abort connections without a close frame (the client sees 1006)."""
        for conn in self._connections.on(endpoint):
            conn.ws.transport.abort()
        await asyncio.sleep(0)

    def stall(self, endpoint: str | None = None) -> None:
        """Stop sending on ``endpoint`` (frames are discarded) while still reading requests."""
        self.faults.stalled.update(check_endpoint(endpoint))

    def resume(self, endpoint: str | None = None) -> None:
        """Undo `stall`."""
        self.faults.stalled.difference_update(check_endpoint(endpoint))

    def corrupt_next_checksum(self, symbol: str) -> None:
        """Make the next book frame (every subscriber's) of ``symbol`` carry a wrong checksum."""
        self.faults.corrupt_checksums[symbol] += 1

    async def send_malformed(self, endpoint: str | None = None) -> None:
        """Send a frame that is not valid JSON to every connection of ``endpoint``."""
        await self.inject_frame(MALFORMED_FRAME, endpoint)

    async def inject_frame(self, text: str | bytes, endpoint: str | None = None) -> int:
        """Send an arbitrary frame to every connection of ``endpoint`` (``None`` = all).

        The frame is queued behind whatever the connection already has queued, so it arrives
        in order with the exchange's own frames; like them, it is dropped on a stalled
        endpoint.

        Args:
            text: The frame: a ``str`` is sent as a text frame, ``bytes`` as a binary frame
                (which Kraken never sends: a test of how a client copes with one).
            endpoint: ``"public"``, ``"auth"``, ``"l3"`` or ``None`` for all three.

        Returns:
            How many connections the frame was queued for.

        Raises:
            ValueError: ``endpoint`` is unknown, or ``text`` cannot be encoded as UTF-8 (a
                ``str`` with a lone surrogate), which no text frame can carry.
        """
        if isinstance(text, str):
            text.encode("utf-8")  # UnicodeEncodeError (a ValueError) here, not in the writer
        sent = sum(conn.send(text) for conn in self._connections.on(endpoint))
        await asyncio.sleep(0)
        return sent

    def delay_responses(self, seconds: float, method: str | None = None) -> None:
        """Handle requests (of ``method``, or all) only after ``seconds``; 0 removes the delay."""
        if seconds <= 0:
            self.faults.response_delay.pop(method, None)
        else:
            self.faults.response_delay[method] = seconds

    def drop_next_response(self, method: str, count: int = 1) -> None:
        """Execute the next ``count`` requests of ``method`` but send no response for them."""
        self.faults.dropped_responses[method] += count

    def reject_next_token(self) -> None:
        """Treat the next private request's token as invalid (``EAPI:Invalid token``)."""
        self.faults.reject_tokens += 1

    async def set_system_status(self, status: SystemStatus) -> None:
        """Switch the engine status, push a ``status`` frame everywhere and enforce it.

        ``cancel_only`` refuses new orders, ``post_only`` accepts only post-only limit orders,
        ``maintenance`` refuses orders and cancels; simulated trading pauses unless ``online``.
        """
        self.engine.status = status
        for sym in self.market.symbols.values():
            sym.trading_enabled = status == "online"
        for conn in self._connections.on(None):
            conn.send(frames.status(conn.connection_id, status))
        await asyncio.sleep(0)

    # -- introspection --------------------------------------------------------------------

    async def wait_for_connections(self, count: int, endpoint: str | None = None) -> None:
        """Wait until exactly ``count`` connections are open on ``endpoint`` (``None`` = all).

        Handy after a fault: e.g. wait for the server to see a dropped client go, or a
        reconnecting client come back. Wrap it in ``asyncio.timeout``.
        """
        await self._connections.wait_for(count, endpoint)

    def connection_count(self, endpoint: str | None = None) -> int:
        """Open websocket connections on ``endpoint`` (``None`` = all endpoints)."""
        return len(self._connections.on(endpoint))

    def open_orders(self) -> list[dict[str, Any]]:
        """The account's open orders as execution-report dicts (Decimal values)."""
        return [self.engine.order_snapshot(o) for o in self.engine.orders.values()]

    def balances(self) -> dict[str, Decimal]:
        """The account's total balance per asset."""
        return dict(self.engine.account.balances)
