"""100,000 book updates from the local exchange at depth 1000, with a corrupted checksum injected.

The stream goes over a real websocket (plain ``websockets`` client, no KrakenWSClient) into
``decode`` and a ``BookManager``. Every checksum must verify; after the injected corruption only
the affected symbol resyncs (one unsubscribe/subscribe, one fresh snapshot) while the other
symbol applies every update it is sent, with no gap.
"""

from __future__ import annotations

import asyncio
from collections import Counter

import websockets

from kraken_ws import decode, encode
from kraken_ws.book import BookManager, BookUpdated, OrderBook, ResyncNeeded
from kraken_ws.models import BookSnapshot, BookUpdate, Pong
from kraken_ws.testing import LocalExchange
from kraken_ws.testing.market import DEFAULT_INSTRUMENTS

TOTAL_UPDATES = 100_000
DEPTH = 1000
CORRUPT_AFTER = 40_000  # updates received before the fault is injected


def _subscribe(method: str, symbol: str) -> str:
    params: dict[str, object] = {"channel": "book", "symbol": [symbol], "depth": DEPTH}
    return encode({"method": method, "params": params})


async def test_100k_updates_at_depth_1000_with_one_corruption() -> None:
    btc, eth = DEFAULT_INSTRUMENTS[0], DEFAULT_INSTRUMENTS[1]
    assert (btc.symbol, eth.symbol) == ("BTC/USD", "ETH/USD")
    manager = BookManager(resync_interval=0.0)
    books = {s: manager.track(s, DEPTH) for s in (btc.symbol, eth.symbol)}
    sent_updates: Counter[str] = Counter()  # book updates that arrived, per symbol
    verified: Counter[str] = Counter()  # updates applied with a verified checksum
    snapshots: Counter[str] = Counter()
    resyncs: list[ResyncNeeded] = []
    snapshots_after_fault: Counter[str] = Counter()
    valid_after_first_resnapshot: list[bool] = []
    fault_injected = asyncio.Event()
    barrier = asyncio.Event()
    enough = asyncio.Event()

    async with (
        LocalExchange(rate=None, seed=11, instruments=[btc, eth], heartbeat_interval=5.0) as ex,
        websockets.connect(ex.ws_url, max_queue=None, max_size=None) as ws,
    ):

        async def read() -> None:
            async for text in ws:
                message = decode(text)
                if isinstance(message, Pong):
                    barrier.set()
                    continue
                if isinstance(message, BookUpdate | BookSnapshot):
                    symbol = message.data[0].symbol
                    if isinstance(message, BookUpdate):
                        sent_updates[symbol] += 1
                    else:
                        snapshots[symbol] += 1
                        if fault_injected.is_set():
                            snapshots_after_fault[symbol] += 1
                for event in manager.feed(message):
                    if isinstance(event, ResyncNeeded):
                        resyncs.append(event)
                        # The client's job: resubscribe that symbol alone.
                        await ws.send(_subscribe("unsubscribe", event.symbol))
                        await ws.send(_subscribe("subscribe", event.symbol))
                    elif isinstance(event, BookUpdated):
                        assert event.result.checksum_ok
                        if event.result.snapshot:
                            if snapshots_after_fault[event.symbol] == 1 and resyncs:
                                valid_after_first_resnapshot.append(books[event.symbol].is_valid)
                        else:
                            verified[event.symbol] += 1
                if sum(sent_updates.values()) >= TOTAL_UPDATES:
                    enough.set()

        reader = asyncio.create_task(read())
        for symbol in (btc.symbol, eth.symbol):
            await ws.send(_subscribe("subscribe", symbol))
        async with asyncio.timeout(240):
            while not enough.is_set():
                if not fault_injected.is_set() and sum(sent_updates.values()) >= CORRUPT_AFTER:
                    ex.corrupt_next_checksum(btc.symbol)
                    fault_injected.set()
                await ex.step(count=200)
                # A ping is answered after every frame queued before it: once its pong is read,
                # the reader has caught up (keeps the exchange's queue for us small).
                barrier.clear()
                await ws.send(encode({"method": "ping", "req_id": 1}))
                await barrier.wait()
        reader.cancel()
        await asyncio.gather(reader, return_exceptions=True)

    total = sum(sent_updates.values())
    assert total >= TOTAL_UPDATES
    # Exactly one resync, for the corrupted symbol; the other never resynced.
    assert [r.symbol for r in resyncs] == [btc.symbol]
    assert resyncs[0].reason == "checksum_mismatch"
    # Valid again with the first snapshot after the resubscribe.
    assert valid_after_first_resnapshot == [True]
    assert snapshots[btc.symbol] == 2
    assert snapshots[eth.symbol] == 1
    # ETH applied every update it was sent, each with a verified checksum: no gap.
    assert verified[eth.symbol] == sent_updates[eth.symbol] > 40_000
    # BTC skipped only the corrupted update and those already queued behind it before its new
    # snapshot: at most one step() batch (200 ticks) is in flight when the resync goes out.
    assert 1 <= sent_updates[btc.symbol] - verified[btc.symbol] <= 200
    for book in books.values():
        assert isinstance(book, OrderBook)
        assert book.is_valid
        assert len(book.bids()) == DEPTH
        assert len(book.asks()) == DEPTH
