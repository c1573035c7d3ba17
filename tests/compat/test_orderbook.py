"""``SpotOrderBookClient`` facade: exact books, per-pair resync without a stall."""

from __future__ import annotations

import asyncio
import json
import time
import zlib
from collections import defaultdict
from decimal import Decimal
from typing import Any

from websockets.asyncio.client import connect

from kraken_ws.compat import SpotOrderBookClient
from kraken_ws.testing import LocalExchange

from .conftest import base, other_tasks

PAIRS = ["BTC/USD", "PEPE/USD"]


def pad(token: str, decimals: int) -> str:
    """The wire token with zeros appended up to ``decimals`` (what ``get()`` must show)."""
    whole, _, frac = token.partition(".")
    return f"{whole}.{frac.ljust(decimals, '0')}" if decimals else token


class RefBook:
    """An independent L2 book kept from raw wire tokens (json with parse_float=str)."""

    def __init__(self, depth: int) -> None:
        self.depth = depth
        self.sides: dict[str, dict[str, str]] = {"bids": {}, "asks": {}}

    def apply(self, data: dict[str, Any], snapshot: bool) -> None:
        if snapshot:
            self.sides = {"bids": {}, "asks": {}}
        for side in ("bids", "asks"):
            book = self.sides[side]
            for level in data[side]:
                for known in [p for p in book if Decimal(p) == Decimal(level["price"])]:
                    del book[known]
                if Decimal(level["qty"]):
                    book[level["price"]] = level["qty"]
            kept = sorted(book, key=Decimal, reverse=side == "bids")[: self.depth]
            self.sides[side] = {p: book[p] for p in kept}

    def view(self, side: str, pd: int, qd: int) -> list[tuple[str, str]]:
        book = self.sides[side]
        return [
            (pad(p, pd), pad(book[p], qd))
            for p in sorted(book, key=Decimal, reverse=side == "bids")
        ]


async def test_thousand_updates_exact_on_btc_and_pepe() -> None:
    async with LocalExchange(rate=None, seed=21, heartbeat_interval=0.2) as ex:
        counts: dict[str, int] = defaultdict(int)
        errors: list[tuple[str, dict[str, Any]]] = []
        invalid: list[str] = []
        progressed = asyncio.Event()

        def on_book(pair: str, message: dict[str, Any]) -> None:  # a sync callback
            if "error" in message:
                errors.append((pair, message))
                return
            counts[pair] += 1
            progressed.set()
            book = client.get(pair)
            if book is None or not book["valid"]:
                invalid.append(pair)

        client = SpotOrderBookClient(depth=10, callback=on_book, ws_url=base(ex.ws_url))
        references = {pair: RefBook(10) for pair in PAIRS}
        wire_updates: dict[str, int] = defaultdict(int)
        async with connect(ex.ws_url, max_queue=None) as ws:
            await ws.recv()  # status
            await ws.send(
                json.dumps({"method": "subscribe", "params": {"channel": "book", "symbol": PAIRS}})
            )
            await client.start()
            await client.add_book(PAIRS)
            async with asyncio.timeout(20):
                while min(counts[p] for p in PAIRS) < 1001:  # snapshot + 1,000 updates
                    await ex.step(5)
                    await asyncio.sleep(0)
                # The reference reads the same frames from its own socket, up to the same point.
                while sum(wire_updates.values()) < sum(counts.values()):
                    frame = json.loads(await ws.recv(), parse_float=str)
                    if frame.get("channel") == "book":
                        data = frame["data"][0]
                        references[data["symbol"]].apply(data, frame["type"] == "snapshot")
                        wire_updates[data["symbol"]] += 1
                while any(counts[p] < wire_updates[p] for p in PAIRS):
                    progressed.clear()
                    await progressed.wait()
            assert dict(counts) == dict(wire_updates)
            for pair in PAIRS:
                book = client.get(pair)
                assert book is not None
                assert book["valid"] is True
                pd, qd = book["price_decimals"], book["qty_decimals"]
                assert list(book["bid"]) == [p for p, _ in references[pair].view("bids", pd, qd)]
                assert [(p, q) for p, (q, _ts) in book["ask"].items()] == references[pair].view(
                    "asks", pd, qd
                )
                assert [(p, q) for p, (q, _ts) in book["bid"].items()] == references[pair].view(
                    "bids", pd, qd
                )
                assert all(isinstance(ts, str) for _q, ts in book["bid"].values())
            assert (client.get("BTC/USD") or {})["price_decimals"] == 1
            pepe = client.get("PEPE/USD")
            assert pepe is not None
            assert (pepe["price_decimals"], pepe["qty_decimals"]) == (9, 2)
            # High-quantity token: qty strings beyond float's exact range survive.
            assert max(Decimal(q) for q, _ in pepe["ask"].values()) > 10**8
            await client.close()
        assert errors == []
        assert invalid == []


async def test_checksum_mismatch_resyncs_one_pair_without_stall() -> None:
    async with LocalExchange(rate=40, seed=5, heartbeat_interval=0.2) as ex:
        events: list[tuple[float, str, dict[str, Any]]] = []
        resynced = asyncio.Event()
        eth_updates = asyncio.Event()
        window_over = asyncio.Event()
        window_end = [float("inf")]

        async def on_book(pair: str, message: dict[str, Any]) -> None:  # an async callback
            events.append((time.monotonic(), pair, message))
            if pair == "ETH/USD":
                eth_updates.set()
                if time.monotonic() >= window_end[0]:
                    window_over.set()
            if (
                pair == "BTC/USD"
                and message.get("type") == "snapshot"
                and any("error" in m for _, _, m in events)
            ):
                book = client.get(pair)
                assert book is not None
                if book["valid"]:
                    resynced.set()

        client = SpotOrderBookClient(callback=on_book, ws_url=base(ex.ws_url))
        await client.start()
        await client.add_book(["BTC/USD", "ETH/USD"])
        async with asyncio.timeout(5):
            await eth_updates.wait()
        ex.corrupt_next_checksum("BTC/USD")
        corrupted_at = time.monotonic()
        # Watch ETH for 2 s from the corruption (pks stalls the socket for 3 s).
        window_end[0] = corrupted_at + 2.0
        async with asyncio.timeout(10):
            await resynced.wait()
            await window_over.wait()
        await client.close()
        assert other_tasks() == set()

    errors = [(pair, m) for _, pair, m in events if "error" in m]
    assert errors == [
        ("BTC/USD", {"error": "Checksum mismatch - resubscribing to the orderbook for BTC/USD"})
    ]
    # The bad update itself reached the callback first (as in pks), with valid False.
    bad = next(i for i, (_, _, m) in enumerate(events) if "error" in m)
    assert events[bad - 1][1] == "BTC/USD"
    assert events[bad - 1][2]["type"] == "update"
    eth_times = [t for t, pair, _ in events if pair == "ETH/USD" and t >= corrupted_at]
    gaps = [b - a for a, b in zip([corrupted_at, *eth_times], eth_times, strict=False)]
    assert len(eth_times) >= 20
    assert max(gaps) < 1.0, max(gaps)  # pks: >= 3 s for every pair on the socket


async def test_checksum_zero_and_snapshot_checksum_are_processed(exchange: LocalExchange) -> None:
    seen: list[dict[str, Any]] = []
    client = SpotOrderBookClient(callback=lambda pair, message: seen.append(message))
    levels = {"bids": [{"price": 100.0, "qty": 1.5}], "asks": [{"price": 101.0, "qty": 2.0}]}
    text = "1010" + "20" + "1000" + "15"  # asks then bids: price and qty digits, no dot
    good = zlib.crc32(text.encode())
    snapshot = {"channel": "book", "type": "snapshot", "data": [{"symbol": "X/Y", **levels}]}
    snapshot["data"][0]["checksum"] = 0  # pks skips a frame whose checksum is 0
    await client.on_message(snapshot)
    assert seen[0] is snapshot
    assert seen[1] == {"error": "Checksum mismatch - resubscribing to the orderbook for X/Y"}
    snapshot["data"][0]["checksum"] = good  # pks never verifies snapshots
    await client.on_message(snapshot)
    book = client.get("X/Y")
    assert book is not None
    assert book["valid"] is True
    assert book["bid"] == {"100.0": ("1.5", None)}
    assert book["ask"] == {"101.0": ("2.0", None)}
    await client.close()


async def test_remove_book_and_helpers(exchange: LocalExchange) -> None:
    unsubscribed = asyncio.Event()

    class Book(SpotOrderBookClient):
        async def on_message(self, message: dict[str, Any] | list[Any]) -> None:
            await super().on_message(message)
            if isinstance(message, dict) and message.get("method") == "unsubscribe":
                unsubscribed.set()

    client = Book(depth=25, callback=lambda pair, message: None, ws_url=base(exchange.ws_url))
    assert client.depth == 25
    assert SpotOrderBookClient.get_first(("1.5", "x")) == 1.5
    await client.start()
    await client.add_book(["ETH/USD"])
    async with asyncio.timeout(5):
        while client.get("ETH/USD") is None:
            await exchange.step()
    book = client.get("ETH/USD")
    assert book is not None
    assert len(book["bid"]) == 25
    assert list(book["ask"]) == sorted(book["ask"], key=Decimal)
    assert list(book["bid"]) == sorted(book["bid"], key=Decimal, reverse=True)
    assert all(len(p.split(".")[1]) == 2 for p in book["bid"])  # ETH/USD: 2 price decimals
    await client.remove_book(["ETH/USD"])
    async with asyncio.timeout(5):
        await unsubscribed.wait()
    assert client.get("ETH/USD") is None
    await client.close()
