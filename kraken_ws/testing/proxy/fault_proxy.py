"""`FaultProxy`: the public face of the proxy (lifecycle, addresses, faults, counters)."""

from __future__ import annotations

import asyncio
from types import TracebackType
from typing import Self
from urllib.parse import urlsplit, urlunsplit

from .pairs import WAYS, Direction, Pair, Switchboard, ways

__all__ = ["FaultProxy"]

_DEFAULT_PORTS = {"ws": 80, "http": 80, "wss": 443, "https": 443}


class FaultProxy:
    """An asyncio TCP proxy that injects network faults between a client and a server.

    Every setting takes effect at once on existing and new connections. Use it as an async
    context manager, and point the client at `url`:

    ```python
    async with LocalExchange() as ex, FaultProxy.for_url(ex.ws_url) as proxy:
        client = KrakenWSClient(ws_url=proxy.url(ex.ws_url), ...)
        proxy.stall("downstream")   # requests still arrive; nothing comes back
    ```

    Args:
        target_host: The server's host.
        target_port: The server's port.
        host: Interface to listen on (an address: a name resolving to several addresses would
            bind several ports).
        port: Port to listen on; 0 picks a free one (read `port` after `start`).
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
        self._board = Switchboard(lambda: (self.target_host, self.target_port), seed)
        self._server: asyncio.Server | None = None
        # The board's own sets, under the names the tests inspect.
        self._pairs = self._board.pairs
        self._sides = self._board.sides
        self._tasks = self._board.tasks

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
        """Start listening (idempotent). `port` is the bound port afterwards."""
        if self._server is not None:
            return
        board = self._board
        board.loop = asyncio.get_running_loop()
        board.closing = False
        self._server = await board.loop.create_server(
            lambda: Pair(board).client, self.host, self.port
        )
        self.port = self._server.sockets[0].getsockname()[1]

    async def close(self) -> None:
        """Stop listening and close every connection; returns once every socket is closed.

        Idempotent. Fault settings and the port are kept: `start` again listens where
        clients expect it, with the same faults (a server restart, as the client sees it).
        """
        server, self._server = self._server, None
        if server is None:
            return
        self._board.closing = True
        server.close()
        for pair in list(self._pairs):
            pair.abort(reset=False)
        tasks = list(self._board.tasks)
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
        Bytes that arrive meanwhile are held (up to `MAX_HELD_BYTES` per connection and
        direction, beyond which the proxy stops reading, so the sender's TCP backs off) and
        delivered in order by `resume`.

        Args:
            direction: ``"upstream"``, ``"downstream"`` or ``"both"``.
        """
        selected = ways(direction)
        for way in selected:
            self._board.faults[way].stalled = True
        self._board.changed(selected)

    def resume(self, direction: Direction = "both") -> None:
        """Forward ``direction`` again, held bytes first.

        Args:
            direction: ``"upstream"``, ``"downstream"`` or ``"both"``.
        """
        selected = ways(direction)
        for way in selected:
            self._board.faults[way].stalled = False
        self._board.changed(selected)

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
        selected = ways(direction)
        for way in selected:
            self._board.faults[way].latency = seconds
            self._board.faults[way].jitter = jitter
        self._board.changed(selected)

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
        selected = ways(direction)
        for way in selected:
            self._board.faults[way].rate = bytes_per_second
        self._board.changed(selected)

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
        selected = ways(direction)
        for way in selected:
            self._board.faults[way].chunk_size = size
        self._board.changed(selected)

    def refuse_connects(self, refuse: bool = True) -> None:
        """Reset new connections as soon as they are accepted; existing ones are untouched.

        Args:
            refuse: ``False`` accepts new connections again.
        """
        self._board.refusing = refuse

    def reset(self) -> None:
        """Clear every fault: resume stalled directions, no latency, cap or chunking; accept."""
        self._board.refusing = False
        for way in WAYS:
            faults = self._board.faults[way]
            faults.stalled = False
            faults.latency = faults.jitter = 0.0
            faults.rate = None
            faults.chunk_size = None
        self._board.changed(WAYS)

    # --- observation -------------------------------------------------------------------------

    @property
    def connection_count(self) -> int:
        """Connections currently forwarded (accepted and not yet closed or cut)."""
        return len(self._pairs)

    @property
    def bytes_forwarded(self) -> dict[str, int]:
        """Bytes delivered so far, over all connections: ``{"upstream": n, "downstream": n}``."""
        return dict(self._board.forwarded)

    async def wait_for_connections(self, count: int, timeout: float = 5.0) -> None:
        """Wait until exactly ``count`` connections are forwarded.

        Args:
            count: The number to wait for (0 after a `cut`, for instance).
            timeout: Seconds before giving up.

        Raises:
            TimeoutError: Not reached within ``timeout``.
        """
        changed = asyncio.Event()
        self._board.count_waiters.add(changed)
        try:
            async with asyncio.timeout(timeout):
                while len(self._pairs) != count:
                    changed.clear()
                    await changed.wait()
        finally:
            self._board.count_waiters.discard(changed)
