"""`Gateway`: one `KrakenWSClient` whose frames go out on NATS JetStream to any number of readers.

How a frame travels (see docs/deployment.md for the picture):

```text
Kraken --ws--> KrakenWSClient --on_raw_frame--> (text, receive time, connection seq)
                    | decode, book engine (checksum), on_event
                    v
               Gateway: subject + headers  --> Outbox (in order) --> NATS publish
                                                                   --> stream KRAKEN_MD
```

* Every frame goes out as its **original wire text** (never re-encoded): a consumer decodes
  exactly what the gateway decoded.
* A book frame (``book`` or ``level3``) is published when the client has applied it (its
  ``on_event``), so its ``Kraken-Book`` header says whether the gateway's book verified it.
* After each Kraken snapshot and every ``snapshot_interval`` seconds, the verified book goes to
  ``kraken.snap.<channel>.<SYMBOL>`` in the same stream, *after* the deltas it contains: a
  consumer that starts there and reads on has no gap (`Subscriber`).
* Everything is published from one `Outbox` by one task, so the stream's order is the client's.
* Account data (``executions``, ``balances``) goes to ``kraken.private.v2.<channel>`` with a
  JetStream acknowledgement per message (a fill must not be lost), and only to a server that
  refuses anonymous clients unless ``allow_anonymous_private`` says otherwise.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel

from ..book.l2 import OrderBook
from ..book.l3 import L3Book
from ..book.live import BookChannel
from ..client import KrakenWSClient
from ..client.types import ClientEvent, SubscribeParamsModel, UnsubscribeParamsModel
from ..events import BookResync, Connected, Disconnected, Endpoint
from ..models.channels.book import (
    BookSnapshot,
    BookSubscribeParams,
    BookUnsubscribeParams,
    BookUpdate,
)
from ..models.channels.level3 import (
    Level3Snapshot,
    Level3SubscribeParams,
    Level3UnsubscribeParams,
    Level3Update,
)
from ..models.channels.ticker import TickerSubscribeParams, TickerUnsubscribeParams
from ..models.channels.trade import TradeSubscribeParams, TradeUnsubscribeParams
from ..protocol import loads
from ..transport.base import Connector
from . import _nats
from .config import GatewayConfig, GatewayConfigError
from .events import GatewayStarted, GatewayStopped, SubscriptionStale, event_to_json
from .health import GatewayHealth, SubscriptionHealth
from .outbox import Outbox, Outgoing, PrivateQueue
from .snapshot import snapshot_frame
from .subjects import (
    EVENTS,
    HDR_BOOK,
    HDR_CONN,
    HDR_CONN_SEQ,
    HDR_DEPTH,
    HDR_EPOCH,
    HDR_PRICE_PRECISION,
    HDR_QTY_PRECISION,
    HDR_RECEIVED,
    HDR_SEQ,
    HEALTH,
    MD_STREAM,
    MD_SUBJECTS,
    PRIVATE_STREAM,
    PRIVATE_SUBJECTS,
    SNAPSHOT_REQUEST,
    data_subject,
    private_subject,
    snapshot_subject,
)

__all__ = ["Gateway"]

_log = logging.getLogger("kraken_ws.gateway")

# Book frames are held until the client has applied them (to know the checksum verdict). Kraken
# writes "channel" first; a frame that does not start so is found by the full parse instead.
_HELD = {"public": '{"channel":"book"', "l3": '{"channel":"level3"'}
_ENDPOINT_OF: dict[BookChannel, Endpoint] = {"book": "public", "level3": "l3"}
_PRIVATE = frozenset({"executions", "balances"})


@dataclass(slots=True)
class _Frame:
    text: str
    received_ns: int
    conn: str
    conn_seq: int


@dataclass(slots=True)
class _Sub:
    channel: str
    symbol: str
    endpoint: Endpoint
    last_frame: float = field(default_factory=time.monotonic)
    frames: int = 0


class Gateway:
    """Publish a `KrakenWSClient`'s streams to NATS JetStream (see the module docstring).

    Use it as an async context manager, or `start` and `stop`:

    ```python
    async with Gateway(GatewayConfig(nats_url="nats://127.0.0.1:4222",
                                     books={"BTC/USD": 100})) as gateway:
        await stop_event.wait()
    ```

    Args:
        config: What to subscribe and where to publish.
        connector: Opens Kraken transports (tests wrap the default one).
        client_options: More keyword arguments for the `KrakenWSClient`.
        nats_options: More keyword arguments for ``nats.connect``.
        clock: Monotonic clock in seconds.
    """

    def __init__(
        self,
        config: GatewayConfig,
        *,
        connector: Connector | None = None,
        client_options: dict[str, Any] | None = None,
        nats_options: dict[str, Any] | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.config = config
        self.epoch = secrets.token_hex(6)
        """This run's id: header ``Kraken-Epoch`` of every message."""
        self.clock = clock
        self._connector = connector
        self._client_options = dict(client_options or {})
        self._nats_options = dict(nats_options or {})
        self.nc: _nats.Client | None = None
        self.js: _nats.JetStreamContext | None = None
        self.client: KrakenWSClient | None = None
        self.books: dict[str, OrderBook] = {}
        """The gateway's live L2 books (the client's), by symbol."""
        self.l3_books: dict[str, L3Book] = {}
        """Its live level3 books, by symbol."""
        self.outbox = Outbox(on_error=self._resnapshot_all)
        self.private = PrivateQueue(PRIVATE_STREAM)
        self._tasks: list[asyncio.Task[None]] = []
        self._held: dict[Endpoint, _Frame] = {}
        self._mismatch: set[tuple[str, str]] = set()
        self._seq: dict[str, int] = {}
        self._conn_count: dict[Endpoint, int] = {}
        self._conn_seq: dict[Endpoint, int] = {}
        self._last_heartbeat: dict[Endpoint, float] = {}
        self._subs: dict[tuple[str, str], _Sub] = {}
        self._snapshot_due: set[tuple[BookChannel, str]] = set()
        self._started = False
        self._stopping = False

    # --- lifecycle ------------------------------------------------------------------------------

    async def __aenter__(self) -> Gateway:
        await self.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.stop()

    async def start(self) -> None:
        """Connect to NATS, create the streams, subscribe at Kraken and start publishing.

        Raises:
            GatewayConfigError: Private channels configured but the server accepts anonymous
                clients (and ``allow_anonymous_private`` is off).
        """
        if self._started:
            return
        self._started = True
        config = self.config
        if config.private and not config.allow_anonymous_private:
            await _refuse_anonymous(config.nats_url)
        self.nc = nc = await _nats.connect(
            config.nats_url,
            name=f"kraken-ws-gateway-{self.epoch}",
            reconnected_cb=self._nats_reconnected,
            error_cb=self._nats_error,
            **self._nats_options,
        )
        self.js = js = nc.jetstream()
        await self._ensure_streams(js)
        self._tasks.append(asyncio.create_task(self.outbox.run(nc), name="gateway-outbox"))
        self._tasks.append(asyncio.create_task(self.private.run(js), name="gateway-private"))
        self._event(GatewayStarted(self.epoch))
        options: dict[str, Any] = {
            "ws_url": config.ws_url,
            "auth_ws_url": config.auth_ws_url,
            "l3_ws_url": config.l3_ws_url,
            "rest_url": config.rest_url,
            "on_event": self._on_event,
            "on_raw_frame": self._on_raw_frame,
            **self._client_options,
        }
        if self._connector is not None:
            options["connector"] = self._connector
        self.client = KrakenWSClient(config.key, config.secret, **options)
        await self.client.start()
        await nc.subscribe(SNAPSHOT_REQUEST, cb=self._snapshot_requested)
        await self._subscribe_all(self.client)
        self._tasks.append(asyncio.create_task(self._housekeeping(), name="gateway-housekeeping"))

    async def _subscribe_all(self, client: KrakenWSClient) -> None:
        config = self.config
        for channel, symbols, endpoint in (
            ("book", config.books, "public"),
            ("level3", config.level3, "l3"),
            ("trade", config.trades, "public"),
            ("ticker", config.tickers, "public"),
        ):
            for symbol in symbols:
                self._subs[(channel, symbol)] = _Sub(channel, symbol, endpoint)  # type: ignore[arg-type]
        # events=True: the gateway publishes each book frame from on_event, once the client
        # has applied it (without it, the client applies a book nobody reads without a model).
        books = await asyncio.gather(
            *(client.book(s, d, events=True) for s, d in config.books.items())  # type: ignore[arg-type]
        )
        self.books = {book.symbol: book for book in books}
        l3_books = await asyncio.gather(
            *(client.level3(s, d, events=True) for s, d in config.level3.items())  # type: ignore[arg-type]
        )
        self.l3_books = {book.symbol: book for book in l3_books}
        if config.trades:
            await client.subscribe_trade(list(config.trades))
        if config.tickers:
            await client.subscribe_ticker(list(config.tickers))
        if "executions" in config.private:
            await client.subscribe_executions(snap_trades=True, snap_orders=True)
        if "balances" in config.private:
            await client.subscribe_balances()

    async def stop(self) -> None:
        """Stop: close the Kraken client, publish what is queued and `GatewayStopped`."""
        if self._stopping:
            return
        self._stopping = True
        if self.client is not None:
            await self.client.close()
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        nc, js = self.nc, self.js
        if nc is not None and js is not None and nc.is_connected:
            # What is still queued goes out in order, then the word that we stopped on purpose.
            self._event(GatewayStopped(self.epoch))
            await self.private.drain(js, 5.0)
            await self.outbox.drain(nc, 5.0)
        if nc is not None:
            with contextlib.suppress(Exception):
                await nc.close()

    async def kill(self) -> None:
        """Stop at once without a word on the bus (what a crash looks like, for tests)."""
        self._stopping = True
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        if self.nc is not None:
            with contextlib.suppress(Exception):
                await self.nc.close()
        if self.client is not None:
            await self.client.close()

    async def _ensure_streams(self, js: _nats.JetStreamContext) -> None:
        config = self.config
        streams = [
            _nats.api.StreamConfig(
                name=MD_STREAM,
                subjects=list(MD_SUBJECTS),
                max_age=config.max_age,
                num_replicas=config.replicas,
                storage=_nats.api.StorageType.FILE,
                discard=_nats.api.DiscardPolicy.OLD,
                allow_direct=True,
            )
        ]
        if config.private:
            streams.append(
                _nats.api.StreamConfig(
                    name=PRIVATE_STREAM,
                    subjects=list(PRIVATE_SUBJECTS),
                    # A week of account data, deduplicated by message id for two minutes.
                    max_age=7 * 86400.0,
                    duplicate_window=120.0,
                    num_replicas=config.replicas,
                    storage=_nats.api.StorageType.FILE,
                )
            )
        for stream in streams:
            try:
                await js.add_stream(stream)
            except _nats.APIError as exc:
                _log.info("stream %s exists (%s); updating it", stream.name, exc)
                await js.update_stream(stream)

    # --- frames in ------------------------------------------------------------------------------

    def _on_raw_frame(self, endpoint: Endpoint, text: str) -> None:
        received = time.time_ns()
        seq = self._conn_seq.get(endpoint, 0) + 1
        self._conn_seq[endpoint] = seq
        frame = _Frame(text, received, f"{endpoint}.{self._conn_count.get(endpoint, 0)}", seq)
        prefix = _HELD.get(endpoint)
        if prefix is not None and text.startswith(prefix):
            self._held[endpoint] = frame
            return
        self._classify(endpoint, frame)

    def _classify(self, endpoint: Endpoint, frame: _Frame) -> None:
        try:
            obj = loads(frame.text)
        except ValueError:
            return  # the client reports undecodable frames; there is nothing to route
        if not isinstance(obj, dict):
            return
        channel = obj.get("channel")
        if not isinstance(channel, str):
            return  # a method's answer (acks, pong): the connection's business, not the bus's
        if channel == "heartbeat":
            self._last_heartbeat[endpoint] = self.clock()
            self._publish(f"kraken.v2.heartbeat.{endpoint}", frame, None)
            return
        if channel in _PRIVATE:
            self._publish_private(private_subject(channel), frame)
            return
        if channel in ("book", "level3"):
            self._held[endpoint] = frame  # keys in another order: held like any book frame
            return
        symbol = _symbol_of(obj)
        self._touch(channel, symbol)
        self._publish(data_subject(channel, symbol), frame, None)

    def _on_event(self, event: ClientEvent) -> None:
        if isinstance(event, BookSnapshot | BookUpdate):
            self._book_frame("book", event.data[0].symbol, event.type == "snapshot")
            return
        if isinstance(event, Level3Snapshot | Level3Update):
            self._book_frame("level3", event.data[0].symbol, event.type == "snapshot")
            return
        if isinstance(event, BookResync):
            self._mismatch.add((event.channel_name, event.symbol))
        if isinstance(event, BaseModel):
            return  # other channel frames went out from the raw text already
        if isinstance(event, Connected):
            self._conn_count[event.endpoint] = self._conn_count.get(event.endpoint, 0) + 1
            self._conn_seq[event.endpoint] = 0
        self._event(event)
        if isinstance(event, Disconnected):
            # In each book's own stream, in order: the book went stale here (the client
            # cleared it), so readers clear theirs until the snapshot after the reconnect.
            for channel, endpoint in _ENDPOINT_OF.items():
                if endpoint == event.endpoint:
                    for symbol in self.books if channel == "book" else self.l3_books:
                        self._marker(channel, symbol, "lost")

    def _book(self, channel: BookChannel, symbol: str) -> OrderBook | L3Book | None:
        return (self.books if channel == "book" else self.l3_books).get(symbol)

    def _book_frame(self, channel: BookChannel, symbol: str, snapshot: bool) -> None:
        frame = self._held.pop(_ENDPOINT_OF[channel], None)
        if frame is None:
            _log.warning("%s frame without its wire text; not published", channel)
            return
        book = self._book(channel, symbol)
        if (channel, symbol) in self._mismatch:
            self._mismatch.discard((channel, symbol))
            status = "mismatch"
        elif book is None or book.is_valid:
            status = "ok"
        else:
            status = "invalid"
        self._touch(channel, symbol)
        self._publish(data_subject(channel, symbol), frame, status)
        if snapshot and status == "ok":
            self.publish_snapshot(symbol, channel)

    def _touch(self, channel: str, symbol: str | None) -> None:
        if symbol is None:
            return
        sub = self._subs.get((channel, symbol))
        if sub is not None:
            sub.last_frame = self.clock()
            sub.frames += 1

    # --- messages out ---------------------------------------------------------------------------

    def _next_seq(self, subject: str) -> int:
        seq = self._seq.get(subject, 0) + 1
        self._seq[subject] = seq
        return seq

    def _headers(self, frame: _Frame, seq: int) -> dict[str, str]:
        return {
            HDR_EPOCH: self.epoch,
            HDR_SEQ: str(seq),
            HDR_RECEIVED: str(frame.received_ns),
            HDR_CONN: frame.conn,
            HDR_CONN_SEQ: str(frame.conn_seq),
        }

    def _publish(self, subject: str, frame: _Frame, book_status: str | None) -> None:
        headers = self._headers(frame, self._next_seq(subject))
        if book_status is not None:
            headers[HDR_BOOK] = book_status
        self.outbox.append(Outgoing(subject, frame.text.encode(), headers, frame.received_ns))

    def _publish_private(self, subject: str, frame: _Frame) -> None:
        headers = self._headers(frame, self._next_seq(subject))
        # JetStream drops a message whose id it has seen in the last two minutes: a publish
        # retried after a lost acknowledgement is stored once.
        headers["Nats-Msg-Id"] = f"{self.epoch}.{frame.conn}.{frame.conn_seq}"
        self.private.append(Outgoing(subject, frame.text.encode(), headers, frame.received_ns))

    def _marker(self, channel: BookChannel, symbol: str, status: str) -> None:
        subject = data_subject(channel, symbol)
        headers = {HDR_EPOCH: self.epoch, HDR_SEQ: str(self._next_seq(subject)), HDR_BOOK: status}
        self.outbox.append(Outgoing(subject, b"", headers))

    def _event(self, event: object) -> None:
        payload = event_to_json(event)
        if payload is not None:
            headers = {HDR_EPOCH: self.epoch, HDR_SEQ: str(self._next_seq(EVENTS))}
            self.outbox.append(Outgoing(EVENTS, payload, headers))

    def publish_snapshot(self, symbol: str, channel: BookChannel = "book") -> bool:
        """Queue the verified book of ``symbol`` for ``kraken.snap.<channel>.<SYMBOL>`` now.

        It goes out after every delta already queued, and carries the ``Kraken-Seq`` of the last
        of them: the snapshot holds exactly the deltas up to that number.

        Returns:
            Whether a snapshot was queued (``False`` while the book is not valid).
        """
        book = self._book(channel, symbol)
        if book is None or not book.is_valid:
            return False
        self._snapshot_due.discard((channel, symbol))
        headers = {
            HDR_EPOCH: self.epoch,
            HDR_SEQ: str(self._seq.get(data_subject(channel, symbol), 0)),
            HDR_DEPTH: str(book.depth),
            HDR_RECEIVED: str(time.time_ns()),
        }
        if book.price_precision is not None:
            headers[HDR_PRICE_PRECISION] = str(book.price_precision)
        if book.qty_precision is not None:
            headers[HDR_QTY_PRECISION] = str(book.qty_precision)
        subject = snapshot_subject(channel, symbol)
        self.outbox.append(Outgoing(subject, snapshot_frame(book).encode(), headers))
        return True

    # --- snapshots, health, silent subscriptions ------------------------------------------------

    def _resnapshot_all(self) -> None:
        self._snapshot_due.update(("book", s) for s in self.books)
        self._snapshot_due.update(("level3", s) for s in self.l3_books)

    async def _snapshot_requested(self, msg: _nats.Msg) -> None:
        # The body is the symbol (an L2 book), or "level3 SYMBOL".
        words = msg.data.decode(errors="replace").split()
        channel: BookChannel = "level3" if len(words) == 2 and words[0] == "level3" else "book"
        symbol = words[-1] if words else ""
        self._snapshot_due.add((channel, symbol))
        ok = self.publish_snapshot(symbol, channel)
        if msg.reply:
            await msg.respond(b"ok" if ok else b"not valid")

    async def _nats_reconnected(self) -> None:
        # Core publishes in flight during the outage may be lost: a fresh snapshot of every
        # book gives consumers that saw a hole a point to resume from.
        self._resnapshot_all()

    async def _nats_error(self, error: Exception) -> None:
        _log.warning("nats: %s", error)

    async def _housekeeping(self) -> None:
        config = self.config
        next_snapshot = self.clock() + config.snapshot_interval
        while True:
            await asyncio.sleep(min(config.health_interval, config.snapshot_interval, 0.5))
            now = self.clock()
            if now >= next_snapshot:
                next_snapshot = now + config.snapshot_interval
                self._resnapshot_all()
            for channel, symbol in list(self._snapshot_due):
                self.publish_snapshot(symbol, channel)
            self._check_silent(now)
            nc = self.nc
            if nc is not None and nc.is_connected:
                with contextlib.suppress(Exception):
                    await nc.publish(HEALTH, self.health().to_json())

    def _check_silent(self, now: float) -> None:
        if not self.config.stale_after or self.client is None:
            return
        for sub in list(self._subs.values()):
            silent = now - sub.last_frame
            beat = self._last_heartbeat.get(sub.endpoint)
            # Only while heartbeats flow: a silent socket is the watchdog's business.
            if silent < self.config.stale_after or beat is None or now - beat > 5.0:
                continue
            sub.last_frame = now
            _log.warning("%s %s: silent for %.1fs; resubscribing", sub.channel, sub.symbol, silent)
            self._event(SubscriptionStale(sub.channel, sub.symbol, round(silent, 3)))
            self._tasks.append(asyncio.create_task(self._resubscribe(sub)))

    async def _resubscribe(self, sub: _Sub) -> None:
        client = self.client
        assert client is not None
        unsub: UnsubscribeParamsModel
        resub: SubscribeParamsModel
        symbol = [sub.symbol]
        if sub.channel == "book":
            depth: Any = self.config.books[sub.symbol]
            unsub = BookUnsubscribeParams(symbol=symbol, depth=depth)
            resub = BookSubscribeParams(symbol=symbol, depth=depth, snapshot=True)
        elif sub.channel == "level3":
            depth = self.config.level3[sub.symbol]
            unsub = Level3UnsubscribeParams(symbol=symbol, depth=depth)
            resub = Level3SubscribeParams(symbol=symbol, depth=depth, snapshot=True)
        elif sub.channel == "trade":
            unsub, resub = (
                TradeUnsubscribeParams(symbol=symbol),
                TradeSubscribeParams(symbol=symbol),
            )
        else:
            unsub = TickerUnsubscribeParams(symbol=symbol)
            resub = TickerSubscribeParams(symbol=symbol)
        try:
            with contextlib.suppress(Exception):
                await client.unsubscribe(unsub)
            await client.subscribe(resub)
        except Exception as exc:
            _log.warning("%s %s: resubscribe failed: %s", sub.channel, sub.symbol, exc)

    def health(self) -> GatewayHealth:
        """The gateway's health now (also published on ``kraken.gw.health``)."""
        now = self.clock()
        lags, self.outbox.lags_ms = self.outbox.lags_ms, []
        lags.sort()
        client = self.client
        connections: dict[str, str] = {}
        if client is not None:
            for endpoint in self._endpoints():
                connections[endpoint] = client.connection_state(endpoint).value
        subscriptions = []
        for s in self._subs.values():
            book = self._book(s.channel, s.symbol) if s.channel in _ENDPOINT_OF else None
            valid = None if s.channel not in _ENDPOINT_OF else book is not None and book.is_valid
            age = round(now - s.last_frame, 3)
            subscriptions.append(SubscriptionHealth(s.channel, s.symbol, age, s.frames, valid))
        return GatewayHealth(
            epoch=self.epoch,
            time=time.time(),
            nats_connected=self.nc is not None and self.nc.is_connected,
            connections=connections,
            subscriptions=subscriptions,
            published=self.outbox.published,
            private_published=self.private.published,
            publish_errors=self.outbox.errors + self.private.errors,
            outbox=len(self.outbox.items) + len(self.private.items),
            lag_p50_ms=round(lags[len(lags) // 2], 3) if lags else None,
            lag_max_ms=round(lags[-1], 3) if lags else None,
        )

    def _endpoints(self) -> list[Endpoint]:
        config = self.config
        used: list[Endpoint] = []
        if config.books or config.trades or config.tickers:
            used.append("public")
        if config.private:
            used.append("auth")
        if config.level3:
            used.append("l3")
        return used


def _symbol_of(obj: dict[str, Any]) -> str | None:
    data = obj.get("data")
    if isinstance(data, list) and data and isinstance(data[0], dict):
        symbol = data[0].get("symbol")
        if isinstance(symbol, str):
            return symbol
    return None


async def _refuse_anonymous(url: str) -> None:
    """Raise unless every server of ``url`` refuses a client without credentials."""
    for server in _nats.server_list(url):
        if await _nats.accepts_anonymous(server):
            raise GatewayConfigError(
                f"{_nats.without_credentials(server)} accepts clients without credentials: "
                "private channels (executions, balances) would be readable by anyone. Configure "
                "NATS users and permissions (docs/deployment.md), or pass "
                "allow_anonymous_private=True (--allow-anonymous-private) to publish anyway"
            )
