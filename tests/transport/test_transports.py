"""Transports: memory pair semantics, websockets error mapping against a real localhost server."""

from __future__ import annotations

import asyncio
import itertools

import pytest
import websockets
import websockets.asyncio.server
import websockets.exceptions

from kraken_ws.exceptions import (
    AuthenticationError,
    ConnectError,
    ConnectionClosed,
    ConnectionClosedError,
    ConnectionClosedOK,
    RequestTimeout,
)
from kraken_ws.reconnect import backoff, classify_error
from kraken_ws.transport import Transport
from kraken_ws.transport.memory import MemoryServer, memory_pair
from kraken_ws.transport.websockets import WebsocketsTransport, connect


class TestMemory:
    async def test_pair_roundtrip_and_close(self) -> None:
        client, server = memory_pair()
        assert isinstance(client, Transport)
        await client.send("hello")
        assert await server.recv() == "hello"
        await server.close(1011, "bye")
        with pytest.raises(ConnectionClosedError) as info:
            await client.recv()
        assert info.value.code == 1011
        assert info.value.reason == "bye"
        with pytest.raises(ConnectionClosed):
            await client.send("x")

    async def test_normal_close_is_ok(self) -> None:
        client, server = memory_pair()
        await client.close()
        with pytest.raises(ConnectionClosedOK):
            await server.recv()

    async def test_abort(self) -> None:
        client, server = memory_pair()
        await server.abort()
        with pytest.raises(ConnectionClosedError) as info:
            await client.recv()
        assert info.value.code == 1006

    async def test_server_refuses(self) -> None:
        async def handler(conn, url):  # type: ignore[no-untyped-def]
            await conn.send(url)

        server = MemoryServer(handler)
        server.refuse = 1
        with pytest.raises(ConnectError):
            await server("mem://x")
        client = await server("mem://x")
        assert await client.recv() == "mem://x"
        await server.aclose()


@pytest.fixture
async def ws_server():  # type: ignore[no-untyped-def]
    async def handler(conn: websockets.asyncio.server.ServerConnection) -> None:
        async for message in conn:
            if message == "close1011":
                await conn.close(1011, "internal")
                return
            if message == "close1008":
                await conn.close(1008, "policy")
                return
            if message == "drop":
                conn.transport.abort()
                return
            await conn.send(message)

    async with websockets.asyncio.server.serve(handler, "127.0.0.1", 0) as server:
        port = next(iter(server.sockets)).getsockname()[1]
        yield f"ws://127.0.0.1:{port}"


class TestWebsockets:
    async def test_echo_and_normal_close(self, ws_server: str) -> None:
        transport = await connect(ws_server)
        assert isinstance(transport, WebsocketsTransport)
        await transport.send("hi")
        assert await transport.recv() == "hi"
        await transport.close()
        with pytest.raises(ConnectionClosedOK) as info:
            await transport.recv()
        assert isinstance(info.value.__cause__, websockets.exceptions.ConnectionClosed)

    @pytest.mark.parametrize(("command", "code"), [("close1011", 1011), ("close1008", 1008)])
    async def test_error_close_codes(self, ws_server: str, command: str, code: int) -> None:
        transport = await connect(ws_server)
        await transport.send(command)
        with pytest.raises(ConnectionClosedError) as info:
            await transport.recv()
        assert info.value.code == code
        assert (classify_error(info.value) is None) is (code != 1008)
        await transport.close()

    async def test_abrupt_drop(self, ws_server: str) -> None:
        transport = await connect(ws_server)
        await transport.send("drop")
        with pytest.raises(ConnectionClosedError) as info:
            await transport.recv()
        assert info.value.code == 1006
        await transport.close()

    async def test_abort_client_side(self, ws_server: str) -> None:
        transport = await connect(ws_server)
        await transport.abort()
        with pytest.raises(ConnectionClosed):
            await transport.recv()

    async def test_connect_refused(self) -> None:
        # Grab a free port, then close it so nothing listens there.
        server = await asyncio.start_server(lambda r, w: None, "127.0.0.1", 0)
        port = server.sockets[0].getsockname()[1]
        server.close()
        await server.wait_closed()
        with pytest.raises(ConnectError) as info:
            await connect(f"ws://127.0.0.1:{port}", open_timeout=2)
        assert isinstance(info.value.__cause__, OSError)

    async def test_bad_uri(self) -> None:
        with pytest.raises(ConnectError):
            await connect("http://not-a-websocket")


class TestReconnectPolicy:
    def test_backoff_exponential_capped(self) -> None:
        delays = list(itertools.islice(backoff(1, 2, 10, jitter="none"), 6))
        assert delays == [1, 2, 4, 8, 10, 10]

    def test_full_jitter_within_bounds(self) -> None:
        delays = list(itertools.islice(backoff(1, 2, 10, rng=lambda: 0.5), 5))
        assert delays == [0.5, 1, 2, 4, 5]

    def test_bad_args(self) -> None:
        with pytest.raises(ValueError):
            next(backoff(factor=0.5))

    def test_classify(self) -> None:
        assert classify_error(ConnectionClosedError("x", code=1006)) is None
        assert classify_error(ConnectionClosedOK("x", code=1000)) is None
        assert classify_error(ConnectionClosedOK("x", code=1001)) is None
        assert classify_error(ConnectionClosedError("x", code=1011)) is None
        assert classify_error(ConnectError("x")) is None
        assert classify_error(RequestTimeout("x")) is None
        fatal = ConnectionClosedError("x", code=1008)
        assert classify_error(fatal) is fatal
        auth = AuthenticationError("x", error="EAPI:Invalid key")
        assert classify_error(auth) is auth
        missing = AuthenticationError("no credentials")
        assert classify_error(missing) is missing
        transient = AuthenticationError("token request failed")
        transient.__cause__ = OSError("network down")
        assert classify_error(transient) is None
        assert classify_error(asyncio.CancelledError()) is not None
