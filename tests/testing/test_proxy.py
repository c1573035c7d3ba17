"""FaultProxy: byte-level network faults between a client and a server.

Most tests put the proxy in front of a small echo server started here; the last ones put it in
front of the LocalExchange with a KrakenWSClient. Timing assertions are lower bounds plus
generous upper bounds: the suite must not flake on a loaded two-core machine.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator, Callable
from decimal import Decimal

import pytest

from kraken_ws.client import ClientEvent, KrakenWSClient
from kraken_ws.exceptions import ConnectionLost
from kraken_ws.protocol.events import Disconnected
from kraken_ws.testing import FaultProxy, LocalExchange
from kraken_ws.testing.proxy import MAX_HELD_BYTES

TIMEOUT = 5.0


class EchoServer:
    """Echoes every read back; records what each connection received and in which reads."""

    def __init__(self, *, echo: bool = True) -> None:
        self.echo = echo
        self.reads: list[int] = []  # size of every read, all connections
        self.received = bytearray()
        self.eofs = 0
        self.errors: list[BaseException] = []
        self.writers: list[asyncio.StreamWriter] = []
        self.changed = asyncio.Event()
        self._server: asyncio.Server | None = None
        self.port = 0

    async def __aenter__(self) -> EchoServer:
        self._server = await asyncio.start_server(self._handle, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        assert self._server is not None
        self._server.close()
        for writer in self.writers:
            writer.transport.abort()
        await self._server.wait_closed()
        for writer in self.writers:
            with contextlib.suppress(OSError):
                await writer.wait_closed()

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.writers.append(writer)
        try:
            while data := await reader.read(65536):
                self.reads.append(len(data))
                self.received += data
                self.changed.set()
                if self.echo:
                    writer.write(data)
                    await writer.drain()
            self.eofs += 1
            self.changed.set()
            writer.close()  # answer a half-close with our own close
        except OSError as exc:
            self.errors.append(exc)
            self.changed.set()
            writer.transport.abort()

    async def wait_until(self, condition: Callable[[], bool], limit: float = TIMEOUT) -> None:
        async with asyncio.timeout(limit):
            while not condition():
                self.changed.clear()
                await self.changed.wait()


@pytest.fixture
async def echo() -> AsyncIterator[EchoServer]:
    async with EchoServer() as server:
        yield server


@pytest.fixture
async def proxy(echo: EchoServer) -> AsyncIterator[FaultProxy]:
    async with FaultProxy("127.0.0.1", echo.port, seed=1) as p:
        yield p
    assert not p._tasks
    assert not p._sides


@contextlib.asynccontextmanager
async def connect(
    proxy: FaultProxy,
) -> AsyncIterator[tuple[asyncio.StreamReader, asyncio.StreamWriter]]:
    reader, writer = await asyncio.open_connection(proxy.host, proxy.port)
    try:
        yield reader, writer
    finally:
        writer.transport.abort()
        with contextlib.suppress(OSError):
            await writer.wait_closed()


async def read_exactly(reader: asyncio.StreamReader, count: int, limit: float = TIMEOUT) -> bytes:
    async with asyncio.timeout(limit):
        return await reader.readexactly(count)


def proxy_tasks() -> list[asyncio.Task[object]]:
    return [t for t in asyncio.all_tasks() if "FaultProxy" in t.get_name() and not t.done()]


# --- plain forwarding -----------------------------------------------------------------------


async def test_forwards_both_ways(proxy: FaultProxy, echo: EchoServer) -> None:
    async with connect(proxy) as (reader, writer):
        await proxy.wait_for_connections(1)
        writer.write(b"hello")
        assert await read_exactly(reader, 5) == b"hello"
        payload = bytes(range(256)) * 1024  # 256 KiB, several reads on each hop
        writer.write(payload)
        assert await read_exactly(reader, len(payload)) == payload
        assert proxy.connection_count == 1
        total = 5 + len(payload)
        assert proxy.bytes_forwarded == {"upstream": total, "downstream": total}
    await proxy.wait_for_connections(0)


async def test_half_close_is_propagated_then_closed(proxy: FaultProxy, echo: EchoServer) -> None:
    async with connect(proxy) as (reader, writer):
        writer.write(b"last words")
        writer.write_eof()
        # The server sees the half-close after the data, answers, then closes; the client
        # reads the echo and then end of stream; the proxy drops the pair.
        assert await read_exactly(reader, 10) == b"last words"
        async with asyncio.timeout(TIMEOUT):
            assert await reader.read() == b""
        await echo.wait_until(lambda: echo.eofs == 1)
        await proxy.wait_for_connections(0)


async def test_server_close_is_propagated() -> None:
    async def hang_up(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(b"bye")
        writer.close()
        await writer.wait_closed()

    server = await asyncio.start_server(hang_up, "127.0.0.1", 0)
    try:
        port = server.sockets[0].getsockname()[1]
        async with FaultProxy("127.0.0.1", port) as proxy, connect(proxy) as (reader, writer):
            proxy.set_latency(0.1, direction="downstream")  # the close waits behind the data
            async with asyncio.timeout(TIMEOUT):
                assert await reader.read() == b"bye"  # data, then end of stream
            # As in TCP, the client may still send: the pair ends when both directions have.
            assert proxy.connection_count == 1
            writer.write_eof()
            await proxy.wait_for_connections(0)
    finally:
        server.close()
        await server.wait_closed()


async def test_target_down_resets_the_client() -> None:
    async with EchoServer() as gone:
        port = gone.port
    async with FaultProxy("127.0.0.1", port) as proxy, connect(proxy) as (reader, _):
        with pytest.raises(ConnectionResetError):
            async with asyncio.timeout(TIMEOUT):
                await reader.read()
        assert proxy.connection_count == 0


# --- cut ------------------------------------------------------------------------------------


async def test_cut_resets_both_sides(proxy: FaultProxy, echo: EchoServer) -> None:
    async with connect(proxy) as (reader, writer):
        writer.write(b"x")
        await read_exactly(reader, 1)
        assert proxy.cut() == 1
        assert proxy.connection_count == 0
        with pytest.raises(ConnectionResetError):
            async with asyncio.timeout(TIMEOUT):
                await reader.read()
        # The server is reset too (not a clean end of stream).
        await echo.wait_until(lambda: bool(echo.errors))
        assert isinstance(echo.errors[0], ConnectionResetError)
        assert echo.eofs == 0
    async with connect(proxy) as (reader, writer):  # new connections still work
        writer.write(b"again")
        assert await read_exactly(reader, 5) == b"again"
    await proxy.wait_for_connections(0)
    assert proxy.cut() == 0


# --- stall / resume -------------------------------------------------------------------------


async def test_stall_downstream_only_is_half_open(proxy: FaultProxy, echo: EchoServer) -> None:
    async with connect(proxy) as (reader, writer):
        await proxy.wait_for_connections(1)
        proxy.stall("downstream")
        writer.write(b"are you there?")
        # Upstream still flows: the server receives the request (and echoes it) ...
        await echo.wait_until(lambda: bytes(echo.received) == b"are you there?")
        # ... but nothing comes back, and nothing is closed.
        with pytest.raises(TimeoutError):
            await read_exactly(reader, 1, limit=0.3)
        assert proxy.connection_count == 1
        assert proxy.bytes_forwarded == {"upstream": 14, "downstream": 0}
        proxy.resume("upstream")  # resuming the other direction changes nothing
        with pytest.raises(TimeoutError):
            await read_exactly(reader, 1, limit=0.1)
        proxy.resume("downstream")
        assert await read_exactly(reader, 14) == b"are you there?"


async def test_stall_applies_to_new_connections(proxy: FaultProxy, echo: EchoServer) -> None:
    proxy.stall()
    async with connect(proxy) as (reader, writer):
        writer.write(b"hi")
        await proxy.wait_for_connections(1)
        with pytest.raises(TimeoutError):
            await read_exactly(reader, 1, limit=0.2)
        assert echo.received == b""
        proxy.resume()
        assert await read_exactly(reader, 2) == b"hi"


async def test_resume_delivers_held_bytes_in_order(proxy: FaultProxy, echo: EchoServer) -> None:
    async with connect(proxy) as (reader, writer):
        await proxy.wait_for_connections(1)
        proxy.stall("downstream")
        lines = [f"{i:05d}\n".encode() for i in range(2000)]
        for line in lines:  # many small writes: many chunks held
            writer.write(line)
            await writer.drain()
        expected = b"".join(lines)
        await echo.wait_until(lambda: len(echo.received) == len(expected))
        assert proxy.bytes_forwarded["downstream"] == 0
        proxy.resume()
        assert await read_exactly(reader, len(expected)) == expected


async def test_held_bytes_are_bounded(proxy: FaultProxy, echo: EchoServer) -> None:
    """A stalled proxy stops reading: the sender is pushed back, the proxy's memory bounded."""
    echo.echo = False
    total = 3 * MAX_HELD_BYTES  # more than the proxy plus both kernels' buffers can hold
    block = bytes(range(256)) * 256  # 64 KiB
    async with connect(proxy) as (_, writer):
        await proxy.wait_for_connections(1)
        proxy.stall("upstream")

        async def send_all() -> None:
            for _ in range(total // len(block)):
                writer.write(block)
                await writer.drain()

        sender = asyncio.create_task(send_all())
        (pair,) = proxy._pairs
        # Nothing signals the pause to the outside: poll for it, with a deadline.
        for _ in range(int(TIMEOUT / 0.01)):
            if pair.up.source_paused:
                break
            await asyncio.sleep(0.01)
        assert pair.up.source_paused
        await asyncio.sleep(0.1)
        assert not sender.done()  # blocked in drain(): backpressure reached the client
        assert MAX_HELD_BYTES < pair.up.held <= MAX_HELD_BYTES + 512 * 1024
        assert echo.received == b""
        proxy.resume("upstream")
        async with asyncio.timeout(TIMEOUT):
            await sender
        await echo.wait_until(lambda: len(echo.received) == total)
        assert echo.received == block * (total // len(block))


# --- latency, bandwidth, chunking -----------------------------------------------------------


async def test_latency_delays_and_keeps_order(proxy: FaultProxy, echo: EchoServer) -> None:
    async with connect(proxy) as (reader, writer):
        writer.write(b"warm")
        await read_exactly(reader, 4)
        proxy.set_latency(0.1, jitter=0.05)  # each way
        start = time.monotonic()
        writer.write(b"ping")
        assert await read_exactly(reader, 4) == b"ping"
        assert 0.2 <= time.monotonic() - start < 2.0

        # Separate chunks with jitter wider than their spacing: reordering would show.
        proxy.set_latency(0.05, jitter=0.1, direction="upstream")
        proxy.set_latency(0.0, direction="downstream")
        lines = [f"{i:03d};".encode() for i in range(60)]
        start = time.monotonic()
        for line in lines:
            writer.write(line)
            await asyncio.sleep(0.002)
        expected = b"".join(lines)
        assert await read_exactly(reader, len(expected)) == expected
        assert time.monotonic() - start >= 0.05
        assert len(echo.reads) > 10  # they did travel as separate chunks
        assert bytes(echo.received[4:]) == b"ping" + expected


async def test_latency_change_applies_to_held_chunks(proxy: FaultProxy, echo: EchoServer) -> None:
    async with connect(proxy) as (reader, writer):
        proxy.set_latency(30.0, direction="downstream")
        writer.write(b"slow")
        await echo.wait_until(lambda: echo.received == b"slow")
        proxy.reset()
        assert await read_exactly(reader, 4, limit=2.0) == b"slow"


async def test_bandwidth_cap(proxy: FaultProxy, echo: EchoServer) -> None:
    rate = 100_000.0
    size = 50_000
    async with connect(proxy) as (reader, writer):
        writer.write(b"w")
        await read_exactly(reader, 1)
        proxy.set_bandwidth(rate, direction="downstream")
        payload = bytes(range(250)) * (size // 250)
        start = time.monotonic()
        writer.write(payload)
        assert await read_exactly(reader, size) == payload
        elapsed = time.monotonic() - start
        assert size / rate * 0.9 <= elapsed < size / rate + 1.5
        proxy.set_bandwidth(None)
        start = time.monotonic()
        writer.write(payload)
        await read_exactly(reader, size)
        assert time.monotonic() - start < size / rate


async def test_chunk_size_fragments_delivery(proxy: FaultProxy, echo: EchoServer) -> None:
    async with connect(proxy) as (reader, writer):
        await proxy.wait_for_connections(1)
        proxy.set_chunk_size(100, direction="upstream")
        payload = bytes(range(250)) * 40  # 10 000 bytes in one write
        writer.write(payload)
        assert await read_exactly(reader, len(payload)) == payload
        # The server read it in pieces of at most 100 bytes.
        assert max(echo.reads) <= 100
        assert len(echo.reads) >= len(payload) // 100


# --- connects -------------------------------------------------------------------------------


async def test_refuse_connects(proxy: FaultProxy, echo: EchoServer) -> None:
    async with connect(proxy) as (reader, writer):
        await proxy.wait_for_connections(1)
        proxy.refuse_connects()
        async with connect(proxy) as (refused, _):
            with pytest.raises(ConnectionResetError):
                async with asyncio.timeout(TIMEOUT):
                    await refused.read()
        assert proxy.connection_count == 1
        writer.write(b"still here")  # the existing connection is untouched
        assert await read_exactly(reader, 10) == b"still here"
        proxy.refuse_connects(False)
        async with connect(proxy) as (again, again_writer):
            again_writer.write(b"ok")
            assert await read_exactly(again, 2) == b"ok"
    assert len(echo.writers) == 2  # the refused connection never reached the server


async def test_reset_clears_every_fault(proxy: FaultProxy, echo: EchoServer) -> None:
    proxy.stall("downstream")
    proxy.set_latency(10.0)
    proxy.set_bandwidth(1.0)
    proxy.set_chunk_size(1)
    proxy.refuse_connects()
    proxy.reset()
    async with connect(proxy) as (reader, writer):
        writer.write(b"fast")
        assert await read_exactly(reader, 4, limit=1.0) == b"fast"


# --- lifecycle and addresses ----------------------------------------------------------------


async def test_close_cleans_up(echo: EchoServer) -> None:
    proxy = FaultProxy("127.0.0.1", echo.port)
    await proxy.start()
    async with connect(proxy) as (r1, w1), connect(proxy) as (r2, _):
        await proxy.wait_for_connections(2)
        proxy.stall("downstream")
        w1.write(b"held")
        await echo.wait_until(lambda: len(echo.received) == 4)
        assert proxy_tasks()
        await proxy.close()
        assert not proxy_tasks()
        assert not proxy._sides
        assert proxy.connection_count == 0
        for reader in (r1, r2):
            async with asyncio.timeout(TIMEOUT):
                with contextlib.suppress(ConnectionResetError):
                    assert await reader.read() == b""
    with pytest.raises(OSError):
        await asyncio.open_connection(proxy.host, proxy.port)
    await proxy.close()  # idempotent


async def test_restart_keeps_the_port(echo: EchoServer) -> None:
    proxy = FaultProxy("127.0.0.1", echo.port)
    async with proxy:
        port = proxy.port
    async with proxy, connect(proxy) as (reader, writer):  # clients can come back to one URL
        assert proxy.port == port
        writer.write(b"back")
        assert await read_exactly(reader, 4) == b"back"


async def test_urls() -> None:
    proxy = FaultProxy.for_url("ws://127.0.0.1:4321/v2?x=1")
    assert (proxy.target_host, proxy.target_port) == ("127.0.0.1", 4321)
    assert FaultProxy.for_url("https://example.com/").target_port == 443
    with pytest.raises(RuntimeError):
        proxy.url("ws://127.0.0.1:4321/v2")
    async with proxy:
        assert proxy.port != 0
        assert proxy.url("ws://127.0.0.1:4321/v2?x=1") == f"ws://127.0.0.1:{proxy.port}/v2?x=1"
        assert proxy.url("http://localhost:4321") == f"http://127.0.0.1:{proxy.port}"
        with pytest.raises(ValueError, match="target"):
            proxy.url("ws://127.0.0.1:9999/v2")  # another server: not through this proxy
    with pytest.raises(ValueError, match="port"):
        FaultProxy.for_url("foo://host/")


def test_invalid_arguments() -> None:
    proxy = FaultProxy("127.0.0.1", 1)
    with pytest.raises(ValueError, match="direction"):
        proxy.stall("sideways")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match=">= 0"):
        proxy.set_latency(-1)
    with pytest.raises(ValueError, match="> 0"):
        proxy.set_bandwidth(0)
    with pytest.raises(ValueError, match=">= 1"):
        proxy.set_chunk_size(0)


# --- in front of the LocalExchange, with the real client ------------------------------------


@pytest.fixture
async def exchange() -> AsyncIterator[LocalExchange]:
    async with LocalExchange(rate=20, heartbeat_interval=0.05, seed=7) as ex:
        yield ex


@pytest.fixture
async def public_proxy(exchange: LocalExchange) -> AsyncIterator[FaultProxy]:
    async with FaultProxy.for_url(exchange.ws_url, seed=3) as p:
        yield p


@pytest.fixture
async def auth_proxy(exchange: LocalExchange) -> AsyncIterator[FaultProxy]:
    async with FaultProxy.for_url(exchange.auth_ws_url, seed=4) as p:
        yield p


@pytest.fixture
async def client(
    exchange: LocalExchange, public_proxy: FaultProxy, auth_proxy: FaultProxy
) -> AsyncIterator[KrakenWSClient]:
    async with KrakenWSClient(
        exchange.api_key,
        exchange.api_secret,
        ws_url=public_proxy.url(exchange.ws_url),
        auth_ws_url=auth_proxy.url(exchange.auth_ws_url),
        l3_ws_url=exchange.l3_ws_url,
        rest_url=exchange.rest_url,  # the token request goes direct
        request_timeout=3.0,
        watchdog_timeout=0.5,
        ping_interval=None,
        reconnect_initial_delay=0.02,
        reconnect_max_delay=0.1,
        book_resync_interval=0.05,
    ) as c:
        yield c
        # Whatever a test left behind, the client's closing handshakes must get through.
        public_proxy.reset()
        auth_proxy.reset()


async def wait_for(
    events: AsyncIterator[ClientEvent], predicate: Callable[[ClientEvent], bool]
) -> ClientEvent:
    async with asyncio.timeout(TIMEOUT):
        async for event in events:
            if predicate(event):
                return event
    raise AssertionError("event stream ended")


async def wait_book_valid(client: KrakenWSClient, events: AsyncIterator[ClientEvent]) -> None:
    book = await client.book("BTC/USD")
    if not book.is_valid:
        await wait_for(events, lambda _: book.is_valid)  # heartbeats every 50 ms re-check


async def test_client_recovers_from_a_cut(
    client: KrakenWSClient, exchange: LocalExchange, public_proxy: FaultProxy
) -> None:
    book = await client.book("BTC/USD")
    assert book.is_valid
    events = client.events()
    assert public_proxy.cut() == 1
    drop = await wait_for(events, lambda e: isinstance(e, Disconnected))
    assert isinstance(drop, Disconnected)
    assert drop.code == 1006
    await wait_book_valid(client, events)
    assert public_proxy.connection_count == 1
    async with asyncio.timeout(TIMEOUT):
        await exchange.wait_for_connections(1, "public")  # the old one was reset, not leaked
    assert book.best_bid is not None
    assert book.best_ask is not None
    assert book.best_bid[0] < book.best_ask[0]


async def test_client_through_latency_and_fragments(
    client: KrakenWSClient, public_proxy: FaultProxy
) -> None:
    await client.book("BTC/USD")
    public_proxy.set_latency(0.05, jitter=0.02)
    rtt = await client.ping()
    assert 0.1 <= rtt < 2.0
    public_proxy.set_latency(0.0)
    public_proxy.set_chunk_size(7, direction="downstream")  # frames split mid-header
    assert await client.ping() < 2.0
    assert (await client.book("BTC/USD")).is_valid


async def test_client_half_open_order_executed_outcome_unknown(
    client: KrakenWSClient, exchange: LocalExchange, auth_proxy: FaultProxy
) -> None:
    await client.ping(endpoint="auth")
    before = exchange.balances()["BTC"]
    auth_proxy.stall("downstream")
    # The order reaches the exchange and executes; the answer never comes back, the watchdog
    # gives up on the connection and the order fails fast with its outcome unknown.
    with pytest.raises(ConnectionLost):
        await client.add_order(
            order_type="market", side="buy", symbol="BTC/USD", order_qty=Decimal("0.01")
        )
    assert exchange.balances()["BTC"] == before + Decimal("0.01")
    auth_proxy.resume()
    assert await client.ping(endpoint="auth") < 2.0
