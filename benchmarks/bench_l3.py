"""Level-3 book hot path: kraken-ws's ``L3Book`` vs a straightforward implementation, same frames.

Run: ``python -m benchmarks.bench_l3``.

No other Python client keeps a Kraken L3 book, so the baseline is what one would write by hand
from the reference: orders in per-side dicts (insertion order is queue order), and after every
message the side re-sorted and truncated to depth and the checksum recomputed with
:func:`kraken_ws.book.level3_checksum` (lossless ``json.loads(parse_float=Decimal)`` for input:
floats would fail the checksum). Both must verify every checksum.

The frames are recorded from the local exchange's ``level3`` feed for BTC/USD at depth 10, 100
and 1000 (about 1.5 order events per update, like Kraken's).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from decimal import Decimal
from typing import Any

import websockets

from benchmarks.bench_book import best_chunks
from kraken_ws.auth import TokenProvider
from kraken_ws.book import L3Book, level3_checksum
from kraken_ws.models.channels.level3 import Level3Snapshot, Level3Update
from kraken_ws.protocol.codec import decode
from kraken_ws.testing import LocalExchange

SYMBOL = "BTC/USD"
PLAN = [(10, 3_000), (100, 3_000), (1000, 2_000)]
CHUNK = 250
REPEAT = 5


async def _record(depth: int, count: int) -> list[str]:
    """A snapshot and ``count - 1`` updates of the local exchange's level3 feed, as wire text."""
    async with LocalExchange(rate=None, heartbeat_interval=None, seed=11) as ex:
        token = await TokenProvider(ex.api_key, ex.api_secret, rest_url=ex.rest_url).get()
        frames: list[str] = []
        async with websockets.connect(ex.l3_ws_url, max_size=None) as ws:
            request = {
                "method": "subscribe",
                "params": {"channel": "level3", "symbol": [SYMBOL], "depth": depth, "token": token},
            }
            await ws.send(json.dumps(request))
            while len(frames) < count:
                try:
                    async with asyncio.timeout(0.02):
                        text = await ws.recv()
                except TimeoutError:
                    await ex.step(200, SYMBOL)  # market activity whenever the feed is drained
                    continue
                assert isinstance(text, str)
                if json.loads(text).get("channel") == "level3":
                    frames.append(text)
            # Read what is still in flight: a client that stops reading never sees the close
            # frame behind it, and the close handshake then waits for its timeout.
            with contextlib.suppress(TimeoutError):
                while True:
                    async with asyncio.timeout(0.05):
                        await ws.recv()
        return frames[:count]


# --- kraken-ws -----------------------------------------------------------------------------


def run_ours(depth: int, frames: list[str]) -> list[float]:
    """Seconds per chunk of updates: ``decode`` + ``L3Book.apply`` (apply, truncate, verify).

    The snapshot (``frames[0]``) is applied untimed, as in the L2 benchmark.
    """
    book = L3Book(SYMBOL, depth)
    snapshot = decode(frames[0])
    assert isinstance(snapshot, Level3Snapshot)
    book.apply(snapshot)
    times: list[float] = []
    ok = True
    for start in range(1, len(frames), CHUNK):
        began = time.perf_counter()
        for text in frames[start : start + CHUNK]:
            message = decode(text)
            if type(message) is Level3Update or type(message) is Level3Snapshot:
                ok &= book.apply(message).checksum_ok
        times.append(time.perf_counter() - began)
    if not ok or not book.is_valid:
        raise AssertionError("kraken-ws: a level3 checksum failed")
    return times


# --- the straightforward baseline --------------------------------------------------------------


class NaiveL3:
    """Orders per side in dicts; every message re-sorts, truncates and re-renders the checksum."""

    def __init__(self, depth: int) -> None:
        self.depth = depth
        self.sides: dict[str, dict[str, tuple[Decimal, Decimal]]] = {"bids": {}, "asks": {}}

    def apply(self, frame: dict[str, Any]) -> bool:
        data = frame["data"][0]
        if frame["type"] == "snapshot":
            for key in ("bids", "asks"):
                self.sides[key] = {
                    o["order_id"]: (o["limit_price"], o["order_qty"]) for o in data[key]
                }
        else:
            for key in ("bids", "asks"):
                orders = self.sides[key]
                for event in data[key]:
                    order_id = event["order_id"]
                    new = (event["limit_price"], event["order_qty"])
                    old = orders.get(order_id)
                    if event["event"] == "delete" or not new[1]:
                        orders.pop(order_id, None)
                    elif event["event"] == "modify" and old is not None and old[0] == new[0]:
                        orders[order_id] = new  # keeps queue position
                    else:
                        orders.pop(order_id, None)
                        orders[order_id] = new  # tail of its level
        for key, best_first in (("bids", True), ("asks", False)):
            orders = self.sides[key]
            prices = sorted({price for price, _ in orders.values()}, reverse=best_first)
            if len(prices) > self.depth:
                kept = set(prices[: self.depth])
                self.sides[key] = {i: o for i, o in orders.items() if o[0] in kept}
        checksum = level3_checksum(
            list(self.sides["asks"].values()), list(self.sides["bids"].values())
        )
        return checksum == int(data["checksum"])


def run_naive(depth: int, frames: list[str]) -> list[float]:
    """Seconds per chunk of updates: ``json.loads(parse_float=Decimal)`` + :class:`NaiveL3`."""
    book = NaiveL3(depth)
    book.apply(json.loads(frames[0], parse_float=Decimal))
    times: list[float] = []
    ok = True
    for start in range(1, len(frames), CHUNK):
        began = time.perf_counter()
        for text in frames[start : start + CHUNK]:
            frame = json.loads(text, parse_float=Decimal)
            if frame.get("channel") == "level3":
                ok &= book.apply(frame)
        times.append(time.perf_counter() - began)
    if not ok:
        raise AssertionError("baseline: a level3 checksum failed")
    return times


def main() -> None:
    print("\n== level3 book: decode + apply + checksum verify (same frames) ==")
    print(f"{'depth':>5} {'frames':>7} | {'kraken-ws L3Book':>17} | {'re-sort':>17} | ratio")
    for depth, count in PLAN:
        frames = asyncio.run(_record(depth, count))
        ours_runs: list[list[float]] = []
        naive_runs: list[list[float]] = []
        for _ in range(REPEAT):
            ours_runs.append(run_ours(depth, frames))
            naive_runs.append(run_naive(depth, frames))
        updates = len(frames) - 1
        ours = best_chunks(ours_runs) / updates * 1e6
        naive = best_chunks(naive_runs) / updates * 1e6
        print(
            f"{depth:>5} {len(frames):>7} | {ours:>11.1f} µs/up | {naive:>11.1f} µs/up "
            f"| {naive / ours:5.1f}x"
        )


if __name__ == "__main__":
    main()
