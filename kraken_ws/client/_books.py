"""Live books, the client's side: readiness, resyncs on the connection's timer, clearing on loss.

The books themselves (apply, checksum, which symbol needs a resync and when, clearing on a lost
connection) are the pure `LiveBooks`. This module adds what needs
I/O: an `asyncio.Event` per book that ``client.book()`` waits on, and the resubscribe sent
when a book's resync is due (built by the protocol, sent by the connection's timer).

It also decides, for each ``book``/``level3`` frame, whether its typed event is needed
(`LiveBooks.wants_event`): the one place of the rule in docs/books.md#typed-events-of-a-live-book.
A plain frame (`kraken_ws.book.wire`) of a symbol whose book is tracked goes straight from the
connection to its book (`LiveBooks.book_frame`): a frame of a *quiet* book (kept by
``client.book()``/``client.level3()``, whose frames nobody subscribed to or asked for) that no
consumer would take never becomes a model; any other is validated and emitted from there. A
frame too unusual for `kraken_ws.book.wire` takes the typed path, where the same rule decides
whether it is emitted (`LiveBooks.feed`).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterable
from typing import Any, Protocol, cast

from pydantic import BaseModel

from ..book.l2 import OrderBook
from ..book.l3 import L3Book
from ..book.live import BookChannel
from ..book.live import LiveBooks as PureLiveBooks
from ..book.manager import BookEvent, BookUpdated, ResyncNeeded
from ..book.wire import L2Frame, WireFrame
from ..book.wire import match as match_wire
from ..book.wire import read as read_wire
from ..events import BookResync, Endpoint
from ..exceptions import InvalidState, RequestTimeout
from ..models.channels.book import BookSnapshot, BookUpdate
from ..models.channels.level3 import Level3Snapshot, Level3Update
from ..protocol import codec
from ._connection import Connection
from ._queue import EventQueue
from .types import ClientEvent

__all__ = ["BooksOwner", "LiveBooks"]

_log = logging.getLogger("kraken_ws.client")

_BOOK_FRAMES = frozenset({BookSnapshot, BookUpdate, Level3Snapshot, Level3Update})
_ENDPOINT_OF: dict[BookChannel, Endpoint] = {"book": "public", "level3": "l3"}
_CHANNEL_OF: dict[Endpoint, BookChannel] = {"public": "book", "l3": "level3"}


class BooksOwner(Protocol):
    """What `LiveBooks` needs from the client."""

    def emit(self, event: ClientEvent) -> None:
        """Hand an event to every consumer."""
        ...

    def cached_token(self) -> str | None:
        """The current token, if one is cached (level3 resubscribes need it)."""
        ...

    def connection(self, endpoint: Endpoint) -> Connection | None:
        """An endpoint's connection, if it was ever used."""
        ...

    @property
    def queues(self) -> list[EventQueue]:
        """Every consumer's queue (the client's own and each ``events()`` stream)."""
        ...


class LiveBooks:
    """Every live L2 and L3 book of one client.

    Args:
        owner: The client.
        resync_interval: Minimum seconds between two resyncs of one book.
    """

    def __init__(self, owner: BooksOwner, *, resync_interval: float) -> None:
        self.owner = owner
        self.books = PureLiveBooks(resync_interval=resync_interval)
        self.managers = self.books.managers
        self._ready: dict[tuple[str, str], asyncio.Event] = {}
        # Books whose typed events were asked for (book(..., events=True)), and book/level3
        # symbols subscribed with subscribe(): their frames are events for every consumer.
        self._loud: set[tuple[str, str]] = set()
        self._subscribed: set[tuple[str, str]] = set()
        # Tracked books that are neither: their frames become events only for a consumer that
        # takes them (book_frame).
        # (per channel: a symbol lookup per frame, no key tuple to build)
        self._quiet: dict[str, set[str]] = {"book": set(), "level3": set()}

    def book(self, channel: BookChannel, symbol: str) -> OrderBook | L3Book | None:
        """The tracked book, if any."""
        return self.books.book(channel, symbol)

    def track(self, channel: BookChannel, symbol: str, depth: int, *, events: bool = False) -> bool:
        """Start tracking a book; ``False`` if it is tracked already at this depth.

        Args:
            channel: ``"book"`` or ``"level3"``.
            symbol: The pair.
            depth: The subscribed depth.
            events: Its typed events are wanted by every consumer, ``on_event`` included
                (sticky: a later call without it does not take it back).

        Raises:
            InvalidState: It is tracked at another depth.
        """
        key = (channel, symbol)
        if events:
            self._loud.add(key)
        existing = self.books.book(channel, symbol)
        if existing is not None:
            if existing.depth != depth:
                raise InvalidState(
                    f"{symbol} already has a {channel} book of depth {existing.depth}"
                )
            self._refresh(key)
            return False
        self.books.track(channel, symbol, depth)
        self._ready[key] = asyncio.Event()
        self._refresh(key)
        return True

    def untrack(self, channel: BookChannel, symbol: str) -> None:
        """Stop tracking (its subscription failed)."""
        self.books.untrack(channel, symbol)
        self._ready.pop((channel, symbol), None)
        self._loud.discard((channel, symbol))
        self._refresh((channel, symbol))

    def subscribed(self, channel: str, symbols: list[str], *, subscribed: bool = True) -> None:
        """The user (un)subscribed ``book``/``level3`` frames of ``symbols`` with ``subscribe()``.

        Called before the request is sent, so that no frame after its ack is missed: the
        frames of a subscribed symbol are typed events for every consumer, as for any channel.
        """
        if channel != "book" and channel != "level3":
            return
        for symbol in symbols:
            key = (channel, symbol)
            if subscribed:
                self._subscribed.add(key)
            else:
                self._subscribed.discard(key)
            self._refresh(key)

    def _refresh(self, key: tuple[str, str]) -> None:
        if key in self._ready and key not in self._loud and key not in self._subscribed:
            self._quiet[key[0]].add(key[1])
        else:
            self._quiet[key[0]].discard(key[1])

    def book_frame(self, conn: Connection, obj: Any, now: float) -> bool:
        """Apply a plain book frame (`kraken_ws.book.wire`) straight to its book.

        The one place that routes a ``book``/``level3`` frame past the protocol's general
        dispatch. A frame of a quiet book that no consumer takes (`wants_event`) becomes no model
        at all. Any other plain frame is validated into its model (which accepts it: `read`
        accepts nothing its model refuses) for the consumers, while the engine is fed the same
        wire values, and the model goes to `BooksOwner.emit` directly: what the typed path
        (``receive_message``, ``ChannelData``, ``protocol_event``, `feed`) does for it, in that
        order (apply, resync events, then the frame), at a third of the calls.

        Args:
            conn: The connection it came on.
            obj: The frame's text (tried first: a plain update of a quiet book is matched
                from its text, `kraken_ws.book.wire.match`, and never parsed), or its value from
                `kraken_ws.protocol.codec.parse` (then `kraken_ws.book.wire.read`).
            now: Current time.

        Returns:
            ``True`` when the frame was handled here (applied, or refused as unsubscribed by
            the protocol); ``False``: take the typed path, because no book is tracked or it is
            no plain book frame.
        """
        if not self._ready:
            return False  # no live book: not even worth reading the frame's shape
        channel: BookChannel
        frame: WireFrame | None
        message: BaseModel | None = None
        if type(obj) is str:
            # The text, before any parse: only a quiet book's frame can skip the parse (a typed
            # event is built from the parsed value), so with none the text is not even matched.
            if not self._quiet["book"]:
                return False
            frame = match_wire(obj)
            if frame is None:
                return False
            channel = "book"
            symbol = frame.symbol
            if self.wants_event(channel, symbol):
                return False  # the caller parses it and comes back with the value
        else:
            frame = read_wire(obj)
            if frame is None:
                return False
            channel = "book" if type(frame) is L2Frame else "level3"
            symbol = frame.symbol
            if self.wants_event(channel, symbol):
                # Looked up on the module at each call: tests count the frames validated.
                message = codec.decode_object(obj)
                if type(message) not in _BOOK_FRAMES:  # pragma: no cover (read's guarantee)
                    return False
        if conn.proto.receive_book(channel, symbol, now=now):
            # The manager itself, not books.feed_wire: the channel is known here already.
            event = self.managers[channel].feed_wire(frame)
            # A verified update needs nothing more here (the common case, without _handle).
            if event is not None and (type(event) is not BookUpdated or event.result.snapshot):
                self._handle((event,))
            if message is not None:
                self.owner.emit(cast("ClientEvent", message))
        return True

    async def wait_valid(
        self, channel: BookChannel, symbol: str, timeout: float
    ) -> OrderBook | L3Book:
        """Wait for the book's next verified snapshot (at once if it is valid).

        Raises:
            RequestTimeout: None within ``timeout``.
        """
        try:
            async with asyncio.timeout(timeout):
                await self._ready[(channel, symbol)].wait()
        except TimeoutError:
            raise RequestTimeout(
                f"no valid {channel} snapshot for {symbol} within {timeout}s"
            ) from None
        book = self.book(channel, symbol)
        assert book is not None
        return book

    def feed(self, message: BaseModel) -> bool:
        """Apply a book, level3 or instrument frame; emit a ``BookResync`` for a failed book.

        Returns:
            Whether the frame is a typed event for the consumers: ``False`` for a frame of
            quiet books that no consumer takes (`wants_event`), however it came (a large
            snapshot, or a frame too unusual for the fast path).
        """
        self._handle(self.books.feed(message))
        quiet = self._quiet
        if (not quiet["book"] and not quiet["level3"]) or type(message) not in _BOOK_FRAMES:
            return True  # the usual case of the typed path: no quiet book to ask about
        frame = cast("BookSnapshot | BookUpdate | Level3Snapshot | Level3Update", message)
        items = frame.data
        return not items or any(self.wants_event(frame.channel, item.symbol) for item in items)

    def wants_event(self, channel: BookChannel, symbol: str) -> bool:
        """Whether a ``channel`` frame of ``symbol`` must become a typed event now.

        The rule of docs/books.md#typed-events-of-a-live-book, for both paths: yes unless the
        symbol's book is quiet (kept by ``book()``/``level3()`` without ``events=True``, and not
        subscribed with ``subscribe()``) and no consumer's queue takes it
        (`EventQueue.wants`).
        """
        if symbol not in self._quiet[channel]:
            return True
        for queue in self.owner.queues:  # noqa: SIM110 (a loop, not any(): no generator per frame)
            if queue.wants(channel, symbol):
                return True
        return False

    def _handle(self, events: Iterable[BookEvent]) -> None:
        for event in events:
            if isinstance(event, BookUpdated):
                if event.result.snapshot:
                    ready = self._ready.get((event.channel, event.symbol))
                    if ready is not None:
                        ready.set()
            elif isinstance(event, ResyncNeeded):
                self._resync_needed(event)

    def _resync_needed(self, event: ResyncNeeded) -> None:
        _log.warning("%s %s: %s; resyncing", event.channel, event.symbol, event.reason)
        ready = self._ready.get((event.channel, event.symbol))
        if ready is not None:
            ready.clear()
        self.owner.emit(BookResync(event.channel, event.symbol, event.reason))
        conn = self.owner.connection(_ENDPOINT_OF[event.channel])
        if conn is not None:
            conn.wake.set()  # its timer sends the resubscribe when the pacing allows

    def connection_lost(self, endpoint: Endpoint) -> None:
        """An endpoint's socket went: its books missed updates, so none may be read."""
        channel = _CHANNEL_OF.get(endpoint)
        if channel is None:
            return
        for symbol in self.books.connection_lost(channel):
            ready = self._ready.get((channel, symbol))
            if ready is not None:
                ready.clear()

    def next_resync(self, conn: Connection) -> float | None:
        """When a book of this connection is next due for a resync, if any."""
        channel = _CHANNEL_OF.get(conn.endpoint)
        if channel is None or not conn.opened.is_set():
            return None
        at = self.books.next_resync_at(channel)
        return None if at is None else max(at, 0.0)

    def resync_due(self, conn: Connection, now: float) -> None:
        """Queue the resubscribe of every book of this connection whose resync is due."""
        channel = _CHANNEL_OF.get(conn.endpoint)
        if channel is None or not conn.opened.is_set():
            return
        for symbol in self.books.resync_due(channel, now):
            # level3: the connection is authenticated already; the cached token is still valid.
            token = self.owner.cached_token() if channel == "level3" else None
            try:
                conn.proto.resubscribe(channel, symbol, now=now, token=token)
            except (InvalidState, ValueError) as exc:
                _log.warning("%s %s: resync not sent: %s", channel, symbol, exc)
