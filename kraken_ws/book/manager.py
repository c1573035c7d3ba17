"""Many books at once: route decoded frames, learn precisions, pace resubscribes."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, NamedTuple, TypeAlias

from kraken_ws.book._state import check_precision
from kraken_ws.book.l2 import ApplyResult, OrderBook
from kraken_ws.book.l3 import L3Book
from kraken_ws.book.wire import L2Frame, L3Frame, WireFrame
from kraken_ws.models.channels.book import BookSnapshot, BookUpdate
from kraken_ws.models.channels.instrument import InstrumentSnapshot, InstrumentUpdate
from kraken_ws.models.channels.level3 import Level3Snapshot, Level3Update

__all__ = ["BookEvent", "BookManager", "BookUpdated", "ResyncNeeded"]


class BookUpdated(NamedTuple):
    """A tracked book applied a message and its checksum verified (an immutable named tuple).

    A named tuple, like `ApplyResult`: one is built per book message.

    Attributes:
        symbol: The pair.
        channel: ``"book"`` (L2) or ``"level3"``.
        result: The engine's verdict (``checksum_ok`` is ``True``).
    """

    symbol: str
    channel: Literal["book", "level3"]
    result: ApplyResult


@dataclass(frozen=True, slots=True)
class ResyncNeeded:
    """A tracked book is out of sync; resubscribe that symbol (paced by ``resync_due``).

    The book is marked invalid and its updates are ignored until the next snapshot.

    Attributes:
        symbol: The pair to resubscribe.
        channel: ``"book"`` (L2) or ``"level3"``.
        expected: The server's checksum (of the message that failed).
        computed: Ours, or ``None`` when the book had no snapshot to apply the update to.
        reason: ``"checksum_mismatch"`` or ``"update_before_snapshot"``.
    """

    symbol: str
    channel: Literal["book", "level3"]
    expected: int
    computed: int | None
    reason: Literal["checksum_mismatch", "update_before_snapshot"] = "checksum_mismatch"


BookEvent: TypeAlias = BookUpdated | ResyncNeeded
"""What `BookManager.feed` reports."""

_Book: TypeAlias = OrderBook | L3Book
# tuple.__new__ with the fields in order skips the generated __new__'s argument handling.
_tuple_new = tuple.__new__
_Channel: TypeAlias = Literal["book", "level3"]


class _Resync:
    """Pacing state of one symbol's resubscribes."""

    __slots__ = ("awaiting", "failures", "last_sent", "pending")

    def __init__(self) -> None:
        # awaiting: a failure was reported and no verified snapshot has arrived since.
        self.awaiting = False
        # pending: a resubscribe should be sent (resync_due has not returned it yet).
        self.pending = False
        self.last_sent: float | None = None
        self.failures = 0


class BookManager:
    """Books for many symbols, fed decoded frames, with paced resync requests.

    Feed every decoded frame to `feed`. ``book`` frames go to the L2 book of their
    symbol, ``level3`` frames to its L3 book, ``instrument`` frames update the checksum
    precisions of every pair they list (kept for pairs tracked later), anything else is
    ignored. A checksum mismatch (or an update for a book that has no snapshot) marks that one
    book invalid and reports `ResyncNeeded`; its updates are then ignored until a
    snapshot arrives, while every other book keeps applying.

    The client resubscribes the symbols `resync_due` returns. Requests are paced per
    symbol: at least ``resync_interval`` seconds apart, doubling after each consecutive failed
    resync up to ``max_resync_interval`` (resubscribing on every bad update trips Kraken's
    ``Exceeded msg rate``). The caller passes ``now``; nothing here reads a clock or sleeps.

    Args:
        resync_interval: Minimum seconds between two resubscribes of one symbol.
        max_resync_interval: Cap of the doubling interval.
    """

    def __init__(self, *, resync_interval: float = 2.0, max_resync_interval: float = 60.0) -> None:
        if resync_interval < 0 or max_resync_interval < resync_interval:
            raise ValueError("need 0 <= resync_interval <= max_resync_interval")
        self._interval = resync_interval
        self._max_interval = max_resync_interval
        self._books: dict[str, _Book] = {}
        self._precisions: dict[str, tuple[int, int]] = {}
        self._resync: dict[str, _Resync] = {}

    # --- tracking -------------------------------------------------------------------------------

    def track(self, symbol: str, depth: int = 10, *, level3: bool = False) -> OrderBook | L3Book:
        """Start keeping a book for ``symbol`` (replacing any book already kept for it).

        Args:
            symbol: The pair, e.g. ``"BTC/USD"``.
            depth: The subscribed depth.
            level3: Keep an order-by-order `L3Book` fed by ``level3`` frames instead
                of an L2 `OrderBook` fed by ``book`` frames.

        Returns:
            The new, empty book (it waits for a snapshot).
        """
        precision = self._precisions.get(symbol)
        pp, qp = precision if precision is not None else (None, None)
        book: _Book
        if level3:
            book = L3Book(symbol, depth, price_precision=pp, qty_precision=qp)
        else:
            book = OrderBook(symbol, depth, price_precision=pp, qty_precision=qp)
        self._books[symbol] = book
        self._resync.pop(symbol, None)
        return book

    def untrack(self, symbol: str) -> None:
        """Stop keeping ``symbol``'s book and forget its pending resync (no error if unknown).

        Args:
            symbol: The pair.
        """
        self._books.pop(symbol, None)
        self._resync.pop(symbol, None)

    def book(self, symbol: str) -> OrderBook | L3Book | None:
        """The book kept for ``symbol``, or ``None``.

        Args:
            symbol: The pair.

        Returns:
            The `OrderBook` or `L3Book`.
        """
        return self._books.get(symbol)

    def l2(self, symbol: str) -> OrderBook:
        """The L2 book of ``symbol``.

        Args:
            symbol: The pair.

        Returns:
            The tracked `OrderBook`.

        Raises:
            KeyError: ``symbol`` has no L2 book here.
        """
        book = self._books.get(symbol)
        if not isinstance(book, OrderBook):
            raise KeyError(f"no L2 book tracked for {symbol}")
        return book

    def l3(self, symbol: str) -> L3Book:
        """The L3 book of ``symbol``.

        Args:
            symbol: The pair.

        Returns:
            The tracked `L3Book`.

        Raises:
            KeyError: ``symbol`` has no L3 book here.
        """
        book = self._books.get(symbol)
        if not isinstance(book, L3Book):
            raise KeyError(f"no L3 book tracked for {symbol}")
        return book

    @property
    def symbols(self) -> list[str]:
        """Symbols tracked, in the order they were added."""
        return list(self._books)

    def precision(self, symbol: str) -> tuple[int, int] | None:
        """``(price_precision, qty_precision)`` learned for ``symbol``, or ``None``.

        Args:
            symbol: The pair.

        Returns:
            The precisions from the last ``instrument`` frame or `set_precision`.
        """
        return self._precisions.get(symbol)

    def set_precision(self, symbol: str, price_precision: int, qty_precision: int) -> None:
        """Record a pair's precisions (as an ``instrument`` frame would).

        Args:
            symbol: The pair.
            price_precision: Decimals of its prices.
            qty_precision: Decimals of its quantities.

        Raises:
            ValueError: A precision is negative or above 400 (no pair has one).
        """
        check_precision(price_precision, qty_precision)
        self._precisions[symbol] = (price_precision, qty_precision)
        book = self._books.get(symbol)
        if book is not None:
            book.set_precision(price_precision, qty_precision)

    # --- feeding --------------------------------------------------------------------------------

    def feed(self, message: object) -> list[BookEvent]:
        """Route one decoded frame to the books it concerns.

        Args:
            message: Any decoded server message. ``book``/``level3`` snapshots and updates
                and ``instrument`` frames are used; everything else is ignored.

        Returns:
            One event per data item of a tracked symbol that was applied or failed. Nothing for
            ignored frames, untracked symbols, or updates to a book that already reported
            `ResyncNeeded` and awaits its snapshot.
        """
        events: list[BookEvent] = []
        if isinstance(message, BookUpdate | BookSnapshot):
            snapshot = message.type == "snapshot"
            items = message.data
            for data in items:
                book = self._books.get(data.symbol)
                if not isinstance(book, OrderBook):
                    continue
                if snapshot or book.is_valid:
                    # The whole frame when it is the wire's usual single item: the engine's
                    # fast path.
                    result = book.apply(message if len(items) == 1 else data, snapshot=snapshot)
                    self._applied(book, "book", result, events)
                else:
                    self._stale_update(book, "book", data.checksum, events)
        elif isinstance(message, Level3Update | Level3Snapshot):
            snapshot = message.type == "snapshot"
            for l3data in message.data:
                l3book = self._books.get(l3data.symbol)
                if not isinstance(l3book, L3Book):
                    continue
                if snapshot or l3book.is_valid:
                    self._applied(l3book, "level3", l3book.apply(l3data), events)
                else:
                    self._stale_update(l3book, "level3", l3data.checksum, events)
        elif isinstance(message, InstrumentSnapshot | InstrumentUpdate):
            for pair in message.data.pairs:
                try:
                    check_precision(pair.price_precision, pair.qty_precision)
                except ValueError:
                    continue  # no pair has one: a hostile frame must not make tokens huge
                self.set_precision(pair.symbol, pair.price_precision, pair.qty_precision)
        return events

    def feed_wire(self, frame: WireFrame) -> BookEvent | None:
        """Route a frame read by `kraken_ws.book.wire.read` to its book: `feed` without models.

        The same books, verdicts and events as `feed` on the frame's model, which holds one
        item, hence at most one event (returned as it is, not in a list: this runs for every
        live update).

        Args:
            frame: An `L2Frame` (``book``) or `L3Frame` (``level3``).

        Returns:
            What `feed` would have listed, or ``None`` when it lists nothing.
        """
        book = self._books.get(frame.symbol)
        events: list[BookEvent] = []
        if type(frame) is L2Frame:
            if not isinstance(book, OrderBook):
                return None
            if frame.snapshot or book._valid:  # is_valid, without the property call
                result = book.apply_wire(frame)
                if result.checksum_ok and not result.snapshot:
                    # _applied's common case, inline.
                    return _tuple_new(BookUpdated, (frame.symbol, "book", result))
                self._verdict(book, "book", result, events)
            else:
                self._stale_update(book, "book", frame.checksum, events)
        elif isinstance(book, L3Book):
            assert type(frame) is L3Frame
            if frame.snapshot or book.is_valid:
                self._applied(book, "level3", book.apply_wire(frame), events)
            else:
                self._stale_update(book, "level3", frame.checksum, events)
        return events[0] if events else None

    def _applied(
        self, book: _Book, channel: _Channel, result: ApplyResult, events: list[BookEvent]
    ) -> None:
        if result.checksum_ok and not result.snapshot:
            # The common case, without the general bookkeeping of _verdict.
            events.append(_tuple_new(BookUpdated, (book.symbol, channel, result)))
        else:
            self._verdict(book, channel, result, events)

    def _verdict(
        self, book: _Book, channel: _Channel, result: ApplyResult, events: list[BookEvent]
    ) -> None:
        if result.checksum_ok:
            if result.snapshot:
                state = self._resync.get(book.symbol)
                if state is not None:
                    # In sync again: the next failure starts from the base interval.
                    state.awaiting = False
                    state.pending = False
                    state.failures = 0
            events.append(BookUpdated(book.symbol, channel, result))
            return
        self._need_resync(book.symbol)
        events.append(ResyncNeeded(book.symbol, channel, result.expected, result.computed))

    def _stale_update(
        self, book: _Book, channel: _Channel, expected: int, events: list[BookEvent]
    ) -> None:
        state = self._resync.get(book.symbol)
        if state is not None and state.awaiting:
            return  # already reported; the snapshot that follows the resubscribe resets it
        # Not reported yet: no snapshot so far (tracked mid-stream, or a lost snapshot), or the
        # book was invalidated outside the manager. Either way only a resubscribe helps.
        self._need_resync(book.symbol)
        if book.has_snapshot:
            events.append(ResyncNeeded(book.symbol, channel, expected, book.last_checksum))
        else:
            events.append(
                ResyncNeeded(book.symbol, channel, expected, None, "update_before_snapshot")
            )

    def _need_resync(self, symbol: str) -> None:
        state = self._resync.get(symbol)
        if state is None:
            state = self._resync[symbol] = _Resync()
        state.awaiting = True
        state.pending = True
        state.failures += 1

    # --- resync pacing --------------------------------------------------------------------------

    def request_resync(self, symbol: str) -> None:
        """Queue a resubscribe of ``symbol`` by hand (e.g. after a failed subscribe request).

        The book is cleared and waits for a snapshot; its updates are ignored until then.

        Args:
            symbol: A tracked pair.

        Raises:
            KeyError: ``symbol`` is not tracked.
        """
        book = self._books[symbol]
        book.clear()
        self._need_resync(symbol)

    def _interval_for(self, state: _Resync) -> float:
        doublings = max(state.failures - 1, 0)
        # min() before the power would overflow for absurd failure counts.
        return min(self._interval * 2.0 ** min(doublings, 32), self._max_interval)

    def resync_due(self, now: float) -> list[str]:
        """Symbols whose resubscribe should be sent now; each is returned once per request.

        A symbol is due when a resync was requested (by a mismatch) and at least its current
        interval has passed since its last resubscribe. Returned symbols count as sent at
        ``now``.

        Args:
            now: The caller's monotonic clock, in seconds.

        Returns:
            Symbols to resubscribe, in tracking order.
        """
        due: list[str] = []
        for symbol, state in self._resync.items():
            if not state.pending:
                continue
            if state.last_sent is None or now - state.last_sent >= self._interval_for(state):
                state.pending = False
                state.last_sent = now
                due.append(symbol)
        return due

    def next_resync_at(self) -> float | None:
        """When the earliest pending resync becomes due.

        Returns:
            A time on the caller's clock (``float("-inf")`` if one is due right away), or
            ``None`` when nothing is pending.
        """
        times = [
            float("-inf")
            if state.last_sent is None
            else state.last_sent + self._interval_for(state)
            for state in self._resync.values()
            if state.pending
        ]
        return min(times) if times else None

    @property
    def pending_resyncs(self) -> list[str]:
        """Symbols with a resubscribe requested but not yet returned by `resync_due`."""
        return [symbol for symbol, state in self._resync.items() if state.pending]
