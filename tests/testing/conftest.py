"""Fixtures and a tiny independent client for the LocalExchange acceptance tests.

The helpers here deliberately do not use kraken_ws's own client, codec or checksum code: frames
are decoded with ``json.loads(parse_float=str, parse_int=str)`` so every price and quantity keeps
its exact wire token, and the checksum is re-implemented from reference §8.1.
"""

from __future__ import annotations

import asyncio
import json
import time
import zlib
from collections.abc import AsyncIterator, Callable
from decimal import Decimal
from typing import Any
from urllib.parse import urlencode

import httpx
import pytest
from websockets.asyncio.client import ClientConnection, connect

from kraken_ws.testing import LocalExchange, api_sign

TIMEOUT = 5.0


def raw_loads(text: str) -> Any:
    """Decode keeping every number token as its exact text."""
    return json.loads(text, parse_float=str, parse_int=str)


def fmt(token: str) -> str:
    """Reference §8.1 step 3: drop the dot, strip leading zeros."""
    return token.replace(".", "").lstrip("0")


def crc_levels(asks: list[tuple[str, str]], bids: list[tuple[str, str]]) -> int:
    """Reference §8.1: CRC32 over the top-10 asks then bids (already sorted best first)."""
    text = "".join(fmt(p) + fmt(q) for p, q in asks[:10]) + "".join(
        fmt(p) + fmt(q) for p, q in bids[:10]
    )
    return zlib.crc32(text.encode()) & 0xFFFFFFFF


class RefBook:
    """An L2 book kept from wire tokens, truncated to the subscribed depth (reference §8.1)."""

    def __init__(self, depth: int) -> None:
        self.depth = depth
        self.bids: dict[str, str] = {}
        self.asks: dict[str, str] = {}

    def apply(self, data: dict[str, Any], snapshot: bool) -> bool:
        if snapshot:
            self.bids, self.asks = {}, {}
        for side, levels in (("bids", data["bids"]), ("asks", data["asks"])):
            book = getattr(self, side)
            for level in levels:
                price, qty = level["price"], level["qty"]
                # Same price may come with another token spelling only if precision changed; key
                # by Decimal value but keep the latest token text.
                for existing in [p for p in book if Decimal(p) == Decimal(price)]:
                    del book[existing]
                if Decimal(qty) != 0:
                    book[price] = qty
            ordered = sorted(book, key=Decimal, reverse=side == "bids")[: self.depth]
            setattr(self, side, {p: book[p] for p in ordered})
        return self.checksum() == int(data["checksum"])

    def sorted_levels(self, side: str) -> list[tuple[str, str]]:
        book = getattr(self, side)
        return [(p, book[p]) for p in sorted(book, key=Decimal, reverse=side == "bids")]

    def checksum(self) -> int:
        return crc_levels(self.sorted_levels("asks"), self.sorted_levels("bids"))


class RefL3Book:
    """A level3 book kept from wire tokens (reference §8.4)."""

    def __init__(self, depth: int) -> None:
        self.depth = depth
        self.orders: dict[str, dict[str, tuple[str, str]]] = {"bids": {}, "asks": {}}

    def apply(self, data: dict[str, Any], snapshot: bool) -> bool:
        if snapshot:
            self.orders = {"bids": {}, "asks": {}}
        for side in ("bids", "asks"):
            book = self.orders[side]
            for o in data[side]:
                event = o.get("event", "add")
                if event == "delete":
                    book.pop(o["order_id"], None)
                elif event == "modify" and o["order_id"] in book:
                    book[o["order_id"]] = (o["limit_price"], o["order_qty"])  # in place
                else:
                    book.pop(o["order_id"], None)
                    book[o["order_id"]] = (o["limit_price"], o["order_qty"])
            prices = sorted({Decimal(p) for p, _ in book.values()}, reverse=side == "bids")
            keep = set(prices[: self.depth])
            self.orders[side] = {k: v for k, v in book.items() if Decimal(v[0]) in keep}
        return self.checksum() == int(data["checksum"])

    def checksum(self) -> int:
        parts = []
        for side in ("asks", "bids"):
            book = self.orders[side]
            prices = sorted({Decimal(p) for p, _ in book.values()}, reverse=side == "bids")[:10]
            for price in prices:
                parts.extend(fmt(p) + fmt(q) for p, q in book.values() if Decimal(p) == price)
        return zlib.crc32("".join(parts).encode()) & 0xFFFFFFFF


class Client:
    """A plain websockets client with frame-waiting helpers (no sleeps)."""

    def __init__(self, ws: ClientConnection) -> None:
        self.ws = ws
        self.req_id = 0

    async def send(self, message: dict[str, Any] | str) -> None:
        await self.ws.send(message if isinstance(message, str) else json.dumps(message))

    async def request(self, method: str, params: dict[str, Any] | None = None, **extra: Any) -> int:
        self.req_id += 1
        msg: dict[str, Any] = {"method": method, "req_id": self.req_id, **extra}
        if params is not None:
            msg["params"] = params
        await self.send(msg)
        return self.req_id

    async def recv(self) -> Any:
        async with asyncio.timeout(TIMEOUT):
            return raw_loads(await self.ws.recv())

    async def recv_text(self) -> str:
        async with asyncio.timeout(TIMEOUT):
            text = await self.ws.recv()
        assert isinstance(text, str)
        return text

    async def wait_for(self, predicate: Callable[[Any], bool], limit: float = TIMEOUT) -> Any:
        async with asyncio.timeout(limit):
            while True:
                frame = raw_loads(await self.ws.recv())
                if predicate(frame):
                    return frame

    async def response(self, req_id: int, method: str | None = None) -> Any:
        return await self.wait_for(
            lambda f: f.get("req_id") == str(req_id) and (method is None or f["method"] == method)
        )

    async def responses(self, req_id: int, count: int) -> list[Any]:
        return [await self.response(req_id) for _ in range(count)]


@pytest.fixture
async def exchange() -> AsyncIterator[LocalExchange]:
    async with LocalExchange(rate=None, seed=42, heartbeat_interval=0.2) as ex:
        yield ex


@pytest.fixture
async def public(exchange: LocalExchange) -> AsyncIterator[Client]:
    async with connect(exchange.ws_url, max_queue=None) as ws:
        client = Client(ws)
        status = await client.recv()
        assert status["channel"] == "status"
        yield client


@pytest.fixture
async def auth(exchange: LocalExchange) -> AsyncIterator[Client]:
    async with connect(exchange.auth_ws_url, max_queue=None) as ws:
        client = Client(ws)
        assert (await client.recv())["channel"] == "status"
        yield client


@pytest.fixture
async def token(exchange: LocalExchange) -> str:
    return await get_token(exchange)


async def get_token(exchange: LocalExchange, *, as_json: bool = False) -> str:
    result = await token_request(exchange, as_json=as_json)
    assert result["error"] == [], result
    return str(result["result"]["token"])


_nonce = [int(time.time() * 1000)]


def next_nonce() -> str:
    _nonce[0] += 1
    return str(_nonce[0])


async def token_request(
    exchange: LocalExchange,
    *,
    as_json: bool = False,
    nonce: str | None = None,
    key: str | None = None,
    secret: str | None = None,
) -> Any:
    nonce = nonce or next_nonce()
    path = "/0/private/GetWebSocketsToken"
    if as_json:
        body = json.dumps({"nonce": nonce})
        ctype = "application/json"
    else:
        body = urlencode({"nonce": nonce})
        ctype = "application/x-www-form-urlencoded"
    headers = {
        "API-Key": key or exchange.api_key,
        "API-Sign": api_sign(secret or exchange.api_secret, path, nonce, body),
        "Content-Type": ctype,
    }
    async with httpx.AsyncClient() as http:
        response = await http.post(exchange.rest_url + path, content=body, headers=headers)
    assert response.status_code == 200
    return response.json()
