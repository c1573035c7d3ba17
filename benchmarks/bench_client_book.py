"""Book clients against a server that costs nothing per frame: only the client is measured.

Run: ``python -m benchmarks.bench_client_book`` (``--updates``, ``--rounds``, ``--depths``).

The server runs in its own process and speaks just enough websocket on a raw asyncio socket: it
answers the handshake, acks a ``book`` subscription with the snapshot, and on a ``ping`` that
carries a ``req_id`` writes every update frame (pre-framed websocket bytes, in 256 KiB chunks)
followed by the ``pong``. So each client is timed from the ``ping`` it sends until it has
handled the last update (BTC/USD, the frames of `benchmarks.bench_book.make_stream`: 1-3
levels per update, checksums from our engine):

* ``kraken-ws book() only``: ``await client.book(...)`` and nothing reads its events: the
  frames are applied from their plain JSON value (`kraken_ws.book.wire`), no models;
* ``kraken-ws + typed events``: ``client.book(..., events=True)`` with an ``on_event``
  callback counting the ``BookUpdate`` models it receives (built for every frame);
* ``python-kraken-sdk``: its ``SpotOrderBookClient`` (REST precision lookup stubbed, a no-op
  callback), which keeps the same book and verifies the same checksums, on floats;
* ``websockets + orjson floor``: a bare ``websockets`` client doing ``recv`` + ``orjson.loads``,
  no book at all: the reference issue 14 measures against. (Our transport frames plain text
  frames itself, `kraken_ws.transport._receive`, so its own share is below websockets' ``recv``.)

Every client verifies every checksum (ours raise on a failure, python-kraken-sdk's marks its book
invalid and we check it). Rounds alternate the clients; each figure is the best round.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import re
import struct
import time
from collections.abc import Awaitable, Callable
from multiprocessing.connection import Connection
from typing import Any

from websockets.utils import accept_key

from kraken_ws import KrakenWSClient
from kraken_ws.models.channels.book import BookUpdate

from .bench_book import PRICE_PRECISION, QTY_PRECISION, SYMBOL, make_stream

UPDATES = 20_000
ROUNDS = 5  # docs/books.md quotes the best of 5
DEPTHS = (10, 100)
_CHUNK = 256 * 1024


# --- the server (child process) ------------------------------------------------------------------


def _frame(payload: bytes, opcode: int = 0x1) -> bytes:
    """An unmasked server frame (FIN set)."""
    n = len(payload)
    if n < 126:
        head = struct.pack("!BB", 0x80 | opcode, n)
    elif n < 65536:
        head = struct.pack("!BBH", 0x80 | opcode, 126, n)
    else:
        head = struct.pack("!BBQ", 0x80 | opcode, 127, n)
    return head + payload


async def _read_frame(reader: asyncio.StreamReader) -> tuple[int, bytes]:
    first, second = await reader.readexactly(2)
    n = second & 0x7F
    if n == 126:
        (n,) = struct.unpack("!H", await reader.readexactly(2))
    elif n == 127:
        (n,) = struct.unpack("!Q", await reader.readexactly(8))
    mask = await reader.readexactly(4) if second & 0x80 else b"\0\0\0\0"
    data = bytearray(await reader.readexactly(n))
    for i in range(n):
        data[i] ^= mask[i % 4]
    return first & 0x0F, bytes(data)


class _Server:
    def __init__(self, streams: dict[int, tuple[bytes, list[bytes]]]) -> None:
        # depth -> (snapshot frame, every update frame joined)
        self.streams = {
            depth: (_frame(snapshot), b"".join(_frame(u) for u in updates))
            for depth, (snapshot, updates) in streams.items()
        }

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            await self._session(reader, writer)
        except (ConnectionError, asyncio.IncompleteReadError):
            pass
        finally:
            writer.close()

    async def _session(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        request = await reader.readuntil(b"\r\n\r\n")
        found = re.search(rb"(?im)^sec-websocket-key:[ \t]*(\S+)", request)
        accept = accept_key(found.group(1).decode() if found else "").encode()
        writer.write(
            b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            b"Sec-WebSocket-Accept: " + accept + b"\r\n\r\n"
        )
        updates = b""
        while True:
            opcode, payload = await _read_frame(reader)
            if opcode == 0x8:  # close: answer it and stop
                writer.write(_frame(payload[:2], 0x8))
                await writer.drain()
                return
            if opcode == 0x9:  # a protocol-level ping
                writer.write(_frame(payload, 0xA))
                continue
            if opcode != 0x1:
                continue
            message = json.loads(payload)
            method = message.get("method")
            req_id = message.get("req_id")
            if method == "subscribe":
                params = message.get("params") or {}
                depth = int(params.get("depth", 10))
                snapshot, updates = self.streams[depth]
                ack: dict[str, Any] = {
                    "method": "subscribe",
                    "result": {"channel": "book", "depth": depth, "snapshot": True},
                    "success": True,
                    "time_in": "2026-08-16T23:37:00.000000Z",
                    "time_out": "2026-08-16T23:37:00.000001Z",
                }
                ack["result"]["symbol"] = SYMBOL
                if req_id is not None:
                    ack["req_id"] = req_id
                writer.write(_frame(json.dumps(ack).encode()) + snapshot)
            elif method == "ping":
                pong: dict[str, Any] = {"method": "pong"}
                if req_id is not None:
                    pong["req_id"] = req_id
                    # The trigger: every update, in large writes, then the pong.
                    for start in range(0, len(updates), _CHUNK):
                        writer.write(updates[start : start + _CHUNK])
                        await writer.drain()
                writer.write(_frame(json.dumps(pong).encode()))
            await writer.drain()


def _serve(conn: Connection, updates: int, depths: tuple[int, ...]) -> None:
    streams = {depth: make_stream(depth, updates) for depth in depths}

    async def run() -> None:
        server = await asyncio.start_server(_Server(streams).handle, "127.0.0.1", 0)
        conn.send(server.sockets[0].getsockname()[1])
        await asyncio.get_running_loop().run_in_executor(None, conn.recv)
        server.close()

    asyncio.run(run())


class Server:
    """The zero-cost server in a child process (its port from ``with``)."""

    def __init__(self, updates: int, depths: tuple[int, ...]) -> None:
        ctx = multiprocessing.get_context("spawn")
        self._conn, child = ctx.Pipe()
        self._proc = ctx.Process(target=_serve, args=(child, updates, depths), daemon=True)

    def __enter__(self) -> int:
        self._proc.start()
        if not self._conn.poll(300):
            raise RuntimeError("benchmark server did not start")
        port: int = self._conn.recv()
        return port

    def __exit__(self, *exc: object) -> None:
        self._conn.send("stop")
        self._proc.join(10)
        if self._proc.is_alive():
            self._proc.kill()


# --- the clients ---------------------------------------------------------------------------------


def _client(url: str, **kwargs: Any) -> KrakenWSClient:
    return KrakenWSClient(ws_url=url, watchdog_timeout=None, ping_interval=None, **kwargs)


async def ours_book_only(url: str, depth: int, updates: int) -> float:
    async with _client(url) as client:
        book = await client.book(SYMBOL, depth)  # type: ignore[arg-type]
        start = time.perf_counter()
        await client.ping()  # answered after the last update: every one is applied by then
        elapsed = time.perf_counter() - start
        if book.messages_applied != updates + 1 or not book.is_valid:
            raise AssertionError(f"kraken-ws: {book.messages_applied} applied, {book!r}")
    return elapsed


async def ours_typed(url: str, depth: int, updates: int) -> float:
    count = 0

    def on_event(event: object) -> None:
        nonlocal count
        if type(event) is BookUpdate:
            count += 1

    async with _client(url, on_event=on_event) as client:
        book = await client.book(SYMBOL, depth, events=True)  # type: ignore[arg-type]
        start = time.perf_counter()
        await client.ping()
        elapsed = time.perf_counter() - start
        if count != updates or not book.is_valid:
            raise AssertionError(f"kraken-ws: {count} typed events, {book!r}")
    return elapsed


async def pks(url: str, depth: int, updates: int) -> float:
    from kraken.spot import SpotOrderBookClient
    from kraken.spot.websocket import connectors

    # pks sleeps 1-2 s before its first connect (its own tests patch it out too).
    connectors.ConnectSpotWebsocketBase._ConnectSpotWebsocketBase__get_reconnect_wait = (  # type: ignore[attr-defined]
        lambda _self, _attempts: 0
    )
    snapshot = asyncio.Event()
    done = asyncio.Event()
    count = -1  # the snapshot is the first callback

    def on_update(**_: Any) -> None:
        nonlocal count
        count += 1
        if count == 0:
            snapshot.set()
        elif count == updates:
            done.set()

    class LocalBook(SpotOrderBookClient):  # type: ignore[misc]
        WS_URL = url.removesuffix("/v2")  # it appends /v2 itself

    client = LocalBook(depth=depth, callback=on_update)
    market = client._SpotOrderBookClient__market
    market.get_asset_pairs = lambda pair: {
        pair: {"pair_decimals": PRICE_PRECISION, "lot_decimals": QTY_PRECISION}
    }
    try:
        await client.start()
        await client.add_book(pairs=[SYMBOL])
        async with asyncio.timeout(60):
            await snapshot.wait()
            start = time.perf_counter()
            await client.send_message({"method": "ping", "req_id": 1})
            await done.wait()
        elapsed = time.perf_counter() - start
        book = client.get(SYMBOL)
        if book is None or not book["valid"]:
            raise AssertionError("python-kraken-sdk: a checksum failed")
    finally:
        await client.close()
    return elapsed


async def floor(url: str, depth: int, updates: int) -> float:
    import orjson
    from websockets.asyncio.client import connect

    async with connect(url, compression=None, max_size=None, ping_interval=None) as ws:
        await ws.send(
            json.dumps(
                {
                    "method": "subscribe",
                    "params": {"channel": "book", "symbol": [SYMBOL], "depth": depth},
                }
            )
        )
        while orjson.loads(await ws.recv()).get("type") != "snapshot":
            pass
        start = time.perf_counter()
        await ws.send(json.dumps({"method": "ping", "req_id": 1}))
        recv = ws.recv
        loads = orjson.loads
        for _ in range(updates):
            loads(await recv())
        elapsed = time.perf_counter() - start
    return elapsed


CLIENTS: dict[str, Callable[[str, int, int], Awaitable[float]]] = {
    "kraken-ws book() only": ours_book_only,
    "kraken-ws + typed events": ours_typed,
    "python-kraken-sdk": pks,
    "websockets + orjson floor": floor,
}


def measure(
    updates: int = UPDATES, rounds: int = ROUNDS, depths: tuple[int, ...] = DEPTHS
) -> dict[int, dict[str, float]]:
    """Best frames/s per depth and client, rounds alternating the clients."""
    best: dict[int, dict[str, float]] = {d: dict.fromkeys(CLIENTS, 0.0) for d in depths}
    with Server(updates, depths) as port:
        url = f"ws://127.0.0.1:{port}/v2"
        for _ in range(rounds):
            for depth in depths:
                for name, run in CLIENTS.items():
                    elapsed = asyncio.run(run(url, depth, updates))
                    best[depth][name] = max(best[depth][name], updates / elapsed)
    return best


def report(best: dict[int, dict[str, float]], updates: int, rounds: int) -> None:
    print(
        f"\n== book clients, zero-cost server: {SYMBOL}, {updates:,} updates, best of {rounds} =="
    )
    names = list(CLIENTS)
    print(f"{'depth':>5} | " + " | ".join(f"{n:>25}" for n in names))
    for depth, rates in best.items():
        print(f"{depth:>5} | " + " | ".join(f"{rates[n]:>18,.0f} fr/s" for n in names))
    print()
    for depth, rates in best.items():
        ours, typed = rates["kraken-ws book() only"], rates["kraken-ws + typed events"]
        theirs, bare = rates["python-kraken-sdk"], rates["websockets + orjson floor"]
        print(
            f"depth {depth:>4}: book() only {ours / theirs:4.1f}x python-kraken-sdk, floor "
            f"{bare / ours:4.2f}x faster than it; typed events {typed / theirs:4.1f}x "
            "python-kraken-sdk"
        )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--updates", type=int, default=UPDATES)
    parser.add_argument("--rounds", type=int, default=ROUNDS)
    parser.add_argument("--depths", type=int, nargs="+", default=list(DEPTHS))
    args = parser.parse_args(argv)
    best = measure(args.updates, args.rounds, tuple(args.depths))
    report(best, args.updates, args.rounds)


if __name__ == "__main__":
    main()
