"""The L3 order-by-order engine: queue priority, truncation, the L3 checksum."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from kraken_ws.book import L3Book, L3Order, level3_checksum
from kraken_ws.exceptions import BookIntegrityError
from kraken_ws.models.channels.level3 import Level3Snapshot, Level3Update

from .helpers import D, load_models

SYMBOL = "BTC/USD"
TS = "2026-01-01T00:00:00.000000000Z"

Order = tuple[str, str, str]  # (order_id, price, qty)


def _order(order_id: str, price: str, qty: str) -> dict[str, Any]:
    return {"order_id": order_id, "limit_price": D(price), "order_qty": D(qty), "timestamp": TS}


def _checksum(bids: list[Order], asks: list[Order]) -> int:
    return level3_checksum([(D(p), D(q)) for _, p, q in asks], [(D(p), D(q)) for _, p, q in bids])


def snapshot(bids: list[Order], asks: list[Order], checksum: int | None = None) -> Level3Snapshot:
    item = {
        "symbol": SYMBOL,
        "bids": [_order(*o) for o in bids],
        "asks": [_order(*o) for o in asks],
        "checksum": _checksum(bids, asks) if checksum is None else checksum,
        "timestamp": TS,
    }
    return Level3Snapshot.model_validate({"channel": "level3", "type": "snapshot", "data": [item]})


def update(
    after: tuple[list[Order], list[Order]],
    *,
    bids: list[tuple[str, str, str, str]] = (),  # type: ignore[assignment]
    asks: list[tuple[str, str, str, str]] = (),  # type: ignore[assignment]
    checksum: int | None = None,
) -> Level3Update:
    """Events are (event, order_id, price, qty); ``after`` is the expected book (bids, asks)."""
    item = {
        "symbol": SYMBOL,
        "bids": [{"event": e, **_order(i, p, q)} for e, i, p, q in bids],
        "asks": [{"event": e, **_order(i, p, q)} for e, i, p, q in asks],
        "checksum": _checksum(*after) if checksum is None else checksum,
        "timestamp": TS,
    }
    return Level3Update.model_validate({"channel": "level3", "type": "update", "data": [item]})


BIDS: list[Order] = [
    ("B1", "100.0", "1.00000000"),
    ("B2", "100.0", "2.00000000"),
    ("B3", "99.0", "3.00000000"),
]
ASKS: list[Order] = [
    ("A1", "101.0", "1.50000000"),
    ("A2", "101.0", "0.50000000"),
    ("A3", "102.0", "4.00000000"),
]


def ids_at(book: L3Book, price: str) -> list[str]:
    return [o.order_id for o in book.orders_at(D(price))]


@pytest.fixture
def book() -> L3Book:
    book = L3Book(SYMBOL, 10)
    assert book.apply(snapshot(BIDS, ASKS)).checksum_ok
    return book


class TestVectorC:
    def test_truncated_to_fewer_levels(self) -> None:
        (frame,) = load_models("level3-vector-c.jsonl")
        book = L3Book(SYMBOL, 3)
        result = book.apply(frame)
        # Kraken's checksum covers 10 levels; a depth-3 book cannot reproduce it.
        assert not result.checksum_ok
        assert [p for p, _ in book.levels("bid")] == [D("44939.4"), D("44937.1"), D("44934.7")]
        assert book.order("O73C6Y-VZXYA-H4LDFY") is None  # beyond depth

    def test_lookup_and_aggregation(self) -> None:
        (frame,) = load_models("level3-vector-c.jsonl")
        book = L3Book(SYMBOL, 10)
        book.apply(frame)
        assert len(book.orders_at(D("44939.4"))) == 8
        assert book.orders_at(D("44939.4"))[0].order_id == "OTCFZG-YOE2Q-LQKNM3"
        assert book.best_bid == (D("44939.4"), D("3.55788870"))
        assert book.best_ask == (D("44939.5"), D("4.53519654"))
        order = book.order("OFVLAA-HRSSP-BK75KB")
        assert order is not None
        assert (order.side, order.price, order.qty) == ("ask", D("44939.5"), D("4.52308393"))
        assert isinstance(order, L3Order)
        assert len(book.levels("ask")) == 10  # 11 ask levels in the doc, truncated to 10


class TestQueuePriority:
    def test_add_goes_to_the_tail(self, book: L3Book) -> None:
        after = ([BIDS[0], BIDS[1], ("B4", "100.0", "0.7"), BIDS[2]], ASKS)
        assert book.apply(update(after, bids=[("add", "B4", "100.0", "0.7")])).checksum_ok
        assert ids_at(book, "100.0") == ["B1", "B2", "B4"]

    def test_modify_keeps_position(self, book: L3Book) -> None:
        after = ([("B1", "100.0", "0.25"), BIDS[1], BIDS[2]], ASKS)
        assert book.apply(update(after, bids=[("modify", "B1", "100.0", "0.25")])).checksum_ok
        assert ids_at(book, "100.0") == ["B1", "B2"]
        order = book.order("B1")
        assert order is not None
        assert order.qty == D("0.25")

    def test_delete_removes(self, book: L3Book) -> None:
        after = (BIDS, [ASKS[1], ASKS[2]])
        assert book.apply(update(after, asks=[("delete", "A1", "101.0", "1.5")])).checksum_ok
        assert book.order("A1") is None
        assert ids_at(book, "101.0") == ["A2"]

    def test_last_order_deleted_removes_the_level(self, book: L3Book) -> None:
        after = (BIDS[:2], ASKS)
        assert book.apply(update(after, bids=[("delete", "B3", "99.0", "3")])).checksum_ok
        assert [p for p, _ in book.levels("bid")] == [D("100.0")]

    def test_add_of_known_id_replaces_at_tail(self, book: L3Book) -> None:
        after = ([BIDS[1], ("B1", "100.0", "5"), BIDS[2]], ASKS)
        assert book.apply(update(after, bids=[("add", "B1", "100.0", "5")])).checksum_ok
        assert ids_at(book, "100.0") == ["B2", "B1"]
        assert len(book) == 6

    def test_modify_with_new_price_moves_to_tail_of_new_level(self, book: L3Book) -> None:
        after = ([BIDS[1], BIDS[2], ("B1", "99.0", "1.0")], ASKS)
        assert book.apply(update(after, bids=[("modify", "B1", "99.0", "1.0")])).checksum_ok
        assert ids_at(book, "99.0") == ["B3", "B1"]
        assert ids_at(book, "100.0") == ["B2"]

    def test_modify_to_zero_deletes(self, book: L3Book) -> None:
        after = ([BIDS[1], BIDS[2]], ASKS)
        assert book.apply(update(after, bids=[("modify", "B1", "100.0", "0")])).checksum_ok
        assert book.order("B1") is None

    def test_modify_of_unknown_id_is_added(self, book: L3Book) -> None:
        after = (BIDS, [*ASKS, ("A9", "103.0", "1")])
        assert book.apply(update(after, asks=[("modify", "A9", "103.0", "1")])).checksum_ok
        assert book.order("A9") is not None

    def test_delete_of_unknown_id_is_ignored(self, book: L3Book) -> None:
        assert book.apply(update((BIDS, ASKS), asks=[("delete", "ZZ", "1", "1")])).checksum_ok
        assert len(book) == 6

    def test_events_apply_in_order(self, book: L3Book) -> None:
        events = [
            ("add", "B5", "100.0", "1"),
            ("modify", "B5", "100.0", "2"),
            ("delete", "B1", "100.0", "1"),
        ]
        after = ([BIDS[1], ("B5", "100.0", "2"), BIDS[2]], ASKS)
        assert book.apply(update(after, bids=events)).checksum_ok
        assert ids_at(book, "100.0") == ["B2", "B5"]


class TestDepthAndValidity:
    def test_truncation_to_price_levels_after_the_message(self) -> None:
        book = L3Book(SYMBOL, 2)
        assert book.apply(snapshot(BIDS, ASKS)).checksum_ok
        # A new best bid level pushes 99.0 out (its orders leave the index); then an order
        # arrives at 98.0, deeper than depth: truncated too.
        events = [("add", "B7", "100.5", "1"), ("add", "B8", "98.0", "1")]
        after = ([("B7", "100.5", "1"), BIDS[0], BIDS[1]], ASKS)
        assert book.apply(update(after, bids=events)).checksum_ok
        assert book.order("B3") is None
        assert book.order("B8") is None
        assert [p for p, _ in book.levels("bid")] == [D("100.5"), D("100.0")]

    def test_update_before_snapshot_raises(self) -> None:
        with pytest.raises(BookIntegrityError):
            L3Book(SYMBOL, 10).apply(update(([], []), bids=[("add", "B1", "1", "1")]))

    def test_bad_checksum_invalid_until_snapshot(self, book: L3Book) -> None:
        result = book.apply(update((BIDS, ASKS), checksum=12345))
        assert not result.checksum_ok
        assert result.expected == 12345
        assert not book.is_valid
        assert book.apply(snapshot(BIDS, ASKS)).checksum_ok
        assert book.is_valid

    def test_data_items_and_other_symbols(self) -> None:
        frame = snapshot(BIDS, ASKS)
        book = L3Book(SYMBOL, 10)
        assert book.apply(frame.data[0]).checksum_ok
        with pytest.raises(ValueError, match="no data"):
            L3Book("ETH/USD", 10).apply(frame)
        with pytest.raises(ValueError, match="ETH/USD"):
            L3Book("ETH/USD", 10).apply(frame.data[0])

    def test_state_and_repr(self, book: L3Book) -> None:
        assert book.symbol == SYMBOL
        assert book.depth == 10
        assert book.has_snapshot
        assert book.messages_applied == 1
        assert book.last_update == TS
        assert book.last_checksum == _checksum(BIDS, ASKS)
        assert book.levels("ask") == [(D("101.0"), D("2.0")), (D("102.0"), D("4"))]
        assert book.levels("bid", 1) == [(D("100.0"), D("3"))]
        assert book.orders_at(D("101.0"), "bid") == []
        assert "orders=6" in repr(book)
        book.clear()
        assert len(book) == 0
        assert not book.has_snapshot

    def test_precision_padding(self) -> None:
        bids = [("B1", "0.566", "18097.1547")]
        book = L3Book(SYMBOL, 10, price_precision=4, qty_precision=8)
        padded = level3_checksum([], [(Decimal("0.5660"), Decimal("18097.15470000"))])
        assert book.apply(snapshot(bids, [], checksum=padded)).checksum_ok
        book.set_precision(None, None)
        assert book.compute_checksum() == _checksum(bids, [])
