"""The real transport: a ``websockets`` client connection (with `_receive`, the only importer).

Every exception from ``websockets`` or the OS is translated into the
`TransportError` tree here, at the boundary, with the original kept
as ``__cause__`` (httpx's ``map_httpcore_exceptions`` pattern).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit

import websockets
import websockets.asyncio.client
import websockets.exceptions

from ..exceptions import (
    ConnectError,
    ConnectionClosed,
    ConnectionClosedError,
    ConnectionClosedOK,
    TransportError,
)
from ._receive import QUEUE_LOW, ReceivingConnection

__all__ = ["WebsocketsTransport", "connect"]

_LOCAL_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})
# Level3 depth-1000 snapshots and full book snapshots of many symbols exceed websockets'
# 1 MiB default.
_MAX_FRAME = 16 * 2**20


def _closed_from(exc: websockets.exceptions.ConnectionClosed) -> ConnectionClosed:
    frame = exc.rcvd or exc.sent
    code = frame.code if frame is not None else 1006
    reason = frame.reason if frame is not None else ""
    cls = (
        ConnectionClosedOK
        if isinstance(exc, websockets.exceptions.ConnectionClosedOK)
        else ConnectionClosedError
    )
    error = cls(f"connection closed: code={code} reason={reason!r}", code=code, reason=reason)
    error.__cause__ = exc
    return error


def _mapped(exc: BaseException) -> BaseException:
    # Our exception for a websockets/OS error, or the error itself if it is neither.
    if isinstance(exc, websockets.exceptions.ConnectionClosed):
        return _closed_from(exc)
    if isinstance(exc, OSError | websockets.exceptions.WebSocketException):
        error = ConnectionClosedError(
            f"connection failed: {type(exc).__name__}: {exc}", code=1006, reason=str(exc)
        )
        error.__cause__ = exc
        return error
    return exc


@contextlib.contextmanager
def _map_errors() -> Iterator[None]:
    try:
        yield
    except (OSError, websockets.exceptions.WebSocketException) as exc:
        raise _mapped(exc) from exc


class WebsocketsTransport:
    """A `Transport` over ``websockets.asyncio.client``.

    Args:
        connection: An open connection from `connect` (websockets' own, with our receive side).
    """

    def __init__(self, connection: ReceivingConnection) -> None:
        self._ws = connection
        self._messages = connection.messages

    def __repr__(self) -> str:
        return f"WebsocketsTransport(state={self._ws.state.name})"

    async def send(self, text: str) -> None:
        """Write one text frame.

        Raises:
            ConnectionClosed: The connection is closed.
        """
        with _map_errors():
            await self._ws.send(text)

    async def recv(self) -> str | bytes:
        """Read the next frame (``bytes`` for a binary frame, which Kraken never sends).

        Raises:
            ConnectionClosed: The connection closed.
        """
        message = self.recv_nowait()
        if message is not None:
            return message
        # try/except rather than _map_errors(): a generator context manager would cost more
        # than the rest of this method.
        try:
            return await self._ws.next_message()
        except (OSError, websockets.exceptions.WebSocketException) as exc:
            raise _mapped(exc) from exc

    def recv_nowait(self) -> str | bytes | None:
        """A message already received, or ``None`` (none yet, or closed: `recv` tells which).

        The client's reader calls this first for every frame: most frames of a busy feed are
        already here, and popping them needs no coroutine and no suspension.
        """
        messages = self._messages
        if messages:
            ws = self._ws
            if ws.reading_paused and len(messages) <= QUEUE_LOW:
                ws.resume()
            return messages.popleft()
        return None

    async def close(self, code: int = 1000, reason: str = "") -> None:
        """Close with a closing handshake (bounded by the connection's close timeout)."""
        with contextlib.suppress(TransportError), _map_errors():
            await self._ws.close(code, reason)

    async def abort(self) -> None:
        """Drop the TCP connection at once (used when the peer is declared dead)."""
        self._ws.transport.abort()
        with contextlib.suppress(TransportError, asyncio.TimeoutError), _map_errors():
            async with asyncio.timeout(1.0):
                await self._ws.wait_closed()


async def connect(
    url: str,
    *,
    open_timeout: float = 10.0,
    close_timeout: float = 5.0,
    max_size: int = _MAX_FRAME,
    **options: Any,
) -> WebsocketsTransport:
    """Open a WebSocket to ``url``.

    websockets' protocol-level keepalive is turned off: the client runs Kraken's application
    ``ping`` and a watchdog, which also catch a server that answers control frames but stopped
    sending data.

    Args:
        url: ``wss://...`` (or ``ws://`` for the local exchange).
        open_timeout: Seconds for TCP + TLS + handshake.
        close_timeout: Seconds to wait for the closing handshake.
        max_size: Largest accepted frame in bytes.
        **options: Passed to ``websockets.asyncio.client.connect``.

    Returns:
        The open transport.

    Raises:
        ConnectError: The connection could not be opened.
    """
    host = urlsplit(url).hostname or ""
    # Never route the local exchange through an environment proxy.
    options.setdefault("proxy", None if host in _LOCAL_HOSTS else True)
    options.setdefault("ping_interval", None)
    # No permessage-deflate offer (websockets offers it by default). Book updates are a few
    # hundred bytes: inflating each costs more time than the bytes saved, the receive side's
    # framer takes only uncompressed frames, and compressing a TLS stream that carries the
    # session token beside text an attacker can influence is the CRIME/BREACH pattern. Whether
    # Kraken accepts the offer is not documented; pass compression="deflate" to make it anyway.
    options.setdefault("compression", None)
    try:
        connection = await websockets.asyncio.client.connect(
            url,
            open_timeout=open_timeout,
            close_timeout=close_timeout,
            max_size=max_size,
            create_connection=ReceivingConnection,
            **options,
        )
    except (OSError, TimeoutError, websockets.exceptions.WebSocketException) as exc:
        raise ConnectError(f"cannot connect to {url}: {type(exc).__name__}: {exc}") from exc
    assert isinstance(connection, ReceivingConnection)
    return WebsocketsTransport(connection)
