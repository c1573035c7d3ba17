"""A small scripted Kraken for memory-transport client tests (the LocalExchange is the full one)."""

from __future__ import annotations

import asyncio
import json
from decimal import Decimal
from typing import Any

from kraken_ws.book.checksum import book_checksum
from kraken_ws.transport.memory import MemoryServer, MemoryTransport

TOKEN = "FAKE-TOKEN-abcdef"


def book_frame(
    symbol: str,
    kind: str,
    bids: list[tuple[str, str]],
    asks: list[tuple[str, str]],
    checksum: int | None = None,
) -> str:
    if checksum is None:
        checksum = book_checksum(
            [(Decimal(p), Decimal(q)) for p, q in asks], [(Decimal(p), Decimal(q)) for p, q in bids]
        )
    data = {
        "symbol": symbol,
        "bids": [{"price": p, "qty": q} for p, q in bids],
        "asks": [{"price": p, "qty": q} for p, q in asks],
        "checksum": checksum,
    }
    # Raw number text so the digits survive.
    text = json.dumps({"channel": "book", "type": kind, "data": [data]})
    for p, q in bids + asks:
        text = text.replace(f'"{p}"', p, 1).replace(f'"{q}"', q, 1)
    return text


class FakeKraken:
    """Answers subscribe/unsubscribe/ping/trading methods; faults are flags."""

    def __init__(self) -> None:
        self.server = MemoryServer(self.handle)
        self.received: list[dict[str, Any]] = []
        self.reject_tokens = 0
        self.silent = False
        self.drop_methods: set[str] = set()
        self.valid_tokens = {TOKEN}
        self.conns: dict[str, list[MemoryTransport]] = {}
        self.book_bids = [("100.0", "1.0"), ("99.5", "2.0")]
        self.book_asks = [("101.0", "1.5"), ("101.5", "3.0")]
        self.corrupt_next = False
        self.request_seen = asyncio.Event()

    def endpoint(self, url: str) -> str:
        return url.split("://", 1)[1].split("/", 1)[0]

    async def handle(self, conn: MemoryTransport, url: str) -> None:
        self.conns.setdefault(self.endpoint(url), []).append(conn)
        await conn.send(
            json.dumps(
                {
                    "channel": "status",
                    "type": "update",
                    "data": [
                        {
                            "api_version": "v2",
                            "connection_id": 1,
                            "system": "online",
                            "version": "2.0.0",
                        }
                    ],
                }
            )
        )
        while True:
            text = await conn.recv()
            msg = json.loads(text)
            self.received.append(msg)
            self.request_seen.set()
            if self.silent or msg.get("method") in self.drop_methods:
                continue
            await self.answer(conn, msg)

    async def answer(self, conn: MemoryTransport, msg: dict[str, Any]) -> None:
        method = msg["method"]
        req_id = msg.get("req_id")
        params = msg.get("params") or {}
        base = {
            "method": method,
            "req_id": req_id,
            "time_in": "2026-01-01T00:00:00Z",
            "time_out": "2026-01-01T00:00:00Z",
        }
        if method == "ping":
            await conn.send(json.dumps({"method": "pong", "req_id": req_id}))
            return
        if "token" in params and (
            self.reject_tokens > 0 or params["token"] not in self.valid_tokens
        ):
            self.reject_tokens = max(0, self.reject_tokens - 1)
            await conn.send(json.dumps({**base, "success": False, "error": "EAPI:Invalid token"}))
            return
        if method in ("subscribe", "unsubscribe"):
            channel = params["channel"]
            symbols = params.get("symbol") or [None]
            for symbol in symbols:
                if symbol == "BAD/PAIR":
                    await conn.send(
                        json.dumps(
                            {
                                **base,
                                "success": False,
                                "error": f"Currency pair not supported {symbol}",
                                "symbol": symbol,
                            }
                        )
                    )
                    continue
                result: dict[str, Any] = {"channel": channel}
                if symbol is not None:
                    result["symbol"] = symbol
                if channel == "executions":
                    result["maxratecount"] = 125
                await conn.send(json.dumps({**base, "success": True, "result": result}))
                if method == "subscribe" and channel == "book":
                    await conn.send(book_frame(symbol, "snapshot", self.book_bids, self.book_asks))
            if method == "subscribe" and channel == "executions":
                await conn.send(
                    json.dumps(
                        {"channel": "executions", "type": "snapshot", "data": [], "sequence": 1}
                    )
                )
            return
        if method == "add_order":
            if params.get("symbol") == "POOR/USD":
                await conn.send(
                    json.dumps({**base, "success": False, "error": "EOrder:Insufficient funds"})
                )
                return
            await conn.send(
                json.dumps({**base, "success": True, "result": {"order_id": "OABCDE-12345-FGHIJK"}})
            )
            return
        if method == "cancel_order":
            for oid in params.get("order_id") or []:
                if oid == "GONE":
                    await conn.send(
                        json.dumps({**base, "success": False, "error": "EOrder:Invalid order"})
                    )
                else:
                    await conn.send(
                        json.dumps({**base, "success": True, "result": {"order_id": oid}})
                    )
            return
        if method == "cancel_all":
            await conn.send(json.dumps({**base, "success": True, "result": {"count": 3}}))
            return
        if method == "cancel_all_orders_after":
            await conn.send(
                json.dumps(
                    {
                        **base,
                        "success": True,
                        "result": {
                            "currentTime": "2026-01-01T00:00:00Z",
                            "triggerTime": "2026-01-01T00:01:00Z" if params["timeout"] else "0",
                        },
                    }
                )
            )
            return
        if method == "amend_order":
            await conn.send(
                json.dumps(
                    {
                        **base,
                        "success": True,
                        "result": {"amend_id": "AMEND-1", "order_id": params.get("order_id")},
                    }
                )
            )
            return
        if method == "edit_order":
            await conn.send(
                json.dumps(
                    {
                        **base,
                        "success": True,
                        "result": {"order_id": "NEW-1", "original_order_id": params["order_id"]},
                    }
                )
            )
            return
        if method == "batch_add":
            rows = [{"order_id": f"B-{i}"} for i, _ in enumerate(params["orders"])]
            await conn.send(json.dumps({**base, "success": True, "result": rows}))
            return
        if method == "batch_cancel":
            await conn.send(
                json.dumps({**base, "success": True, "result": {"count": len(params["orders"])}})
            )
            return
        await conn.send(
            json.dumps({**base, "success": False, "error": "EGeneral:Invalid arguments"})
        )

    async def push(self, endpoint: str, text: str) -> None:
        await self.conns[endpoint][-1].send(text)

    def live(self, endpoint: str) -> MemoryTransport:
        return self.conns[endpoint][-1]
