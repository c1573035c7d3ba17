"""An in-memory duplex WebSocket pair for tests (h11's ``ConnectionPair`` idea).

`memory_pair` returns two connected ends; what one sends the other receives. Closing one
end makes both ends' ``recv`` raise `ConnectionClosed` with the
code given, and `MemoryTransport.abort` simulates an abrupt drop (code 1006).
`MemoryServer` is a `Connector` that hands the server end
of every new pair to a handler coroutine.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

from ..exceptions import ConnectError, ConnectionClosed, ConnectionClosedError, ConnectionClosedOK

__all__ = ["MemoryServer", "MemoryTransport", "memory_pair"]

_CLOSE = object()


class MemoryTransport:
    """One end of an in-memory WebSocket."""

    def __init__(self, name: str = "memory") -> None:
        self.name = name
        self._inbox: asyncio.Queue[str | object] = asyncio.Queue()
        self.peer: MemoryTransport | None = None
        self.close_code: int | None = None
        self.close_reason = ""
        self.sent: list[str] = []
        """Every frame this end sent (test inspection)."""

    def __repr__(self) -> str:
        return f"MemoryTransport({self.name!r}, closed={self.closed})"

    @property
    def closed(self) -> bool:
        """Whether the connection is closed."""
        return self.close_code is not None

    def _error(self) -> ConnectionClosed:
        code = self.close_code if self.close_code is not None else 1006
        cls = ConnectionClosedOK if code in (1000, 1001) else ConnectionClosedError
        return cls(f"connection closed: code={code}", code=code, reason=self.close_reason)

    async def send(self, text: str) -> None:
        """Deliver a frame to the peer.

        Raises:
            ConnectionClosed: This end is closed.
        """
        if self.closed or self.peer is None:
            raise self._error()
        self.sent.append(text)
        self.peer._inbox.put_nowait(text)

    async def recv(self) -> str:
        """Next frame from the peer.

        Raises:
            ConnectionClosed: The connection closed.
        """
        if self.closed and self._inbox.empty():
            raise self._error()
        item = await self._inbox.get()
        if item is _CLOSE:
            # Leave the marker for any other reader.
            self._inbox.put_nowait(_CLOSE)
            raise self._error()
        assert isinstance(item, str)
        return item

    def recv_nowait(self) -> str | None:
        """The next frame if the peer already sent one, else ``None`` (`recv` tells the rest)."""
        try:
            item = self._inbox.get_nowait()
        except asyncio.QueueEmpty:
            return None
        if item is _CLOSE:
            self._inbox.put_nowait(_CLOSE)  # recv raises on it
            return None
        assert isinstance(item, str)
        return item

    def _mark_closed(self, code: int, reason: str) -> None:
        if self.closed:
            return
        self.close_code = code
        self.close_reason = reason
        self._inbox.put_nowait(_CLOSE)

    async def close(self, code: int = 1000, reason: str = "") -> None:
        """Close both ends with ``code``."""
        self._mark_closed(code, reason)
        if self.peer is not None:
            self.peer._mark_closed(code, reason)

    async def abort(self) -> None:
        """Drop both ends abruptly (code 1006)."""
        await self.close(1006, "")


def memory_pair() -> tuple[MemoryTransport, MemoryTransport]:
    """Two connected ends: ``(client, server)``."""
    client, server = MemoryTransport("client"), MemoryTransport("server")
    client.peer, server.peer = server, client
    return client, server


class MemoryServer:
    """A connector that runs ``handler(server_end, url)`` for each connection.

    Args:
        handler: Coroutine function serving one connection.
    """

    def __init__(self, handler: Callable[[MemoryTransport, str], Awaitable[None]]) -> None:
        self._handler = handler
        self.tasks: set[asyncio.Task[None]] = set()
        self.connections: list[MemoryTransport] = []
        """Server ends, in connection order."""
        self.refuse = 0
        """Refuse this many upcoming connection attempts (ConnectError)."""

    async def __call__(self, url: str) -> MemoryTransport:
        """Open a connection (the `Connector` signature)."""
        if self.refuse > 0:
            self.refuse -= 1
            raise ConnectError(f"cannot connect to {url}: refused")
        client, server = memory_pair()
        self.connections.append(server)
        task = asyncio.get_running_loop().create_task(self._run(server, url))
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)
        return client

    async def _run(self, server: MemoryTransport, url: str) -> None:
        try:
            await self._handler(server, url)
        except ConnectionClosed:
            pass
        finally:
            await server.close(1000)

    async def aclose(self) -> None:
        """Close every connection and wait for the handlers."""
        for conn in self.connections:
            await conn.close(1001, "server shutdown")
        for task in list(self.tasks):
            task.cancel()
        await asyncio.gather(*self.tasks, return_exceptions=True)
