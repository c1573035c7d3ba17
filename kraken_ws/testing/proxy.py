"""A byte-level network fault layer: a TCP proxy between any client and any server.

:class:`FaultProxy` listens on 127.0.0.1 and forwards every accepted connection to one target
address. It knows nothing of WebSocket or Kraken: it moves bytes, and its faults are the ones a
bad network produces (resets, silence, latency, a thin pipe, fragmented segments, refused
connects). :class:`~kraken_ws.testing.LocalExchange`'s own faults work at the message level;
this works underneath any client, including ones that are not ours.

The model:

- A *connection pair* is one accepted client socket plus the socket the proxy opened to the
  target for it. Each pair has two *pumps*, one per direction: ``upstream`` (client to server)
  and ``downstream`` (server to client). A pump is a queue of chunks (each read from the source
  socket, stamped with its arrival time) and one task that writes them to the other socket.
- Fault settings live in one state object per direction, shared by every pump of that
  direction, and are read by the pump each time it decides what to do next. A change therefore
  applies at once to existing and new connections alike; a pump waiting on an old setting is
  woken to re-read it.
- Reading is never delayed by a fault, only writing: a chunk's latency counts from when it
  arrived, and a stalled direction keeps reading. What a pump holds is bounded: above
  :data:`MAX_HELD_BYTES` it stops reading its source, so TCP flow control pushes back on the
  sender as a real congested path would.
- One writer per direction delivers chunks strictly in arrival order, whatever the jitter.
- End of stream travels in order behind the data (a half-close is propagated); once both
  directions have ended, both sockets are closed. A socket that fails (a reset from its peer,
  for instance) takes the pair down at once: the other socket is reset too, and bytes still
  held are dropped, as a reset drops them on a real network.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import socket
import struct
from collections import deque
from collections.abc import Coroutine
from types import TracebackType
from typing import Any, Literal, Self, cast
from urllib.parse import urlsplit, urlunsplit

__all__ = ["MAX_HELD_BYTES", "Direction", "FaultProxy"]

_log = logging.getLogger(__name__)

Direction = Literal["upstream", "downstream", "both"]
"""``upstream`` is client to server, ``downstream`` server to client."""

_Way = Literal["upstream", "downstream"]
_WAYS: tuple[_Way, _Way] = ("upstream", "downstream")

#: Bytes one pump may hold (stalled, delayed or throttled) before it stops reading its source.
MAX_HELD_BYTES = 4 * 1024 * 1024

# Under a bandwidth cap a chunk goes out in slices of this many seconds of transmission, so a
# large chunk trickles out instead of arriving whole after a long pause.
_SLICE_SECONDS = 0.02

_DEFAULT_PORTS = {"ws": 80, "http": 80, "wss": 443, "https": 443}


def _ways(direction: Direction) -> tuple[_Way, ...]:
    if direction == "both":
        return _WAYS
    if direction == "upstream":
        return ("upstream",)
    if direction == "downstream":
        return ("downstream",)
    raise ValueError(f"direction must be 'upstream', 'downstream' or 'both', not {direction!r}")


def _reset(transport: asyncio.Transport) -> None:
    """Close ``transport`` with a TCP RST rather than a FIN."""
    sock = transport.get_extra_info("socket")
    if sock is not None:
        # Linger on with a zero timeout makes close() discard unsent data and send RST: the
        # peer sees ECONNRESET, which is what a middlebox dropping the flow looks like.
        with contextlib.suppress(OSError):
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    transport.abort()


class _Faults:
    """The fault settings of one direction."""

    __slots__ = ("chunk_size", "jitter", "latency", "rate", "stalled")

    def __init__(self) -> None:
        self.stalled = False
        self.latency = 0.0
        self.jitter = 0.0
        self.rate: float | None = None
        self.chunk_size: int | None = None


class _Side(asyncio.Protocol):
    """One socket of a pair: feeds the pump that reads it, paces the pump that writes to it."""

    def __init__(self, pair: _Pair) -> None:
        self.pair = pair
        self.transport: asyncio.Transport | None = None
        self.closed: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self.writable = asyncio.Event()
        self.writable.set()
        # Set by the pair once both pumps exist (both sides are created before either pump).
        self.source_of: _Pump | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast("asyncio.Transport", transport)
        self.pair.side_made(self)

    def data_received(self, data: bytes) -> None:
        if self.source_of is not None and not self.pair.closing:
            self.source_of.feed(data)

    def eof_received(self) -> bool:
        if self.source_of is not None and not self.pair.closing:
            self.source_of.feed(None)
        # Keep the transport open: the other direction may still have bytes to deliver here.
        return True

    def connection_lost(self, exc: Exception | None) -> None:
        # Wake a pump blocked on a full write buffer: it must see that the socket is gone.
        self.writable.set()
        if not self.closed.done():
            self.closed.set_result(None)
        self.pair.side_lost(self, exc)

    def pause_writing(self) -> None:
        self.writable.clear()

    def resume_writing(self) -> None:
        self.writable.set()

    def is_open(self) -> bool:
        return self.transport is not None and not self.transport.is_closing()


class _Pump:
    """One direction of a pair: chunks read from ``source``, written to ``dest`` by one task."""

    def __init__(self, pair: _Pair, way: _Way, source: _Side, dest: _Side) -> None:
        self.pair = pair
        self.way = way
        self.faults = pair.proxy._faults[way]
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
        proxy = self.pair.proxy
        # The jitter sample is drawn on arrival, so the sequence depends only on the seed and
        # the chunks, not on when the pump gets around to them.
        self.queue.append((proxy._loop.time(), proxy._rng.random(), data))
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
        loop = self.pair.proxy._loop
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
            self.pair.proxy._forwarded[self.way] += size
            self._consumed(size)
            if faults.chunk_size is not None:
                # Let a receiver on this loop read this piece before the next one joins it in
                # its socket buffer. It takes two turns: in the first the receiver's readiness
                # is only polled, and its callback runs after ours.
                await asyncio.sleep(0)
                await asyncio.sleep(0)
            await self.dest.writable.wait()


class _Pair:
    """An accepted client socket and the target socket opened for it."""

    def __init__(self, proxy: FaultProxy) -> None:
        self.proxy = proxy
        self.client = _Side(self)
        self.server = _Side(self)
        self.up = _Pump(self, "upstream", self.client, self.server)
        self.down = _Pump(self, "downstream", self.server, self.client)
        self.client.source_of = self.up
        self.server.source_of = self.down
        self.closing = False
        self.tasks: list[asyncio.Task[None]] = []

    def pumps(self) -> tuple[_Pump, _Pump]:
        return self.up, self.down

    def side_made(self, side: _Side) -> None:
        assert side.transport is not None
        self.proxy._sides.add(side)
        if self.closing:
            # The client went away (or a cut came) while the target connection was opening.
            _reset(side.transport)
            return
        if side is self.server:
            return
        if self.proxy._refusing or self.proxy._closing:
            self.closing = True
            _reset(side.transport)
            return
        self.proxy._add_pair(self)
        self.tasks.append(self.proxy._spawn(self._connect(), "connect"))

    async def _connect(self) -> None:
        proxy = self.proxy
        try:
            await proxy._loop.create_connection(
                lambda: self.server, proxy.target_host, proxy.target_port
            )
        except OSError as exc:
            _log.debug("FaultProxy: target %s:%s: %s", proxy.target_host, proxy.target_port, exc)
            # The client sees a reset, as if the path to the server were broken.
            self.abort()
            return
        if self.closing:
            return
        self.tasks.append(proxy._spawn(self.up.run(), "upstream"))
        self.tasks.append(proxy._spawn(self.down.run(), "downstream"))

    def side_lost(self, side: _Side, exc: Exception | None) -> None:
        self.proxy._sides.discard(side)
        if not self.closing:
            # Lost without our doing: a reset or a socket error. Pass it on as a reset.
            _log.debug("FaultProxy: connection lost: %r", exc)
            self.abort()

    def pump_finished(self) -> None:
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
                    _reset(side.transport)
                else:
                    side.transport.abort()
        current = asyncio.current_task()
        for task in self.tasks:
            if task is not current:
                task.cancel()

    def _teardown(self) -> None:
        self.closing = True
        self.proxy._remove_pair(self)


class FaultProxy:
    """An asyncio TCP proxy that injects network faults between a client and a server.

    Every setting takes effect at once on existing and new connections. Use it as an async
    context manager, and point the client at :meth:`url`::

        async with LocalExchange() as ex, FaultProxy.for_url(ex.ws_url) as proxy:
            client = KrakenWSClient(ws_url=proxy.url(ex.ws_url), ...)
            proxy.stall("downstream")   # requests still arrive; nothing comes back

    Args:
        target_host: The server's host.
        target_port: The server's port.
        host: Interface to listen on (an address: a name resolving to several addresses would
            bind several ports).
        port: Port to listen on; 0 picks a free one (read :attr:`port` after :meth:`start`).
        seed: Seed of the random generator used for latency jitter, for reproducible tests.

    Attributes:
        target_host: The server's host.
        target_port: The server's port.
        host: The interface the proxy listens on.
        port: The port the proxy listens on (the bound one once started).
    """

    def __init__(
        self,
        target_host: str,
        target_port: int,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        seed: int | None = None,
    ) -> None:
        self.target_host = target_host
        self.target_port = target_port
        self.host = host
        self.port = port
        self._rng = random.Random(seed)
        self._faults: dict[_Way, _Faults] = {way: _Faults() for way in _WAYS}
        self._forwarded: dict[str, int] = dict.fromkeys(_WAYS, 0)
        self._refusing = False
        self._closing = False
        self._loop: asyncio.AbstractEventLoop  # bound by start()
        self._server: asyncio.Server | None = None
        self._pairs: set[_Pair] = set()
        self._sides: set[_Side] = set()
        self._tasks: set[asyncio.Task[None]] = set()
        # One event per waiter: a shared one would be bound to the first loop that awaited it.
        self._count_waiters: set[asyncio.Event] = set()

    @classmethod
    def for_url(
        cls, url: str, *, host: str = "127.0.0.1", port: int = 0, seed: int | None = None
    ) -> Self:
        """A proxy in front of the server of ``url`` (``ws://host:port/...`` or ``http://``).

        Args:
            url: A URL of the target server; its host and port (or the scheme's default port)
                become the target.
            host: Interface to listen on.
            port: Port to listen on; 0 picks a free one.
            seed: Seed for latency jitter.

        Returns:
            The proxy, not yet started.

        Raises:
            ValueError: ``url`` has no host, or no port and an unknown scheme.
        """
        parts = urlsplit(url)
        if parts.hostname is None:
            raise ValueError(f"no host in {url!r}")
        target_port = parts.port or _DEFAULT_PORTS.get(parts.scheme)
        if target_port is None:
            raise ValueError(f"no port in {url!r} and no default port for {parts.scheme!r}")
        return cls(parts.hostname, target_port, host=host, port=port, seed=seed)

    # --- lifecycle ---------------------------------------------------------------------------

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    async def start(self) -> None:
        """Start listening (idempotent). :attr:`port` is the bound port afterwards."""
        if self._server is not None:
            return
        self._loop = asyncio.get_running_loop()
        self._closing = False
        self._server = await self._loop.create_server(
            lambda: _Pair(self).client, self.host, self.port
        )
        self.port = self._server.sockets[0].getsockname()[1]

    async def close(self) -> None:
        """Stop listening and close every connection; returns once every socket is closed.

        Idempotent. Fault settings and the port are kept: :meth:`start` again listens where
        clients expect it, with the same faults (a server restart, as the client sees it).
        """
        server, self._server = self._server, None
        if server is None:
            return
        self._closing = True
        server.close()
        for pair in list(self._pairs):
            pair.abort(reset=False)
        tasks = list(self._tasks)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        for side in list(self._sides):
            # A pair closing gracefully may still be flushing to a peer that no longer reads.
            if side.transport is not None:
                side.transport.abort()
        # Sockets close one loop turn after abort(); wait for each so none outlives close().
        await asyncio.gather(*(side.closed for side in list(self._sides)))
        await server.wait_closed()

    def _spawn(self, coro: Coroutine[Any, Any, None], what: str) -> asyncio.Task[None]:
        task = self._loop.create_task(coro, name=f"kraken-ws FaultProxy {what}")
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    def _add_pair(self, pair: _Pair) -> None:
        self._pairs.add(pair)
        self._notify_connections()

    def _remove_pair(self, pair: _Pair) -> None:
        if pair in self._pairs:
            self._pairs.discard(pair)
            self._notify_connections()

    def _notify_connections(self) -> None:
        for changed in self._count_waiters:
            changed.set()

    # --- addresses ---------------------------------------------------------------------------

    def url(self, url: str) -> str:
        """``url`` with its host and port replaced by the proxy's; path and query are kept.

        Args:
            url: A URL of the target server, e.g. ``LocalExchange.ws_url``.

        Returns:
            The same URL through the proxy, e.g. ``ws://127.0.0.1:PROXYPORT/v2``.

        Raises:
            RuntimeError: The proxy is not started (its port is not known yet).
            ValueError: ``url`` is for another port than the proxy's target: the client would
                silently reach the wrong server.
        """
        if self._server is None:
            raise RuntimeError("FaultProxy is not started")
        parts = urlsplit(url)
        port = parts.port or _DEFAULT_PORTS.get(parts.scheme)
        if port != self.target_port:
            raise ValueError(
                f"{url!r} is not for this proxy's target {self.target_host}:{self.target_port}"
            )
        userinfo, _, _ = parts.netloc.rpartition("@")
        host = f"[{self.host}]" if ":" in self.host else self.host
        netloc = f"{userinfo}@{host}:{self.port}" if userinfo else f"{host}:{self.port}"
        return urlunsplit(parts._replace(netloc=netloc))

    # --- faults ------------------------------------------------------------------------------

    def _changed(self, ways: tuple[_Way, ...]) -> None:
        for pair in self._pairs:
            for pump in pair.pumps():
                if pump.way in ways:
                    pump.wake.set()

    def cut(self) -> int:
        """Reset every current connection: both its sockets are closed with a TCP RST.

        The client sees an abrupt drop (``ECONNRESET``), as does the server. New connections are
        accepted as usual.

        Returns:
            How many connections were cut.
        """
        pairs = list(self._pairs)
        for pair in pairs:
            pair.abort()
        return len(pairs)

    def stall(self, direction: Direction = "both") -> None:
        """Stop forwarding ``direction``; nothing is closed.

        Stalling one direction leaves a half-open connection: bytes still flow the other way.
        Bytes that arrive meanwhile are held (up to :data:`MAX_HELD_BYTES` per connection and
        direction, beyond which the proxy stops reading, so the sender's TCP backs off) and
        delivered in order by :meth:`resume`.

        Args:
            direction: ``"upstream"``, ``"downstream"`` or ``"both"``.
        """
        ways = _ways(direction)
        for way in ways:
            self._faults[way].stalled = True
        self._changed(ways)

    def resume(self, direction: Direction = "both") -> None:
        """Forward ``direction`` again, held bytes first.

        Args:
            direction: ``"upstream"``, ``"downstream"`` or ``"both"``.
        """
        ways = _ways(direction)
        for way in ways:
            self._faults[way].stalled = False
        self._changed(ways)

    def set_latency(
        self, seconds: float, jitter: float = 0.0, direction: Direction = "both"
    ) -> None:
        """Delay each chunk by ``seconds`` plus a uniform random ``[0, jitter)``.

        Bytes are never reordered: a chunk whose jitter would let it overtake the one before
        it goes right after it instead. Chunks already held get the new delay too (counted
        from when they arrived).

        Args:
            seconds: Fixed one-way delay.
            jitter: Upper bound of the random extra delay (seeded by ``seed``).
            direction: ``"upstream"``, ``"downstream"`` or ``"both"``.

        Raises:
            ValueError: A negative delay.
        """
        if seconds < 0 or jitter < 0:
            raise ValueError("latency and jitter must be >= 0")
        ways = _ways(direction)
        for way in ways:
            self._faults[way].latency = seconds
            self._faults[way].jitter = jitter
        self._changed(ways)

    def set_bandwidth(self, bytes_per_second: float | None, direction: Direction = "both") -> None:
        """Cap the throughput of each connection in ``direction``.

        Args:
            bytes_per_second: The cap; ``None`` for unlimited.
            direction: ``"upstream"``, ``"downstream"`` or ``"both"``.

        Raises:
            ValueError: A cap that is not positive.
        """
        if bytes_per_second is not None and not bytes_per_second > 0:
            raise ValueError("bytes_per_second must be > 0 or None")
        ways = _ways(direction)
        for way in ways:
            self._faults[way].rate = bytes_per_second
        self._changed(ways)

    def set_chunk_size(self, size: int | None, direction: Direction = "both") -> None:
        """Deliver ``direction`` in writes of at most ``size`` bytes (fragmented delivery).

        Each write is followed by a turn of the event loop, so a receiver on the same loop
        normally reads the pieces one by one.

        Args:
            size: Largest write; ``None`` delivers chunks as they were read.
            direction: ``"upstream"``, ``"downstream"`` or ``"both"``.

        Raises:
            ValueError: A size below 1.
        """
        if size is not None and size < 1:
            raise ValueError("size must be >= 1 or None")
        ways = _ways(direction)
        for way in ways:
            self._faults[way].chunk_size = size
        self._changed(ways)

    def refuse_connects(self, refuse: bool = True) -> None:
        """Reset new connections as soon as they are accepted; existing ones are untouched.

        Args:
            refuse: ``False`` accepts new connections again.
        """
        self._refusing = refuse

    def reset(self) -> None:
        """Clear every fault: resume stalled directions, no latency, cap or chunking; accept."""
        self._refusing = False
        for way in _WAYS:
            faults = self._faults[way]
            faults.stalled = False
            faults.latency = faults.jitter = 0.0
            faults.rate = None
            faults.chunk_size = None
        self._changed(_WAYS)

    # --- observation -------------------------------------------------------------------------

    @property
    def connection_count(self) -> int:
        """Connections currently forwarded (accepted and not yet closed or cut)."""
        return len(self._pairs)

    @property
    def bytes_forwarded(self) -> dict[str, int]:
        """Bytes delivered so far, over all connections: ``{"upstream": n, "downstream": n}``."""
        return dict(self._forwarded)

    async def wait_for_connections(self, count: int, timeout: float = 5.0) -> None:
        """Wait until exactly ``count`` connections are forwarded.

        Args:
            count: The number to wait for (0 after a :meth:`cut`, for instance).
            timeout: Seconds before giving up.

        Raises:
            TimeoutError: Not reached within ``timeout``.
        """
        changed = asyncio.Event()
        self._count_waiters.add(changed)
        try:
            async with asyncio.timeout(timeout):
                while len(self._pairs) != count:
                    changed.clear()
                    await changed.wait()
        finally:
            self._count_waiters.discard(changed)
