"""The router parses each message once and dispatches it through its table; the registry.

These pin what the split of the exchange promised: one parse per message whatever path it takes
(rate limit, delay, drop, error), and one subscription registry with Kraken's notion of "the
same subscription".
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from websockets.asyncio.client import connect

from kraken_ws.models.messages import method_models
from kraken_ws.testing import LocalExchange
from kraken_ws.testing import router as router_module
from kraken_ws.testing.subscriptions import SubscriptionRegistry

from .conftest import Client


@pytest.fixture
def parses(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every text the router hands to the JSON parser."""
    seen: list[str] = []
    real = router_module.loads

    def counting(text: str | bytes) -> Any:
        seen.append(text if isinstance(text, str) else text.decode())
        return real(text)

    monkeypatch.setattr(router_module, "loads", counting)
    return seen


async def _answers(exchange: LocalExchange, texts: list[str], count: int) -> list[Any]:
    async with connect(exchange.ws_url, max_queue=None) as ws:
        client = Client(ws)
        assert (await client.recv())["channel"] == "status"
        for text in texts:
            await client.send(text)
        return [await client.recv() for _ in range(count)]


async def test_each_message_is_parsed_once(exchange: LocalExchange, parses: list[str]) -> None:
    texts = [
        json.dumps({"method": "ping", "req_id": 1}),
        json.dumps({"method": "subscribe", "req_id": 2, "params": {"channel": "nope"}}),
        json.dumps({"method": "frobnicate", "req_id": 3}),
        "not json",
    ]
    exchange.delay_responses(0.01, "ping")  # the delayed path too
    answers = await _answers(exchange, texts, 4)
    assert sorted(str(a.get("req_id")) for a in answers) == ["1", "2", "3", "None"]
    assert parses == texts


async def test_a_dropped_response_is_parsed_once(
    exchange: LocalExchange, parses: list[str]
) -> None:
    exchange.drop_next_response("ping")
    texts = [json.dumps({"method": "ping", "req_id": n}) for n in (1, 2)]
    (answer,) = await _answers(exchange, texts, 1)
    assert answer["req_id"] == "2"
    assert parses == texts


async def test_a_rate_limited_message_is_parsed_once(parses: list[str]) -> None:
    async with LocalExchange(rate=None, heartbeat_interval=None, max_msg_rate=1) as exchange:
        texts = [json.dumps({"method": "ping", "req_id": n}) for n in (1, 2)]
        first, refused = await _answers(exchange, texts, 2)
    assert first["method"] == "pong"
    assert (refused["method"], refused["req_id"], refused["error"]) == (
        "ping",
        "2",
        "Exceeded msg rate",
    )
    assert parses == texts


async def test_a_parser_bug_is_an_internal_error(
    exchange: LocalExchange, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    def broken(text: str | bytes) -> Any:
        raise RuntimeError("simulated parser bug")

    monkeypatch.setattr(router_module, "loads", broken)
    (answer,) = await _answers(exchange, [json.dumps({"method": "ping", "req_id": 7})], 1)
    assert (answer["method"], answer.get("req_id"), answer["error"]) == (
        "error",
        None,
        "EGeneral:Internal error",
    )
    assert "simulated parser bug" in caplog.text


def test_the_dispatch_table_covers_every_method(exchange: LocalExchange) -> None:
    table: dict[str, Callable[..., None]] = exchange._router._handlers
    assert set(table) == set(method_models())


# -- SubscriptionRegistry -----------------------------------------------------------------------


def test_one_book_subscription_per_symbol_whatever_the_depth() -> None:
    registry: SubscriptionRegistry[str] = SubscriptionRegistry()
    assert registry.add("a", "book", "BTC/USD", 10)
    assert not registry.add("a", "book", "BTC/USD", 25)  # "Already subscribed"
    assert registry.add("b", "book", "BTC/USD", 25)
    assert registry.subscribers("book", "BTC/USD") == {10: {"a"}, 25: {"b"}}
    assert not registry.remove("a", "book", "BTC/USD", 25)  # not with that depth
    assert registry.remove("a", "book", "BTC/USD", 10)
    assert not registry.remove("a", "book", "BTC/USD", 10)
    assert registry.subscribers("book", "BTC/USD") == {10: set(), 25: {"b"}}


def test_ticker_triggers_and_ohlc_intervals_are_separate_subscriptions() -> None:
    registry: SubscriptionRegistry[str] = SubscriptionRegistry()
    assert registry.add("a", "ticker", "BTC/USD", "trades")
    assert registry.add("a", "ticker", "BTC/USD", "bbo")
    assert not registry.add("a", "ticker", "BTC/USD", "bbo")
    assert registry.add("a", "ohlc", "BTC/USD", 1)
    assert registry.add("a", "ohlc", "BTC/USD", 5)
    assert registry.subscribers("ticker", "BTC/USD") == {"trades": {"a"}, "bbo": {"a"}}
    assert registry.subscribers("ohlc", "ETH/USD") == {}


def test_variants_keep_their_first_subscription_order() -> None:
    # A connection holding several ohlc intervals gets their frames in this order.
    registry: SubscriptionRegistry[str] = SubscriptionRegistry()
    registry.add("a", "ohlc", "BTC/USD", 1)
    registry.add("a", "ohlc", "BTC/USD", 5)
    registry.remove("a", "ohlc", "BTC/USD", 1)
    registry.add("a", "ohlc", "BTC/USD", 1)
    assert list(registry.subscribers("ohlc", "BTC/USD")) == [1, 5]


def test_account_channels_and_drop() -> None:
    registry: SubscriptionRegistry[str] = SubscriptionRegistry()
    assert registry.add("a", "executions")
    assert not registry.add("a", "executions")
    registry.add("a", "trade", "BTC/USD")
    registry.add("b", "trade", "BTC/USD")
    registry.drop("a")
    assert registry.subscribers("executions") == {None: set()}
    assert registry.subscribers("trade", "BTC/USD") == {None: {"b"}}
    assert registry.add("a", "executions")  # a fresh start after the drop
