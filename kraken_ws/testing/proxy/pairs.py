"""One proxied connection, and what every connection of one proxy shares.

A `Pair` is the two sockets of one connection and its two `Pump` s; the
`Switchboard` holds the fault settings, counters and live pairs they share. See the
package docstring for the model; the public API is `FaultProxy`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import socket
import struct
from collections import deque
from collections.abc import Callable, Coroutine
from typing import Any, Literal, cast

__all__ = [
    "MAX_HELD_BYTES",
    "WAYS",
    "Direction",
    "Faults",
    "Pair",
    "Pump",
    "Side",
    "Switchboard",
    "Way",
    "reset_transport",
    "ways",
]

_log = logging.getLogger(__name__)

Direction = Literal["upstream", "downstream", "both"]
"""``upstream`` is client to server, ``downstream`` server to client."""

Way = Literal["upstream", "downstream"]
WAYS: tuple[Way, Way] = ("upstream", "downstream")

#: Bytes one pump may hold (stalled, delayed or throttled) before it stops reading its source.
MAX_HELD_BYTES = 4 * 1024 * 1024

# Under a bandwidth cap a chunk goes out in slices of this many seconds of transmission, so a
# large chunk trickles out instead of arriving whole after a long pause.
_SLICE_SECONDS = 0.02


def ways(direction: Direction) -> tuple[Way, ...]:
    """The ways a ``direction`` argument designates.

    Raises:
        ValueError: Not ``"upstream"``, ``"downstream"`` or ``"both"``.
    """
    if direction == "both":
        return WAYS
    if direction == "upstream":
        return ("upstream",)
    if direction == "downstream":
        return ("downstream",)
    raise ValueError(f"direction must be 'upstream', 'downstream' or 'both', not {direction!r}")


def reset_transport(transport: asyncio.Transport) -> None:
    """Close ``transport`` with a TCP RST rather than a FIN."""
    sock = transport.get_extra_info("socket")
    if sock is not None:
        # Linger on with a zero timeout makes close() discard unsent data and send RST: the
        # peer sees ECONNRESET, which is what a middlebox dropping the flow looks like.
        with contextlib.suppress(OSError):
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    transport.abort()


class Faults:
    """The fault settings of one direction."""

    __slots__ = ("chunk_size", "jitter", "latency", "rate", "stalled")

    def __init__(self) -> None:
        self.stalled = False
        self.latency = 0.0
        self.jitter = 0.0
        self.rate: float | None = None
        self.chunk_size: int | None = None


class Side(asyncio.Protocol):
    """One socket of a pair: feeds the pump that reads it, paces the pump that writes to it."""

    def __init__(self, pair: Pair) -> None:
        self.pair = pair
        self.transport: asyncio.Transport | None = None
        self.closed: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self.writable = asyncio.Event()
        self.writable.set()
        # Set by the pair once both pumps exist (both sides are created before either pump).
        self.source_of: Pump | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        """The socket is open: register it with its pair."""
        self.transport = cast("asyncio.Transport", transport)
        self.pair.side_made(self)

    def data_received(self, data: bytes) -> None:
        """Bytes arrived: queue them on the pump that reads this socket."""
        if self.source_of is not None and not self.pair.closing:
            self.source_of.feed(data)

    def eof_received(self) -> bool:
        """The peer half-closed: queue the end of stream behind its data."""
        if self.source_of is not None and not self.pair.closing:
            self.source_of.feed(None)
        # Keep the transport open: the other direction may still have bytes to deliver here.
        return True

    def connection_lost(self, exc: Exception | None) -> None:
        """The socket is gone (closed by us, or reset): tell the pair."""
        # Wake a pump blocked on a full write buffer: it must see that the socket is gone.
        self.writable.set()
        if not self.closed.done():
            self.closed.set_result(None)
        self.pair.side_lost(self, exc)

    def pause_writing(self) -> None:
        """The socket's send buffer is full: the writing pump waits."""
        self.writable.clear()

    def resume_writing(self) -> None:
        """The send buffer drained: the writing pump may go on."""
        self.writable.set()

    def is_open(self) -> bool:
        """Whether the socket is connected and not closing."""
        return self.transport is not None and not self.transport.is_closing()


class Pump:
    """One direction of a pair: chunks read from ``source``, written to ``dest`` by one task."""

    def __init__(self, pair: Pair, way: Way, source: Side, dest: Side) -> None:
        self.pair = pair
        self.way = way
        self.faults = pair.board.faults[way]
        self.source = source
        self.dest = dest
        # (arrival time, jitter sample in [0, 1), chunk or None for end of stream)
        self.queue: deque[tuple[float, float, bytes | None]] = deque()
        self.offset = 0  # bytes of the head chunk already written
        self.held = 0
        self.source_paused = False
        self.wake = asyncio.Event()
        self.done = False

    def feed(self, data: bytes | None) -> None:
        """Queue a chunk read from the source (``None``: end of stream), stamped now."""
        board = self.pair.board
        # The jitter sample is drawn on arrival, so the sequence depends only on the seed and
        # the chunks, not on when the pump gets around to them.
        self.queue.append((board.loop.time(), board.rng.random(), data))
        if data is not None:
            self.held += len(data)
            if self.held > MAX_HELD_BYTES and not self.source_paused:
                self.source_paused = True
                if self.source.transport is not None:
                    self.source.transport.pause_reading()
        self.wake.set()

    def _consumed(self, count: int) -> None:
        self.held -= count
        # Hysteresis: resuming at half the bound avoids toggling on every chunk.
        if self.source_paused and self.held <= MAX_HELD_BYTES // 2:
            self.source_paused = False
            if self.source.is_open():
                assert self.source.transport is not None
                self.source.transport.resume_reading()

    async def _wait(self, timeout: float | None) -> None:
        if timeout is None:
            await self.wake.wait()
            return
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(timeout):
                await self.wake.wait()

    async def run(self) -> None:
        """Write queued chunks to the destination, as the faults allow, until the end."""
        try:
            await self._run()
        except asyncio.CancelledError:
            raise
        except Exception:
            _log.exception("FaultProxy %s pump failed; resetting the connection", self.way)
            self.pair.abort()
            return
        self.done = True
        self.pair.pump_finished()

    async def _run(self) -> None:
        loop = self.pair.board.loop
        faults = self.faults
        next_free = 0.0  # when the capped link finishes sending what it already took
        tx_start: float | None = None  # when the head slice began to "transmit"
        while True:
            # Cleared before the state is read, so a change made while deciding is not lost.
            self.wake.clear()
            if not self.dest.is_open():
                return
            if not self.queue or faults.stalled:
                tx_start = None
                await self._wait(None)
                continue
            arrival, sample, chunk = self.queue[0]
            now = loop.time()
            due = arrival + faults.latency + sample * faults.jitter
            if due > now:
                await self._wait(due - now)
                continue
            if chunk is None:
                self.queue.popleft()
                assert self.dest.transport is not None
                if self.dest.transport.can_write_eof():
                    try:
                        self.dest.transport.write_eof()
                    except OSError:
                        # The destination reset meanwhile: there is nobody to tell; the pair
                        # closes as for any reset.
                        self.pair.abort()
                        return
                return
            size = len(chunk) - self.offset
            if faults.chunk_size is not None:
                size = min(size, faults.chunk_size)
            rate = faults.rate
            if rate is not None:
                size = min(size, max(1, int(rate * _SLICE_SECONDS)))
                if tx_start is None:
                    tx_start = max(now, next_free)
                # A slice is delivered when it would have finished crossing the link, so N
                # bytes take N / rate seconds whatever the slicing.
                ready = tx_start + size / rate
                if ready > now:
                    await self._wait(ready - now)
                    continue
                next_free = ready
            tx_start = None
            piece = chunk[self.offset : self.offset + size]
            self.offset += size
            if self.offset == len(chunk):
                self.queue.popleft()
                self.offset = 0
            assert self.dest.transport is not None
            self.dest.transport.write(piece)
            self.pair.board.forwarded[self.way] += size
            self._consumed(size)
            if faults.chunk_size is not None:
                # Let a receiver on this loop read this piece before the next one joins it in
                # its socket buffer. It takes two turns: in the first the receiver's readiness
                # is only polled, and its callback runs after ours.
                await asyncio.sleep(0)
                await asyncio.sleep(0)
            await self.dest.writable.wait()


class Pair:
    """An accepted client socket and the target socket opened for it."""

    def __init__(self, board: Switchboard) -> None:
        self.board = board
        self.client = Side(self)
        self.server = Side(self)
        self.up = Pump(self, "upstream", self.client, self.server)
        self.down = Pump(self, "downstream", self.server, self.client)
        self.client.source_of = self.up
        self.server.source_of = self.down
        self.closing = False
        self.tasks: list[asyncio.Task[None]] = []

    def pumps(self) -> tuple[Pump, Pump]:
        """Both pumps: upstream, downstream."""
        return self.up, self.down

    def side_made(self, side: Side) -> None:
        """One of the pair's sockets opened (the client's first, then the target's)."""
        assert side.transport is not None
        self.board.sides.add(side)
        if self.closing:
            # The client went away (or a cut came) while the target connection was opening.
            reset_transport(side.transport)
            return
        if side is self.server:
            return
        if self.board.refusing or self.board.closing:
            self.closing = True
            reset_transport(side.transport)
            return
        self.board.add_pair(self)
        self.tasks.append(self.board.spawn(self._connect(), "connect"))

    async def _connect(self) -> None:
        board = self.board
        host, port = board.target()
        try:
            await board.loop.create_connection(lambda: self.server, host, port)
        except OSError as exc:
            _log.debug("FaultProxy: target %s:%s: %s", host, port, exc)
            # The client sees a reset, as if the path to the server were broken.
            self.abort()
            return
        if self.closing:
            return
        self.tasks.append(board.spawn(self.up.run(), "upstream"))
        self.tasks.append(board.spawn(self.down.run(), "downstream"))

    def side_lost(self, side: Side, exc: Exception | None) -> None:
        """One of the pair's sockets is gone."""
        self.board.sides.discard(side)
        if not self.closing:
            # Lost without our doing: a reset or a socket error. Pass it on as a reset.
            _log.debug("FaultProxy: connection lost: %r", exc)
            self.abort()

    def pump_finished(self) -> None:
        """A pump delivered its end of stream; once both have, close both sockets."""
        if self.up.done and self.down.done and not self.closing:
            self._teardown()
            for side in (self.client, self.server):
                if side.transport is not None:
                    side.transport.close()  # flushes what is buffered, then FIN

    def abort(self, *, reset: bool = True) -> None:
        """Take the pair down now (with a TCP RST on both sockets unless ``reset`` is false)."""
        if self.closing:
            return
        self._teardown()
        for side in (self.client, self.server):
            if side.transport is not None and not side.transport.is_closing():
                if reset:
                    reset_transport(side.transport)
                else:
                    side.transport.abort()
        current = asyncio.current_task()
        for task in self.tasks:
            if task is not current:
                task.cancel()

    def _teardown(self) -> None:
        self.closing = True
        self.board.remove_pair(self)


class Switchboard:
    """What the pairs of one proxy share: fault settings, counters, the live pairs and sockets.

    Args:
        target: The proxy's target address, read at each connect.
        seed: Seed of the latency jitter.
    """

    def __init__(self, target: Callable[[], tuple[str, int]], seed: int | None) -> None:
        self.target = target
        self.rng = random.Random(seed)
        self.faults: dict[Way, Faults] = {way: Faults() for way in WAYS}
        """The fault settings of each direction (read by every pump of that direction)."""
        self.forwarded: dict[str, int] = dict.fromkeys(WAYS, 0)
        """Bytes delivered so far, per direction."""
        self.refusing = False
        """New connections are reset as soon as they are accepted."""
        self.closing = False
        """The proxy is closing: new connections are reset."""
        self.loop: asyncio.AbstractEventLoop  # bound by FaultProxy.start()
        self.pairs: set[Pair] = set()
        """Connections currently forwarded."""
        self.sides: set[Side] = set()
        """Every open socket (accepted or opened to the target)."""
        self.tasks: set[asyncio.Task[None]] = set()
        # One event per waiter: a shared one would be bound to the first loop that awaited it.
        self.count_waiters: set[asyncio.Event] = set()

    def spawn(self, coro: Coroutine[Any, Any, None], what: str) -> asyncio.Task[None]:
        """Run ``coro`` as a task of the proxy (named, so tests can find leftovers)."""
        task = self.loop.create_task(coro, name=f"kraken-ws FaultProxy {what}")
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)
        return task

    def add_pair(self, pair: Pair) -> None:
        """A connection is now forwarded."""
        self.pairs.add(pair)
        self._notify_connections()

    def remove_pair(self, pair: Pair) -> None:
        """A connection is no longer forwarded."""
        if pair in self.pairs:
            self.pairs.discard(pair)
            self._notify_connections()

    def _notify_connections(self) -> None:
        for changed in self.count_waiters:
            changed.set()

    def changed(self, changed_ways: tuple[Way, ...]) -> None:
        """Wake the pumps of ``changed_ways`` to re-read their fault settings."""
        for pair in self.pairs:
            for pump in pair.pumps():
                if pump.way in changed_ways:
                    pump.wake.set()
