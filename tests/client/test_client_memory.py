"""KrakenWSClient against a scripted fake over the in-memory transport."""

from __future__ import annotations

import asyncio
import json

import pytest
from pydantic import ValidationError

from kraken_ws.client import KrakenWSClient
from kraken_ws.events import (
    BookResync,
    Connected,
    Disconnected,
    Reconnecting,
    Resubscribed,
)
from kraken_ws.exceptions import (
    ConnectionLost,
    InsufficientFunds,
    InvalidOrder,
    InvalidState,
    RequestTimeout,
    UnsupportedPair,
)
from kraken_ws.models.channels.ticker import TickerSubscribeParams
from kraken_ws.models.methods.batch_add import BatchAddOrder

from .conftest import next_event
from .fake_kraken import TOKEN, FakeKraken


async def test_ping_opens_public_lazily(client: KrakenWSClient, fake: FakeKraken) -> None:
    assert fake.server.connections == []
    rtt = await client.ping()
    assert rtt >= 0
    assert list(fake.conns) == ["public"]


async def test_subscribe_acks_per_symbol(client: KrakenWSClient, fake: FakeKraken) -> None:
    acks = await client.subscribe_ticker(["BTC/USD", "ETH/USD"], event_trigger="bbo")
    assert [a.result.symbol for a in acks] == ["BTC/USD", "ETH/USD"]  # type: ignore[union-attr]
    assert fake.received[-1]["params"] == {
        "channel": "ticker",
        "symbol": ["BTC/USD", "ETH/USD"],
        "event_trigger": "bbo",
    }
    with pytest.raises(UnsupportedPair) as info:
        await client.subscribe(TickerSubscribeParams(symbol=["LTC/USD", "BAD/PAIR"]))
    assert info.value.symbol == "BAD/PAIR"
    symbols = {p["symbol"][0] for p in client.acknowledged_subscriptions()}  # type: ignore[index]
    assert symbols == {"BTC/USD", "ETH/USD", "LTC/USD"}


async def test_private_subscribe_injects_token(client: KrakenWSClient, fake: FakeKraken) -> None:
    await client.subscribe_executions(snap_trades=True)
    sent = fake.received[-1]
    assert sent["params"] == {"channel": "executions", "snap_trades": True, "token": TOKEN}
    assert list(fake.conns) == ["auth"]
    assert "token" not in client.subscriptions()[0]


async def test_add_order_success_and_error(client: KrakenWSClient, fake: FakeKraken) -> None:
    result = await client.add_order(
        order_type="limit", side="buy", symbol="BTC/USD", order_qty="0.10", limit_price="100.50"
    )
    assert result.order_id == "OABCDE-12345-FGHIJK"
    assert '"order_qty":0.10' in fake.server.connections[-1].peer.sent[-1]  # type: ignore[union-attr]
    with pytest.raises(InsufficientFunds) as info:
        await client.add_order(order_type="market", side="buy", symbol="POOR/USD", order_qty=1)
    assert info.value.method == "add_order"


async def test_validation_error_before_sending(client: KrakenWSClient, fake: FakeKraken) -> None:
    with pytest.raises(ValidationError):
        await client.add_order(
            order_type="limit", side="buy", symbol="BTC/USD", order_qty=1
        )  # no limit_price
    assert fake.received == []


async def test_trading_methods(client: KrakenWSClient, fake: FakeKraken) -> None:
    results = await client.cancel_order(order_id=["A", "B"])
    assert [r.order_id for r in results] == ["A", "B"]
    with pytest.raises(InvalidOrder):
        await client.cancel_order(order_id=["A", "GONE"])
    assert (await client.cancel_all()).count == 3
    assert (await client.cancel_all_orders_after(60)).triggerTime == "2026-01-01T00:01:00Z"
    assert (await client.amend_order(order_id="X", limit_price=5)).amend_id == "AMEND-1"
    assert (
        await client.edit_order(order_id="X", symbol="BTC/USD", order_qty=2)
    ).order_id == "NEW-1"
    rows = await client.batch_add(
        symbol="BTC/USD",
        orders=[
            BatchAddOrder(order_type="limit", side="buy", order_qty=1, limit_price=1),
            BatchAddOrder(order_type="limit", side="sell", order_qty=1, limit_price=2),
        ],
    )
    assert [r.order_id for r in rows] == ["B-0", "B-1"]
    assert (await client.batch_cancel(orders=["1", "2"])).count == 2
    responses = await client.send({"method": "cancel_all"})
    assert responses[0].success  # type: ignore[attr-defined]
    for msg in fake.received:
        assert msg["params"]["token"] == TOKEN


async def test_rejected_token_refetched(client: KrakenWSClient, fake: FakeKraken) -> None:
    fake.reject_tokens = 1
    result = await client.cancel_all()
    assert result.count == 3
    assert client._core.tokens.fetch_count == 2


async def test_request_timeout(client: KrakenWSClient, fake: FakeKraken) -> None:
    fake.drop_methods.add("cancel_all")
    with pytest.raises(RequestTimeout):
        await client.cancel_all(timeout=0.2)


async def test_connection_lost_in_flight_outcome_unknown(
    client: KrakenWSClient, fake: FakeKraken
) -> None:
    await client.ping(endpoint="auth")
    fake.drop_methods.add("add_order")
    fake.request_seen.clear()
    task = asyncio.create_task(
        client.add_order(order_type="market", side="buy", symbol="BTC/USD", order_qty=1)
    )
    await asyncio.wait_for(fake.request_seen.wait(), 2)
    await fake.live("auth").abort()
    with pytest.raises(ConnectionLost) as info:
        await asyncio.wait_for(task, 2)
    assert info.value.outcome_unknown
    assert info.value.request is not None
    assert "token" not in info.value.request["params"]


async def test_reconnect_resubscribes_everything(client: KrakenWSClient, fake: FakeKraken) -> None:
    events = client.events()
    await client.subscribe_ticker(["BTC/USD"])
    await client.subscribe_executions()
    await fake.live("public").close(1011, "boom")
    await fake.live("auth").close(1001, "going away")
    seen: list[object] = []

    async def until_resubscribed() -> None:
        endpoints = set()
        async for event in events:
            seen.append(event)
            if isinstance(event, Resubscribed):
                endpoints.add(event.endpoint)
                if endpoints == {"public", "auth"}:
                    return

    await asyncio.wait_for(until_resubscribed(), 3)
    assert any(isinstance(e, Disconnected) and e.code == 1011 for e in seen)
    assert any(isinstance(e, Reconnecting) for e in seen)
    assert any(isinstance(e, Connected) and e.reconnect for e in seen)
    await client.ping()
    await client.ping(endpoint="auth")
    replayed = [m["params"] for m in fake.received if m["method"] == "subscribe"]
    assert replayed.count({"channel": "ticker", "symbol": ["BTC/USD"]}) == 2
    executions = [p for p in replayed if p["channel"] == "executions"]
    # The user's subscription is replayed with its original params...
    assert executions.count({"channel": "executions", "token": TOKEN}) == 2
    # ...and the fills of the gap are looked for on a connection of their own.
    recovery = {"channel": "executions", "token": TOKEN, "snap_orders": True, "snap_trades": True}
    assert executions.count(recovery) <= 1
    assert len(client.acknowledged_subscriptions()) == 2


async def test_watchdog_detects_stall(client: KrakenWSClient, fake: FakeKraken) -> None:
    await client.subscribe_ticker(["BTC/USD"])
    fake.silent = True  # no frames, no pongs
    events = client.events()
    disconnected = await next_event(events, Disconnected, limit=3)
    assert disconnected.endpoint == "public"
    fake.silent = False
    await next_event(events, Resubscribed, limit=3)


async def test_events_and_filters(client: KrakenWSClient, fake: FakeKraken) -> None:
    await client.subscribe_book(["BTC/USD"])
    book_events = client.events(channel="book", symbol="BTC/USD")
    other = client.events(channel="book", symbol="ETH/USD")
    await fake.push("public", '{"channel":"heartbeat"}')
    from .fake_kraken import book_frame

    await fake.push("public", book_frame("BTC/USD", "update", [("100.0", "0")], []))
    event = await asyncio.wait_for(anext(book_events), 2)
    assert event.channel == "book"  # type: ignore[union-attr]
    with pytest.raises(asyncio.TimeoutError):
        await asyncio.wait_for(anext(other), 0.05)


async def test_book_live_and_resync(client: KrakenWSClient, fake: FakeKraken) -> None:
    book = await client.book("BTC/USD", depth=10)
    assert book.is_valid
    assert book.best_bid is not None
    assert str(book.best_bid[0]) == "100.0"
    from .fake_kraken import book_frame

    subs_before = len([m for m in fake.received if m["method"] == "subscribe"])
    events = client.events()
    await fake.push("public", book_frame("BTC/USD", "update", [("100.0", "5.0")], [], checksum=123))
    resync = await next_event(events, BookResync)
    assert resync.symbol == "BTC/USD"
    book2 = await client.book("BTC/USD", depth=10)
    assert book2 is book
    assert book.is_valid
    msgs = [m for m in fake.received if m["method"] in ("subscribe", "unsubscribe")]
    assert len([m for m in msgs if m["method"] == "subscribe"]) == subs_before + 1
    assert msgs[-2]["method"] == "unsubscribe"
    assert msgs[-2]["params"] == {"channel": "book", "symbol": ["BTC/USD"], "depth": 10}


async def test_queue_drops_oldest_market_data(fake: FakeKraken) -> None:
    from .conftest import StaticTokens

    async with KrakenWSClient(
        ws_url="mem://public",
        connector=fake.server,
        token_provider=StaticTokens(),
        max_queue=3,
        watchdog_timeout=None,
    ) as client:
        await client.subscribe_ticker(["BTC/USD"])
        await client.ping()
        it = aiter(client)
        for _ in range(10):
            await fake.push("public", '{"channel":"heartbeat"}')
        await fake.push(
            "public",
            json.dumps({"channel": "executions", "type": "update", "data": [], "sequence": 2}),
        )
        await client.ping()
        from kraken_ws.protocol.events import EventsDropped

        got = []
        while len(client._core.main_queue or []) and len(got) < 20:  # type: ignore[arg-type]
            got.append(await anext(it))
        dropped = [e for e in got if isinstance(e, EventsDropped)]
        assert dropped
        assert dropped[0].count >= 1
        assert any(getattr(e, "channel", None) == "executions" for e in got)


async def test_close_idempotent_and_requests_after_close(fake: FakeKraken) -> None:
    from .conftest import StaticTokens

    client = KrakenWSClient(
        ws_url="mem://public", connector=fake.server, token_provider=StaticTokens()
    )
    await client.start()
    await client.start()
    await client.ping()
    await client.close()
    await client.close()
    with pytest.raises(InvalidState):
        await client.ping()
    with pytest.raises(InvalidState):
        await client.start()
    assert all(c.closed for c in fake.server.connections)


async def test_dead_mans_switch(client: KrakenWSClient, fake: FakeKraken) -> None:
    async with client.dead_mans_switch(timeout=60, refresh_every=0.05) as first:
        assert first.triggerTime
        for _ in range(3):
            fake.request_seen.clear()
            await asyncio.wait_for(fake.request_seen.wait(), 2)
    timeouts = [
        m["params"]["timeout"] for m in fake.received if m["method"] == "cancel_all_orders_after"
    ]
    assert timeouts[0] == 60
    assert len(timeouts) >= 4
    assert timeouts[-1] == 0


async def test_max_reconnect_attempts_gives_up(fake: FakeKraken) -> None:
    from kraken_ws.exceptions import ConnectError

    from .conftest import StaticTokens

    async with KrakenWSClient(
        ws_url="mem://public",
        connector=fake.server,
        token_provider=StaticTokens(),
        max_reconnect_attempts=2,
        reconnect_initial_delay=0.01,
        watchdog_timeout=None,
    ) as client:
        await client.ping()
        fake.server.refuse = 10
        await fake.live("public").abort()
        with pytest.raises(ConnectError):
            async for _ in client:
                pass
        with pytest.raises(ConnectError):
            await client.ping()


async def test_on_event_callbacks_sync_and_async(fake: FakeKraken) -> None:
    from .conftest import StaticTokens

    seen: list[object] = []
    got_async = asyncio.Event()

    async def on_event(event: object) -> None:
        seen.append(event)
        if getattr(event, "channel", None) == "heartbeat":
            got_async.set()

    async with KrakenWSClient(
        ws_url="mem://public",
        connector=fake.server,
        token_provider=StaticTokens(),
        on_event=on_event,
    ) as client:
        with pytest.raises(InvalidState):
            aiter(client)
        await client.subscribe_ticker(["BTC/USD"])
        await fake.push("public", '{"channel":"heartbeat"}')
        async with asyncio.timeout(2):
            await got_async.wait()
    assert any(isinstance(e, Connected) for e in seen)

    sync_seen: list[object] = []
    async with KrakenWSClient(
        ws_url="mem://public",
        connector=fake.server,
        token_provider=StaticTokens(),
        on_event=sync_seen.append,
    ) as client:
        await client.ping()
    assert any(isinstance(e, Connected) for e in sync_seen)


async def test_iteration_ends_on_close(client: KrakenWSClient) -> None:
    await client.ping()
    filtered = client.events(channel="ticker")

    async def drain() -> list[object]:
        return [e async for e in client] + [e async for e in filtered]

    task = asyncio.create_task(drain())
    await client.close()
    async with asyncio.timeout(2):
        events = await task
    assert any(isinstance(e, Connected) for e in events)
