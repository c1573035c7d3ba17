"""Every order accounted for: against the local exchange, faults through a real TCP proxy.

The scenarios of issue 11: a half-open connection while an order is in flight, a retried
``req_id``, late answers, fills made while the auth socket was down, a sequence gap, and a fatal
error on the public endpoint that must not stop trading.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from decimal import Decimal
from typing import Any

import pytest

from kraken_ws.client import ClientEvent, KrakenWSClient
from kraken_ws.events import (
    ConnectionFailed,
    Disconnected,
    FillsRecovered,
    LateResponse,
    OrderResolved,
    Resubscribed,
    SequenceGap,
)
from kraken_ws.exceptions import ConnectionClosed, ConnectionLost, InvalidState, RequestTimeout
from kraken_ws.models.channels.executions import ExecutionsSnapshot, ExecutionsUpdate
from kraken_ws.testing import FaultProxy, LocalExchange

from .conftest import SCALE

FAR_BELOW = Decimal("1000.0")  # a BTC/USD buy that rests and never fills
RESTING: dict[str, Any] = {
    "order_type": "limit",
    "side": "buy",
    "symbol": "BTC/USD",
    "order_qty": Decimal("0.01"),
    "limit_price": FAR_BELOW,
}


@pytest.fixture
async def exchange() -> AsyncIterator[LocalExchange]:
    async with LocalExchange(rate=20, seed=7) as ex:
        yield ex


@pytest.fixture
async def auth_proxy(exchange: LocalExchange) -> AsyncIterator[FaultProxy]:
    async with FaultProxy.for_url(exchange.auth_ws_url, seed=1) as proxy:
        yield proxy


def make_client(ex: LocalExchange, proxy: FaultProxy | None, **kwargs: Any) -> KrakenWSClient:
    options: dict[str, Any] = {
        "request_timeout": 2.0 * SCALE,
        "watchdog_timeout": 2.0 * SCALE,
        "ping_interval": None,
        "reconnect_initial_delay": 0.05,
        "reconnect_max_delay": 0.2,
        "reconcile_grace": 0.3,
    }
    options.update(kwargs)
    return KrakenWSClient(
        ex.api_key,
        ex.api_secret,
        ws_url=ex.ws_url,
        auth_ws_url=proxy.url(ex.auth_ws_url) if proxy is not None else ex.auth_ws_url,
        l3_ws_url=ex.l3_ws_url,
        rest_url=ex.rest_url,
        **options,
    )


class Recorder:
    """Collects every event of a client from the moment it is created."""

    def __init__(self, client: KrakenWSClient) -> None:
        self.events: list[ClientEvent] = []
        self._changed = asyncio.Event()
        self._task = asyncio.create_task(self._pump(client))

    async def _pump(self, client: KrakenWSClient) -> None:
        async for event in client.events():
            self.events.append(event)
            self._changed.set()

    async def wait_for(self, predicate: Any, timeout: float = 10.0) -> ClientEvent:
        async with asyncio.timeout(timeout * SCALE):
            while True:
                for event in self.events:
                    if predicate(event):
                        return event
                self._changed.clear()
                await self._changed.wait()

    async def stop(self) -> None:
        self._task.cancel()
        await asyncio.gather(self._task, return_exceptions=True)

    def fills(self) -> list[str]:
        return [
            r.exec_id
            for e in self.events
            if isinstance(e, ExecutionsSnapshot | ExecutionsUpdate)
            for r in e.data
            if r.exec_type == "trade" and r.exec_id is not None
        ]


async def test_half_open_order_is_reported_placed(
    exchange: LocalExchange, auth_proxy: FaultProxy
) -> None:
    """Issue 11, item 1: a half-open auth connection while add_order is in flight."""
    async with make_client(exchange, auth_proxy) as client:
        seen = Recorder(client)
        await client.ping(endpoint="auth")
        # One abrupt drop first, recovered.
        auth_proxy.cut()
        await seen.wait_for(lambda e: isinstance(e, Disconnected) and e.endpoint == "auth")
        await client.ping(endpoint="auth")
        # Now the server->client direction goes silent; client->server still flows.
        auth_proxy.stall("downstream")
        started = time.monotonic()
        with pytest.raises((RequestTimeout, ConnectionLost)) as caught:
            await client.add_order(
                **RESTING,
                cl_ord_id="half-open-1",
            )
        elapsed = time.monotonic() - started
        error = caught.value
        assert elapsed <= client.request_timeout + 0.5 * SCALE
        assert getattr(error, "outcome_unknown", False) is True
        assert error.request is not None  # type: ignore[union-attr]
        assert error.request["params"]["cl_ord_id"] == "half-open-1"  # type: ignore[union-attr]
        assert "token" not in error.request["params"]  # type: ignore[union-attr]
        # The order did reach the exchange.
        assert [o["cl_ord_id"] for o in exchange.open_orders()] == ["half-open-1"]
        assert [e.cl_ord_id for e in client.in_doubt_orders()] == ["half-open-1"]
        auth_proxy.resume()
        [resolved] = await client.resolve_in_doubt(timeout=10 * SCALE)
        assert resolved.outcome == "placed"
        assert resolved.cl_ord_id == "half-open-1"
        assert resolved.order_id == exchange.open_orders()[0]["order_id"]
        assert resolved.order_status == "new"
        event = await seen.wait_for(lambda e: isinstance(e, OrderResolved))
        assert event == resolved
        assert client.in_doubt_orders() == []
        # Exactly one such order at the exchange.
        assert [o["cl_ord_id"] for o in exchange.open_orders()] == ["half-open-1"]
        await seen.stop()


async def test_order_dropped_before_reaching_the_exchange_is_not_placed(
    exchange: LocalExchange, auth_proxy: FaultProxy
) -> None:
    async with make_client(exchange, auth_proxy) as client:
        await client.ping(endpoint="auth")
        auth_proxy.stall("upstream")  # the order never reaches the exchange
        with pytest.raises((RequestTimeout, ConnectionLost)) as caught:
            await client.add_order(
                **RESTING,
                cl_ord_id="lost-1",
            )
        assert getattr(caught.value, "outcome_unknown", False) is True
        auth_proxy.cut()  # held bytes are dropped with the connection, as on a real network
        auth_proxy.resume()
        [resolved] = await client.resolve_in_doubt(timeout=10 * SCALE)
        assert resolved.outcome == "not_placed"
        assert exchange.open_orders() == []


async def test_auto_cl_ord_id_makes_orders_findable(exchange: LocalExchange) -> None:
    async with make_client(exchange, None) as client:
        result = await client.add_order(
            **RESTING,
        )
        assert result.cl_ord_id is not None
        assert len(result.cl_ord_id) == 36
        tagged = await client.add_order(
            **RESTING,
            order_userref=5,
        )
        assert tagged.cl_ord_id is None  # the user's own tag is enough (and exclusive)
    async with make_client(exchange, None, auto_cl_ord_id=False) as client:
        plain = await client.add_order(
            **RESTING,
        )
        assert plain.cl_ord_id is None


async def test_reused_req_id_never_gets_another_orders_answer(exchange: LocalExchange) -> None:
    """Issue 11, items 2 and 3: a timed-out req_id stays reserved; the late answer is an event."""
    async with make_client(exchange, None) as client:
        seen = Recorder(client)
        await client.ping(endpoint="auth")
        exchange.delay_responses(1.0, "add_order")
        with pytest.raises(RequestTimeout) as caught:
            await client.add_order(
                **RESTING,
                cl_ord_id="first",
                req_id=100,
                timeout=0.3,
            )
        assert caught.value.outcome_unknown is True
        assert caught.value.req_id == 100
        exchange.delay_responses(0, "add_order")
        with pytest.raises(InvalidState, match="req_id 100 is reserved"):
            await client.add_order(
                **RESTING,
                cl_ord_id="second",
                req_id=100,
            )
        late = await seen.wait_for(lambda e: isinstance(e, LateResponse))
        assert isinstance(late, LateResponse)
        assert (late.req_id, late.method) == (100, "add_order")
        resolved = await seen.wait_for(lambda e: isinstance(e, OrderResolved))
        assert isinstance(resolved, OrderResolved)
        assert (resolved.outcome, resolved.source) == ("placed", "late_response")
        assert resolved.cl_ord_id == "first"
        first_id = resolved.order_id
        # The answer is in: the id is free again and answers only its new request.
        retry = await client.add_order(
            **RESTING,
            cl_ord_id="second",
            req_id=100,
        )
        assert retry.order_id != first_id
        assert retry.cl_ord_id == "second"
        assert sorted(o["cl_ord_id"] for o in exchange.open_orders()) == ["first", "second"]
        await seen.stop()


async def test_fills_made_while_disconnected_reach_the_user(
    exchange: LocalExchange, auth_proxy: FaultProxy
) -> None:
    """Issue 11, item 5: a fill during the gap is delivered once after the reconnect."""
    async with make_client(exchange, auth_proxy) as client, make_client(exchange, None) as other:
        seen = Recorder(client)
        await client.subscribe_executions()  # default params: no trades in the snapshot
        await client.add_order(
            order_type="market", side="buy", symbol="BTC/USD", order_qty=Decimal("0.01")
        )
        await seen.wait_for(lambda e: len(seen.fills()) == 1)
        auth_proxy.refuse_connects()
        auth_proxy.cut()
        await seen.wait_for(lambda e: isinstance(e, Disconnected) and e.endpoint == "auth")
        # Meanwhile the account trades (another session of the same account).
        await other.add_order(
            order_type="market", side="buy", symbol="BTC/USD", order_qty=Decimal("0.02")
        )
        await other.add_order(
            order_type="market", side="sell", symbol="BTC/USD", order_qty=Decimal("0.005")
        )
        auth_proxy.refuse_connects(False)
        recovered = await seen.wait_for(lambda e: isinstance(e, FillsRecovered))
        assert isinstance(recovered, FillsRecovered)
        assert recovered.count == 2
        await seen.wait_for(lambda e: isinstance(e, Resubscribed) and e.endpoint == "auth")
        exchange_fills = [f["exec_id"] for f in exchange.engine.recent_fills]
        assert sorted(seen.fills()) == sorted(exchange_fills)
        assert len(seen.fills()) == len(set(seen.fills()))  # never twice
        await seen.stop()


async def test_snapshot_fills_are_not_delivered_twice(
    exchange: LocalExchange, auth_proxy: FaultProxy
) -> None:
    async with make_client(exchange, auth_proxy) as client:
        seen = Recorder(client)
        await client.subscribe_executions(snap_trades=True)
        await client.add_order(
            order_type="market", side="buy", symbol="BTC/USD", order_qty=Decimal("0.01")
        )
        await seen.wait_for(lambda e: len(seen.fills()) == 1)
        auth_proxy.cut()
        await seen.wait_for(lambda e: isinstance(e, Resubscribed) and e.endpoint == "auth")
        # The replayed snapshot lists the fill again; the user must not get it twice.
        await seen.wait_for(
            lambda e: sum(isinstance(x, ExecutionsSnapshot) for x in seen.events) >= 2
        )
        assert len(seen.fills()) == 1
        await seen.stop()


async def test_sequence_gap_resubscribes(exchange: LocalExchange) -> None:
    async with make_client(exchange, None) as client:
        seen = Recorder(client)
        await client.subscribe_executions()
        await seen.wait_for(lambda e: isinstance(e, ExecutionsSnapshot))
        await exchange.inject_frame(
            '{"channel":"executions","type":"update","data":[],"sequence":9}', endpoint="auth"
        )
        gap = await seen.wait_for(lambda e: isinstance(e, SequenceGap))
        assert isinstance(gap, SequenceGap)
        assert (gap.channel_name, gap.expected, gap.received) == ("executions", 2, 9)
        # Resubscribed with a snapshot: a second snapshot arrives, and no further gap.
        await seen.wait_for(
            lambda e: sum(isinstance(x, ExecutionsSnapshot) for x in seen.events) >= 2
        )
        await client.add_order(
            order_type="market", side="buy", symbol="BTC/USD", order_qty=Decimal("0.01")
        )
        await seen.wait_for(lambda e: len(seen.fills()) == 1)
        assert sum(isinstance(e, SequenceGap) for e in seen.events) == 1
        await seen.stop()


async def test_policy_close_on_public_does_not_stop_trading(exchange: LocalExchange) -> None:
    """Issue 11, item 6: a fatal 1008 on the public endpoint fails that endpoint only."""
    async with make_client(exchange, None) as client:
        seen = Recorder(client)
        book = await client.book("BTC/USD")
        assert book.is_valid
        await client.ping(endpoint="auth")
        await exchange.close_connections(code=1008, reason="policy", endpoint="public")
        failed = await seen.wait_for(lambda e: isinstance(e, ConnectionFailed))
        assert isinstance(failed, ConnectionFailed)
        assert failed.endpoint == "public"
        assert await client.ping(endpoint="auth") >= 0
        result = await client.add_order(
            **RESTING,
        )
        assert result.order_id
        with pytest.raises(ConnectionClosed):
            await client.ping()  # the public endpoint itself stays failed
        await seen.stop()


async def test_cancelled_call_leaves_its_order_tracked(exchange: LocalExchange) -> None:
    """A caller that stops waiting (task cancelled) after the order was written."""
    async with make_client(exchange, None) as client:
        seen = Recorder(client)
        await client.ping(endpoint="auth")
        exchange.delay_responses(0.5, "add_order")
        call = asyncio.create_task(
            client.add_order(
                **RESTING,
                cl_ord_id="walked-away",
                req_id=55,
            )
        )
        await asyncio.sleep(0.1)
        call.cancel()
        with pytest.raises(asyncio.CancelledError):
            await call
        assert [e.cl_ord_id for e in client.in_doubt_orders()] == ["walked-away"]
        [resolved] = await client.resolve_in_doubt(timeout=5 * SCALE)
        assert (resolved.outcome, resolved.source) == ("placed", "late_response")
        late = await seen.wait_for(lambda e: isinstance(e, LateResponse))
        assert isinstance(late, LateResponse)
        assert late.req_id == 55
        await seen.stop()


async def test_a_request_that_changes_no_order_is_never_in_doubt(exchange: LocalExchange) -> None:
    """Only written order-entry requests are tracked: a ping given up on is not an order."""
    async with make_client(exchange, None) as client:
        await client.ping(endpoint="auth")
        exchange.delay_responses(0.5, "ping")
        with pytest.raises(RequestTimeout) as caught:
            await client.ping(endpoint="auth", timeout=0.1)
        assert caught.value.outcome_unknown is False
        call = asyncio.create_task(client.ping(endpoint="auth"))
        await asyncio.sleep(0)  # let it be written
        call.cancel()
        with pytest.raises(asyncio.CancelledError):
            await call
        assert client.in_doubt_orders() == []
        assert await client.resolve_in_doubt(timeout=1) == []
