"""LocalExchange fidelity rules: trading rate counter, open-orders limit, deadline, OTO close
orders, idle timeout, message-rate limit, reduce_only/margin (reference §1.2, §7, §9, §10).

Every time-based rule runs on an injected clock that the tests move by hand; nothing sleeps.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from decimal import Decimal
from typing import Any

import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

from kraken_ws.models.channels.executions import ExecutionsUpdate
from kraken_ws.testing import LocalExchange
from kraken_ws.testing.market import rfc3339

from .conftest import Client, get_token
from .test_public import _coerce
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


@pytest.fixture
def clock() -> Clock:
    return Clock()


async def open_trader(ex: LocalExchange, *, subscribe: bool = True) -> Trader:
    ws = await connect(ex.auth_ws_url, max_queue=None)
    client = Client(ws)
    assert (await client.recv())["channel"] == "status"
    trader = Trader(client, await get_token(ex), ex)
    if subscribe:
        ack = await trader.call("subscribe", channel="executions", snap_orders=False)
        assert ack["success"], ack
    return trader


@pytest.fixture
async def ex(clock: Clock) -> AsyncIterator[LocalExchange]:
    # The clock jumps by minutes in some tests: the idle timeout has its own tests.
    async with LocalExchange(
        rate=None, seed=42, heartbeat_interval=None, clock=clock, idle_timeout=None
    ) as exchange:
        yield exchange


@pytest.fixture
async def trader(ex: LocalExchange) -> AsyncIterator[Trader]:
    t = await open_trader(ex)
    yield t
    await t.client.ws.close()


def far_bid(ex: LocalExchange, symbol: str = "BTC/USD", offset: int = 1000) -> str:
    return str(best(ex, symbol, "bids") - offset)


def resting(ex: LocalExchange, **extra: Any) -> dict[str, Any]:
    """A small buy limit order far below the market (it rests)."""
    return {
        "order_type": "limit",
        "side": "buy",
        "order_qty": "0.01",
        "limit_price": far_bid(ex),
        "symbol": "BTC/USD",
        **extra,
    }


def ioc(ex: LocalExchange, symbol: str = "BTC/USD") -> dict[str, Any]:
    """An IOC buy far below the market: accepted, never fills, never stays open."""
    return {
        "order_type": "limit",
        "side": "buy",
        "order_qty": "0.01" if symbol != "PEPE/USD" else "100000",
        "limit_price": far_bid(ex, symbol, 1000 if symbol != "PEPE/USD" else 0),
        "symbol": symbol,
        "time_in_force": "ioc",
    }


# -- trading rate counter (reference §10.1) ----------------------------------------------------


@pytest.mark.parametrize(
    ("tier", "threshold", "decay"),
    [("starter", 60, 1.0), ("intermediate", 125, 2.34), ("pro", 180, 3.75)],
)
async def test_rate_counter_threshold_and_decay_by_tier(
    clock: Clock, tier: str, threshold: int, decay: float
) -> None:
    async with LocalExchange(
        rate=None,
        seed=1,
        heartbeat_interval=None,
        clock=clock,
        tier=tier,  # type: ignore[arg-type]
    ) as exchange:
        trader = await open_trader(exchange, subscribe=False)
        ack = await trader.call("subscribe", channel="executions", snap_orders=False)
        assert ack["result"]["maxratecount"] == str(threshold)
        order = ioc(exchange)
        for _ in range(threshold):
            assert (await trader.add(**order))["success"]
        assert exchange.engine.rate_count("BTC/USD") == threshold
        refused = await trader.add(**order)
        assert refused["success"] is False
        assert refused["error"] == "EOrder:Rate limit exceeded"
        assert exchange.engine.rate_count("BTC/USD") == threshold  # a refusal is not charged
        # Per pair: another pair has its own counter.
        assert (await trader.add(**ioc(exchange, "ETH/USD")))["success"]
        # One second later the counter decayed by the tier's rate: room for int(decay) more.
        clock.advance(1.0)
        assert exchange.engine.rate_count("BTC/USD") == pytest.approx(threshold - decay)
        for _ in range(int(decay)):
            assert (await trader.add(**order))["success"]
        assert (await trader.add(**order))["error"] == "EOrder:Rate limit exceeded"
        clock.advance(1000)
        assert exchange.engine.rate_count("BTC/USD") == 0
        await trader.client.ws.close()


async def test_default_tier_is_intermediate(ex: LocalExchange, trader: Trader) -> None:
    assert ex.engine.tier.threshold == 125
    ack = await trader.call("subscribe", channel="balances", snapshot=False)
    assert ack["success"]


async def test_rate_counter_costs_per_transaction(
    ex: LocalExchange, trader: Trader, clock: Clock
) -> None:
    engine = ex.engine

    def count() -> float:
        return engine.rate_count("BTC/USD")

    async def cost(method: str, **params: Any) -> tuple[float, Any]:
        before = count()  # the clock is frozen during a request: the delta is the cost
        response = await trader.call(method, **params)
        return count() - before, response

    # Add +1; validate-only adds cost nothing; a failed add still pays the fixed +1.
    spent, ack = await cost("add_order", **resting(ex))
    assert spent == 1
    first = ack["result"]["order_id"]
    assert (await cost("add_order", **resting(ex), validate=True))[0] == 0
    spent, err = await cost("add_order", **resting(ex, order_qty="1000"))
    assert err["error"] == "EOrder:Insufficient funds"
    assert spent == 1
    # Amend: +1 fixed and the age penalty (<5 s: 3, <10 s: 2, <15 s: 1, then 0).
    for step, (age, penalty) in enumerate(((0, 3), (7, 2), (12, 1), (20, 0))):
        clock.advance(age)
        price = Decimal(far_bid(ex)) - step - 1
        spent, response = await cost("amend_order", order_id=first, limit_price=str(price))
        assert response["success"], response
        assert spent == 1 + penalty, (age, spent)  # each amend restarts the order's age
    # A refused amend pays the fixed +1 only.
    spent, err = await cost("amend_order", order_id=first, limit_price=str(price))
    assert err["error"] == "EOrder:No amendable parameters"
    assert spent == 1
    # Worked example of reference §10.1: add (+1), amend at 7 s (+1 +2), cancel 36 s later (+4).
    clock.advance(1000)
    spent, ack = await cost("add_order", **resting(ex))
    oid = ack["result"]["order_id"]
    clock.advance(7)
    spent2, _ = await cost("amend_order", order_id=oid, order_qty="0.02")
    clock.advance(36)
    spent3, response = await cost("cancel_order", order_id=[oid])
    assert response["success"]
    assert (spent, spent2, spent3) == (1, 3, 4)
    # Cancel by age: <5 s 8, <10 s 6, <15 s 5, <45 s 4, <90 s 2, <300 s 1, then 0.
    for age, penalty in ((0, 8), (5, 6), (10, 5), (15, 4), (45, 2), (90, 1), (300, 0)):
        oid = (await trader.add(**resting(ex)))["result"]["order_id"]
        clock.advance(age)
        spent, response = await cost("cancel_order", order_id=[oid])
        assert response["success"]
        assert spent == penalty, (age, spent)
        clock.advance(1000)
    # Edit: +1 fixed and the age penalty (<5 s 6, <10 s 5, <15 s 4, <45 s 2, <90 s 1).
    oid = (await trader.add(**resting(ex)))["result"]["order_id"]
    for age, penalty in ((0, 6), (5, 5), (10, 4), (15, 2), (45, 1), (90, 0)):
        clock.advance(age)
        spent, response = await cost(
            "edit_order", order_id=oid, symbol="BTC/USD", order_qty=str(Decimal("0.02") * (age + 1))
        )
        assert response["success"], response
        assert spent == 1 + penalty, (age, spent)
        oid = response["result"]["order_id"]  # the new order's age starts at 0
    # Batch add +n/2; batch cancel pays each order's age penalty.
    orders = [{k: v for k, v in resting(ex).items() if k != "symbol"} for _ in range(5)]
    spent, response = await cost("batch_add", symbol="BTC/USD", orders=orders)
    assert spent == 2.5
    ids = [row["order_id"] for row in response["result"]]
    clock.advance(6)
    spent, response = await cost("batch_cancel", orders=ids[:3])
    assert response["result"]["count"] == "3"
    assert spent == 3 * 6
    # Amending the quantity down to the filled quantity cancels the rest: amend + cancel penalty.
    ask = ex.market["BTC/USD"].best("asks")
    assert ask is not None
    clock.advance(1000)
    ack = await trader.add(
        order_type="limit",
        side="buy",
        order_qty=str(ask[1] + 1),
        limit_price=str(ask[0]),
        symbol="BTC/USD",
    )
    oid = ack["result"]["order_id"]
    filled = next(o for o in ex.open_orders() if o["order_id"] == oid)["cum_qty"]
    spent, response = await cost("amend_order", order_id=oid, order_qty=str(filled))
    assert response["success"], response
    assert spent == 1 + 3 + 8
    assert oid not in {o["order_id"] for o in ex.open_orders()}


async def test_rate_limit_refuses_amend_edit_cancel_and_batches(
    clock: Clock,
) -> None:
    async with LocalExchange(
        rate=None, seed=3, heartbeat_interval=None, clock=clock, tier="starter", idle_timeout=None
    ) as exchange:
        trader = await open_trader(exchange, subscribe=False)
        engine = exchange.engine
        old = (await trader.add(**resting(exchange)))["result"]["order_id"]
        clock.advance(400)  # old enough to cancel for free; its +1 has decayed
        ids = [(await trader.add(**resting(exchange)))["result"]["order_id"] for _ in range(10)]
        # A batch cancel of young orders may go over the threshold: accepted, all charged.
        response = await trader.call("batch_cancel", orders=ids[:8])
        assert response["result"]["count"] == "8"
        assert engine.rate_count("BTC/USD") == 10 + 8 * 8
        ids = ids[8:]
        clock.advance(14)  # 74 - 14 * 1.0: exactly at the threshold; ids are 14 s old
        assert engine.rate_count("BTC/USD") == 60
        batch_order = {k: v for k, v in ioc(exchange).items() if k != "symbol"}
        requests: list[tuple[str, dict[str, Any]]] = [
            ("add_order", resting(exchange)),
            ("amend_order", {"order_id": ids[0], "order_qty": "0.5"}),
            ("edit_order", {"order_id": ids[0], "symbol": "BTC/USD", "order_qty": "0.5"}),
            ("batch_add", {"symbol": "BTC/USD", "orders": [batch_order] * 2}),
        ]
        for method, params in requests:
            err = await trader.call(method, **params)
            assert err["error"] == "EOrder:Rate limit exceeded", (method, err)
        rid = await trader.client.request(
            "cancel_order", {"order_id": [ids[0], old], "token": trader.token}
        )
        first, second = await trader.client.responses(rid, 2)
        assert first["error"] == "EOrder:Rate limit exceeded"  # a young order: +8 refused
        assert second["success"] is True  # a 400 s old order costs nothing: accepted
        assert ids[0] in {o["order_id"] for o in exchange.open_orders()}
        assert engine.rate_count("BTC/USD") == 60
        await trader.client.ws.close()


async def test_open_orders_limit_per_pair(ex: LocalExchange, trader: Trader) -> None:
    # Intermediate: 80 open orders per pair (the rate counter reaches 80 of 125).
    for _ in range(80):
        assert (await trader.add(**resting(ex)))["success"]
    err = await trader.add(**resting(ex))
    assert err["error"] == "EOrder:Orders limit exceeded"
    assert ex.engine.rate_count("BTC/USD") == 81  # the fixed count is charged all the same
    eth = {**resting(ex), "symbol": "ETH/USD", "limit_price": far_bid(ex, "ETH/USD", 100)}
    assert (await trader.add(**eth))["success"]  # per pair
    ioc_order = ioc(ex)
    assert (await trader.add(**ioc_order))["error"] == "EOrder:Orders limit exceeded"
    rid = await trader.client.request(
        "cancel_order",
        {"order_id": [o["order_id"] for o in ex.open_orders()[:1]], "token": trader.token},
    )
    assert (await trader.client.response(rid))["success"]
    orders = [{k: v for k, v in resting(ex).items() if k != "symbol"} for _ in range(2)]
    err = await trader.call("batch_add", symbol="BTC/USD", orders=orders)
    assert err["error"] == "EOrder:Orders limit exceeded"
    assert (await trader.add(**resting(ex)))["success"]
    assert sum(o["symbol"] == "BTC/USD" for o in ex.open_orders()) == 80


# -- deadline (reference §2.4, §7) ------------------------------------------------------------


async def test_deadline(ex: LocalExchange, trader: Trader, clock: Clock) -> None:
    def at(offset: float) -> str:
        return rfc3339(clock.now + offset)

    oid = (await trader.add(**resting(ex), deadline=at(5)))["result"]["order_id"]
    count = ex.engine.rate_count("BTC/USD")
    for method, params in (
        ("add_order", resting(ex)),
        ("amend_order", {"order_id": oid, "order_qty": "0.5"}),
        ("edit_order", {"order_id": oid, "symbol": "BTC/USD", "order_qty": "0.5"}),
        (
            "batch_add",
            {
                "symbol": "BTC/USD",
                "orders": [{k: v for k, v in resting(ex).items() if k != "symbol"}] * 2,
            },
        ),
    ):
        err = await trader.call(method, **params, deadline=at(-0.001))
        assert err["error"] == "EService:Deadline elapsed", (method, err)
        for offset in (0.2, 61):
            err = await trader.call(method, **params, deadline=at(offset))
            assert err["error"] == "EGeneral:Invalid arguments:deadline", (method, offset, err)
    assert [o["order_id"] for o in ex.open_orders()] == [oid]  # nothing placed or changed
    assert ex.open_orders()[0]["order_qty"] == Decimal("0.01")
    assert ex.engine.rate_count("BTC/USD") == count  # refused before the engine: not charged
    amend = await trader.call("amend_order", order_id=oid, order_qty="0.5", deadline=at(0.5))
    assert amend["success"], amend
    edit = await trader.call(
        "edit_order", order_id=oid, symbol="BTC/USD", order_qty="0.6", deadline=at(60)
    )
    assert edit["success"], edit


# -- OTO conditional close orders (reference §7.2) ----------------------------------------------


def _template(kind: str, price: Decimal) -> dict[str, Any]:
    """A sell-side close template for a buy primary filled around ``price``."""
    up, down = str(price + 1000), str(price - 1000)
    return {
        "limit": {"limit_price": up},
        "stop-loss": {"trigger_price": "-2", "trigger_price_type": "pct"},
        "stop-loss-limit": {"trigger_price": down, "limit_price": down},
        "take-profit": {"trigger_price": "500", "trigger_price_type": "quote"},
        "take-profit-limit": {"trigger_price": up, "limit_price": up},
        "trailing-stop": {"trigger_price": "1", "trigger_price_type": "pct"},
        "trailing-stop-limit": {
            "trigger_price": "100",
            "trigger_price_type": "quote",
            "limit_price": "10",
        },
    }[kind]


@pytest.mark.parametrize(
    "kind",
    [
        "limit",
        "stop-loss",
        "stop-loss-limit",
        "take-profit",
        "take-profit-limit",
        "trailing-stop",
        "trailing-stop-limit",
    ],
)
async def test_oto_close_order_per_fill(ex: LocalExchange, trader: Trader, kind: str) -> None:
    market = ex.market["BTC/USD"]
    asks = market.top("asks", 2)
    qty = asks[0][1] + asks[1][1] / 2  # walks two levels: two fills, two close orders
    conditional = {"order_type": kind, **_template(kind, asks[0][0])}
    ack = await trader.add(
        order_type="market",
        side="buy",
        order_qty=str(qty),
        symbol="BTC/USD",
        conditional=conditional,
    )
    assert ack["success"], ack
    primary = ack["result"]["order_id"]
    pending = await trader.execution("pending_new", primary)
    assert pending["contingent"]["order_type"] == kind
    fills = [await trader.execution("trade", primary) for _ in range(2)]
    closes: list[dict[str, Any]] = []
    while len(closes) < 2:
        report = await trader.execution("pending_new")
        ExecutionsUpdate.model_validate(
            _coerce({"channel": "executions", "type": "update", "data": [report], "sequence": 1})
        )
        closes.append(report)
    for fill, close in zip(fills, closes, strict=True):
        assert close["ord_ref_id"] == primary
        assert close["side"] == "sell"
        assert close["order_type"] == kind
        assert Decimal(close["order_qty"]) == Decimal(fill["last_qty"])
        if kind == "stop-loss":  # pct offset from the fill's price
            trigger = Decimal(close["triggers"]["actual_price"])
            assert trigger == market.spec.price(Decimal(fill["last_price"]) * Decimal("0.98"))
        if kind != "limit":
            assert close["triggers"]["status"] == "untriggered"
    opened = {o["order_id"]: o for o in ex.open_orders()}
    assert {c["order_id"] for c in closes} <= set(opened)
    assert all(opened[c["order_id"]]["ord_ref_id"] == primary for c in closes)
    assert market.get_order(closes[0]["order_id"]) is not None or kind != "limit"


async def test_oto_close_order_from_maker_fill(ex: LocalExchange, trader: Trader) -> None:
    bid = best(ex, "BTC/USD", "bids")
    ask = best(ex, "BTC/USD", "asks")
    price = bid + Decimal("0.1") if ask - bid > Decimal("0.1") else bid
    ack = await trader.add(
        order_type="limit",
        side="buy",
        order_qty="0.05",
        limit_price=str(price),
        symbol="BTC/USD",
        post_only=True,
        conditional={"order_type": "limit", "limit_price": str(ask + 2000)},
    )
    primary = ack["result"]["order_id"]
    for _ in range(3000):
        if ex.engine.orders.get(primary) is None or ex.engine.orders[primary].cum_qty > 0:
            break
        await ex.step(1, symbol="BTC/USD")
    fill = await trader.execution("trade", primary)
    assert fill["liquidity_ind"] == "m"
    close = await trader.execution("pending_new")
    assert close["ord_ref_id"] == primary
    assert close["side"] == "sell"
    assert close["order_qty"] == fill["last_qty"]


async def test_edit_refuses_oto_orders(ex: LocalExchange, trader: Trader) -> None:
    ack = await trader.add(
        **resting(ex), conditional={"order_type": "stop-loss", "trigger_price": "1000.0"}
    )
    err = await trader.call(
        "edit_order", order_id=ack["result"]["order_id"], symbol="BTC/USD", order_qty="0.5"
    )
    assert err["error"] == "EOrder:Invalid order"


# -- reduce_only / margin (reference §7.2, §9) ---------------------------------------------------


async def test_reduce_only_and_margin_on_a_spot_account(ex: LocalExchange, trader: Trader) -> None:
    err = await trader.add(**resting(ex), reduce_only=True)
    assert err["error"] == "EOrder:Reduce only:No position exists"
    err = await trader.add(**resting(ex), margin=True)
    assert err["error"] == "EOrder:Cannot open position"
    err = await trader.add(**resting(ex), margin=True, reduce_only=True)
    assert err["error"] == "EOrder:Reduce only:No position exists"
    err = await trader.add(**resting(ex), reduce_only=True, validate=True)
    assert err["error"] == "EOrder:Reduce only:No position exists"
    plain = {k: v for k, v in resting(ex).items() if k != "symbol"}
    err = await trader.call(
        "batch_add", symbol="BTC/USD", orders=[plain, {**plain, "reduce_only": True}]
    )
    assert err["error"] == "EOrder:Reduce only:No position exists"
    assert ex.open_orders() == []
    oid = (await trader.add(**resting(ex), reduce_only=False))["result"]["order_id"]
    err = await trader.call(
        "edit_order", order_id=oid, symbol="BTC/USD", order_qty="0.5", reduce_only=True
    )
    assert err["error"] == "EOrder:Reduce only:No position exists"
    assert [o["order_id"] for o in ex.open_orders()] == [oid]


# -- idle timeout (reference §1.2) -------------------------------------------------------------


async def test_idle_timeout_closes_quiet_connections(clock: Clock) -> None:
    async with LocalExchange(rate=None, heartbeat_interval=None, clock=clock) as exchange:
        assert exchange.idle_timeout == 60.0
        async with connect(exchange.ws_url) as ws:
            client = Client(ws)
            await client.recv()
            for _ in range(3):  # any message resets the countdown
                clock.advance(59)
                assert exchange.close_idle_connections() == 0
                await client.send("not json")  # even a malformed one
                assert (await client.recv())["error"] == "Malformed request"
            clock.advance(59)
            assert exchange.close_idle_connections() == 0
            rid = await client.request("ping")
            assert (await client.response(rid))["method"] == "pong"
            clock.advance(60)
            with pytest.raises(ConnectionClosed) as closed:
                await client.recv()
            assert closed.value.rcvd is not None
            assert closed.value.rcvd.code == 1000
            assert closed.value.rcvd.reason == "Idle timeout"
        await exchange.wait_for_connections(0)


async def test_idle_timeout_configurable(clock: Clock) -> None:
    async with (
        LocalExchange(
            rate=None, heartbeat_interval=None, clock=clock, idle_timeout=None
        ) as exchange,
        connect(exchange.ws_url) as ws,
    ):
        client = Client(ws)
        await client.recv()
        clock.advance(3600)
        assert exchange.close_idle_connections() == 0
        rid = await client.request("ping")
        assert (await client.response(rid))["method"] == "pong"
    async with (
        LocalExchange(rate=None, heartbeat_interval=None, clock=clock, idle_timeout=5) as exchange,
        connect(exchange.auth_ws_url) as ws,
    ):
        client = Client(ws)
        await client.recv()
        clock.advance(5)
        with pytest.raises(ConnectionClosed):
            await client.recv()


def test_client_pings_well_inside_the_idle_timeout() -> None:
    from kraken_ws.client import KrakenWSClient

    ping_interval = KrakenWSClient().ping_interval
    idle_timeout = LocalExchange().idle_timeout
    assert ping_interval is not None
    assert idle_timeout is not None
    assert ping_interval <= idle_timeout / 2


# -- message rate (reference §9, §10.2) ----------------------------------------------------------


async def test_message_rate_limit(clock: Clock) -> None:
    async with LocalExchange(
        rate=None, heartbeat_interval=None, clock=clock, max_msg_rate=5
    ) as exchange:
        trader = await open_trader(exchange, subscribe=False)  # 0 messages so far
        client = trader.client
        for _ in range(5):
            rid = await client.request("ping")
            assert (await client.response(rid))["method"] == "pong"
        rid = await client.request("add_order", {**resting(exchange), "token": trader.token})
        err = await client.response(rid)
        assert err == {
            "method": "add_order",
            "req_id": str(rid),
            "success": False,
            "error": "Exceeded msg rate",
            "time_in": err["time_in"],
            "time_out": err["time_out"],
        }
        assert exchange.open_orders() == []  # not executed
        clock.advance(0.2)  # one message's worth
        assert (await trader.add(**resting(exchange)))["success"]
        rid = await client.request("ping")
        assert (await client.response(rid))["error"] == "Exceeded msg rate"
        await client.ws.close()


async def test_message_rate_unlimited_by_default(ex: LocalExchange) -> None:
    assert ex.max_msg_rate is None
    async with connect(ex.ws_url) as ws:
        client = Client(ws)
        await client.recv()
        for _ in range(200):
            await client.request("ping")
        pongs = [await client.recv() for _ in range(200)]
        assert {p["method"] for p in pongs} == {"pong"}
