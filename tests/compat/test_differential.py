"""Differential test: python-kraken-sdk 3.5.1 and the facade, value by value, on one stream.

**One stream.** A seeded `LocalExchange` session is recorded once (`replay.record`): public and
private connects, the instrument, ticker, book (BTC/USD and ETH/USD), trade and ohlc channels,
executions and balances, heartbeats, market steps, a resting order amended and cancelled, a
market order that fills, the unsubscribes. Every client is then served exactly those frames by a
`replay.Replay` server, in the same order, across both connections too (see that module for why
recording beats two clients on one live exchange: acks carry the exchange's receive times, each
client's orders would get their own ids, and the interleaving of two sockets is the scheduler's).
The REST token endpoint is the exchange's own.

**SpotWSClient.** The real ``kraken.spot.SpotWSClient`` and ours run the same script (the
recorded requests, through ``send_message``), and every message their ``on_message`` received
is compared, index by index: the same keys (in the same order) and the same values at every
depth. The requests each client sent are compared too, per connection (the token aside: each
client fetched its own). The run takes about a second: python-kraken-sdk pings again only
after 10 s, and an unexpected request would fail the replay's check, not hang it.

**SpotOrderBookClient.** The real one and ours get the book frames of the same recording (ours
also its instrument subscription: its precisions come from there, python-kraken-sdk's from REST
``AssetPairs``, here the exchange's own answer). After every ``on_book_update`` call the call's
arguments and ``get(pair)`` (every level, its price, quantity and timestamp strings, ``valid``
and the precisions) are compared.

**Numbers** are compared as decimals: a float through ``Decimal(repr(x))`` (``repr`` is the
shortest text that reads back as the same double, so two floats compare equal exactly when
these decimals do), an int through ``Decimal(x)``; a ``Decimal`` as itself. Two numbers are the
same when the decimals are equal *and* they are of the same kind (an int is not a float: the
wire said ``1`` or ``1.0``); booleans are not numbers.

**Intended differences** are the rows of the table in docs/migrating.md ("What the differential
tests allow"). Each difference found is classified into one of its ids; a difference that fits
none fails the test, and so does a listed id that no longer occurs.
"""

from __future__ import annotations

import asyncio
import copy
import re
from collections import Counter
from collections.abc import Callable, Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest

from kraken_ws.compat import SpotOrderBookClient, SpotWSClient
from kraken_ws.testing import LocalExchange

from .conftest import Recorder
from .replay import Action, Endpoint, Replay, record

kraken_spot = pytest.importorskip("kraken.spot")
connectors = pytest.importorskip("kraken.spot.websocket.connectors")

DOC = Path(__file__).resolve().parents[2] / "docs" / "migrating.md"
TABLE_HEADING = "## What the differential tests allow"
PAIRS = ["BTC/USD", "ETH/USD"]


@pytest.fixture(autouse=True)
def no_initial_wait(monkeypatch: pytest.MonkeyPatch) -> None:
    # python-kraken-sdk waits 1-2 s (random) before its first connect; its own tests patch it.
    monkeypatch.setattr(
        connectors.ConnectSpotWebsocketBase,
        "_ConnectSpotWebsocketBase__get_reconnect_wait",
        lambda self, attempts: 0,
    )


# --- the session ----------------------------------------------------------------------------


def _subscribe(req_id: int, **params: Any) -> dict[str, Any]:
    return {"method": "subscribe", "params": params, "req_id": req_id}


def _unsubscribe(req_id: int, **params: Any) -> dict[str, Any]:
    return {"method": "unsubscribe", "params": params, "req_id": req_id}


def _order(req_id: int, method: str, **params: Any) -> dict[str, Any]:
    return {"method": method, "params": params, "req_id": req_id}


def _heartbeat(ex: LocalExchange) -> Any:
    return ex.inject_frame('{"channel":"heartbeat"}')


def session() -> list[Action]:
    """The script: what a python-kraken-sdk user does, in order."""
    resting = {"symbol": "BTC/USD", "cl_ord_id": "resting-1"}
    return [
        # Both clients ping each new connection once (python-kraken-sdk without a req_id).
        Action("connect:public", "public", {"method": "ping"}),
        Action("connect:auth", "auth", {"method": "ping"}),
        Action("instrument", request=_subscribe(1, channel="instrument", snapshot=True)),
        Action("ticker", request=_subscribe(2, channel="ticker", symbol=["BTC/USD"])),
        Action("book", request=_subscribe(3, channel="book", depth=10, symbol=PAIRS)),
        Action("trade", request=_subscribe(4, channel="trade", symbol=["BTC/USD"])),
        Action("ohlc", request=_subscribe(5, channel="ohlc", symbol=["BTC/USD"], interval=1)),
        Action(
            "executions",
            "auth",
            _subscribe(6, channel="executions", snap_orders=True, snap_trades=True),
        ),
        Action("balances", "auth", _subscribe(7, channel="balances")),
        Action("heartbeat", exchange=_heartbeat),
        Action("market", exchange=lambda ex: ex.step(25)),
        Action(
            "add_order",
            "auth",
            _order(
                8,
                "add_order",
                order_type="limit",
                side="buy",
                order_qty=0.25,
                limit_price=20000.5,
                **resting,
            ),
        ),
        Action(
            "amend_order", "auth", _order(9, "amend_order", cl_ord_id="resting-1", order_qty=0.5)
        ),
        Action("market 2", exchange=lambda ex: ex.step(10)),
        Action("cancel_order", "auth", _order(10, "cancel_order", cl_ord_id=["resting-1"])),
        Action(
            "market order",
            "auth",
            _order(
                11,
                "add_order",
                order_type="market",
                side="buy",
                order_qty=0.05,
                symbol="BTC/USD",
                cl_ord_id="taker-1",
            ),
        ),
        Action("market 3", exchange=lambda ex: ex.step(25)),
        Action("heartbeat 2", exchange=_heartbeat),
        Action(
            "unsubscribe ticker", request=_unsubscribe(12, channel="ticker", symbol=["BTC/USD"])
        ),
        Action(
            "unsubscribe book", request=_unsubscribe(13, channel="book", depth=10, symbol=PAIRS)
        ),
        Action("unsubscribe trade", request=_unsubscribe(14, channel="trade", symbol=["BTC/USD"])),
        Action(
            "unsubscribe ohlc",
            request=_unsubscribe(15, channel="ohlc", symbol=["BTC/USD"], interval=1),
        ),
    ]


@pytest.fixture(scope="module")
def recording() -> dict[str, Any]:
    """The session, recorded once for every test of this module, and the exchange's REST."""

    async def run() -> dict[str, Any]:
        async with LocalExchange(rate=None, seed=11, heartbeat_interval=None) as ex:
            actions = await record(ex, session())
            pairs: dict[str, Any] = {}
            async with httpx.AsyncClient() as http:
                for pair in PAIRS:
                    answer = await http.get(
                        f"{ex.rest_url}/0/public/AssetPairs", params={"pair": pair}
                    )
                    pairs[pair] = answer.json()["result"]
        return {"actions": actions, "asset_pairs": pairs}

    return asyncio.run(run())


# --- comparing values -----------------------------------------------------------------------

Difference = tuple[str, str, Any, Any]  # (path, kind, python-kraken-sdk's, ours)


def _number(value: Any) -> Decimal | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, float):
        return Decimal(repr(value))
    if isinstance(value, int | Decimal):
        return Decimal(value)
    return None


def differences(theirs: Any, ours: Any, path: str = "") -> Iterator[Difference]:
    """Every difference between two decoded values (see the module docstring for numbers)."""
    if isinstance(theirs, dict) and isinstance(ours, dict):
        if type(theirs) is not type(ours):
            yield path, "type", type(theirs).__name__, type(ours).__name__
        for key in theirs.keys() - ours.keys():
            yield f"{path}.{key}", "missing", theirs[key], None
        for key in ours.keys() - theirs.keys():
            yield f"{path}.{key}", "extra", None, ours[key]
        if list(theirs) != list(ours) and theirs.keys() == ours.keys():
            yield path, "order", list(theirs), list(ours)
        for key in theirs.keys() & ours.keys():
            yield from differences(theirs[key], ours[key], f"{path}.{key}")
    elif isinstance(theirs, list | tuple) and isinstance(ours, list | tuple):
        if type(theirs) is not type(ours):
            yield path, "type", type(theirs).__name__, type(ours).__name__
        if len(theirs) != len(ours):
            yield path, "length", len(theirs), len(ours)
        for index, (a, b) in enumerate(zip(theirs, ours, strict=False)):
            yield from differences(a, b, f"{path}[{index}]")
    elif (a := _number(theirs)) is not None and (b := _number(ours)) is not None:
        if a != b:
            yield path, "value", theirs, ours
        elif type(theirs) is not type(ours):
            yield path, "type", theirs, ours
    elif type(theirs) is not type(ours) or theirs != ours:
        yield path, "value", theirs, ours


def test_the_comparison_sees_values_types_keys_and_order() -> None:
    """The comparison itself: what it must catch, and what it must not."""
    same = {"a": [1, 0.1, "x", True, None], "b": {"c": 12345678901.123457}}
    assert list(differences(same, copy.deepcopy(same))) == []
    assert list(differences(0.1, Decimal("0.1"))) == [("", "type", 0.1, Decimal("0.1"))]
    assert list(differences(0.1, Decimal("0.10000000000000001"))) == [
        ("", "value", 0.1, Decimal("0.10000000000000001"))
    ]
    assert list(differences(1, 1.0)) == [("", "type", 1, 1.0)]
    assert list(differences(True, 1)) == [("", "value", True, 1)]
    assert sorted(differences({"a": 1}, {"b": 1})) == [
        (".a", "missing", 1, None),
        (".b", "extra", None, 1),
    ]
    assert list(differences({"a": 1, "b": 2}, {"b": 2, "a": 1})) == [
        ("", "order", ["a", "b"], ["b", "a"])
    ]
    assert list(differences([1], [1, 2])) == [("", "length", 1, 2)]
    assert list(differences(("1", "t"), ["1", "t"])) == [("", "type", "tuple", "list")]


def listed() -> dict[str, str]:
    """The table of docs/migrating.md: id -> the cell naming the clients it concerns."""
    text = DOC.read_text(encoding="utf-8")
    section = text[text.index(TABLE_HEADING) :].split("\n## ", 1)[0]
    return dict(re.findall(r"^\| `([a-z0-9-]+)` \| ([^|]+) \|", section, re.M))


Classifier = Callable[[Any, Difference], str | None]


def compare(theirs: list[Any], ours: list[Any], classify: Classifier) -> Counter[str]:
    """Compare item by item; return how often each intended difference occurred.

    Fails on any difference ``classify`` does not recognise as a listed one.
    """
    assert len(theirs) == len(ours)
    found: Counter[str] = Counter()
    unexpected: list[tuple[int, Difference]] = []
    for index, (a, b) in enumerate(zip(theirs, ours, strict=True)):
        for difference in differences(a, b):
            kind = classify(a, difference)
            if kind is None:
                unexpected.append((index, difference))
            else:
                found[kind] += 1
    assert unexpected == [], unexpected[:40]
    return found


def requests_by_endpoint(replay: Replay) -> dict[str, list[dict[str, Any]]]:
    """What the client sent, per connection, in order; the token aside.

    Each client fetched its own token, so their values differ by construction (they are not
    the client's choice); everything else of each request is compared.
    """
    sent: dict[str, list[dict[str, Any]]] = {"public": [], "auth": []}
    for endpoint, request in replay.requests:
        request = copy.deepcopy(request)
        params = request.get("params")
        if isinstance(params, dict):
            params.pop("token", None)
        sent[endpoint].append(request)
    return sent


def classify_request(request: dict[str, Any], difference: Difference) -> str | None:
    """The table id of a difference between two requests, if it is an intended one."""
    path, kind, _, _ = difference
    if (path, kind) == (".params", "order"):
        return "params-key-order"
    if (path, kind) == (".req_id", "extra"):
        if request.get("method") == "ping":
            return "ping-req-id"
        if request.get("method") == "subscribe":
            return "book-req-id"
    return None


def assert_listed(client: str, found: Counter[str]) -> None:
    """Every listed difference of ``client`` occurred, and nothing else did."""
    expected = {i for i, who in listed().items() if f"`{client}`" in who}
    assert set(found) == expected, (client, found, expected)


# --- SpotWSClient ---------------------------------------------------------------------------


def classify_message(message: Any, difference: Difference) -> str | None:
    """The table id of a difference between two on_message messages, if it is an intended one."""
    path, kind, _, _ = difference
    if message.get("method") == "pong" and (path, kind) == (".req_id", "extra"):
        return "pong-req-id"
    return None


async def run_spot_ws_client(
    client_class: type[Any], actions: list[Action], ex: LocalExchange
) -> tuple[list[Any], Replay]:
    recorder = Recorder()

    async def delivered(count: int) -> None:
        await recorder.wait_for(lambda m: True, count=count)

    replay = Replay(actions, delivered=delivered)
    async with replay.serving():
        client = client_class(
            ex.api_key,
            ex.api_secret,
            recorder.callback,
            rest_url=ex.rest_url,
            ws_url=replay.url("public"),
            auth_ws_url=replay.url("auth"),
        )
        async with asyncio.timeout(30):
            conductor = asyncio.create_task(replay.conduct())
            await client.start()
            for action in actions:
                if action.request is not None and not action.name.startswith("connect:"):
                    # A copy: python-kraken-sdk adds the token to the caller's dict.
                    await client.send_message(copy.deepcopy(action.request))
            await conductor
            await asyncio.gather(client.close(), replay.close_connections())
    return recorder.messages, replay


async def test_spot_ws_client(recording: dict[str, Any]) -> None:
    actions: list[Action] = recording["actions"]
    async with LocalExchange(rate=None, seed=11, heartbeat_interval=None) as ex:  # REST only
        theirs, their_replay = await run_spot_ws_client(kraken_spot.SpotWSClient, actions, ex)
        ours, our_replay = await run_spot_ws_client(SpotWSClient, actions, ex)

    # Every frame of the recording reached both callbacks.
    assert (
        len(theirs)
        == len(ours)
        == our_replay.sent
        == sum(len(frames) for action in actions for frames in action.frames.values())
    )
    found = compare(theirs, ours, classify_message)
    their_requests, our_requests = (
        requests_by_endpoint(their_replay),
        requests_by_endpoint(our_replay),
    )
    for endpoint in ("public", "auth"):
        found += compare(their_requests[endpoint], our_requests[endpoint], classify_request)
    assert_listed("SpotWSClient", found)
    # What the stream covered.
    assert {str(m.get("channel") or m.get("method")) for m in theirs} == {
        "status",
        "pong",
        "heartbeat",
        "instrument",
        "ticker",
        "book",
        "trade",
        "ohlc",
        "executions",
        "balances",
        "subscribe",
        "unsubscribe",
        "add_order",
        "amend_order",
        "cancel_order",
    }
    requests = sum(len(r) for r in their_requests.values())
    print(
        f"SpotWSClient: {len(theirs)} messages and {requests} requests compared;"
        f" intended differences {dict(found)}"
    )


# --- SpotOrderBookClient --------------------------------------------------------------------


class _AssetPairs:
    """python-kraken-sdk's ``Market`` for its book client: the exchange's AssetPairs answers.

    Its ``get_asset_pairs`` is a blocking ``requests`` call made inside the receive loop, which
    cannot reach an exchange on the same event loop; the answers were fetched beforehand from
    the exchange's REST endpoint (`recording`).
    """

    def __init__(self, answers: dict[str, Any]) -> None:
        self.answers = answers

    def get_asset_pairs(self, pair: str) -> Any:
        return self.answers[pair]


BookCall = tuple[str, Any, Any]  # (pair, message, get(pair) right after)


def _book_plays(instrument: bool) -> Callable[[Action], bool]:
    played = {"connect:public", "book"} | ({"instrument"} if instrument else set())
    return lambda action: action.name in played


def _book_keeps(instrument: bool) -> Callable[[Action, Endpoint, str], bool]:
    plays = _book_plays(instrument)

    def keeps(action: Action, endpoint: Endpoint, text: str) -> bool:
        if endpoint != "public":
            return False
        return plays(action) or text.startswith('{"channel":"book"')

    return keeps


async def run_book_client(
    client_class: type[Any], actions: list[Action], answers: dict[str, Any] | None
) -> tuple[list[BookCall], Replay]:
    calls: list[BookCall] = []
    seen = Recorder()
    instrument = answers is None  # ours: precisions from the instrument channel
    replay = Replay(actions, plays=_book_plays(instrument), keeps=_book_keeps(instrument))

    class Book(client_class):  # type: ignore[misc, valid-type]
        WS_URL = ""  # set below: python-kraken-sdk's book client takes no URL argument

        async def on_message(self, message: Any) -> None:
            await super().on_message(message)
            seen.add(message)

    def on_book_update(pair: str, message: Any) -> None:
        calls.append((pair, copy.deepcopy(message), copy.deepcopy(client.get(pair))))

    async with replay.serving():
        Book.WS_URL = replay.url("public")
        client = Book(depth=10, callback=on_book_update)
        if answers is not None:
            client._SpotOrderBookClient__market = _AssetPairs(answers)
        async with asyncio.timeout(30):
            conductor = asyncio.create_task(replay.conduct())
            await client.start()
            await client.add_book(pairs=PAIRS)
            await conductor
            await seen.wait_for(lambda m: True, count=replay.sent)
            await asyncio.gather(client.close(), replay.close_connections())
    return calls, replay


def classify_book(call: BookCall, difference: Difference) -> str | None:
    """The table id of a difference between two on_book_update calls, if an intended one."""
    return None  # none is intended: the same calls, the same books


async def test_order_book_client(recording: dict[str, Any]) -> None:
    actions: list[Action] = recording["actions"]
    theirs, their_replay = await run_book_client(
        kraken_spot.SpotOrderBookClient, actions, recording["asset_pairs"]
    )
    ours, our_replay = await run_book_client(SpotOrderBookClient, actions, None)

    book_frames = sum(
        1
        for action in actions
        for text in action.frames["public"]
        if text.startswith('{"channel":"book"')
    )
    # One call per book frame and symbol (each frame of this stream carries one symbol).
    assert len(theirs) == book_frames
    found = compare(theirs, ours, classify_book)
    their_requests = requests_by_endpoint(their_replay)["public"]
    our_requests = requests_by_endpoint(our_replay)["public"]
    # The facade's precisions come from the instrument channel: its one extra request.
    instrument = {"method": "subscribe", "params": {"channel": "instrument", "snapshot": True}}
    extra = [r for r in our_requests if {**r, "req_id": None} == {**instrument, "req_id": None}]
    if extra:
        found["book-instrument"] = len(extra)
    found += compare(their_requests, [r for r in our_requests if r not in extra], classify_request)
    assert_listed("SpotOrderBookClient", found)
    states = sum(1 for _, _, state in theirs if state is not None)
    assert states == len(theirs)
    assert {pair for pair, _, _ in theirs} == set(PAIRS)
    print(f"SpotOrderBookClient: {states} book states compared; differences {dict(found)}")
