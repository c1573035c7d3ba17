"""A subscription acknowledged but silent while heartbeats flow is detected and resubscribed."""

from __future__ import annotations

import asyncio

import nats

from kraken_ws.gateway import Gateway, GatewayConfig, Subscriber, SubscriptionStale
from kraken_ws.gateway.events import event_from_json
from kraken_ws.gateway.subjects import EVENTS
from kraken_ws.gateway.testing import NatsServer
from kraken_ws.testing import LocalExchange
from kraken_ws.transport.base import Transport
from kraken_ws.transport.websockets import connect

from .support import instruments, same, until


class _Muting:
    """A transport that drops one symbol's book frames until the client resubscribes it.

    The Kraken failure mode: the subscription is acknowledged and the socket is alive (the
    heartbeats go through), but the channel sends nothing.
    """

    def __init__(self, inner: Transport, state: dict[str, bool]) -> None:
        self.inner = inner
        self.state = state

    async def send(self, text: str) -> None:
        if self.state["muted"] and '"unsubscribe"' in text and "S1/USD" in text:
            self.state["muted"] = False  # the gateway resubscribes: the feed comes back
            self.state["resubscribed"] = True
        await self.inner.send(text)

    async def recv(self) -> str | bytes:
        while True:
            text = await self.inner.recv()
            if (
                self.state["muted"]
                and isinstance(text, str)
                and text.startswith('{"channel":"book"')
                and '"symbol":"S1/USD"' in text
            ):
                continue
            return text

    async def close(self, code: int = 1000, reason: str = "") -> None:
        await self.inner.close(code, reason)

    async def abort(self) -> None:
        await self.inner.abort()


async def test_a_silent_book_is_resubscribed(nats_server: NatsServer) -> None:
    state = {"muted": False, "resubscribed": False}

    async def connector(url: str) -> Transport:
        return _Muting(await connect(url), state)

    nc = await nats.connect(nats_server.url)
    stale: list[SubscriptionStale] = []

    async def on_event(msg: nats.aio.msg.Msg) -> None:
        event = event_from_json(msg.data)
        if isinstance(event, SubscriptionStale):
            stale.append(event)

    await nc.subscribe(EVENTS, cb=on_event)
    async with LocalExchange(rate=None, instruments=instruments(2), heartbeat_interval=0.2) as ex:
        config = GatewayConfig(
            nats_url=nats_server.url,
            ws_url=ex.ws_url,
            books={"S0/USD": 10, "S1/USD": 10},
            stale_after=1.0,
        )
        async with (
            Gateway(config, connector=connector) as gateway,
            Subscriber(nats_server.url) as sub,
        ):
            book = await sub.book("S1/USD", depth=10)
            state["muted"] = True
            async with asyncio.timeout(20):
                while not state["resubscribed"]:
                    await ex.step(1, "S0/USD")  # S0 keeps talking; S1 says nothing
                    await asyncio.sleep(0.05)
            await until(lambda: bool(stale), what="SubscriptionStale published")
            assert (stale[0].channel_name, stale[0].symbol) == ("book", "S1/USD")
            for _ in range(10):
                await ex.step(1)
            await until(lambda: same(book, gateway.books["S1/USD"]), what="S1 back and equal")
    await nc.close()
