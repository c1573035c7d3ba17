"""Differential test: python-kraken-sdk 3.5.1's ``SpotWSClient`` and ours, one scenario.

Both clients run **at the same time against the same LocalExchange**, so they receive the same
market frames: subscribe ticker, book and trade on BTC/USD; the market moves; each client places
an order, amends it and cancels it; both unsubscribe. The messages each ``on_message`` received
are compared per channel (market data, status) and per method (responses; acks per method
and channel), because the
interleaving *between* channels and between the two clients' own requests is not deterministic;
within one channel or method the order is.

Compared per message: channel, type, method, success, the top-level keys and the keys of each
data/result item. Timestamps, ids and ``req_id`` are values, not keys, and are not compared
(``req_id`` is excluded from the keys: ours allocates one when the caller gives none).
Both subscribe to ``executions`` of the one test account, so each sees both clients' reports;
that stream is compared as a multiset. (It also keeps heartbeats flowing on pks's auth
connection, whose ``close()`` otherwise sits out a 10 s ``recv`` timeout.)
Heartbeats and pongs are left out: their number depends on timing (pks pings every 10 s, ours
keeps its own keepalive), not on behaviour.

pks waits 1-2 s (random) before its first connect; as in python-kraken-sdk's own test-suite that
wait is patched to 0 to keep the test fast.
"""

from __future__ import annotations

import asyncio
from collections import defaultdict
from collections.abc import Awaitable, Callable
from typing import Any

import pytest

from kraken_ws.compat import SpotWSClient
from kraken_ws.testing import LocalExchange

from .conftest import Recorder, base, is_channel, is_method

kraken_spot = pytest.importorskip("kraken.spot")
connectors = pytest.importorskip("kraken.spot.websocket.connectors")

Shape = tuple[Any, ...]


@pytest.fixture(autouse=True)
def no_initial_wait(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(
        connectors.ConnectSpotWebsocketBase,
        "_ConnectSpotWebsocketBase__get_reconnect_wait",
        lambda self, attempts: 0,
    )


def item_keys(value: Any) -> Any:
    if isinstance(value, list):
        return tuple(item_keys(v) for v in value)
    if isinstance(value, dict):
        return tuple(sorted(value))
    return type(value).__name__


def shape(message: dict[str, Any]) -> Shape:
    keys = tuple(sorted(k for k in message if k != "req_id"))
    return (
        message.get("channel"),
        message.get("type"),
        message.get("method"),
        message.get("success"),
        keys,
        item_keys(message.get("data")),
        item_keys(message.get("result")),
    )


def by_stream(messages: list[Any]) -> dict[str, list[Shape]]:
    streams: dict[str, list[Shape]] = defaultdict(list)
    for message in messages:
        assert isinstance(message, dict)
        key = message.get("channel") or message.get("method")
        if key in ("heartbeat", "pong"):
            continue
        result = message.get("result")
        if key in ("subscribe", "unsubscribe") and isinstance(result, dict):
            # Acks of different channels travel on different connections (public, auth).
            key = f"{key}:{result.get('channel')}"
        streams[str(key)].append(shape(message))
    return dict(streams)


async def scenario(
    client: Any,
    recorder: Recorder,
    exchange: LocalExchange,
    barrier: Callable[[], Awaitable[None]],
    offset: float,
) -> None:
    """The script both clients run, python-kraken-sdk style; ``barrier`` syncs the market."""
    await client.start()
    for params in (
        {"channel": "ticker", "symbol": ["BTC/USD"]},
        {"channel": "book", "symbol": ["BTC/USD"], "depth": 10},
        {"channel": "trade", "symbol": ["BTC/USD"]},
        {"channel": "executions", "snap_orders": True},
    ):
        await client.subscribe(params=params)
    await recorder.wait_for(is_method("subscribe"), count=4)
    await recorder.wait_for(is_channel("book", "snapshot"))
    await recorder.wait_for(is_channel("ticker", "snapshot"))
    await barrier()  # both subscribed: the market may move

    bid = exchange.market["BTC/USD"].best("bids")
    assert bid is not None
    # Far below the top of the book: the other client's book frames do not see the order.
    price = round(float(bid[0]) * 0.5 - offset, 1)
    await client.send_message(
        {
            "method": "add_order",
            "req_id": 10,
            "params": {
                "order_type": "limit",
                "side": "buy",
                "order_qty": 0.01,
                "limit_price": price,
                "symbol": "BTC/USD",
            },
        }
    )
    (added,) = await recorder.wait_for(is_method("add_order"))
    assert added["success"] is True, added
    order_id = added["result"]["order_id"]
    await client.send_message(
        {
            "method": "amend_order",
            "req_id": 11,
            "params": {"order_id": order_id, "limit_price": round(price - 1, 1)},
        }
    )
    await recorder.wait_for(is_method("amend_order"))
    await client.send_message(
        {"method": "cancel_order", "req_id": 12, "params": {"order_id": [order_id]}}
    )
    await recorder.wait_for(is_method("cancel_order"))
    await recorder.wait_for(
        lambda m: (
            is_channel("executions")(m)
            and any(
                r.get("order_id") == order_id and r.get("exec_type") == "canceled"
                for r in m["data"]
            )
        )
    )
    await barrier()  # both done trading: the market moves once more, then unsubscribe
    await barrier()
    for params in (
        {"channel": "ticker", "symbol": ["BTC/USD"]},
        {"channel": "book", "symbol": ["BTC/USD"], "depth": 10},
        {"channel": "trade", "symbol": ["BTC/USD"]},
    ):
        await client.unsubscribe(params=params)
    # Acks come after every frame published before them: the streams are complete.
    await recorder.wait_for(is_method("unsubscribe"), count=3)
    await client.close()


async def test_same_messages_as_python_kraken_sdk() -> None:
    async with LocalExchange(rate=None, seed=11, heartbeat_interval=0.05) as ex:
        theirs, ours = Recorder(), Recorder()
        kwargs = {
            "key": ex.api_key,
            "secret": ex.api_secret,
            "rest_url": ex.rest_url,
            "ws_url": base(ex.ws_url),
            "auth_ws_url": base(ex.auth_ws_url),
        }
        pks_client = kraken_spot.SpotWSClient(callback=theirs.callback, **kwargs)
        our_client = SpotWSClient(callback=ours.callback, **kwargs)

        arrived = 0
        rounds: dict[int, asyncio.Event] = defaultdict(asyncio.Event)
        generation = [0]

        async def barrier() -> None:
            # The second client to arrive moves the market for both, then releases the first.
            nonlocal arrived
            gen = generation[0]
            arrived += 1
            if arrived == 2:
                arrived = 0
                generation[0] += 1
                await ex.step(40, symbol="BTC/USD")
                rounds[gen].set()
            await rounds[gen].wait()

        async with asyncio.timeout(30):
            await asyncio.gather(
                scenario(pks_client, theirs, ex, barrier, offset=0.0),
                scenario(our_client, ours, ex, barrier, offset=10.0),
            )

    pks_streams, our_streams = by_stream(theirs.messages), by_stream(ours.messages)
    assert (
        set(pks_streams)
        == set(our_streams)
        == {
            "status",
            "subscribe:ticker",
            "subscribe:book",
            "subscribe:trade",
            "subscribe:executions",
            "ticker",
            "book",
            "trade",
            "add_order",
            "amend_order",
            "cancel_order",
            "unsubscribe:ticker",
            "unsubscribe:book",
            "unsubscribe:trade",
            "executions",
        }
    )
    for stream, shapes in pks_streams.items():
        if stream == "executions":
            # One account, two clients: each stream holds both clients' reports, interleaved
            # as the two scripts happened to run. Same reports, order aside.
            assert sorted(our_streams[stream]) == sorted(shapes)
        else:
            assert our_streams[stream] == shapes, stream
    # The market moved while both were subscribed: there were updates to compare.
    assert sum(1 for s in pks_streams["book"] if s[1] == "update") > 10
    assert len(pks_streams["trade"]) >= 1
