"""KrakenProtocol driven with plain function calls: text in, events out, `now` injected."""

from __future__ import annotations

import json
from typing import Any

import pytest
from pydantic import ValidationError

from kraken_ws.events import LateResponse
from kraken_ws.exceptions import ConnectionLost, InvalidState, RequestTimeout
from kraken_ws.models.methods.add_order import AddOrderParams, AddOrderRequest
from kraken_ws.protocol.connection import KrakenProtocol
from kraken_ws.protocol.events import (
    ChannelData,
    ConnectionDead,
    InvalidFrame,
    RequestCompleted,
    RequestFailed,
    UnsolicitedResponse,
)
from kraken_ws.protocol.requests import INT32_MAX, ReqIdAllocator, expected_responses, strip_token
from kraken_ws.protocol.state import TRANSITIONS, ConnectionState, Input, next_state

TOKEN = "SECRET-TOKEN-xyz"


def open_proto(**kwargs: Any) -> KrakenProtocol:
    kwargs.setdefault("ping_interval", None)
    kwargs.setdefault("watchdog_timeout", None)
    proto = KrakenProtocol(**kwargs)
    proto.connection_opened(now=0.0)
    return proto


def sent(proto: KrakenProtocol) -> list[dict[str, Any]]:
    return [json.loads(t) for t in proto.data_to_send()]


def ack(method: str, req_id: int, **extra: Any) -> str:
    body: dict[str, Any] = {"method": method, "req_id": req_id, "success": True}
    body.update(extra)
    return json.dumps(body)


def sub_ack(
    req_id: int, channel: str, symbol: str | None = None, ok: bool = True, **result: Any
) -> str:
    if ok:
        res: dict[str, Any] = {"channel": channel, **result}
        if symbol is not None:
            res["symbol"] = symbol
        return json.dumps({"method": "subscribe", "req_id": req_id, "success": True, "result": res})
    body: dict[str, Any] = {
        "method": "subscribe",
        "req_id": req_id,
        "success": False,
        "error": "Already subscribed",
    }
    if symbol is not None:
        body["symbol"] = symbol
    return json.dumps(body)


class TestStateMachine:
    """state.py transition table."""

    def test_table_complete_for_lost_and_close(self) -> None:
        for state in ConnectionState:
            assert (state, Input.LOST) in TRANSITIONS
            assert (state, Input.CLOSE) in TRANSITIONS

    def test_closed_is_final(self) -> None:
        with pytest.raises(InvalidState):
            next_state(ConnectionState.CLOSED, Input.OPENED)

    def test_send_while_disconnected_is_local_error(self) -> None:
        proto = KrakenProtocol()
        with pytest.raises(InvalidState):
            proto.send({"method": "ping"}, now=0)

    def test_lifecycle(self) -> None:
        proto = KrakenProtocol()
        proto.connecting()
        assert proto.state is ConnectionState.CONNECTING
        proto.connection_opened(now=0)
        assert proto.state is ConnectionState.OPEN
        proto.connection_lost(now=1)
        assert proto.state is ConnectionState.DISCONNECTED
        proto.connection_opened(now=2)
        proto.close()
        assert proto.state is ConnectionState.CLOSING
        proto.connection_lost(now=3)
        assert proto.state is ConnectionState.CLOSED


class TestReqIds:
    def test_sequential(self) -> None:
        alloc = ReqIdAllocator()
        assert [alloc.allocate(set()) for _ in range(3)] == [1, 2, 3]

    def test_wraps_within_int32_and_skips_in_flight(self) -> None:
        alloc = ReqIdAllocator(INT32_MAX - 1)
        assert alloc.allocate(set()) == INT32_MAX - 1
        assert alloc.allocate({1, 2}) == INT32_MAX
        assert alloc.allocate({1, 2}) == 3

    def test_protocol_assigns_and_keeps_given(self) -> None:
        proto = open_proto()
        first = proto.send({"method": "ping"}, now=0)
        second = proto.send({"method": "ping", "req_id": 77}, now=0)
        assert (first, second) == (1, 77)
        with pytest.raises(InvalidState):
            proto.send({"method": "ping", "req_id": 77}, now=0)
        frames = sent(proto)
        assert frames == [{"method": "ping", "req_id": 1}, {"method": "ping", "req_id": 77}]

    def test_invalid_request_sends_nothing(self) -> None:
        proto = open_proto()
        with pytest.raises(ValidationError):
            proto.send({"method": "add_order", "params": {"side": "buy"}}, now=0)
        assert proto.data_to_send() == []
        assert proto.pending_count == 0


class TestCorrelation:
    """Reference §2.2 multiplicity rules."""

    def test_single_response(self) -> None:
        proto = open_proto()
        rid = proto.send({"method": "ping"}, now=1.0)
        proto.receive_text(json.dumps({"method": "pong", "req_id": rid}), now=1.25)
        [event] = proto.events_received()
        assert isinstance(event, RequestCompleted)
        assert event.req_id == rid
        assert event.method == "ping"
        assert event.elapsed == pytest.approx(0.25)

    def test_one_ack_per_symbol(self) -> None:
        proto = open_proto()
        rid = proto.send(
            {
                "method": "subscribe",
                "params": {"channel": "ticker", "symbol": ["BTC/USD", "ETH/USD"]},
            },
            now=0,
        )
        proto.receive_text(sub_ack(rid, "ticker", "BTC/USD"), now=0.1)
        assert proto.events_received() == []
        proto.receive_text(sub_ack(rid, "ticker", "ETH/USD", ok=False), now=0.2)
        [event] = proto.events_received()
        assert isinstance(event, RequestCompleted)
        assert len(event.responses) == 2
        assert [r.symbol for r in proto.subscriptions.acknowledged()] == ["BTC/USD"]

    def test_duplicate_ack_does_not_stand_in_for_a_missing_symbol(self) -> None:
        proto = open_proto()
        rid = proto.send(
            {
                "method": "subscribe",
                "params": {"channel": "ticker", "symbol": ["BTC/USD", "ETH/USD"]},
            },
            now=0,
        )
        proto.receive_text(sub_ack(rid, "ticker", "BTC/USD"), now=0.1)
        proto.receive_text(sub_ack(rid, "ticker", "BTC/USD"), now=0.2)
        [event] = proto.events_received()
        assert isinstance(event, UnsolicitedResponse)
        proto.receive_text(sub_ack(rid, "ticker", "ETH/USD"), now=0.3)
        [event] = proto.events_received()
        assert isinstance(event, RequestCompleted)
        assert len(event.responses) == 2

    def test_refused_creator_then_accepted_duplicate_keeps_the_subscription(self) -> None:
        proto = open_proto()
        params = {"channel": "ticker", "symbol": ["BTC/USD"]}
        first = proto.send({"method": "subscribe", "params": params}, now=0)
        second = proto.send({"method": "subscribe", "params": params}, now=0)
        proto.receive_text(sub_ack(first, "ticker", "BTC/USD", ok=False), now=0.1)
        proto.receive_text(sub_ack(second, "ticker", "BTC/USD"), now=0.2)
        assert [r.symbol for r in proto.subscriptions.acknowledged()] == ["BTC/USD"]
        proto.connection_lost(now=1.0)
        proto.connection_opened(now=2.0)
        replayed = [f for f in sent(proto) if f["method"] == "subscribe"]
        assert [f["params"]["symbol"] for f in replayed] == [["BTC/USD"]]

    def test_symbol_less_channel_one_ack(self) -> None:
        proto = open_proto()
        rid = proto.send({"method": "subscribe", "params": {"channel": "instrument"}}, now=0)
        proto.receive_text(sub_ack(rid, "instrument"), now=0.1)
        [event] = proto.events_received()
        assert isinstance(event, RequestCompleted)

    def test_request_level_rejection_completes(self) -> None:
        proto = open_proto()
        rid = proto.send(
            {"method": "subscribe", "params": {"channel": "book", "symbol": ["A/B", "C/D"]}}, now=0
        )
        proto.receive_text(
            json.dumps(
                {
                    "method": "subscribe",
                    "req_id": rid,
                    "success": False,
                    "error": "Subscription depth not supported",
                }
            ),
            now=0.1,
        )
        [event] = proto.events_received()
        assert isinstance(event, RequestCompleted)
        assert len(proto.subscriptions) == 0

    def test_cancel_order_one_response_per_id(self) -> None:
        proto = open_proto()
        rid = proto.send(
            {"method": "cancel_order", "params": {"order_id": ["A", "B"], "cl_ord_id": ["c"]}},
            now=0,
            token=TOKEN,
        )
        for oid in ("A", "B"):
            proto.receive_text(ack("cancel_order", rid, result={"order_id": oid}), now=0.1)
        assert proto.events_received() == []
        proto.receive_text(
            json.dumps(
                {
                    "method": "cancel_order",
                    "req_id": rid,
                    "success": False,
                    "error": "EOrder:Invalid order",
                }
            ),
            now=0.2,
        )
        [event] = proto.events_received()
        assert isinstance(event, RequestCompleted)
        assert len(event.responses) == 3

    def test_unsolicited(self) -> None:
        proto = open_proto()
        proto.receive_text(json.dumps({"method": "pong", "req_id": 999}), now=0)
        [event] = proto.events_received()
        assert isinstance(event, UnsolicitedResponse)

    def test_channel_frames_and_garbage(self) -> None:
        proto = open_proto()
        proto.receive_text('{"channel":"heartbeat"}', now=0)
        proto.receive_text("not json{", now=0)
        first, second = proto.events_received()
        assert isinstance(first, ChannelData)
        assert isinstance(second, InvalidFrame)

    def test_expected_responses(self) -> None:
        assert (
            expected_responses(
                {"method": "subscribe", "params": {"channel": "book", "symbol": ["a", "b", "c"]}}
            )
            == 3
        )
        assert (
            expected_responses({"method": "unsubscribe", "params": {"channel": "executions"}}) == 1
        )
        assert expected_responses({"method": "batch_add", "params": {"orders": [1, 2]}}) == 1
        assert (
            expected_responses({"method": "cancel_order", "params": {"order_userref": [1, 2]}}) == 2
        )


class TestTimeouts:
    def test_request_times_out(self) -> None:
        proto = open_proto(request_timeout=5)
        rid = proto.send({"method": "ping"}, now=0)
        assert proto.next_wakeup() == 5
        proto.tick(now=4.9)
        assert proto.events_received() == []
        proto.tick(now=5.0)
        [event] = proto.events_received()
        assert isinstance(event, RequestFailed)
        assert isinstance(event.error, RequestTimeout)
        assert event.error.req_id == rid
        assert event.error.outcome_unknown is False  # a ping changes nothing
        # the id stays reserved: a late answer is a LateResponse, and only once
        proto.receive_text(json.dumps({"method": "pong", "req_id": rid}), now=6)
        [late] = proto.events_received()
        assert isinstance(late, LateResponse)
        assert (late.req_id, late.method, late.elapsed) == (rid, "ping", 6)
        proto.receive_text(json.dumps({"method": "pong", "req_id": rid}), now=7)
        assert isinstance(proto.events_received()[0], UnsolicitedResponse)

    def test_per_request_timeout(self) -> None:
        proto = open_proto(request_timeout=5)
        proto.send({"method": "ping"}, now=0, timeout=1)
        proto.tick(now=1)
        assert len(proto.events_received()) == 1


class TestConnectionLost:
    def test_pending_fail_with_outcome_unknown_for_orders(self) -> None:
        proto = open_proto()
        order = AddOrderRequest(
            params=AddOrderParams(
                order_type="limit",
                side="buy",
                order_qty="1.5",
                symbol="BTC/USD",
                limit_price="100.10",
            )
        )
        oid = proto.send(order, now=0, token=TOKEN)
        frame = proto.data_to_send()[0]
        assert TOKEN in frame
        assert '"limit_price":100.10' in frame
        pid = proto.send({"method": "ping"}, now=0)
        proto.connection_lost(now=1)
        events = {e.req_id: e for e in proto.events_received() if isinstance(e, RequestFailed)}
        order_err = events[oid].error
        assert isinstance(order_err, ConnectionLost)
        assert order_err.outcome_unknown is True
        assert order_err.request is not None
        assert "token" not in order_err.request["params"]
        assert order_err.request["params"]["symbol"] == "BTC/USD"
        assert TOKEN not in str(order_err)
        assert TOKEN not in repr(order_err.request)
        ping_err = events[pid].error
        assert isinstance(ping_err, ConnectionLost)
        assert not ping_err.outcome_unknown
        assert proto.pending_count == 0

    def test_unsent_frames_discarded(self) -> None:
        proto = open_proto()
        proto.send({"method": "ping"}, now=0)
        proto.connection_lost(now=0)
        assert proto.data_to_send() == []

    def test_strip_token(self) -> None:
        wire = {"method": "x", "params": {"token": "t", "a": 1}}
        assert strip_token(wire) == {"method": "x", "params": {"a": 1}}
        assert wire["params"]["token"] == "t"


class TestReplay:
    """Subscriptions replayed after a reconnect with their original params."""

    def test_replay_original_params_private_retokened(self) -> None:
        proto = open_proto()
        r1 = proto.send(
            {
                "method": "subscribe",
                "params": {"channel": "book", "symbol": ["BTC/USD", "ETH/USD"], "depth": 100},
            },
            now=0,
        )
        r2 = proto.send(
            {"method": "subscribe", "params": {"channel": "executions", "snap_trades": True}},
            now=0,
            token="OLD",
        )
        r3 = proto.send(
            {
                "method": "subscribe",
                "params": {"channel": "ohlc", "symbol": ["BTC/USD"], "interval": 5},
            },
            now=0,
        )
        proto.data_to_send()
        proto.receive_text(sub_ack(r1, "book", "BTC/USD", depth=100), now=0)
        proto.receive_text(sub_ack(r1, "book", "ETH/USD", depth=100), now=0)
        proto.receive_text(
            sub_ack(
                r2,
                "executions",
                maxratecount=125,
                snap_orders=True,
                snap_trades=True,
                warnings=["x"],
            ),
            now=0,
        )
        proto.receive_text(sub_ack(r3, "ohlc", "BTC/USD", interval=5), now=0)
        proto.events_received()
        assert len(proto.subscriptions.acknowledged()) == 4

        proto.connection_lost(now=1)
        assert proto.subscriptions.acknowledged() == []
        assert proto.needs_token
        with pytest.raises(InvalidState):
            proto.connection_opened(now=2)
        replayed = proto.connection_opened(now=2, token="NEW")
        frames = sent(proto)
        assert [f["req_id"] for f in frames] == replayed
        params = [f["params"] for f in frames]
        assert params == [
            {"channel": "book", "symbol": ["BTC/USD", "ETH/USD"], "depth": 100},
            {"channel": "executions", "snap_trades": True, "token": "NEW"},
            {"channel": "ohlc", "symbol": ["BTC/USD"], "interval": 5},
        ]

    def test_unsubscribed_not_replayed(self) -> None:
        proto = open_proto()
        rid = proto.send(
            {"method": "subscribe", "params": {"channel": "trade", "symbol": ["A/B", "C/D"]}}, now=0
        )
        proto.receive_text(sub_ack(rid, "trade", "A/B"), now=0)
        proto.receive_text(sub_ack(rid, "trade", "C/D"), now=0)
        uid = proto.send(
            {"method": "unsubscribe", "params": {"channel": "trade", "symbol": ["A/B"]}}, now=0
        )
        proto.receive_text(
            json.dumps(
                {
                    "method": "unsubscribe",
                    "req_id": uid,
                    "success": True,
                    "result": {"channel": "trade", "symbol": "A/B"},
                }
            ),
            now=0,
        )
        proto.data_to_send()
        proto.connection_lost(now=1)
        proto.connection_opened(now=2)
        assert [f["params"] for f in sent(proto)] == [{"channel": "trade", "symbol": ["C/D"]}]

    def test_unsubscribe_in_flight_at_loss_not_replayed(self) -> None:
        proto = open_proto()
        rid = proto.send(
            {"method": "subscribe", "params": {"channel": "trade", "symbol": ["A/B"]}}, now=0
        )
        proto.receive_text(sub_ack(rid, "trade", "A/B"), now=0)
        proto.send(
            {"method": "unsubscribe", "params": {"channel": "trade", "symbol": ["A/B"]}}, now=0
        )
        proto.connection_lost(now=1)
        proto.connection_opened(now=2)
        assert proto.data_to_send() == []

    def test_duplicate_rejection_keeps_live_subscription(self) -> None:
        proto = open_proto()
        rid = proto.send(
            {"method": "subscribe", "params": {"channel": "ticker", "symbol": ["A/B"]}}, now=0
        )
        proto.receive_text(sub_ack(rid, "ticker", "A/B"), now=0)
        rid2 = proto.send(
            {"method": "subscribe", "params": {"channel": "ticker", "symbol": ["A/B"]}}, now=0
        )
        proto.receive_text(sub_ack(rid2, "ticker", "A/B", ok=False), now=0)
        assert len(proto.subscriptions.acknowledged()) == 1

    def test_ticker_keyed_by_event_trigger(self) -> None:
        proto = open_proto()
        proto.send(
            {"method": "subscribe", "params": {"channel": "ticker", "symbol": ["A/B"]}}, now=0
        )
        proto.send(
            {
                "method": "subscribe",
                "params": {"channel": "ticker", "symbol": ["A/B"], "event_trigger": "bbo"},
            },
            now=0,
        )
        assert len(proto.subscriptions) == 2
        # An omitted trigger is Kraken's default, "trades": the same subscription as the first.
        proto.send(
            {
                "method": "subscribe",
                "params": {"channel": "ticker", "symbol": ["A/B"], "event_trigger": "trades"},
            },
            now=0,
        )
        assert len(proto.subscriptions) == 2


class TestLiveness:
    def test_watchdog_fires_once(self) -> None:
        proto = open_proto(watchdog_timeout=10)
        proto.receive_text('{"channel":"heartbeat"}', now=3)
        proto.events_received()
        proto.data_to_send()
        proto.tick(now=12.9)
        assert not any(isinstance(e, ConnectionDead) for e in proto.events_received())
        proto.tick(now=13)
        events = proto.events_received()
        assert any(isinstance(e, ConnectionDead) for e in events)
        proto.tick(now=14)
        assert not any(isinstance(e, ConnectionDead) for e in proto.events_received())

    def test_probe_ping_on_quiet_connection(self) -> None:
        proto = open_proto(watchdog_timeout=10)
        assert proto.next_wakeup() == 5
        proto.tick(now=5)
        [frame] = sent(proto)
        assert frame["method"] == "ping"
        # no second probe while one is in flight
        proto.tick(now=6)
        assert proto.data_to_send() == []
        proto.receive_text(json.dumps({"method": "pong", "req_id": frame["req_id"]}), now=6)
        assert proto.events_received() == []  # internal pings emit nothing
        assert proto.last_rtt == pytest.approx(1)

    def test_keepalive_when_nothing_sent(self) -> None:
        proto = open_proto(ping_interval=30)
        for t in range(1, 30):
            proto.receive_text('{"channel":"heartbeat"}', now=t)
            proto.tick(now=t)
        assert proto.data_to_send() == []
        proto.tick(now=30)
        assert [f["method"] for f in sent(proto)] == ["ping"]

    def test_internal_ping_lost_is_silent(self) -> None:
        proto = open_proto(watchdog_timeout=10)
        proto.tick(now=5)
        proto.connection_lost(now=6)
        assert proto.events_received() == []
