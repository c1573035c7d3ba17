"""Soak the LocalExchange: sustained book updates at depth 1000, every checksum verified.

Default run: 60 s at ~2,000 frames/s across BTC/USD, ETH/USD and PEPE/USD, depth 1000, one client
connection. Reports frames received, checksums verified (an independent CRC32 over the exact wire
tokens, reference §8.1: nothing from kraken_ws.book), and RSS (VmRSS) at start and end.

    .venv/bin/python benchmarks/soak_exchange.py [seconds] [frames_per_second]
"""

from __future__ import annotations

import asyncio
import json
import sys
import time
import zlib
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sortedcontainers import SortedDict
from websockets.asyncio.client import connect

from kraken_ws.testing import LocalExchange

SYMBOLS = ("BTC/USD", "ETH/USD", "PEPE/USD")


def rss_kib() -> int:
    """Resident set size of this process in KiB (from /proc/self/status)."""
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def _fmt(token: str) -> str:
    return token.replace(".", "").lstrip("0")


class _Book:
    """Independent depth-limited L2 book over wire tokens."""

    def __init__(self, depth: int) -> None:
        self.depth = depth
        self.bids: SortedDict = SortedDict(lambda price: -price)
        self.asks: SortedDict = SortedDict()

    def apply(self, data: dict[str, Any], snapshot: bool) -> bool:
        if snapshot:
            self.bids.clear()
            self.asks.clear()
        for side, levels in ((self.bids, data["bids"]), (self.asks, data["asks"])):
            for level in levels:
                price = Decimal(level["price"])
                if Decimal(level["qty"]) == 0:
                    side.pop(price, None)
                else:
                    side[price] = (level["price"], level["qty"])
            while len(side) > self.depth:
                side.popitem(-1)
        text = "".join(_fmt(p) + _fmt(q) for p, q in self.asks.values()[:10])
        text += "".join(_fmt(p) + _fmt(q) for p, q in self.bids.values()[:10])
        return (zlib.crc32(text.encode()) & 0xFFFFFFFF) == int(data["checksum"])


@dataclass
class SoakResult:
    """Figures of one soak run."""

    seconds: float
    frames: int
    book_frames: int
    checksums_ok: int
    checksum_failures: int
    rss_start_kib: int
    rss_end_kib: int

    @property
    def frames_per_second(self) -> float:
        """Frames received per second."""
        return self.frames / self.seconds


async def soak(
    seconds: float = 60.0, frames_per_second: float = 2000.0, depth: int = 1000
) -> SoakResult:
    """Run the exchange and one depth-``depth`` client for ``seconds``; verify every checksum."""
    rate = frames_per_second / len(SYMBOLS)
    async with (
        LocalExchange(rate=rate, seed=11, idle_timeout=None) as ex,  # the soak client never pings
        connect(ex.ws_url, max_queue=None, max_size=None) as ws,
    ):
        await ws.send(
            json.dumps(
                {
                    "method": "subscribe",
                    "req_id": 1,
                    "params": {"channel": "book", "symbol": list(SYMBOLS), "depth": depth},
                }
            )
        )
        books = {symbol: _Book(depth) for symbol in SYMBOLS}
        frames = book_frames = ok = bad = 0
        rss_start = 0
        start = time.monotonic()
        warmup_done = False
        while True:
            elapsed = time.monotonic() - start
            if not warmup_done and elapsed >= min(1.0, seconds / 10):
                # RSS once the books and buffers are warm, so growth means a leak.
                rss_start = rss_kib()
                warmup_done = True
            if elapsed >= seconds:
                break
            frame = json.loads(await ws.recv(), parse_float=str, parse_int=str)
            frames += 1
            if frame.get("channel") != "book":
                continue
            book_frames += 1
            data = frame["data"][0]
            if books[data["symbol"]].apply(data, frame["type"] == "snapshot"):
                ok += 1
            else:
                bad += 1
        duration = time.monotonic() - start
    return SoakResult(duration, frames, book_frames, ok, bad, rss_start, rss_kib())


def main() -> None:
    """Run the soak and print its figures."""
    seconds = float(sys.argv[1]) if len(sys.argv) > 1 else 60.0
    fps = float(sys.argv[2]) if len(sys.argv) > 2 else 2000.0
    result = asyncio.run(soak(seconds, fps))
    print(f"duration          {result.seconds:.1f} s")
    print(f"frames received   {result.frames} ({result.frames_per_second:.0f}/s)")
    print(f"book frames       {result.book_frames}")
    print(f"checksums ok      {result.checksums_ok}")
    print(f"checksum failures {result.checksum_failures}")
    print(
        f"RSS start / end   {result.rss_start_kib} KiB / {result.rss_end_kib} KiB "
        f"({result.rss_end_kib - result.rss_start_kib:+d} KiB)"
    )


if __name__ == "__main__":
    main()
