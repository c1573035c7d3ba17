"""BookManager: routing many symbols, isolation of a broken book, paced resyncs."""

from __future__ import annotations

from typing import Any

import pytest

from kraken_ws.book import BookManager, BookUpdated, L3Book, OrderBook, ResyncNeeded, book_checksum
from kraken_ws.models.channels.book import BookSnapshot, BookUpdate

from .helpers import D, book_frame, load_models


def corrupt(frame: BookSnapshot | BookUpdate) -> BookSnapshot | BookUpdate:
    item = frame.data[0].model_copy(update={"checksum": frame.data[0].checksum ^ 0xFFFF})
    return type(frame)(channel="book", type=frame.type, data=[item])  # type: ignore[arg-type]


def simple_snapshot(symbol: str, bad: bool = False) -> BookSnapshot | BookUpdate:
    bids = [("10.0", "1.0")]
    asks = [("11.0", "2.0")]
    checksum = book_checksum([(D("11.0"), D("2.0"))], [(D("10.0"), D("1.0"))])
    return book_frame("snapshot", symbol, bids=bids, asks=asks, checksum=checksum + bad)


def interleave(*streams: list[Any]) -> list[Any]:
    out: list[Any] = []
    iterators = [iter(s) for s in streams]
    while iterators:
        for it in list(iterators):
            item = next(it, None)
            if item is None:
                iterators.remove(it)
            else:
                out.append(item)
    return out


class TestRouting:
    def test_two_symbols_one_corrupted(self) -> None:
        btc = load_models("crossbook_kraken_btcusd_l2.jsonl")  # depth 10, resubscribes
        eth = load_models("crossbook_kraken_ethusd_sample.jsonl")  # depth 25
        bad_at = 20
        assert btc[bad_at].type == "update"
        btc[bad_at] = corrupt(btc[bad_at])
        next_snapshot = next(i for i in range(bad_at, len(btc)) if btc[i].type == "snapshot")

        manager = BookManager()
        manager.track("BTC/USD", 10)
        manager.track("ETH/USD", 25)
        events: dict[str, list[Any]] = {"BTC/USD": [], "ETH/USD": []}
        due: list[str] = []
        for now, frame in enumerate(interleave(btc, eth)):
            for event in manager.feed(frame):
                events[event.symbol].append(event)
            due += manager.resync_due(float(now))

        # ETH applied every one of its frames, all verified.
        assert len(events["ETH/USD"]) == len(eth)
        assert all(isinstance(e, BookUpdated) for e in events["ETH/USD"])
        assert manager.l2("ETH/USD").messages_applied == len(eth)

        # BTC: verified up to the bad update, one ResyncNeeded, silence until the next
        # snapshot, then verified again to the end.
        btc_events = events["BTC/USD"]
        resyncs = [e for e in btc_events if isinstance(e, ResyncNeeded)]
        assert len(resyncs) == 1
        assert resyncs[0].reason == "checksum_mismatch"
        assert resyncs[0].expected == btc[bad_at].data[0].checksum
        assert resyncs[0].computed == btc[bad_at].data[0].checksum ^ 0xFFFF
        ignored = next_snapshot - bad_at - 1
        assert len(btc_events) == len(btc) - ignored
        assert btc_events[bad_at] is resyncs[0]
        assert isinstance(btc_events[bad_at + 1], BookUpdated)
        assert btc_events[bad_at + 1].result.snapshot
        assert manager.l2("BTC/USD").is_valid
        assert due == ["BTC/USD"]
        assert manager.pending_resyncs == []

    def test_untracked_symbols_and_other_frames_are_ignored(self) -> None:
        manager = BookManager()
        assert manager.feed(simple_snapshot("BTC/USD")) == []
        assert manager.feed(object()) == []
        assert manager.feed({"channel": "book"}) == []
        manager.track("BTC/USD", 10)
        assert len(manager.feed(simple_snapshot("BTC/USD"))) == 1
        manager.untrack("BTC/USD")
        manager.untrack("never-tracked")
        assert manager.feed(simple_snapshot("BTC/USD")) == []
        assert manager.symbols == []

    def test_instrument_precisions(self) -> None:
        instrument, snapshot, update = load_models("book-vector-b.jsonl")
        manager = BookManager()
        manager.track("MATIC/USD", 10)
        assert manager.feed(instrument) == []
        assert manager.precision("MATIC/USD") == (4, 8)
        events = manager.feed(snapshot) + manager.feed(update)
        assert [type(e) for e in events] == [BookUpdated, BookUpdated]
        # Learned before tracking: applied to books tracked later.
        later = BookManager()
        later.feed(instrument)
        book = later.track("MATIC/USD", 10)
        assert isinstance(book, OrderBook)
        assert (book.price_precision, book.qty_precision) == (4, 8)

    def test_level3(self) -> None:
        (snapshot,) = load_models("level3-vector-c.jsonl")
        manager = BookManager()
        manager.track("BTC/USD", 10, level3=True)
        (event,) = manager.feed(snapshot)
        assert isinstance(event, BookUpdated)
        assert event.channel == "level3"
        assert isinstance(manager.book("BTC/USD"), L3Book)
        assert manager.l3("BTC/USD").is_valid
        with pytest.raises(KeyError):
            manager.l2("BTC/USD")
        # An L2 frame for a symbol kept as L3 is not applied.
        assert manager.feed(load_models("book-vector-a.jsonl")[0]) == []

    def test_level3_mismatch(self) -> None:
        (snapshot,) = load_models("level3-vector-c.jsonl")
        manager = BookManager()
        manager.track("BTC/USD", 5, level3=True)
        (event,) = manager.feed(snapshot)
        assert isinstance(event, ResyncNeeded)
        assert event.channel == "level3"

    def test_update_before_snapshot_reports_once(self) -> None:
        manager = BookManager()
        manager.track("BTC/USD", 10)
        update = book_frame("update", "BTC/USD", bids=[("1.0", "1.0")], checksum=7)
        (event,) = manager.feed(update)
        assert isinstance(event, ResyncNeeded)
        assert event.reason == "update_before_snapshot"
        assert event.computed is None
        assert manager.feed(update) == []
        assert manager.pending_resyncs == ["BTC/USD"]
        with pytest.raises(KeyError):
            manager.l3("BTC/USD")


class TestResyncPacing:
    def test_min_interval_and_backoff(self) -> None:
        manager = BookManager(resync_interval=2.0, max_resync_interval=5.0)
        manager.track("BTC/USD", 10)
        assert manager.resync_due(0.0) == []
        assert manager.next_resync_at() is None

        (event,) = manager.feed(simple_snapshot("BTC/USD", bad=True))
        assert isinstance(event, ResyncNeeded)
        assert manager.next_resync_at() == float("-inf")
        assert manager.resync_due(0.0) == ["BTC/USD"]
        assert manager.resync_due(0.1) == []  # returned once per request

        # The resubscribe's snapshot is bad again: the interval doubles (2 -> 4 s).
        manager.feed(simple_snapshot("BTC/USD", bad=True))
        assert manager.next_resync_at() == 4.0
        assert manager.resync_due(3.9) == []
        assert manager.resync_due(4.0) == ["BTC/USD"]
        manager.feed(simple_snapshot("BTC/USD", bad=True))
        assert manager.next_resync_at() == 9.0  # 4 + min(8, cap 5)

        # A verified snapshot resets the backoff but the minimum interval still holds.
        (ok,) = manager.feed(simple_snapshot("BTC/USD"))
        assert isinstance(ok, BookUpdated)
        assert manager.pending_resyncs == []
        manager.feed(simple_snapshot("BTC/USD", bad=True))
        assert manager.resync_due(5.0) == []
        assert manager.resync_due(6.0) == ["BTC/USD"]

    def test_each_symbol_is_paced_alone(self) -> None:
        manager = BookManager(resync_interval=10.0)
        for symbol in ("A/USD", "B/USD", "C/USD"):
            manager.track(symbol, 10)
            manager.feed(simple_snapshot(symbol))
        manager.feed(simple_snapshot("A/USD", bad=True))
        assert manager.resync_due(100.0) == ["A/USD"]
        manager.feed(simple_snapshot("B/USD", bad=True))
        manager.feed(simple_snapshot("A/USD", bad=True))
        assert manager.resync_due(101.0) == ["B/USD"]
        assert manager.resync_due(120.0) == ["A/USD"]
        assert manager.l2("C/USD").is_valid

    def test_request_resync_by_hand(self) -> None:
        manager = BookManager()
        manager.track("BTC/USD", 10)
        manager.feed(simple_snapshot("BTC/USD"))
        manager.request_resync("BTC/USD")
        assert not manager.l2("BTC/USD").has_snapshot
        update = book_frame("update", "BTC/USD", bids=[("1.0", "1.0")], checksum=7)
        assert manager.feed(update) == []
        assert manager.resync_due(1.0) == ["BTC/USD"]
        with pytest.raises(KeyError):
            manager.request_resync("ETH/USD")

    def test_bad_intervals_rejected(self) -> None:
        with pytest.raises(ValueError, match="interval"):
            BookManager(resync_interval=5.0, max_resync_interval=1.0)
