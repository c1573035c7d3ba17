"""`Subscriber`: the gateway's streams as the same typed events and live books as the client.

```python
async with Subscriber("nats://127.0.0.1:4222") as sub:
    book = await sub.book("BTC/USD", depth=100)     # live, verified: like client.book()
    async for event in sub.events(channel="trade", symbol="BTC/USD"):
        ...
```

**Books.** `book` reads ``kraken.snap.book.<SYMBOL>`` (the gateway's last verified book, at a
known stream sequence) and consumes the stream from there with a JetStream ordered consumer:
the snapshot and every delta after it, no gap. Each frame is decoded with the same `decode` and
applied by the same `OrderBook` engine as in `KrakenWSClient`, checksum included. The gateway
numbers the messages of each subject (``Kraken-Seq``, per ``Kraken-Epoch``); a hole (messages
lost on the way, a gateway restart) or a checksum failure here resyncs the book from the latest
stored snapshot (or the next one, asked of the gateway), never from Kraken: a `GatewayGap`
(or ``BookResync``) event says so, and ``book.is_valid`` is false until then.

**Events.** `events` subscribes the subjects of a channel (and symbol) and yields each frame
decoded to its model, plus the lifecycle events (`GatewayStarted`, ``Connected``, ...).
``async for event in sub`` yields everything the subscriber receives. Market data may be dropped
oldest-first for a reader that falls ``max_queue`` behind; account data and lifecycle never.

**Account data.** ``events(channel="executions", durable="risk")`` reads through a durable
JetStream consumer: a fill published while the reader was down is delivered when it comes back,
and a fill is acknowledged only when the reader asks for the next one. Subjects and streams
of account data are protected by NATS permissions: a user without the right gets
`GatewayPermissionError`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import deque
from collections.abc import AsyncIterator, Callable
from typing import Any, TypeAlias, cast

from pydantic import BaseModel

from ..book.l2 import ApplyResult, OrderBook
from ..book.l3 import L3Book
from ..book.live import BookChannel
from ..events import BookResync
from ..exceptions import DecodeError, InvalidState, KrakenWSError, RequestTimeout
from ..models.channels.book import BookSnapshot, BookUpdate
from ..models.channels.level3 import Level3Snapshot, Level3Update
from ..models.common import BOOK_DEPTHS, L3_DEPTHS, PRIVATE_CHANNELS
from ..models.messages import ChannelFrame
from ..protocol.codec import decode
from . import _nats
from .events import GatewayEvent, GatewayGap, event_from_json
from .subjects import (
    EVENTS,
    HDR_BOOK,
    HDR_CONN,
    HDR_DEPTH,
    HDR_EPOCH,
    HDR_PRICE_PRECISION,
    HDR_QTY_PRECISION,
    HDR_SEQ,
    MD_STREAM,
    PRIVATE_STREAM,
    SNAPSHOT_REQUEST,
    data_subject,
    private_subject,
    snapshot_subject,
)

__all__ = ["GatewayPermissionError", "Subscriber", "SubscriberEvent"]

_log = logging.getLogger("kraken_ws.gateway")

SubscriberEvent: TypeAlias = ChannelFrame | GatewayEvent
"""What a `Subscriber` yields: a typed channel frame or a lifecycle event."""


class GatewayPermissionError(KrakenWSError, PermissionError):
    """The NATS server refused this user a subject (account data needs the right to read it)."""


class _Queue:
    """One reader's queue: market data dropped oldest-first past ``maxsize``, nothing else."""

    def __init__(self, maxsize: int, accept: Callable[[SubscriberEvent], bool] | None) -> None:
        self.maxsize = maxsize
        self.accept = accept
        self.items: deque[SubscriberEvent] = deque()
        self.ready = asyncio.Event()
        self.closed = False
        self.dropped = 0
        self.subject: str | None = None
        self.error: BaseException | None = None

    def fail(self, error: BaseException) -> None:
        """End the queue with ``error`` (its reader gets it at the next event)."""
        self.error = error
        self.ready.set()

    def put(self, event: SubscriberEvent) -> None:
        if self.closed or (self.accept is not None and not self.accept(event)):
            return
        if len(self.items) >= self.maxsize and isinstance(event, BaseModel):
            channel = getattr(event, "channel", None)
            if channel not in PRIVATE_CHANNELS:
                for i, old in enumerate(self.items):
                    if (
                        isinstance(old, BaseModel)
                        and getattr(old, "channel", None) not in PRIVATE_CHANNELS
                    ):
                        del self.items[i]
                        self.dropped += 1
                        break
        self.items.append(event)
        self.ready.set()

    async def get(self) -> SubscriberEvent:
        while not self.items:
            if self.error is not None:
                raise self.error
            if self.closed:
                raise StopAsyncIteration
            self.ready.clear()
            await self.ready.wait()
        return self.items.popleft()


def _refuses(error: str, subject: str) -> bool:
    # nats-py reports the server's -ERR in lower case.
    error = error.lower()
    return "permissions violation for subscription" in error and f'"{subject.lower()}"' in error


def _symbol_of(event: object) -> str | None:
    symbol = getattr(event, "symbol", None)
    if isinstance(symbol, str):
        return symbol
    data = getattr(event, "data", None)
    if isinstance(data, list) and data:
        symbol = getattr(data[0], "symbol", None)
        if isinstance(symbol, str):
            return symbol
    return None


_BookMessage: TypeAlias = BookSnapshot | BookUpdate | Level3Snapshot | Level3Update


def _book_message(channel: BookChannel, message: BaseModel) -> _BookMessage | None:
    """``message`` if it is a frame of ``channel``'s books, else ``None``."""
    if channel == "book" and isinstance(message, BookSnapshot | BookUpdate):
        return message
    if channel == "level3" and isinstance(message, Level3Snapshot | Level3Update):
        return message
    return None


def _apply(book: OrderBook | L3Book, message: BaseModel) -> ApplyResult:
    # The same engines as the client's: an L2 frame to an OrderBook, a level3 one to an L3Book.
    if isinstance(book, OrderBook) and isinstance(message, BookSnapshot | BookUpdate):
        return book.apply(message)
    if isinstance(book, L3Book) and isinstance(message, Level3Snapshot | Level3Update):
        return book.apply(message)
    raise TypeError(f"{type(message).__name__} is not a frame of {book!r}")


class _BookFeed:
    """One live book fed from the stream (see the module docstring)."""

    def __init__(self, sub: Subscriber, channel: BookChannel, symbol: str, depth: int) -> None:
        self.sub = sub
        self.channel: BookChannel = channel
        self.symbol = symbol
        self.book: OrderBook | L3Book = (
            OrderBook(symbol, depth) if channel == "book" else L3Book(symbol, depth)
        )
        self.delta_subject = data_subject(channel, symbol)
        self.snap_subject = snapshot_subject(channel, symbol)
        self.epoch: str | None = None
        self.conn: str | None = None
        self.seq = 0
        self.last_stream_seq = 0
        self.synced = False
        self.ready = asyncio.Event()
        self.error: BaseException | None = None
        self.js_sub: Any = None
        self.generation = 0
        self.resync_task: asyncio.Task[None] | None = None
        self.resyncs = 0

    async def start(self) -> None:
        """Start at the stored snapshot; retried until the caller's deadline cancels it.

        A gateway not started yet (no stream: no responders) or a cluster that just lost a
        node (JetStream answers late for a few seconds) is waited for, not an error.
        """
        delay = 0.1
        while True:
            try:
                start = await self.sub._last_snapshot_seq(self.snap_subject)
                await self._consume_from(start)
                return
            except (_nats.TimeoutError, _nats.APIError, _nats.NoRespondersError) as exc:
                _log.info("%s: JetStream not ready (%s); retrying", self.symbol, exc)
                await asyncio.sleep(delay)
                delay = min(delay * 2, 2.0)

    async def stop(self) -> None:
        if self.resync_task is not None:
            self.resync_task.cancel()
        js_sub, self.js_sub = self.js_sub, None
        if js_sub is not None:
            with contextlib.suppress(Exception):
                await js_sub.unsubscribe()

    async def _consume_from(self, start_seq: int | None) -> None:
        """(Re)start the ordered consumer at a stored snapshot (or at new messages)."""
        await self.stop_consumer()
        self.generation += 1
        generation = self.generation
        js = self.sub._js()
        api = _nats.api
        config = api.ConsumerConfig(
            filter_subjects=[self.delta_subject, self.snap_subject],
            deliver_policy=(
                api.DeliverPolicy.BY_START_SEQUENCE if start_seq else api.DeliverPolicy.NEW
            ),
            opt_start_seq=start_seq or None,
        )

        async def on_msg(msg: _nats.Msg) -> None:
            if generation == self.generation:
                self.on_message(msg)

        self.js_sub = await js.subscribe(
            self.delta_subject,
            stream=MD_STREAM,
            cb=on_msg,
            ordered_consumer=True,
            idle_heartbeat=self.sub.idle_heartbeat,
            config=config,
        )
        if not start_seq:
            # No stored snapshot yet: ask for one (the gateway may be up and valid already).
            self.sub._request_snapshot(self.channel, self.symbol)

    def restart(self) -> None:
        """Forget the stream position: the next `start` begins at the newest snapshot."""
        self._unsync()
        self.ready.clear()
        self.epoch, self.conn, self.seq, self.last_stream_seq = None, None, 0, 0

    async def stop_consumer(self) -> None:
        js_sub, self.js_sub = self.js_sub, None
        if js_sub is not None:
            with contextlib.suppress(Exception):
                await js_sub.unsubscribe()

    # --- one message ----------------------------------------------------------------------------

    def on_message(self, msg: _nats.Msg) -> None:
        headers = msg.headers or {}
        epoch = headers.get(HDR_EPOCH)
        seq = int(headers.get(HDR_SEQ, "0"))
        stream_seq = msg.metadata.sequence.stream
        if msg.subject == self.snap_subject:
            self._snapshot_message(msg, headers, epoch, seq, stream_seq)
            return
        status = headers.get(HDR_BOOK, "ok")
        conn = headers.get(HDR_CONN)
        if self.synced:
            if epoch != self.epoch:
                self._gap("gateway restarted", self.seq + 1, seq)
            elif seq <= self.seq:
                return  # delivered twice (a publisher retry): applied already
            elif seq != self.seq + 1:
                self._gap("missing messages", self.seq + 1, seq)
        if status == "lost":
            # The gateway lost Kraken: its book went stale, and so does ours until a snapshot.
            self._lose("gateway lost its Kraken connection")
            return
        if not msg.data:
            return
        try:
            decoded = decode(msg.data)
        except DecodeError as exc:
            _log.warning("%s: undecodable frame: %s", self.symbol, exc)
            return
        message = _book_message(self.channel, decoded)
        if message is None:
            return
        if not self.synced:
            # Waiting for a snapshot: Kraken's own (after a gateway restart or resync) will do.
            if message.type == "snapshot" and status == "ok":
                self._apply_snapshot(message, epoch, seq, stream_seq, conn)
            return
        if status != "ok" or (
            conn is not None
            and self.conn is not None
            and conn != self.conn
            and message.type != "snapshot"
        ):
            # The gateway's own book failed (it resubscribes at Kraken), or a new Kraken
            # connection started without a snapshot: wait for the snapshot that follows.
            self._lose(f"gateway book {status}")
            return
        self.seq, self.last_stream_seq, self.conn = seq, stream_seq, conn
        result = _apply(self.book, message)
        self.sub._emit(message)
        if not result.checksum_ok:
            self.sub._emit(BookResync(self.channel, self.symbol, "checksum mismatch"))
            self._unsync()
            self._resync()

    def _snapshot_message(
        self, msg: _nats.Msg, headers: dict[str, str], epoch: str | None, seq: int, stream_seq: int
    ) -> None:
        if self.synced and epoch == self.epoch and seq <= self.seq:
            return  # what we have already (a stored snapshot passing by in the stream)
        if self.synced and epoch == self.epoch:
            # A snapshot comes after every delta it holds: one ahead of us means deltas were
            # lost on the way (a stream without a leader for a moment). It is the resync point.
            self.sub._emit(
                GatewayGap(self.channel, self.symbol, "missing messages", self.seq + 1, seq)
            )
            self._unsync()
        depth = int(headers.get(HDR_DEPTH, "0"))
        if depth and depth != self.book.depth:
            self.error = InvalidState(
                f"the gateway publishes {self.symbol} at depth {depth}; ask for depth={depth}"
            )
            self.ready.set()
            return
        price = headers.get(HDR_PRICE_PRECISION)
        qty = headers.get(HDR_QTY_PRECISION)
        self.book.set_precision(
            None if price is None else int(price), None if qty is None else int(qty)
        )
        try:
            decoded = decode(msg.data)
        except DecodeError as exc:
            _log.warning("%s: undecodable snapshot: %s", self.symbol, exc)
            return
        message = _book_message(self.channel, decoded)
        if message is not None and message.type == "snapshot":
            self._apply_snapshot(message, epoch, seq, stream_seq, None)

    def _apply_snapshot(
        self,
        message: _BookMessage,
        epoch: str | None,
        seq: int,
        stream_seq: int,
        conn: str | None,
    ) -> None:
        result = _apply(self.book, message)
        if not result.checksum_ok:
            _log.warning("%s: snapshot failed its checksum; waiting for the next", self.symbol)
            return
        self.synced = True
        self.epoch, self.seq, self.last_stream_seq = epoch, seq, stream_seq
        if conn is not None:
            self.conn = conn
        self.ready.set()
        self.sub._emit(message)

    # --- losing and finding the thread ----------------------------------------------------------

    def _unsync(self) -> None:
        self.synced = False
        self.book.clear()

    def _lose(self, reason: str) -> None:
        if self.synced:
            self.sub._emit(BookResync(self.channel, self.symbol, reason))
        self._unsync()

    def _gap(self, reason: str, expected: int, received: int) -> None:
        self.sub._emit(GatewayGap(self.channel, self.symbol, reason, expected, received))
        self._unsync()
        self._resync()

    def _resync(self) -> None:
        if self.resync_task is None or self.resync_task.done():
            self.resyncs += 1
            self.resync_task = asyncio.get_running_loop().create_task(self._resync_now())

    async def _resync_now(self) -> None:
        # A stored snapshot newer than the last message we applied holds whatever we missed:
        # restart there. An older one cannot: ask the gateway for a fresh one, which arrives
        # in the stream we are reading.
        try:
            start = await self.sub._last_snapshot_seq(self.snap_subject)
            if self.synced:
                return
            if start is not None and start > self.last_stream_seq:
                await self._consume_from(start)
            else:
                self.sub._request_snapshot(self.channel, self.symbol)
        except Exception as exc:
            _log.warning("%s: resync failed (%s); waiting for the next snapshot", self.symbol, exc)


class Subscriber:
    """A reader of a `Gateway`'s streams (see the module docstring).

    Args:
        nats_url: One NATS URL or several, comma separated; credentials may be in it.
        name: The connection's name (shown in NATS monitoring).
        max_queue: Market-data events a reader may lag behind before the oldest are dropped.
        idle_heartbeat: Seconds between JetStream heartbeats of each book's consumer (a
            consumer lost with a cluster node is recreated after two missed ones).
        on_event: Called with every event the subscriber receives (books' frames, lifecycle,
            ``events()`` subscriptions), as an alternative to iterating; keep it fast, an
            exception it raises is logged and ignored.
        nats_options: More keyword arguments for ``nats.connect``.
    """

    def __init__(
        self,
        nats_url: str,
        *,
        name: str = "kraken-ws-subscriber",
        max_queue: int = 10_000,
        idle_heartbeat: float = 1.0,
        on_event: Callable[[SubscriberEvent], None] | None = None,
        nats_options: dict[str, Any] | None = None,
    ) -> None:
        self.nats_url = nats_url
        self.name = name
        self.max_queue = max_queue
        self.idle_heartbeat = idle_heartbeat
        self.on_event = on_event
        self._nats_options = dict(nats_options or {})
        self.nc: _nats.Client | None = None
        self._feeds: dict[tuple[BookChannel, str], _BookFeed] = {}
        self._queues: list[_Queue] = []
        self._main = _Queue(max_queue, None)
        self._queues.append(self._main)
        self._core_subs: dict[str, Any] = {}
        self._errors: list[str] = []
        self._tasks: set[asyncio.Future[Any]] = set()

    async def __aenter__(self) -> Subscriber:
        await self.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close()

    async def start(self) -> None:
        """Connect (idempotent) and start reading lifecycle events.

        Restartable: after `close`, ``start`` again resumes every book asked for before (the
        same `OrderBook` objects, rebuilt from the newest stored snapshot) and a fresh
        ``async for event in sub`` stream; ``events()`` streams ended with the close.
        """
        if self.nc is not None:
            return
        if self._main.closed:
            self._main = _Queue(self.max_queue, None)
            self._queues = [self._main]
        options: dict[str, Any] = {"inbox_prefix": _nats.inbox_prefix(self.nats_url)}
        options.update(self._nats_options)
        self.nc = await _nats.connect(
            self.nats_url, name=self.name, error_cb=self._on_error, **options
        )
        await self._core_subscribe(EVENTS, self._on_event_msg)
        for feed in self._feeds.values():
            self._spawn(feed.start())

    async def close(self) -> None:
        """Stop every feed, end every iterator and disconnect (`start` resumes)."""
        for feed in self._feeds.values():
            await feed.stop()
            feed.restart()
        for task in list(self._tasks):
            task.cancel()
        for queue in self._queues:
            queue.closed = True
            queue.ready.set()
        self._core_subs.clear()
        nc, self.nc = self.nc, None
        if nc is not None:
            with contextlib.suppress(Exception):
                await nc.close()

    def _client(self) -> _nats.Client:
        if self.nc is None:
            raise InvalidState("the subscriber is not started (use it with 'async with')")
        return self.nc

    def _js(self) -> _nats.JetStreamContext:
        return self._client().jetstream()

    async def _on_error(self, error: Exception) -> None:
        text = str(error)
        self._errors.append(text)
        _log.warning("nats: %s", error)
        # The server may refuse a subscription after the round trip that checked it: the
        # stream reading that subject ends with the refusal instead of waiting forever.
        for queue in self._queues:
            if queue.subject is not None and _refuses(text, queue.subject):
                self._core_subs.pop(queue.subject, None)
                queue.fail(GatewayPermissionError(f"{queue.subject}: {text}"))

    # --- books ----------------------------------------------------------------------------------

    async def book(self, symbol: str, depth: int = 10, *, timeout: float = 10.0) -> OrderBook:
        """A live L2 book of ``symbol``, checksum-verified, from the gateway's stream.

        Like ``KrakenWSClient.book()``: returns once the first verified snapshot is applied; the
        same object stays live (``is_valid`` false while it resyncs).

        Args:
            symbol: The pair.
            depth: Levels per side: the depth the gateway publishes it at.
            timeout: Seconds to wait for the snapshot.

        Raises:
            ValueError: ``depth`` is not a book depth.
            InvalidState: The gateway publishes the book at another depth (or it was asked
                here at another depth).
            RequestTimeout: No verified snapshot within ``timeout``.
        """
        book = await self._live("book", symbol, depth, timeout, BOOK_DEPTHS)
        assert isinstance(book, OrderBook)
        return book

    async def level3(self, symbol: str, depth: int = 10, *, timeout: float = 10.0) -> L3Book:
        """A live order-by-order book of ``symbol`` from the gateway's stream.

        Like ``KrakenWSClient.level3()``; see `book` (the gateway must publish it: its
        ``level3`` setting).

        Raises:
            ValueError: ``depth`` is not a level3 depth.
            InvalidState: The gateway publishes the book at another depth.
            RequestTimeout: No verified snapshot within ``timeout``.
        """
        book = await self._live("level3", symbol, depth, timeout, L3_DEPTHS)
        assert isinstance(book, L3Book)
        return book

    async def _live(
        self,
        channel: BookChannel,
        symbol: str,
        depth: int,
        timeout: float,
        depths: tuple[int, ...],
    ) -> OrderBook | L3Book:
        if depth not in depths:
            raise ValueError(
                f"{channel} depth {depth!r}: allowed depths are {', '.join(map(str, depths))}"
            )
        key = (channel, symbol)
        feed = self._feeds.get(key)
        if feed is not None and feed.book.depth != depth:
            raise InvalidState(f"{symbol} already has a {channel} book of depth {feed.book.depth}")
        try:
            async with asyncio.timeout(timeout):
                if feed is None:
                    feed = self._feeds[key] = _BookFeed(self, channel, symbol, depth)
                    await feed.start()
                await feed.ready.wait()
        except TimeoutError:
            raise RequestTimeout(
                f"no verified {channel} snapshot of {symbol} from the gateway within {timeout}s"
            ) from None
        if feed.error is not None:
            error = feed.error
            await feed.stop()
            del self._feeds[key]
            raise error
        return feed.book

    async def _last_snapshot_seq(self, subject: str) -> int | None:
        try:
            msg = await self._js().get_last_msg(MD_STREAM, subject, direct=True)
        except _nats.NotFoundError:
            return None
        return msg.seq

    def _request_snapshot(self, channel: BookChannel, symbol: str) -> None:
        nc = self.nc
        if nc is not None:
            body = symbol if channel == "book" else f"{channel} {symbol}"
            self._spawn(nc.publish(SNAPSHOT_REQUEST, body.encode()))

    def _spawn(self, awaitable: Any) -> None:
        task = asyncio.ensure_future(awaitable)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    # --- events ---------------------------------------------------------------------------------

    def __aiter__(self) -> AsyncIterator[SubscriberEvent]:
        return self._iterate(self._main, remove=False)

    def events(
        self,
        channel: str | None = None,
        symbol: str | None = None,
        *,
        durable: str | None = None,
    ) -> AsyncIterator[SubscriberEvent]:
        """A new filtered stream of events from now on (each call has its own queue).

        Subscribes the subjects it needs: ``kraken.v2.<channel>.<SYMBOL>`` (every symbol when
        ``symbol`` is ``None``, every public channel when ``channel`` is ``None``), or the
        account-data subject for ``executions``/``balances``.

        Args:
            channel: Only frames of this channel (lifecycle events have no channel).
            symbol: Only frames with data for this symbol.
            durable: For ``executions``/``balances``: read through the durable JetStream
                consumer of this name (nothing missed across restarts; a message is
                acknowledged when the next one is asked for).

        Raises:
            GatewayPermissionError: The NATS user may not read these subjects.
        """
        if durable is not None:
            if channel not in PRIVATE_CHANNELS:
                raise ValueError(
                    f"durable= is for account data: channel must be one of "
                    f"{', '.join(sorted(PRIVATE_CHANNELS))}, not {channel!r}"
                )
            return self._durable(channel, durable)

        def accept(event: SubscriberEvent) -> bool:
            if channel is not None and getattr(event, "channel", None) != channel:
                return False
            return symbol is None or _symbol_of(event) in (symbol, None)

        queue = _Queue(self.max_queue, accept)
        self._queues.append(queue)
        # The subscription is sent now, not at the first iteration: frames published from
        # here on are queued (as client.events() starts "now"), and a refusal is raised by
        # the first iteration.
        subscribing = asyncio.ensure_future(self._subscribe_channel(channel, symbol))
        return self._subscribed_then(queue, subscribing)

    async def _subscribed_then(
        self, queue: _Queue, subscribing: asyncio.Future[str | None]
    ) -> AsyncIterator[SubscriberEvent]:
        try:
            queue.subject = await subscribing
        except BaseException:
            self._queues.remove(queue)
            raise
        async for event in self._iterate(queue, remove=True):
            yield event

    async def _subscribe_channel(self, channel: str | None, symbol: str | None) -> str | None:
        if channel in PRIVATE_CHANNELS:
            subject = private_subject(channel)
        elif channel is None:
            subject = "kraken.v2.>"
        elif symbol is None:
            subject = f"kraken.v2.{channel}.>"
        else:
            if (channel, symbol) in self._feeds:
                return None  # the live book's feed yields its frames already
            subject = data_subject(channel, symbol)
        await self._core_subscribe(subject, self._on_frame_msg)
        return subject

    async def _core_subscribe(self, subject: str, cb: Callable[[_nats.Msg], Any]) -> None:
        if subject in self._core_subs:
            return
        nc = self._client()
        before = len(self._errors)
        self._core_subs[subject] = await nc.subscribe(subject, cb=cb)
        await nc.flush()
        await asyncio.sleep(0)
        refused = [e for e in self._errors[before:] if _refuses(e, subject)]
        if refused:
            sub = self._core_subs.pop(subject)
            with contextlib.suppress(Exception):
                await sub.unsubscribe()
            raise GatewayPermissionError(f"{subject}: {refused[0]}")

    async def _on_frame_msg(self, msg: _nats.Msg) -> None:
        if not msg.data:
            return  # a gateway marker (book lost), not a frame
        if any(msg.subject == feed.delta_subject for feed in self._feeds.values()):
            return  # a live book's frame: its feed yields it, verified, once
        try:
            message = decode(msg.data)
        except DecodeError as exc:
            _log.warning("%s: undecodable frame: %s", msg.subject, exc)
            return
        self._emit(message)

    async def _on_event_msg(self, msg: _nats.Msg) -> None:
        event = event_from_json(msg.data)
        if event is not None:
            self._emit(event)

    def _emit(self, event: SubscriberEvent | BaseModel) -> None:
        for queue in self._queues:
            queue.put(event)  # type: ignore[arg-type]
        if self.on_event is not None:
            try:
                self.on_event(event)  # type: ignore[arg-type]
            except Exception:
                _log.exception("on_event callback failed")

    async def _iterate(self, queue: _Queue, *, remove: bool) -> AsyncIterator[SubscriberEvent]:
        try:
            while True:
                try:
                    yield await queue.get()
                except StopAsyncIteration:
                    return
        finally:
            if remove and queue in self._queues:
                self._queues.remove(queue)

    async def _durable(self, channel: str, durable: str) -> AsyncIterator[SubscriberEvent]:
        js = self._js()
        try:
            psub = await js.pull_subscribe(
                private_subject(channel), durable=durable, stream=PRIVATE_STREAM
            )
        except Exception as exc:
            refused = [str(exc), *self._errors]
            if any(
                "permission" in e.lower() and PRIVATE_STREAM.lower() in e.lower() for e in refused
            ):
                raise GatewayPermissionError(f"{private_subject(channel)}: {exc}") from exc
            raise
        while self.nc is not None:
            try:
                msgs = await psub.fetch(1, timeout=1.0)
            except TimeoutError:
                continue
            for msg in msgs:
                try:
                    message = decode(msg.data)
                except DecodeError as exc:
                    _log.warning("%s: undecodable frame: %s", msg.subject, exc)
                    await msg.ack()
                    continue
                yield cast("ChannelFrame", message)
                # Acknowledged once the reader comes back for more: a reader that dies while
                # handling a fill gets it again.
                await msg.ack()
