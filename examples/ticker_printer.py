"""Print ticker updates (best bid/ask and last trade) as they arrive.

Run it as is to watch the embedded local exchange; ``main("wss://ws.kraken.com/v2")`` watches
Kraken::

    python examples/ticker_printer.py
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

from kraken_ws.client import KrakenWSClient
from kraken_ws.models.channels.ticker import TickerData, TickerSnapshot, TickerUpdate


async def main(
    ws_url: str, symbols: Sequence[str] = ("BTC/USD", "ETH/USD"), count: int | None = 10
) -> list[TickerData]:
    """Subscribe to ``ticker`` and print each update.

    Args:
        ws_url: Public endpoint.
        symbols: Pairs to watch.
        count: Stop after this many updates (``None``: run until cancelled).

    Returns:
        Every ticker row printed, in order.
    """
    seen: list[TickerData] = []
    async with KrakenWSClient(ws_url=ws_url) as client:
        stream = client.events(channel="ticker")  # before subscribing: the snapshot is kept
        await client.subscribe_ticker(symbols)
        async for event in stream:
            if not isinstance(event, TickerSnapshot | TickerUpdate):
                continue
            for t in event.data:
                # Decimals keep the wire digits: str() shows exactly what Kraken sent.
                print(
                    f"{t.symbol:<9} bid {t.bid} x {t.bid_qty}  ask {t.ask} x {t.ask_qty}"
                    f"  last {t.last}"
                )
                seen.append(t)
            if count is not None and len(seen) >= count:
                break
    return seen


async def _demo() -> None:
    from kraken_ws.testing import LocalExchange

    async with LocalExchange(rate=50) as exchange:
        await main(exchange.ws_url)


if __name__ == "__main__":
    asyncio.run(_demo())
