"""Account data: only on a server with users, only to users allowed to read it, no fill lost."""

from __future__ import annotations

import asyncio
from decimal import Decimal

import pytest

from kraken_ws import KrakenWSClient
from kraken_ws.gateway import GatewayConfigError, GatewayPermissionError, Subscriber
from kraken_ws.gateway.testing import NatsServer
from kraken_ws.models.channels.executions import ExecutionsSnapshot, ExecutionsUpdate
from kraken_ws.testing import LocalExchange

from .support import gateway_for

GATEWAY = ("gateway", "gateway-secret")
READER = ("reader", "reader-secret")
TRADER = ("trader", "trader-secret")


def _trading_client(ex: LocalExchange) -> KrakenWSClient:
    return KrakenWSClient(
        ex.api_key,
        ex.api_secret,
        ws_url=ex.ws_url,
        auth_ws_url=ex.auth_ws_url,
        rest_url=ex.rest_url,
    )


async def _buy(client: KrakenWSClient, qty: str) -> None:
    await client.add_order(
        order_type="market", side="buy", symbol="BTC/USD", order_qty=Decimal(qty)
    )


def _trades(event: object) -> list[str]:
    data = getattr(event, "data", [])
    return [e.exec_id for e in data if e.exec_type == "trade" and e.exec_id]


async def test_private_channels_are_refused_on_an_anonymous_server(
    nats_server: NatsServer,
) -> None:
    async with LocalExchange(rate=None) as ex:
        gateway = gateway_for(
            ex, nats_server.url, private=("executions",), key=ex.api_key, secret=ex.api_secret
        )
        with pytest.raises(GatewayConfigError, match="without credentials"):
            await gateway.start()
        await gateway.stop()


async def test_fills_reach_the_durable_reader_and_nobody_else(secured_nats: NatsServer) -> None:
    async with LocalExchange(rate=None) as ex:
        gateway = gateway_for(
            ex,
            secured_nats.url_for(*GATEWAY),
            private=("executions",),
            key=ex.api_key,
            secret=ex.api_secret,
        )
        async with gateway, _trading_client(ex) as trader_client:
            async with Subscriber(secured_nats.url_for(*READER)) as reader:
                with pytest.raises(GatewayPermissionError):
                    await anext(aiter(reader.events(channel="executions")))
                with pytest.raises(GatewayPermissionError):
                    await anext(aiter(reader.events(channel="executions", durable="snoop")))
            fills: list[str] = []
            async with Subscriber(secured_nats.url_for(*TRADER)) as trader:
                await _buy(trader_client, "0.01")
                stream = aiter(trader.events(channel="executions", durable="risk"))
                async with asyncio.timeout(30):
                    while not fills:
                        event = await anext(stream)
                        assert isinstance(event, ExecutionsSnapshot | ExecutionsUpdate)
                        fills += _trades(event)
                await stream.aclose()
            # Fills while the reader is away are delivered when it comes back.
            await _buy(trader_client, "0.02")
            async with Subscriber(secured_nats.url_for(*TRADER)) as trader:
                stream = aiter(trader.events(channel="executions", durable="risk"))
                async with asyncio.timeout(30):
                    while not [f for f in _trades(await anext(stream)) if f not in fills]:
                        pass
                await stream.aclose()
