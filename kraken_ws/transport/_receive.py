"""The receive side of the websockets transport: `ReceivingConnection`.

Why it exists: a quiet book costs the client about 10 µs per update, and websockets' own
receive path was half of it. Its sans-I/O parser runs a generator per frame (a header read,
an enum lookup, a ``Frame`` object, the protocol's checks: about 2.3 µs), and ``recv`` queues
each frame in an ``Assembler`` and puts the message together on the way out (a queue, a
coroutine, a join and a decode: about 1.2 µs). Kraken sends every message as one small,
unmasked, unfragmented text frame, so this class does two things for those:

1. **A framer in ``data_received``.** It splits the byte stream into frames by their headers.
   A plain text frame (FIN set, no reserved bits, opcode text, unmasked, under 64 KiB and under
   the connection's size limit) is decoded right there. Every other frame (ping, pong, close,
   binary, fragments, anything malformed or oversized) goes to websockets' protocol, always
   whole or, for a frame cut by a read, as its bytes arrive. So the protocol only ever resumes
   at a frame boundary and its parser state is what it would have been had it seen every
   frame: plain text frames change none of it (they are not part of a fragmented message,
   which the framer checks). The framer steps aside for good (everything to the protocol) when
   the handshake did not end in an open connection, when an extension was negotiated
   (compressed frames set a reserved bit), or once the connection is closing.
2. **A queue of whole messages.** A message is queued as text when its last frame arrives,
   whichever path it took (`process_event` reassembles fragments), and the transport's
   ``recv_nowait`` pops it without a coroutine.

Everything else stays websockets': the opening handshake, proxies, TLS, sending, pings and
the closing handshake. websockets documents subclassing its connection through
``connect(create_connection=...)``, and ``process_event`` as the method subclasses override.
What the protocol no longer sees of plain frames is its debug log line per frame.
"""

from __future__ import annotations

import asyncio
from collections import deque
from typing import Any

import websockets.asyncio.client
import websockets.exceptions
from websockets.frames import CloseCode, Frame, Opcode
from websockets.protocol import State

__all__ = ["QUEUE_LOW", "ReceivingConnection"]

# Complete messages held before reading the socket pauses, and the level it resumes at. One read
# of the socket can bring thousands of small frames; they are decoded and held whatever their
# number, then reading pauses until the reader is down to the low mark: memory stays bounded by
# about QUEUE_HIGH messages plus one read. The client's own bounded queues are where the memory
# policy lives; this only absorbs bursts (websockets' default of 16 throttles a busy book feed).
QUEUE_HIGH = 1024
QUEUE_LOW = 256
# Fragments of one message (websockets' own bound): zero-length continuation frames cost a
# hostile peer 2 bytes each on the wire, and the size limit counts bytes, not frames.
_MAX_FRAGMENTS = 4096
# The framer decodes frames up to this size itself (a 2-byte extended length); larger ones are
# rare (snapshots) and go to the protocol.
_FAST_MAX = 0xFFFF
_FIN_TEXT = 0x81  # first header byte of a plain text frame: FIN, no reserved bits, opcode 1
_TEXT, _BINARY, _CONT = Opcode.TEXT, Opcode.BINARY, Opcode.CONT
_OPEN = State.OPEN


def _size_limit(protocol: Any) -> int:
    # The largest frame the framer may take: the protocol's limits, None meaning none, under
    # their names in websockets 16+ (max_message_size, max_fragment_size) or 15 (max_size). No
    # such name (an unknown version): 0, so that no frame takes the framer's path.
    names = ("max_message_size", "max_fragment_size", "max_size")
    present: list[int | None] = [
        getattr(protocol, name) for name in names if hasattr(protocol, name)
    ]
    if not present:
        return 0
    return min([_FAST_MAX] + [limit for limit in present if isinstance(limit, int)])


class ReceivingConnection(websockets.asyncio.client.ClientConnection):
    """websockets' client connection with the receive side described in the module docstring."""

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        super().connection_made(transport)
        self.messages: deque[str | bytes] = deque()
        """Whole messages received and not yet read, oldest first."""
        self.reading_paused = False
        self._waiter: asyncio.Future[None] | None = None
        # Fragments of the message being reassembled (process_event); while there are any,
        # every frame goes to the protocol, which checks the continuation.
        self._fragments: list[bytes | bytearray | memoryview] = []
        self._fragmented_text = False
        # The framer's state: on until it steps aside for good; a header cut by the end of a
        # read (at most 13 bytes) and whether the protocol has it already; bytes of the current
        # frame still owed to the protocol; the end of the handshake response, searched across
        # reads.
        self._framing = True
        self._held = b""
        self._held_given = False
        self._through = 0
        self._handshake_tail = b""
        self._fast_max = _size_limit(self.protocol)
        # Why the connection is being failed (invalid UTF-8, too many fragments): raised by
        # next_message once the messages before it are read. Nothing is queued after it.
        self._failure: Exception | None = None
        self._lost = False
        self._abort_timer: asyncio.TimerHandle | None = None

    # --- the framer ------------------------------------------------------------------------

    def data_received(self, data: bytes) -> None:
        if not self._framing:
            super().data_received(data)
            if self.protocol.state is not _OPEN:
                self._bound_close()
            return
        if self.response is None:
            data = self._handshake(data)
            if not data:
                return
        given = 0  # leading bytes of data the protocol already has (see the cut header below)
        if self._held:
            if self._held_given:
                given = len(self._held)
            data = self._held + data
            self._held = b""
        messages = self.messages
        queued = len(messages)
        fast_max = self._fast_max
        n = len(data)
        i = 0
        framing = True  # False once the framer steps aside within this read
        while i < n:
            if self._through:
                # The rest of a frame the protocol has begun: its bytes, as far as they go.
                j = min(n, i + self._through)
                self._through -= j - i
                framing = self._to_protocol(data[i:j])
                i = j
                if not framing:
                    break
                continue
            if n - i < 2:
                self._held = data[i:]
                self._held_given = False
                break
            first = data[i]
            second = data[i + 1]
            length = second & 0x7F
            head = 2 if length < 126 else 4 if length == 126 else 10
            if second & 0x80:
                head += 4  # a masking key (a server must not mask: the protocol refuses it)
            if n - i < head:
                # A header cut by the read: held until its length is known. One that cannot be
                # a plain text frame goes to the protocol at once all the same, which may refuse
                # it from its first two bytes as websockets alone would; the framer keeps a copy
                # to learn the length from.
                self._held = data[i:]
                self._held_given = first != _FIN_TEXT or head > 4
                if self._held_given:
                    framing = self._to_protocol(data[max(i, given) :])
                    i = n
                    if not framing:
                        self._held = b""
                break
            if length == 126:
                length = (data[i + 2] << 8) | data[i + 3]
            elif length == 127:
                length = int.from_bytes(data[i + 2 : i + 10], "big")
            end = i + head + length
            if (
                first == _FIN_TEXT
                and head <= 4
                and length <= fast_max
                and end <= n
                and not self._fragments
            ):
                try:
                    messages.append(data[i + head : end].decode())
                except UnicodeDecodeError as exc:
                    reason = f"{exc.reason} at position {exc.start}"
                    self._fail(CloseCode.INVALID_DATA, reason, exc)
                    framing = False
                    break
                i = end
                continue
            # Any other frame: to the protocol, whole, or what there is of it so far.
            j = min(n, end)
            self._through = end - j
            framing = self._to_protocol(data[max(i, given) : j])
            i = j
            if not framing:
                break
        if not framing and i < n:
            super().data_received(data[i:])  # the framer stepped aside: the rest as it is
        if len(messages) > queued:
            self._queued()

    def _handshake(self, data: bytes) -> bytes:
        # Until its response has been parsed, every byte goes to the protocol, and the frames
        # after it come here. A 101 response has no body: it ends at the first blank line,
        # which may straddle two reads.
        seen = self._handshake_tail + data
        found = seen.find(b"\r\n\r\n")
        if found < 0:
            self._handshake_tail = seen[-3:]
            super().data_received(data)
            return b""
        cut = found + 4 - len(self._handshake_tail)
        self._handshake_tail = b""
        super().data_received(data[:cut])
        rest = data[cut:]
        if self.response is None or self.protocol.state is not _OPEN or self.protocol.extensions:
            # No open connection (the protocol reports why), or compressed frames.
            self._framing = False
            if rest:
                super().data_received(rest)
            return b""
        return rest

    def _to_protocol(self, data: bytes) -> bool:
        # Whether the framer goes on: events come back through process_event, in order, and
        # once the connection is closing the protocol sees the rest (and discards it).
        super().data_received(data)
        if self.protocol.state is not _OPEN:
            self._framing = False
            self._bound_close()
        return self._framing

    # --- messages --------------------------------------------------------------------------

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
            # The protocol refuses a continuation that continues nothing, and counts a
            # fragmented message's bytes against the size limit.
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
        self.messages.append(message)
        self._queued()

    def _queued(self) -> None:
        # Messages were queued: wake the reader; pause reading above the high mark.
        self._wake()
        if len(self.messages) > QUEUE_HIGH and not self.reading_paused:
            self.reading_paused = True
            self.transport.pause_reading()

    def _fail(self, code: CloseCode, reason: str, cause: Exception | None) -> None:
        # What websockets' recv does on the same errors: send the close frame and wait for the
        # server to close TCP, at most close_timeout (then drop it).
        self._framing = False
        if self._failure is None:
            self._failure = cause or websockets.exceptions.ProtocolError(reason)
            self.protocol.fail(code, reason)
            self.send_data()
            self._bound_close()
        self._wake()

    def _bound_close(self) -> None:
        # The connection is closing (a close frame came or went, or the protocol failed it):
        # the server is to close TCP now, and the reader waits for that. A server that keeps it
        # open is dropped after close_timeout, as websockets does when it closes.
        if self._abort_timer is None and not self._lost:
            timeout = self.close_timeout if self.close_timeout is not None else 10.0
            self._abort_timer = self.loop.call_later(timeout, self.transport.abort)

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
        if self.reading_paused and len(messages) <= QUEUE_LOW:
            self.resume()
        return messages.popleft()

    def resume(self) -> None:
        """Resume reading the socket (the reader is down to the low mark)."""
        self.reading_paused = False
        self.transport.resume_reading()
