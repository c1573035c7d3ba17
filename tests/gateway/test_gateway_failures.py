"""Failures: Kraken's side dropped, one node of a 3-node JetStream cluster killed."""

from __future__ import annotations

import asyncio

from kraken_ws.events import BookResync, Disconnected
from kraken_ws.gateway import Subscriber
from kraken_ws.gateway.testing import NatsCluster, NatsServer
from kraken_ws.testing import LocalExchange

from .support import gateway_for, instruments, same, until


async def test_kraken_dropped_consumers_see_the_resync_and_valid_books(
    nats_server: NatsServer,
) -> None:
    async with (
        LocalExchange(rate=None, instruments=instruments(2)) as ex,
        gateway_for(ex, nats_server.url, books={"S0/USD": 10, "S1/USD": 10}) as gateway,
        Subscriber(nats_server.url) as sub,
    ):
        events = aiter(sub.events())
        books = {s: await sub.book(s, depth=10) for s in ("S0/USD", "S1/USD")}
        for _ in range(20):
            await ex.step(1)
        await ex.drop_connections("public")
        seen: list[object] = []
        async with asyncio.timeout(20):
            while not any(isinstance(e, BookResync) for e in seen):
                seen.append(await anext(events))
        assert any(isinstance(e, Disconnected) for e in seen)
        assert not all(book.is_valid for book in books.values())
        for _ in range(20):
            await ex.step(1)
        for symbol, book in books.items():
            await until(lambda b=book, s=symbol: same(b, gateway.books[s]), what=symbol)


async def test_one_cluster_node_killed_publishing_and_consuming_go_on(
    nats_cluster: NatsCluster,
) -> None:
    async with (
        LocalExchange(rate=None, instruments=instruments(2)) as ex,
        gateway_for(
            ex,
            nats_cluster.url,
            books={"S0/USD": 25, "S1/USD": 25},
            replicas=3,
            snapshot_interval=1.0,
        ) as gateway,
        Subscriber(nats_cluster.url) as sub,
    ):
        books = {s: await sub.book(s, depth=25, timeout=20) for s in ("S0/USD", "S1/USD")}
        for _ in range(20):
            await ex.step(1)
        for symbol, book in books.items():
            await until(lambda b=book, s=symbol: same(b, gateway.books[s]), what=symbol)
        # The node the gateway publishes through: the hardest case (it reconnects elsewhere,
        # and what it published while the stream had no leader is lost and resynced).
        assert gateway.nc is not None
        assert gateway.nc.connected_url is not None
        port = gateway.nc.connected_url.port
        victim = next(node for node in nats_cluster.nodes if node.port == port)
        await victim.kill()
        for _ in range(40):
            await ex.step(1)
            await asyncio.sleep(0.02)
        for symbol, book in books.items():
            await until(lambda b=book, s=symbol: same(b, gateway.books[s]), timeout=40, what=symbol)
        # And a reader that joins after the failure gets the same books.
        survivor = next(node for node in nats_cluster.nodes if node is not victim)
        async with Subscriber(survivor.url) as late:
            for symbol in books:
                book = await late.book(symbol, depth=25, timeout=20)
                await until(lambda b=book, s=symbol: same(b, gateway.books[s]), what=symbol)


async def test_a_checksum_failure_at_the_gateway_is_followed_by_readers(
    nats_server: NatsServer,
) -> None:
    async with (
        LocalExchange(rate=None, instruments=instruments(1)) as ex,
        gateway_for(ex, nats_server.url, books={"S0/USD": 10}) as gateway,
        Subscriber(nats_server.url) as sub,
    ):
        events = aiter(sub.events())
        book = await sub.book("S0/USD", depth=10)
        ex.corrupt_next_checksum("S0/USD")
        await ex.step(1)  # its frame fails the gateway's checksum: readers follow its verdict
        async with asyncio.timeout(20):
            resync = await anext(events)
            while not isinstance(resync, BookResync):
                resync = await anext(events)
        assert resync.symbol == "S0/USD"
        for _ in range(10):
            await ex.step(1)
        await until(lambda: same(book, gateway.books["S0/USD"]), what="after the resync")
