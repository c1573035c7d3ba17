"""The websockets transport's own receive side, against a raw server writing hand-built frames.

The transport splits the byte stream into frames, reassembles, decodes and queues messages
itself (only part of the work is left to websockets' protocol), so these tests speak raw
RFC 6455 from a plain asyncio TCP server on 127.0.0.1: it answers the handshake, then writes
whatever bytes a test builds (fragments, control frames between them, invalid UTF-8, thousands
of frames in one write, frames cut anywhere by reads, a close frame, a bare TCP drop) and reads
the client's masked frames back (pongs, close frames). The client side uses only the public
transport methods, plus the receive queue and pause flag where flow control is the subject.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
import socket
import struct
import zlib
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest
from websockets.utils import accept_key

from kraken_ws.exceptions import ConnectionClosed, ConnectionClosedError, ConnectionClosedOK
from kraken_ws.transport.websockets import WebsocketsTransport, connect

# A bug here tends to hang a recv; fail in seconds rather than after the suite's 5 minutes.
pytestmark = pytest.mark.timeout(10)

CONT, TEXT, BINARY, CLOSE, PING, PONG = 0x0, 0x1, 0x2, 0x8, 0x9, 0xA
# The receive side's documented bounds, spelled out here rather than imported: they are the
# behaviour under test, and the private names behind them move with the implementation.
QUEUE_HIGH = 1024  # more complete messages waiting than this: reading the socket pauses
QUEUE_LOW = 256  # ... until the reader is down to this many
MAX_FRAGMENTS = 4096  # fragments of one message; one more fails the connection with 1009
# What one read of the socket can bring at most: asyncio's selector transport reads 256 KiB at a
# time, and everything one read completes is queued before the pause takes effect.
_READ_SIZE = 256 * 1024


def frame(
    payload: bytes | str, opcode: int = TEXT, *, fin: bool = True, rsv1: bool = False
) -> bytes:
    """One unmasked server frame (RSV1 marks a compressed message under permessage-deflate)."""
    data = payload.encode() if isinstance(payload, str) else payload
    first = (0x80 if fin else 0) | (0x40 if rsv1 else 0) | opcode
    n = len(data)
    if n < 126:
        head = struct.pack("!BB", first, n)
    elif n < 65536:
        head = struct.pack("!BBH", first, 126, n)
    else:
        head = struct.pack("!BBQ", first, 127, n)
    return head + data


def close_frame(code: int, reason: str = "") -> bytes:
    return frame(struct.pack("!H", code) + reason.encode(), CLOSE)


async def until(predicate: Callable[[], bool]) -> None:
    """Bounded polling, for client state that no event signals (the pause flag, the queue)."""
    async with asyncio.timeout(2):
        while not predicate():  # noqa: ASYNC110 - the connection's internal state: no event
            await asyncio.sleep(0)


async def write_in_pieces(writer: asyncio.StreamWriter, data: bytes, size: int) -> None:
    """Write ``data`` ``size`` bytes at a time, letting the client read each piece on its own.

    Server and client share one event loop and loopback delivers a write at once: two loop
    turns after a write, the client's read of that piece has run. (Were two pieces ever read
    together, the test would still be valid, only less sharp.)
    """
    for start in range(0, len(data), size):
        writer.write(data[start : start + size])
        await asyncio.sleep(0)
        await asyncio.sleep(0)


class Peer:
    """The server's end of one connection: raw writes, and the client's frames as they arrive."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader = reader
        self.writer = writer

    def write(self, *frames: bytes) -> None:
        """Write the frames in a single ``write()`` (so they can land in a single read)."""
        self.writer.write(b"".join(frames))

    async def next_frame(self) -> tuple[int, bytes]:
        """The client's next frame (opcode, unmasked payload); client frames must be masked."""
        async with asyncio.timeout(2):
            first, second = await self.reader.readexactly(2)
            n = second & 0x7F
            if n == 126:
                (n,) = struct.unpack("!H", await self.reader.readexactly(2))
            elif n == 127:
                (n,) = struct.unpack("!Q", await self.reader.readexactly(8))
            assert second & 0x80, "a client frame must be masked"
            mask = await self.reader.readexactly(4)
            data = await self.reader.readexactly(n)
        assert first & 0x80, "the client sends no fragments here"
        return first & 0x0F, bytes(b ^ mask[i % 4] for i, b in enumerate(data))

    async def next_close(self) -> tuple[int, str]:
        """The client's close frame: (code, reason)."""
        opcode, payload = await self.next_frame()
        assert opcode == CLOSE, (opcode, payload)
        return struct.unpack("!H", payload[:2])[0], payload[2:].decode()

    def drop(self) -> None:
        """Close TCP without a closing handshake (a FIN, the data written before still arrives)."""
        self.writer.close()

    def reset(self) -> None:
        """Reset TCP: SO_LINGER 0 makes close() send an RST instead of a FIN."""
        sock = self.writer.get_extra_info("socket")
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        self.writer.transport.abort()


class RawServer:
    """A websocket server on a raw asyncio socket: the handshake, then the test writes bytes."""

    def __init__(self) -> None:
        self.url = ""
        # Bytes written in the same write() as the 101 response.
        self.after_handshake = b""
        # Write the response and those bytes in pieces, cut at these offsets counted from the
        # response's end: the blank line that ends it, or a frame after it, straddles reads.
        self.handshake_cuts: tuple[int, ...] = ()
        # Response headers beyond the required ones (an accepted extension).
        self.extra_headers = b""
        self.requests: list[bytes] = []  # each client's handshake request
        self._peers: asyncio.Queue[Peer] = asyncio.Queue()
        self._server: asyncio.Server | None = None
        self.transports: list[WebsocketsTransport] = []
        self.peers: list[Peer] = []

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._handshake, "127.0.0.1", 0)
        port = self._server.sockets[0].getsockname()[1]
        self.url = f"ws://127.0.0.1:{port}"

    async def _handshake(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        request = await reader.readuntil(b"\r\n\r\n")
        self.requests.append(request)
        found = re.search(rb"(?im)^sec-websocket-key:[ \t]*(\S+)", request)
        accept = accept_key(found.group(1).decode() if found else "").encode()
        response = (
            b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            b"Sec-WebSocket-Accept: " + accept + b"\r\n" + self.extra_headers + b"\r\n"
        )
        data = response + self.after_handshake
        start = 0
        for cut in self.handshake_cuts:
            writer.write(data[start : len(response) + cut])
            start = len(response) + cut
            await asyncio.sleep(0)  # two loop turns: the client reads the piece on its own
            await asyncio.sleep(0)
        writer.write(data[start:])
        peer = Peer(reader, writer)
        self.peers.append(peer)
        await self._peers.put(peer)

    async def connect(self, **options: Any) -> tuple[WebsocketsTransport, Peer]:
        """A client transport and the server's end of its connection."""
        transport = await connect(self.url, open_timeout=2, **options)
        self.transports.append(transport)
        async with asyncio.timeout(2):
            peer = await self._peers.get()
        return transport, peer

    async def aclose(self) -> None:
        for transport in self.transports:
            await transport.abort()
        for peer in self.peers:
            peer.writer.transport.abort()
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()


@pytest.fixture
async def server() -> AsyncIterator[RawServer]:
    raw = RawServer()
    await raw.start()
    try:
        yield raw
    finally:
        await raw.aclose()


# --- messages --------------------------------------------------------------------------------


async def test_text_in_order_binary_as_bytes(server: RawServer) -> None:
    transport, peer = await server.connect()
    text = "BTC/€: 97 000.10 🚀"
    raw = text.encode()
    euro, rocket = raw.index("€".encode()), raw.index("🚀".encode())
    large = "x" * 70_000  # a 64-bit length header
    peer.write(
        frame("first"),
        frame(""),
        # One message in three fragments, each cut inside a multi-byte code point: the text is
        # decoded once, from the whole message, not per fragment.
        frame(raw[: euro + 1], fin=False),
        frame(raw[euro + 1 : rocket + 2], CONT, fin=False),
        frame(raw[rocket + 2 :], CONT),
        frame(b"\x00\xff\xfe", BINARY),
        frame(b"\x01\x02", BINARY, fin=False),
        frame(b"", CONT, fin=False),
        frame(b"\x03", CONT),
        frame(large),
        frame("last"),
    )
    received = [await transport.recv() for _ in range(7)]
    assert received == ["first", "", text, b"\x00\xff\xfe", b"\x01\x02\x03", large, "last"]
    assert type(received[3]) is bytes
    assert type(received[4]) is bytes


async def test_ping_between_fragments_is_answered_and_the_message_reassembled(
    server: RawServer,
) -> None:
    transport, peer = await server.connect()
    peer.write(
        frame("hel", fin=False),
        frame(b"ping-1", PING),
        frame("lo ", CONT, fin=False),
        frame(b"", PING),
        frame("world", CONT),
    )
    # The pongs go out as the pings are parsed, before (and whether or not) anyone reads.
    assert await peer.next_frame() == (PONG, b"ping-1")
    assert await peer.next_frame() == (PONG, b"")
    assert await transport.recv() == "hello world"


async def test_message_in_the_same_write_as_the_handshake_response(server: RawServer) -> None:
    # The 101 response and the first frames are parsed from one read, before connect returns.
    server.after_handshake = frame("early") + frame("bird")
    transport, _ = await server.connect()
    assert await transport.recv() == "early"
    assert await transport.recv() == "bird"


@pytest.mark.parametrize("cuts", [(-3, 3), (-2, 1), (-1, 4), (0, 1), (1, 5), (3, 9)])
async def test_handshake_response_and_first_frames_split_across_reads(
    server: RawServer, cuts: tuple[int, int]
) -> None:
    # The first cut falls inside the blank line that ends the response, right after it, or in
    # the first frame; the second inside a frame: the client must find where the response ends
    # and read the frames after it from their first byte, across reads.
    server.after_handshake = frame("early") + frame("bird")
    server.handshake_cuts = cuts
    transport, peer = await server.connect()
    # Frames written later too: a reader that lost track of frame boundaries can still get the
    # first ones right and go wrong only further on. "ā" is C4 81, and 81 is the first byte of
    # a text frame: read from a wrong offset, this payload looks like frame headers.
    later = "āx" * 150
    peer.write(frame(later), frame("after"))
    async with asyncio.timeout(2):
        received = [await transport.recv() for _ in range(4)]
    assert received == ["early", "bird", later, "after"]


# Every kind of frame the receive side tells apart, small enough to be cut one byte at a time:
# empty, 7-bit and 16-bit lengths, multi-byte text, binary, a ping inside a fragmented message.
_MIXED = (
    frame(""),
    frame("a" * 125),
    frame("é" * 63),  # 126 bytes: the first 16-bit length
    frame(b"\x00\x01", BINARY),
    frame("frag", fin=False),
    frame(b"p", PING),
    frame("mented €", CONT),
    frame("āx" * 100),  # C4 81 78: from a wrong offset, it reads as text frame headers
    frame("end"),
)
_MIXED_MESSAGES = ["", "a" * 125, "é" * 63, b"\x00\x01", "fragmented €", "āx" * 100, "end"]


@pytest.mark.parametrize("size", [1, 2, 3, 5, 13, 100])
async def test_frames_cut_anywhere_by_reads(server: RawServer, size: int) -> None:
    # Headers, extended lengths and payloads cut at every position by the ends of reads.
    transport, peer = await server.connect()
    await write_in_pieces(peer.writer, b"".join(_MIXED), size)
    async with asyncio.timeout(2):  # a framer that lost its place would wait forever
        assert [await transport.recv() for _ in _MIXED_MESSAGES] == _MIXED_MESSAGES
    assert await peer.next_frame() == (PONG, b"p")


async def test_large_frames_cut_by_reads(server: RawServer) -> None:
    transport, peer = await server.connect()
    sizes = [65_535, 65_536, 200_000]  # the largest 16-bit length, the first 64-bit ones
    texts = [chr(0x61 + i) * n for i, n in enumerate(sizes)]
    await write_in_pieces(peer.writer, b"".join(frame(t) for t in texts) + frame("end"), 4099)
    async with asyncio.timeout(2):
        assert [await transport.recv() for _ in range(4)] == [*texts, "end"]


def deflated(text: str) -> bytes:
    """A permessage-deflate payload (RFC 7692 7.2.1): raw deflate, sync-flushed, tail cut."""
    compressor = zlib.compressobj(wbits=-15)
    data = compressor.compress(text.encode()) + compressor.flush(zlib.Z_SYNC_FLUSH)
    assert data.endswith(b"\x00\x00\xff\xff")
    return data[:-4]


async def test_compressed_frames_when_the_server_accepts_permessage_deflate(
    server: RawServer,
) -> None:
    # Asked for (connect offers no compression by default), a server that accepts it may send
    # compressed frames (RSV1 set) and uncompressed ones, in any mix with fragments: the framer
    # steps aside and websockets' protocol inflates them.
    server.extra_headers = (
        b"Sec-WebSocket-Extensions: permessage-deflate; server_no_context_takeover\r\n"
    )
    transport, peer = await server.connect(compression="deflate")
    split = deflated("in two fragments")
    peer.write(
        frame(deflated("compressed €" * 20), rsv1=True),
        frame("plain"),
        frame(split[:10], fin=False, rsv1=True),
        frame(split[10:], CONT),
        frame("end"),
    )
    async with asyncio.timeout(2):
        received = [await transport.recv() for _ in range(4)]
    assert received == ["compressed €" * 20, "plain", "in two fragments", "end"]


async def test_no_compression_is_offered_by_default(server: RawServer) -> None:
    transport, peer = await server.connect()
    assert b"sec-websocket-extensions" not in server.requests[0].lower()
    peer.write(frame("plain"))
    assert await transport.recv() == "plain"


async def test_a_message_of_max_fragments_is_delivered(server: RawServer) -> None:
    transport, peer = await server.connect()
    middle = [frame(b"", CONT, fin=False)] * (MAX_FRAGMENTS - 2)
    peer.write(frame("a", fin=False), *middle, frame("z", CONT))
    assert await transport.recv() == "az"


# --- flow control ----------------------------------------------------------------------------


async def test_a_burst_pauses_reading_until_the_reader_catches_up(server: RawServer) -> None:
    transport, peer = await server.connect()
    # The queue and the pause flag are read directly: flow control is the behaviour under test
    # and the Transport interface deliberately shows neither.
    ws = transport._ws

    def paused() -> bool:
        return ws.reading_paused

    count = 5000
    payloads = [f"{i:05d}".ljust(1000, ".") for i in range(count)]
    per_read = _READ_SIZE // len(frame(payloads[0])) + 1
    bound = QUEUE_HIGH + per_read
    assert count > 2 * bound  # the burst is far more than reading may take in while paused

    peer.write(*(frame(p) for p in payloads))
    await until(paused)
    held = len(ws.messages)
    # (The server's write completing is no evidence either way: the two sockets' kernel
    # buffers on loopback can hold the whole burst.)
    assert QUEUE_HIGH < held <= bound
    # Paused, the connection takes in nothing more however long the reader lags.
    with contextlib.suppress(TimeoutError):
        async with asyncio.timeout(0.1):
            await asyncio.Event().wait()
    assert len(ws.messages) == held
    assert paused()
    # Only reading pauses: the client still sends.
    await transport.send("still writing")
    assert await peer.next_frame() == (TEXT, b"still writing")

    resumed = 0
    async with asyncio.timeout(5):  # a reader never resumed would wait here forever
        for expected in payloads:
            was_paused = paused()
            queued = len(ws.messages)
            assert await transport.recv() == expected
            # Reading resumes only at the low mark, and the queue never outgrows one read past
            # the high mark at any point of the burst.
            if was_paused and not paused():
                assert queued <= QUEUE_LOW
                resumed += 1
            assert len(ws.messages) <= bound
    assert resumed >= 1
    assert not paused()
    assert not ws.messages
    async with asyncio.timeout(2):
        await peer.writer.drain()  # the server's write went through in full
    peer.write(frame("after the burst"))
    assert await transport.recv() == "after the burst"


# --- failures --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "fragments",
    [
        pytest.param([b"\xff"], id="invalid-byte"),
        pytest.param([b"\xed\xa0\x80"], id="surrogate"),
        pytest.param([b"\xc0\xaf"], id="overlong"),
        pytest.param([b"ok \xe2\x82"], id="truncated-at-the-end"),
        pytest.param([b"ok \xe2", b"\x82"], id="fragments-truncated-at-the-end"),
    ],
)
async def test_invalid_utf8_fails_with_1007_after_the_messages_before_it(
    server: RawServer, fragments: list[bytes]
) -> None:
    transport, peer = await server.connect()
    if len(fragments) == 1:
        bad = frame(fragments[0])
    else:
        bad = frame(fragments[0], fin=False) + frame(fragments[1], CONT)
    # A message after the bad one, in the same write: never delivered (RFC 6455 7.1.7).
    peer.write(frame("good 1"), frame("good 2"), bad, frame("never"))
    code, _ = await peer.next_close()
    assert code == 1007
    peer.write(frame("nor this"))  # nor anything in a later read
    peer.drop()
    assert await transport.recv() == "good 1"
    assert await transport.recv() == "good 2"
    with pytest.raises(ConnectionClosedError) as info:
        await transport.recv()
    assert info.value.code == 1007
    # Every later recv says the same.
    with pytest.raises(ConnectionClosedError) as again:
        await transport.recv()
    assert again.value.code == 1007


@pytest.mark.parametrize(
    "too_big",
    [
        pytest.param(frame("y" * 101), id="one-frame"),
        pytest.param(frame("y" * 60, fin=False) + frame("y" * 41, CONT), id="fragments"),
    ],
)
async def test_a_message_over_max_size_fails_with_1009(server: RawServer, too_big: bytes) -> None:
    transport, peer = await server.connect(max_size=100)
    peer.write(frame("x" * 100), too_big, frame("never"))
    assert (await peer.next_close())[0] == 1009
    peer.drop()
    assert await transport.recv() == "x" * 100  # the limit itself is allowed
    with pytest.raises(ConnectionClosedError) as info:
        await transport.recv()
    assert info.value.code == 1009


@pytest.mark.parametrize(
    ("bad", "reported"),
    [
        pytest.param(bytes([0x81, 0x81, 1, 2, 3, 4, ord("x") ^ 1]), 1002, id="masked-by-server"),
        pytest.param(frame("x", rsv1=True), 1002, id="reserved-bit-without-extension"),
        pytest.param(frame(b"", 0x3), 1002, id="reserved-opcode"),
        pytest.param(frame(b"", PING, fin=False), 1002, id="fragmented-ping"),
        pytest.param(frame("b", CONT), 1002, id="continuation-of-nothing"),
        pytest.param(frame("a", fin=False) + frame("b"), 1002, id="text-inside-fragments"),
        # The server's close frame was received before the client failed: the error reports the
        # code received (the mapping prefers it to the one sent); its class says it was no
        # clean close.
        pytest.param(frame("a", fin=False) + close_frame(1000), 1000, id="close-inside-fragments"),
    ],
)
async def test_protocol_violations_fail_with_1002(
    server: RawServer, bad: bytes, reported: int
) -> None:
    transport, peer = await server.connect()
    peer.write(frame("good"), bad, frame("never"))
    assert (await peer.next_close())[0] == 1002
    peer.drop()
    assert await transport.recv() == "good"
    with pytest.raises(ConnectionClosedError) as info:
        await transport.recv()
    assert info.value.code == reported


@pytest.mark.parametrize(
    "cut_header",
    [
        pytest.param(bytes([0x81, 0x85]), id="masked"),
        pytest.param(bytes([0x83, 0x7E]), id="reserved-opcode-16-bit-length"),
    ],
)
async def test_a_header_refused_from_its_first_bytes_fails_at_once(
    server: RawServer, cut_header: bytes
) -> None:
    # The rest of the header never comes (the server stalls): the first two bytes already break
    # the protocol, and the client fails the connection on them, as websockets alone does.
    transport, peer = await server.connect()
    peer.write(frame("hi"), cut_header)
    assert (await peer.next_close())[0] == 1002
    peer.drop()
    assert await transport.recv() == "hi"
    with pytest.raises(ConnectionClosedError) as info:
        await transport.recv()
    assert info.value.code == 1002


async def test_too_many_fragments_fails_with_1009(server: RawServer) -> None:
    transport, peer = await server.connect()
    # One fragment more than the bound (the boundary itself passes, in the test above).
    # Zero-length continuations cost 2 bytes each: max_size (bytes) never sees them.
    conts = [frame(b"", CONT, fin=False)] * (MAX_FRAGMENTS - 1)
    peer.write(frame("ok"), frame("x", fin=False), *conts, frame("y", CONT), frame("never"))
    code, _ = await peer.next_close()
    assert code == 1009
    peer.drop()
    assert await transport.recv() == "ok"
    with pytest.raises(ConnectionClosedError) as info:
        await transport.recv()
    assert info.value.code == 1009


@pytest.mark.parametrize(
    ("closing", "code"),
    [
        # Failed by the receive side itself.
        pytest.param(frame(b"\xff"), 1007, id="invalid-utf8"),
        # Failed by websockets' protocol, which the framer hands the frame to.
        pytest.param(frame("x" * 200), 1009, id="over-max-size"),
        pytest.param(bytes([0x81, 0x81, 1, 2, 3, 4, ord("x") ^ 1]), 1002, id="masked-by-server"),
        pytest.param(frame(b"", 0x3), 1002, id="reserved-opcode"),
        # A close frame from the server, echoed by the protocol.
        pytest.param(close_frame(1000, "bye"), 1000, id="server-close-frame"),
    ],
)
async def test_a_server_that_never_closes_tcp_is_aborted_after_close_timeout(
    server: RawServer, closing: bytes, code: int
) -> None:
    # Whatever starts the closing handshake, a server that then keeps TCP open cannot hold the
    # reader: keepalive is off (the client's watchdog may be too), so nothing else would end it.
    transport, peer = await server.connect(close_timeout=0.5, max_size=100)
    loop = asyncio.get_running_loop()
    started = loop.time()
    peer.write(closing)
    assert (await peer.next_close())[0] == code
    # The server keeps TCP open and says nothing: the client gives up after close_timeout.
    async with asyncio.timeout(5):
        with pytest.raises(ConnectionClosed) as info:
            await transport.recv()
    elapsed = loop.time() - started
    assert info.value.code == code
    assert 0.4 <= elapsed < 2.0, elapsed
    # The client dropped the connection: the server reads its end.
    async with asyncio.timeout(2):
        with contextlib.suppress(ConnectionResetError):
            assert await peer.reader.read() == b""


# --- closing ---------------------------------------------------------------------------------


async def test_server_close_frame_after_messages(server: RawServer) -> None:
    transport, peer = await server.connect()
    # A frame after the close frame is not part of the conversation any more.
    peer.write(frame("one"), frame("two"), frame("three"), close_frame(1000, "bye"), frame("after"))
    # The client echoes the close frame, then waits for the server to close TCP.
    assert await peer.next_close() == (1000, "bye")
    peer.drop()
    assert [await transport.recv() for _ in range(3)] == ["one", "two", "three"]
    with pytest.raises(ConnectionClosedOK) as info:
        await transport.recv()
    assert (info.value.code, info.value.reason) == (1000, "bye")


@pytest.mark.parametrize("how", ["fin", "reset"])
async def test_tcp_drop_after_messages(server: RawServer, how: str) -> None:
    transport, peer = await server.connect()
    # The pong says the client has parsed everything before the ping: an RST must not race
    # data the client's kernel has not handed over yet (it may discard it).
    peer.write(frame("one"), frame("two"), frame("three"), frame(b"sync", PING))
    assert await peer.next_frame() == (PONG, b"sync")
    if how == "fin":
        peer.drop()
    else:
        peer.reset()
    assert await transport.recv() == "one"
    assert await transport.recv() == "two"
    assert await transport.recv() == "three"
    with pytest.raises(ConnectionClosedError) as info:
        await transport.recv()
    assert info.value.code == 1006


async def test_recv_nowait_takes_only_what_already_arrived(server: RawServer) -> None:
    transport, peer = await server.connect()
    assert transport.recv_nowait() is None
    peer.write(frame("one"), frame("two"), frame(b"\x00", BINARY), frame(b"sync", PING))
    # The pong says the client has parsed everything before the ping.
    assert await peer.next_frame() == (PONG, b"sync")
    assert transport.recv_nowait() == "one"
    assert transport.recv_nowait() == "two"
    assert transport.recv_nowait() == b"\x00"
    assert transport.recv_nowait() is None
    peer.write(close_frame(1001, "away"))
    assert await peer.next_close() == (1001, "away")
    peer.drop()
    # Closed: recv_nowait never raises; recv says why.
    assert transport.recv_nowait() is None
    with pytest.raises(ConnectionClosedOK) as info:
        await transport.recv()
    assert info.value.code == 1001
    assert transport.recv_nowait() is None


async def test_a_cancelled_recv_loses_nothing(server: RawServer) -> None:
    transport, peer = await server.connect()
    waiting = asyncio.create_task(transport.recv())
    await asyncio.sleep(0)  # one loop turn: the task runs up to its wait for a message
    assert not waiting.done()
    waiting.cancel()
    with pytest.raises(asyncio.CancelledError):
        await waiting
    # A recv abandoned by a timeout, the way callers bound their waits, is the same.
    with pytest.raises(TimeoutError):
        async with asyncio.timeout(0.01):
            await transport.recv()
    peer.write(frame("kept"))
    assert await transport.recv() == "kept"


async def test_cancelled_recv_woken_in_the_same_turn_loses_nothing(server: RawServer) -> None:
    transport, peer = await server.connect()
    waiting = asyncio.create_task(transport.recv())
    await asyncio.sleep(0)
    peer.write(frame("raced"), frame("next"))
    # Wait until the client has the messages (its waiter is woken), then cancel the recv before
    # it runs again: the message must stay queued, not vanish with the cancelled task.
    ws = transport._ws  # the queue is the only sign the frame arrived before the task resumed
    await until(lambda: bool(ws.messages))
    waiting.cancel()
    with pytest.raises(asyncio.CancelledError):
        await waiting
    assert await transport.recv() == "raced"
    assert await transport.recv() == "next"
