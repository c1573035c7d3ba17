"""``batch_add`` with per-order failures: typed rows, a raise nobody can miss, no order lost.

End to end against the local exchange (a batch of three whose middle order fails the funds
check), and against a scripted fake for the answer shapes the local exchange does not send
(rows in a ``success: false`` answer, rows nested under ``result.orders``, rows with their own
``success`` flag). How Kraken itself writes a failed row is not documented
(docs/protocol.md#ref-11-8): these are the shapes other SDKs handle, nothing more.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from decimal import Decimal
from typing import Any

import pytest

from kraken_ws.client import ClientEvent, KrakenWSClient
from kraken_ws.events import LateResponse, OrderResolved
from kraken_ws.exceptions import (
    BatchPartialFailure,
    InsufficientFunds,
    InvalidPrice,
    OrderError,
    RequestTimeout,
)
from kraken_ws.models.methods.batch_add import BatchAddError, BatchAddOrder, BatchAddSuccess
from kraken_ws.protocol import codec
from kraken_ws.ratelimit import TradingRateLimiter
from kraken_ws.reconcile import OrderLedger
from kraken_ws.testing import LocalExchange
from kraken_ws.transport.memory import MemoryTransport

from .conftest import SCALE
from .fake_kraken import FakeKraken

FAR_BELOW = Decimal("1000.0")  # a BTC/USD buy that rests and never fills


def order(cl_ord_id: str, qty: str = "0.01") -> BatchAddOrder:
    return BatchAddOrder(
        order_type="limit",
        side="buy",
        order_qty=Decimal(qty),
        limit_price=FAR_BELOW,
        cl_ord_id=cl_ord_id,
    )


# The account holds 1,000,000 USD: 5,000 BTC at 1,000 USD is five times that.
MIDDLE_UNFUNDED = [order("b-1"), order("b-2", qty="5000"), order("b-3")]


# --- against the local exchange ---------------------------------------------------------------


@pytest.fixture
async def exchange() -> AsyncIterator[LocalExchange]:
    async with LocalExchange(rate=20, seed=7) as ex:
        yield ex


def make_client(ex: LocalExchange, **kwargs: Any) -> KrakenWSClient:
    options: dict[str, Any] = {
        "request_timeout": 3.0 * SCALE,
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
        auth_ws_url=ex.auth_ws_url,
        l3_ws_url=ex.l3_ws_url,
        rest_url=ex.rest_url,
        **options,
    )


async def test_partial_failure_names_the_failed_order_and_keeps_the_placed(
    exchange: LocalExchange,
) -> None:
    limiter = TradingRateLimiter()
    async with make_client(exchange, rate_limiter=limiter) as client:
        with pytest.raises(BatchPartialFailure) as caught:
            await client.batch_add(symbol="BTC/USD", orders=MIDDLE_UNFUNDED)
        failure = caught.value
        assert isinstance(failure, OrderError)
        assert failure.error == "EOrder:Insufficient funds"
        assert [(r.cl_ord_id, r.error) for r in failure.failed] == [
            ("b-2", "EOrder:Insufficient funds")
        ]
        assert [r.cl_ord_id for r in failure.placed] == ["b-1", "b-3"]
        assert [r.cl_ord_id for r in failure.rows] == ["b-1", "b-2", "b-3"]
        assert "1 of 3 orders refused, 2 placed" in str(failure)
        placed_ids = [r.order_id for r in failure.placed]
        assert all(placed_ids)
        assert isinstance(failure.response, BatchAddSuccess)

        # The two others are live at the exchange, the refused one is not.
        open_orders = {o["cl_ord_id"]: o["order_id"] for o in exchange.open_orders()}
        assert open_orders == dict(zip(["b-1", "b-3"], placed_ids, strict=True))
        # The client tracks them as placed (their age, for the rate counter's penalties), not
        # the refused one; and nothing is left in doubt.
        for key in [*placed_ids, "b-1", "b-3"]:
            assert key is not None
            assert limiter.modify_cost("edit", key)[0] == "BTC/USD", key
        assert limiter.modify_cost("edit", "b-2") == (None, 0.0)
        assert client.in_doubt_orders() == []
        # The placed ids are all it takes to manage them.
        cancelled = await client.batch_cancel(orders=[i for i in placed_ids if i])
        assert cancelled.count == 2
        assert exchange.open_orders() == []


async def test_every_order_refused_is_the_batch_error(exchange: LocalExchange) -> None:
    async with make_client(exchange) as client:
        with pytest.raises(InsufficientFunds) as caught:
            await client.batch_add(
                symbol="BTC/USD", orders=[order("x-1", "5000"), order("x-2", "5000")]
            )
        assert not isinstance(caught.value, BatchPartialFailure)
        assert exchange.open_orders() == []


async def test_a_fully_placed_batch_returns_its_rows(exchange: LocalExchange) -> None:
    async with make_client(exchange) as client:
        rows = await client.batch_add(symbol="BTC/USD", orders=[order("ok-1"), order("ok-2")])
        assert [(r.cl_ord_id, r.placed, r.failed) for r in rows] == [
            ("ok-1", True, False),
            ("ok-2", True, False),
        ]
        # validate: nothing placed, nothing refused, the rows come back all the same.
        checked = await client.batch_add(
            symbol="BTC/USD", orders=[order("v-1"), order("v-2")], validate=True
        )
        assert [(r.order_id, r.placed, r.failed) for r in checked] == [
            ("", False, False),
            ("", False, False),
        ]
        assert len(exchange.open_orders()) == 2


async def test_the_exchange_answers_per_order_rows(exchange: LocalExchange) -> None:
    # The raw answer, as the local exchange writes it: success with an {"error": ...} row.
    async with make_client(exchange) as client:
        params = {
            "symbol": "BTC/USD",
            "orders": [o.model_dump(exclude_none=True) for o in MIDDLE_UNFUNDED],
        }
        [answer] = await client.send({"method": "batch_add", "params": params})
        assert isinstance(answer, BatchAddSuccess)
        assert isinstance(answer.result, list)
        assert [sorted(r.model_dump(exclude_none=True)) for r in answer.result] == [
            ["cl_ord_id", "order_id"],
            ["cl_ord_id", "error"],
            ["cl_ord_id", "order_id"],
        ]


class Recorder:
    """Every event of a client from the moment it is created."""

    def __init__(self, client: KrakenWSClient) -> None:
        self.events: list[ClientEvent] = []
        self._changed = asyncio.Event()
        self._task = asyncio.create_task(self._pump(client))

    async def _pump(self, client: KrakenWSClient) -> None:
        async for event in client.events():
            self.events.append(event)
            self._changed.set()

    async def until(self, predicate: Any, timeout: float = 10.0) -> list[ClientEvent]:
        async with asyncio.timeout(timeout * SCALE):
            while not predicate(self.events):
                self._changed.clear()
                await self._changed.wait()
        return self.events

    async def stop(self) -> None:
        self._task.cancel()
        await asyncio.gather(self._task, return_exceptions=True)


async def test_a_late_partial_answer_resolves_each_order(exchange: LocalExchange) -> None:
    async with make_client(exchange) as client:
        seen = Recorder(client)
        await client.ping(endpoint="auth")
        exchange.delay_responses(1.0 * SCALE, "batch_add")
        with pytest.raises(RequestTimeout) as caught:
            await client.batch_add(symbol="BTC/USD", orders=MIDDLE_UNFUNDED, timeout=0.3 * SCALE)
        assert caught.value.outcome_unknown is True
        assert sorted(e.cl_ord_id or "" for e in client.in_doubt_orders()) == ["b-1", "b-2", "b-3"]

        def resolved(events: list[ClientEvent]) -> list[OrderResolved]:
            return [e for e in events if isinstance(e, OrderResolved)]

        events = await seen.until(lambda events: len(resolved(events)) == 3)
        assert any(isinstance(e, LateResponse) for e in events)
        outcomes = {e.cl_ord_id: e.outcome for e in resolved(events)}
        assert outcomes == {"b-1": "placed", "b-2": "not_placed", "b-3": "placed"}
        [refused] = [e for e in resolved(events) if e.cl_ord_id == "b-2"]
        assert (refused.source, refused.reason) == ("late_response", "EOrder:Insufficient funds")
        assert client.in_doubt_orders() == []
        assert sorted(o["cl_ord_id"] for o in exchange.open_orders()) == ["b-1", "b-3"]
        await seen.stop()


# --- the answer shapes the local exchange does not send -----------------------------------------


class ScriptedBatch(FakeKraken):
    """The scripted fake, answering ``batch_add`` with ``batch_answer`` (plus the envelope)."""

    def __init__(self) -> None:
        super().__init__()
        self.batch_answer: dict[str, Any] = {}

    async def answer(self, conn: MemoryTransport, msg: dict[str, Any]) -> None:
        if msg["method"] != "batch_add":
            await super().answer(conn, msg)
            return
        frame = {"method": "batch_add", "req_id": msg.get("req_id"), **self.batch_answer}
        await conn.send(json.dumps(frame))


@pytest.fixture
async def fake() -> AsyncIterator[ScriptedBatch]:
    server = ScriptedBatch()
    yield server
    await server.server.aclose()


TWO = [order("a"), order("b")]


async def test_rows_in_a_failed_answer_with_one_placed(
    client: KrakenWSClient, fake: ScriptedBatch
) -> None:
    fake.batch_answer = {
        "success": False,
        "error": "EOrder:Insufficient funds",
        "result": [{"order_id": "OA", "cl_ord_id": "a"}, {"error": "EOrder:Insufficient funds"}],
    }
    with pytest.raises(BatchPartialFailure) as caught:
        await client.batch_add(symbol="BTC/USD", orders=TWO)
    assert [r.order_id for r in caught.value.placed] == ["OA"]
    assert [r.error for r in caught.value.failed] == ["EOrder:Insufficient funds"]
    assert isinstance(caught.value.response, BatchAddError)


async def test_rows_nested_under_orders_with_their_own_success_flag(
    client: KrakenWSClient, fake: ScriptedBatch
) -> None:
    fake.batch_answer = {
        "success": True,
        "result": {
            "orders": [
                {"order_id": "O1", "cl_ord_id": "a", "success": True},
                {"cl_ord_id": "b", "success": False, "error": "EOrder:Invalid price"},
            ]
        },
    }
    with pytest.raises(BatchPartialFailure) as caught:
        await client.batch_add(symbol="BTC/USD", orders=TWO)
    assert [(r.cl_ord_id, r.order_id) for r in caught.value.placed] == [("a", "O1")]
    assert [(r.cl_ord_id, r.error) for r in caught.value.failed] == [("b", "EOrder:Invalid price")]
    assert caught.value.error == "EOrder:Invalid price"


async def test_every_row_failed_raises_the_rows_error(
    client: KrakenWSClient, fake: ScriptedBatch
) -> None:
    fake.batch_answer = {
        "success": True,
        "result": [
            {"cl_ord_id": "a", "error": "EOrder:Invalid price"},
            {"cl_ord_id": "b", "success": False},
        ],
    }
    with pytest.raises(InvalidPrice) as caught:
        await client.batch_add(symbol="BTC/USD", orders=TWO)
    assert isinstance(caught.value.response, BatchAddSuccess)
    assert len(caught.value.response.failed) == 2


async def test_a_refused_batch_without_rows_is_its_error(
    client: KrakenWSClient, fake: ScriptedBatch
) -> None:
    fake.batch_answer = {"success": False, "error": "EOrder:Insufficient funds"}
    with pytest.raises(InsufficientFunds):
        await client.batch_add(symbol="BTC/USD", orders=TWO)


# --- the ledger: rows of a late answer ----------------------------------------------------------


def test_ledger_reads_each_row_of_a_late_batch_answer() -> None:
    ledger = OrderLedger(grace=0)
    request = {
        "method": "batch_add",
        "params": {
            "symbol": "BTC/USD",
            "orders": [{"cl_ord_id": "x"}, {"cl_ord_id": "y"}, {"order_userref": 7}],
        },
    }
    ledger.add("batch_add", 3, request, now=0, connection_gone=False, reason="timeout")
    # Rows that echo a client id are matched by it, whatever their order.
    answer = codec.decode(
        '{"method":"batch_add","req_id":3,"success":false,"error":"EOrder:Insufficient funds",'
        '"result":[{"cl_ord_id":"y","error":"EOrder:Insufficient funds"},'
        '{"order_id":"OX","cl_ord_id":"x"},{"order_id":"O7","order_userref":7}]}'
    )
    resolved = ledger.late_response(3, "batch_add", answer)
    events = {e.cl_ord_id or str(e.order_userref): e for _k, e in resolved}
    assert {k: e.outcome for k, e in events.items()} == {
        "x": "placed",
        "y": "not_placed",
        "7": "placed",
    }
    assert events["x"].order_id == "OX"
    assert events["y"].reason == "EOrder:Insufficient funds"
    assert ledger.in_doubt() == []


def test_ledger_never_calls_an_order_without_a_row_not_placed() -> None:
    ledger = OrderLedger(grace=0)
    request = {"method": "batch_add", "params": {"orders": [{"cl_ord_id": "x"}, {}]}}
    ledger.add("batch_add", 4, request, now=0, connection_gone=False, reason="timeout")
    answer = codec.decode(
        '{"method":"batch_add","req_id":4,"success":true,"result":[{"order_id":"OX"}]}'
    )
    outcomes = [e.outcome for _k, e in ledger.late_response(4, "batch_add", answer)]
    assert outcomes == ["placed", "unknown"]
