"""A minimal reader of a gateway: ``python -m kraken_ws.gateway --nats-url URL --book BTC/USD``.

Prints the verified book's best levels once a second (what ``make demo-gateway`` runs twice).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import signal

from .subscriber import Subscriber


async def _read(url: str, symbol: str, depth: int, duration: float | None, name: str) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(sig, stop.set)
    if duration is not None:
        loop.call_later(duration, stop.set)
    async with Subscriber(url, name=name) as sub:
        book = await sub.book(symbol, depth=depth, timeout=30)
        while not stop.is_set():
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(1.0):
                    await stop.wait()
            bid, ask = book.best_bid, book.best_ask
            print(  # noqa: T201 - the demo's output
                f"[{name}] {symbol} valid={book.is_valid} bid={bid and bid[0]} "
                f"ask={ask and ask[0]} checksum={book.last_checksum}",
                flush=True,
            )


def main() -> None:
    """Parse the arguments and read until a signal (or ``--duration``)."""
    parser = argparse.ArgumentParser(prog="python -m kraken_ws.gateway")
    parser.add_argument("--nats-url", required=True)
    parser.add_argument("--book", default="BTC/USD")
    parser.add_argument("--depth", type=int, default=10)
    parser.add_argument("--duration", type=float, default=None)
    parser.add_argument("--name", default="reader")
    args = parser.parse_args()
    asyncio.run(_read(args.nats_url, args.book, args.depth, args.duration, args.name))


if __name__ == "__main__":
    main()
