"""A consumer process of the fan-out test: live books from the gateway until told to report.

    python -m tests.gateway.consumer_proc NATS_URL DEPTH SYMBOL [SYMBOL ...]

Prints ``ready`` once every book is verified, then, when a JSON ``{symbol: seq}`` arrives on
``test.report``, waits until each book has applied that ``Kraken-Seq`` and prints one JSON line:
every book's levels and validity, and the resyncs and gaps it saw (none expected).
"""

from __future__ import annotations

import asyncio
import json
import sys

import nats

from kraken_ws.events import BookResync
from kraken_ws.gateway import GatewayGap, Subscriber


async def main(url: str, depth: int, symbols: list[str]) -> None:
    async with Subscriber(url) as sub:
        events = aiter(sub.events())
        books = {s: await sub.book(s, depth=depth, timeout=30) for s in symbols}
        problems: list[str] = []

        async def watch() -> None:
            async for event in events:
                if isinstance(event, BookResync | GatewayGap):
                    problems.append(repr(event))

        watcher = asyncio.create_task(watch())
        nc = await nats.connect(url)
        report: asyncio.Future[dict[str, int]] = asyncio.get_running_loop().create_future()

        async def on_report(msg: nats.aio.msg.Msg) -> None:
            if not report.done():
                report.set_result(json.loads(msg.data))

        await nc.subscribe("test.report", cb=on_report)
        await nc.flush()
        print("ready", flush=True)
        targets = await report
        feeds = sub._feeds
        async with asyncio.timeout(60):
            while any(feeds[("book", s)].seq < targets[s] for s in symbols):  # noqa: ASYNC110
                await asyncio.sleep(0.01)
        watcher.cancel()
        out = {
            "books": {
                s: {
                    "valid": b.is_valid,
                    "bids": [[str(p), str(q)] for p, q in b.bids()],
                    "asks": [[str(p), str(q)] for p, q in b.asks()],
                }
                for s, b in books.items()
            },
            "problems": problems,
        }
        print(json.dumps(out), flush=True)
        await nc.close()


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], int(sys.argv[2]), sys.argv[3:]))
