"""Every code example of the user's python-kraken-sdk docs (seed/spot-websockets-api.txt), run.

Each example is kept as written except for:

* the import line (``kraken.spot`` → ``kraken_ws.spot``);
* URLs and credentials (the local exchange);
* the examples' own typos: ``auth_client`` → ``client_auth``, the missing colon after
  ``while True``, ``XBT/USD`` (a v1 name) → ``BTC/USD``, and in the second order book example the
  undefined ``OrderBook`` → ``SpotOrderBookClient`` and a callback that declared a ``self``
  python-kraken-sdk never passes (it calls ``callback(pair=..., message=...)``);
* the infinite ``while`` loops, replaced by waiting for the messages the example expects.

``print`` inside the examples is the recorder's ``print`` (it prints and records), so the tests
assert on exactly what the examples' callbacks received.
"""

from __future__ import annotations

from typing import Any

from kraken_ws.spot import SpotOrderBookClient, SpotWSClient
from kraken_ws.testing import LocalExchange

from .conftest import Recorder, base, is_channel, is_method, other_tasks


def urls(ex: LocalExchange) -> dict[str, str]:
    return {
        "rest_url": ex.rest_url,
        "ws_url": base(ex.ws_url),
        "auth_ws_url": base(ex.auth_ws_url),
    }


async def test_subclass_example(exchange: LocalExchange, recorder: Recorder) -> None:
    print = recorder.print

    class Client(SpotWSClient):
        async def on_message(self, message):  # type: ignore[no-untyped-def]
            print(message)

    async def main() -> None:
        client = Client(**urls(exchange))  # unauthenticated
        client_auth = Client(  # authenticated
            key=exchange.api_key,
            secret=exchange.api_secret,
            **urls(exchange),
        )
        # open the websocket connections
        await client.start()
        await client_auth.start()

        # subscribe to the desired feeds:
        await client.subscribe(params={"channel": "ticker", "symbol": ["BTC/USD"]})
        # from now on the on_message function receives the ticker feed

        await exchange.step(20, symbol="BTC/USD")
        await recorder.wait_for(is_channel("ticker", "update"))  # was: while ... sleep(6)
        assert not client.exception_occur
        await client.close()
        await client_auth.close()

    await main()
    # Both clients printed their status frame and the pong of the start-up ping.
    assert len(recorder.matching(is_channel("status"))) == 3  # public + (public, auth)
    assert len(recorder.matching(is_method("pong"))) >= 3
    (ack,) = recorder.matching(is_method("subscribe"))
    assert ack["success"] is True
    assert ack["result"]["channel"] == "ticker"
    assert ack["result"]["symbol"] == "BTC/USD"
    (snapshot,) = recorder.matching(is_channel("ticker", "snapshot"))
    assert snapshot["data"][0]["symbol"] == "BTC/USD"
    assert isinstance(snapshot["data"][0]["bid"], float)  # plain json.loads, as in pks
    assert other_tasks() == set()


async def test_callback_example(exchange: LocalExchange, recorder: Recorder) -> None:
    print = recorder.print

    async def on_message(message):  # type: ignore[no-untyped-def]
        print(message)

    async def main() -> None:
        client = SpotWSClient(callback=on_message, ws_url=base(exchange.ws_url))
        await client.start()
        await client.subscribe(params={"channel": "ticker", "symbol": ["BTC/USD"]})

        await exchange.step(20, symbol="BTC/USD")
        await recorder.wait_for(is_channel("ticker", "update"))  # was: while ... sleep(10)
        assert not client.exception_occur
        await client.close()

    await main()
    assert recorder.messages[0]["channel"] == "status"
    assert recorder.matching(is_method("subscribe", success=True))
    assert recorder.matching(is_channel("ticker", "snapshot"))


async def test_context_manager_example(exchange: LocalExchange, recorder: Recorder) -> None:
    print = recorder.print

    async def on_message(message):  # type: ignore[no-untyped-def]
        print(message)

    async def main() -> None:
        async with SpotWSClient(
            key=exchange.api_key,
            secret=exchange.api_secret,
            callback=on_message,
            **urls(exchange),
        ) as session:
            await session.subscribe(params={"channel": "ticker", "symbol": ["BTC/USD"]})

            await exchange.step(20, symbol="BTC/USD")
            await recorder.wait_for(is_channel("ticker", "update"))  # was: while True: ...
        assert session.state.name == "CLOSED"

    await main()
    assert len(recorder.matching(is_channel("status"))) == 2  # public and auth connections
    assert recorder.matching(is_method("subscribe", success=True))


async def test_orderbook_subclass_example(exchange: LocalExchange, recorder: Recorder) -> None:
    print = recorder.print
    updates: list[str] = []

    class OrderBook(SpotOrderBookClient):
        async def on_book_update(self: OrderBook, pair: str, message: dict[str, Any]) -> None:
            """This function must be overloaded to get the recent updates."""
            updates.append(pair)
            book: dict[str, Any] = self.get(pair=pair)  # type: ignore[assignment]
            bid: list[tuple[str, str]] = list(book["bid"].items())
            ask: list[tuple[str, str]] = list(book["ask"].items())

            print("Bid     Volume\t\t Ask     Volume")
            for level in range(self.depth):
                print(
                    f"{bid[level][0]} ({bid[level][1][0]}) \t {ask[level][0]} ({ask[level][1][0]})"
                )

    async def main() -> None:
        orderbook: OrderBook = OrderBook(depth=10, ws_url=base(exchange.ws_url))
        await orderbook.start()

        await orderbook.add_book(
            pairs=["BTC/USD"]  # we can also subscribe to more currency pairs
        )

        await exchange.step(30, symbol="BTC/USD")
        # was: while not orderbook.exception_occur: ... (ten printed books instead)
        await recorder.wait_for(lambda m: isinstance(m, str) and m.startswith("Bid"), count=10)
        assert not orderbook.exception_occur
        book = orderbook.get("BTC/USD")
        assert book is not None
        assert book["valid"] is True
        await orderbook.close()

    await main()
    header = [m for m in recorder.messages if m.startswith("Bid")]
    assert len(header) == len(updates) >= 10
    # Eleven lines per update: the header and ten levels, best first.
    rows = [m for m in recorder.messages if not m.startswith("Bid")]
    assert len(rows) == 10 * len(updates)
    best_bid, best_ask = rows[0].split(" \t ")
    assert float(best_bid.split(" ")[0]) < float(best_ask.split(" ")[0])


async def test_orderbook_callback_example(exchange: LocalExchange, recorder: Recorder) -> None:
    print = recorder.print

    async def my_callback(pair: str, message: dict) -> None:  # type: ignore[type-arg]
        """This function do not need to be async."""
        print(message)

    async def main() -> None:
        orderbook: SpotOrderBookClient = SpotOrderBookClient(
            depth=100, callback=my_callback, ws_url=base(exchange.ws_url)
        )
        await orderbook.start()

        await orderbook.add_book(
            pairs=["BTC/USD"]  # we can also subscribe to more currency pairs
        )

        await exchange.step(30, symbol="BTC/USD")
        await recorder.wait_for(is_channel("book", "update"), count=5)
        assert not orderbook.exception_occur
        book = orderbook.get("BTC/USD")
        assert book is not None
        assert book["valid"]
        assert len(book["bid"]) == 100
        await orderbook.close()

    await main()
    snapshot = recorder.messages[0]
    assert snapshot["channel"] == "book"
    assert snapshot["type"] == "snapshot"
    assert len(snapshot["data"][0]["bids"]) == 100
    assert all(m["channel"] == "book" for m in recorder.messages)  # book frames only


# --- send_message examples ---------------------------------------------------------------


async def run_send_example(
    exchange: LocalExchange, message: dict[str, Any], method: str, count: int = 1
) -> list[dict[str, Any]]:
    recorder = Recorder()
    client_auth = SpotWSClient(
        key=exchange.api_key,
        secret=exchange.api_secret,
        callback=recorder.callback,
        **urls(exchange),
    )
    await client_auth.start()
    try:
        before = repr(message)
        await client_auth.send_message(message=message)
        assert repr(message) == before  # the token went on the wire, not into the caller's dict
        return await recorder.wait_for(is_method(method), count=count)
    finally:
        await client_auth.close()


async def test_send_add_order_example(exchange: LocalExchange) -> None:
    (response,) = await run_send_example(
        exchange,
        message={
            "method": "add_order",
            "params": {
                "limit_price": 1234.56,
                "order_type": "limit",
                "order_userref": 123456789,
                "order_qty": 1.0,
                "side": "buy",
                "symbol": "BTC/USD",
            },
        },
        method="add_order",
    )
    # BTC/USD trades in 0.1 steps: Kraken (and the local exchange) refuse 1234.56.
    assert response["success"] is False
    assert response["error"] == "EOrder:Invalid price"


async def test_send_batch_add_example(exchange: LocalExchange) -> None:
    (response,) = await run_send_example(
        exchange,
        message={
            "method": "batch_add",
            "params": {
                "orders": [
                    {
                        "limit_price": 1000.23,
                        "order_qty": 1,
                        "order_type": "limit",
                        "order_userref": 123456789,
                        "side": "buy",
                    },
                    {
                        "limit_price": 500.21,
                        "order_qty": 2.12345,
                        "order_type": "limit",
                        "order_userref": 212345679,
                        "side": "sell",
                        "stp_type": "cancel_both",
                    },
                ],
                "symbol": "BTC/USD",
                "validate": True,
            },
        },
        method="batch_add",
    )
    assert response["success"] is False
    assert response["error"].startswith("EOrder:Invalid price")
    assert exchange.open_orders() == []


async def test_send_batch_cancel_example(exchange: LocalExchange) -> None:
    (response,) = await run_send_example(
        exchange,
        message={
            "method": "batch_cancel",
            "params": {
                "orders": ["123456789", "212345679", "ORDER-ID123-4567890"],
            },
        },
        method="batch_cancel",
    )
    # Kraken answers a batch cancel of ids it does not know with zero cancellations.
    assert response["success"] is True
    assert response["result"] == {"count": 0} or response.get("orders_cancelled") == 0, response


async def test_send_cancel_all_example(exchange: LocalExchange) -> None:
    (response,) = await run_send_example(
        exchange, message={"method": "cancel_all"}, method="cancel_all"
    )
    assert response["success"] is True
    assert response["result"] == {"count": 0}


async def test_send_cancel_all_orders_after_example(exchange: LocalExchange) -> None:
    (response,) = await run_send_example(
        exchange,
        message={"method": "cancel_all_orders_after", "params": {"timeout": 60}},
        method="cancel_all_orders_after",
    )
    assert response["success"] is True
    assert set(response["result"]) == {"currentTime", "triggerTime"}


async def test_send_cancel_order_example(exchange: LocalExchange) -> None:
    responses = await run_send_example(
        exchange,
        message={
            "method": "cancel_order",
            "params": {"order_id": ["ORDER-ID123-456789", "ORDER-ID123-987654"]},
        },
        method="cancel_order",
        count=2,  # one answer per id
    )
    assert [r["success"] for r in responses] == [False, False]
    assert {r["error"] for r in responses} == {"EOrder:Invalid order"}


async def test_send_edit_order_example(exchange: LocalExchange) -> None:
    (response,) = await run_send_example(
        exchange,
        message={
            "method": "edit_order",
            "params": {
                "order_id": "ORDER-ID123-456789",
                "order_qty": 2.5,
                "symbol": "BTC/USD",
            },
        },
        method="edit_order",
    )
    assert response["success"] is False
    assert response["error"] == "EOrder:Unknown order"


async def test_send_subscribe_example(exchange: LocalExchange, recorder: Recorder) -> None:
    client = SpotWSClient(callback=recorder.callback, ws_url=base(exchange.ws_url))
    await client.start()
    try:
        await client.send_message(
            message={
                "method": "subscribe",
                "params": {"channel": "book", "snapshot": False, "symbol": ["BTC/USD"]},
            }
        )
        await exchange.step(20, symbol="BTC/USD")
        await recorder.wait_for(is_channel("book", "update"))
    finally:
        await client.close()
    (ack,) = recorder.matching(is_method("subscribe"))
    assert ack["success"] is True
    assert ack["result"]["snapshot"] is False
    assert recorder.matching(is_channel("book", "snapshot")) == []  # snapshot: False honoured
