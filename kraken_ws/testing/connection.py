"""Per-connection state of the local exchange, and the pool of open connections.

A `Connection` owns one websocket's send queue (drained by one writer task, so frames go
out in the order they were queued), its heartbeat, its message-rate bucket, the private-channel
sequence numbers and the tokens it pinned. Everything is queued synchronously on the exchange's
loop, which is what keeps a connection's frames in causal order: ack, snapshot, updates.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Coroutine
from typing import Any, Protocol

from websockets.asyncio.server import ServerConnection
from websockets.exceptions import ConnectionClosed

from . import frames
from .faults import Endpoint, FaultState, check_endpoint
from .limits import MessageBucket

__all__ = ["Connection", "ConnectionPool", "ConnectionSettings"]

_log = logging.getLogger(__name__)


class ConnectionSettings(Protocol):
    """What a connection reads from its exchange, at the moment it needs it."""

    clock: Callable[[], float]
    faults: FaultState
    max_queue: int
    heartbeat_interval: float | None
    max_msg_rate: float | None


class Connection:
    """One websocket client of the exchange.

    Args:
        ws: The server side of the websocket.
        endpoint: Which endpoint it connected to.
        connection_id: The ``connection_id`` of its ``status`` frame.
        settings: The exchange (clock, faults, queue bound, heartbeat, message rate).
    """

    def __init__(
        self,
        ws: ServerConnection,
        endpoint: Endpoint,
        connection_id: int,
        settings: ConnectionSettings,
    ) -> None:
        self.ws = ws
        self.endpoint = endpoint
        self.connection_id = connection_id
        self._settings = settings
        self.queue: asyncio.Queue[str | bytes] = asyncio.Queue()
        self.tokens: list[str] = []
        """Tokens of its private subscriptions (pinned while it lives)."""
        self.heartbeat: asyncio.Task[None] | None = None
        self.tasks: set[asyncio.Task[None]] = set()
        self.exec_sequence = 0
        self.balance_sequence = 0
        self.exec_order_status = True
        """Whether its ``executions`` subscription wants ``pending_new``/``amended`` reports."""
        self.closed = False
        self.last_activity = settings.clock()
        """When the client last sent a message (exchange clock): the idle timeout's start."""
        self.msg_bucket = (
            MessageBucket(settings.max_msg_rate, settings.clock)
            if settings.max_msg_rate is not None
            else None
        )
        self.writer = asyncio.create_task(self._write())

    def send(self, text: str | bytes) -> bool:
        """Queue one frame (dropped while the endpoint is stalled); return whether it was queued.

        ``bytes`` go out as a binary frame (only `LocalExchange.inject_frame` sends any).
        """
        if self.closed or self.endpoint in self._settings.faults.stalled:
            return False
        if self.queue.qsize() >= self._settings.max_queue:
            # A client this far behind would be cut off by Kraken too; it keeps memory flat.
            self.closed = True
            self.spawn(self.ws.close(1008, "client too slow"))
            return False
        self.queue.put_nowait(text)
        return True

    def close(self, code: int, reason: str) -> None:
        """Close the connection from the server side (once)."""
        if self.closed:
            return
        self.closed = True
        self.spawn(self.ws.close(code, reason))

    def spawn(self, coro: Coroutine[Any, Any, None]) -> None:
        """Run ``coro`` as a task of this connection (cancelled when it closes)."""
        task = asyncio.ensure_future(coro)
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)

    async def _write(self) -> None:
        with contextlib.suppress(ConnectionClosed):
            while True:
                text = await self.queue.get()
                try:
                    await self.ws.send(text)
                except ConnectionClosed:
                    raise
                except Exception:
                    # One unsendable frame must not silence the connection for good (the
                    # writer task would be gone while the socket stays open).
                    _log.exception("LocalExchange could not send %r", text[:200])

    def start_heartbeat(self) -> None:
        """Start the 1 Hz heartbeat (after the first subscription)."""
        interval = self._settings.heartbeat_interval
        if self.heartbeat is None and interval is not None:
            self.heartbeat = asyncio.create_task(self._beat(interval))

    async def _beat(self, interval: float) -> None:
        while True:
            await asyncio.sleep(interval)
            self.send(frames.HEARTBEAT)

    async def close_tasks(self) -> None:
        """Stop the writer, heartbeat and pending delayed requests."""
        self.closed = True
        tasks = [self.writer, *self.tasks]
        if self.heartbeat is not None:
            tasks.append(self.heartbeat)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)


class ConnectionPool:
    """The open connections of every endpoint, and waiting for their number to change."""

    def __init__(self) -> None:
        self._by_endpoint: dict[Endpoint, set[Connection]] = {
            e: set() for e in check_endpoint(None)
        }
        # Created on first use: a Condition binds to the loop that first waits on it.
        self._changed: asyncio.Condition | None = None

    def on(self, endpoint: str | None) -> list[Connection]:
        """The connections of ``endpoint`` (``None``: all endpoints).

        Raises:
            ValueError: ``endpoint`` is unknown.
        """
        return [c for e in check_endpoint(endpoint) for c in self._by_endpoint[e]]

    async def add(self, conn: Connection) -> None:
        """Register a new connection and wake the waiters."""
        self._by_endpoint[conn.endpoint].add(conn)
        await self.notify()

    def discard(self, conn: Connection) -> None:
        """Forget a connection (call `notify` once it is fully closed)."""
        self._by_endpoint[conn.endpoint].discard(conn)

    async def notify(self) -> None:
        """Wake every `wait_for` waiter to re-check the count."""
        if self._changed is None:
            self._changed = asyncio.Condition()
        async with self._changed:
            self._changed.notify_all()

    async def wait_for(self, count: int, endpoint: str | None = None) -> None:
        """Wait until exactly ``count`` connections are open on ``endpoint`` (``None``: all)."""
        if self._changed is None:
            self._changed = asyncio.Condition()
        async with self._changed:
            await self._changed.wait_for(lambda: len(self.on(endpoint)) == count)
