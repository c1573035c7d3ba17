"""Live terminal displays: redraw in place, measure rates, keep log chatter off the screen."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import deque
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from rich.console import Console, RenderableType

__all__: list[str] = []  # the commands' plumbing, nothing public


@contextlib.contextmanager
def _quiet_logs() -> Iterator[None]:
    # Warnings from the client (reconnects, resyncs) still show; asyncio's debug chatter does
    # not belong on a live display.
    logging.getLogger("asyncio").setLevel(logging.ERROR)
    yield


async def _display(
    console: Console,
    render: Callable[[], RenderableType],
    stop: asyncio.Event,
    worker: asyncio.Task[None],
    refresh: float = 0.2,
) -> None:
    """Refresh ``render()`` in place until ``stop`` is set or ``worker`` ends (its error raises)."""
    from rich.live import Live

    with Live(render(), console=console, auto_refresh=False, transient=False) as live:
        try:
            while not stop.is_set() and not worker.done():
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(refresh):
                        await stop.wait()
                live.update(render(), refresh=True)
        finally:
            if not worker.done():
                worker.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await worker
    if not console.is_terminal:
        console.line()  # Live leaves the last line open when it is not drawing on a terminal


class _Rate:
    """Events per second over the last few seconds."""

    def __init__(self, window: float = 2.0) -> None:
        self.window = window
        self.times: deque[float] = deque()
        self.started = time.monotonic()

    def tick(self) -> None:
        self.times.append(time.monotonic())

    def value(self) -> float:
        now = time.monotonic()
        while self.times and now - self.times[0] > self.window:
            self.times.popleft()
        span = min(self.window, max(now - self.started, 1e-3))
        return len(self.times) / span
