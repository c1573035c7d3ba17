"""Keep the dead man's switch armed while trading; see it cancel everything when it fires.

``cancel_all_orders_after(timeout)`` starts a countdown on Kraken's side: if it is not refreshed
before it runs out (the process died, the network went away), every open order is cancelled.
``client.dead_mans_switch()`` refreshes it in the background while the block runs and disarms it
on the way out::

    python examples/dead_mans_switch.py
"""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass
from decimal import Decimal

from kraken_ws.client import KrakenWSClient
from kraken_ws.models.channels.executions import ExecutionsSnapshot, ExecutionsUpdate


@dataclass(frozen=True)
class Outcome:
    """What happened.

    Attributes:
        armed_until: ``triggerTime`` of the first arming inside the context manager.
        left_order_id: The order left open when the switch was allowed to fire.
        fired_order_status: Its last status from the executions feed (``"canceled"``).
    """

    armed_until: str
    left_order_id: str
    fired_order_status: str


async def main(
    ws_url: str,
    auth_ws_url: str,
    rest_url: str,
    key: str,
    secret: str,
    symbol: str = "BTC/USD",
    fire_after: int = 1,
    timeout: float = 10.0,
) -> Outcome:
    """Trade under the switch, then let a short countdown fire.

    Args:
        ws_url: Public endpoint.
        auth_ws_url: Authenticated endpoint.
        rest_url: REST base for the WebSocket token.
        key: API key.
        secret: API secret.
        symbol: The pair.
        fire_after: Countdown (seconds) of the second part, which is allowed to fire.
        timeout: Seconds to wait for the cancellation report.

    Returns:
        The :class:`Outcome`.
    """
    async with KrakenWSClient(
        key, secret, ws_url=ws_url, auth_ws_url=auth_ws_url, rest_url=rest_url
    ) as client:
        stream = client.events(channel="executions")
        await client.subscribe_executions()
        book = await client.book(symbol)
        bid = book.best_bid
        assert bid is not None
        low = (bid[0] * Decimal("0.9")).quantize(bid[0])

        # 1. Normal operation: armed for 60 s, refreshed every 20 s, disarmed on exit.
        async with client.dead_mans_switch(timeout=60, refresh_every=20) as armed:
            print(f"armed until {armed.triggerTime}")
            placed = await client.add_order(
                order_type="limit", side="buy", symbol=symbol, order_qty="0.001", limit_price=low
            )
            await client.cancel_order(order_id=[placed.order_id])
        # Leaving the block disarmed the switch (cancel_all_orders_after(0)).

        # 2. A process that stops refreshing: arm a short countdown and leave an order behind.
        left = await client.add_order(
            order_type="limit", side="buy", symbol=symbol, order_qty="0.001", limit_price=low
        )
        await client.cancel_all_orders_after(fire_after)
        print(f"left {left.order_id} open; switch fires in {fire_after}s")
        status = "new"
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(timeout):
                async for event in stream:
                    if isinstance(event, ExecutionsSnapshot | ExecutionsUpdate):
                        for report in event.data:
                            if report.order_id == left.order_id and report.order_status:
                                status = report.order_status
                    if status == "canceled":
                        break
        print(f"{left.order_id}: {status}")
        return Outcome(str(armed.triggerTime), left.order_id, status)


async def _demo() -> None:
    from kraken_ws.testing import LocalExchange

    async with LocalExchange(rate=10) as ex:
        await main(ex.ws_url, ex.auth_ws_url, ex.rest_url, ex.api_key, ex.api_secret)


if __name__ == "__main__":
    asyncio.run(_demo())
