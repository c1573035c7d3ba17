"""Public endpoint: status, ping, errors, and every public channel against independent checks."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from websockets.asyncio.client import connect

from kraken_ws.models.channels.book import BookSnapshot, BookUpdate
from kraken_ws.models.channels.instrument import InstrumentSnapshot
from kraken_ws.models.channels.ohlc import OhlcSnapshot, OhlcUpdate
from kraken_ws.models.channels.status import StatusUpdate
from kraken_ws.models.channels.ticker import TickerSnapshot, TickerUpdate
from kraken_ws.models.channels.trade import TradeUpdate
from kraken_ws.models.methods.ping import Pong
from kraken_ws.protocol._json import loads
from kraken_ws.testing import LocalExchange

from .conftest import Client, RefBook

DEPTHS = (10, 25, 100, 500, 1000)


def is_book(symbol: str) -> Any:
    return lambda f: f.get("channel") == "book" and f["data"][0]["symbol"] == symbol


async def test_status_on_connect(exchange: LocalExchange) -> None:
    async with connect(exchange.ws_url, max_queue=None) as ws:
        text = await ws.recv()
        status = StatusUpdate.model_validate(loads(text))
        data = status.data[0]
        assert data.api_version == "v2"
        assert data.system == "online"
        assert data.version
        assert data.connection_id is not None
        assert data.connection_id > 2**64
        assert str(data.connection_id) in str(text)  # an exact integer token, not a float


async def test_ping_pong_req_id_echo(public: Client) -> None:
    await public.send({"method": "ping", "req_id": 101})
    pong = Pong.model_validate(loads(await public.recv_text()))
    assert pong.method == "pong"
    assert pong.req_id == 101
    assert pong.time_in
    assert pong.time_out
    await public.send({"method": "ping"})
    text = await public.recv_text()
    assert '"req_id"' not in text
    assert '"method":"pong"' in text
    await public.send({"method": "ping", "params": {}, "req_id": 3})
    err = await public.response(3)
    assert err["method"] == "ping"
    assert err["success"] is False
    assert err["error"].startswith("Unsupported field: 'params'")


@pytest.mark.parametrize("garbage", ["{not json", "[1,2]", '{"params":{}}', "42"])
async def test_malformed_keeps_connection(public: Client, garbage: str) -> None:
    await public.send(garbage)
    err = await public.recv()
    assert err["method"] == "error"
    assert err["success"] is False
    assert err["error"]
    assert "req_id" not in err
    await public.send({"method": "ping", "req_id": 9})
    assert (await public.response(9))["method"] == "pong"


async def test_book_every_depth_checksums(exchange: LocalExchange) -> None:
    """Every depth gets a snapshot of exactly that depth, and updates that keep an independent
    book (applied in order, truncated to depth) in step with every checksum."""
    clients = []
    books: dict[int, RefBook] = {}
    for depth in DEPTHS:
        ws = await connect(exchange.ws_url, max_queue=None)
        client = Client(ws)
        await client.recv()
        rid = await client.request(
            "subscribe", {"channel": "book", "symbol": ["BTC/USD"], "depth": depth}
        )
        ack = await client.response(rid)
        assert ack["result"] == {
            "channel": "book",
            "symbol": "BTC/USD",
            "depth": str(depth),
            "snapshot": True,
        }
        snap = await client.wait_for(is_book("BTC/USD"))
        assert snap["type"] == "snapshot"
        BookSnapshot.model_validate(snap)
        assert len(snap["data"][0]["bids"]) == depth
        assert len(snap["data"][0]["asks"]) == depth
        book = RefBook(depth)
        assert book.apply(snap["data"][0], snapshot=True)
        books[depth] = book
        clients.append(client)
    try:
        await exchange.step(150, symbol="BTC/USD")
        # Book frames of each depth until the server's view of that depth is reached.
        server = exchange.market["BTC/USD"]
        for depth, client in zip(DEPTHS, clients, strict=True):
            book = books[depth]
            expected_bids = [(format(p, "f"), format(q, "f")) for p, q in server.top("bids", depth)]
            updates = 0
            while book.sorted_levels("bids") != expected_bids or updates == 0:
                frame = await client.wait_for(is_book("BTC/USD"))
                assert frame["type"] == "update"
                BookUpdate.model_validate(frame)
                assert book.apply(frame["data"][0], snapshot=False), (
                    f"checksum mismatch depth {depth}"
                )
                updates += 1
            assert book.sorted_levels("asks") == [
                (format(p, "f"), format(q, "f")) for p, q in server.top("asks", depth)
            ]
            assert updates > 10
    finally:
        for client in clients:
            await client.ws.close()


async def test_pepe_tokens_keep_precision(public: Client) -> None:
    rid = await public.request("subscribe", {"channel": "book", "symbol": ["PEPE/USD"]})
    await public.response(rid)
    snap = await public.wait_for(is_book("PEPE/USD"))
    level = snap["data"][0]["bids"][0]
    assert len(level["price"].split(".")[1]) == 9
    assert len(level["qty"].split(".")[1]) == 2
    assert Decimal(level["qty"]) > 10**9
    assert RefBook(10).apply(snap["data"][0], snapshot=True)


async def test_truncation_semantics(exchange: LocalExchange, public: Client) -> None:
    """Levels leaving a depth-10 window are never deleted explicitly; entering ones are inserts."""
    rid = await public.request("subscribe", {"channel": "book", "symbol": ["ETH/USD"], "depth": 10})
    await public.response(rid)
    book = RefBook(10)
    book.apply((await public.wait_for(is_book("ETH/USD")))["data"][0], snapshot=True)
    market = exchange.market["ETH/USD"]
    pushed_out = inserted = 0
    for _ in range(300):
        before = dict(market.top("bids", 10))
        await exchange.step(1, symbol="ETH/USD")
        after = dict(market.top("bids", 10))
        if before == after and dict(market.top("asks", 10)) == {
            Decimal(p): Decimal(q) for p, q in book.sorted_levels("asks")
        }:
            continue
        frame = await public.wait_for(is_book("ETH/USD"))
        sent = {
            Decimal(level["price"]): Decimal(level["qty"]) for level in frame["data"][0]["bids"]
        }
        for price in set(before) - set(after):
            if market.sides["bids"].get(price) is not None:  # still in the book: pushed out
                assert price not in sent
                pushed_out += 1
        for price in set(after) - set(before):
            assert sent.get(price) == after[price]  # entering levels carry their full qty
            inserted += 1
        assert book.apply(frame["data"][0], snapshot=False)
    assert pushed_out > 0
    assert inserted > 0


async def test_one_ack_per_symbol_and_errors(public: Client) -> None:
    rid = await public.request(
        "subscribe", {"channel": "book", "symbol": ["BTC/USD", "ETH/USD", "XBT/USD"], "depth": 25}
    )
    acks = [await public.response(rid) for _ in range(3)]
    ok = [a for a in acks if a["success"]]
    assert sorted(a["result"]["symbol"] for a in ok) == ["BTC/USD", "ETH/USD"]
    bad = next(a for a in acks if not a["success"])
    assert bad["error"] == "Currency pair not supported XBT/USD"
    assert bad["symbol"] == "XBT/USD"
    # same key, and another depth on the same symbol
    for depth in (25, 100):
        rid = await public.request(
            "subscribe", {"channel": "book", "symbol": ["BTC/USD"], "depth": depth}
        )
        err = await public.response(rid)
        assert err == {**err, "success": False, "error": "Already subscribed", "symbol": "BTC/USD"}
    rid = await public.request("subscribe", {"channel": "book", "symbol": ["BTC/USD"], "depth": 27})
    assert (await public.response(rid))["error"] == "Subscription depth not supported"
    rid = await public.request("subscribe", {"channel": "bogus", "symbol": ["BTC/USD"]})
    assert (await public.response(rid))["error"] == "Subscription name invalid"
    rid = await public.request(
        "subscribe", {"channel": "book", "symbol": ["BTC/USD"], "leverage": 2}
    )
    assert (await public.response(rid))["error"].startswith("Unsupported field: 'leverage'")
    rid = await public.request("subscribe", {"channel": "ticker", "symbol": "BTC/USD"})
    assert (await public.response(rid))["error"].startswith("EGeneral:Invalid arguments")
    rid = await public.request("subscribe", {"channel": "status"})
    assert (await public.response(rid))["success"] is False


async def test_private_things_refused_on_public(public: Client, token: str) -> None:
    # Unverified Kraken behaviour; ours: an error response, connection kept.
    rid = await public.request("subscribe", {"channel": "executions", "token": token})
    assert (await public.response(rid))["error"] == "EGeneral:Invalid arguments"
    rid = await public.request(
        "add_order",
        {
            "order_type": "market",
            "side": "buy",
            "order_qty": 1,
            "symbol": "BTC/USD",
            "token": token,
        },
    )
    err = await public.response(rid)
    assert err["method"] == "add_order"
    assert err["error"] == "EGeneral:Invalid arguments"
    rid = await public.request(
        "subscribe", {"channel": "level3", "symbol": ["BTC/USD"], "token": token}
    )
    assert (await public.response(rid))["success"] is False
    await public.send({"method": "ping", "req_id": 77})
    assert (await public.response(77))["method"] == "pong"


async def test_unsubscribe(exchange: LocalExchange, public: Client) -> None:
    rid = await public.request(
        "subscribe", {"channel": "book", "symbol": ["BTC/USD"], "depth": 100}
    )
    await public.response(rid)
    rid = await public.request(
        "unsubscribe", {"channel": "book", "symbol": ["BTC/USD"], "depth": 10}
    )
    err = await public.response(rid)
    assert err["success"] is False
    assert err["symbol"] == "BTC/USD"
    rid = await public.request(
        "unsubscribe", {"channel": "book", "symbol": ["BTC/USD"], "depth": 100}
    )
    ack = await public.response(rid)
    assert ack["success"] is True
    assert ack["result"]["depth"] == "100"
    rid = await public.request("subscribe", {"channel": "book", "symbol": ["BTC/USD"], "depth": 10})
    assert (await public.response(rid))["success"] is True
    rid = await public.request("unsubscribe", {"channel": "book", "symbol": ["BTC/USD"]})
    assert (await public.response(rid))["success"] is True
    await exchange.step(30, symbol="BTC/USD")
    await public.send({"method": "ping", "req_id": 500})
    frame = await public.wait_for(lambda f: f.get("channel") == "book" or f.get("method") == "pong")
    assert frame.get("method") == "pong"  # no book frames after unsubscribing


async def test_ticker_both_triggers(exchange: LocalExchange, public: Client) -> None:
    rid = await public.request(
        "subscribe", {"channel": "ticker", "symbol": ["BTC/USD"], "event_trigger": "bbo"}
    )
    ack = await public.response(rid)
    assert ack["result"]["event_trigger"] == "bbo"
    snap = await public.wait_for(lambda f: f.get("channel") == "ticker")
    TickerSnapshot.model_validate(loads_raw(snap))
    rid = await public.request("subscribe", {"channel": "ticker", "symbol": ["BTC/USD"]})
    assert (await public.response(rid))["result"]["event_trigger"] == "trades"
    await public.wait_for(lambda f: f.get("channel") == "ticker" and f["type"] == "snapshot")
    market = exchange.market["BTC/USD"]
    seen_bbo = False
    for _ in range(200):
        before_bbo, before_trades = market.bbo(), market._next_trade_id
        await exchange.step(1, symbol="BTC/USD")
        if market._next_trade_id != before_trades or market.bbo() != before_bbo:
            frame = await public.wait_for(lambda f: f.get("channel") == "ticker")
            update = TickerUpdate.model_validate(loads_raw(frame))
            assert update.data[0].bid < update.data[0].ask
            if market.bbo() != before_bbo:
                bid = market.best("bids")
                assert bid is not None
                seen_bbo = seen_bbo or update.data[0].bid == bid[0]
    assert seen_bbo


def loads_raw(frame: Any) -> Any:
    """Turn a raw-token frame back into lossless values for model validation."""
    return _coerce(frame)


def _coerce(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _coerce(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_coerce(v) for v in value]
    if isinstance(value, str):
        try:
            return (
                int(value)
                if value.lstrip("-").isdigit()
                else Decimal(value)
                if _numeric(value)
                else value
            )
        except ArithmeticError:
            return value
    return value


def _numeric(value: str) -> bool:
    try:
        Decimal(value)
    except ArithmeticError:
        return False
    return value[:1].isdigit() or value[:1] == "-"


async def test_trade_channel(exchange: LocalExchange, public: Client) -> None:
    rid = await public.request("subscribe", {"channel": "trade", "symbol": ["BTC/USD"]})
    assert (await public.response(rid))["result"]["snapshot"] is False
    await exchange.step(100, symbol="BTC/USD")
    frame = await public.wait_for(lambda f: f.get("channel") == "trade")
    update = TradeUpdate.model_validate(_coerce(frame))
    assert update.type == "update"
    assert update.data[0].side in ("buy", "sell")
    ids = [t.trade_id for t in update.data]
    assert ids == sorted(ids)
    rid = await public.request(
        "subscribe", {"channel": "trade", "symbol": ["ETH/USD"], "snapshot": True}
    )
    await public.response(rid)
    await exchange.step(100, symbol="ETH/USD")
    snap = await public.wait_for(lambda f: f.get("channel") == "trade" and f["type"] == "snapshot")
    assert len(snap["data"]) <= 50


async def test_ohlc_every_interval(exchange: LocalExchange, public: Client) -> None:
    intervals = [1, 5, 15, 30, 60, 240, 1440, 10080, 21600]
    for interval in intervals:
        rid = await public.request(
            "subscribe", {"channel": "ohlc", "symbol": ["BTC/USD"], "interval": interval}
        )
        ack = await public.response(rid)
        assert ack["result"]["interval"] == str(interval)
        assert ack["result"]["warnings"]
        snap = await public.wait_for(lambda f: f.get("channel") == "ohlc")
        model = OhlcSnapshot.model_validate(_coerce(snap))
        assert model.data[-1].interval == interval
        assert model.timestamp
    await exchange.step(200, symbol="BTC/USD")
    seen = set()
    while len(seen) < len(intervals):
        frame = await public.wait_for(lambda f: f.get("channel") == "ohlc")
        update = OhlcUpdate.model_validate(_coerce(frame))
        candle = update.data[0]
        assert candle.low <= candle.open <= candle.high
        assert candle.trades > 0
        assert candle.interval_begin.endswith("Z")
        assert len(candle.interval_begin.split(".")[1]) == 10
        seen.add(candle.interval)


async def test_instrument(public: Client) -> None:
    rid = await public.request("subscribe", {"channel": "instrument"})
    ack = await public.response(rid)
    assert ack["result"]["channel"] == "instrument"
    frame = await public.wait_for(lambda f: f.get("channel") == "instrument")
    snap = InstrumentSnapshot.model_validate(_coerce(frame))
    pairs = {p.symbol: p for p in snap.data.pairs}
    assert pairs["BTC/USD"].price_precision == 1
    assert pairs["BTC/USD"].qty_precision == 8
    assert pairs["PEPE/USD"].price_precision == 9
    assert pairs["PEPE/USD"].qty_precision == 2
    assert {a.id for a in snap.data.assets} >= {"BTC", "USD", "ETH", "PEPE"}
    rid = await public.request("subscribe", {"channel": "instrument"})
    assert (await public.response(rid))["error"] == "Already subscribed"


async def test_heartbeat_after_first_subscription(exchange: LocalExchange, public: Client) -> None:
    await public.send({"method": "ping", "req_id": 1})
    await public.response(1)
    rid = await public.request("subscribe", {"channel": "instrument", "snapshot": False})
    await public.response(rid)
    beat = await public.wait_for(lambda f: f.get("channel") == "heartbeat", limit=2)
    assert beat == {"channel": "heartbeat"}
