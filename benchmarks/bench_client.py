"""The typed client against the local exchange on loopback, next to python-kraken-sdk.

The exchange runs in its own process (so it does not compete with the client for the GIL) and the
same scenarios run through ``KrakenWSClient`` and python-kraken-sdk's ``SpotWSClient`` in one run:

* frame-to-event latency: the exchange stamps each book frame with the wall clock when it builds
  it; the client side subtracts that from the wall clock when the frame reaches user code (a typed
  ``BookUpdate`` for us, a ``dict`` in ``on_message`` for python-kraken-sdk), p50/p99;
* ``add_order`` round trip: a resting limit order, from the call until the exchange's answer is
  in user code (``await client.add_order`` for us; ``send_message`` then the response dict in
  ``on_message`` for python-kraken-sdk), p50/p99;
* sustained events/s on one connection with the exchange publishing as fast as it can.
"""

from __future__ import annotations

import asyncio
import multiprocessing
import statistics
import time
from collections.abc import Callable
from datetime import UTC, datetime
from decimal import Decimal
from multiprocessing.connection import Connection
from typing import Any

from kraken_ws import KrakenWSClient
from kraken_ws.models.channels.book import BookUpdate

LATENCY_RATE = 200  # book updates/s: low enough that queueing does not dominate latency
LATENCY_SECONDS = 3.0
ORDERS = 200
THROUGHPUT_RATE = 20_000  # asks the exchange for more than it can publish: it runs flat out
THROUGHPUT_SECONDS = 3.0
THROUGHPUT_ROUNDS = 2


def _serve(conn: Connection, kwargs: dict[str, Any]) -> None:
    from kraken_ws.testing import LocalExchange, TierSpec

    # Hundreds of back-to-back orders would trip the per-pair rate counter and the open-orders
    # limit of every real tier: a load test gets limits of its own.
    kwargs.setdefault("tier", TierSpec(decay=1e9, threshold=10**9, max_open_orders=10**6))

    async def run() -> None:
        async with LocalExchange(**kwargs) as ex:
            conn.send(
                {
                    "ws_url": ex.ws_url,
                    "auth_ws_url": ex.auth_ws_url,
                    "l3_ws_url": ex.l3_ws_url,
                    "rest_url": ex.rest_url,
                    "api_key": ex.api_key,
                    "api_secret": ex.api_secret,
                }
            )
            await asyncio.get_running_loop().run_in_executor(None, conn.recv)

    asyncio.run(run())


class Exchange:
    """A LocalExchange in a child process."""

    def __init__(self, **kwargs: Any) -> None:
        ctx = multiprocessing.get_context("spawn")
        self._conn, child = ctx.Pipe()
        self._proc = ctx.Process(target=_serve, args=(child, kwargs), daemon=True)

    def __enter__(self) -> dict[str, str]:
        self._proc.start()
        if not self._conn.poll(60):
            raise RuntimeError("local exchange did not start")
        urls: dict[str, str] = self._conn.recv()
        return urls

    def __exit__(self, *exc: object) -> None:
        self._conn.send("stop")
        self._proc.join(10)
        if self._proc.is_alive():
            self._proc.kill()


def _epoch(ts: str) -> float:
    # Python 3.11's fromisoformat takes at most 6 fractional digits; Kraken sends up to 9.
    head, _, frac = ts.rstrip("Z").partition(".")
    base = datetime.fromisoformat(head).replace(tzinfo=UTC).timestamp()
    return base + (float("0." + frac) if frac else 0.0)


def _pct(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def _ms(values: list[float]) -> str:
    return f"{_pct(values, 0.5) * 1e3:8.2f} /{_pct(values, 0.99) * 1e3:8.2f}"


def _base(url: str) -> str:
    return url.removesuffix("/v2")  # python-kraken-sdk appends /v2 itself


# --- kraken-ws -----------------------------------------------------------------------------------


def _client(urls: dict[str, str], *, private: bool = False) -> KrakenWSClient:
    return KrakenWSClient(
        urls["api_key"] if private else "",
        urls["api_secret"] if private else "",
        ws_url=urls["ws_url"],
        auth_ws_url=urls["auth_ws_url"],
        l3_ws_url=urls["l3_ws_url"],
        rest_url=urls["rest_url"],
    )


async def ours_stream(urls: dict[str, str], seconds: float) -> tuple[list[float], int, float]:
    latencies: list[float] = []
    count = 0
    async with _client(urls) as client:
        await client.subscribe_book(["BTC/USD"], depth=10)
        start = time.perf_counter()
        deadline = start + seconds
        async for event in client:
            if isinstance(event, BookUpdate):
                count += 1
                stamp = event.data[0].timestamp
                if stamp is not None:
                    latencies.append(time.time() - _epoch(stamp))
            if time.perf_counter() >= deadline:
                break
        elapsed = time.perf_counter() - start
    return latencies, count, elapsed


async def ours_orders(urls: dict[str, str]) -> list[float]:
    rtts: list[float] = []
    async with _client(urls, private=True) as client:
        await client.cancel_all()  # connection and token up before timing
        for _ in range(ORDERS):
            started = time.perf_counter()
            await client.add_order(
                order_type="limit",
                side="buy",
                symbol="BTC/USD",
                order_qty=Decimal("0.001"),
                limit_price=Decimal("1000.0"),
            )
            rtts.append(time.perf_counter() - started)
        await client.cancel_all()
    return rtts


# --- python-kraken-sdk ---------------------------------------------------------------------------


def _pks_no_initial_wait() -> None:
    from kraken.spot.websocket import connectors

    # pks sleeps 1-2 s before its first connect; its own tests patch this out, and so do we.
    connectors.ConnectSpotWebsocketBase._ConnectSpotWebsocketBase__get_reconnect_wait = (  # type: ignore[attr-defined]
        lambda _self, _attempts: 0
    )


async def pks_stream(urls: dict[str, str], seconds: float) -> tuple[list[float], int, float]:
    from kraken.spot import SpotWSClient

    latencies: list[float] = []
    count = 0
    window: dict[str, float] = {}
    done = asyncio.Event()

    async def on_message(message: Any) -> None:
        nonlocal count
        if not isinstance(message, dict) or message.get("channel") != "book":
            return
        if message.get("type") != "update":
            return
        if "start" not in window:
            window["start"] = time.perf_counter()
        count += 1
        latencies.append(time.time() - _epoch(message["data"][0]["timestamp"]))
        if time.perf_counter() - window["start"] >= seconds:
            window.setdefault("end", time.perf_counter())
            done.set()

    client = SpotWSClient(callback=on_message, ws_url=_base(urls["ws_url"]))
    try:
        await client.start()
        await client.subscribe(params={"channel": "book", "symbol": ["BTC/USD"], "depth": 10})
        async with asyncio.timeout(seconds + 30):
            await done.wait()
    finally:
        await client.close()
    return latencies, count, window["end"] - window["start"]


async def pks_orders(urls: dict[str, str]) -> list[float]:
    from kraken.spot import SpotWSClient

    waiting: dict[int, asyncio.Future[dict[str, Any]]] = {}
    loop = asyncio.get_running_loop()

    async def on_message(message: Any) -> None:
        if isinstance(message, dict) and message.get("method") in ("add_order", "pong"):
            future = waiting.pop(message.get("req_id", -1), None)
            if future is not None and not future.done():
                future.set_result(message)

    client = SpotWSClient(
        key=urls["api_key"],
        secret=urls["api_secret"],
        callback=on_message,
        rest_url=urls["rest_url"],
        ws_url=_base(urls["ws_url"]),
        auth_ws_url=_base(urls["auth_ws_url"]),
    )
    rtts: list[float] = []
    try:
        await client.start()
        for req_id in range(1, ORDERS + 1):
            future: asyncio.Future[dict[str, Any]] = loop.create_future()
            waiting[req_id] = future
            started = time.perf_counter()
            await client.send_message(
                {
                    "method": "add_order",
                    "req_id": req_id,
                    "params": {
                        "order_type": "limit",
                        "side": "buy",
                        "order_qty": 0.001,
                        "limit_price": 1000.0,
                        "symbol": "BTC/USD",
                    },
                }
            )
            async with asyncio.timeout(10):
                response = await future
            rtts.append(time.perf_counter() - started)
            if not response.get("success"):
                raise RuntimeError(f"pks add_order failed: {response}")
        await client.send_message({"method": "cancel_all"})
    finally:
        await client.close()
    return rtts


def _run(factory: Callable[[], Any]) -> Any:
    return asyncio.run(factory())


def main() -> None:
    _pks_no_initial_wait()
    print("\n== client on loopback vs python-kraken-sdk (exchange in its own process) ==")
    common = {"heartbeat_interval": 0.05}  # pks's close() waits for a frame to end its loop
    with Exchange(rate=LATENCY_RATE, seed=7, **common) as urls:
        ours_lat, _, _ = _run(lambda: ours_stream(urls, LATENCY_SECONDS))
        pks_lat, _, _ = _run(lambda: pks_stream(urls, LATENCY_SECONDS))
        ours_rtt = _run(lambda: ours_orders(urls))
        pks_rtt = _run(lambda: pks_orders(urls))
    ours_rates: list[float] = []
    pks_rates: list[float] = []
    with Exchange(rate=THROUGHPUT_RATE, seed=7, **common) as urls:
        # Alternating rounds, best of each: the exchange's cost per tick drifts as its market
        # evolves, and the machine may be shared.
        for _ in range(THROUGHPUT_ROUNDS):
            _, ours_n, ours_t = _run(lambda: ours_stream(urls, THROUGHPUT_SECONDS))
            ours_rates.append(ours_n / ours_t)
            _, pks_n, pks_t = _run(lambda: pks_stream(urls, THROUGHPUT_SECONDS))
            pks_rates.append(pks_n / pks_t)
    print(f"{'scenario':<44}{'kraken-ws':>20}{'python-kraken-sdk':>22}")
    print(
        f"{f'frame -> event latency p50/p99 ms ({LATENCY_RATE}/s)':<44}"
        f"{_ms(ours_lat):>20}{_ms(pks_lat):>22}"
    )
    print(
        f"{f'add_order round trip p50/p99 ms ({ORDERS} orders)':<44}{_ms(ours_rtt):>20}"
        f"{_ms(pks_rtt):>22}"
    )
    ours_rate, pks_rate = max(ours_rates), max(pks_rates)
    label = f"sustained book events/s (best of {THROUGHPUT_ROUNDS})"
    print(f"{label:<44}{ours_rate:>20,.0f}{pks_rate:>22,.0f}")
    print(
        "(kraken-ws events are typed, exact-decimal models; python-kraken-sdk's are json.loads "
        "dicts with floats;\n the exchange's own ceiling is about 6,000 frames/s on this machine, "
        f"so both may be capped by it. mean latency ours {statistics.fmean(ours_lat) * 1e3:.2f} ms)"
    )


if __name__ == "__main__":
    main()
