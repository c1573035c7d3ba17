"""Keep a live, checksum-verified order book and print its top on every update.

``client.book()`` subscribes, applies every snapshot and update, verifies Kraken's CRC32 checksum
on each one, and resubscribes that symbol on its own if a checksum ever fails::

    python examples/book_watcher.py
"""

from __future__ import annotations

import asyncio

from kraken_ws.book import BookView
from kraken_ws.client import KrakenWSClient
from kraken_ws.models.channels.book import BookUpdate
from kraken_ws.protocol.events import BookResync


async def main(
    ws_url: str, symbol: str = "BTC/USD", depth: int = 10, updates: int | None = 20
) -> BookView:
    """Watch one book.

    Args:
        ws_url: Public endpoint.
        symbol: The pair.
        depth: 10, 25, 100, 500 or 1000.
        updates: Stop after this many updates (``None``: run until cancelled).

    Returns:
        An immutable copy of the book when it stopped.
    """
    if depth not in (10, 25, 100, 500, 1000):
        raise ValueError(f"bad depth {depth}")
    async with KrakenWSClient(ws_url=ws_url) as client:
        stream = client.events()
        book = await client.book(symbol, depth)  # type: ignore[arg-type]  # checked above
        seen = 0
        async for event in stream:
            if isinstance(event, BookResync):
                print(f"{event.symbol}: {event.reason}, resubscribing")
            elif isinstance(event, BookUpdate) and book.is_valid:
                seen += 1
                bid, ask = book.best_bid, book.best_ask
                if bid is not None and ask is not None:
                    print(
                        f"{symbol} {bid[1]} @ {bid[0]} | {ask[0]} x {ask[1]}"
                        f"  spread {book.spread}  crc {book.last_checksum}"
                    )
                if updates is not None and seen >= updates:
                    break
        return book.snapshot()


async def _demo() -> None:
    from kraken_ws.testing import LocalExchange

    async with LocalExchange(rate=10) as exchange:
        await main(exchange.ws_url)


if __name__ == "__main__":
    asyncio.run(_demo())
