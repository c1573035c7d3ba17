"""python-kraken-sdk style code, type-checked against the facade (mypy --strict in a test).

Written for pks's signatures: only the import line names kraken_ws.
"""

from __future__ import annotations

import asyncio
from typing import Any

from kraken_ws.spot import (
    KrakenAuthenticationError,
    MaxReconnectError,
    SpotOrderBookClient,
    SpotWSClient,
    WSState,
)


class Client(SpotWSClient):
    async def on_message(self, message: dict[str, Any] | list[Any]) -> None:
        print(message)


class OrderBook(SpotOrderBookClient):
    async def on_book_update(self, pair: str, message: dict[str, Any]) -> None:
        book: dict[str, Any] | None = self.get(pair=pair)
        if book is not None:
            bid: list[tuple[str, tuple[str, str | None]]] = list(book["bid"].items())
            print(bid[: self.depth], book["valid"], book["price_decimals"])


async def on_message(message: dict[str, Any]) -> None:
    print(message)


def on_book(pair: str, message: dict[str, Any]) -> None:
    print(pair, message)


async def main() -> None:
    client = Client()
    client_auth = SpotWSClient(key="k", secret="s", callback=on_message)
    await client.start()
    await client_auth.start()
    await client.subscribe(params={"channel": "ticker", "symbol": ["BTC/USD"]})
    await client.subscribe(params={"channel": "book", "depth": 10, "symbol": ["BTC/USD"]}, req_id=1)
    await client_auth.send_message(message={"method": "cancel_all"})
    await client_auth.send_message(message={"method": "ping"}, raw=True)
    await client.unsubscribe(params={"channel": "ticker", "symbol": ["BTC/USD"]})
    subscriptions: list[dict[str, Any]] = client.active_public_subscriptions
    names: list[str] = client.public_channel_names + client.private_channel_names
    methods: list[str] = client.private_methods
    token: dict[str, Any] = await client_auth.get_ws_token()
    result: Any = await client_auth.request("POST", "/0/private/Balance")
    nonce: str = client.get_nonce()
    uid: str = client.return_unique_id
    failed: bool = client.exception_occur
    state: WSState = client.state
    url: str = SpotWSClient.WS_URL + SpotWSClient.AUTH_WS_URL + SpotWSClient.API_V
    print(subscriptions, names, methods, token, result, nonce, uid, failed, state, url)
    async with SpotWSClient(key="k", secret="s", callback=on_message) as session:
        await session.subscribe(params={"channel": "executions"})
    orderbook = OrderBook(depth=10)
    plain = SpotOrderBookClient(depth=25, callback=on_book)
    await orderbook.add_book(pairs=["BTC/USD"])
    await plain.remove_book(pairs=["BTC/USD"])
    first: float = SpotOrderBookClient.get_first(("1.0", "2.0"))
    print(first, orderbook.depth)
    try:
        await client.close()
    except (KrakenAuthenticationError, MaxReconnectError) as exc:
        print(exc)
    await client.stop()


if __name__ == "__main__":
    asyncio.run(main())
