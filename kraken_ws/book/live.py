"""``LiveBooks``: every live L2 and L3 book of one consumer, keyed by ``(channel, symbol)``.

The one place for the loop every consumer of books runs: track a book when it is asked for,
feed it every frame (``book`` and ``level3`` frames to their book, ``instrument`` frames to both
kinds for their checksum precisions), hand out the resyncs that are due (paced per symbol by
`BookManager`), and clear every book of a channel when the
connection that fed it goes (the snapshot after the resubscription rebuilds them).

Pure like the rest of `kraken_ws.book`: no I/O, no clock (``now`` is passed in). The client
(`kraken_ws.client._books`) adds what needs I/O on top: an event per book to wait on, and the
resubscribe requests, which `KrakenProtocol.resubscribe
<kraken_ws.protocol.connection.KrakenProtocol.resubscribe>` builds. Replay
(`Replayer`) uses it with no I/O at all.
"""

from __future__ import annotations

from typing import Literal, TypeAlias

from pydantic import BaseModel

from .l2 import OrderBook
from .l3 import L3Book
from .manager import BookEvent, BookManager
from .wire import L2Frame, WireFrame

__all__ = ["BOOK_CHANNELS", "BookChannel", "LiveBooks"]

BookChannel: TypeAlias = Literal["book", "level3"]
"""The channels that carry books."""

BOOK_CHANNELS: tuple[BookChannel, ...] = ("book", "level3")


class LiveBooks:
    """Books of both kinds, fed decoded frames, with paced resyncs (see the module docstring).

    Args:
        resync_interval: Minimum seconds between two resyncs of one book.
        max_resync_interval: Cap of the interval, which doubles after each failed resync.
    """

    def __init__(self, *, resync_interval: float = 2.0, max_resync_interval: float = 60.0) -> None:
        self.managers: dict[BookChannel, BookManager] = {
            channel: BookManager(
                resync_interval=resync_interval, max_resync_interval=max_resync_interval
            )
            for channel in BOOK_CHANNELS
        }

    def book(self, channel: BookChannel, symbol: str) -> OrderBook | L3Book | None:
        """The book kept for ``(channel, symbol)``, if any."""
        return self.managers[channel].book(symbol)

    def symbols(self, channel: BookChannel) -> list[str]:
        """The symbols whose ``channel`` book is kept."""
        return self.managers[channel].symbols

    def track(self, channel: BookChannel, symbol: str, depth: int) -> OrderBook | L3Book:
        """Start keeping a book (replacing any kept for that channel and symbol)."""
        return self.managers[channel].track(symbol, depth, level3=channel == "level3")

    def untrack(self, channel: BookChannel, symbol: str) -> None:
        """Stop keeping a book."""
        self.managers[channel].untrack(symbol)

    def feed(self, message: BaseModel) -> list[BookEvent]:
        """Apply a decoded frame; other channels' frames are ignored.

        Returns:
            What happened to each book the frame touched (``BookUpdated``, ``ResyncNeeded``).
        """
        channel = getattr(message, "channel", None)
        if channel == "book" or channel == "level3":
            return self.managers[channel].feed(message)
        if channel == "instrument":
            return [e for m in self.managers.values() for e in m.feed(message)]
        return []

    def feed_wire(self, frame: WireFrame) -> BookEvent | None:
        """Apply a frame read by `kraken_ws.book.wire.read` (`feed` without its model).

        Returns:
            What happened to its book, if it is kept (`BookManager.feed_wire`).
        """
        return self.managers["book" if type(frame) is L2Frame else "level3"].feed_wire(frame)

    def connection_lost(self, channel: BookChannel) -> list[str]:
        """The connection that fed ``channel`` went: clear its books (none may be read).

        Returns:
            The symbols cleared.
        """
        manager = self.managers[channel]
        cleared = []
        for symbol in manager.symbols:
            book = manager.book(symbol)
            if book is not None:
                book.clear()
                cleared.append(symbol)
        return cleared

    def resync_due(self, channel: BookChannel, now: float) -> list[str]:
        """The symbols of ``channel`` to resubscribe now (each is then paced again)."""
        return self.managers[channel].resync_due(now)

    def next_resync_at(self, channel: BookChannel) -> float | None:
        """When a ``channel`` resync is next due, if any is pending."""
        return self.managers[channel].next_resync_at()
