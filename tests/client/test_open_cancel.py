"""A call cancelled while it waits for its connection leaves no task behind."""

from __future__ import annotations

import asyncio
import socket

from kraken_ws.client import KrakenWSClient


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _open_waiters() -> list[asyncio.Task[object]]:
    return [
        t
        for t in asyncio.all_tasks()
        if not t.done() and getattr(t.get_coro(), "__qualname__", "") == "Event.wait"
    ]


async def test_cancelled_call_leaves_no_connection_waiter() -> None:
    url = f"ws://127.0.0.1:{_closed_port()}/v2"
    async with KrakenWSClient(
        ws_url=url, reconnect_initial_delay=0.05, reconnect_max_delay=0.1
    ) as client:
        call = asyncio.ensure_future(client.ping(timeout=30))
        # The connection stays refused: the call ends up waiting for it to open.
        async with asyncio.timeout(5):
            while not _open_waiters():  # noqa: ASYNC110 - the waiter is internal: no event
                await asyncio.sleep(0.01)
        assert not call.done()
        call.cancel()
        await asyncio.gather(call, return_exceptions=True)
        await asyncio.sleep(0)  # let the cancelled waiter finish
        assert _open_waiters() == []
