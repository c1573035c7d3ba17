"""Books through the bus: consumers early and late end valid and equal to the gateway's."""

from __future__ import annotations

import asyncio

import nats
import pytest

from kraken_ws.exceptions import InvalidState
from kraken_ws.gateway import GatewayGap, Subscriber
from kraken_ws.gateway.subjects import HDR_BOOK, HDR_CONN_SEQ, HDR_EPOCH, HDR_RECEIVED, HDR_SEQ
from kraken_ws.gateway.testing import NatsServer
from kraken_ws.models.channels.book import BookUpdate
from kraken_ws.testing import LocalExchange

from .support import gateway_for, instruments, same, until

SYMBOLS = ["S0/USD", "S1/USD", "S2/USD"]


async def _drive(ex: LocalExchange) -> None:
    """Move the market every 20 ms until cancelled."""
    while True:
        await ex.step(1)
        await asyncio.sleep(0.02)


async def test_frames_go_out_as_their_wire_text_with_headers(nats_server: NatsServer) -> None:
    raw: list[tuple[str, str]] = []
    async with LocalExchange(rate=None, instruments=instruments(1)) as ex:
        gateway = gateway_for(ex, nats_server.url, books={"S0/USD": 10})

        observe = gateway._on_raw_frame

        def tap(endpoint: str, text: str) -> None:  # what the gateway read, in order
            raw.append((endpoint, text))
            observe(endpoint, text)  # type: ignore[arg-type]

        gateway._on_raw_frame = tap  # type: ignore[method-assign]
        nc = await nats.connect(nats_server.url)
        got: list[nats.aio.msg.Msg] = []

        async def on_msg(msg: nats.aio.msg.Msg) -> None:
            got.append(msg)

        await nc.subscribe("kraken.v2.book.S0-USD", cb=on_msg)
        async with gateway:
            for _ in range(20):
                await ex.step(1)
            books = lambda: [t for _, t in raw if t.startswith('{"channel":"book"')]  # noqa: E731
            await until(lambda: len(got) >= 10 and len(got) == len(books()), what="book frames")
        await until(lambda: got[-1].data == b"", what="the marker published on stop")
        await nc.close()
    seqs = [int(m.headers[HDR_SEQ]) for m in got]  # type: ignore[index]
    assert seqs == list(range(1, len(got) + 1))
    assert got[-1].data == b""  # the marker of the lost connection, on stop
    assert got[-1].headers[HDR_BOOK] == "lost"  # type: ignore[index]
    got = [m for m in got if m.data]
    texts = [m.data.decode() for m in got]
    book_texts = [t for _, t in raw if t.startswith('{"channel":"book"')]
    assert texts == book_texts
    assert all(m.headers[HDR_BOOK] == "ok" for m in got)  # type: ignore[index]
    assert len({m.headers[HDR_EPOCH] for m in got}) == 1  # type: ignore[index]
    assert all(int(m.headers[HDR_RECEIVED]) > 0 for m in got)  # type: ignore[index]
    conn_seqs = [int(m.headers[HDR_CONN_SEQ]) for m in got]  # type: ignore[index]
    assert conn_seqs == sorted(conn_seqs)


async def test_early_and_late_consumers_end_equal_to_the_gateway(nats_server: NatsServer) -> None:
    async with LocalExchange(rate=None, instruments=instruments(3)) as ex:
        gateway = gateway_for(ex, nats_server.url, books=dict.fromkeys(SYMBOLS, 100))
        async with gateway, Subscriber(nats_server.url) as early:
            early_books = [await early.book(s, depth=100) for s in SYMBOLS]
            for _ in range(100):
                await ex.step(1)
            async with Subscriber(nats_server.url) as late:
                late_books = [await late.book(s, depth=100) for s in SYMBOLS]
                for _ in range(100):
                    await ex.step(1)
                for symbol, a, b in zip(SYMBOLS, early_books, late_books, strict=True):
                    g = gateway.books[symbol]
                    await until(lambda a=a, b=b, g=g: same(a, g) and same(b, g), what=symbol)


async def test_a_consumer_restarted_mid_stream_ends_equal(nats_server: NatsServer) -> None:
    async with LocalExchange(rate=None, instruments=instruments(1)) as ex:
        gateway = gateway_for(ex, nats_server.url, books={"S0/USD": 25})
        async with gateway:
            async with Subscriber(nats_server.url) as sub:
                await sub.book("S0/USD", depth=25)
                for _ in range(50):
                    await ex.step(1)
            for _ in range(50):
                await ex.step(1)  # nobody listening
            async with Subscriber(nats_server.url) as sub:
                book = await sub.book("S0/USD", depth=25)
                for _ in range(50):
                    await ex.step(1)
                await until(lambda: same(book, gateway.books["S0/USD"]), what="restarted")


async def test_gateway_restart_is_a_gap_resynced_from_the_snapshot(
    nats_server: NatsServer,
) -> None:
    async with (
        LocalExchange(rate=None, instruments=instruments(1)) as ex,
        Subscriber(nats_server.url) as sub,
    ):
        events = sub.events(channel=None)
        first = gateway_for(ex, nats_server.url, books={"S0/USD": 10})
        await first.start()
        book = await sub.book("S0/USD", depth=10)
        for _ in range(20):
            await ex.step(1)
        await until(lambda: same(book, first.books["S0/USD"]), what="first gateway")
        await first.kill()
        for _ in range(20):
            await ex.step(1)  # missed by everyone
        second = gateway_for(ex, nats_server.url, books={"S0/USD": 10})
        async with second:
            for _ in range(20):
                await ex.step(1)
            await until(lambda: same(book, second.books["S0/USD"]), what="second gateway")
        gaps = []
        async for event in events:
            if isinstance(event, GatewayGap):
                gaps.append(event)
                break
        assert gaps[0].reason == "gateway restarted"


async def test_wrong_depth_is_refused_with_the_published_one(nats_server: NatsServer) -> None:
    async with (
        LocalExchange(rate=None, instruments=instruments(1)) as ex,
        gateway_for(ex, nats_server.url, books={"S0/USD": 25}),
        Subscriber(nats_server.url) as sub,
    ):
        with pytest.raises(InvalidState, match="depth=25"):
            await sub.book("S0/USD", depth=10, timeout=10)


async def test_events_yield_typed_frames(nats_server: NatsServer) -> None:
    async with (
        LocalExchange(rate=None, instruments=instruments(1)) as ex,
        gateway_for(ex, nats_server.url, books={"S0/USD": 10}),
        Subscriber(nats_server.url) as sub,
    ):
        it = aiter(sub.events(channel="book", symbol="S0/USD"))
        # The market moves on its own meanwhile: a step taken before the subscription reached
        # the server would be missed, and the stream starts "now".
        driver = asyncio.create_task(_drive(ex))
        try:
            async with asyncio.timeout(20):
                event = await anext(it)
                while not isinstance(event, BookUpdate):  # the snapshot may be on its way
                    event = await anext(it)
        finally:
            driver.cancel()
        assert event.data[0].symbol == "S0/USD"
        await it.aclose()


async def test_a_subscriber_restarts_with_the_same_book_objects(nats_server: NatsServer) -> None:
    seen: list[object] = []
    async with (
        LocalExchange(rate=None, instruments=instruments(1)) as ex,
        gateway_for(ex, nats_server.url, books={"S0/USD": 10}) as gateway,
    ):
        sub = Subscriber(nats_server.url, on_event=seen.append)
        await sub.start()
        book = await sub.book("S0/USD", depth=10)
        await sub.close()
        assert not book.is_valid  # stopped: nothing may be read from it
        for _ in range(30):
            await ex.step(1)
        await sub.start()
        try:
            for _ in range(10):
                await ex.step(1)
            await until(lambda: same(book, gateway.books["S0/USD"]), what="restarted book")
        finally:
            await sub.close()
    assert any(isinstance(e, BookUpdate) for e in seen)


async def test_a_live_books_frames_are_yielded_once(nats_server: NatsServer) -> None:
    async with (
        LocalExchange(rate=None, instruments=instruments(1)) as ex,
        gateway_for(ex, nats_server.url, books={"S0/USD": 10}),
        Subscriber(nats_server.url) as sub,
    ):
        await sub.book("S0/USD", depth=10)
        everything = aiter(sub.events())  # kraken.v2.>: the book's subject too
        seen: list[str] = []
        driver = asyncio.create_task(_drive(ex))
        try:
            async with asyncio.timeout(20):
                while len(seen) < 10:
                    event = await anext(everything)
                    if isinstance(event, BookUpdate):
                        seen.append(event.data[0].timestamp or "")
        finally:
            driver.cancel()
        assert len(set(seen)) == len(seen), seen
