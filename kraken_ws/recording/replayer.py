"""Replay: feed recorded frames through the decoder and the book engine, verifying checksums.

`Replayer` applies frames one at a time and keeps the books; `replay` drives it over
a file (paced or as fast as possible) and returns a `ReplaySummary`.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Collection
from dataclasses import dataclass, field
from typing import Literal

from ..book.l2 import BookView, OrderBook, PriceLevel
from ..book.live import BookChannel, LiveBooks
from ..book.manager import BookManager, BookUpdated, ResyncNeeded
from ..exceptions import DecodeError
from ..models.channels.book import BookSnapshot, BookSubscribeResult
from ..models.channels.level3 import Level3Snapshot, Level3SubscribeResult
from ..models.common import BOOK_DEPTHS
from ..models.messages import UnknownMessage
from ..models.methods.subscribe import SubscribeSuccess
from ..protocol.codec import decode
from .format import RecordedFrame, iter_recording

__all__ = ["BookSummary", "ReplaySummary", "Replayer", "replay"]


@dataclass(frozen=True, slots=True)
class BookSummary:
    """The final state of one book after a replay.

    Attributes:
        symbol: The pair.
        channel: ``"book"`` (L2) or ``"level3"``.
        depth: The depth it was kept at.
        verified: Messages whose checksum matched.
        failed: Checksum mismatches (and updates that arrived without a snapshot).
        valid: Whether the book was in sync at the end.
        best_bid: ``(price, qty)`` of the best bid at the end.
        best_ask: ``(price, qty)`` of the best ask at the end.
        checksum: The last checksum computed.
        view: An immutable copy of the final L2 book (``None`` for level3).
    """

    symbol: str
    channel: Literal["book", "level3"]
    depth: int
    verified: int
    failed: int
    valid: bool
    best_bid: PriceLevel | None
    best_ask: PriceLevel | None
    checksum: int | None
    view: BookView | None


@dataclass(frozen=True, slots=True)
class ReplaySummary:
    """What a replay saw.

    Attributes:
        frames: Frames read.
        channels: Frames per channel (such as ``"book"``) or method (such as ``"subscribe"``).
        unknown: Frames that are JSON but match no model.
        invalid: Frames that are not JSON.
        checksum_verified: Book messages whose checksum matched.
        checksum_failed: Checksum mismatches.
        books: The final state of every book kept.
        first_t: Receive time of the first frame (``None`` if there were none).
        last_t: Receive time of the last frame.
    """

    frames: int
    channels: dict[str, int]
    unknown: int
    invalid: int
    checksum_verified: int
    checksum_failed: int
    books: tuple[BookSummary, ...]
    first_t: float | None
    last_t: float | None

    @property
    def recorded_seconds(self) -> float:
        """Time between the first and the last frame of the recording."""
        if self.first_t is None or self.last_t is None:
            return 0.0
        return self.last_t - self.first_t

    def book(self, symbol: str, channel: Literal["book", "level3"] = "book") -> BookSummary:
        """The summary of one book.

        Args:
            symbol: The pair.
            channel: ``"book"`` or ``"level3"``.

        Returns:
            Its `BookSummary`.

        Raises:
            KeyError: No such book was kept.
        """
        for item in self.books:
            if item.symbol == symbol and item.channel == channel:
                return item
        raise KeyError(f"no {channel} book for {symbol} in this replay")


def _depth_for(levels: int, given: int | None) -> int:
    if given is not None:
        return given
    return next((d for d in BOOK_DEPTHS if d >= levels), BOOK_DEPTHS[-1])


@dataclass
class _Counts:
    verified: int = 0
    failed: int = 0


@dataclass
class Replayer:
    """Feeds frames through `decode` and `LiveBooks`.

    Books are kept for every ``book``/``level3`` subscription ack in the stream (at the acked
    depth), or from the first snapshot of a symbol without one. ``instrument`` frames set the
    checksum precisions. A checksum mismatch is counted; the book then waits for the next
    snapshot, as the live client's does.

    Args:
        symbols: Keep books only for these pairs (default: every pair in the stream).
        depth: Keep books at this depth instead of the acked one.
    """

    symbols: Collection[str] | None = None
    depth: int | None = None
    live: LiveBooks = field(default_factory=LiveBooks)
    """Every book, L2 and level3 (the same engine the live client keeps its books with)."""
    frames: int = 0
    unknown: int = 0
    invalid: int = 0
    channels: dict[str, int] = field(default_factory=dict)
    _counts: dict[tuple[str, str], _Counts] = field(default_factory=dict)
    _first_t: float | None = None
    _last_t: float | None = None

    @property
    def books(self) -> BookManager:
        """The L2 books (read them live while replaying)."""
        return self.live.managers["book"]

    @property
    def level3_books(self) -> BookManager:
        """The level3 books."""
        return self.live.managers["level3"]

    def _wanted(self, symbol: str) -> bool:
        return self.symbols is None or symbol in self.symbols

    def _track(self, channel: BookChannel, symbol: str, depth: int) -> None:
        existing = self.live.book(channel, symbol)
        if existing is None or existing.depth != depth:
            self.live.track(channel, symbol, depth)
            self._counts.setdefault((channel, symbol), _Counts())

    def feed(self, frame: RecordedFrame | str) -> None:
        """Decode one frame and apply it to the books.

        Args:
            frame: A recorded frame, or bare frame text.
        """
        if isinstance(frame, RecordedFrame):
            text = frame.text
            if self._first_t is None:
                self._first_t = frame.t
            self._last_t = frame.t
        else:
            text = frame
        self.frames += 1
        try:
            message = decode(text)
        except DecodeError:
            self.invalid += 1
            return
        if isinstance(message, UnknownMessage):
            self.unknown += 1
            return
        kind = getattr(message, "channel", None) or getattr(message, "method", None) or "other"
        self.channels[str(kind)] = self.channels.get(str(kind), 0) + 1
        if isinstance(message, SubscribeSuccess):
            result = message.result
            if isinstance(result, BookSubscribeResult) and self._wanted(result.symbol):
                depth = self.depth or result.depth or 10
                self._track("book", result.symbol, depth)
            elif isinstance(result, Level3SubscribeResult) and self._wanted(result.symbol):
                depth = self.depth or result.depth or 10
                self._track("level3", result.symbol, depth)
            return
        if isinstance(message, BookSnapshot):
            for data in message.data:
                if self._wanted(data.symbol) and self.books.book(data.symbol) is None:
                    levels = max(len(data.bids), len(data.asks))
                    self._track("book", data.symbol, _depth_for(levels, self.depth))
        elif isinstance(message, Level3Snapshot):
            for l3 in message.data:
                if self._wanted(l3.symbol) and self.level3_books.book(l3.symbol) is None:
                    levels = max(len(l3.bids), len(l3.asks))
                    self._track("level3", l3.symbol, _depth_for(levels, self.depth))
        events = self.live.feed(message)
        for event in events:
            counts = self._counts.setdefault((event.channel, event.symbol), _Counts())
            if isinstance(event, BookUpdated):
                counts.verified += 1
            elif isinstance(event, ResyncNeeded):
                counts.failed += 1

    @property
    def checksum_verified(self) -> int:
        """Book messages whose checksum matched so far."""
        return sum(c.verified for c in self._counts.values())

    @property
    def checksum_failed(self) -> int:
        """Checksum mismatches so far."""
        return sum(c.failed for c in self._counts.values())

    def summary(self) -> ReplaySummary:
        """What was replayed so far.

        Returns:
            A `ReplaySummary` with the final state of every book.
        """
        books: list[BookSummary] = []
        for (channel, symbol), counts in self._counts.items():
            manager = self.books if channel == "book" else self.level3_books
            book = manager.book(symbol)
            if book is None:
                continue
            books.append(
                BookSummary(
                    symbol=symbol,
                    channel="book" if channel == "book" else "level3",
                    depth=book.depth,
                    verified=counts.verified,
                    failed=counts.failed,
                    valid=book.is_valid,
                    best_bid=book.best_bid,
                    best_ask=book.best_ask,
                    checksum=book.last_checksum,
                    view=book.snapshot() if isinstance(book, OrderBook) else None,
                )
            )
        return ReplaySummary(
            frames=self.frames,
            channels=dict(self.channels),
            unknown=self.unknown,
            invalid=self.invalid,
            checksum_verified=self.checksum_verified,
            checksum_failed=self.checksum_failed,
            books=tuple(books),
            first_t=self._first_t,
            last_t=self._last_t,
        )


def replay(
    path: str | os.PathLike[str],
    *,
    speed: float | None = None,
    symbols: Collection[str] | None = None,
    depth: int | None = None,
    on_frame: Callable[[Replayer, RecordedFrame], None] | None = None,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
) -> ReplaySummary:
    """Replay a recording through the decoder and the book engine, verifying every checksum.

    Args:
        path: The recording.
        speed: Replay at this multiple of the recorded pace (``1.0`` = as recorded); ``None``
            replays as fast as possible.
        symbols: Keep books only for these pairs (default: all).
        depth: Keep books at this depth instead of the acked one.
        on_frame: Called after each frame is applied (progress displays).
        sleep: Blocking sleep used for pacing.
        clock: Monotonic clock used for pacing.

    Returns:
        The `ReplaySummary`.

    Raises:
        ValueError: ``speed`` is not positive.
        OSError: The file cannot be read.
        RecordingError: The file is not a recording.
    """
    if speed is not None and not speed > 0:
        raise ValueError(f"speed must be positive, got {speed}")
    replayer = Replayer(symbols=symbols, depth=depth)
    start_wall: float | None = None
    start_t = 0.0
    for frame in iter_recording(path):
        if speed is not None:
            if start_wall is None:
                start_wall, start_t = clock(), frame.t
            wait = start_wall + (frame.t - start_t) / speed - clock()
            if wait > 0:
                sleep(wait)
        replayer.feed(frame)
        if on_frame is not None:
            on_frame(replayer, frame)
    return replayer.summary()
