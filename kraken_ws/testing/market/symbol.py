"""One instrument's market (`SymbolMarket`) and all of them (`Market`).

A `SymbolMarket` owns the order-by-order book, matches incoming orders against it, records
trades and candles, and tells a `FillListener` (the matching engine) when a user's resting
order is filled or the last price moves. Its simulated traders live in `.flow`.
"""

from __future__ import annotations

import operator
import random
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Protocol

from sortedcontainers import SortedDict

from kraken_ws.book.checksum import book_checksum, level3_checksum
from kraken_ws.models.common import BOOK_DEPTHS, L3_DEPTHS, OHLC_INTERVALS, Side

from .book import BookOrder, Level, TickRecord, TickResult, Touch, TradeRecord
from .flow import RandomFlow
from .instruments import InstrumentSpec, WireSide, rfc3339

__all__ = ["Candle", "FillListener", "MakerFill", "Market", "SymbolMarket"]

_ALL_DEPTHS = tuple(sorted(set(BOOK_DEPTHS) | set(L3_DEPTHS)))
_RECENT_TRADES = 50
_CANDLE_HISTORY = 10


@dataclass
class Candle:
    """One OHLC candle."""

    begin: int
    open: Decimal
    high: Decimal
    low: Decimal
    close: Decimal
    volume: Decimal
    notional: Decimal
    trades: int


@dataclass
class MakerFill:
    """A fill of a user's resting order, delivered to the engine after the match."""

    book_order: BookOrder
    owner: str
    price: Decimal
    qty: Decimal
    trade_id: int
    remaining_visible: Decimal


class FillListener(Protocol):
    """What the market tells the matching engine."""

    def on_maker_fill(self, symbol: str, fill: MakerFill) -> None:
        """A user's resting order was (partly) filled by another order."""

    def on_last_price(self, symbol: str, price: Decimal) -> None:
        """The last trade price changed (stop/take-profit/trailing triggers)."""


def _ge(a: Decimal, b: Decimal) -> bool:
    return a >= b


def _le(a: Decimal, b: Decimal) -> bool:
    return a <= b


class SymbolMarket:
    """The simulated book, trades, ticker and candles of one instrument.

    Args:
        spec: The instrument.
        rng: Seeded random source (shared by the exchange for determinism).
        clock: Epoch seconds.
        new_order_id: Generates Kraken-style order ids.
        levels: Levels per side kept in the book (at least 1000 so depth 1000 is always full).
    """

    def __init__(
        self,
        spec: InstrumentSpec,
        rng: random.Random,
        clock: Callable[[], float],
        new_order_id: Callable[[], str],
        levels: int = 1100,
    ) -> None:
        self.spec = spec
        self.symbol = spec.symbol
        self._clock = clock
        self._new_order_id = new_order_id
        self.sides: dict[WireSide, SortedDict[Decimal, Level]] = {
            "bids": SortedDict(operator.neg),
            "asks": SortedDict(),
        }
        self.better_or_equal: dict[WireSide, Callable[[Decimal, Decimal], bool]] = {
            "bids": _ge,
            "asks": _le,
        }
        self.zero_qty = spec.qty(0)
        self._orders: dict[str, BookOrder] = {}
        self._record: TickRecord | None = None
        self.listener: FillListener | None = None
        self.trading_enabled = True
        """Whether simulated takers trade (off in cancel_only/post_only/maintenance)."""
        self._next_trade_id = 1
        self.recent_trades: deque[TradeRecord] = deque(maxlen=_RECENT_TRADES)
        self.last = spec.price(spec.start_price)
        self._open_price = self.last
        self.high = self.last
        self.low = self.last
        self.volume = self.zero_qty
        self._notional = Decimal(0)
        self.candles: dict[int, Candle] = {}
        self.candle_history: dict[int, deque[Candle]] = {
            i: deque(maxlen=_CANDLE_HISTORY) for i in OHLC_INTERVALS
        }
        self._flow = RandomFlow(self, rng, levels)
        self._flow.seed()

    # -- book primitives ------------------------------------------------------------------

    def now_ns(self) -> str:
        """The clock as an RFC3339 timestamp with nanoseconds (L3 order timestamps)."""
        return rfc3339(self._clock(), 9)

    @property
    def order_count(self) -> int:
        """Orders resting in the book (simulated and users')."""
        return len(self._orders)

    def discard_tick(self) -> None:
        """Forget the changes recorded since the last `flush`: nobody is to see them."""
        self._record = None

    def _begin(self) -> TickRecord:
        if self._record is None:
            boundaries: dict[WireSide, dict[int, Decimal | None]] = {
                side: {d: self.boundary(side, d) for d in _ALL_DEPTHS} for side in self.sides
            }
            self._record = TickRecord(boundaries, self.bbo())
        return self._record

    def boundary(self, side: WireSide, depth: int) -> Decimal | None:
        """Price of the last level inside a ``depth`` window (``None`` if the side is empty)."""
        levels = self.sides[side]
        if not levels:
            return None
        price: Decimal = levels.peekitem(min(depth, len(levels)) - 1)[0]
        return price

    def _touch(self, side: WireSide, price: Decimal) -> Touch:
        record = self._begin()
        touched = record.touched[side]
        touch = touched.get(price)
        if touch is None:
            level = self.sides[side].get(price)
            touch = Touch(level.qty if level is not None else None)
            touched[price] = touch
        return touch

    def add_order(
        self,
        side: WireSide,
        price: Decimal,
        qty: Decimal,
        owner: str | None = None,
        order_id: str | None = None,
        timestamp: str | None = None,
    ) -> BookOrder:
        """Append an order at the tail of its price level (recorded as an L3 ``add``)."""
        touch = self._touch(side, price)
        levels = self.sides[side]
        level = levels.get(price)
        if level is None:
            level = levels[price] = Level()
        ts = timestamp or self.now_ns()
        order = BookOrder(order_id or self._new_order_id(), side, price, qty, ts, owner)
        level.orders[order.order_id] = order
        level.qty += qty
        self._orders[order.order_id] = order
        touch.events.append(("add", order.order_id, price, qty, order.timestamp))
        return order

    def modify_order(self, order_id: str, qty: Decimal) -> None:
        """Reduce an order's visible quantity in place (keeps queue priority; L3 ``modify``)."""
        order = self._orders[order_id]
        if qty <= 0:
            self.remove_order(order_id)
            return
        touch = self._touch(order.side, order.price)
        level: Level = self.sides[order.side][order.price]
        level.qty += qty - order.qty
        order.qty = qty
        order.timestamp = self.now_ns()
        touch.events.append(("modify", order_id, order.price, qty, order.timestamp))

    def remove_order(self, order_id: str) -> BookOrder | None:
        """Delete an order (L3 ``delete``); the level goes when its last order goes."""
        order = self._orders.pop(order_id, None)
        if order is None:
            return None
        touch = self._touch(order.side, order.price)
        levels = self.sides[order.side]
        level: Level = levels[order.price]
        del level.orders[order_id]
        level.qty -= order.qty
        if not level.orders:
            del levels[order.price]
        touch.events.append(("delete", order_id, order.price, order.qty, self.now_ns()))
        return order

    def get_order(self, order_id: str) -> BookOrder | None:
        """The resting order with this id, if any."""
        return self._orders.get(order_id)

    def best(self, side: WireSide) -> tuple[Decimal, Decimal] | None:
        """``(price, qty)`` of the best level of ``side``."""
        levels = self.sides[side]
        if not levels:
            return None
        price, level = levels.peekitem(0)
        return price, level.qty

    def bbo(self) -> tuple[object, ...]:
        """Best bid and ask, price and quantity."""
        return (self.best("bids"), self.best("asks"))

    def top(self, side: WireSide, count: int) -> list[tuple[Decimal, Decimal]]:
        """The ``count`` best levels of ``side`` as ``(price, qty)``, best first."""
        levels = self.sides[side]
        return [(p, levels[p].qty) for p in levels.islice(0, min(count, len(levels)))]

    def top_orders(self, side: WireSide, count: int) -> list[BookOrder]:
        """Every order of the ``count`` best levels of ``side``, in book order."""
        levels = self.sides[side]
        out: list[BookOrder] = []
        for price in levels.islice(0, min(count, len(levels))):
            out.extend(levels[price].orders.values())
        return out

    def checksum(self) -> int:
        """L2 checksum of the current book (computed on the wire tokens)."""
        return book_checksum(self.top("asks", 10), self.top("bids", 10))

    def l3_checksum(self) -> int:
        """L3 checksum of the current book."""
        return level3_checksum(
            [(o.price, o.qty) for o in self.top_orders("asks", 10)],
            [(o.price, o.qty) for o in self.top_orders("bids", 10)],
        )

    def flush(self) -> TickResult | None:
        """Close the current tick; return its changes (``None`` if nothing happened)."""
        record = self._record
        if record is None:
            return None
        self._record = None
        if not (record.touched["bids"] or record.touched["asks"] or record.trades):
            return None
        return TickResult(self, record, self._clock())

    # -- matching -------------------------------------------------------------------------

    def take(
        self,
        taker_side: Side,
        qty: Decimal | None,
        limit: Decimal | None = None,
        cash: Decimal | None = None,
        ord_type: str = "market",
        self_match: Callable[[BookOrder], bool] | None = None,
    ) -> list[tuple[Decimal, Decimal, int, str | None]]:
        """Match an incoming order against the book.

        Args:
            taker_side: ``buy`` consumes asks, ``sell`` consumes bids.
            qty: Base quantity to fill (``None`` with ``cash``).
            limit: Worst acceptable price (``None`` = market).
            cash: Quote amount to spend instead of ``qty`` (market buys).
            ord_type: Taker type reported on the trade channel.
            self_match: Called when the next maker belongs to a user; returns ``True`` to stop
                the taker (the callback may remove the maker itself before returning ``False``).

        Returns:
            ``(price, qty, trade_id, maker_owner)`` per fill, in order.
        """
        book_side: WireSide = "asks" if taker_side == "buy" else "bids"
        levels = self.sides[book_side]
        fills: list[tuple[Decimal, Decimal, int, str | None]] = []
        maker_fills: list[MakerFill] = []
        remaining = qty
        budget = cash
        while levels:
            if remaining is not None and remaining <= 0:
                break
            price, level = levels.peekitem(0)
            if limit is not None and (price > limit if taker_side == "buy" else price < limit):
                break
            order: BookOrder = next(iter(level.orders.values()))
            if order.owner is not None and self_match is not None:
                if self_match(order) or order.order_id in self._orders:
                    break  # stop requested, or the callback left the maker in place
                continue
            take_qty = order.qty if remaining is None else min(order.qty, remaining)
            if budget is not None:
                affordable = self.spec.qty(budget / price)
                take_qty = min(take_qty, affordable)
                if take_qty <= 0:
                    break
                budget -= take_qty * price
            trade = self._record_trade(taker_side, price, take_qty, ord_type)
            fills.append((price, take_qty, trade.trade_id, order.owner))
            left = order.qty - take_qty
            if order.owner is not None:
                maker_fills.append(
                    MakerFill(order, order.owner, price, take_qty, trade.trade_id, left)
                )
            if left > 0:
                self.modify_order(order.order_id, self.spec.qty(left))
            else:
                self.remove_order(order.order_id)
            if remaining is not None:
                remaining -= take_qty
        if self.listener is not None:
            for fill in maker_fills:
                self.listener.on_maker_fill(self.symbol, fill)
            if fills:
                self.listener.on_last_price(self.symbol, self.last)
        return fills

    def _record_trade(self, side: Side, price: Decimal, qty: Decimal, ord_type: str) -> TradeRecord:
        record = self._begin()
        now = self._clock()
        trade = TradeRecord(
            self._next_trade_id, self.symbol, side, price, qty, ord_type, rfc3339(now)
        )
        self._next_trade_id += 1
        record.trades.append(trade)
        self.recent_trades.append(trade)
        self.last = price
        self.high = max(self.high, price)
        self.low = min(self.low, price)
        self.volume += qty
        self._notional += price * qty
        for interval in OHLC_INTERVALS:
            candle = self.candle(interval, now)
            candle.high = max(candle.high, price)
            candle.low = min(candle.low, price)
            candle.close = price
            candle.volume += qty
            candle.notional += price * qty
            candle.trades += 1
        return trade

    def random_tick(self) -> TickResult | None:
        """Apply one random market event (at least one L3 change) and flush it."""
        return self._flow.tick()

    # -- derived public data ----------------------------------------------------------------

    def candle(self, interval: int, now: float | None = None) -> Candle:
        """The current candle of ``interval`` minutes (rolled over if its period ended)."""
        now = self._clock() if now is None else now
        begin = int(now // (interval * 60)) * interval * 60
        candle = self.candles.get(interval)
        if candle is None or candle.begin != begin:
            if candle is not None:
                self.candle_history[interval].append(candle)
            candle = Candle(
                begin, self.last, self.last, self.last, self.last, self.zero_qty, Decimal(0), 0
            )
            self.candles[interval] = candle
        return candle

    def vwap(self) -> Decimal:
        """Volume-weighted average price since start (the "24 h" figure of the ticker)."""
        if self.volume == 0:
            return self.last
        return self.spec.price(self._notional / self.volume)

    def change(self) -> tuple[Decimal, Decimal]:
        """Price change since start: (absolute, percent with 2 decimals)."""
        change = self.last - self._open_price
        pct = (change * 100 / self._open_price).quantize(Decimal("0.01"))
        return change, pct


class Market:
    """Every instrument's `SymbolMarket`, sharing one seeded random source.

    Args:
        instruments: The instruments to simulate.
        seed: Random seed (same seed, same clock, same requests: same frames).
        clock: Epoch seconds.
        levels: Levels per side of every book.
    """

    def __init__(
        self,
        instruments: list[InstrumentSpec],
        seed: int,
        clock: Callable[[], float],
        levels: int = 1100,
    ) -> None:
        self.rng = random.Random(seed)
        self.clock = clock
        self.instruments = {spec.symbol: spec for spec in instruments}
        self.symbols: dict[str, SymbolMarket] = {
            spec.symbol: SymbolMarket(spec, self.rng, clock, self.new_order_id, levels)
            for spec in instruments
        }

    def new_order_id(self) -> str:
        """A Kraken-style order id, e.g. ``OK4GJX-KSTLS-7DZZO5``."""
        return "O" + self._kraken_id()

    def new_id(self, prefix: str) -> str:
        """A Kraken-style id with a custom first letter (``T`` trades, ``L`` ledger entries)."""
        return prefix + self._kraken_id()

    def _kraken_id(self) -> str:
        alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"
        chars = "".join(self.rng.choice(alphabet) for _ in range(16))
        return f"{chars[:5]}-{chars[5:10]}-{chars[10:]}"

    def __getitem__(self, symbol: str) -> SymbolMarket:
        return self.symbols[symbol]
