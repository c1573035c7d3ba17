"""KrakenWSClient end to end against the LocalExchange on 127.0.0.1 (real websockets, real HTTP).

Timeouts are short and scaled by KRAKEN_WS_TEST_TIMEOUT_SCALE; nothing sleeps to synchronise:
tests wait on the client's own events with a deadline.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import AsyncIterator, Callable, Sequence
from decimal import Decimal

import pytest

from kraken_ws.client import ClientEvent, KrakenWSClient
from kraken_ws.events import (
    BookResync,
    Disconnected,
    Resubscribed,
)
from kraken_ws.exceptions import (
    AlreadySubscribed,
    ConnectionLost,
    InsufficientFunds,
    InvalidOrder,
    KrakenAPIError,
    UnsupportedPair,
)
from kraken_ws.models.channels.executions import ExecutionsSubscribeResult
from kraken_ws.models.channels.ticker import TickerUnsubscribeParams
from kraken_ws.models.methods.batch_add import BatchAddOrder
from kraken_ws.protocol.state import ConnectionState
from kraken_ws.ratelimit import TIERS, TradingRateLimiter
from kraken_ws.testing import LocalExchange

from .conftest import SCALE

CHANNELS = ("ticker", "book", "trade", "ohlc", "instrument", "executions", "balances", "level3")


@pytest.fixture
async def exchange() -> AsyncIterator[LocalExchange]:
    async with LocalExchange(rate=20, heartbeat_interval=0.05, seed=7) as ex:
        yield ex


def make_client(ex: LocalExchange, **kwargs: object) -> KrakenWSClient:
    options: dict[str, object] = {
        "ws_url": ex.ws_url,
        "auth_ws_url": ex.auth_ws_url,
        "l3_ws_url": ex.l3_ws_url,
        "rest_url": ex.rest_url,
        "request_timeout": 3 * SCALE,
        "watchdog_timeout": 0.6 * SCALE,
        "ping_interval": None,
        "reconnect_initial_delay": 0.02,
        "reconnect_max_delay": 0.1,
        "book_resync_interval": 0.05,
    }
    options.update(kwargs)
    return KrakenWSClient(ex.api_key, ex.api_secret, **options)  # type: ignore[arg-type]


@pytest.fixture
async def client(exchange: LocalExchange) -> AsyncIterator[KrakenWSClient]:
    before = asyncio.all_tasks()
    c = make_client(exchange)
    async with c:
        yield c
    leftover = {t for t in asyncio.all_tasks() - before if not t.done()}
    # The exchange's own per-connection tasks wind down with its sockets; ours must be gone.
    assert not [t for t in leftover if "kraken-ws" in t.get_name()]
    assert not c._core.tasks


async def wait_for_event(
    events: AsyncIterator[ClientEvent], predicate: Callable[[ClientEvent], bool], limit: float = 5.0
) -> ClientEvent:
    async with asyncio.timeout(limit * SCALE):
        async for event in events:
            if predicate(event):
                return event
    raise AssertionError("event stream ended")


async def wait_until(
    client: KrakenWSClient,
    events: AsyncIterator[ClientEvent],
    condition: Callable[[], bool],
    limit: float = 5.0,
) -> None:
    # Heartbeats arrive every 50 ms, so re-checking after each event is enough.
    if condition():
        return
    async with asyncio.timeout(limit * SCALE):
        async for _ in events:
            if condition():
                return


def all_live(client: KrakenWSClient, books: Sequence[str] = (), l3: Sequence[str] = ()) -> bool:
    desired = client.subscriptions()
    acked = client.acknowledged_subscriptions()
    if len(desired) != len(acked):
        return False
    for symbol in books:
        book = client._core.live.managers["book"].book(symbol)
        if book is None or not book.is_valid:
            return False
    for symbol in l3:
        book = client._core.live.managers["level3"].book(symbol)
        if book is None or not book.is_valid:
            return False
    return all(client.connection_state(e) is ConnectionState.OPEN for e in ("public", "auth", "l3"))


async def subscribe_everything(client: KrakenWSClient) -> None:
    await client.subscribe_ticker(["BTC/USD", "ETH/USD"])
    await client.subscribe_trade(["BTC/USD"])
    await client.subscribe_ohlc(["BTC/USD"], interval=1)
    await client.subscribe_instrument()
    await client.subscribe_executions(snap_trades=True)
    await client.subscribe_balances()
    await client.book("BTC/USD", depth=10)
    await client.book("ETH/USD", depth=25)
    await client.level3("BTC/USD", depth=10)


class TestChannels:
    async def test_every_channel_delivers(self, client: KrakenWSClient) -> None:
        events = client.events()
        await subscribe_everything(client)
        seen: set[str] = set()

        async def collect() -> None:
            async for event in events:
                channel = getattr(event, "channel", None)
                if isinstance(channel, str):
                    seen.add(channel)
                if seen >= set(CHANNELS):
                    return

        async with asyncio.timeout(5 * SCALE):
            await collect()
        book = await client.book("BTC/USD", depth=10)
        assert book.is_valid
        best_bid, best_ask = book.best_bid, book.best_ask
        assert best_bid is not None
        assert best_ask is not None
        assert best_bid[0] < best_ask[0]
        l3 = await client.level3("BTC/USD", depth=10)
        assert l3.is_valid

    async def test_subscription_errors_typed(self, client: KrakenWSClient) -> None:
        await client.subscribe_ticker(["BTC/USD"])
        with pytest.raises(AlreadySubscribed):
            await client.subscribe_ticker(["BTC/USD"])
        with pytest.raises(UnsupportedPair) as info:
            await client.subscribe_ticker(["ETH/USD", "XBT/USD"])
        assert info.value.symbol == "XBT/USD"
        assert {p["symbol"][0] for p in client.acknowledged_subscriptions()} == {
            "BTC/USD",
            "ETH/USD",
        }  # type: ignore[index]
        acks = await client.unsubscribe(TickerUnsubscribeParams(symbol=["BTC/USD", "ETH/USD"]))
        assert len(acks) == 2
        assert client.subscriptions() == []

    async def test_ping_each_endpoint(self, client: KrakenWSClient) -> None:
        for endpoint in ("public", "auth", "l3"):
            assert await client.ping(endpoint=endpoint) >= 0  # type: ignore[arg-type]


class TestTrading:
    async def test_order_lifecycle(self, client: KrakenWSClient, exchange: LocalExchange) -> None:
        book = await client.book("BTC/USD")
        assert book.best_bid is not None
        far = (book.best_bid[0] * Decimal("0.5")).quantize(Decimal("0.1"))
        placed = await client.add_order(
            order_type="limit",
            side="buy",
            symbol="BTC/USD",
            order_qty="0.001",
            limit_price=far,
            cl_ord_id="t-1",
        )
        assert placed.order_id
        amended = await client.amend_order(order_id=placed.order_id, limit_price=far - 1)
        assert amended.amend_id
        edited = await client.edit_order(
            order_id=placed.order_id, symbol="BTC/USD", order_qty="0.002"
        )
        assert edited.order_id != placed.order_id
        cancelled = await client.cancel_order(order_id=[edited.order_id])
        assert [c.order_id for c in cancelled] == [edited.order_id]
        with pytest.raises(InvalidOrder):
            await client.cancel_order(order_id=[edited.order_id])
        rows = await client.batch_add(
            symbol="BTC/USD",
            orders=[
                BatchAddOrder(
                    order_type="limit", side="buy", order_qty=Decimal("0.001"), limit_price=far
                ),
                BatchAddOrder(
                    order_type="limit", side="buy", order_qty=Decimal("0.001"), limit_price=far - 1
                ),
            ],
        )
        ids = [r.order_id for r in rows if r.order_id]
        assert len(ids) == 2
        assert (await client.batch_cancel(orders=ids)).count == 2
        await client.add_order(
            order_type="limit", side="buy", symbol="BTC/USD", order_qty="0.001", limit_price=far
        )
        assert (await client.cancel_all()).count == 1
        armed = await client.cancel_all_orders_after(60)
        assert armed.currentTime
        await client.cancel_all_orders_after(0)

    async def test_typed_errors(self, client: KrakenWSClient) -> None:
        with pytest.raises(InsufficientFunds):
            await client.add_order(
                order_type="market", side="buy", symbol="BTC/USD", order_qty="100000"
            )
        with pytest.raises(KrakenAPIError) as info:
            await client.amend_order(order_id="OXXXXX-XXXXX-XXXXXX", limit_price=1)
        assert info.value.method == "amend_order"

    async def test_token_fetched_while_the_private_socket_connects(
        self, client: KrakenWSClient
    ) -> None:
        # ping needs no token; the first order should not have to wait for a REST round trip.
        await client.ping(endpoint="auth")
        async with asyncio.timeout(3 * SCALE):
            await asyncio.gather(*client._core.tasks)  # the background fetch
        assert client._core.tokens.cached is not None
        assert client._core.tokens.fetch_count == 1
        await client.cancel_all()
        assert client._core.tokens.fetch_count == 1

    async def test_rate_limiter_follows_the_accounts_tier(self, exchange: LocalExchange) -> None:
        limiter = TradingRateLimiter()  # starter, while the exchange's account is intermediate
        async with make_client(exchange, rate_limiter=limiter) as client:
            ack = (await client.subscribe_executions())[0]
            assert isinstance(ack.result, ExecutionsSubscribeResult)
            assert ack.result.maxratecount == TIERS["intermediate"].threshold
            assert limiter.limits == TIERS["intermediate"]

    async def test_rejected_token_refetched(
        self, client: KrakenWSClient, exchange: LocalExchange
    ) -> None:
        await client.cancel_all()
        fetched = client._core.tokens.fetch_count
        exchange.reject_next_token()
        assert (await client.cancel_all()).count == 0
        assert client._core.tokens.fetch_count == fetched + 1

    async def test_rejected_token_on_resubscribe_refetched(
        self, client: KrakenWSClient, exchange: LocalExchange
    ) -> None:
        await client.subscribe_executions()
        await client.subscribe_balances()
        events = client.events()
        fetched = client._core.tokens.fetch_count
        exchange.reject_next_token()
        await exchange.drop_connections("auth")
        await wait_for_event(events, lambda e: isinstance(e, Resubscribed) and e.endpoint == "auth")
        assert len(client.acknowledged_subscriptions("auth")) == 2
        assert client._core.tokens.fetch_count == fetched + 1

    async def test_add_order_in_flight_during_drop(
        self, client: KrakenWSClient, exchange: LocalExchange
    ) -> None:
        await client.subscribe_executions(snap_orders=False)
        book = await client.book("BTC/USD")
        assert book.best_bid is not None
        far = (book.best_bid[0] * Decimal("0.5")).quantize(Decimal("0.1"))
        events = client.events()
        # The engine executes the order but its response never comes: the executions report
        # proves the request reached the exchange, then the socket dies.
        exchange.drop_next_response("add_order")
        task = asyncio.create_task(
            client.add_order(
                order_type="limit",
                side="buy",
                symbol="BTC/USD",
                order_qty="0.001",
                limit_price=far,
                timeout=3 * SCALE,
            )
        )
        await wait_for_event(
            events,
            lambda e: getattr(e, "channel", None) == "executions" and bool(e.data),  # type: ignore[attr-defined]
        )
        await exchange.drop_connections("auth")
        with pytest.raises(ConnectionLost) as info:
            async with asyncio.timeout(2 * SCALE):
                await task
        assert info.value.outcome_unknown
        assert info.value.request is not None
        assert info.value.request["method"] == "add_order"
        assert "token" not in info.value.request["params"]
        await wait_for_event(events, lambda e: isinstance(e, Resubscribed) and e.endpoint == "auth")
        assert len(exchange.open_orders()) == 1

    async def test_dead_mans_switch(self, client: KrakenWSClient) -> None:
        async with client.dead_mans_switch(timeout=60, refresh_every=0.05) as first:
            assert first.triggerTime
            await client.ping(endpoint="auth")


class TestFaults:
    @pytest.mark.parametrize("code", [1000, 1001, 1011])
    async def test_close_code_reconnects_everything(
        self, client: KrakenWSClient, exchange: LocalExchange, code: int
    ) -> None:
        await subscribe_everything(client)
        events = client.events()
        await exchange.close_connections(code=code, reason="test")
        await wait_for_event(events, lambda e: isinstance(e, Disconnected) and e.code == code)
        await wait_until(
            client, events, lambda: all_live(client, ["BTC/USD", "ETH/USD"], ["BTC/USD"])
        )

    async def test_abrupt_drop_mid_stream(
        self, client: KrakenWSClient, exchange: LocalExchange
    ) -> None:
        await subscribe_everything(client)
        events = client.events()
        await exchange.drop_connections()
        await wait_for_event(events, lambda e: isinstance(e, Disconnected) and e.code == 1006)
        await wait_for_event(events, lambda e: isinstance(e, Resubscribed))
        await wait_until(
            client, events, lambda: all_live(client, ["BTC/USD", "ETH/USD"], ["BTC/USD"])
        )

    async def test_stall_detected_by_watchdog(
        self, client: KrakenWSClient, exchange: LocalExchange
    ) -> None:
        await client.book("BTC/USD")
        events = client.events()
        exchange.stall("public")
        start = client.clock()
        await wait_for_event(
            events, lambda e: isinstance(e, Disconnected) and e.endpoint == "public", limit=3
        )
        assert client.clock() - start < 0.6 * SCALE + 0.5
        exchange.resume("public")
        await wait_until(
            client,
            events,
            lambda: (
                client._core.live.managers["book"].l2("BTC/USD").is_valid
                and len(client.acknowledged_subscriptions()) == 1
            ),
        )

    async def test_checksum_resync_only_that_symbol(
        self, client: KrakenWSClient, exchange: LocalExchange
    ) -> None:
        await client.book("BTC/USD")
        await client.book("ETH/USD")
        events = client.events()
        exchange.corrupt_next_checksum("BTC/USD")
        resync = await wait_for_event(events, lambda e: isinstance(e, BookResync))
        assert isinstance(resync, BookResync)
        assert resync.symbol == "BTC/USD"
        await wait_until(
            client, events, lambda: client._core.live.managers["book"].l2("BTC/USD").is_valid
        )
        assert client._core.live.managers["book"].l2("ETH/USD").is_valid
        assert client.connection_state("public") is ConnectionState.OPEN

    async def test_malformed_frame_ignored(
        self, client: KrakenWSClient, exchange: LocalExchange
    ) -> None:
        await client.subscribe_ticker(["BTC/USD"])
        await exchange.send_malformed("public")
        assert await client.ping() >= 0
        assert exchange.connection_count("public") == 1

    async def test_system_status_event(
        self, client: KrakenWSClient, exchange: LocalExchange
    ) -> None:
        await client.ping()
        events = client.events(channel="status")
        await exchange.set_system_status("maintenance")
        status = await wait_for_event(events, lambda e: True)
        assert status.data[0].system == "maintenance"  # type: ignore[union-attr]
        await exchange.set_system_status("online")

    async def test_random_fault_rounds(
        self, client: KrakenWSClient, exchange: LocalExchange
    ) -> None:
        await subscribe_everything(client)
        events = client.events()
        rng = random.Random(20)
        for _ in range(20):
            fault = rng.choice(["close", "drop", "corrupt", "stall"])
            endpoint = rng.choice(["public", "auth", "l3", None])
            if fault == "close":
                await exchange.close_connections(
                    code=rng.choice([1000, 1001, 1011]), endpoint=endpoint
                )
                await wait_for_event(events, lambda e: isinstance(e, Disconnected))
            elif fault == "drop":
                await exchange.drop_connections(endpoint)
                await wait_for_event(events, lambda e: isinstance(e, Disconnected))
            elif fault == "corrupt":
                exchange.corrupt_next_checksum(rng.choice(["BTC/USD", "ETH/USD"]))
            else:
                exchange.stall("public")
                await wait_for_event(events, lambda e: isinstance(e, Disconnected))
                exchange.resume("public")
            await wait_until(
                client, events, lambda: all_live(client, ["BTC/USD", "ETH/USD"], ["BTC/USD"])
            )
        await client.ping()


async def test_close_leaves_no_task_or_socket(exchange: LocalExchange) -> None:
    before = asyncio.all_tasks()
    client = make_client(exchange)
    async with client:
        await subscribe_everything(client)
        assert exchange.connection_count() == 3
    async with asyncio.timeout(2 * SCALE):
        await exchange.wait_for_connections(0)
    assert not {t for t in asyncio.all_tasks() - before if "kraken-ws" in t.get_name()}
    assert not client._core.tasks
    for conn in client._core.connections.values():
        assert conn.transport is None
        assert conn.task is not None
        assert conn.task.done()


async def test_book_precision_from_instrument(client: KrakenWSClient) -> None:
    await client.subscribe_instrument()
    book = await client.book("BTC/USD")
    assert book.price_precision is not None
    assert book.qty_precision is not None
