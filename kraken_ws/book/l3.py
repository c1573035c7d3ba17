"""The L3 (``level3`` channel) order-by-order book engine: pure, no I/O, no clock."""

from __future__ import annotations

import heapq
import itertools
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from operator import attrgetter
from typing import Protocol, cast

from sortedcontainers import SortedList

from kraken_ws.book._state import BookState, check_precision
from kraken_ws.book.checksum import CHECKSUM_LEVELS, level_token
from kraken_ws.book.l2 import ApplyResult, BookSide, PriceLevel
from kraken_ws.book.wire import L3Frame
from kraken_ws.exceptions import BookIntegrityError
from kraken_ws.models.channels.level3 import (
    Level3Snapshot,
    Level3SnapshotData,
    Level3Update,
    Level3UpdateData,
)

__all__ = ["L3Book", "L3Order"]

_ZERO = Decimal(0)
_limit_price = attrgetter("limit_price")
# Live orders of one side above which a snapshot narrows them to the best prices before sorting.
_SELECT_ORDERS = 20_000


class _WireOrder(Protocol):
    # A snapshot order as the engine reads it: a Level3Order model or a wire.L3Entry.
    @property
    def order_id(self) -> str: ...
    @property
    def limit_price(self) -> Decimal: ...
    @property
    def order_qty(self) -> Decimal: ...
    @property
    def timestamp(self) -> str | None: ...


class _WireEvent(_WireOrder, Protocol):
    # An update event as the engine reads it: a Level3Event model or a wire.L3Entry.
    @property
    def event(self) -> str | None: ...


@dataclass(frozen=True, slots=True)
class L3Order:
    """One resting order in an `L3Book`.

    Attributes:
        order_id: Kraken's order id.
        side: ``"bid"`` or ``"ask"``.
        price: Limit price, exact wire digits.
        qty: Remaining visible quantity, exact wire digits.
        timestamp: Insert or amend time as wire text, if sent.
    """

    order_id: str
    side: BookSide
    price: Decimal
    qty: Decimal
    timestamp: str | None = None


class _Queue:
    """One side of an L3 book: price -> orders in queue order, plus a sorted list of prices.

    A plain ``dict`` is the FIFO of a level: insertion order is queue priority, assigning to an
    existing key keeps its position (``modify``), deleting is O(1).

    The side's checksum text (every order of its 10 best levels) is cached: a change at a price
    worse than the 10th best level (``_edge``, as of the last rebuild) cannot alter it, so at
    depth 100 or 1000 most messages reuse it instead of re-joining dozens of order tokens.
    """

    __slots__ = (
        "_descending",
        "_dirty",
        "_edge",
        "_level_text",
        "_levels",
        "_prices",
        "_text",
        "_tokens",
    )

    def __init__(self, *, descending: bool, tokens: dict[str, bytes]) -> None:
        self._descending = descending
        # Checksum token per order id, shared with the book (which drops a changed order's).
        self._tokens = tokens
        self._levels: dict[Decimal, dict[str, L3Order]] = {}
        self._prices: SortedList[Decimal] = SortedList()
        self._text = b""
        # Checksum text of one price level (its orders' tokens in queue order), dropped whenever
        # an order of that level changes: a rebuild re-joins only the levels that changed.
        self._level_text: dict[Decimal, bytes] = {}
        # None while the side has fewer than 10 levels: then every change counts.
        self._edge: Decimal | None = None
        self._dirty = True

    def clear(self) -> None:
        self._levels.clear()
        self._prices.clear()
        self.clear_text()

    def clear_text(self) -> None:
        self._level_text.clear()
        self._dirty = True

    def _touch(self, price: Decimal) -> None:
        self._level_text.pop(price, None)
        edge = self._edge
        if edge is None or (price >= edge if self._descending else price <= edge):
            self._dirty = True

    def append(self, order: L3Order) -> None:
        level = self._levels.get(order.price)
        if level is None:
            level = self._levels[order.price] = {}
            self._prices.add(order.price)
        level[order.order_id] = order
        self._touch(order.price)

    def replace(self, order: L3Order) -> None:
        # Same price, same id: assignment keeps the order's place in the queue.
        self._levels[order.price][order.order_id] = order
        self._touch(order.price)

    def remove(self, order: L3Order) -> None:
        level = self._levels[order.price]
        del level[order.order_id]
        if not level:
            del self._levels[order.price]
            self._prices.remove(order.price)
        self._touch(order.price)

    def truncate(self, depth: int) -> list[L3Order]:
        dropped: list[L3Order] = []
        excess = len(self._levels) - depth
        index = 0 if self._descending else -1
        for _ in range(max(excess, 0)):
            price: Decimal = self._prices.pop(index)
            dropped.extend(self._levels.pop(price).values())
            self._level_text.pop(price, None)
        if dropped and depth < CHECKSUM_LEVELS:
            self._dirty = True
        return dropped

    def checksum_text(self, price_precision: int | None, qty_precision: int | None) -> bytes:
        if not self._dirty:
            return self._text
        tokens = self._tokens
        parts: list[bytes] = []
        top = self.top_prices(CHECKSUM_LEVELS)
        levels = self._levels
        level_text = self._level_text
        for price in top:
            text = level_text.get(price)
            if text is None:
                orders: list[bytes] = []
                for order in levels[price].values():
                    token = tokens.get(order.order_id)
                    if token is None:
                        token = level_token(
                            order.price, order.qty, price_precision, qty_precision
                        ).encode("ascii")
                        tokens[order.order_id] = token
                    orders.append(token)
                text = level_text[price] = b"".join(orders)
            parts.append(text)
        self._text = b"".join(parts)
        self._edge = top[-1] if len(top) >= CHECKSUM_LEVELS else None
        self._dirty = False
        return self._text

    def top_prices(self, n: int | None = None) -> list[Decimal]:
        prices = self._prices
        if self._descending:
            if n is None:
                return list(reversed(prices))
            if n <= 0:
                return []
            top: list[Decimal] = prices[-n:]
            top.reverse()
            return top
        if n is None:
            return list(prices)
        return list(prices[: max(n, 0)])

    def orders_at(self, price: Decimal) -> list[L3Order]:
        level = self._levels.get(price)
        return [] if level is None else list(level.values())

    def level_orders(self, price: Decimal) -> Iterable[L3Order]:
        return self._levels[price].values()

    def n_levels(self) -> int:
        return len(self._levels)


class L3Book(BookState):
    """An order-by-order book of one symbol, kept from ``level3`` channel messages.

    Orders keep their queue priority: an ``add`` goes to the tail of its price level, a
    ``modify`` changes the quantity in place, a ``delete`` removes the order. After each message
    each side is truncated to ``depth`` price levels and Kraken's L3 checksum (every order of
    the top 10 price levels, in queue order) is verified.

    Args:
        symbol: The pair, e.g. ``"BTC/USD"``.
        depth: Price levels kept per side (the subscribed depth).
        price_precision: Decimals to pad prices to for the checksum, or ``None``.
        qty_precision: Decimals to pad quantities to for the checksum, or ``None``.

    Raises:
        ValueError: ``depth`` is not positive.
    """

    __slots__ = ("_asks", "_bids", "_index", "_tokens")

    def __init__(
        self,
        symbol: str,
        depth: int = 10,
        *,
        price_precision: int | None = None,
        qty_precision: int | None = None,
    ) -> None:
        super().__init__(symbol, depth, price_precision, qty_precision)
        # Checksum token per order id, dropped whenever that order changes.
        self._tokens: dict[str, bytes] = {}
        self._bids = _Queue(descending=True, tokens=self._tokens)
        self._asks = _Queue(descending=False, tokens=self._tokens)
        self._index: dict[str, L3Order] = {}

    # --- state ---------------------------------------------------------------------------------

    def set_precision(self, price_precision: int | None, qty_precision: int | None) -> None:
        """Set the decimals used to render prices and quantities for the checksum.

        Args:
            price_precision: The pair's ``price_precision``, or ``None`` for wire digits.
            qty_precision: The pair's ``qty_precision``, or ``None`` for wire digits.

        Raises:
            ValueError: A precision is negative or above 400 (no pair has one).
        """
        check_precision(price_precision, qty_precision)
        self._price_precision = price_precision
        self._qty_precision = qty_precision
        self._tokens.clear()
        self._bids.clear_text()
        self._asks.clear_text()

    def clear(self) -> None:
        """Drop every order and wait for a new snapshot (updates raise until then)."""
        self._bids.clear()
        self._asks.clear()
        self._index.clear()
        self._tokens.clear()
        self._has_snapshot = False
        self._valid = False

    # --- applying messages -----------------------------------------------------------------------

    def apply(
        self,
        message: Level3Snapshot | Level3Update | Level3SnapshotData | Level3UpdateData,
    ) -> ApplyResult:
        """Apply one decoded ``level3`` message and verify its checksum.

        Snapshot orders are appended in array order (the wire lists them in queue priority).
        Update events are applied in array order:

        * ``add``: the order joins the tail of its price level. An ``add`` for an id already
          held replaces that order (it is removed first, then added at the tail).
        * ``modify``: the quantity changes in place, keeping queue position. A quantity of 0
          deletes the order. An unknown id is added at the tail.
        * ``delete``: the order is removed (an unknown id is ignored).

        Then each side is truncated to `depth` price levels (Kraken sends no deletes for
        levels pushed out of scope) and the checksum is compared. A mismatch marks the book
        invalid and is reported, never raised.

        Args:
            message: A snapshot or update frame (only items of this symbol are applied), or one
                data item.

        Returns:
            The checksum verdict (for several items of this symbol: the first failing one's,
            else the last one's).

        Raises:
            BookIntegrityError: An update arrived before any snapshot.
            ValueError: The message holds no data for this book's symbol.
        """
        if isinstance(message, Level3SnapshotData | Level3UpdateData):
            if message.symbol != self._symbol:
                raise ValueError(f"{self._symbol} book got data for {message.symbol}")
            return self._apply_data(message)
        result: ApplyResult | None = None
        for data in message.data:
            if data.symbol == self._symbol:
                item = self._apply_data(data)
                if result is None or result.checksum_ok:
                    result = item
        if result is None:
            raise ValueError(f"{self._symbol} book: message has no data for this symbol")
        return result

    def apply_wire(self, frame: L3Frame) -> ApplyResult:
        """Apply a frame read by `kraken_ws.book.wire.read`: `apply` without the models.

        The same rules and the same result as `apply` on the frame's model.

        Args:
            frame: The frame's engine input.

        Returns:
            The checksum verdict.

        Raises:
            BookIntegrityError: An update arrived before any snapshot.
            ValueError: The frame is for another symbol.
        """
        if frame.symbol != self._symbol:
            raise ValueError(f"{self._symbol} book got data for {frame.symbol}")
        return self._apply(frame.snapshot, frame.bids, frame.asks, frame.checksum, frame.timestamp)

    def _apply_data(self, data: Level3SnapshotData | Level3UpdateData) -> ApplyResult:
        return self._apply(
            isinstance(data, Level3SnapshotData),
            data.bids,
            data.asks,
            data.checksum,
            data.timestamp,
        )

    def _apply(
        self,
        is_snapshot: bool,
        bids: Sequence[_WireOrder],
        asks: Sequence[_WireOrder],
        expected: int,
        timestamp: str | None,
    ) -> ApplyResult:
        # Orders and events are read by attribute: the models (Level3Order, Level3Event) and
        # the fast path's L3Entry have the same names. An update's entries are events.
        if is_snapshot:
            self._bids.clear()
            self._asks.clear()
            self._index.clear()
            self._tokens.clear()
            self._has_snapshot = True
            self._load(bids, asks)
        else:
            if not self._has_snapshot:
                raise BookIntegrityError(f"{self._symbol}: level3 update before any snapshot")
            self._events(cast("Sequence[_WireEvent]", bids), "bid")
            self._events(cast("Sequence[_WireEvent]", asks), "ask")
        for queue in (self._bids, self._asks):
            for order in queue.truncate(self._depth):
                del self._index[order.order_id]
                self._tokens.pop(order.order_id, None)
        computed = self.compute_checksum()
        ok = computed == expected
        if is_snapshot:
            self._valid = ok
        elif not ok:
            self._valid = False
        self._last_checksum = computed
        self._last_update = timestamp
        self._messages += 1
        return ApplyResult(self._symbol, ok, expected, computed, is_snapshot)

    def _queue(self, side: BookSide) -> _Queue:
        if side == "bid":
            return self._bids
        if side == "ask":
            return self._asks
        raise ValueError(f"side must be 'bid' or 'ask', got {side!r}")

    def _add(self, order: L3Order) -> None:
        if order.qty:
            self._queue(order.side).append(order)
            self._index[order.order_id] = order

    def _drop(self, order: L3Order) -> None:
        self._queue(order.side).remove(order)
        del self._index[order.order_id]
        self._tokens.pop(order.order_id, None)

    def _load(self, bids: Sequence[_WireOrder], asks: Sequence[_WireOrder]) -> None:
        # The same book as appending every order in array order (bids, then asks; a repeated
        # id drops the earlier entry, a zero quantity adds nothing) and then truncating to
        # depth, in O(n log n) and without building anything for the orders past the depth:
        # only each id's last entry can survive; the survivors are sorted best price first,
        # stably, so orders of one price keep their array (queue) order; the first ``depth``
        # prices are loaded. The wire's sides arrive sorted, which the sort does in linear time.
        last = {wire.order_id: i for i, wire in enumerate(itertools.chain(bids, asks))}
        self._fill(self._bids, "bid", bids, 0, last)
        self._fill(self._asks, "ask", asks, len(bids), last)

    def _fill(
        self,
        queue: _Queue,
        side: BookSide,
        orders: Sequence[_WireOrder],
        offset: int,
        last: dict[str, int],
    ) -> None:
        live = [
            wire
            for i, wire in enumerate(orders, offset)
            if wire.order_qty and last[wire.order_id] == i
        ]
        descending = queue._descending
        depth = self._depth
        if len(live) > _SELECT_ORDERS:
            # A huge side, perhaps shuffled: keep only the orders at the ``depth`` best prices
            # (found in O(n log depth) among the distinct prices) before sorting.
            prices = {wire.limit_price for wire in live}
            if len(prices) > depth:
                if descending:
                    edge = heapq.nlargest(depth, prices)[-1]
                    live = [wire for wire in live if wire.limit_price >= edge]
                else:
                    edge = heapq.nsmallest(depth, prices)[-1]
                    live = [wire for wire in live if wire.limit_price <= edge]
        live.sort(key=_limit_price, reverse=descending)
        index = self._index
        remaining = depth
        previous: Decimal | None = None
        for wire in live:
            price = wire.limit_price
            if price != previous:
                if not remaining:
                    break
                remaining -= 1
                previous = price
            order = L3Order(wire.order_id, side, price, wire.order_qty, wire.timestamp)
            queue.append(order)
            index[order.order_id] = order

    def _events(self, events: Sequence[_WireEvent], side: BookSide) -> None:
        index = self._index
        for event in events:
            order_id = event.order_id
            old = index.get(order_id)
            if event.event == "delete":
                if old is not None:
                    self._drop(old)
                continue
            order = L3Order(order_id, side, event.limit_price, event.order_qty, event.timestamp)
            if (
                event.event == "modify"
                and old is not None
                and order.qty
                and old.side == side
                and old.price == order.price
            ):
                self._queue(side).replace(order)
                index[order_id] = order
                self._tokens.pop(order_id, None)
                continue
            # Anything else replaces the order at the tail of its level. That includes a modify
            # that changes the price: docs/protocol.md#ref-11-10 could not confirm whether amends
            # arrive as modify or as delete+add; we treat a price change like an amend that loses
            # priority, and an add of a known id as a replacement.
            if old is not None:
                self._drop(old)
            self._add(order)

    def compute_checksum(self) -> int:
        """Compute the L3 checksum of the book as it is now.

        Returns:
            The unsigned CRC32 over every order of the top 10 price levels per side.
        """
        return self._crc_of(self._asks, self._bids)

    # --- reading -------------------------------------------------------------------------------

    def order(self, order_id: str) -> L3Order | None:
        """Look up a resting order by id.

        Args:
            order_id: Kraken's order id.

        Returns:
            The order, or ``None`` if it is not in the book (or outside the depth).
        """
        return self._index.get(order_id)

    def orders_at(self, price: Decimal, side: BookSide | None = None) -> list[L3Order]:
        """Orders resting at ``price``, in queue order (first to fill first).

        Args:
            price: The price level.
            side: Look only on this side; ``None`` looks at bids, then asks.

        Returns:
            The orders (empty if there is no such level).
        """
        if side is not None:
            return self._queue(side).orders_at(price)
        return self._bids.orders_at(price) or self._asks.orders_at(price)

    def levels(self, side: BookSide, n: int | None = None) -> list[PriceLevel]:
        """Aggregated L2 view of one side, best first.

        Args:
            side: ``"bid"`` or ``"ask"``.
            n: At most this many price levels; ``None`` for all.

        Returns:
            ``(price, total qty)`` pairs.
        """
        queue = self._queue(side)
        result: list[PriceLevel] = []
        for price in queue.top_prices(n):
            total = _ZERO
            for order in queue.level_orders(price):
                total += order.qty
            result.append((price, total))
        return result

    @property
    def best_bid(self) -> PriceLevel | None:
        """``(price, total qty)`` of the highest bid level, or ``None``."""
        top = self.levels("bid", 1)
        return top[0] if top else None

    @property
    def best_ask(self) -> PriceLevel | None:
        """``(price, total qty)`` of the lowest ask level, or ``None``."""
        top = self.levels("ask", 1)
        return top[0] if top else None

    def __len__(self) -> int:
        return len(self._index)

    def __repr__(self) -> str:
        return (
            f"L3Book({self._symbol!r}, depth={self._depth}, orders={len(self._index)}, "
            f"bid_levels={self._bids.n_levels()}, ask_levels={self._asks.n_levels()}, "
            f"valid={self._valid})"
        )
