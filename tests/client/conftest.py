from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator

import pytest

from kraken_ws.auth import TokenProvider
from kraken_ws.client import KrakenWSClient

from .fake_kraken import TOKEN, FakeKraken

#: Scale for the short timeouts of the tests (raise on a slow machine).
SCALE = float(os.environ.get("KRAKEN_WS_TEST_TIMEOUT_SCALE", "1"))


class StaticTokens(TokenProvider):
    """Hands out TOKEN; counts fetches."""

    def __init__(self, tokens: list[str] | None = None) -> None:
        super().__init__("k", "c2VjcmV0")
        self.tokens = tokens or [TOKEN]

    async def _fetch(self) -> str:
        self.fetch_count += 1
        return self.tokens[min(self.fetch_count - 1, len(self.tokens) - 1)]


@pytest.fixture
async def fake() -> AsyncIterator[FakeKraken]:
    server = FakeKraken()
    yield server
    await server.server.aclose()


@pytest.fixture
async def client(fake: FakeKraken) -> AsyncIterator[KrakenWSClient]:
    async with KrakenWSClient(
        ws_url="mem://public/v2",
        auth_ws_url="mem://auth/v2",
        l3_ws_url="mem://l3/v2",
        connector=fake.server,
        token_provider=StaticTokens(),
        request_timeout=2 * SCALE,
        watchdog_timeout=1 * SCALE,
        ping_interval=None,
        reconnect_initial_delay=0.01,
        reconnect_max_delay=0.05,
        book_resync_interval=0.05,
    ) as c:
        yield c
    assert not c._core.tasks
    assert all(conn.task is None or conn.task.done() for conn in c._core.connections.values())


async def next_event(it, cls, limit: float = 2.0):  # type: ignore[no-untyped-def]
    async def find():  # type: ignore[no-untyped-def]
        async for event in it:
            if isinstance(event, cls):
                return event
        raise AssertionError("stream ended")

    async with asyncio.timeout(limit * SCALE):
        return await find()
