"""Fan-out: consumer processes get exactly the gateway's books (one joins late, one restarts).

The issue's full size, run by default (CI included, ~30 s on 2 cores): 8 processes (plus one
that joins halfway and one killed and restarted) x 10 symbols at depth 100.
``KRAKEN_WS_GATEWAY_SMALL=1`` runs 3 processes x 4 symbols for a quick local check.
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
from pathlib import Path

import nats

from kraken_ws.gateway import Gateway
from kraken_ws.gateway.subjects import data_subject
from kraken_ws.gateway.testing import NatsServer
from kraken_ws.testing import LocalExchange

from .support import gateway_for, instruments

FULL = not os.environ.get("KRAKEN_WS_GATEWAY_SMALL")
PROCESSES = 8 if FULL else 3
SYMBOL_COUNT = 10 if FULL else 4
STEPS = 1500 if FULL else 300
DEPTH = 100
ROOT = Path(__file__).resolve().parents[2]


async def _spawn(url: str, symbols: list[str]) -> asyncio.subprocess.Process:
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "tests.gateway.consumer_proc",
        url,
        str(DEPTH),
        *symbols,
        cwd=ROOT,
        stdout=asyncio.subprocess.PIPE,
        env={**os.environ, "PYTHONASYNCIODEBUG": ""},
    )
    return process


async def _ready(process: asyncio.subprocess.Process) -> None:
    assert process.stdout is not None
    async with asyncio.timeout(60):
        line = await process.stdout.readline()
    assert line.strip() == b"ready", line


async def _drive(ex: LocalExchange, steps: int) -> None:
    for k in range(steps):
        await ex.step(1)
        if k % 5 == 0:
            await asyncio.sleep(0)  # let the gateway publish; the market otherwise runs flat out


async def _quiescent(gateway: Gateway, symbols: list[str]) -> dict[str, int]:
    """Each book subject's last sequence, once no frame arrived for a second and none waits."""
    last: dict[str, int] = {}
    async with asyncio.timeout(60):
        while True:
            now = {s: gateway._seq.get(data_subject("book", s), 0) for s in symbols}
            if now == last and not gateway.outbox.items:
                return now
            last = now
            await asyncio.sleep(1.0)


async def test_consumer_processes_end_with_the_gateways_books(nats_server: NatsServer) -> None:
    specs = instruments(SYMBOL_COUNT)
    symbols = [spec.symbol for spec in specs]
    async with (
        LocalExchange(rate=None, instruments=specs) as ex,
        gateway_for(ex, nats_server.url, books=dict.fromkeys(symbols, DEPTH)) as gateway,
    ):
        early = [await _spawn(nats_server.url, symbols) for _ in range(PROCESSES)]
        restarted = await _spawn(nats_server.url, symbols)
        for process in [*early, restarted]:
            await _ready(process)
        await _drive(ex, STEPS // 3)
        restarted.kill()
        await restarted.wait()
        late = await _spawn(nats_server.url, symbols)
        await _drive(ex, STEPS // 3)
        await _ready(late)
        restarted = await _spawn(nats_server.url, symbols)
        await _drive(ex, STEPS // 3)
        await _ready(restarted)
        processes = [*early, late, restarted]
        # The exchange has stopped, but its last frames may still be on their way to the
        # gateway: the targets are taken once the gateway has published everything it will.
        targets = await _quiescent(gateway, symbols)
        nc = await nats.connect(nats_server.url)
        await nc.publish("test.report", json.dumps(targets).encode())
        await nc.close()
        reports = []
        for process in processes:
            assert process.stdout is not None
            async with asyncio.timeout(90):
                reports.append(json.loads(await process.stdout.readline()))
                await process.wait()
        expected = {
            s: {
                "valid": True,
                "bids": [[str(p), str(q)] for p, q in gateway.books[s].bids()],
                "asks": [[str(p), str(q)] for p, q in gateway.books[s].asks()],
            }
            for s in symbols
        }
    for report in reports:
        assert report["problems"] == []
        assert report["books"] == expected
