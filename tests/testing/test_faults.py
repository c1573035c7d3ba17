"""Every fault of LocalExchange, observed from a plain websockets client."""

from __future__ import annotations

import asyncio
import json
import time

import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

from kraken_ws.testing import LocalExchange

from .conftest import Client, RefBook


async def subscribe_book(client: Client, symbol: str = "BTC/USD") -> RefBook:
    rid = await client.request("subscribe", {"channel": "book", "symbol": [symbol], "depth": 10})
    await client.response(rid)
    book = RefBook(10)
    snap = await client.wait_for(lambda f: f.get("channel") == "book")
    assert book.apply(snap["data"][0], snapshot=True)
    return book


async def test_connection_count(exchange: LocalExchange, public: Client, auth: Client) -> None:
    assert exchange.connection_count() == 2
    assert exchange.connection_count("public") == 1
    assert exchange.connection_count("auth") == 1
    assert exchange.connection_count("l3") == 0
    with pytest.raises(ValueError, match="endpoint"):
        exchange.connection_count("nope")


async def test_close_connections_with_code(
    exchange: LocalExchange, public: Client, auth: Client
) -> None:
    await exchange.close_connections(4000, "bye", endpoint="public")
    with pytest.raises(ConnectionClosed) as info:
        await public.recv()
    assert info.value.rcvd is not None
    assert info.value.rcvd.code == 4000
    assert info.value.rcvd.reason == "bye"
    await auth.send({"method": "ping", "req_id": 1})
    assert (await auth.response(1))["method"] == "pong"
    await exchange.close_connections()
    with pytest.raises(ConnectionClosed):
        await auth.recv()


async def test_drop_connections_abrupt(exchange: LocalExchange, public: Client) -> None:
    await exchange.drop_connections()
    with pytest.raises(ConnectionClosed) as info:
        await public.recv()
    assert info.value.rcvd is None  # no close frame: 1006
    async with asyncio.timeout(5):
        await exchange.wait_for_connections(0)


async def test_stall_and_resume(exchange: LocalExchange, public: Client) -> None:
    await subscribe_book(public)
    exchange.stall("public")
    await exchange.step(20, symbol="BTC/USD")
    await public.send({"method": "ping", "req_id": 11})
    with pytest.raises(TimeoutError):
        await public.wait_for(lambda f: True, limit=0.3)
    assert exchange.connection_count("public") == 1  # socket kept open
    exchange.resume("public")
    await public.send({"method": "ping", "req_id": 12})
    assert (await public.response(12))["method"] == "pong"


async def test_corrupt_next_checksum(exchange: LocalExchange, public: Client) -> None:
    book = await subscribe_book(public)
    exchange.corrupt_next_checksum("BTC/USD")
    results = []
    while len(results) < 3:
        await exchange.step(1, symbol="BTC/USD")
        frame = await public.wait_for(lambda f: f.get("channel") == "book")
        results.append(book.apply(frame["data"][0], snapshot=False))
    assert results == [False, True, True]


async def test_send_malformed(exchange: LocalExchange, public: Client) -> None:
    await exchange.send_malformed("public")
    text = await public.recv_text()
    with pytest.raises(ValueError):
        json.loads(text)


async def test_delay_responses(exchange: LocalExchange, public: Client) -> None:
    exchange.delay_responses(0.3, "ping")
    start = time.monotonic()
    await public.send({"method": "ping", "req_id": 1})
    rid = await public.request("subscribe", {"channel": "instrument", "snapshot": False})
    first = await public.wait_for(lambda f: "method" in f)
    assert first["method"] == "subscribe"
    assert first["req_id"] == str(rid)
    await public.response(1)
    assert time.monotonic() - start >= 0.3
    exchange.delay_responses(0)
    await public.send({"method": "ping", "req_id": 2})
    await public.response(2)


async def test_drop_next_response(exchange: LocalExchange, auth: Client, token: str) -> None:
    exchange.drop_next_response("add_order")
    order = {
        "order_type": "limit",
        "side": "buy",
        "order_qty": "0.1",
        "limit_price": "1000.0",
        "symbol": "BTC/USD",
        "token": token,
    }
    await auth.request("add_order", order)
    second = await auth.request("add_order", order)
    response = await auth.wait_for(lambda f: f.get("method") == "add_order")
    assert response["req_id"] == str(second)
    assert len(exchange.open_orders()) == 2  # the first was executed, only its answer was lost


async def test_reject_next_token(exchange: LocalExchange, auth: Client, token: str) -> None:
    exchange.reject_next_token()
    rid = await auth.request("subscribe", {"channel": "balances", "token": token})
    assert (await auth.response(rid))["error"] == "EAPI:Invalid token"
    rid = await auth.request("subscribe", {"channel": "balances", "token": token})
    assert (await auth.response(rid))["success"] is True


async def test_status_pushed_to_every_endpoint(exchange: LocalExchange, public: Client) -> None:
    async with connect(exchange.l3_ws_url, max_queue=None) as ws:
        l3 = Client(ws)
        await l3.recv()
        await exchange.set_system_status("maintenance")
        for client in (public, l3):
            frame = await client.wait_for(lambda f: f.get("channel") == "status")
            assert frame["data"][0]["system"] == "maintenance"
