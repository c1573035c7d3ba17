"""One side of an L2 book (`_Ladder`): sorted parallel lists, bulk loads, truncation.

The data structure under `OrderBook`, apart so that the engine's
rules (what a message does to a book) read on their own.
"""

from __future__ import annotations

import heapq
from bisect import bisect_left, bisect_right
from collections.abc import Callable, Iterator, Sequence
from decimal import Decimal
from typing import TypeAlias

from .checksum import CHECKSUM_LEVELS, level_token

__all__: list[str] = []

_Level: TypeAlias = tuple[Decimal, Decimal]  # (price, qty): l2._Level


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
    (`load`), so no message costs more than O(n log n) in its levels. Bids are kept
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

    def apply(self, levels: Sequence[_Level], render: Callable[[Decimal, Decimal], bytes]) -> None:
        # render: the book's LevelTokens.render (level_token as bytes, price parts cached).
        # Locals: this loop is the hot path of every update.
        prices = self._prices
        qtys = self._qtys
        tokens = self._tokens
        descending = self._descending
        dirty = False
        for price, qty in levels:
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
                    token: bytes | None = render(price, qty)
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

    def load(self, levels: Sequence[_Level], depth: int) -> None:
        # Many levels at once (a snapshot, or an update longer than _BULK_LEVELS): the same
        # result as apply() then truncate(depth), without one list.insert per level into a
        # growing list (quadratic: a 240,000-level snapshot took 7 s). See _best_levels.
        prices = self._prices + [price for price, _ in levels]
        qtys = self._qtys + [qty for _, qty in levels]
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

    def levels(self, n: int | None = None) -> list[_Level]:
        prices = self._prices
        qtys = self._qtys
        if n is None:
            n = len(prices)
        elif n <= 0:
            return []
        if self._descending:
            return list(zip(prices[: -n - 1 : -1], qtys[: -n - 1 : -1], strict=True))
        return list(zip(prices[:n], qtys[:n], strict=True))

    def best(self) -> _Level | None:
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

    def through(self, to_price: Decimal) -> list[_Level]:
        # Levels from the best through ``to_price`` inclusive.
        prices = self._prices
        qtys = self._qtys
        if self._descending:
            i = bisect_left(prices, to_price)
            return list(zip(prices[i:][::-1], qtys[i:][::-1], strict=True))
        j = bisect_right(prices, to_price)
        return list(zip(prices[:j], qtys[:j], strict=True))

    def walk(self) -> Iterator[_Level]:
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
    `_Ladder.apply` does). Only the best prices are resolved, until ``depth`` are kept.

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
