"""The gateway's two ways out: one ordered outbox for market data, one acked queue for fills.

`Outbox` is what keeps the stream in the client's order: every message (frames, snapshots,
lifecycle events, markers) is appended synchronously where it is decided, and one task
publishes them in that order with core NATS publishes (the stream captures the subjects; no
round trip per message). A message the connection cannot take is counted, and the owner
schedules fresh snapshots: readers see the hole in ``Kraken-Seq`` and resync.

`PrivateQueue` publishes account data with a JetStream acknowledgement per message and
retries until it is stored: a fill must not be lost, and the ``Nats-Msg-Id`` header makes a
retry after a lost acknowledgement a duplicate the stream drops.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

from . import _nats

__all__ = ["Outbox", "Outgoing", "PrivateQueue"]

_log = logging.getLogger("kraken_ws.gateway")


@dataclass(slots=True)
class Outgoing:
    """One message to publish.

    Attributes:
        subject: Where.
        payload: The body (a frame's wire text, a snapshot frame, an event's JSON, or empty).
        headers: NATS headers.
        received_ns: When the gateway read the frame it carries (0 if none): for the lag.
    """

    subject: str
    payload: bytes
    headers: dict[str, str]
    received_ns: int = 0


class Outbox:
    """Market data and lifecycle, published in the order appended (see the module docstring).

    Args:
        on_error: Called after a message could not be published.
    """

    def __init__(self, on_error: Callable[[], None]) -> None:
        self.items: deque[Outgoing] = deque()
        self.wake = asyncio.Event()
        self.on_error = on_error
        self.published = 0
        self.errors = 0
        self.lags_ms: list[float] = []

    def append(self, item: Outgoing) -> None:
        """Queue a message behind every one queued before."""
        self.items.append(item)
        self.wake.set()

    async def run(self, nc: _nats.Client) -> None:
        """Publish forever (cancel to stop)."""
        items = self.items
        while True:
            await self.wake.wait()
            self.wake.clear()
            while items:
                item = items[0]
                try:
                    await nc.publish(item.subject, item.payload, headers=item.headers)
                except asyncio.CancelledError:
                    raise
                except Exception as exc:
                    # Disconnected with a full reconnect buffer: the message is lost.
                    self.errors += 1
                    _log.warning("publish to %s failed: %s", item.subject, exc)
                    self.on_error()
                items.popleft()
                self.published += 1
                if item.received_ns:
                    self.lags_ms.append((time.time_ns() - item.received_ns) / 1e6)

    async def drain(self, nc: _nats.Client, timeout: float) -> None:
        """Publish what is left (after `run` was cancelled) and flush, within ``timeout``."""
        with contextlib.suppress(Exception):
            async with asyncio.timeout(timeout):
                while self.items:
                    item = self.items.popleft()
                    await nc.publish(item.subject, item.payload, headers=item.headers)
                await nc.flush()


class PrivateQueue:
    """Account data, each message stored (acknowledged) before the next.

    Args:
        stream: The stream that must store them.
    """

    def __init__(self, stream: str) -> None:
        self.stream = stream
        self.items: deque[Outgoing] = deque()
        self.wake = asyncio.Event()
        self.published = 0
        self.errors = 0

    def append(self, item: Outgoing) -> None:
        """Queue a message."""
        self.items.append(item)
        self.wake.set()

    async def run(self, js: _nats.JetStreamContext) -> None:
        """Publish forever, retrying each message until stored (cancel to stop)."""
        items = self.items
        while True:
            await self.wake.wait()
            self.wake.clear()
            while items:
                item = items[0]
                try:
                    await js.publish(
                        item.subject, item.payload, headers=item.headers, stream=self.stream
                    )
                except asyncio.CancelledError:
                    raise
                except Exception as exc:
                    self.errors += 1
                    _log.warning("private publish to %s failed (%s); retrying", item.subject, exc)
                    await asyncio.sleep(0.2)
                    continue
                items.popleft()
                self.published += 1

    async def drain(self, js: _nats.JetStreamContext, timeout: float) -> None:
        """Store what is left, within ``timeout``."""
        with contextlib.suppress(Exception):
            async with asyncio.timeout(timeout):
                while self.items:
                    item = self.items[0]
                    await js.publish(
                        item.subject, item.payload, headers=item.headers, stream=self.stream
                    )
                    self.items.popleft()
