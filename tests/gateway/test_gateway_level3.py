"""Level3 books through the bus: the same L3Book, order by order, early and late."""

from __future__ import annotations

from kraken_ws.book.l3 import L3Book
from kraken_ws.gateway import Subscriber
from kraken_ws.gateway.testing import NatsServer
from kraken_ws.testing import LocalExchange

from .support import gateway_for, until


def _orders(book: L3Book) -> list[tuple[str, str, str, str]]:
    return [
        (side, o.order_id, str(o.price), str(o.qty))
        for side in ("bid", "ask")
        for price, _ in book.levels(side)  # type: ignore[arg-type]
        for o in book.orders_at(price, side)  # type: ignore[arg-type]
    ]


def _same(a: L3Book, b: L3Book) -> bool:
    return a.is_valid and b.is_valid and _orders(a) == _orders(b)


async def test_level3_readers_early_and_late_end_equal(nats_server: NatsServer) -> None:
    async with LocalExchange(rate=None) as ex:
        gateway = gateway_for(
            ex, nats_server.url, level3={"BTC/USD": 10}, key=ex.api_key, secret=ex.api_secret
        )
        async with gateway, Subscriber(nats_server.url) as early:
            first = await early.level3("BTC/USD", depth=10)
            for _ in range(40):
                await ex.step(1, "BTC/USD")
            async with Subscriber(nats_server.url) as late:
                second = await late.level3("BTC/USD", depth=10)
                for _ in range(40):
                    await ex.step(1, "BTC/USD")
                g = gateway.l3_books["BTC/USD"]
                await until(lambda: _same(first, g) and _same(second, g), what="level3 books")
                assert len(_orders(g)) > 10
