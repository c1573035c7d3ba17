"""Auth endpoint: every trading method, order types, executions and balances feeds; level3."""

from __future__ import annotations

from collections.abc import AsyncIterator
from decimal import Decimal
from typing import Any

import pytest
from websockets.asyncio.client import connect

from kraken_ws.models.channels.balances import BalancesSnapshot, BalancesUpdate
from kraken_ws.models.channels.executions import ExecutionsUpdate
from kraken_ws.models.channels.level3 import Level3Snapshot, Level3Update
from kraken_ws.models.methods.add_order import AddOrderSuccess
from kraken_ws.models.methods.batch_add import BatchAddSuccess
from kraken_ws.models.methods.cancel_after import CancelAllOrdersAfterSuccess
from kraken_ws.testing import LocalExchange
from kraken_ws.testing.market import rfc3339

from .conftest import Client, RefL3Book, get_token
from .test_public import _coerce


class Trader:
    """An auth connection subscribed to executions and balances."""

    def __init__(self, client: Client, token: str, exchange: LocalExchange) -> None:
        self.client = client
        self.token = token
        self.ex = exchange
        self.sequence = 0

    async def call(self, method: str, **params: Any) -> Any:
        rid = await self.client.request(method, {**params, "token": self.token})
        return await self.client.response(rid)

    async def execution(self, exec_type: str, order_id: str | None = None) -> dict[str, Any]:
        def match(f: Any) -> bool:
            if f.get("channel") != "executions":
                return False
            assert int(f["sequence"]) > self.sequence  # strictly increasing
            self.sequence = int(f["sequence"])
            ExecutionsUpdate.model_validate(_coerce(f))
            r = f["data"][0]
            return bool(
                r["exec_type"] == exec_type and (order_id is None or r.get("order_id") == order_id)
            )

        frame = await self.client.wait_for(match)
        return frame["data"][0]  # type: ignore[no-any-return]

    async def ledger(self) -> dict[str, Any]:
        frame = await self.client.wait_for(lambda f: f.get("channel") == "balances")
        BalancesUpdate.model_validate(_coerce(frame))
        return frame["data"][0]  # type: ignore[no-any-return]

    async def add(self, **params: Any) -> Any:
        return await self.call("add_order", **params)


@pytest.fixture
async def trader(exchange: LocalExchange, auth: Client, token: str) -> AsyncIterator[Trader]:
    t = Trader(auth, token, exchange)
    ack = await t.call("subscribe", channel="executions", snap_trades=True)
    assert ack["result"]["maxratecount"]
    assert ack["result"]["snap_orders"] is True
    snap = await auth.wait_for(lambda f: f.get("channel") == "executions")
    assert snap["type"] == "snapshot"
    assert snap["data"] == []
    t.sequence = int(snap["sequence"])
    ack = await t.call("subscribe", channel="balances")
    assert ack["success"]
    snap = await auth.wait_for(lambda f: f.get("channel") == "balances")
    balances = BalancesSnapshot.model_validate(_coerce(snap))
    assert {b.asset: b.balance for b in balances.data}["USD"] == Decimal(1_000_000)
    return t


def best(exchange: LocalExchange, symbol: str, side: str) -> Decimal:
    level = exchange.market[symbol].best(side)  # type: ignore[arg-type]
    assert level is not None
    return level[0]


async def test_limit_rest_amend_cancel(exchange: LocalExchange, trader: Trader) -> None:
    price = best(exchange, "BTC/USD", "bids") - Decimal("100.0")
    ack = await trader.add(
        order_type="limit",
        side="buy",
        order_qty="0.5",
        limit_price=str(price),
        symbol="BTC/USD",
        cl_ord_id="my-order-1",
    )
    AddOrderSuccess.model_validate(_coerce(ack))
    order_id = ack["result"]["order_id"]
    assert ack["result"]["cl_ord_id"] == "my-order-1"
    pending = await trader.execution("pending_new", order_id)
    assert pending["order_qty"] == "0.50000000"
    assert pending["limit_price"] == f"{price}"
    assert pending["time_in_force"] == "GTC"
    await trader.execution("new", order_id)
    assert [o["order_id"] for o in exchange.open_orders()] == [order_id]
    assert exchange.market["BTC/USD"].get_order(order_id) is not None  # visible in the book
    amend = await trader.call(
        "amend_order", order_id=order_id, limit_price=str(price - 1), order_qty="0.25"
    )
    assert amend["success"]
    assert amend["result"]["order_id"] == order_id
    assert amend["result"]["amend_id"]
    amended = await trader.execution("amended", order_id)
    assert amended["amended"] is True
    assert amended["order_qty"] == "0.25000000"
    unknown = await trader.call("amend_order", order_id="OXXXXX-XXXXX-XXXXXX", limit_price="1.0")
    assert unknown["error"] == "EOrder:Unknown order"
    rid = await trader.client.request(
        "cancel_order", {"order_id": [order_id, "ONOPE1-NOPE2-NOPE33"], "token": trader.token}
    )
    first, second = await trader.client.responses(rid, 2)
    assert first["success"]
    assert first["result"] == {"order_id": order_id}
    assert second["success"] is False
    assert second["error"] == "EOrder:Invalid order"
    canceled = await trader.execution("canceled", order_id)
    assert canceled["order_status"] == "canceled"
    assert exchange.open_orders() == []


async def test_market_fill_ledger(exchange: LocalExchange, trader: Trader) -> None:
    ack = await trader.add(
        order_type="market", side="buy", order_qty="0.3", symbol="BTC/USD", order_userref=7
    )
    order_id = ack["result"]["order_id"]
    assert ack["result"]["order_userref"] == "7"
    trade = await trader.execution("trade", order_id)
    assert trade["liquidity_ind"] == "t"
    assert trade["fees"][0]["asset"] == "USD"
    filled = await trader.execution("filled", order_id)
    assert filled["cum_qty"] == "0.30000000"
    entries = [await trader.ledger(), await trader.ledger()]
    assert {e["asset"] for e in entries} == {"BTC", "USD"}
    assert entries[0]["ref_id"] == entries[1]["ref_id"]
    btc = next(e for e in entries if e["asset"] == "BTC")
    assert Decimal(btc["amount"]) > 0
    assert exchange.balances()["BTC"] == Decimal(btc["balance"])


async def test_partial_fill_then_rest(exchange: LocalExchange, trader: Trader) -> None:
    market = exchange.market["ETH/USD"]
    ask = market.best("asks")
    assert ask is not None
    qty = ask[1] + Decimal("1")
    ack = await trader.add(
        order_type="limit",
        side="buy",
        order_qty=str(qty),
        limit_price=str(ask[0]),
        symbol="ETH/USD",
    )
    order_id = ack["result"]["order_id"]
    trade = await trader.execution("trade", order_id)
    assert trade["order_status"] == "partially_filled"
    assert trade["last_price"] == str(ask[0])
    resting = market.get_order(order_id)
    assert resting is not None
    assert resting.qty == qty - ask[1]


async def test_insufficient_funds_and_validation(trader: Trader) -> None:
    err = await trader.add(
        order_type="limit", side="buy", order_qty="1000", limit_price="60000.0", symbol="BTC/USD"
    )
    assert err["error"] == "EOrder:Insufficient funds"
    assert err["success"] is False
    err = await trader.add(order_type="market", side="sell", order_qty="1000", symbol="BTC/USD")
    assert err["error"] == "EOrder:Insufficient funds"
    err = await trader.add(order_type="limit", side="buy", order_qty="1", symbol="BTC/USD")
    assert err["error"].startswith("EGeneral:Invalid arguments")
    err = await trader.add(
        order_type="limit",
        side="buy",
        order_qty="1",
        limit_price="1.0",
        symbol="BTC/USD",
        leverage=2,
    )
    assert err["error"].startswith("Unsupported field: 'leverage'")
    ok = await trader.add(
        order_type="limit",
        side="buy",
        order_qty="1",
        limit_price="1.0",
        symbol="BTC/USD",
        validate=True,
    )
    assert ok["success"]
    assert ok["result"]["order_id"] == ""
    assert trader.ex.open_orders() == []


async def test_batch_add_batch_cancel_cancel_all(exchange: LocalExchange, trader: Trader) -> None:
    price = best(exchange, "BTC/USD", "bids") - 50
    orders = [
        {
            "order_type": "limit",
            "side": "buy",
            "order_qty": "0.1",
            "limit_price": str(price - i),
            "order_userref": i,
        }
        for i in range(1, 4)
    ]
    ack = await trader.call("batch_add", symbol="BTC/USD", orders=orders)
    BatchAddSuccess.model_validate(_coerce(ack))
    assert [r["order_userref"] for r in ack["result"]] == ["1", "2", "3"]
    ids = [r["order_id"] for r in ack["result"]]
    assert len(exchange.open_orders()) == 3
    res = await trader.call("batch_cancel", orders=[ids[0], "2"])
    assert res["result"]["count"] == "2"
    # Every order over the funds: the batch is refused whole (one alone would fail on its own
    # while the others are placed: tests/testing/test_batch_partial.py).
    big = [{**orders[0], "order_qty": "500"}, {**orders[1], "order_qty": "500"}]
    err = await trader.call("batch_add", symbol="BTC/USD", orders=big)
    assert err["error"] == "EOrder:Insufficient funds"
    assert len(exchange.open_orders()) == 1
    res = await trader.call("cancel_all")
    assert res["result"]["count"] == "1"
    assert exchange.open_orders() == []


async def test_cancel_by_client_ids(exchange: LocalExchange, trader: Trader) -> None:
    price = best(exchange, "BTC/USD", "bids") - 50
    for i, ident in enumerate([{"cl_ord_id": "abc"}, {"order_userref": 5}, {"order_userref": 5}]):
        await trader.add(
            order_type="limit",
            side="buy",
            order_qty="0.1",
            limit_price=str(price - i),
            symbol="BTC/USD",
            **ident,
        )
    rid = await trader.client.request("cancel_order", {"cl_ord_id": ["abc"], "token": trader.token})
    assert (await trader.client.response(rid))["result"] == {"cl_ord_id": "abc"}
    rid = await trader.client.request("cancel_order", {"order_userref": [5], "token": trader.token})
    assert len(await trader.client.responses(rid, 2)) == 2  # one response per cancelled order
    assert exchange.open_orders() == []


async def test_dead_mans_switch(exchange: LocalExchange, trader: Trader) -> None:
    price = best(exchange, "BTC/USD", "bids") - 50
    ack = await trader.add(
        order_type="limit", side="buy", order_qty="0.1", limit_price=str(price), symbol="BTC/USD"
    )
    res = await trader.call("cancel_all_orders_after", timeout=0)
    assert res["result"]["triggerTime"] == "0"
    assert res["result"]["currentTime"].endswith("Z")
    res = await trader.call("cancel_all_orders_after", timeout=1)
    CancelAllOrdersAfterSuccess.model_validate(_coerce(res))
    assert set(res["result"]) == {"currentTime", "triggerTime"}
    canceled = await trader.execution("canceled", ack["result"]["order_id"])
    assert canceled["reason"]
    assert exchange.open_orders() == []
    err = await trader.call("cancel_all_orders_after", timeout=86400)
    assert err["error"].startswith("EGeneral:Invalid arguments")


async def test_edit_order(exchange: LocalExchange, trader: Trader) -> None:
    price = best(exchange, "BTC/USD", "bids") - 50
    old = (
        await trader.add(
            order_type="limit",
            side="buy",
            order_qty="0.1",
            limit_price=str(price),
            symbol="BTC/USD",
        )
    )["result"]["order_id"]
    res = await trader.call("edit_order", order_id=old, symbol="BTC/USD", order_qty="0.2")
    assert res["result"]["original_order_id"] == old
    assert res["result"]["order_id"] != old
    await trader.execution("canceled", old)
    await trader.execution("new", res["result"]["order_id"])
    assert [o["order_id"] for o in exchange.open_orders()] == [res["result"]["order_id"]]


async def test_post_only_ioc_iceberg(exchange: LocalExchange, trader: Trader) -> None:
    ask = best(exchange, "BTC/USD", "asks")
    ack = await trader.add(
        order_type="limit",
        side="buy",
        order_qty="0.1",
        limit_price=str(ask),
        symbol="BTC/USD",
        post_only=True,
    )
    canceled = await trader.execution("canceled", ack["result"]["order_id"])
    assert "Post only" in canceled["reason"]
    ack = await trader.add(
        order_type="limit",
        side="buy",
        order_qty="5000",
        limit_price=str(ask),
        symbol="PEPE/USD",
        time_in_force="ioc",
    )
    assert ack["success"] is False  # price far off PEPE's precision: refused
    pepe_ask = best(exchange, "PEPE/USD", "asks")
    qty = exchange.market["PEPE/USD"].best("asks")[1] + 100000  # type: ignore[index]
    ack = await trader.add(
        order_type="limit",
        side="buy",
        order_qty=str(qty),
        limit_price=str(pepe_ask),
        symbol="PEPE/USD",
        time_in_force="ioc",
    )
    oid = ack["result"]["order_id"]
    await trader.execution("trade", oid)
    await trader.execution("canceled", oid)
    bid = best(exchange, "ETH/USD", "bids") - 5
    ack = await trader.add(
        order_type="iceberg",
        side="buy",
        order_qty="10",
        display_qty="1",
        limit_price=str(bid),
        symbol="ETH/USD",
    )
    resting = exchange.market["ETH/USD"].get_order(ack["result"]["order_id"])
    assert resting is not None
    assert resting.qty == Decimal("1")


async def test_triggered_orders(exchange: LocalExchange, trader: Trader) -> None:
    last = exchange.market["BTC/USD"].last
    stop = await trader.add(
        order_type="stop-loss",
        side="sell",
        order_qty="0.01",
        symbol="BTC/USD",
        triggers={"price": str(last + 1000), "price_type": "static"},
    )
    take = await trader.add(
        order_type="take-profit-limit",
        side="sell",
        order_qty="0.01",
        symbol="BTC/USD",
        limit_price=str(last - 1000),
        triggers={"price": str(last - 1000)},
    )
    trail = await trader.add(
        order_type="trailing-stop",
        side="sell",
        order_qty="0.01",
        symbol="BTC/USD",
        triggers={"price": "0.001", "price_type": "pct"},
    )
    ids = {stop["result"]["order_id"], take["result"]["order_id"], trail["result"]["order_id"]}
    assert len(exchange.open_orders()) == 3
    filled: set[str] = set()
    for _ in range(400):
        await exchange.step(1, symbol="BTC/USD")
        filled = ids - {o["order_id"] for o in exchange.open_orders()}
        if len(filled) >= 2:
            break
    assert {stop["result"]["order_id"], take["result"]["order_id"]} <= filled
    status = await trader.execution("status")
    assert status["triggers"]["status"] == "triggered"


async def test_gtd_expires() -> None:
    now = [1_800_000_000.0]
    async with (
        # The clock jumps 61 s without a client message: no idle timeout for this test.
        LocalExchange(rate=None, clock=lambda: now[0], idle_timeout=None) as ex,
        connect(ex.auth_ws_url, max_queue=None) as ws,
    ):
        client = Client(ws)
        await client.recv()
        trader = Trader(client, await get_token(ex), ex)
        await trader.call("subscribe", channel="executions")
        price = best(ex, "BTC/USD", "bids") - 50
        ack = await trader.add(
            order_type="limit",
            side="buy",
            order_qty="0.1",
            limit_price=str(price),
            symbol="BTC/USD",
            time_in_force="gtd",
            expire_time=rfc3339(now[0] + 60, 0),
        )
        assert ack["success"], ack
        now[0] += 61
        await ex.step()
        expired = await trader.execution("expired", ack["result"]["order_id"])
        assert expired["order_status"] == "expired"


async def test_maker_fill_from_simulated_flow(exchange: LocalExchange, trader: Trader) -> None:
    market = exchange.market["BTC/USD"]
    ask = best(exchange, "BTC/USD", "asks")
    bid = best(exchange, "BTC/USD", "bids")
    price = bid + Decimal("0.1") if ask - bid > Decimal("0.1") else ask
    ack = await trader.add(
        order_type="limit",
        side="sell",
        order_qty="0.05",
        limit_price=str(price),
        symbol="BTC/USD",
        post_only=price != ask,
    )
    oid = ack["result"]["order_id"]
    for _ in range(2000):
        if oid not in {o["order_id"] for o in exchange.open_orders()}:
            break
        await exchange.step(1, symbol="BTC/USD")
    trade = await trader.execution("trade", oid)
    assert trade["liquidity_ind"] in ("m", "t")
    assert market.get_order(oid) is None or trade["order_status"] == "partially_filled"


async def test_system_status(exchange: LocalExchange, trader: Trader) -> None:
    bid = best(exchange, "BTC/USD", "bids") - 50
    limit = {
        "order_type": "limit",
        "side": "buy",
        "order_qty": "0.1",
        "symbol": "BTC/USD",
        "limit_price": str(bid),
    }
    await exchange.set_system_status("cancel_only")
    status = await trader.client.wait_for(lambda f: f.get("channel") == "status")
    assert status["data"][0]["system"] == "cancel_only"
    assert (await trader.add(**limit))["error"] == "EService:Market in cancel_only mode"
    await exchange.set_system_status("post_only")
    assert (await trader.add(**limit))["error"] == "EService:Market in post_only mode"
    ok = await trader.add(**limit, post_only=True)
    assert ok["success"]
    await exchange.set_system_status("maintenance")
    rid = await trader.client.request(
        "cancel_order", {"order_id": [ok["result"]["order_id"]], "token": trader.token}
    )
    assert (await trader.client.response(rid))["success"] is False
    await exchange.set_system_status("online")
    assert (await trader.call("cancel_all"))["result"]["count"] == "1"


async def test_token_errors_on_auth(exchange: LocalExchange, auth: Client, token: str) -> None:
    rid = await auth.request("subscribe", {"channel": "executions"})
    assert (await auth.response(rid))["error"] == "ESession:Invalid session"
    rid = await auth.request("subscribe", {"channel": "balances", "token": "bogus"})
    assert (await auth.response(rid))["error"] == "EAPI:Invalid token"
    rid = await auth.request("cancel_all", {})
    assert (await auth.response(rid))["error"] == "ESession:Invalid session"
    rid = await auth.request("cancel_all", {"token": "bogus"})
    assert (await auth.response(rid))["error"] == "EAPI:Invalid token"


async def test_level3(exchange: LocalExchange, token: str) -> None:
    async with connect(exchange.l3_ws_url, max_queue=None) as ws:
        client = Client(ws)
        await client.recv()
        rid = await client.request("subscribe", {"channel": "level3", "symbol": ["BTC/USD"]})
        assert (await client.response(rid))["error"] == "ESession:Invalid session"
        rid = await client.request(
            "subscribe", {"channel": "level3", "symbol": ["BTC/USD"], "depth": 25, "token": token}
        )
        assert (await client.response(rid))["error"] == "Subscription depth not supported"
        rid = await client.request(
            "subscribe", {"channel": "level3", "symbol": ["BTC/USD"], "depth": 100, "token": token}
        )
        assert (await client.response(rid))["result"]["depth"] == "100"
        snap = await client.wait_for(lambda f: f.get("channel") == "level3")
        Level3Snapshot.model_validate(_coerce(snap))
        book = RefL3Book(100)
        assert book.apply(snap["data"][0], snapshot=True)
        await exchange.step(200, symbol="BTC/USD")
        market = exchange.market["BTC/USD"]
        expected = {o.order_id for o in market.top_orders("bids", 100)}
        events = set()
        while set(book.orders["bids"]) != expected or not events:
            frame = await client.wait_for(lambda f: f.get("channel") == "level3")
            Level3Update.model_validate(_coerce(frame))
            assert book.apply(frame["data"][0], snapshot=False)
            events |= {o["event"] for o in frame["data"][0]["bids"] + frame["data"][0]["asks"]}
        assert events == {"add", "modify", "delete"}
        rid = await client.request(
            "subscribe", {"channel": "level3", "symbol": ["BTC/USD"], "depth": 10, "token": token}
        )
        assert (await client.response(rid))["error"] == "Already subscribed"
