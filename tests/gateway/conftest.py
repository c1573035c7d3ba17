"""Fixtures of the gateway tests: real nats-server processes (one node, secured, 3-node cluster).

Reuse them in your own tests: `kraken_ws.gateway.testing` has the servers, these are thin
wrappers. Nothing is mocked at the bus.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from kraken_ws.gateway.testing import NatsCluster, NatsServer, secured_config

pytest.importorskip("nats")


@pytest.fixture
async def nats_server() -> AsyncIterator[NatsServer]:
    """``nats-server -js`` on a free port, with a temporary store."""
    async with NatsServer() as server:
        yield server


@pytest.fixture
async def secured_nats() -> AsyncIterator[NatsServer]:
    """The same with users and permissions (gateway, reader, trader) and no anonymous access."""
    async with NatsServer(config=secured_config()) as server:
        yield server


@pytest.fixture
async def nats_cluster() -> AsyncIterator[NatsCluster]:
    """Three routed JetStream nodes on loopback ports."""
    async with NatsCluster() as cluster:
        yield cluster
