"""The real transport: a ``websockets`` client connection (the only module importing it).

Every exception from ``websockets`` or the OS is translated into the
`TransportError` tree here, at the boundary, with the original kept
as ``__cause__`` (httpx's ``map_httpcore_exceptions`` pattern).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import deque
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit

import websockets
import websockets.asyncio.client
import websockets.exceptions
from websockets.frames import CloseCode, Frame, Opcode

from ..exceptions import (
    ConnectError,
    ConnectionClosed,
    ConnectionClosedError,
    ConnectionClosedOK,
    TransportError,
)

__all__ = ["WebsocketsTransport", "connect"]

_LOCAL_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})
# Level3 depth-1000 snapshots and full book snapshots of many symbols exceed websockets'
# 1 MiB default.
_MAX_FRAME = 16 * 2**20
# Complete messages held before reading the socket pauses, and the level it resumes at. One read
# of the socket can bring thousands of small frames; they are decoded and held whatever their
# number, then reading pauses until the reader is down to the low mark: memory stays bounded by
# about _QUEUE_HIGH messages plus one read. The client's own bounded queues are where the memory
# policy lives; this only absorbs bursts (websockets' default of 16 throttles a busy book feed).
_QUEUE_HIGH = 1024
_QUEUE_LOW = 256
# Fragments of one message (websockets' own bound): zero-length continuation frames cost a
# hostile peer 2 bytes each on the wire, and max_size counts bytes, not frames.
_MAX_FRAGMENTS = 4096
_TEXT, _BINARY, _CONT = Opcode.TEXT, Opcode.BINARY, Opcode.CONT


class _Connection(websockets.asyncio.client.ClientConnection):
    """websockets' client connection with a receive side of our own.

    Why: websockets' ``recv`` queues each frame in its ``Assembler`` and puts the message
    together on the way out (a queue, a coroutine, a join and a decode per message): about 1.2 µs,
    a tenth of what a quiet book's update costs the client in all. Kraken sends each message as
    one text frame, so here a message is decoded as soon as its last frame is parsed (in
    ``data_received``) and queued as text, which `WebsocketsTransport.recv` pops without
    suspending.

    Everything else stays websockets': its sans-I/O protocol parses and checks every frame (size
    limit, opcodes, reserved bits, control frames, ping answers, the closing handshake), and the
    handshake, proxy, TLS, send and close paths are untouched. websockets documents subclassing
    the connection through ``connect(create_connection=...)`` and ``process_event`` as the method
    subclasses override.
    """

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        super().connection_made(transport)
        self.messages: deque[str | bytes] = deque()
        self.reading_paused = False
        self._fragments: list[bytes | bytearray | memoryview] = []
        self._fragmented_text = False
        self._waiter: asyncio.Future[None] | None = None
        # Why the connection is being failed (invalid UTF-8, too many fragments): raised by
        # next_message once the messages before it are read. Nothing is queued after it.
        self._failure: Exception | None = None
        self._lost = False
        self._abort_timer: asyncio.TimerHandle | None = None

    def process_event(self, event: Any) -> None:
        if self.response is None or type(event) is not Frame:
            super().process_event(event)  # the handshake's response
            return
        opcode = event.opcode
        if opcode is _TEXT or opcode is _BINARY:
            if not event.fin:
                self._fragments = [event.data]
                self._fragmented_text = opcode is _TEXT
                return
            data = event.data
            text = opcode is _TEXT
        elif opcode is _CONT:
            # The sans-I/O protocol refuses a continuation that continues nothing, and counts a
            # fragmented message's bytes against max_size.
            fragments = self._fragments
            if len(fragments) >= _MAX_FRAGMENTS:
                self._fail(CloseCode.MESSAGE_TOO_BIG, "too many fragments", None)
                return
            fragments.append(event.data)
            if not event.fin:
                return
            data = b"".join(fragments)
            self._fragments = []
            text = self._fragmented_text
        else:
            super().process_event(event)  # ping, pong, close: websockets' own handling
            return
        if self._failure is not None:
            return  # failing: "MUST NOT continue to attempt to process data" (RFC 6455 7.1.7)
        if type(data) is not bytes:
            data = bytes(data)  # the parser gives bytes; an extension may give another buffer
        if text:
            try:
                message: str | bytes = data.decode()
            except UnicodeDecodeError as exc:
                self._fail(CloseCode.INVALID_DATA, f"{exc.reason} at position {exc.start}", exc)
                return
        else:
            message = data
        messages = self.messages
        messages.append(message)
        waiter = self._waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(None)
        if len(messages) > _QUEUE_HIGH and not self.reading_paused:
            self.reading_paused = True
            self.transport.pause_reading()

    def _fail(self, code: CloseCode, reason: str, cause: Exception | None) -> None:
        # What websockets' recv does on the same errors: send the close frame and wait for the
        # server to close TCP, at most close_timeout (then drop it).
        if self._failure is None:
            self._failure = cause or websockets.exceptions.ProtocolError(reason)
            self.protocol.fail(code, reason)
            self.send_data()
            timeout = self.close_timeout if self.close_timeout is not None else 10.0
            self._abort_timer = self.loop.call_later(timeout, self.transport.abort)
        self._wake()

    def connection_lost(self, exc: Exception | None) -> None:
        super().connection_lost(exc)
        self._lost = True
        if self._abort_timer is not None:
            self._abort_timer.cancel()
        self._wake()

    def _wake(self) -> None:
        waiter = self._waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    async def next_message(self) -> str | bytes:
        """The next message, waiting for it; the connection's close error after the last one.

        Raises:
            websockets.exceptions.ConnectionClosed: The connection closed (or was failed) and
                every message before that was read.
        """
        messages = self.messages
        while not messages:
            if self._lost:
                raise self.protocol.close_exc from self._failure
            assert self._waiter is None, "one reader at a time"
            waiter = self._waiter = self.loop.create_future()
            try:
                await waiter
            finally:
                self._waiter = None
        if self.reading_paused and len(messages) <= _QUEUE_LOW:
            self.resume()
        return messages.popleft()

    def resume(self) -> None:
        """Resume reading the socket (the reader is down to the low mark)."""
        self.reading_paused = False
        self.transport.resume_reading()


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
        connection: An open ``ClientConnection``.
    """

    def __init__(self, connection: _Connection) -> None:
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
        # This runs for every frame: a message already received is popped right here, with no
        # coroutine below this one and no suspension. try/except rather than _map_errors(): a
        # generator context manager would cost more than the rest of this method.
        messages = self._messages
        if messages:
            ws = self._ws
            if ws.reading_paused and len(messages) <= _QUEUE_LOW:
                ws.resume()
            return messages.popleft()
        try:
            return await self._ws.next_message()
        except (OSError, websockets.exceptions.WebSocketException) as exc:
            raise _mapped(exc) from exc

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
    try:
        connection = await websockets.asyncio.client.connect(
            url,
            open_timeout=open_timeout,
            close_timeout=close_timeout,
            max_size=max_size,
            create_connection=_Connection,
            **options,
        )
    except (OSError, TimeoutError, websockets.exceptions.WebSocketException) as exc:
        raise ConnectError(f"cannot connect to {url}: {type(exc).__name__}: {exc}") from exc
    assert isinstance(connection, _Connection)
    return WebsocketsTransport(connection)
