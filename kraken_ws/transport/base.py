"""The transport seam: what the client needs from a WebSocket, and nothing more.

Anything with these methods can carry the protocol: the real websockets connection
(`kraken_ws.transport.websockets`) or the in-memory pair used in tests
(`kraken_ws.transport.memory`). Implementations raise only
`TransportError` subclasses.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Protocol, TypeAlias, runtime_checkable

__all__ = ["Connector", "PollingTransport", "Transport"]


@runtime_checkable
class Transport(Protocol):
    """One open WebSocket carrying JSON text frames."""

    async def send(self, text: str) -> None:
        """Write one text frame.

        Raises:
            ConnectionClosed: The connection is closed.
        """
        ...

    async def recv(self) -> str | bytes:
        """Read the next frame: ``str`` for a text frame, ``bytes`` for a binary one.

        Kraken sends text only; the client reports and skips binary frames rather than guess
        their encoding.

        Raises:
            ConnectionClosed: The connection closed (``.code``/``.reason`` tell how).
        """
        ...

    async def close(self, code: int = 1000, reason: str = "") -> None:
        """Close the connection (idempotent); returns when the socket is released."""
        ...

    async def abort(self) -> None:
        """Drop the connection at once without a closing handshake (dead peer)."""
        ...


class PollingTransport(Transport, Protocol):
    """A `Transport` that can also hand over a frame already received without waiting.

    Optional: the client's reader uses ``recv_nowait`` when a transport has it (both of ours do)
    and falls back to `Transport.recv` alone otherwise. On a busy feed most frames are already
    received when the reader asks, and a plain call costs less than a coroutine per frame.
    """

    def recv_nowait(self) -> str | bytes | None:
        """The next frame if one was already received, else ``None``; never raises.

        After ``None``, `Transport.recv` waits for the next frame, or raises if the connection
        closed.
        """
        ...


Connector: TypeAlias = Callable[[str], Awaitable[Transport]]
"""Opens a `Transport` to a URL.

Raises:
    ConnectError: The connection could not be opened.
"""
