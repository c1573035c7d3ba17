"""Timers run on the exchange's injected clock: ClockTimers and the dead man's switch.

Nothing here waits for wall time: the clock is moved by hand and the engine settled.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from decimal import Decimal

import pytest
from websockets.asyncio.client import connect

from kraken_ws.models.methods.add_order import AddOrderParams
from kraken_ws.testing import DEFAULT_INSTRUMENTS, LocalExchange, Market, MatchingEngine
from kraken_ws.testing.engine.timers import ClockTimers

from .conftest import Client, get_token
from .test_trading import Trader, best

T0 = 1_800_000_000.0


class Clock:
    """A hand-moved epoch clock."""

    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


# -- ClockTimers -------------------------------------------------------------------------------


def test_a_timer_fires_once_when_the_clock_reaches_it() -> None:
    clock = Clock()
    timers = ClockTimers(clock)
    fired: list[str] = []
    timers.call_later(5, lambda: fired.append("a"))
    assert timers.run_due() == 0
    clock.advance(4.999)
    assert timers.run_due() == 0
    assert fired == []
    clock.advance(0.001)
    assert timers.run_due() == 1
    assert fired == ["a"]
    clock.advance(100)
    assert timers.run_due() == 0  # one-shot
    assert fired == ["a"]
    assert len(timers) == 0


def test_timers_fire_in_due_order_then_scheduling_order() -> None:
    clock = Clock()
    timers = ClockTimers(clock)
    fired: list[str] = []
    timers.call_at(T0 + 2, lambda: fired.append("late"))
    timers.call_at(T0 + 1, lambda: fired.append("first"))
    timers.call_at(T0 + 1, lambda: fired.append("second"))
    clock.advance(10)
    assert timers.run_due() == 3
    assert fired == ["first", "second", "late"]


def test_cancelled_timers_do_not_fire() -> None:
    clock = Clock()
    timers = ClockTimers(clock)
    fired: list[str] = []
    kept = timers.call_later(1, lambda: fired.append("kept"))
    dropped = timers.call_later(1, lambda: fired.append("dropped"))
    dropped.cancel()
    assert len(timers) == 1
    clock.advance(1)
    assert timers.run_due() == 1
    assert fired == ["kept"]
    kept.cancel()  # after it fired: harmless
    timers.call_later(1, lambda: fired.append("never"))
    timers.cancel_all()
    clock.advance(1)
    assert timers.run_due() == 0
    assert fired == ["kept"]


def test_a_timer_scheduled_by_a_due_timer_for_now_fires_in_the_same_run() -> None:
    clock = Clock()
    timers = ClockTimers(clock)
    fired: list[str] = []
    timers.call_later(1, lambda: timers.call_later(0, lambda: fired.append("chained")))
    clock.advance(1)
    assert timers.run_due() == 2
    assert fired == ["chained"]


# -- the dead man's switch in the engine (no event loop at all) ---------------------------------


def _resting_buy(market: Market) -> AddOrderParams:
    level = market["BTC/USD"].best("bids")
    assert level is not None
    return AddOrderParams.model_validate(
        {
            "order_type": "limit",
            "side": "buy",
            "order_qty": "0.01",
            "limit_price": str(level[0] - 1000),
            "symbol": "BTC/USD",
            "token": "unused",
        }
    )


def test_engine_dead_mans_switch_fires_on_the_injected_clock() -> None:
    clock = Clock()
    market = Market(list(DEFAULT_INSTRUMENTS), 7, clock)
    engine = MatchingEngine(market, clock)
    order_id = engine.add_order(_resting_buy(market), "BTC/USD")["order_id"]
    # No running event loop: the switch needs none.
    armed = engine.cancel_all_after(10)
    assert armed["triggerTime"] == "2027-01-15T08:00:10Z"
    engine.drain()
    clock.advance(9.9)
    engine.settle()
    assert order_id in engine.orders
    clock.advance(0.1)
    engine.settle()
    assert engine.orders == {}
    reports, _ = engine.drain()
    assert [(r["order_id"], r["exec_type"], r["reason"]) for r in reports] == [
        (order_id, "canceled", "Dead man's switch")
    ]


def test_engine_dead_mans_switch_rearm_disarm_and_stop() -> None:
    clock = Clock()
    market = Market(list(DEFAULT_INSTRUMENTS), 7, clock)
    engine = MatchingEngine(market, clock)
    engine.add_order(_resting_buy(market), "BTC/USD")
    engine.cancel_all_after(10)
    clock.advance(8)
    engine.cancel_all_after(10)  # refreshed: the countdown restarts
    clock.advance(8)
    engine.settle()
    assert len(engine.orders) == 1
    assert engine.cancel_all_after(0)["triggerTime"] == "0"  # disarmed
    clock.advance(100)
    engine.settle()
    assert len(engine.orders) == 1
    engine.cancel_all_after(1)
    engine.stop()  # the exchange stops: timers disarmed
    clock.advance(100)
    engine.settle()
    assert len(engine.orders) == 1


def test_engine_dead_mans_switch_spares_orders_in_maintenance() -> None:
    clock = Clock()
    market = Market(list(DEFAULT_INSTRUMENTS), 7, clock)
    engine = MatchingEngine(market, clock)
    engine.add_order(_resting_buy(market), "BTC/USD")
    engine.cancel_all_after(5)
    engine.status = "maintenance"
    clock.advance(5)
    engine.settle()  # fires, but maintenance refuses cancels: nothing happens
    assert len(engine.orders) == 1
    engine.status = "online"
    clock.advance(5)
    engine.settle()  # fired once only
    assert len(engine.orders) == 1


# -- the dead man's switch through the exchange ----------------------------------------------


@pytest.fixture
async def clocked() -> AsyncIterator[tuple[LocalExchange, Clock]]:
    clock = Clock()
    async with LocalExchange(
        rate=None, seed=5, heartbeat_interval=None, clock=clock, idle_timeout=None
    ) as exchange:
        yield exchange, clock


async def test_dead_mans_switch_fires_when_the_clock_says_so(
    clocked: tuple[LocalExchange, Clock],
) -> None:
    ex, clock = clocked
    async with connect(ex.auth_ws_url, max_queue=None) as ws:
        client = Client(ws)
        assert (await client.recv())["channel"] == "status"
        trader = Trader(client, await get_token(ex), ex)
        ack = await trader.call("subscribe", channel="executions", snap_orders=False)
        assert ack["success"], ack
        price = best(ex, "BTC/USD", "bids") - 1000
        placed = await trader.add(
            order_type="limit",
            side="buy",
            order_qty="0.01",
            limit_price=str(price),
            symbol="BTC/USD",
        )
        order_id = placed["result"]["order_id"]
        armed = await trader.call("cancel_all_orders_after", timeout=60)
        assert armed["result"]["triggerTime"] == "2027-01-15T08:01:00Z"
        clock.advance(59)
        await ex.step(0)  # settles the engine without moving the market
        assert [o["order_id"] for o in ex.open_orders()] == [order_id]
        clock.advance(1)
        await ex.step(0)
        canceled = await trader.execution("canceled", order_id)
        assert canceled["reason"] == "Dead man's switch"
        assert ex.open_orders() == []
        assert ex.balances()["USD"] == Decimal(1_000_000)
