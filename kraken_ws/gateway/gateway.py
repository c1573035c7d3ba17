"""`Gateway`: one `KrakenWSClient` whose frames go out on NATS JetStream to any number of readers.

How a frame travels (see docs/deployment.md for the picture):

```text
Kraken --ws--> KrakenWSClient --on_raw_frame--> (text, receive time, connection seq)
                    | decode, book engine (checksum), on_event
                    v
               Gateway: subject + headers  --> outbox (in order) --> NATS publish
                                                                   --> stream KRAKEN_MD
```

* Every frame goes out as its **original wire text** (never re-encoded): a consumer decodes
  exactly what the gateway decoded.
* A book frame is published when the client has applied it (its ``on_event``), so its
  ``Kraken-Book`` header says whether the gateway's book verified it.
* After each Kraken snapshot and every ``snapshot_interval`` seconds, the verified book goes to
  ``kraken.snap.book.<SYMBOL>`` in the same stream, *after* the deltas it contains: a consumer
  that starts there and reads on has no gap (`Subscriber`).
* Everything is published from one outbox by one task, so the stream's order is the client's.
* Account data (``executions``, ``balances``) goes to ``kraken.private.v2.<channel>`` with a
  JetStream acknowledgement per message (a fill must not be lost), and only to a server that
  refuses anonymous clients unless ``allow_anonymous_private`` says otherwise.
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import logging
import secrets
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from pydantic import BaseModel

from ..book.l2 import OrderBook
from ..client import KrakenWSClient
from ..client.types import ClientEvent, SubscribeParamsModel, UnsubscribeParamsModel
from ..events import BookResync, Connected, Disconnected, Endpoint
from ..models.channels.book import (
    BookSnapshot,
    BookSubscribeParams,
    BookUnsubscribeParams,
    BookUpdate,
)
from ..models.channels.ticker import TickerSubscribeParams, TickerUnsubscribeParams
from ..models.channels.trade import TradeSubscribeParams, TradeUnsubscribeParams
from ..protocol import loads
from ..transport.base import Connector
from . import _nats
from .config import GatewayConfig, GatewayConfigError
from .events import GatewayStarted, GatewayStopped, SubscriptionStale, event_to_json
from .health import GatewayHealth, SubscriptionHealth
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
_BOOK_PREFIX = '{"channel":"book"'
_PRIVATE = frozenset({"executions", "balances"})


@dataclass(slots=True)
class _Frame:
    text: str
    received_ns: int
    conn: str
    conn_seq: int


@dataclass(slots=True)
class _Out:
    subject: str
    payload: bytes
    headers: dict[str, str]
    received_ns: int = 0


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
        """The gateway's live books (the client's), by symbol."""
        self._outbox: deque[_Out] = deque()
        self._private: deque[_Out] = deque()
        self._wake = asyncio.Event()
        self._private_wake = asyncio.Event()
        self._tasks: list[asyncio.Task[None]] = []
        self._pending_book: _Frame | None = None
        self._mismatch: set[str] = set()
        self._seq: dict[str, int] = {}
        self._conn_count: dict[Endpoint, int] = {}
        self._conn_seq: dict[Endpoint, int] = {}
        self._last_heartbeat: dict[Endpoint, float] = {}
        self._subs: dict[tuple[str, str], _Sub] = {}
        self._lags: list[float] = []
        self._published = 0
        self._private_published = 0
        self._publish_errors = 0
        self._snapshot_due: set[str] = set()
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
        self.nc = await _nats.connect(
            config.nats_url,
            name=f"kraken-ws-gateway-{self.epoch}",
            reconnected_cb=self._nats_reconnected,
            error_cb=self._nats_error,
            **self._nats_options,
        )
        self.js = self.nc.jetstream()
        await self._ensure_streams()
        self._tasks.append(asyncio.create_task(self._publisher(), name="gateway-publisher"))
        self._tasks.append(asyncio.create_task(self._private_publisher(), name="gateway-private"))
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
        await self.nc.subscribe(SNAPSHOT_REQUEST, cb=self._snapshot_requested)
        await self._subscribe_all()
        self._tasks.append(asyncio.create_task(self._housekeeping(), name="gateway-housekeeping"))

    async def _subscribe_all(self) -> None:
        client, config = self.client, self.config
        assert client is not None
        for symbol in config.books:
            self._subs[("book", symbol)] = _Sub("book", symbol, "public")
        for symbol in config.trades:
            self._subs[("trade", symbol)] = _Sub("trade", symbol, "public")
        for symbol in config.tickers:
            self._subs[("ticker", symbol)] = _Sub("ticker", symbol, "public")
        # events=True: the gateway publishes each book frame from on_event, once the client
        # has applied it (the client otherwise applies a book nobody reads without a model).
        # Checked, not assumed: older clients always emit book frames and have no such option.
        book_options: dict[str, Any] = {}
        if "events" in inspect.signature(client.book).parameters:
            book_options["events"] = True
        books = await asyncio.gather(
            *(client.book(s, d, **book_options) for s, d in config.books.items())  # type: ignore[arg-type]
        )
        self.books = {book.symbol: book for book in books}
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
            with contextlib.suppress(Exception):
                async with asyncio.timeout(5.0):
                    while self._private:
                        out = self._private.popleft()
                        await js.publish(out.subject, out.payload, headers=out.headers)
                    while self._outbox:
                        out = self._outbox.popleft()
                        await nc.publish(out.subject, out.payload, headers=out.headers)
                    await nc.flush()
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

    async def _ensure_streams(self) -> None:
        js, config = self.js, self.config
        assert js is not None
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
        if endpoint == "public" and text.startswith(_BOOK_PREFIX):
            self._pending_book = frame
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
            self._enqueue(f"kraken.v2.heartbeat.{endpoint}", frame, None)
            return
        if channel in _PRIVATE:
            self._enqueue_private(private_subject(channel), frame)
            return
        if channel == "book" and endpoint == "public":
            self._pending_book = frame  # keys in another order: held like any book frame
            return
        symbol = _symbol_of(obj)
        self._touch(channel, symbol)
        self._enqueue(data_subject(channel, symbol), frame, None)

    def _on_event(self, event: ClientEvent) -> None:
        if isinstance(event, BookSnapshot | BookUpdate):
            self._book_frame(event)
            return
        if isinstance(event, BookResync):
            self._mismatch.add(event.symbol)
        if isinstance(event, BaseModel):
            return  # other channel frames went out from the raw text already
        if isinstance(event, Connected):
            self._conn_count[event.endpoint] = self._conn_count.get(event.endpoint, 0) + 1
            self._conn_seq[event.endpoint] = 0
        self._event(event)
        if isinstance(event, Disconnected) and event.endpoint == "public":
            # In each book's own stream, in order: the book went stale here (the client
            # cleared it), so readers clear theirs until the snapshot after the reconnect.
            for symbol in self.books:
                self._marker(symbol, "lost")

    def _book_frame(self, message: BookSnapshot | BookUpdate) -> None:
        frame, self._pending_book = self._pending_book, None
        if frame is None:
            _log.warning("book frame without its wire text; not published")
            return
        symbol = message.data[0].symbol
        book = self.books.get(symbol)
        if symbol in self._mismatch:
            self._mismatch.discard(symbol)
            status = "mismatch"
        elif book is None or book.is_valid:
            status = "ok"
        else:
            status = "invalid"
        self._touch("book", symbol)
        subject = data_subject("book", symbol)
        self._enqueue(subject, frame, status)
        if message.type == "snapshot" and status == "ok":
            self._snapshot_due.add(symbol)
            self.publish_snapshot(symbol)

    def _touch(self, channel: str, symbol: str | None) -> None:
        if symbol is None:
            return
        sub = self._subs.get((channel, symbol))
        if sub is not None:
            sub.last_frame = self.clock()
            sub.frames += 1

    # --- frames out -----------------------------------------------------------------------------

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

    def _enqueue(self, subject: str, frame: _Frame, book_status: str | None) -> None:
        headers = self._headers(frame, self._next_seq(subject))
        if book_status is not None:
            headers[HDR_BOOK] = book_status
        self._outbox.append(_Out(subject, frame.text.encode(), headers, frame.received_ns))
        self._wake.set()

    def _enqueue_private(self, subject: str, frame: _Frame) -> None:
        headers = self._headers(frame, self._next_seq(subject))
        # JetStream drops a message whose id it has seen in the last two minutes: a publish
        # retried after a lost acknowledgement is stored once.
        headers["Nats-Msg-Id"] = f"{self.epoch}.{frame.conn}.{frame.conn_seq}"
        self._private.append(_Out(subject, frame.text.encode(), headers, frame.received_ns))
        self._private_wake.set()

    def _marker(self, symbol: str, status: str) -> None:
        subject = data_subject("book", symbol)
        headers = {HDR_EPOCH: self.epoch, HDR_SEQ: str(self._next_seq(subject)), HDR_BOOK: status}
        self._outbox.append(_Out(subject, b"", headers))
        self._wake.set()

    def _event(self, event: object) -> None:
        payload = event_to_json(event)
        if payload is None:
            return
        headers = {HDR_EPOCH: self.epoch, HDR_SEQ: str(self._next_seq(EVENTS))}
        self._outbox.append(_Out(EVENTS, payload, headers))
        self._wake.set()

    def publish_snapshot(self, symbol: str) -> bool:
        """Queue the verified book of ``symbol`` for ``kraken.snap.book.<SYMBOL>`` now.

        It goes out after every delta already queued, and carries the ``Kraken-Seq`` of the last
        of them: the snapshot holds exactly the deltas up to that number.

        Returns:
            Whether a snapshot was queued (``False`` while the book is not valid).
        """
        book = self.books.get(symbol)
        if book is None or not book.is_valid:
            return False
        self._snapshot_due.discard(symbol)
        subject = snapshot_subject("book", symbol)
        headers = {
            HDR_EPOCH: self.epoch,
            HDR_SEQ: str(self._seq.get(data_subject("book", symbol), 0)),
            HDR_DEPTH: str(book.depth),
            HDR_RECEIVED: str(time.time_ns()),
        }
        if book.price_precision is not None:
            headers[HDR_PRICE_PRECISION] = str(book.price_precision)
        if book.qty_precision is not None:
            headers[HDR_QTY_PRECISION] = str(book.qty_precision)
        self._outbox.append(_Out(subject, snapshot_frame(book).encode(), headers))
        self._wake.set()
        return True

    async def _publisher(self) -> None:
        outbox = self._outbox
        while True:
            await self._wake.wait()
            self._wake.clear()
            nc = self.nc
            assert nc is not None
            while outbox:
                out = outbox[0]
                try:
                    await nc.publish(out.subject, out.payload, headers=out.headers)
                except asyncio.CancelledError:
                    raise
                except Exception as exc:
                    # Disconnected with a full reconnect buffer: the message is lost. Consumers
                    # see the hole in Kraken-Seq and resync; a fresh snapshot follows.
                    self._publish_errors += 1
                    _log.warning("publish to %s failed: %s", out.subject, exc)
                    self._snapshot_due.update(self.books)
                outbox.popleft()
                self._published += 1
                if out.received_ns:
                    self._lags.append((time.time_ns() - out.received_ns) / 1e6)

    async def _private_publisher(self) -> None:
        queue = self._private
        while True:
            await self._private_wake.wait()
            self._private_wake.clear()
            js = self.js
            assert js is not None
            while queue:
                out = queue[0]
                try:
                    await js.publish(
                        out.subject, out.payload, headers=out.headers, stream=PRIVATE_STREAM
                    )
                except asyncio.CancelledError:
                    raise
                except Exception as exc:
                    # Never drop account data: retry (the message id makes a retry harmless).
                    self._publish_errors += 1
                    _log.warning("private publish to %s failed (%s); retrying", out.subject, exc)
                    await asyncio.sleep(0.2)
                    continue
                queue.popleft()
                self._private_published += 1

    # --- snapshots, health, silent subscriptions ------------------------------------------------

    async def _snapshot_requested(self, msg: _nats.Msg) -> None:
        symbol = msg.data.decode(errors="replace")
        self._snapshot_due.add(symbol)
        ok = self.publish_snapshot(symbol)
        if msg.reply:
            await msg.respond(b"ok" if ok else b"not valid")

    async def _nats_reconnected(self) -> None:
        # Core publishes in flight during the outage may be lost: a fresh snapshot of every
        # book gives consumers that saw a hole a point to resume from.
        self._snapshot_due.update(self.books)

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
                self._snapshot_due.update(self.books)
            for symbol in list(self._snapshot_due):
                self.publish_snapshot(symbol)
            await self._check_silent(now)
            nc = self.nc
            if nc is not None and nc.is_connected:
                with contextlib.suppress(Exception):
                    await nc.publish(HEALTH, self.health().to_json())

    async def _check_silent(self, now: float) -> None:
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
        if sub.channel == "book":
            depth = self.config.books[sub.symbol]
            unsub = BookUnsubscribeParams(symbol=[sub.symbol], depth=depth)  # type: ignore[arg-type]
            resub = BookSubscribeParams(symbol=[sub.symbol], depth=depth, snapshot=True)  # type: ignore[arg-type]
        elif sub.channel == "trade":
            unsub = TradeUnsubscribeParams(symbol=[sub.symbol])
            resub = TradeSubscribeParams(symbol=[sub.symbol])
        else:
            unsub = TickerUnsubscribeParams(symbol=[sub.symbol])
            resub = TickerSubscribeParams(symbol=[sub.symbol])
        try:
            with contextlib.suppress(Exception):
                await client.unsubscribe(unsub)
            await client.subscribe(resub)
        except Exception as exc:
            _log.warning("%s %s: resubscribe failed: %s", sub.channel, sub.symbol, exc)

    def health(self) -> GatewayHealth:
        """The gateway's health now (also published on ``kraken.gw.health``)."""
        now = self.clock()
        lags, self._lags = self._lags, []
        lags.sort()
        client = self.client
        connections: dict[str, str] = {}
        if client is not None:
            for endpoint in self._endpoints():
                connections[endpoint] = client.connection_state(endpoint).value
        return GatewayHealth(
            epoch=self.epoch,
            time=time.time(),
            nats_connected=self.nc is not None and self.nc.is_connected,
            connections=connections,
            subscriptions=[
                SubscriptionHealth(
                    s.channel,
                    s.symbol,
                    round(now - s.last_frame, 3),
                    s.frames,
                    None if s.channel != "book" else self._book_valid(s.symbol),
                )
                for s in self._subs.values()
            ],
            published=self._published,
            private_published=self._private_published,
            publish_errors=self._publish_errors,
            outbox=len(self._outbox) + len(self._private),
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
        return used

    def _book_valid(self, symbol: str) -> bool:
        book = self.books.get(symbol)
        return book is not None and book.is_valid


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
        if await _accepts_anonymous(server):
            raise GatewayConfigError(
                f"{_nats.without_credentials(server)} accepts clients without credentials: "
                "private channels (executions, balances) would be readable by anyone. Configure "
                "NATS users and permissions (docs/deployment.md), or pass "
                "allow_anonymous_private=True (--allow-anonymous-private) to publish anyway"
            )


async def _accepts_anonymous(server: str) -> bool:
    # The NATS protocol by hand (INFO, CONNECT with no credentials, PING): PONG means the
    # server let us in, -ERR that it did not. A plain socket, so nothing is left open.
    parts = urlsplit(server if "://" in server else f"nats://{server}")
    try:
        reader, writer = await asyncio.open_connection(parts.hostname, parts.port or 4222)
    except OSError:
        return False  # unreachable now: the real connection reports it
    try:
        async with asyncio.timeout(5.0):
            await reader.readline()  # INFO
            writer.write(b'CONNECT {"verbose":false,"pedantic":false}\r\nPING\r\n')
            await writer.drain()
            answer = await reader.readline()
        return answer.startswith(b"PONG")
    except (OSError, TimeoutError):
        return False
    finally:
        writer.close()
        with contextlib.suppress(OSError):
            await writer.wait_closed()
