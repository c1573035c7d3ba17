"""The L2 (``book`` channel) order book engine: pure, no I/O, no clock."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from operator import attrgetter
from typing import Literal, NamedTuple, TypeAlias

from kraken_ws.exceptions import BookIntegrityError
from kraken_ws.models.channels.book import BookData, BookSnapshot, BookUpdate

from ._ladder import _BULK_LEVELS, _Ladder
from ._state import BookState, check_precision
from .checksum import LevelTokens
from .wire import L2Frame

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
    """An immutable copy of an `OrderBook` at one moment.

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
# A BookLevel as the (price, qty) pair the ladders take (one C call per level).
_pair = attrgetter("price", "qty")


class OrderBook(BookState):
    """An L2 order book of one symbol, kept from ``book`` channel messages.

    A pure engine: it applies decoded messages, truncates to the subscribed depth and verifies
    Kraken's checksum, and knows nothing about sockets or time. Deciding to resubscribe after a
    mismatch is the caller's job (see `BookManager`).

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

    __slots__ = ("_asks", "_bids", "_render")

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
        self._render = LevelTokens(price_precision, qty_precision).render

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
        self._render = LevelTokens(price_precision, qty_precision).render
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
        each side is truncated to `depth`, then the checksum of the result is compared
        with the server's. A mismatch marks the book invalid and is reported in the result; it
        never raises. A snapshot resets the book and makes it valid again if it verifies; an
        update to an invalid book is still applied but the book stays invalid until then.

        Args:
            message: A `BookSnapshot` or `BookUpdate` frame (only the data items of
                this book's symbol are applied), or one `BookData` item.
            snapshot: Only for a bare `BookData`: whether it is a snapshot. Frames say it
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
        # The engine's one input form (apply_wire): the levels as (price, qty) pairs.
        bids = data.bids
        asks = data.asks
        frame = (
            is_snapshot,
            data.symbol,
            list(map(_pair, bids)) if bids else (),  # most updates touch one side only
            list(map(_pair, asks)) if asks else (),
            data.checksum,
            data.timestamp,
        )
        return self.apply_wire(_tuple_new(L2Frame, frame))

    def apply_wire(self, frame: L2Frame) -> ApplyResult:
        """Apply a frame read by `kraken_ws.book.wire.read`: `apply` without the models.

        The same rules and the same result as `apply` on the frame's model (which comes here
        too, its levels turned into pairs).

        Args:
            frame: The frame's engine input.

        Returns:
            The checksum verdict.

        Raises:
            BookIntegrityError: An update arrived before any snapshot.
            ValueError: The frame is for another symbol.
        """
        # One frame for the common case: this body runs for every update of every book.
        is_snapshot, symbol, bid_levels, ask_levels, expected, timestamp = frame
        if symbol != self._symbol:
            raise ValueError(f"{self._symbol} book got data for {symbol}")
        asks = self._asks
        bids = self._bids
        if is_snapshot:
            asks.clear()
            bids.clear()
            self._has_snapshot = True
        elif not self._has_snapshot:
            raise BookIntegrityError(f"{self._symbol}: book update before any snapshot")
        depth = self._depth
        # Most updates touch one side: skip the call for an empty side. Snapshots and long
        # updates take the sort-once path, whose cost is O(n log n) in the message's levels.
        if ask_levels:
            if is_snapshot or len(ask_levels) > _BULK_LEVELS:
                asks.load(ask_levels, depth)
            else:
                asks.apply(ask_levels, self._render)
        if bid_levels:
            if is_snapshot or len(bid_levels) > _BULK_LEVELS:
                bids.load(bid_levels, depth)
            else:
                bids.apply(bid_levels, self._render)
        # Truncate after the whole message: Kraken sends no delete for levels pushed past depth,
        # and a level can leave and another arrive within one message.
        if len(asks._prices) > depth:  # the list itself: no Python-level __len__ call
            asks.truncate(depth)
        if len(bids._prices) > depth:
            bids.truncate(depth)
        # Most updates at depth 25 and beyond change nothing in either top 10: reuse the CRC.
        computed = self._crc_of(asks, bids) if asks._dirty or bids._dirty else self._crc
        ok = computed == expected
        if is_snapshot:
            self._valid = ok
        elif not ok:
            self._valid = False
        self._last_checksum = computed
        self._last_update = timestamp
        self._messages += 1
        return _tuple_new(ApplyResult, (symbol, ok, expected, computed, is_snapshot))

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
        levels held (at most `depth`) are considered.

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
            A `BookView` with every level held, best first on each side.
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
