"""`ThreadedExchange`: a `LocalExchange` on its own loop and thread."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable
from typing import Any

from .server import LocalExchange

__all__ = ["ThreadedExchange"]


class ThreadedExchange:
    """A `LocalExchange` running on its own event loop in a background thread.

    For clients that block the event loop (python-kraken-sdk's ``SpotOrderBookClient`` does a
    synchronous REST call inside its receive loop, which would deadlock an exchange running on
    the same loop).

    Args:
        exchange: The exchange to run, not started yet (default: ``LocalExchange()``); build it
            with any of its keyword arguments: ``ThreadedExchange(LocalExchange(rate=20))``.
    """

    def __init__(self, exchange: LocalExchange | None = None) -> None:
        # Building the exchange here is safe: nothing in LocalExchange.__init__ binds to a loop.
        self._exchange = exchange if exchange is not None else LocalExchange()
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self.exchange: LocalExchange | None = None

    def __enter__(self) -> LocalExchange:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def start(self) -> LocalExchange:
        """Start the thread and the exchange; return the exchange (URLs are readable)."""
        self._thread.start()

        async def create() -> LocalExchange:
            await self._exchange.start()
            return self._exchange

        self.exchange = asyncio.run_coroutine_threadsafe(create(), self._loop).result(30)
        return self.exchange

    def call(self, fn: Callable[[LocalExchange], Any]) -> Any:
        """Run ``fn(exchange)`` on the exchange's loop (awaiting it if it is a coroutine)."""
        assert self.exchange is not None
        exchange = self.exchange

        async def run() -> Any:
            result = fn(exchange)
            if asyncio.iscoroutine(result):
                result = await result
            return result

        return asyncio.run_coroutine_threadsafe(run(), self._loop).result(30)

    def stop(self) -> None:
        """Stop the exchange, the loop and the thread."""
        if self.exchange is not None:
            asyncio.run_coroutine_threadsafe(self.exchange.stop(), self._loop).result(30)
            self.exchange = None
        if self._thread.is_alive():
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(10)
        if not self._loop.is_closed() and not self._loop.is_running():
            self._loop.close()
