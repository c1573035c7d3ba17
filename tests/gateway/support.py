"""Helpers of the gateway tests: a local exchange with many symbols, waiting for convergence."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from decimal import Decimal

from kraken_ws.book.l2 import OrderBook
from kraken_ws.gateway import Gateway, GatewayConfig
from kraken_ws.testing import InstrumentSpec, LocalExchange


def instruments(count: int) -> list[InstrumentSpec]:
    """``count`` simulated pairs S0/USD, S1/USD, ..."""
    return [
        InstrumentSpec(f"S{i}/USD", f"S{i}", "USD", 2, 6, Decimal(100 + 10 * i))
        for i in range(count)
    ]


def gateway_for(ex: LocalExchange, nats_url: str, **fields: object) -> Gateway:
    config = GatewayConfig(
        nats_url=nats_url,
        ws_url=ex.ws_url,
        auth_ws_url=ex.auth_ws_url,
        rest_url=ex.rest_url,
        l3_ws_url=ex.l3_ws_url,
        **fields,  # type: ignore[arg-type]
    )
    return Gateway(config, client_options={"reconnect_initial_delay": 0.05})


async def until(predicate: Callable[[], bool], timeout: float = 20.0, what: str = "") -> None:
    """Wait for ``predicate`` (checked every 20 ms) or fail after ``timeout`` seconds."""
    try:
        async with asyncio.timeout(timeout):
            while not predicate():  # noqa: ASYNC110 - state of other tasks and processes
                await asyncio.sleep(0.02)
    except TimeoutError:
        raise AssertionError(f"not within {timeout}s: {what}") from None


def same(a: OrderBook, b: OrderBook) -> bool:
    """Both valid and holding the same levels."""
    return a.is_valid and b.is_valid and a.bids() == b.bids() and a.asks() == b.asks()
