"""The gateway: gateway receive -> consumer typed event latency, and frames/s to N consumers.

Every part is its own process on loopback: the local exchange (``kraken-ws serve``), a real
``nats-server -js``, the gateway (``kraken-ws gateway``) and each consumer (`Subscriber`
with a live book), so that none competes with another for the GIL. In the same run:

* latency: the exchange publishes BTC/USD at a low rate; one consumer subtracts the frame's
  ``Kraken-Received`` header (the gateway's wall clock when it read the frame) from its own wall
  clock once the frame is decoded and applied to its verified book, p50/p99;
* throughput: the exchange publishes as fast as it can; N = 1, 4, 8 consumers each count the
  book frames applied per second, next to a direct `KrakenWSClient` on the same stream at the
  same time (what one process gets without the bus).

Run alone: ``python -m benchmarks.bench_gateway``; figures depend on the machine's cores (the
development VM has 2, shared: 8 consumers then compete with the gateway for them).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import statistics
import sys
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
LATENCY_RATE = 200
LATENCY_SECONDS = 4.0
THROUGHPUT_RATE = 20_000
THROUGHPUT_SECONDS = 4.0
CONSUMERS = (1, 4, 8)
ENV = {**os.environ, "PYTHONASYNCIODEBUG": ""}


# --- the consumer and direct-client processes ------------------------------------------------


async def _consume(url: str, seconds: float, warmup: float) -> None:
    from kraken_ws.gateway import Subscriber
    from kraken_ws.gateway import subscriber as subscriber_module
    from kraken_ws.gateway.subjects import HDR_RECEIVED

    latencies: list[float] = []
    applied = 0
    counting = False
    original = subscriber_module._BookFeed.on_message

    def timed(feed: Any, msg: Any) -> None:
        nonlocal applied
        original(feed, msg)
        if counting and msg.data and msg.subject == feed.delta_subject:
            applied += 1
            received = (msg.headers or {}).get(HDR_RECEIVED)
            if received:
                latencies.append((time.time_ns() - int(received)) / 1e3)

    subscriber_module._BookFeed.on_message = timed  # type: ignore[method-assign]
    async with Subscriber(url) as sub:
        book = await sub.book("BTC/USD", depth=10, timeout=30)
        print("ready", flush=True)
        await asyncio.sleep(warmup)
        counting = True
        started = time.perf_counter()
        await asyncio.sleep(seconds)
        counting = False
        elapsed = time.perf_counter() - started
        print(json.dumps({"rate": applied / elapsed, "lat_us": latencies, "valid": book.is_valid}))


async def _direct(ws_url: str, seconds: float, warmup: float) -> None:
    from kraken_ws import KrakenWSClient

    count = 0
    counting = False

    async with KrakenWSClient(ws_url=ws_url) as client:
        stream = client.events(channel="book")  # typed BookSnapshot/BookUpdate, like a consumer

        async def drain() -> None:
            nonlocal count
            async for _ in stream:
                if counting:
                    count += 1

        task = asyncio.create_task(drain())
        book = await client.book("BTC/USD", 10)
        print("ready", flush=True)
        await asyncio.sleep(warmup)
        counting = True
        started = time.perf_counter()
        await asyncio.sleep(seconds)
        counting = False
        elapsed = time.perf_counter() - started
        task.cancel()
        print(json.dumps({"rate": count / elapsed, "valid": book.is_valid}))


# --- the run ------------------------------------------------------------------------------------


async def _spawn(*args: str) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(
        *args,
        cwd=ROOT,
        env=ENV,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.DEVNULL,
        limit=1 << 26,  # a consumer's report holds every latency it measured
    )


async def _line(process: asyncio.subprocess.Process, timeout: float = 60.0) -> bytes:
    assert process.stdout is not None
    async with asyncio.timeout(timeout):
        return await process.stdout.readline()


async def _stop(process: asyncio.subprocess.Process) -> None:
    if process.returncode is None:
        with contextlib.suppress(ProcessLookupError):
            process.terminate()
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(10):
                await process.wait()
        if process.returncode is None:
            process.kill()
            await process.wait()


@contextlib.asynccontextmanager
async def _stack(rate: float) -> AsyncIterator[tuple[str, str]]:
    """Exchange, nats-server and gateway, each in its own process: (nats url, exchange ws url)."""
    from kraken_ws.gateway.testing import NatsServer

    exchange = await _spawn(
        str(BIN / "kraken-ws"), "serve", "--json", "--symbols", "BTC/USD", "--rate", str(rate)
    )
    gateway: asyncio.subprocess.Process | None = None
    try:
        urls = json.loads(await _line(exchange))
        async with NatsServer() as nats:
            gateway = await asyncio.create_subprocess_exec(
                str(BIN / "kraken-ws"),
                "gateway",
                "--nats-url",
                nats.url,
                "--ws-url",
                urls["ws_url"],
                "--book",
                "BTC/USD",
                "--depth",
                "10",
                "--health-every",
                "0",
                cwd=ROOT,
                env=ENV,
                stderr=asyncio.subprocess.DEVNULL,
            )
            yield nats.url, urls["ws_url"]
    finally:
        if gateway is not None:
            await _stop(gateway)
        await _stop(exchange)


async def _round(rate: float, consumers: int, seconds: float, direct: bool) -> dict[str, Any]:
    async with _stack(rate) as (nats_url, ws_url):
        procs = [
            await _spawn(
                sys.executable,
                "-m",
                "benchmarks.bench_gateway",
                "_consume",
                nats_url,
                str(seconds),
                "1.0",
            )
            for _ in range(consumers)
        ]
        if direct:
            procs.append(
                await _spawn(
                    sys.executable,
                    "-m",
                    "benchmarks.bench_gateway",
                    "_direct",
                    ws_url,
                    str(seconds),
                    "1.0",
                )
            )
        try:
            for proc in procs:
                assert (await _line(proc)).strip() == b"ready"
            results = [json.loads(await _line(proc, 60 + seconds)) for proc in procs]
        finally:
            for proc in procs:
                await _stop(proc)
    out: dict[str, Any] = {"consumers": results[:consumers]}
    if direct:
        out["direct"] = results[-1]
    return out


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


async def _main() -> None:
    print("gateway (exchange, nats-server, gateway and each consumer in its own process)")
    lat = await _round(LATENCY_RATE, 1, LATENCY_SECONDS, direct=False)
    values = lat["consumers"][0]["lat_us"]
    print(
        f"  latency, gateway receive -> consumer's verified book event, {LATENCY_RATE}/s, "
        f"{len(values)} frames: p50 {_pct(values, 0.5):.0f} us, p99 {_pct(values, 0.99):.0f} us"
    )
    for n in CONSUMERS:
        result = await _round(THROUGHPUT_RATE, n, THROUGHPUT_SECONDS, direct=True)
        rates = [c["rate"] for c in result["consumers"]]
        valid = all(c["valid"] for c in result["consumers"])
        print(
            f"  N={n}: frames/s per consumer min {min(rates):,.0f} mean "
            f"{statistics.fmean(rates):,.0f} (total {sum(rates):,.0f}), books valid: {valid}; "
            f"direct KrakenWSClient on the same stream: {result['direct']['rate']:,.0f}/s"
        )


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "_consume":
        asyncio.run(_consume(sys.argv[2], float(sys.argv[3]), float(sys.argv[4])))
    elif len(sys.argv) > 1 and sys.argv[1] == "_direct":
        asyncio.run(_direct(sys.argv[2], float(sys.argv[3]), float(sys.argv[4])))
    else:
        asyncio.run(_main())


if __name__ == "__main__":
    main()
