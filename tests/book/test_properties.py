"""Stateful property tests: the engines against naive reference models.

The reference models are plain dicts and lists, re-sorted on every check. Each frame carries
the reference model's checksum, so a verified result means the engine's book (and its cached
checksum text) matches the reference exactly; a deliberately corrupted checksum must be caught.
Random input can cross the book, so bids < asks is not asserted.
"""

from __future__ import annotations

import itertools
from decimal import Decimal
from typing import Any

import hypothesis.strategies as st
import pytest
from hypothesis import settings
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
)

from kraken_ws.book import L3Book, OrderBook, book_checksum, level3_checksum
from kraken_ws.exceptions import BookIntegrityError
from kraken_ws.models.channels.level3 import Level3Snapshot, Level3Update

from .helpers import book_frame

SYMBOL = "X/Y"

# One text form per price (exponent -1), so the reference's and the engine's keys render alike.
prices = st.integers(1, 30).map(lambda n: Decimal(n).scaleb(-1))
# Few L3 prices, so levels hold several orders and queue order matters.
l3_prices = st.integers(1, 6).map(lambda n: Decimal(n).scaleb(-1))
zero_qty = st.sampled_from([Decimal("0"), Decimal("0.00000000"), Decimal("0E-8")])
positive_qty = st.builds(
    lambda n, places: Decimal(n).scaleb(-places), st.integers(1, 10**6), st.integers(0, 10)
)
qtys = st.one_of(zero_qty, positive_qty, positive_qty)
level_lists = st.lists(st.tuples(prices, qtys), max_size=8)
# Snapshots big enough to fill the 10 checksum levels and exceed small depths.
snapshot_lists = st.one_of(
    st.lists(st.tuples(prices, positive_qty), max_size=3),
    st.lists(st.tuples(prices, positive_qty), min_size=12, max_size=30),
)
precisions = st.sampled_from([(None, None), (1, 8), (3, 10)])
depths = st.sampled_from([1, 3, 5, 10, 12, 25])
flips = st.integers(1, 0xFFFFFFFF)

SETTINGS = settings(max_examples=60, stateful_step_count=25, deadline=None)


class L2Machine(RuleBasedStateMachine):
    """OrderBook vs. two dicts."""

    @initialize(depth=depths, precision=precisions)
    def setup(self, depth: int, precision: tuple[int | None, int | None]) -> None:
        self.depth = depth
        self.pp, self.qp = precision
        self.book = OrderBook(SYMBOL, depth, price_precision=self.pp, qty_precision=self.qp)
        self.bids: dict[Decimal, Decimal] = {}
        self.asks: dict[Decimal, Decimal] = {}
        self.has_snapshot = False
        self.valid = False

    # --- reference model ---

    @staticmethod
    def _apply(side: dict[Decimal, Decimal], levels: list[tuple[Decimal, Decimal]]) -> None:
        for price, qty in levels:
            if qty:
                side[price] = qty
            else:
                side.pop(price, None)

    def _step(self, bids: list[Any], asks: list[Any]) -> int:
        self._apply(self.bids, bids)
        self._apply(self.asks, asks)
        self.bids = dict(sorted(self.bids.items(), reverse=True)[: self.depth])
        self.asks = dict(sorted(self.asks.items())[: self.depth])
        return book_checksum(self.asks.items(), self.bids.items(), self.pp, self.qp)

    # --- rules ---

    @rule(bids=snapshot_lists, asks=snapshot_lists)
    def snapshot(self, bids: list[Any], asks: list[Any]) -> None:
        self.bids, self.asks = {}, {}
        expected = self._step(bids, asks)
        frame = book_frame("snapshot", SYMBOL, bids=bids, asks=asks, checksum=expected)
        result = self.book.apply(frame)
        assert result.checksum_ok, result
        self.has_snapshot = True
        self.valid = True

    @precondition(lambda self: self.has_snapshot)
    @rule(bids=level_lists, asks=level_lists)
    def update(self, bids: list[Any], asks: list[Any]) -> None:
        expected = self._step(bids, asks)
        result = self.book.apply(
            book_frame("update", SYMBOL, bids=bids, asks=asks, checksum=expected)
        )
        assert result.checksum_ok, result
        assert result.computed == expected

    @precondition(lambda self: self.has_snapshot and (self.bids or self.asks))
    @rule(data=st.data())
    def touch_existing_levels(self, data: st.DataObject) -> None:
        # Most real updates change levels the book holds, including the 10th (the edge of the
        # cached checksum text); random prices rarely hit them exactly.
        held = st.sampled_from(sorted(self.bids) + sorted(self.asks))
        picks = data.draw(st.lists(st.tuples(held, qtys), min_size=1, max_size=4))
        bids = [(p, q) for p, q in picks if p in self.bids]
        asks = [(p, q) for p, q in picks if p not in self.bids]
        self.update(bids, asks)

    @precondition(lambda self: self.has_snapshot)
    @rule(bids=level_lists, asks=level_lists, flip=flips)
    def corrupted_update(self, bids: list[Any], asks: list[Any], flip: int) -> None:
        expected = self._step(bids, asks)
        result = self.book.apply(
            book_frame("update", SYMBOL, bids=bids, asks=asks, checksum=expected ^ flip)
        )
        assert not result.checksum_ok
        assert result.computed == expected
        self.valid = False

    @precondition(lambda self: not self.has_snapshot)
    @rule(bids=level_lists)
    def update_before_snapshot(self, bids: list[Any]) -> None:
        with pytest.raises(BookIntegrityError):
            self.book.apply(book_frame("update", SYMBOL, bids=bids, checksum=0))

    # --- invariants ---

    @invariant()
    def matches_reference(self) -> None:
        bids = self.book.bids()
        asks = self.book.asks()
        assert bids == sorted(self.bids.items(), reverse=True)
        assert asks == sorted(self.asks.items())
        assert all(a[0] > b[0] for a, b in itertools.pairwise(bids))
        assert all(a[0] < b[0] for a, b in itertools.pairwise(asks))
        assert all(qty > 0 for _, qty in bids + asks)
        assert len(bids) <= self.depth
        assert len(asks) <= self.depth
        assert self.book.is_valid == self.valid
        if self.has_snapshot:
            expected = book_checksum(self.asks.items(), self.bids.items(), self.pp, self.qp)
            assert self.book.compute_checksum() == expected

    @invariant()
    def read_api_matches_reference(self) -> None:
        bids = sorted(self.bids.items(), reverse=True)
        asks = sorted(self.asks.items())
        book = self.book
        assert book.best_bid == (bids[0] if bids else None)
        assert book.best_ask == (asks[0] if asks else None)
        assert book.bids(2) == bids[:2]
        assert book.asks(2) == asks[:2]
        for price in (Decimal("0.1"), Decimal("1.5"), Decimal("3.0"), Decimal("9.9")):
            assert book.depth_at(price, "bid") == self.bids.get(price, Decimal(0))
            assert book.depth_at(price, "ask") == self.asks.get(price, Decimal(0))
            assert book.cumulative_qty("bid", price) == sum(
                (qty for p, qty in bids if p >= price), Decimal(0)
            )
            assert book.cumulative_qty("ask", price) == sum(
                (qty for p, qty in asks if p <= price), Decimal(0)
            )


TestL2Properties = L2Machine.TestCase
TestL2Properties.settings = SETTINGS


order_ids = st.sampled_from([f"O{i}" for i in range(12)])
events = st.lists(
    st.tuples(st.sampled_from(["add", "modify", "delete"]), order_ids, l3_prices, qtys),
    max_size=8,
)
snapshot_orders = st.lists(st.tuples(order_ids, l3_prices, qtys), max_size=12)


def _wire_order(order_id: str, price: Decimal, qty: Decimal) -> dict[str, Any]:
    return {"order_id": order_id, "limit_price": price, "order_qty": qty}


class L3Machine(RuleBasedStateMachine):
    """L3Book vs. dicts of lists in queue order."""

    @initialize(depth=depths)
    def setup(self, depth: int) -> None:
        self.depth = depth
        self.book = L3Book(SYMBOL, depth)
        # side -> price -> [[order_id, qty], ...] in queue order; order_id -> (side, price)
        self.sides: dict[str, dict[Decimal, list[list[Any]]]] = {"bid": {}, "ask": {}}
        self.where: dict[str, tuple[str, Decimal]] = {}
        self.has_snapshot = False
        self.valid = False

    # --- reference model ---

    def _remove(self, order_id: str) -> None:
        side, price = self.where.pop(order_id)
        level = self.sides[side][price]
        level[:] = [o for o in level if o[0] != order_id]
        if not level:
            del self.sides[side][price]

    def _event(self, side: str, kind: str, order_id: str, price: Decimal, qty: Decimal) -> None:
        known = order_id in self.where
        if kind == "delete":
            if known:
                self._remove(order_id)
            return
        if kind == "modify" and qty and self.where.get(order_id) == (side, price):
            for order in self.sides[side][price]:
                if order[0] == order_id:
                    order[1] = qty
            return
        if known:
            self._remove(order_id)
        if qty:
            self.sides[side].setdefault(price, []).append([order_id, qty])
            self.where[order_id] = (side, price)

    def _orders(self, side: str) -> list[tuple[Decimal, Decimal]]:
        levels = sorted(self.sides[side].items(), reverse=side == "bid")
        return [(price, qty) for price, orders in levels for _, qty in orders]

    def _truncate_and_checksum(self) -> int:
        for side in ("bid", "ask"):
            levels = sorted(self.sides[side], reverse=side == "bid")
            for price in levels[self.depth :]:
                for order_id, _ in self.sides[side][price]:
                    del self.where[order_id]
                del self.sides[side][price]
        return level3_checksum(self._orders("ask"), self._orders("bid"))

    # --- rules ---

    @rule(bids=snapshot_orders, asks=snapshot_orders)
    def snapshot(self, bids: list[Any], asks: list[Any]) -> None:
        self.sides = {"bid": {}, "ask": {}}
        self.where = {}
        for side, orders in (("bid", bids), ("ask", asks)):
            for order_id, price, qty in orders:
                self._event(side, "add", order_id, price, qty)
        expected = self._truncate_and_checksum()
        frame = Level3Snapshot.model_validate(
            {
                "channel": "level3",
                "type": "snapshot",
                "data": [
                    {
                        "symbol": SYMBOL,
                        "bids": [_wire_order(*o) for o in bids],
                        "asks": [_wire_order(*o) for o in asks],
                        "checksum": expected,
                    }
                ],
            }
        )
        assert self.book.apply(frame).checksum_ok
        self.has_snapshot = True
        self.valid = True

    def _update(self, bids: list[Any], asks: list[Any], flip: int) -> None:
        for side, evs in (("bid", bids), ("ask", asks)):
            for kind, order_id, price, qty in evs:
                self._event(side, kind, order_id, price, qty)
        expected = self._truncate_and_checksum()
        frame = Level3Update.model_validate(
            {
                "channel": "level3",
                "type": "update",
                "data": [
                    {
                        "symbol": SYMBOL,
                        "bids": [{"event": e, **_wire_order(i, p, q)} for e, i, p, q in bids],
                        "asks": [{"event": e, **_wire_order(i, p, q)} for e, i, p, q in asks],
                        "checksum": expected ^ flip,
                    }
                ],
            }
        )
        result = self.book.apply(frame)
        assert result.computed == expected
        assert result.checksum_ok == (flip == 0)
        if flip:
            self.valid = False

    @precondition(lambda self: self.has_snapshot)
    @rule(bids=events, asks=events)
    def update(self, bids: list[Any], asks: list[Any]) -> None:
        self._update(bids, asks, 0)

    @precondition(lambda self: self.has_snapshot)
    @rule(bids=events, asks=events, flip=flips)
    def corrupted_update(self, bids: list[Any], asks: list[Any], flip: int) -> None:
        self._update(bids, asks, flip)

    # --- invariants ---

    @invariant()
    def matches_reference(self) -> None:
        assert len(self.book) == len(self.where)
        assert self.book.is_valid == self.valid
        for side in ("bid", "ask"):
            ref_levels = sorted(self.sides[side].items(), reverse=side == "bid")
            levels = self.book.levels(side)  # type: ignore[arg-type]
            assert len(levels) <= self.depth
            assert levels == [(p, sum(q for _, q in orders)) for p, orders in ref_levels]
            for price, orders in ref_levels:
                got = self.book.orders_at(price, side)  # type: ignore[arg-type]
                assert [(o.order_id, o.qty) for o in got] == [(i, q) for i, q in orders]
                assert all(o.qty > 0 for o in got)
        for order_id, (side, price) in self.where.items():
            order = self.book.order(order_id)
            assert order is not None
            assert (order.side, order.price) == (side, price)
        if self.has_snapshot:
            expected = level3_checksum(self._orders("ask"), self._orders("bid"))
            assert self.book.compute_checksum() == expected


TestL3Properties = L3Machine.TestCase
TestL3Properties.settings = SETTINGS
