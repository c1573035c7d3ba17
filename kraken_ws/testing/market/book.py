"""The order-by-order book of one instrument and the per-depth view of one tick's changes.

Mutations are recorded in a `TickRecord` as they happen: for every touched price the level
quantity before the first touch and the L3 events in order, plus, captured at the first mutation,
the price at each subscribable depth's boundary. `TickResult` then answers, for each
subscriber depth, which changes that subscriber must receive (see the package docstring).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from typing import TYPE_CHECKING, TypeAlias

from kraken_ws.models.common import Side

from .instruments import L3EventKind, WireSide

if TYPE_CHECKING:
    from .symbol import SymbolMarket

__all__ = [
    "BookOrder",
    "L3Event",
    "Level",
    "TickRecord",
    "TickResult",
    "Touch",
    "TradeRecord",
]


class BookOrder:
    """One resting order in the simulated book (visible quantity only)."""

    __slots__ = ("order_id", "owner", "price", "qty", "side", "timestamp")

    def __init__(
        self,
        order_id: str,
        side: WireSide,
        price: Decimal,
        qty: Decimal,
        timestamp: str,
        owner: str | None = None,
    ) -> None:
        self.order_id = order_id
        self.side = side
        self.price = price
        self.qty = qty
        self.timestamp = timestamp
        self.owner = owner
        """Engine order id for a user's order; ``None`` for simulated liquidity."""


class Level:
    """One price level: its orders in time priority and their total visible quantity."""

    __slots__ = ("orders", "qty")

    def __init__(self) -> None:
        self.orders: dict[str, BookOrder] = {}
        self.qty = Decimal(0)


#: One L3 event: (event, order_id, price, qty, timestamp).
L3Event: TypeAlias = tuple[L3EventKind, str, Decimal, Decimal, str]


@dataclass
class Touch:
    """What one tick did to one price level: its quantity before, then its L3 events."""

    old_qty: Decimal | None
    events: list[L3Event] = field(default_factory=list)


@dataclass
class TradeRecord:
    """One public trade (a taker matching one maker order)."""

    trade_id: int
    symbol: str
    side: Side
    price: Decimal
    qty: Decimal
    ord_type: str
    timestamp: str


class TickRecord:
    """Everything one tick changed (see the module docstring)."""

    __slots__ = ("bbo", "boundaries", "touched", "trades")

    def __init__(
        self, boundaries: dict[WireSide, dict[int, Decimal | None]], bbo: tuple[object, ...]
    ):
        self.boundaries = boundaries
        self.touched: dict[WireSide, dict[Decimal, Touch]] = {"bids": {}, "asks": {}}
        self.trades: list[TradeRecord] = []
        self.bbo = bbo


class TickResult:
    """The changes of one tick, viewed per subscriber depth (valid until the next mutation)."""

    def __init__(self, market: SymbolMarket, record: TickRecord, timestamp: float) -> None:
        self._market = market
        self._record = record
        self.timestamp = timestamp
        """Epoch seconds of the tick."""
        self.trades: list[TradeRecord] = record.trades
        """Trades of this tick, in order."""
        self.bbo_changed = record.bbo != market.bbo()
        """Whether best bid/ask price or quantity changed."""
        self.book_changed = bool(record.touched["bids"] or record.touched["asks"])
        """Whether any level changed."""
        self._checksum: int | None = None
        self._l3_checksum: int | None = None

    @property
    def checksum(self) -> int:
        """L2 checksum of the book after this tick (top 10 per side, same for every depth)."""
        if self._checksum is None:
            self._checksum = self._market.checksum()
        return self._checksum

    @property
    def l3_checksum(self) -> int:
        """L3 checksum after this tick."""
        if self._l3_checksum is None:
            self._l3_checksum = self._market.l3_checksum()
        return self._l3_checksum

    def _window(self, side: WireSide, depth: int) -> tuple[Decimal | None, Decimal | None]:
        return self._record.boundaries[side][depth], self._market.boundary(side, depth)

    def book_changes(self, side: WireSide, depth: int) -> list[tuple[Decimal, Decimal]]:
        """Levels a subscriber of ``depth`` must receive for ``side`` (qty 0 = delete)."""
        market = self._market
        levels = market.sides[side]
        better = market.better_or_equal[side]
        old_b, new_b = self._window(side, depth)
        touched = self._record.touched[side]
        zero = market.zero_qty
        out: list[tuple[Decimal, Decimal]] = []
        for price, touch in touched.items():
            level = levels.get(price)
            in_old = touch.old_qty is not None and old_b is not None and better(price, old_b)
            in_new = level is not None and new_b is not None and better(price, new_b)
            if in_new:
                assert level is not None
                if not in_old or level.qty != touch.old_qty:
                    out.append((price, level.qty))
            elif in_old and level is None:
                out.append((price, zero))
        for price in self._entering(side, depth, old_b):
            if price not in touched:
                out.append((price, levels[price].qty))
        return out

    def l3_changes(self, side: WireSide, depth: int) -> list[L3Event]:
        """Order events a ``level3`` subscriber of ``depth`` must receive for ``side``."""
        market = self._market
        levels = market.sides[side]
        better = market.better_or_equal[side]
        old_b, new_b = self._window(side, depth)
        touched = self._record.touched[side]
        out: list[L3Event] = []
        for price, touch in touched.items():
            level = levels.get(price)
            in_old = touch.old_qty is not None and old_b is not None and better(price, old_b)
            in_new = level is not None and new_b is not None and better(price, new_b)
            if in_new and not in_old:
                assert level is not None
                out.extend(_level_adds(level))
            elif in_old and (in_new or level is None):
                out.extend(touch.events)
        for price in self._entering(side, depth, old_b):
            if price not in touched:
                out.extend(_level_adds(levels[price]))
        return out

    def _entering(self, side: WireSide, depth: int, old_b: Decimal | None) -> Iterator[Decimal]:
        # Untouched levels keep their relative order, so the ones that entered the window are
        # exactly those worse than the old boundary: walk the new window from its far end.
        levels = self._market.sides[side]
        better = self._market.better_or_equal[side]
        stop = min(depth, len(levels))
        for price in levels.islice(0, stop, reverse=True):
            if old_b is not None and better(price, old_b):
                break
            yield price


def _level_adds(level: Level) -> Iterator[L3Event]:
    for order in level.orders.values():
        yield ("add", order.order_id, order.price, order.qty, order.timestamp)
