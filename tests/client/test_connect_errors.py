"""Connection failures surface with their cause, and nothing is left running."""

from __future__ import annotations

import socket

import pytest

from kraken_ws import KrakenWSClient
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
        with pytest.raises(ConnectError, match=r"not connected within .*last error: .*ConnectionRefusedError"):
            await client.subscribe_ticker(["BTC/USD"])
