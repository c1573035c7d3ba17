"""Connection failures surface with their cause, and nothing is left running."""

from __future__ import annotations

import socket

import pytest

from kraken_ws import ConnectionFailed, KrakenWSClient, Reconnecting
from kraken_ws.exceptions import ConnectError


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port  # nothing listens there once the socket is closed


async def test_not_connected_error_names_the_last_failure() -> None:
    url = f"ws://127.0.0.1:{_closed_port()}/v2"
    async with KrakenWSClient(
        ws_url=url, request_timeout=0.5, reconnect_initial_delay=0.01, reconnect_max_delay=0.05
    ) as client:
        with pytest.raises(
            ConnectError, match=r"not connected within .*last error: .*ConnectionRefusedError"
        ):
            await client.subscribe_ticker(["BTC/USD"])


async def _drain(client: KrakenWSClient, into: list[object]) -> None:
    async for event in client:
        into.append(event)


async def test_giving_up_emits_connection_failed_then_raises() -> None:
    url = f"ws://127.0.0.1:{_closed_port()}/v2"
    seen: list[object] = []
    async with KrakenWSClient(
        ws_url=url,
        request_timeout=2.0,
        max_reconnect_attempts=2,
        reconnect_initial_delay=0.01,
        reconnect_max_delay=0.02,
    ) as client:
        with pytest.raises(ConnectError, match="gave up after 2"):
            await client.subscribe_ticker(["BTC/USD"])
        with pytest.raises(ConnectError, match="gave up after 2"):
            await _drain(client, seen)
    failed = [e for e in seen if isinstance(e, ConnectionFailed)]
    assert len(failed) == 1
    assert failed[0].endpoint == "public"
    assert [e.attempt for e in seen if isinstance(e, Reconnecting)] == [1, 2]
