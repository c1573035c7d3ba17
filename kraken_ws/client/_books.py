"""Live books, the client's side: readiness, resyncs on the connection's timer, clearing on loss.

The books themselves (apply, checksum, which symbol needs a resync and when, clearing on a lost
connection) are the pure `LiveBooks`. This module adds what needs
I/O: an `asyncio.Event` per book that ``client.book()`` waits on, and the resubscribe sent
when a book's resync is due (built by the protocol, sent by the connection's timer).
"""

from __future__ import annotations

import asyncio
import logging
from typing import Protocol

from pydantic import BaseModel

from ..book.l2 import OrderBook
from ..book.l3 import L3Book
from ..book.live import BookChannel
from ..book.live import LiveBooks as PureLiveBooks
from ..book.manager import BookUpdated, ResyncNeeded
from ..events import BookResync, Endpoint
from ..exceptions import InvalidState, RequestTimeout
from ._connection import Connection
from .types import ClientEvent

__all__ = ["BooksOwner", "LiveBooks"]

_log = logging.getLogger("kraken_ws.client")

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

    def book(self, channel: BookChannel, symbol: str) -> OrderBook | L3Book | None:
        """The tracked book, if any."""
        return self.books.book(channel, symbol)

    def track(self, channel: BookChannel, symbol: str, depth: int) -> bool:
        """Start tracking a book; ``False`` if it is tracked already at this depth.

        Raises:
            InvalidState: It is tracked at another depth.
        """
        existing = self.books.book(channel, symbol)
        if existing is not None:
            if existing.depth != depth:
                raise InvalidState(
                    f"{symbol} already has a {channel} book of depth {existing.depth}"
                )
            return False
        self.books.track(channel, symbol, depth)
        self._ready[(channel, symbol)] = asyncio.Event()
        return True

    def untrack(self, channel: BookChannel, symbol: str) -> None:
        """Stop tracking (its subscription failed)."""
        self.books.untrack(channel, symbol)
        self._ready.pop((channel, symbol), None)

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

    def feed(self, message: BaseModel) -> None:
        """Apply a book, level3 or instrument frame; emit a ``BookResync`` for a failed book."""
        for event in self.books.feed(message):
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
