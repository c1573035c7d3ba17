"""Record a feed to JSON Lines, then replay it and verify every book checksum.

The same as ``kraken-ws record`` followed by ``kraken-ws replay``, from Python::

    python examples/record_feed.py
"""

from __future__ import annotations

import asyncio
import tempfile
from collections.abc import Sequence
from pathlib import Path

from kraken_ws.recording import ReplaySummary, record, replay


async def main(
    ws_url: str,
    out: Path,
    symbols: Sequence[str] = ("BTC/USD",),
    seconds: float = 3.0,
) -> ReplaySummary:
    """Record ``book`` and ``trade`` for ``seconds``, then replay the file.

    Args:
        ws_url: Public endpoint.
        out: File to write (``.jsonl`` or ``.jsonl.gz``).
        symbols: Pairs.
        seconds: How long to record.

    Returns:
        The replay's summary (its final books equal the live books at the end of recording).
    """
    recorded = await record(
        out, channels=["book", "trade"], symbols=symbols, ws_url=ws_url, duration=seconds
    )
    print(f"recorded {recorded.frames} frames to {recorded.path}")
    summary = replay(out)
    print(
        f"replayed {summary.frames} frames: {summary.checksum_verified} checksums verified, "
        f"{summary.checksum_failed} failed"
    )
    for book in summary.books:
        same = book.view == recorded.books.get(book.symbol)
        print(f"  {book.symbol}: bid {book.best_bid} ask {book.best_ask} (matches live: {same})")
    return summary


async def _demo() -> None:
    from kraken_ws.testing import LocalExchange

    async with LocalExchange(rate=20) as exchange:
        with tempfile.TemporaryDirectory() as tmp:
            await main(exchange.ws_url, Path(tmp) / "feed.jsonl.gz")


if __name__ == "__main__":
    asyncio.run(_demo())
