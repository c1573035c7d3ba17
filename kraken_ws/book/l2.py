"""The L2 (``book`` channel) order book engine: pure, no I/O, no clock."""

from __future__ import annotations

import heapq
from bisect import bisect_left, bisect_right
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from typing import Literal, NamedTuple, TypeAlias

from kraken_ws.exceptions import BookIntegrityError
from kraken_ws.models.channels.book import BookData, BookLevel, BookSnapshot, BookUpdate

from ._state import BookState, check_precision
from .checksum import CHECKSUM_LEVELS, level_token

__all__ = ["ApplyResult", "BookSide", "BookView", "OrderBook", "PriceLevel"]

BookSide: TypeAlias = Literal["bid", "ask"]
"""A side of the book: ``"bid"`` (buyers resting) or ``"ask"`` (sellers resting)."""

PriceLevel: TypeAlias = tuple[Decimal, Decimal]
"""``(price, qty)`` of one aggregated level."""

_ZERO = Decimal(0)


class ApplyResult(NamedTuple):
    """What applying one book message did (an immutable named tuple).

    A named tuple rather than a frozen dataclass because one is built per message: it costs
    about a third of the dataclass's construction on the hot path.

    Attributes:
        symbol: The book's symbol.
        checksum_ok: ``True`` when our checksum equals the server's.
        expected: The server's checksum (``checksum`` field of the message).
        computed: Ours, after applying the message and truncating to depth.
        snapshot: ``True`` when the message was a snapshot.
    """

    symbol: str
    checksum_ok: bool
    expected: int
    computed: int
    snapshot: bool = False


@dataclass(frozen=True, slots=True)
class BookView:
    """An immutable copy of an :class:`OrderBook` at one moment.

    Attributes:
        symbol: The book's symbol.
        bids: ``(price, qty)`` levels, best (highest) first.
        asks: ``(price, qty)`` levels, best (lowest) first.
        checksum: The checksum we computed after the last message, or ``None`` before any.
        is_valid: Whether the book was in sync with the server.
        timestamp: Wire timestamp text of the last applied message, if it had one.
    """

    symbol: str
    bids: tuple[PriceLevel, ...]
    asks: tuple[PriceLevel, ...]
    checksum: int | None
    is_valid: bool
    timestamp: str | None


# tuple.__new__ with the fields in order skips the generated __new__'s argument handling.
_tuple_new = tuple.__new__

# An update with more levels than this on one side is applied like a snapshot (_Ladder.load).
# One level at a time costs a bisect and one list.insert into a list of up to depth + m
# entries, so m levels cost O(m * (depth + m)): fine for the 1-3 levels of a live update and
# still cheaper than sorting below a few hundred, quadratic for a hostile 100,000.
_BULK_LEVELS = 256

# Entries beyond 2 * depth that _best_levels selects before resolving a long, unsorted input.
_SELECT = 64


class _Ladder:
    """One side of an L2 book: parallel lists of prices (ascending), quantities and tokens.

    Lists searched with ``bisect`` rather than a dict keyed by price: hashing a freshly decoded
    ``Decimal`` costs about 0.3 µs (CPython computes a modular power of ten for its exponent),
    more than a binary search over 1,000 sorted prices (ten C-level comparisons), and every
    level of every update arrives as a new ``Decimal``. One search finds the level; a new or
    removed level is one ``memmove`` per list (at most ~1,000 pointers); nothing is re-sorted
    per level. Snapshots and updates longer than ``_BULK_LEVELS`` are sorted once instead
    (:meth:`load`), so no message costs more than O(n log n) in its levels. Bids are kept
    ascending too and read from the end, so the best levels of both sides are where slices
    are cheapest and a snapshot's worst-first truncation is one slice.

    ``_tokens[i]`` caches the checksum token (``fmt(price) + fmt(qty)``) of level ``i``, or
    ``None`` until it is needed; a change at one of the 10 best levels renders its token at once
    (it is about to be used) and marks the cached top-10 text dirty, a change further down does
    neither, which at depth 100 or 1000 skips most rebuilds.
    """

    __slots__ = ("_descending", "_dirty", "_prices", "_qtys", "_text", "_tokens")

    def __init__(self, *, descending: bool) -> None:
        self._descending = descending
        self._prices: list[Decimal] = []
        self._qtys: list[Decimal] = []
        self._tokens: list[bytes | None] = []
        self._text = b""
        self._dirty = True

    def clear(self) -> None:
        self._prices.clear()
        self._qtys.clear()
        self._tokens.clear()
        self._dirty = True

    def forget_tokens(self) -> None:
        self._tokens[:] = [None] * len(self._prices)
        self._dirty = True

    def __len__(self) -> int:
        return len(self._prices)

    def apply(
        self, levels: list[BookLevel], price_precision: int | None, qty_precision: int | None
    ) -> None:
        # Locals: this loop is the hot path of every update.
        prices = self._prices
        qtys = self._qtys
        tokens = self._tokens
        descending = self._descending
        dirty = False
        for level in levels:
            price = level.price
            qty = level.qty
            n = len(prices)
            i = bisect_left(prices, price)
            held = i < n and prices[i] == price
            # rank: 0 for the best level of this side, counted after the change.
            if qty:
                if held:
                    # The level keeps the price object it was created with (the token is rendered
                    # from it, here and when it re-enters the top 10): "61234.50" updating a
                    # level held as "61234.5" changes its qty, not its checksum text.
                    price = prices[i]
                    qtys[i] = qty
                    rank = n - 1 - i if descending else i
                else:
                    prices.insert(i, price)
                    qtys.insert(i, qty)
                    rank = n - i if descending else i
                if rank < CHECKSUM_LEVELS:
                    token: bytes | None = level_token(
                        price, qty, price_precision, qty_precision
                    ).encode("ascii")
                    dirty = True
                else:
                    token = None
                if held:
                    tokens[i] = token
                else:
                    tokens.insert(i, token)
            elif held:
                del prices[i]
                del qtys[i]
                del tokens[i]
                if (n - 1 - i if descending else i) < CHECKSUM_LEVELS:
                    dirty = True
            # else: deleting a level we do not hold changes nothing.
        if dirty:
            self._dirty = True

    def load(self, levels: list[BookLevel], depth: int) -> None:
        # Many levels at once (a snapshot, or an update longer than _BULK_LEVELS): the same
        # result as apply() then truncate(depth), without one list.insert per level into a
        # growing list (quadratic: a 240,000-level snapshot took 7 s). See _best_levels.
        prices = self._prices + [level.price for level in levels]
        qtys = self._qtys + [level.qty for level in levels]
        kept_prices, kept_qtys = _best_levels(prices, qtys, depth, self._descending)
        if self._descending:
            kept_prices.reverse()
            kept_qtys.reverse()
        self._prices[:] = kept_prices
        self._qtys[:] = kept_qtys
        # Tokens are rendered when the checksum needs them (the 10 best levels only).
        self._tokens[:] = [None] * len(kept_prices)
        self._dirty = True

    def truncate(self, depth: int) -> None:
        excess = len(self._prices) - depth
        if excess <= 0:
            return
        # The worst levels sit at the end of the ascending lists for asks, the start for bids.
        if self._descending:
            del self._prices[:excess]
            del self._qtys[:excess]
            del self._tokens[:excess]
        else:
            del self._prices[depth:]
            del self._qtys[depth:]
            del self._tokens[depth:]
        if depth < CHECKSUM_LEVELS:
            self._dirty = True

    def checksum_text(self, price_precision: int | None, qty_precision: int | None) -> bytes:
        if not self._dirty:
            return self._text
        tokens = self._tokens
        top = tokens[: -CHECKSUM_LEVELS - 1 : -1] if self._descending else tokens[:CHECKSUM_LEVELS]
        try:
            # A level that moved into the top 10 from further down has no token yet: render
            # the missing ones only when the join finds one (rare enough to pay an exception).
            text = b"".join(top)  # type: ignore[arg-type]
        except TypeError:
            n = len(tokens)
            indexes = (
                range(n - 1, max(n - 1 - CHECKSUM_LEVELS, -1), -1)
                if self._descending
                else range(min(n, CHECKSUM_LEVELS))
            )
            prices = self._prices
            qtys = self._qtys
            for i in indexes:
                if tokens[i] is None:
                    tokens[i] = level_token(
                        prices[i], qtys[i], price_precision, qty_precision
                    ).encode("ascii")
            text = b"".join([tokens[i] for i in indexes])  # type: ignore[misc]
        self._text = text
        self._dirty = False
        return text

    def top_prices(self, n: int | None = None) -> list[Decimal]:
        prices = self._prices
        if n is None:
            return prices[::-1] if self._descending else prices[:]
        if n <= 0:
            return []
        return prices[: -n - 1 : -1] if self._descending else prices[:n]

    def levels(self, n: int | None = None) -> list[PriceLevel]:
        prices = self._prices
        qtys = self._qtys
        if n is None:
            n = len(prices)
        elif n <= 0:
            return []
        if self._descending:
            return list(zip(prices[: -n - 1 : -1], qtys[: -n - 1 : -1], strict=True))
        return list(zip(prices[:n], qtys[:n], strict=True))

    def best(self) -> PriceLevel | None:
        if not self._prices:
            return None
        i = -1 if self._descending else 0
        return self._prices[i], self._qtys[i]

    def qty_at(self, price: Decimal) -> Decimal | None:
        prices = self._prices
        i = bisect_left(prices, price)
        if i < len(prices) and prices[i] == price:
            return self._qtys[i]
        return None

    def through(self, to_price: Decimal) -> list[PriceLevel]:
        # Levels from the best through ``to_price`` inclusive.
        prices = self._prices
        qtys = self._qtys
        if self._descending:
            i = bisect_left(prices, to_price)
            return list(zip(prices[i:][::-1], qtys[i:][::-1], strict=True))
        j = bisect_right(prices, to_price)
        return list(zip(prices[:j], qtys[:j], strict=True))

    def walk(self) -> Iterator[PriceLevel]:
        # Best first and lazy: a fill usually stops after a few levels of a deep book.
        if self._descending:
            return zip(reversed(self._prices), reversed(self._qtys), strict=True)
        return zip(self._prices, self._qtys, strict=True)


def _best_levels(
    prices: list[Decimal], qtys: list[Decimal], depth: int, descending: bool
) -> tuple[list[Decimal], list[Decimal]]:
    """The ``depth`` best levels left by applying ``(prices[i], qtys[i])`` in order, best first.

    The entries are the levels held (distinct prices, nonzero quantities) followed by a
    message's levels in array order. Entries are ranked best first by a stable sort (or, for
    many entries, first by a stable partial selection), so the entries of one price stay in
    arrival order: the last one decides (qty 0 deletes), and a level that survives keeps the
    price object it was created with, that of the first entry after the last delete (what
    :meth:`_Ladder.apply` does). Only the best prices are resolved, until ``depth`` are kept.

    Cost: O(n log n) at worst. The wire's sides arrive sorted, which the sort does in linear
    time; shuffled input is first narrowed to the ``_SELECT`` best entries in O(n log k), and
    sorted in full only when deletes and repeats among those leave fewer than ``depth`` levels.
    """
    n = len(prices)
    key = prices.__getitem__
    select = 2 * depth + _SELECT
    if n > 2 * select:
        best = (heapq.nlargest if descending else heapq.nsmallest)(select, range(n), key=key)
        # Every entry strictly better than the worst one selected is among those selected;
        # entries at that price may not all be, so that price is not resolved from them.
        kept = _resolve(prices, qtys, best, depth, prices[best[-1]])
        if kept is not None:
            return kept
    order = sorted(range(n), key=key, reverse=descending)
    kept = _resolve(prices, qtys, order, depth, None)
    assert kept is not None
    return kept


def _resolve(
    prices: list[Decimal],
    qtys: list[Decimal],
    order: list[int],
    depth: int,
    stop: Decimal | None,
) -> tuple[list[Decimal], list[Decimal]] | None:
    # ``order``: entry indexes best first, arrival order within a price. None when ``stop``
    # (a price whose entries may be incomplete) is reached before ``depth`` levels are kept.
    kept_prices: list[Decimal] = []
    kept_qtys: list[Decimal] = []
    n = len(order)
    i = 0
    while i < n and len(kept_prices) < depth:
        price = prices[order[i]]
        if stop is not None and price == stop:
            return None
        j = i + 1
        while j < n and prices[order[j]] == price:
            j += 1
        qty = qtys[order[j - 1]]
        if qty:
            start = j - 1
            while start > i and qtys[order[start - 1]]:
                start -= 1
            kept_prices.append(prices[order[start]])
            kept_qtys.append(qty)
        i = j
    return kept_prices, kept_qtys


class OrderBook(BookState):
    """An L2 order book of one symbol, kept from ``book`` channel messages.

    A pure engine: it applies decoded messages, truncates to the subscribed depth and verifies
    Kraken's checksum, and knows nothing about sockets or time. Deciding to resubscribe after a
    mismatch is the caller's job (see :class:`~kraken_ws.book.BookManager`).

    Args:
        symbol: The pair, e.g. ``"BTC/USD"``.
        depth: The subscribed depth; each side is truncated to it after every message.
        price_precision: Decimals of the pair's prices (``instrument`` channel), used to pad
            prices whose trailing zeros were lost before the checksum. ``None`` uses the wire
            digits as they are.
        qty_precision: The same for quantities.

    Raises:
        ValueError: ``depth`` is not positive.
    """

    __slots__ = ("_asks", "_bids")

    def __init__(
        self,
        symbol: str,
        depth: int = 10,
        *,
        price_precision: int | None = None,
        qty_precision: int | None = None,
    ) -> None:
        super().__init__(symbol, depth, price_precision, qty_precision)
        self._bids = _Ladder(descending=True)
        self._asks = _Ladder(descending=False)

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
        if (price_precision, qty_precision) == (self._price_precision, self._qty_precision):
            return
        self._price_precision = price_precision
        self._qty_precision = qty_precision
        self._bids.forget_tokens()
        self._asks.forget_tokens()

    def clear(self) -> None:
        """Drop every level and wait for a new snapshot (updates raise until then)."""
        self._bids.clear()
        self._asks.clear()
        self._has_snapshot = False
        self._valid = False

    # --- applying messages -----------------------------------------------------------------------

    def apply(
        self, message: BookSnapshot | BookUpdate | BookData, *, snapshot: bool = False
    ) -> ApplyResult:
        """Apply one decoded ``book`` message and verify its checksum.

        Every level is applied in array order (a price may repeat; ``qty`` 0 deletes it), then
        each side is truncated to :attr:`depth`, then the checksum of the result is compared
        with the server's. A mismatch marks the book invalid and is reported in the result; it
        never raises. A snapshot resets the book and makes it valid again if it verifies; an
        update to an invalid book is still applied but the book stays invalid until then.

        Args:
            message: A :class:`BookSnapshot` or :class:`BookUpdate` frame (only the data items of
                this book's symbol are applied), or one :class:`BookData` item.
            snapshot: Only for a bare :class:`BookData`: whether it is a snapshot. Frames say it
                themselves.

        Returns:
            The checksum verdict. For a frame holding several items of this symbol (never seen
            on the wire), the first failing item's result, else the last one's.

        Raises:
            BookIntegrityError: An update arrived before any snapshot.
            ValueError: The message holds no data for this book's symbol.
        """
        kind = type(message)
        if kind is BookUpdate or kind is BookSnapshot:
            items = message.data  # type: ignore[union-attr]
            # The wire always sends one item per frame: anything else takes the general loop.
            if len(items) != 1 or items[0].symbol != self._symbol:
                return self._apply_items(message)  # type: ignore[arg-type]
            data: BookData = items[0]
            is_snapshot = kind is BookSnapshot
        elif isinstance(message, BookData):
            if message.symbol != self._symbol:
                raise ValueError(f"{self._symbol} book got data for {message.symbol}")
            data = message
            is_snapshot = snapshot
        else:
            return self._apply_items(message)
        # One frame for the common case: this body runs for every update of every book.
        asks = self._asks
        bids = self._bids
        if is_snapshot:
            asks.clear()
            bids.clear()
            self._has_snapshot = True
        elif not self._has_snapshot:
            raise BookIntegrityError(f"{self._symbol}: book update before any snapshot")
        pp = self._price_precision
        qp = self._qty_precision
        depth = self._depth
        # Most updates touch one side: skip the call for an empty list. Snapshots and long
        # updates take the sort-once path, whose cost is O(n log n) in the message's levels.
        levels = data.asks
        if levels:
            if is_snapshot or len(levels) > _BULK_LEVELS:
                asks.load(levels, depth)
            else:
                asks.apply(levels, pp, qp)
        levels = data.bids
        if levels:
            if is_snapshot or len(levels) > _BULK_LEVELS:
                bids.load(levels, depth)
            else:
                bids.apply(levels, pp, qp)
        # Truncate after the whole message: Kraken sends no delete for levels pushed past depth,
        # and a level can leave and another arrive within one message.
        if len(asks._prices) > depth:  # the list itself: no Python-level __len__ call
            asks.truncate(depth)
        if len(bids._prices) > depth:
            bids.truncate(depth)
        # Most updates at depth 25 and beyond change nothing in either top 10: reuse the CRC.
        computed = self._crc_of(asks, bids) if asks._dirty or bids._dirty else self._crc
        expected = data.checksum
        ok = computed == expected
        if is_snapshot:
            self._valid = ok
        elif not ok:
            self._valid = False
        self._last_checksum = computed
        self._last_update = data.timestamp
        self._messages += 1
        return _tuple_new(ApplyResult, (self._symbol, ok, expected, computed, is_snapshot))

    def _apply_items(self, message: BookSnapshot | BookUpdate) -> ApplyResult:
        # Frames with several items (never seen on the wire) or items of other symbols.
        is_snapshot = message.type == "snapshot"
        result: ApplyResult | None = None
        for data in message.data:
            if data.symbol == self._symbol:
                item = self.apply(data, snapshot=is_snapshot)
                if result is None or result.checksum_ok:
                    result = item
        if result is None:
            raise ValueError(f"{self._symbol} book: message has no data for this symbol")
        return result

    def compute_checksum(self) -> int:
        """Compute the checksum of the book as it is now.

        Returns:
            The unsigned CRC32 over the top 10 levels per side.
        """
        return self._crc_of(self._asks, self._bids)

    # --- reading -------------------------------------------------------------------------------

    def _side(self, side: BookSide) -> _Ladder:
        if side == "bid":
            return self._bids
        if side == "ask":
            return self._asks
        raise ValueError(f"side must be 'bid' or 'ask', got {side!r}")

    @property
    def best_bid(self) -> PriceLevel | None:
        """``(price, qty)`` of the highest bid, or ``None`` if there are no bids."""
        return self._bids.best()

    @property
    def best_ask(self) -> PriceLevel | None:
        """``(price, qty)`` of the lowest ask, or ``None`` if there are no asks."""
        return self._asks.best()

    @property
    def spread(self) -> Decimal | None:
        """Best ask minus best bid, or ``None`` if a side is empty."""
        bid = self._bids.best()
        ask = self._asks.best()
        if bid is None or ask is None:
            return None
        return ask[0] - bid[0]

    @property
    def mid(self) -> Decimal | None:
        """Midpoint of the best bid and ask, or ``None`` if a side is empty."""
        bid = self._bids.best()
        ask = self._asks.best()
        if bid is None or ask is None:
            return None
        return (ask[0] + bid[0]) / 2

    def bids(self, n: int | None = None) -> list[PriceLevel]:
        """Bid levels, best (highest price) first.

        Args:
            n: At most this many levels; ``None`` for all.

        Returns:
            ``(price, qty)`` pairs.
        """
        return self._bids.levels(n)

    def asks(self, n: int | None = None) -> list[PriceLevel]:
        """Ask levels, best (lowest price) first.

        Args:
            n: At most this many levels; ``None`` for all.

        Returns:
            ``(price, qty)`` pairs.
        """
        return self._asks.levels(n)

    def depth_at(self, price: Decimal, side: BookSide | None = None) -> Decimal:
        """Quantity resting at ``price``.

        Args:
            price: The price level.
            side: Look only on this side; ``None`` looks at bids, then asks (a price normally
                lives on one side only).

        Returns:
            The level's quantity, or ``Decimal(0)`` if there is no such level.
        """
        if side is not None:
            qty = self._side(side).qty_at(price)
        else:
            qty = self._bids.qty_at(price)
            if qty is None:
                qty = self._asks.qty_at(price)
        return _ZERO if qty is None else qty

    def cumulative_qty(self, side: BookSide, to_price: Decimal) -> Decimal:
        """Total quantity from the best level of ``side`` through ``to_price`` inclusive.

        Args:
            side: ``"bid"`` sums bids priced at or above ``to_price``; ``"ask"`` sums asks
                priced at or below it.
            to_price: The last price to include.

        Returns:
            The sum (``Decimal(0)`` if no level qualifies).
        """
        total = _ZERO
        for _, qty in self._side(side).through(to_price):
            total += qty
        return total

    def vwap_to_fill(self, side: BookSide, qty: Decimal) -> Decimal | None:
        """Average price of filling ``qty`` against the resting levels of ``side``.

        A buyer consumes the **asks** (``side="ask"``), a seller consumes the **bids**
        (``side="bid"``). Levels are walked best first; the last one is used partially. Only the
        levels held (at most :attr:`depth`) are considered.

        Args:
            side: The side whose liquidity is consumed.
            qty: The quantity to fill; must be positive.

        Returns:
            The volume-weighted average price (in the current decimal context), or ``None`` if
            the side holds less than ``qty``.

        Raises:
            ValueError: ``qty`` is not positive.
        """
        if qty <= 0:
            raise ValueError(f"qty must be positive, got {qty}")
        ladder = self._side(side)
        remaining = qty
        notional = _ZERO
        for price, level_qty in ladder.walk():
            take = level_qty if level_qty < remaining else remaining
            notional += take * price
            remaining -= take
            if not remaining:
                return notional / qty
        return None

    def snapshot(self) -> BookView:
        """Return an immutable copy of the book.

        Returns:
            A :class:`BookView` with every level held, best first on each side.
        """
        return BookView(
            symbol=self._symbol,
            bids=tuple(self._bids.levels()),
            asks=tuple(self._asks.levels()),
            checksum=self._last_checksum,
            is_valid=self._valid,
            timestamp=self._last_update,
        )

    def __len__(self) -> int:
        return len(self._bids) + len(self._asks)

    def __repr__(self) -> str:
        bid = self._bids.best()
        ask = self._asks.best()
        return (
            f"OrderBook({self._symbol!r}, depth={self._depth}, bids={len(self._bids)}, "
            f"asks={len(self._asks)}, best_bid={None if bid is None else str(bid[0])}, "
            f"best_ask={None if ask is None else str(ask[0])}, valid={self._valid})"
        )
