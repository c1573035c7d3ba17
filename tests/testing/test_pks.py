"""python-kraken-sdk 3.5.1, unchanged, against LocalExchange.

Two narrow patches, both undone by monkeypatch after each test:

* ``SpotOrderBookClient`` has no URL parameters, so its ``WS_URL`` class attribute and the REST
  ``Market.URL`` it uses for the ``AssetPairs`` precision lookup point at the local exchange.
* pks waits 1-2 s (random) before its very first connect; its own test-suite patches
  ``__get_reconnect_wait`` to skip that, and so do we, only to keep the tests fast.

``SpotOrderBookClient`` does a *blocking* REST call inside its receive loop, so its exchange runs on
a separate thread (:class:`ThreadedExchange`); a same-loop server could never answer.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest

from kraken_ws.testing import InstrumentSpec, LocalExchange, ThreadedExchange
from kraken_ws.testing.market import DEFAULT_INSTRUMENTS

kraken_spot = pytest.importorskip("kraken.spot")
connectors = pytest.importorskip("kraken.spot.websocket.connectors")
orderbook_module = pytest.importorskip("kraken.spot.orderbook")


@pytest.fixture(autouse=True)
def no_initial_wait(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(
        connectors.ConnectSpotWebsocketBase,
        "_ConnectSpotWebsocketBase__get_reconnect_wait",
        lambda self, attempts: 0,
    )


def base(url: str) -> str:
    assert url.endswith("/v2")
    return url[: -len("/v2")]  # pks appends /v2 itself


BTC: InstrumentSpec = DEFAULT_INSTRUMENTS[0]


async def test_orderbook_client_1000_updates_no_mismatch(monkeypatch: pytest.MonkeyPatch) -> None:
    with ThreadedExchange(LocalExchange(instruments=[BTC], rate=600, seed=3)) as ex:
        monkeypatch.setattr(kraken_spot.SpotOrderBookClient, "WS_URL", base(ex.ws_url))
        monkeypatch.setattr(orderbook_module.Market, "URL", ex.rest_url)
        updates = 0
        errors: list[Any] = []
        done = asyncio.Event()

        async def on_book(pair: str, message: dict[str, Any]) -> None:
            nonlocal updates
            if "error" in message:
                errors.append(message)
            elif message.get("type") == "update":
                updates += 1
                if updates >= 1000:
                    done.set()

        client = kraken_spot.SpotOrderBookClient(depth=10, callback=on_book)
        try:
            await client.start()
            await client.add_book(pairs=["BTC/USD"])
            async with asyncio.timeout(30):
                await done.wait()
            book = client.get("BTC/USD")
            assert book is not None
            assert book["valid"] is True
            assert book["price_decimals"] == 1
            assert book["qty_decimals"] == 8
            assert len(book["bid"]) == 10
            assert len(book["ask"]) == 10
        finally:
            await client.close()
        assert errors == []
        assert updates >= 1000


async def test_spot_ws_client_trades() -> None:
    # Heartbeats keep pks's receive loops ticking: close() need not sit out its 10 s recv timeout.
    async with LocalExchange(rate=None, seed=5, heartbeat_interval=0.05) as ex:
        messages: asyncio.Queue[dict[str, Any]] = asyncio.Queue()

        async def callback(message: dict[str, Any]) -> None:
            await messages.put(message)

        async def wait(predicate: Any) -> dict[str, Any]:
            async with asyncio.timeout(10):
                while True:
                    message = await messages.get()
                    if predicate(message):
                        return message

        def execution(exec_type: str) -> Any:
            return lambda m: (
                m.get("channel") == "executions"
                and any(r.get("exec_type") == exec_type for r in m["data"])
            )

        client = kraken_spot.SpotWSClient(
            key=ex.api_key,
            secret=ex.api_secret,
            callback=callback,
            rest_url=ex.rest_url,
            ws_url=base(ex.ws_url),
            auth_ws_url=base(ex.auth_ws_url),
        )
        try:
            await client.start()
            await client.subscribe(params={"channel": "executions", "snap_trades": True})
            ack = await wait(lambda m: m.get("method") == "subscribe")
            assert ack["success"] is True
            await client.subscribe(params={"channel": "instrument", "snapshot": False})
            await wait(lambda m: m.get("method") == "subscribe")
            bid = ex.market["BTC/USD"].best("bids")
            assert bid is not None
            price = float(bid[0]) - 100
            await client.send_message(
                {
                    "method": "add_order",
                    "req_id": 1,
                    "params": {
                        "order_type": "limit",
                        "side": "buy",
                        "order_qty": 0.01,
                        "limit_price": price,
                        "symbol": "BTC/USD",
                    },
                }
            )
            added = await wait(lambda m: m.get("method") == "add_order")
            assert added["success"] is True, added
            order_id = added["result"]["order_id"]
            await wait(execution("new"))
            await client.send_message(
                {
                    "method": "amend_order",
                    "req_id": 2,
                    "params": {"order_id": order_id, "limit_price": price - 1},
                }
            )
            amended = await wait(lambda m: m.get("method") == "amend_order")
            assert amended["success"] is True, amended
            await wait(execution("amended"))
            await client.send_message(
                {"method": "cancel_order", "req_id": 3, "params": {"order_id": [order_id]}}
            )
            canceled = await wait(lambda m: m.get("method") == "cancel_order")
            assert canceled["result"]["order_id"] == order_id
            report = await wait(execution("canceled"))
            assert json.dumps(report)  # plain floats for pks users, as on Kraken
            assert ex.open_orders() == []
        finally:
            await client.close()
