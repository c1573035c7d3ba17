"""Helpers for the python-kraken-sdk facade tests: a message recorder and URL helpers.

Synchronisation waits on recorded messages (an ``asyncio.Condition``), never on sleeps.
"""

from __future__ import annotations

import asyncio
import builtins
import socket
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest

from kraken_ws.testing import FaultProxy, LocalExchange

TIMEOUT = 10.0


def base(url: str) -> str:
    """python-kraken-sdk wants base URLs (it appends ``/v2``); the facade takes either form."""
    assert url.endswith("/v2")
    return url[: -len("/v2")]


class Recorder:
    """Collects messages and lets a test wait for one that matches."""

    def __init__(self) -> None:
        self.messages: list[Any] = []
        self._changed = asyncio.Event()

    def add(self, message: Any) -> None:
        self.messages.append(message)
        self._changed.set()

    async def callback(self, message: Any) -> None:
        """An async ``callback`` for ``SpotWSClient``."""
        self.add(message)

    def print(self, *args: Any, **kwargs: Any) -> None:
        """Stands in for ``print`` inside the documented examples: records, then prints."""
        builtins.print(*args, **kwargs)
        if len(args) == 1:
            self.add(args[0])

    async def wait_for(
        self, predicate: Callable[[Any], bool], count: int = 1, timeout: float = TIMEOUT
    ) -> list[Any]:
        """Wait until ``count`` recorded messages match ``predicate``; return them."""
        async with asyncio.timeout(timeout):
            while True:
                found = [m for m in self.messages if predicate(m)]
                if len(found) >= count:
                    return found
                self._changed.clear()
                await self._changed.wait()

    def matching(self, predicate: Callable[[Any], bool]) -> list[Any]:
        return [m for m in self.messages if predicate(m)]


def is_method(method: str, success: bool | None = None) -> Callable[[Any], bool]:
    return lambda m: (
        isinstance(m, dict)
        and m.get("method") == method
        and (success is None or m.get("success") is success)
    )


def is_channel(channel: str, type_: str | None = None) -> Callable[[Any], bool]:
    return lambda m: (
        isinstance(m, dict)
        and m.get("channel") == channel
        and (type_ is None or m.get("type") == type_)
    )


def closed_port() -> int:
    """A localhost port nobody listens on (bound, then released)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


def other_tasks() -> set[asyncio.Task[Any]]:
    """Running tasks other than the test's own and the local exchange's (the server side)."""

    def server_side(task: asyncio.Task[Any]) -> bool:
        code = getattr(task.get_coro(), "cr_code", None)
        filename = code.co_filename if code is not None else ""
        return "kraken_ws/testing" in filename or "websockets" in filename

    return {
        t for t in asyncio.all_tasks() if t is not asyncio.current_task() and not server_side(t)
    }


@pytest.fixture
async def resetting_url() -> AsyncIterator[str]:
    """A URL whose server resets every connection once accepted: a failure worth retrying.

    (A closed port is refused at once by the facade; this is the network failing.)
    """
    async with FaultProxy("127.0.0.1", closed_port()) as proxy:
        proxy.refuse_connects()
        yield f"ws://127.0.0.1:{proxy.port}"


@pytest.fixture
async def exchange() -> AsyncIterator[LocalExchange]:
    async with LocalExchange(rate=None, seed=7, heartbeat_interval=0.2) as ex:
        yield ex


@pytest.fixture
def recorder() -> Recorder:
    return Recorder()
