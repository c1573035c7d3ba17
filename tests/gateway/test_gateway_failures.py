"""Failures: Kraken's side dropped, one node of a 3-node JetStream cluster killed."""

from __future__ import annotations

import asyncio

import nats

from kraken_ws.events import BookResync, Disconnected
from kraken_ws.gateway import Subscriber
from kraken_ws.gateway.subjects import EVENTS, HDR_BOOK, HDR_EPOCH, HDR_SEQ, data_subject
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


async def test_a_readers_own_checksum_failure_resyncs_from_the_bus_not_kraken(
    nats_server: NatsServer,
) -> None:
    nc = await nats.connect(nats_server.url)
    lifecycle: list[bytes] = []

    async def on_event(msg: nats.aio.msg.Msg) -> None:
        lifecycle.append(msg.data)

    await nc.subscribe(EVENTS, cb=on_event)
    async with (
        LocalExchange(rate=None, instruments=instruments(1)) as ex,
        gateway_for(ex, nats_server.url, books={"S0/USD": 10}) as gateway,
        Subscriber(nats_server.url) as sub,
    ):
        events = aiter(sub.events(channel=None))
        book = await sub.book("S0/USD", depth=10)
        for _ in range(5):
            await ex.step(1)
        subject = data_subject("book", "S0/USD")
        feed = sub._feeds[("book", "S0/USD")]
        await until(lambda: feed.seq == gateway._seq[subject], what="in step")
        # A frame damaged on the way: the next number, but a checksum no book has.
        bad = (
            '{"channel":"book","type":"update","data":[{"symbol":"S0/USD","bids":[],'
            '"asks":[],"checksum":1,"timestamp":"2026-01-01T00:00:00.000000Z"}]}'
        )
        headers = {HDR_EPOCH: gateway.epoch, HDR_SEQ: str(feed.seq + 1), HDR_BOOK: "ok"}
        await nc.publish(subject, bad.encode(), headers=headers)
        await nc.flush()
        async with asyncio.timeout(20):
            event = await anext(events)
            while not isinstance(event, BookResync):
                event = await anext(events)
        assert event.reason == "checksum mismatch"
        await until(lambda: book.is_valid, what="resynced from a snapshot on the bus")
        for _ in range(5):
            await ex.step(1)
        await until(lambda: same(book, gateway.books["S0/USD"]), what="equal again")
        assert gateway.books["S0/USD"].is_valid
    await nc.close()
    # Kraken was not asked: the gateway's own book never failed, so it never resubscribed.
    assert not [e for e in lifecycle if b"BookResync" in e]
