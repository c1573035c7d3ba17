"""Simulated market data for the local exchange.

Theory of operation
===================

Each instrument has one deep, order-by-order book (:class:`SymbolMarket`): price levels in a
``SortedDict`` per side (best first), each level a FIFO of :class:`BookOrder` (simulated liquidity
and the users' resting orders alike). The L2 ``book`` feed, the ``level3`` feed, trades, ticker
and candles are all *derived* from that one book, so they agree with each other by construction.

Mutations are recorded in a :class:`_TickRecord` as they happen: for every touched price the level
quantity before the first touch and the L3 events in order, plus, captured at the first mutation,
the price at each subscribable depth's boundary. :meth:`SymbolMarket.flush` closes the record and
hands a :class:`TickResult` to the publisher, which asks it for the changes *one subscriber
depth sees*:

* a touched level inside the new window is sent with its new quantity;
* a touched level that was inside the old window and no longer exists is sent with qty 0;
* a level still in the book but pushed below the window is **not** sent (the client truncates);
* an untouched level that entered the window from below is sent as an insert (L3: all of its
  orders as ``add``).

Applying those changes and truncating to the depth reproduces the server's window exactly, which
is what makes the checksum (top 10 of each side, the same for every depth) verifiable.

Every price and quantity is a ``Decimal`` quantized to the instrument's precision, so that the JSON
number tokens carry trailing zeros (``0.10000000``) exactly as Kraken's engine does.
"""

from __future__ import annotations

import math
import operator
import random
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import ROUND_DOWN, ROUND_HALF_EVEN, Decimal
from typing import Literal, Protocol, TypeAlias

from sortedcontainers import SortedDict

from kraken_ws.book.checksum import book_checksum, level3_checksum

__all__ = [
    "BOOK_DEPTHS",
    "DEFAULT_INSTRUMENTS",
    "L3_DEPTHS",
    "OHLC_INTERVALS",
    "BookOrder",
    "Candle",
    "InstrumentSpec",
    "Market",
    "SymbolMarket",
    "TickResult",
    "TradeRecord",
    "rfc3339",
]

Side: TypeAlias = Literal["buy", "sell"]
BookSide: TypeAlias = Literal["bids", "asks"]
L3EventKind: TypeAlias = Literal["add", "modify", "delete"]

BOOK_DEPTHS: tuple[int, ...] = (10, 25, 100, 500, 1000)
"""Depths of the ``book`` channel."""
L3_DEPTHS: tuple[int, ...] = (10, 100, 1000)
"""Depths of the ``level3`` channel."""
OHLC_INTERVALS: tuple[int, ...] = (1, 5, 15, 30, 60, 240, 1440, 10080, 21600)
"""Candle intervals (minutes)."""

_ALL_DEPTHS = tuple(sorted(set(BOOK_DEPTHS) | set(L3_DEPTHS)))
_RECENT_TRADES = 50
_CANDLE_HISTORY = 10
_MAX_ORDERS_PER_LEVEL = 6


def rfc3339(ts: float, digits: int = 6) -> str:
    """Format epoch seconds as an RFC3339 UTC timestamp with ``digits`` fractional digits.

    Args:
        ts: Seconds since the epoch.
        digits: 0, 6 (microseconds) or 9 (nanoseconds, Kraken's L3/ohlc precision).

    Returns:
        e.g. ``2023-09-25T09:04:31.742648Z``.
    """
    seconds = math.floor(ts)
    base = datetime.fromtimestamp(seconds, tz=UTC).strftime("%Y-%m-%dT%H:%M:%S")
    if digits == 0:
        return base + "Z"
    frac = round((ts - seconds) * 10**digits)
    frac = min(frac, 10**digits - 1)
    return f"{base}.{frac:0{digits}d}Z"


@dataclass(frozen=True)
class InstrumentSpec:
    """One simulated instrument.

    Args:
        symbol: v2 symbol, e.g. ``"BTC/USD"``.
        base: Base asset, e.g. ``"BTC"``.
        quote: Quote asset, e.g. ``"USD"``.
        price_precision: Decimals of prices (``price_increment`` = 10**-price_precision).
        qty_precision: Decimals of quantities.
        start_price: Initial mid price.
        typical_qty: Size scale of a simulated resting order.
        tick_gap: Average gap between adjacent book levels, in price increments.
        qty_min: Minimum order quantity (default: one quantity increment).
        cost_precision: Decimals of costs.
        cost_min: Minimum order cost in quote currency.
        rest_name: REST pair key, e.g. ``"XXBTZUSD"`` (default: base + quote).
        rest_altname: REST ``altname``, e.g. ``"XBTUSD"`` (default: base + quote).
        rest_wsname: REST ``wsname`` (the v1 name), e.g. ``"XBT/USD"`` (default: symbol).
    """

    symbol: str
    base: str
    quote: str
    price_precision: int
    qty_precision: int
    start_price: Decimal
    typical_qty: Decimal = Decimal(1)
    tick_gap: int = 2
    qty_min: Decimal | None = None
    cost_precision: int = 5
    cost_min: Decimal = Decimal("0.5")
    rest_name: str = ""
    rest_altname: str = ""
    rest_wsname: str = ""

    @property
    def price_increment(self) -> Decimal:
        """The tick: ``Decimal(1).scaleb(-price_precision)``."""
        return Decimal(1).scaleb(-self.price_precision)

    @property
    def qty_increment(self) -> Decimal:
        """Smallest quantity step."""
        return Decimal(1).scaleb(-self.qty_precision)

    @property
    def min_qty(self) -> Decimal:
        """Minimum order quantity."""
        return self.qty_min if self.qty_min is not None else self.qty_increment

    @property
    def rest_base(self) -> str:
        """Base asset code in REST naming (``XXBT`` for BTC)."""
        return {"BTC": "XXBT", "ETH": "XETH"}.get(self.base, self.base)

    @property
    def rest_quote(self) -> str:
        """Quote asset code in REST naming (``ZUSD`` for USD)."""
        return {"USD": "ZUSD", "EUR": "ZEUR"}.get(self.quote, self.quote)

    @property
    def rest_aliases(self) -> frozenset[str]:
        """Every name REST ``AssetPairs`` resolves to this instrument."""
        return frozenset(
            {
                self.symbol,
                self.rest_name or self.base + self.quote,
                self.rest_altname or self.base + self.quote,
                self.rest_wsname or self.symbol,
            }
        )

    def price(self, value: Decimal | int | str) -> Decimal:
        """Quantize a price to the instrument's precision (trailing zeros kept)."""
        return Decimal(value).quantize(self.price_increment, rounding=ROUND_HALF_EVEN)

    def qty(self, value: Decimal | int | str) -> Decimal:
        """Quantize a quantity to the instrument's precision (rounding down)."""
        return Decimal(value).quantize(self.qty_increment, rounding=ROUND_DOWN)


DEFAULT_INSTRUMENTS: tuple[InstrumentSpec, ...] = (
    InstrumentSpec(
        "BTC/USD",
        "BTC",
        "USD",
        1,
        8,
        Decimal("60000.0"),
        Decimal("0.5"),
        2,
        qty_min=Decimal("0.0001"),
        rest_name="XXBTZUSD",
        rest_altname="XBTUSD",
        rest_wsname="XBT/USD",
    ),
    InstrumentSpec(
        "ETH/USD",
        "ETH",
        "USD",
        2,
        8,
        Decimal("3000.00"),
        Decimal("5"),
        3,
        qty_min=Decimal("0.002"),
        rest_name="XETHZUSD",
        rest_altname="ETHUSD",
        rest_wsname="ETH/USD",
    ),
    # PEPE: 9 price decimals and quantities above 10**9, where float-based clients drop digits.
    InstrumentSpec(
        "PEPE/USD",
        "PEPE",
        "USD",
        9,
        2,
        Decimal("0.000012345"),
        Decimal("3000000000"),
        3,
        qty_min=Decimal("50000"),
        cost_precision=5,
        rest_name="PEPEUSD",
        rest_altname="PEPEUSD",
        rest_wsname="PEPE/USD",
    ),
)
"""BTC/USD (price precision 1, qty 8), ETH/USD (2, 8), PEPE/USD (9, 2)."""


class BookOrder:
    """One resting order in the simulated book (visible quantity only)."""

    __slots__ = ("order_id", "owner", "price", "qty", "side", "timestamp")

    def __init__(
        self,
        order_id: str,
        side: BookSide,
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


class _Level:
    __slots__ = ("orders", "qty")

    def __init__(self) -> None:
        self.orders: dict[str, BookOrder] = {}
        self.qty = Decimal(0)


#: One L3 event: (event, order_id, price, qty, timestamp).
L3Event: TypeAlias = tuple[L3EventKind, str, Decimal, Decimal, str]


@dataclass
class _Touch:
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


class _TickRecord:
    __slots__ = ("bbo", "boundaries", "touched", "trades")

    def __init__(
        self, boundaries: dict[BookSide, dict[int, Decimal | None]], bbo: tuple[object, ...]
    ):
        self.boundaries = boundaries
        self.touched: dict[BookSide, dict[Decimal, _Touch]] = {"bids": {}, "asks": {}}
        self.trades: list[TradeRecord] = []
        self.bbo = bbo


class TickResult:
    """The changes of one tick, viewed per subscriber depth (valid until the next mutation)."""

    def __init__(self, market: SymbolMarket, record: _TickRecord, timestamp: float) -> None:
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

    def _window(self, side: BookSide, depth: int) -> tuple[Decimal | None, Decimal | None]:
        return self._record.boundaries[side][depth], self._market.boundary(side, depth)

    def book_changes(self, side: BookSide, depth: int) -> list[tuple[Decimal, Decimal]]:
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

    def l3_changes(self, side: BookSide, depth: int) -> list[L3Event]:
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
                out.extend(_adds(level))
            elif in_old and (in_new or level is None):
                out.extend(touch.events)
        for price in self._entering(side, depth, old_b):
            if price not in touched:
                out.extend(_adds(levels[price]))
        return out

    def _entering(self, side: BookSide, depth: int, old_b: Decimal | None) -> Iterator[Decimal]:
        # Untouched levels keep their relative order, so the ones that entered the window are
        # exactly those worse than the old boundary: walk the new window from its far end.
        levels = self._market.sides[side]
        better = self._market.better_or_equal[side]
        stop = min(depth, len(levels))
        for price in levels.islice(0, stop, reverse=True):
            if old_b is not None and better(price, old_b):
                break
            yield price


def _adds(level: _Level) -> Iterator[L3Event]:
    for order in level.orders.values():
        yield ("add", order.order_id, order.price, order.qty, order.timestamp)


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
        self._rng = rng
        self._clock = clock
        self._new_order_id = new_order_id
        self._target_levels = levels
        self.sides: dict[BookSide, SortedDict] = {
            "bids": SortedDict(operator.neg),
            "asks": SortedDict(),
        }
        self.better_or_equal: dict[BookSide, Callable[[Decimal, Decimal], bool]] = {
            "bids": _ge,
            "asks": _le,
        }
        self.zero_qty = spec.qty(0)
        self._orders: dict[str, BookOrder] = {}
        self._record: _TickRecord | None = None
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
        self._seed_book()

    # -- book primitives ------------------------------------------------------------------

    def _now_ns(self) -> str:
        return rfc3339(self._clock(), 9)

    def _begin(self) -> _TickRecord:
        if self._record is None:
            boundaries: dict[BookSide, dict[int, Decimal | None]] = {
                side: {d: self.boundary(side, d) for d in _ALL_DEPTHS} for side in self.sides
            }
            self._record = _TickRecord(boundaries, self.bbo())
        return self._record

    def boundary(self, side: BookSide, depth: int) -> Decimal | None:
        """Price of the last level inside a ``depth`` window (``None`` if the side is empty)."""
        levels = self.sides[side]
        if not levels:
            return None
        price: Decimal = levels.peekitem(min(depth, len(levels)) - 1)[0]
        return price

    def _touch(self, side: BookSide, price: Decimal) -> _Touch:
        record = self._begin()
        touched = record.touched[side]
        touch = touched.get(price)
        if touch is None:
            level = self.sides[side].get(price)
            touch = _Touch(level.qty if level is not None else None)
            touched[price] = touch
        return touch

    def add_order(
        self,
        side: BookSide,
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
            level = levels[price] = _Level()
        ts = timestamp or self._now_ns()
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
        level: _Level = self.sides[order.side][order.price]
        level.qty += qty - order.qty
        order.qty = qty
        order.timestamp = self._now_ns()
        touch.events.append(("modify", order_id, order.price, qty, order.timestamp))

    def remove_order(self, order_id: str) -> BookOrder | None:
        """Delete an order (L3 ``delete``); the level goes when its last order goes."""
        order = self._orders.pop(order_id, None)
        if order is None:
            return None
        touch = self._touch(order.side, order.price)
        levels = self.sides[order.side]
        level: _Level = levels[order.price]
        del level.orders[order_id]
        level.qty -= order.qty
        if not level.orders:
            del levels[order.price]
        touch.events.append(("delete", order_id, order.price, order.qty, self._now_ns()))
        return order

    def get_order(self, order_id: str) -> BookOrder | None:
        """The resting order with this id, if any."""
        return self._orders.get(order_id)

    def best(self, side: BookSide) -> tuple[Decimal, Decimal] | None:
        """``(price, qty)`` of the best level of ``side``."""
        levels = self.sides[side]
        if not levels:
            return None
        price, level = levels.peekitem(0)
        return price, level.qty

    def bbo(self) -> tuple[object, ...]:
        """Best bid and ask, price and quantity."""
        return (self.best("bids"), self.best("asks"))

    def top(self, side: BookSide, count: int) -> list[tuple[Decimal, Decimal]]:
        """The ``count`` best levels of ``side`` as ``(price, qty)``, best first."""
        levels = self.sides[side]
        return [(p, levels[p].qty) for p in levels.islice(0, min(count, len(levels)))]

    def top_orders(self, side: BookSide, count: int) -> list[BookOrder]:
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
        book_side: BookSide = "asks" if taker_side == "buy" else "bids"
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

    # -- random walk ----------------------------------------------------------------------

    def _seed_book(self) -> None:
        spec = self.spec
        tick = spec.price_increment
        mid = spec.price(spec.start_price)
        gap = max(1, spec.tick_gap)
        now = self._now_ns()
        for side, sign in (("bids", -1), ("asks", 1)):
            price = mid + sign * tick * self._rng.randint(1, gap)
            for _ in range(self._target_levels):
                for _ in range(self._rng.randint(1, 3)):
                    self.add_order(side, price, self._random_qty(), timestamp=now)  # type: ignore[arg-type]
                price += sign * tick * self._rng.randint(1, 2 * gap - 1)
        # The seed is not a tick anyone saw: start clean.
        self._record = None

    def _random_qty(self) -> Decimal:
        factor = Decimal(self._rng.randint(1, 4000)) / 1000
        qty = self.spec.qty(
            self.spec.typical_qty * factor + self.spec.qty_increment * self._rng.randint(0, 10**6)
        )
        return max(qty, self.spec.min_qty)

    def random_tick(self) -> TickResult | None:
        """Apply one random market event (at least one L3 change) and flush it."""
        rng = self._rng
        side: BookSide = "bids" if rng.random() < 0.5 else "asks"
        roll = rng.random()
        # Adds outnumber removals slightly until the book holds ~2 orders per level, then less:
        # the order count (and the server's memory) stays flat however long it runs.
        add_share = 0.42 if len(self._orders) < 4 * self._target_levels else 0.30
        if roll < add_share:
            self._random_add(side)
        elif roll < 0.66:
            self._random_cancel(side)
        elif roll < 0.82:
            self._random_modify(side)
        elif self.trading_enabled:
            qty = self.spec.qty(self.spec.typical_qty * Decimal(rng.randint(50, 1500)) / 1000)
            self.take(
                "buy" if side == "asks" else "sell",
                max(qty, self.spec.min_qty),
                ord_type="market" if rng.random() < 0.7 else "limit",
            )
        else:
            self._random_add(side)
        self._maintain_depth()
        return self.flush()

    def _near_top_price(self, side: BookSide) -> Decimal:
        rank = min(int(self._rng.expovariate(1 / 4)), 60)
        levels = self.sides[side]
        return levels.peekitem(min(rank, len(levels) - 1))[0]  # type: ignore[no-any-return]

    def _random_add(self, side: BookSide) -> None:
        rng = self._rng
        tick = self.spec.price_increment
        best_bid = self.best("bids")
        best_ask = self.best("asks")
        assert best_bid is not None
        assert best_ask is not None
        spread_ticks = int((best_ask[0] - best_bid[0]) / tick)
        sign = -1 if side == "bids" else 1
        if spread_ticks > 1 and rng.random() < 0.25:
            # Improve the spread: this is how the mid price walks.
            price = (
                best_bid[0] + tick * rng.randint(1, spread_ticks - 1)
                if side == "bids"
                else best_ask[0] - tick * rng.randint(1, spread_ticks - 1)
            )
        else:
            price = self._near_top_price(side) + sign * tick * rng.randint(0, 2)
        level = self.sides[side].get(price)
        if level is not None and len(level.orders) >= _MAX_ORDERS_PER_LEVEL:
            price += sign * tick
        self.add_order(side, self.spec.price(price), self._random_qty())

    def _simulated_order(self, side: BookSide) -> BookOrder | None:
        for _ in range(4):
            level: _Level = self.sides[side][self._near_top_price(side)]
            candidates = [o for o in level.orders.values() if o.owner is None]
            if candidates:
                return self._rng.choice(candidates)
        return None

    def _random_cancel(self, side: BookSide) -> None:
        order = self._simulated_order(side)
        if order is not None:
            self.remove_order(order.order_id)

    def _random_modify(self, side: BookSide) -> None:
        order = self._simulated_order(side)
        if order is None:
            return
        qty = self.spec.qty(order.qty * Decimal(self._rng.randint(10, 90)) / 100)
        if qty > 0:
            self.modify_order(order.order_id, qty)
        else:
            self.remove_order(order.order_id)

    def _maintain_depth(self) -> None:
        # Bounded memory and an always-full depth-1000 window: refill or trim the far end only.
        spec = self.spec
        tick = spec.price_increment
        for side, sign in (("bids", -1), ("asks", 1)):
            levels = self.sides[side]  # type: ignore[index]
            while len(levels) < self._target_levels:
                worst = levels.peekitem(-1)[0]
                price = worst + sign * tick * self._rng.randint(1, 2 * spec.tick_gap)
                if price <= 0:
                    break
                self.add_order(side, price, self._random_qty())  # type: ignore[arg-type]
            while len(levels) > self._target_levels + 200:
                _, level = levels.peekitem(-1)
                for order_id in list(level.orders):
                    if level.orders[order_id].owner is None:
                        self.remove_order(order_id)
                if levels.peekitem(-1)[1] is level:
                    break  # a user's order rests there; keep it


class Market:
    """Every instrument's :class:`SymbolMarket`, sharing one seeded random source.

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
