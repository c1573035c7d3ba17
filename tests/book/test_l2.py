"""The L2 OrderBook engine: maintenance rules, replays of live captures, the read API."""

from __future__ import annotations

import dataclasses
from decimal import Decimal

import pytest

from kraken_ws.book import ApplyResult, BookView, OrderBook, book_checksum
from kraken_ws.exceptions import BookIntegrityError
from kraken_ws.models.channels.book import BookSnapshot, BookUpdate
from kraken_ws.protocol._json import loads

from .helpers import DATA, D, book_frame, load_frames, load_models

SYMBOL = "BTC/USD"

# (file, subscribed depth, book frames, snapshots) from third-party/README.md "Sequences".
SEQUENCES = [
    ("crossbook_kraken_btcusd_l2.jsonl", 10, 301),
    ("crossbook_kraken_btcusd_sample.jsonl", 25, 2052),
    ("crossbook_kraken_ethusd_sample.jsonl", 25, 1129),
    ("crossbook_kraken_xrpusd_sample.jsonl", 25, 1147),
    ("depthcharge_kraken_minagbp_d25_20260816.jsonl", 25, 30),
    ("depthcharge_kraken_minagbp_d25_resync_20260818.jsonl", 25, 19),
]


def snapshot_of(
    bids: list[tuple[str, str]], asks: list[tuple[str, str]], *, symbol: str = SYMBOL
) -> BookSnapshot | BookUpdate:
    checksum = book_checksum([(D(p), D(q)) for p, q in asks], [(D(p), D(q)) for p, q in bids])
    return book_frame("snapshot", symbol, bids=bids, asks=asks, checksum=checksum)


def update_for(
    book_after: tuple[list[tuple[str, str]], list[tuple[str, str]]],
    *,
    bids: list[tuple[str, str]] = (),  # type: ignore[assignment]
    asks: list[tuple[str, str]] = (),  # type: ignore[assignment]
    timestamp: str = "2026-01-01T00:00:01.000000Z",
) -> BookSnapshot | BookUpdate:
    """An update whose checksum is the one of the book ``book_after`` = (bids, asks)."""
    after_bids, after_asks = book_after
    checksum = book_checksum(
        [(D(p), D(q)) for p, q in after_asks], [(D(p), D(q)) for p, q in after_bids]
    )
    return book_frame(
        "update", SYMBOL, bids=bids, asks=asks, checksum=checksum, timestamp=timestamp
    )


def levels(pairs: list[tuple[str, str]]) -> list[tuple[Decimal, Decimal]]:
    return [(D(p), D(q)) for p, q in pairs]


BIDS = [("100.0", "1.00000000"), ("99.5", "2.00000000"), ("99.0", "3.00000000")]
ASKS = [("100.5", "1.50000000"), ("101.0", "2.50000000"), ("102.0", "4.00000000")]


@pytest.fixture
def book() -> OrderBook:
    book = OrderBook(SYMBOL, 3)
    assert book.apply(snapshot_of(BIDS, ASKS)).checksum_ok
    return book


class TestLiveSequences:
    """Every checksum of six live captures verifies (resubscribe snapshots reset the book)."""

    @pytest.mark.parametrize(("name", "depth", "frames"), SEQUENCES)
    def test_replay(self, name: str, depth: int, frames: int) -> None:
        book: OrderBook | None = None
        results: list[ApplyResult] = []
        snapshots = 0
        for message in load_models(name):
            if book is None:
                book = OrderBook(message.data[0].symbol, depth)
            snapshots += message.type == "snapshot"
            results.append(book.apply(message))
            assert len(book.bids()) <= depth
            assert len(book.asks()) <= depth
        assert book is not None
        assert len(results) == frames
        assert [r for r in results if not r.checksum_ok] == []
        assert book.is_valid
        assert book.messages_applied == frames
        assert snapshots >= 1

    def test_crossbook_l2_has_resubscribe_cycles(self) -> None:
        # The replay above therefore crosses snapshots that reset a live book.
        raw = load_frames("crossbook_kraken_btcusd_l2.jsonl")
        assert sum(obj.get("method") == "unsubscribe" for obj in raw) == 7
        kinds = [m.type for m in load_models("crossbook_kraken_btcusd_l2.jsonl")]
        assert kinds.count("snapshot") == 5
        assert kinds[0] == "snapshot"

    def test_heartbeats_and_acks_are_not_book_frames(self) -> None:
        raw = load_frames("crossbook_kraken_btcusd_l2.jsonl")
        assert any(obj.get("channel") == "heartbeat" for obj in raw)
        assert any(obj.get("method") == "unsubscribe" for obj in raw)


class TestPksFixture:
    """python-kraken-sdk's fixture went through floats: only precisions 1/8 restore it."""

    @staticmethod
    def frames() -> list[BookSnapshot | BookUpdate]:
        fixture = loads((DATA / "pks-orderbook-v2.json").read_bytes())
        return [BookSnapshot.model_validate(fixture["init"])] + [
            BookUpdate.model_validate(update) for update in fixture["updates"]
        ]

    def test_all_verify_with_precisions(self) -> None:
        book = OrderBook("BTC/USD", 10, price_precision=1, qty_precision=8)
        results = [book.apply(frame) for frame in self.frames()]
        assert len(results) == 510
        assert all(r.checksum_ok for r in results)
        assert book.is_valid

    def test_fail_without_precisions(self) -> None:
        book = OrderBook("BTC/USD", 10)
        results = [book.apply(frame) for frame in self.frames()]
        assert sum(r.checksum_ok for r in results) == 0
        assert not book.is_valid


class TestMaintenance:
    """Apply in array order, qty 0 deletes, truncate after the whole message."""

    def test_qty_zero_deletes(self, book: OrderBook) -> None:
        after = (BIDS[1:], ASKS)
        result = book.apply(update_for(after, bids=[("100.0", "0.00000000")]))
        assert result.checksum_ok
        assert book.bids() == levels(BIDS[1:])
        assert book.depth_at(D("100.0")) == 0

    def test_exponent_zero_deletes(self, book: OrderBook) -> None:
        result = book.apply(update_for((BIDS, ASKS[1:]), asks=[("100.5", "0E-8")]))
        assert result.checksum_ok
        assert book.best_ask == (D("101.0"), D("2.50000000"))

    def test_deleting_an_absent_level_changes_nothing(self, book: OrderBook) -> None:
        assert book.apply(update_for((BIDS, ASKS), bids=[("50.0", "0.00000000")])).checksum_ok
        assert book.bids() == levels(BIDS)

    def test_repeated_price_applied_in_order(self, book: OrderBook) -> None:
        bids = [("99.5", "7.00000000"), ("99.5", "0.00000000"), ("99.5", "5.00000000")]
        after = ([BIDS[0], ("99.5", "5.00000000"), BIDS[2]], ASKS)
        assert book.apply(update_for(after, bids=bids)).checksum_ok
        assert book.depth_at(D("99.5")) == D("5")

    def test_repeated_price_ending_in_delete(self, book: OrderBook) -> None:
        asks = [("100.7", "1.00000000"), ("100.7", "0.00000000")]
        assert book.apply(update_for((BIDS, ASKS), asks=asks)).checksum_ok
        assert book.asks() == levels(ASKS)

    def test_truncate_after_whole_message(self, book: OrderBook) -> None:
        # A new best ask pushes 102.0 past depth 3, then 100.5 is deleted: truncating only at
        # the end keeps 102.0 (truncating per level would have lost it).
        asks = [("100.2", "1.00000000"), ("100.5", "0.00000000")]
        after = (BIDS, [("100.2", "1.00000000"), ASKS[1], ASKS[2]])
        assert book.apply(update_for(after, asks=asks)).checksum_ok
        assert book.asks() == levels(after[1])

    def test_level_pushed_out_then_deeper_level_arrives(self, book: OrderBook) -> None:
        # 98.0 arrives deeper than depth; it and the pushed-out 99.0 are both truncated.
        bids = [("100.2", "1.00000000"), ("98.0", "9.00000000")]
        after = ([("100.2", "1.00000000"), BIDS[0], BIDS[1]], ASKS)
        assert book.apply(update_for(after, bids=bids)).checksum_ok
        assert book.bids() == levels(after[0])
        assert len(book) == 6

    def test_delete_then_next_level_arrives(self, book: OrderBook) -> None:
        # Kraken's usual pattern: a level leaves and the next one below the depth is sent.
        asks = [("100.5", "0.00000000"), ("103.0", "6.00000000")]
        after = (BIDS, [ASKS[1], ASKS[2], ("103.0", "6.00000000")])
        assert book.apply(update_for(after, asks=asks)).checksum_ok
        assert book.asks() == levels(after[1])

    def test_checksum_uses_top_ten_only(self) -> None:
        bids = [(f"{100 - i}.0", "1.00000000") for i in range(15)]
        asks = [(f"{200 + i}.0", "1.00000000") for i in range(15)]
        book = OrderBook(SYMBOL, 25)
        assert book.apply(snapshot_of(bids, asks)).checksum_ok
        # A change at the 12th level leaves the checksum as it was.
        before = book.last_checksum
        update = book_frame("update", SYMBOL, bids=[("89.0", "5.00000000")], checksum=before or 0)
        assert book.apply(update).checksum_ok
        assert book.depth_at(D("89.0")) == D("5")

    @pytest.mark.parametrize("depth", [10, 25])
    def test_changes_at_the_tenth_level_reach_the_checksum(self, depth: int) -> None:
        # The tenth level is the edge of the cached checksum text: a change there (or a delete
        # that pulls the eleventh level in) must rebuild it.
        bids = [(f"{100 - i}.0", "1.00000000") for i in range(12)]
        book = OrderBook(SYMBOL, depth)
        assert book.apply(snapshot_of(bids, [])).checksum_ok
        for change in (("91.0", "5.00000000"), ("91.0", "0.00000000"), ("90.0", "0.00000000")):
            held = dict(book.bids())
            held.pop(D(change[0]), None)
            if D(change[1]):
                held[D(change[0])] = D(change[1])
            expected = book_checksum([], held.items())
            result = book.apply(book_frame("update", SYMBOL, bids=[change], checksum=expected))
            assert result.checksum_ok, change


class TestValidity:
    def test_update_before_snapshot_raises(self) -> None:
        book = OrderBook(SYMBOL, 10)
        with pytest.raises(BookIntegrityError):
            book.apply(book_frame("update", SYMBOL, bids=[("1.0", "1.0")]))
        assert not book.has_snapshot

    def test_clear_waits_for_a_snapshot(self, book: OrderBook) -> None:
        book.clear()
        assert len(book) == 0
        assert not book.is_valid
        with pytest.raises(BookIntegrityError):
            book.apply(update_for((BIDS, ASKS)))

    def test_wrong_checksum_detected_then_snapshot_restores(self, book: OrderBook) -> None:
        changed = ("100.0", "1.10000000")
        after = ([changed, *BIDS[1:]], ASKS)
        good = update_for(after, bids=[changed])
        bad_item = good.data[0].model_copy(update={"checksum": good.data[0].checksum ^ 1})
        bad = BookUpdate(channel="book", type="update", data=[bad_item])
        result = book.apply(bad)
        assert not result.checksum_ok
        assert result.expected == good.data[0].checksum ^ 1
        assert result.computed == good.data[0].checksum
        assert not book.is_valid
        # Still applied, still invalid: only a snapshot makes the book trustworthy again.
        assert book.apply(update_for(after)).checksum_ok
        assert not book.is_valid
        assert book.apply(snapshot_of(BIDS, ASKS)).checksum_ok
        assert book.is_valid

    def test_bad_snapshot_is_invalid(self) -> None:
        book = OrderBook(SYMBOL, 10)
        frame = book_frame("snapshot", SYMBOL, bids=BIDS, asks=ASKS, checksum=1)
        result = book.apply(frame)
        assert result.snapshot
        assert not result.checksum_ok
        assert not book.is_valid
        assert book.has_snapshot

    def test_apply_result_is_frozen(self, book: OrderBook) -> None:
        result = book.apply(update_for((BIDS, ASKS)))
        with pytest.raises(AttributeError):
            result.checksum_ok = False  # type: ignore[misc]
        assert result.symbol == SYMBOL
        assert not result.snapshot


class TestInputs:
    def test_only_items_of_this_symbol_are_applied(self) -> None:
        other = {"symbol": "ETH/USD", "bids": [], "asks": [], "checksum": 0}
        checksum = book_checksum(levels(ASKS), levels(BIDS))
        frame = book_frame(
            "snapshot", SYMBOL, bids=BIDS, asks=ASKS, checksum=checksum, extra_items=[other]
        )
        book = OrderBook(SYMBOL, 10)
        assert book.apply(frame).checksum_ok
        assert book.messages_applied == 1
        eth = OrderBook("ETH/USD", 10)
        assert eth.apply(frame).checksum_ok  # empty book, checksum of the empty string
        assert len(eth) == 0

    def test_frame_without_this_symbol(self) -> None:
        book = OrderBook("ETH/USD", 10)
        with pytest.raises(ValueError, match="no data"):
            book.apply(snapshot_of(BIDS, ASKS))

    def test_book_data_items(self) -> None:
        frame = snapshot_of(BIDS, ASKS)
        book = OrderBook(SYMBOL, 10)
        assert book.apply(frame.data[0], snapshot=True).checksum_ok
        update = update_for((BIDS[:2], ASKS), bids=[("99.0", "0.0")])
        assert book.apply(update.data[0]).checksum_ok
        with pytest.raises(ValueError, match="ETH/USD"):
            OrderBook("ETH/USD", 10).apply(frame.data[0], snapshot=True)

    def test_zero_quantity_in_snapshot_is_skipped(self) -> None:
        book = OrderBook(SYMBOL, 10)
        frame = book_frame(
            "snapshot",
            SYMBOL,
            bids=[*BIDS, ("98.0", "0.00000000")],
            asks=ASKS,
            checksum=book_checksum(levels(ASKS), levels(BIDS)),
        )
        assert book.apply(frame).checksum_ok
        assert len(book.bids()) == 3

    def test_depth_must_be_positive(self) -> None:
        with pytest.raises(ValueError, match="depth"):
            OrderBook(SYMBOL, 0)


class TestReadAPI:
    def test_best_spread_mid(self, book: OrderBook) -> None:
        assert book.best_bid == (D("100.0"), D("1.00000000"))
        assert book.best_ask == (D("100.5"), D("1.50000000"))
        assert book.spread == D("0.5")
        assert book.mid == D("100.25")

    def test_empty_book(self) -> None:
        book = OrderBook(SYMBOL, 10)
        assert book.best_bid is None
        assert book.best_ask is None
        assert book.spread is None
        assert book.mid is None
        assert book.bids() == []
        assert book.vwap_to_fill("ask", D(1)) is None
        assert book.last_checksum is None
        assert book.last_update is None

    def test_sides_best_first(self, book: OrderBook) -> None:
        assert book.bids() == levels(BIDS)
        assert book.asks() == levels(ASKS)
        assert book.bids(2) == levels(BIDS[:2])
        assert book.asks(1) == levels(ASKS[:1])
        assert book.asks(0) == []
        assert book.bids(10) == levels(BIDS)

    def test_depth_at(self, book: OrderBook) -> None:
        assert book.depth_at(D("99.5")) == D("2")
        assert book.depth_at(D("101")) == D("2.5")
        assert book.depth_at(D("101"), "bid") == 0
        assert book.depth_at(D("101"), "ask") == D("2.5")
        assert book.depth_at(D("42")) == 0

    def test_cumulative_qty(self, book: OrderBook) -> None:
        assert book.cumulative_qty("bid", D("99.5")) == D("3")
        assert book.cumulative_qty("bid", D("99.6")) == D("1")
        assert book.cumulative_qty("bid", D("0")) == D("6")
        assert book.cumulative_qty("ask", D("101.0")) == D("4")
        assert book.cumulative_qty("ask", D("100")) == 0
        with pytest.raises(ValueError, match="side"):
            book.cumulative_qty("buy", D("1"))  # type: ignore[arg-type]

    def test_vwap_to_fill(self, book: OrderBook) -> None:
        # Buying 3 walks the asks: 1.5 @ 100.5 + 1.5 @ 101.0.
        assert book.vwap_to_fill("ask", D("3")) == (D("1.5") * D("100.5") + D("1.5") * 101) / 3
        assert book.vwap_to_fill("ask", D("1")) == D("100.5")
        # Selling 1.5 walks the bids: 1 @ 100.0 + 0.5 @ 99.5.
        assert book.vwap_to_fill("bid", D("1.5")) == (D("100.0") + D("0.5") * D("99.5")) / D("1.5")
        assert book.vwap_to_fill("bid", D("6")) == (100 + 2 * D("99.5") + 3 * 99) / D(6)
        assert book.vwap_to_fill("bid", D("6.00000001")) is None
        with pytest.raises(ValueError, match="positive"):
            book.vwap_to_fill("bid", D(0))

    def test_snapshot_is_an_immutable_copy(self, book: OrderBook) -> None:
        view = book.snapshot()
        assert isinstance(view, BookView)
        assert view.bids == tuple(levels(BIDS))
        assert view.asks == tuple(levels(ASKS))
        assert view.is_valid
        assert view.checksum == book.last_checksum
        assert view.timestamp == "2026-01-01T00:00:00.000000Z"
        book.apply(update_for((BIDS[1:], ASKS), bids=[("100.0", "0")]))
        assert view.bids == tuple(levels(BIDS))
        with pytest.raises(dataclasses.FrozenInstanceError):
            view.is_valid = False  # type: ignore[misc]

    def test_counters_and_repr(self, book: OrderBook) -> None:
        assert book.messages_applied == 1
        book.apply(update_for((BIDS, ASKS), timestamp="2026-01-01T00:00:09.123456Z"))
        assert book.messages_applied == 2
        assert book.last_update == "2026-01-01T00:00:09.123456Z"
        assert len(book) == 6
        text = repr(book)
        assert "BTC/USD" in text
        assert "best_bid=100.0" in text
        assert "valid=True" in text
        assert book.symbol == SYMBOL
        assert book.depth == 3


def test_a_level_keeps_its_first_price_text() -> None:
    """An update naming a held price with other trailing zeros changes the qty, not the text."""
    book = OrderBook(SYMBOL, 10)
    bids = [(f"{100 - i}.5", "1.0") for i in range(12)]
    asks = [(f"{200 + i}.5", "1.0") for i in range(12)]
    snapshot = book_frame("snapshot", SYMBOL, bids=bids, asks=asks, checksum=0)
    book.apply(snapshot)
    first = book.compute_checksum()
    # Same price as the best bid, written with one more zero; the qty does not change.
    update = book_frame("update", SYMBOL, bids=[("100.50", "1.0")], asks=[], checksum=first)
    assert book.apply(update).checksum_ok
    assert book.bids(1) == [(Decimal("100.5"), Decimal("1.0"))]
    assert str(book.bids(1)[0][0]) == "100.5"
