"""Stateful property tests of ``KrakenProtocol``: a fake server and a clock drive it at random.

Plain function calls, no I/O, ``now`` passed in. A model (what the user sent, what the server
answered, which subscriptions the user still wants) predicts every event the protocol must emit;
after every step the invariants below are checked against the protocol's own state:

* every request ends exactly once (``RequestCompleted`` or ``RequestFailed``), never twice,
  never silently: the model's in-flight set equals the protocol's pending set;
* after ``tick(now)`` no pending request is at or past its deadline;
* in-flight ``req_id`` values are unique and inside ``0..2**31-1``;
* after ``connection_lost`` every pending request has failed with ``ConnectionLost``; order-entry
  ones with ``outcome_unknown`` and the request carried without its token;
* after reopening, the replay is exactly the desired subscriptions with their original params
  (private ones with the new token, no ack-only fields), nothing the user unsubscribed;
* every frame from ``data_to_send`` is JSON (``json.loads``) and re-validates as a request.
"""

from __future__ import annotations

import itertools
import json
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import event as note
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
)

from kraken_ws.events import LateResponse
from kraken_ws.exceptions import ConnectionLost, DecodeError, InvalidState, RequestTimeout
from kraken_ws.protocol import codec
from kraken_ws.protocol.connection import KrakenProtocol
from kraken_ws.protocol.events import (
    ChannelData,
    ConnectionDead,
    InvalidFrame,
    ProtocolEvent,
    RequestCompleted,
    RequestFailed,
    UnsolicitedResponse,
)
from kraken_ws.protocol.requests import INT32_MAX, ORDER_ENTRY_METHODS, ReqIdAllocator
from kraken_ws.protocol.state import ConnectionState

SYMBOLS = ["BTC/USD", "ETH/USD", "SOL/USD", "XBT/EUR"]
PUBLIC_SYMBOL_CHANNELS = ("book", "ticker", "trade")
PRIVATE_CHANNELS = frozenset({"executions", "level3"})
ACK_ONLY = ("maxratecount", "warnings", "token")
# Kraken's default ticker trigger: omitting it and giving "trades" name the same subscription.
TICKER_DEFAULT_TRIGGER = "trades"

ModelKey = tuple[str, str | None, Any]


def model_key(channel: str, symbol: str | None, params: dict[str, Any]) -> ModelKey:
    """How Kraken tells subscriptions apart (reference §4.1), defaults made explicit."""
    if channel == "ticker":
        return (channel, symbol, params.get("event_trigger") or TICKER_DEFAULT_TRIGGER)
    return (channel, symbol, None)


def symbols_of(params: dict[str, Any]) -> list[str | None]:
    syms = params.get("symbol")
    return list(syms) if syms else [None]


@dataclass
class Expect:
    """A request the model believes is in flight."""

    serial: int
    req_id: int
    method: str
    wire: dict[str, Any]  # without token
    token: str | None
    expected: int
    sent_at: float
    deadline: float
    responses: int = 0


@dataclass
class Desired:
    params: dict[str, Any]  # the original params for one symbol, no token
    creator: int | None
    acked: bool = False
    # Duplicate subscribes sent while unacknowledged; the earliest takes over a refused creator.
    also: list[int] = field(default_factory=list)


@dataclass
class Outstanding:
    """Answers the fake server still owes for one frame it received."""

    serial: int | None  # None: an internal keepalive ping
    req_id: int
    answers: list[dict[str, Any]] = field(default_factory=list)


def wire_eq(frame: dict[str, Any]) -> dict[str, Any]:
    """A frame normalised through the request models (numbers compared as Decimals)."""
    return codec.request_to_wire(codec.validate_request(frame))


def strict_decodes(obj: dict[str, Any]) -> None:
    # The fake server must only send frames a strict decoder types, or the prediction is moot.
    codec.decode(json.dumps(obj), strict=True)


class ProtocolMachine(RuleBasedStateMachine):
    """A user, a fake Kraken server and a clock against one ``KrakenProtocol``."""

    def __init__(self) -> None:
        super().__init__()
        self.serials = itertools.count(1)
        self.tokens = itertools.count(1)
        self.explicit_ids = itertools.chain([0], itertools.count(1_000_000))
        self.now = 0.0
        self.inflight: dict[int, Expect] = {}
        # Timed-out requests whose id stays reserved until their answers are in (or the socket
        # goes): their answers are LateResponse events, and the id cannot be reused meanwhile.
        self.reserved: dict[int, Expect] = {}
        self.desired: dict[ModelKey, Desired] = {}
        self.queued: list[tuple[int, dict[str, Any]]] = []  # (serial, full frame) not yet flushed
        self.server: list[Outstanding] = []
        self.late: list[dict[str, Any]] = []  # answers already delivered (for late duplicates)
        self.last_received = 0.0
        self.dead_reported = False

    @initialize(
        request_timeout=st.sampled_from([2.0, 10.0, 30.0]),
        watchdog=st.sampled_from([None, 10.0, 25.0]),
        ping_interval=st.sampled_from([None, 7.0, 30.0]),
        strict=st.booleans(),
        start=st.sampled_from([1, INT32_MAX - 3, INT32_MAX]),
        may_close=st.booleans(),
    )
    def setup(
        self,
        request_timeout: float,
        watchdog: float | None,
        ping_interval: float | None,
        strict: bool,
        start: int,
        may_close: bool,
    ) -> None:
        self.strict = strict
        self.may_close = may_close
        self.proto = KrakenProtocol(
            request_timeout=request_timeout,
            watchdog_timeout=watchdog,
            ping_interval=ping_interval,
            strict=strict,
            req_id_start=start,
        )
        assert self.proto.connection_opened(now=self.now) == []

    # --- helpers ----------------------------------------------------------------------------

    def events(self) -> list[ProtocolEvent]:
        return self.proto.events_received()

    def expect_events(self, kinds: list[type]) -> list[ProtocolEvent]:
        events = self.events()
        assert [type(e) for e in events] == kinds, (events, kinds)
        return events

    def proto_pending(self) -> dict[int, Any]:
        return dict(self.proto._pending._by_id)

    def fresh_token(self) -> str:
        return f"SECRET-TOKEN-{next(self.tokens)}"

    @property
    def socket_up(self) -> bool:
        return self.proto.state in (ConnectionState.OPEN, ConnectionState.CLOSING)

    # --- requests -----------------------------------------------------------------------------

    def draw_request(self, data: st.DataObject) -> tuple[dict[str, Any], str | None]:
        kind = data.draw(
            st.sampled_from(
                [
                    "ping",
                    "subscribe",
                    "subscribe",
                    "unsubscribe",
                    "subscribe_private",
                    "unsubscribe_private",
                    "add_order",
                    "cancel_order",
                    "cancel_all",
                    "batch_cancel",
                ]
            ),
            label="kind",
        )
        syms = st.lists(st.sampled_from(SYMBOLS), min_size=1, max_size=3, unique=True)
        if kind == "ping":
            return {"method": "ping"}, None
        if kind in ("subscribe", "unsubscribe"):
            channel = data.draw(st.sampled_from(PUBLIC_SYMBOL_CHANNELS), label="channel")
            params: dict[str, Any] = {"channel": channel, "symbol": data.draw(syms, label="sym")}
            if channel == "book" and data.draw(st.booleans(), label="depth?"):
                params["depth"] = data.draw(st.sampled_from([10, 25, 100]), label="depth")
            if channel == "ticker":
                trigger = data.draw(st.sampled_from([None, "trades", "bbo"]), label="trigger")
                if trigger is not None:
                    params["event_trigger"] = trigger
            if kind == "subscribe" and channel != "book" and data.draw(st.booleans()):
                params["snapshot"] = data.draw(st.booleans(), label="snapshot")
            return {"method": kind, "params": params}, None
        token = self.fresh_token()
        if kind in ("subscribe_private", "unsubscribe_private"):
            method = kind.removesuffix("_private")
            channel = data.draw(st.sampled_from(sorted(PRIVATE_CHANNELS)), label="pchannel")
            params = {"channel": channel}
            if channel == "level3":
                params["symbol"] = data.draw(syms, label="sym")
            if method == "subscribe" and channel == "executions":
                for flag in ("snap_orders", "snap_trades"):
                    if data.draw(st.booleans(), label=flag):
                        params[flag] = data.draw(st.booleans(), label=flag)
            return {"method": method, "params": params}, token
        if kind == "add_order":
            order = {
                "order_type": "limit",
                "side": data.draw(st.sampled_from(["buy", "sell"]), label="side"),
                "order_qty": Decimal("1.50"),
                "symbol": data.draw(st.sampled_from(SYMBOLS), label="osym"),
                "limit_price": Decimal("100.10"),
            }
            return {"method": "add_order", "params": order}, token
        if kind == "cancel_order":
            ids = st.lists(st.text("ABCDEF0123", min_size=3, max_size=6), min_size=1, max_size=3)
            params = {"order_id": data.draw(ids, label="ids")}
            if data.draw(st.booleans(), label="userref?"):
                params["order_userref"] = data.draw(
                    st.lists(st.integers(0, 99), min_size=1, max_size=2), label="refs"
                )
            return {"method": "cancel_order", "params": params}, token
        if kind == "cancel_all":
            return {"method": "cancel_all"}, token
        orders = st.lists(st.text("XYZ123", min_size=2, max_size=5), min_size=2, max_size=4)
        return {"method": "batch_cancel", "params": {"orders": data.draw(orders)}}, token

    def expected_count(self, method: str, params: dict[str, Any]) -> int:
        if method in ("subscribe", "unsubscribe"):
            return len(params.get("symbol") or [None])
        if method == "cancel_order":
            return len(params.get("order_id", [])) + len(params.get("order_userref", []))
        return 1

    def register(
        self, req_id: int, request: dict[str, Any], token: str | None, timeout: float | None
    ) -> None:
        """The model's side of a send (user request or replayed subscribe)."""
        wire = wire_eq(request)
        wire.pop("req_id", None)
        full: dict[str, Any] = {"method": wire["method"]}
        params = dict(wire.get("params") or {})
        if "params" in wire:
            full["params"] = dict(params)
        if token is not None:
            full.setdefault("params", {})["token"] = token
        full["req_id"] = req_id
        stripped = dict(full)
        if "params" in stripped:
            stripped["params"] = {k: v for k, v in stripped["params"].items() if k != "token"}
        serial = next(self.serials)
        deadline = self.now + (self.proto.request_timeout if timeout is None else timeout)
        method = wire["method"]
        self.inflight[req_id] = Expect(
            serial,
            req_id,
            method,
            stripped,
            token,
            self.expected_count(method, params),
            self.now,
            deadline,
        )
        # A late answer for an old request with the same id would correlate with this one.
        self.server = [o for o in self.server if o.req_id != req_id]
        self.queued.append((serial, full))
        params = {k: v for k, v in params.items() if k != "token"}
        if method == "subscribe":
            for sym in symbols_of(params):
                key = model_key(params["channel"], sym, params)
                if key not in self.desired:
                    one = dict(params)
                    if sym is not None:
                        one["symbol"] = [sym]
                    self.desired[key] = Desired(one, req_id)
                else:
                    existing = self.desired[key]
                    if not existing.acked and existing.creator is not None:
                        existing.also.append(req_id)
        elif method == "unsubscribe":
            for sym in symbols_of(params):
                self.desired.pop(model_key(params["channel"], sym, params), None)

    @precondition(lambda self: self.proto.state is not ConnectionState.OPEN)
    @rule(data=st.data())
    def send_refused(self, data: st.DataObject) -> None:
        """Requests are refused unless the connection is open; nothing changes."""
        self.send_one(data)

    @precondition(lambda self: self.proto.state is ConnectionState.OPEN)
    @rule(data=st.data())
    def send(self, data: st.DataObject) -> None:
        """The user sends one to three requests; the transport may flush them right away."""
        for _ in range(data.draw(st.integers(1, 3), label="burst")):
            self.send_one(data)
        if self.socket_up and data.draw(st.booleans(), label="flush now"):
            self.flush(data)

    def send_one(self, data: st.DataObject) -> None:
        request, token = self.draw_request(data)
        explicit = data.draw(st.sampled_from(["auto", "auto", "fresh", "in_flight"]), label="id")
        pending = self.proto_pending()
        if explicit == "fresh":
            request["req_id"] = next(self.explicit_ids)
        elif explicit == "in_flight" and (pending or self.reserved):
            taken = sorted(set(pending) | set(self.reserved))
            request["req_id"] = data.draw(st.sampled_from(taken), label="dup id")
        timeout = data.draw(st.sampled_from([None, None, 0.5, 3.0, 12.0]), label="timeout")
        before_subs = self.proto.subscriptions.replay_plan()
        refused = request.get("req_id") in pending or request.get("req_id") in self.reserved
        if self.proto.state is not ConnectionState.OPEN or refused:
            with pytest.raises(InvalidState):
                self.proto.send(request, now=self.now, token=token, timeout=timeout)
            assert self.proto_pending().keys() == pending.keys()
            assert self.proto.subscriptions.replay_plan() == before_subs
            self.expect_events([])
            return
        req_id = self.proto.send(request, now=self.now, token=token, timeout=timeout)
        assert req_id not in pending
        assert req_id not in self.reserved
        assert 0 <= req_id <= INT32_MAX
        if "req_id" in request:
            assert req_id == request["req_id"]
        else:
            assert req_id >= 1
        self.register(req_id, request, token, timeout)
        self.expect_events([])

    # --- the socket ---------------------------------------------------------------------------

    @precondition(
        lambda self: self.proto.state in (ConnectionState.DISCONNECTED, ConnectionState.CONNECTING)
    )
    @rule(with_token=st.sampled_from([True, True, False]), connecting=st.booleans(), data=st.data())
    def open(self, with_token: bool, connecting: bool, data: st.DataObject) -> None:
        state = self.proto.state
        if connecting and state is ConnectionState.DISCONNECTED:
            self.proto.connecting()
        private = any(k[0] in PRIVATE_CHANNELS for k in self.desired)
        assert self.proto.needs_token == private
        token = self.fresh_token() if with_token else None
        plan = self.proto.subscriptions.replay_plan()
        self.check_plan(plan, None)
        if token is None and private:
            with pytest.raises(InvalidState):
                self.proto.connection_opened(now=self.now, token=None)
            assert self.proto.state in (ConnectionState.DISCONNECTED, ConnectionState.CONNECTING)
            assert self.proto.data_to_send() == []
            return
        replayed = self.proto.connection_opened(now=self.now, token=token)
        note("reconnected")
        assert self.proto.state is ConnectionState.OPEN
        self.last_received = self.now
        self.dead_reported = False
        frames = [json.loads(t) for t in self.proto.data_to_send()]
        assert [f["req_id"] for f in frames] == replayed
        assert len(set(replayed)) == len(replayed)
        self.check_plan([f["params"] for f in frames], token)
        if frames:
            note("replayed subscriptions")
        for frame in frames:
            private_frame = frame["params"]["channel"] in PRIVATE_CHANNELS
            self.register(
                frame["req_id"],
                {"method": "subscribe", "params": frame["params"]},
                token if private_frame else None,
                None,
            )
        # data_to_send() was drained above: hand the replayed frames to the server directly.
        self.deliver_to_server(self.queued, [json.dumps(f) for f in frames], data)
        self.queued = []
        self.expect_events([])

    def check_plan(self, plans: list[dict[str, Any]], token: str | None) -> None:
        """The replay is exactly the desired subscriptions, original params, fresh token."""
        flat: dict[ModelKey, dict[str, Any]] = {}
        for params in plans:
            params = dict(params)
            for name in ("maxratecount", "warnings"):
                assert name not in params
            if params["channel"] in PRIVATE_CHANNELS:
                assert params.pop("token", None) == token
            else:
                assert "token" not in params
            for sym in symbols_of(params):
                one = dict(params)
                if sym is not None:
                    one["symbol"] = [sym]
                key = model_key(params["channel"], sym, params)
                assert key not in flat, f"{key} replayed twice"
                flat[key] = one
        expected = {k: d.params for k, d in self.desired.items()}
        assert flat == expected

    @precondition(lambda self: self.may_close and self.proto.state is ConnectionState.OPEN)
    @rule(data=st.data())
    def close(self, data: st.DataObject) -> None:
        # Rare: CLOSED is final, so a run that closes early explores little else.
        if data.draw(st.integers(0, 15)) != 0:
            return
        self.proto.close()
        assert self.proto.state is ConnectionState.CLOSING
        with pytest.raises(InvalidState):
            self.proto.connection_opened(now=self.now, token=self.fresh_token())
        assert self.proto.state is ConnectionState.CLOSING
        self.expect_events([])

    @precondition(
        lambda self: self.proto.state not in (ConnectionState.DISCONNECTED, ConnectionState.CLOSED)
    )
    @rule(reopen=st.booleans(), data=st.data())
    def lose_connection(self, reopen: bool, data: st.DataObject) -> None:
        self.lose()
        if reopen and self.proto.state is ConnectionState.DISCONNECTED:
            self.open(with_token=True, connecting=data.draw(st.booleans()), data=data)

    def lose(self) -> None:
        state = self.proto.state
        self.proto.connection_lost(now=self.now, reason="test")
        assert self.proto.state is (
            ConnectionState.CLOSED
            if state in (ConnectionState.CLOSING, ConnectionState.CLOSED)
            else ConnectionState.DISCONNECTED
        )
        events = self.events()
        failed = {}
        for event in events:
            assert isinstance(event, RequestFailed), event
            assert event.req_id not in failed
            failed[event.req_id] = event
        assert failed.keys() == self.inflight.keys()
        if failed:
            note("connection lost with requests in flight")
        unsent = {serial for serial, _frame in self.queued}
        for req_id, event in failed.items():
            exp = self.inflight[req_id]
            error = event.error
            assert isinstance(error, ConnectionLost)
            assert event.method == exp.method
            assert error.req_id == req_id
            # A request still queued certainly never reached the server: its outcome is known.
            written = exp.serial not in unsent
            assert error.outcome_unknown is (exp.method in ORDER_ENTRY_METHODS and written)
            assert error.request == (exp.wire if written else None)
            assert len(event.responses) == exp.responses
            if exp.token is not None:
                assert exp.token not in str(error)
                assert exp.token not in repr(error.request)
        self.inflight.clear()
        self.reserved.clear()
        assert self.proto.pending_count == 0
        assert self.proto.reserved_count == 0
        assert self.proto.data_to_send() == []
        self.queued = []
        self.server = []
        for desired in self.desired.values():
            desired.creator = None
            desired.acked = False
            desired.also.clear()

    # --- the server ---------------------------------------------------------------------------

    @precondition(lambda self: self.socket_up)
    @rule(data=st.data())
    def flush(self, data: st.DataObject) -> None:
        texts = self.proto.data_to_send()
        if not self.socket_up:
            assert texts == []
            return
        queued, self.queued = self.queued, []
        self.deliver_to_server(queued, texts, data)

    def deliver_to_server(
        self, queued: list[tuple[int, dict[str, Any]]], texts: list[str], data: st.DataObject
    ) -> None:
        """Check the frames against what the model queued, then let the server note them."""
        pending_frames = list(queued)
        for text in texts:
            frame = json.loads(text)  # independent of kraken_ws' own parser
            assert isinstance(frame, dict)
            codec.validate_request(json.loads(text, parse_float=Decimal))
            req_id = frame["req_id"]
            assert isinstance(req_id, int)
            assert not isinstance(req_id, bool)
            assert 0 <= req_id <= INT32_MAX
            if not pending_frames or pending_frames[0][1]["req_id"] != req_id:
                # A keepalive ping the protocol queued on its own.
                assert frame == {"method": "ping", "req_id": req_id}, (frame, pending_frames)
                assert req_id not in self.inflight
                self.server.append(
                    Outstanding(None, req_id, [{"method": "pong", "req_id": req_id}])
                )
                continue
            serial, full = pending_frames.pop(0)
            assert wire_eq(json.loads(text, parse_float=Decimal)) == wire_eq(full)
            answers = self.draw_answers(full, data)
            for answer in answers:
                strict_decodes(answer)
            self.server.append(Outstanding(serial, req_id, answers))
        assert pending_frames == [], "a queued request never went out"

    def is_internal(self, req_id: int) -> bool:
        pending = self.proto_pending().get(req_id)
        return pending is not None and pending.internal

    def draw_answers(self, frame: dict[str, Any], data: st.DataObject) -> list[dict[str, Any]]:
        method = frame["method"]
        req_id = frame["req_id"]
        params = frame.get("params") or {}
        ok = st.sampled_from([True, True, True, False])

        def fail(error: str, **extra: Any) -> dict[str, Any]:
            return {"method": method, "req_id": req_id, "success": False, "error": error, **extra}

        def win(result: dict[str, Any] | None) -> dict[str, Any]:
            out: dict[str, Any] = {"method": method, "req_id": req_id, "success": True}
            if result is not None:
                out["result"] = result
            return out

        if method == "ping":
            if data.draw(ok):
                return [{"method": "pong", "req_id": req_id}]
            return [fail("EGeneral:Invalid arguments")]
        if method in ("subscribe", "unsubscribe"):
            channel = params["channel"]
            if data.draw(st.integers(0, 5), label="whole?") == 0:
                return [fail("EGeneral:Invalid arguments")]
            answers = []
            for sym in symbols_of(params):
                if data.draw(ok, label="ack ok"):
                    result: dict[str, Any] = {"channel": channel}
                    if sym is not None:
                        result["symbol"] = sym
                    if channel == "executions":
                        result.update(maxratecount=180, snap_orders=True)
                    if channel == "ticker":
                        result["event_trigger"] = params.get("event_trigger", "trades")
                    if data.draw(st.booleans(), label="warn"):
                        result["warnings"] = ["something is deprecated"]
                    answers.append(win(result))
                elif sym is not None:
                    answers.append(fail("Already subscribed", symbol=sym))
                else:
                    answers.append(fail("EGeneral:Permission denied"))
            return answers
        if method == "add_order":
            if data.draw(ok):
                return [win({"order_id": "OABCDE-FGHIJ-KLMNOP"})]
            return [fail("EOrder:Insufficient funds")]
        if method == "cancel_order":
            answers = []
            for oid in params.get("order_id", []):
                answers.append(
                    win({"order_id": oid}) if data.draw(ok) else fail("EOrder:Unknown order")
                )
            for _ref in params.get("order_userref", []):
                answers.append(
                    win({"order_id": "OUSERREF"}) if data.draw(ok) else fail("EOrder:Unknown order")
                )
            return answers
        if method == "cancel_all":
            return [win({"count": 2})] if data.draw(ok) else [fail("EGeneral:Internal error")]
        assert method == "batch_cancel"
        if data.draw(ok):
            return [win({"count": len(params["orders"])})]
        return [fail("EOrder:Unknown order")]

    @precondition(lambda self: bool(self.server) and self.socket_up)
    @rule(data=st.data())
    def answer(self, data: st.DataObject) -> None:
        """The server answers a few owed responses (any request, any order)."""
        for _ in range(data.draw(st.integers(1, 4), label="answers")):
            if self.server:
                self.answer_one(data)

    def answer_one(self, data: st.DataObject) -> None:
        index = data.draw(st.integers(0, len(self.server) - 1), label="which request")
        owed = self.server[index]
        pick = data.draw(st.integers(0, len(owed.answers) - 1), label="which answer")
        answer = owed.answers.pop(pick)
        if not owed.answers:
            del self.server[index]
        exp = self.inflight.get(owed.req_id)
        if exp is not None and exp.serial != owed.serial:
            return  # the id was reused; this answer would be misattributed by any client
        self.receive(answer)
        self.late.append(answer)

    def receive(self, answer: dict[str, Any]) -> None:
        """Feed a method response and check the predicted events."""
        req_id = answer.get("req_id")
        internal = isinstance(req_id, int) and self.is_internal(req_id)
        self.proto.receive_text(json.dumps(answer), now=self.now)
        self.last_received = self.now
        self.dead_reported = False
        exp = self.inflight.get(req_id) if isinstance(req_id, int) else None
        if exp is None:
            if internal:
                self.expect_events([])
                assert req_id not in self.proto_pending()
            elif isinstance(req_id, int) and req_id in self.reserved:
                [late] = self.expect_events([LateResponse])
                assert isinstance(late, LateResponse)
                owner = self.reserved[req_id]
                assert (late.method, late.request) == (owner.method, owner.wire)
                owner.responses += 1
                if owner.responses >= owner.expected:
                    del self.reserved[req_id]
            else:
                self.expect_events([UnsolicitedResponse])
            return
        exp.responses += 1
        ok = answer.get("success") is not False
        symbol = answer.get("symbol") or (answer.get("result") or {}).get("symbol")
        done = exp.responses >= exp.expected
        if exp.method in ("subscribe", "unsubscribe"):
            params = exp.wire["params"]
            if symbol is None and not ok:
                done = True
            if exp.method == "subscribe":
                for sym in [symbol] if symbol is not None else symbols_of(params):
                    desired = self.desired.get(model_key(params["channel"], sym, params))
                    if desired is None:
                        continue
                    if ok:
                        desired.acked, desired.creator = True, None
                        desired.also.clear()
                    elif desired.creator == req_id and not desired.acked:
                        if desired.also:
                            desired.creator = desired.also.pop(0)
                        else:
                            del self.desired[model_key(params["channel"], sym, params)]
                    elif req_id in desired.also:
                        desired.also.remove(req_id)
        if not done:
            self.expect_events([])
            return
        [event] = self.expect_events([RequestCompleted])
        assert isinstance(event, RequestCompleted)
        assert (event.req_id, event.method) == (exp.req_id, exp.method)
        assert len(event.responses) == exp.responses
        assert event.elapsed == self.now - exp.sent_at
        del self.inflight[req_id]
        note(f"completed {exp.method}")

    def late_duplicate(self, data: st.DataObject) -> None:
        """An answer arrives again, after its request is over: unsolicited, changes nothing."""
        if not self.late:
            return
        answer = data.draw(st.sampled_from(self.late))
        req_id = answer["req_id"]
        if req_id in self.proto_pending():
            return
        before = self.proto.subscriptions.replay_plan()
        self.receive(answer)
        assert self.proto.subscriptions.replay_plan() == before

    def channel_frame(self, data: st.DataObject) -> None:
        frame = data.draw(
            st.one_of(
                st.just({"channel": "heartbeat"}),
                st.just(
                    {
                        "channel": "status",
                        "type": "update",
                        "data": [
                            {
                                "api_version": "v2",
                                "connection_id": 1,
                                "system": "online",
                                "version": "2.0.0",
                            }
                        ],
                    }
                ),
                st.builds(
                    lambda sym, price: {
                        "channel": "trade",
                        "type": "update",
                        "data": [
                            {
                                "symbol": sym,
                                "side": "buy",
                                "price": price,
                                "qty": 0.1,
                                "ord_type": "limit",
                                "trade_id": 1,
                                "timestamp": "2023-09-25T07:49:37.708706Z",
                            }
                        ],
                    },
                    st.sampled_from(SYMBOLS),
                    st.integers(1, 10**6),
                ),
            ),
            label="channel frame",
        )
        before = self.proto_pending().keys()
        self.proto.receive_text(json.dumps(frame), now=self.now)
        self.last_received, self.dead_reported = self.now, False
        self.expect_events([ChannelData])
        assert self.proto_pending().keys() == before

    def malformed(self, data: st.DataObject) -> None:
        text = data.draw(
            st.one_of(
                st.text(max_size=20).map(lambda s: "{" + s),
                st.binary(max_size=10).map(lambda b: b"\xff" + b),
                st.sampled_from(["", "not json{", '{"method":', "[1,", "nan"]),
            ),
            label="malformed",
        )
        before = self.proto_pending().keys()
        self.proto.receive_text(text, now=self.now)
        self.last_received, self.dead_reported = self.now, False
        [event] = self.expect_events([InvalidFrame])
        assert isinstance(event, InvalidFrame)
        assert isinstance(event.error, DecodeError)
        assert self.proto_pending().keys() == before

    def not_a_message(self, data: st.DataObject) -> None:
        text = data.draw(
            st.sampled_from(["null", "[]", '"x"', "42", '{"x":1}', '{"channel":"nope"}']),
            label="not a message",
        )
        self.proto.receive_text(text, now=self.now)
        self.last_received, self.dead_reported = self.now, False
        self.expect_events([InvalidFrame] if self.strict else [ChannelData])

    @precondition(lambda self: self.socket_up)
    @rule(data=st.data())
    def inject(self, data: st.DataObject) -> None:
        """Frames nobody asked for: channel data, garbage, stray or late responses."""
        kinds = [self.channel_frame, self.malformed, self.not_a_message, self.unsolicited]
        kinds.append(self.late_duplicate)
        data.draw(st.sampled_from(kinds), label="inject")(data)

    def unsolicited(self, data: st.DataObject) -> None:
        """A response for an id nobody is waiting for (or with no id at all)."""
        req_id = data.draw(st.one_of(st.none(), st.integers(0, INT32_MAX)), label="stray id")
        if req_id is not None and req_id in self.proto_pending():
            return
        body = data.draw(
            st.sampled_from(
                [
                    {"method": "pong"},
                    {"method": "add_order", "success": False, "error": "EOrder:Unknown order"},
                    {
                        "method": "subscribe",
                        "success": True,
                        "result": {"channel": "trade", "symbol": SYMBOLS[0]},
                    },
                    {
                        "method": "unsubscribe",
                        "success": True,
                        "result": {"channel": "ticker", "symbol": SYMBOLS[1]},
                    },
                ]
            )
        )
        answer = dict(body)
        if req_id is not None:
            answer["req_id"] = req_id
        before = self.proto.subscriptions.replay_plan()
        self.receive(answer)
        assert self.proto.subscriptions.replay_plan() == before

    # --- time ---------------------------------------------------------------------------------

    @rule(data=st.data())
    def tick(self, data: st.DataObject) -> None:
        deadlines = sorted(p.deadline for p in self.proto_pending().values() if p.deadline)
        choices = [st.floats(0, 1, allow_nan=False), st.floats(0, 15, allow_nan=False)]
        if deadlines:
            choices.append(st.sampled_from(deadlines).map(lambda d: max(0.0, d - self.now)))
        self.now += data.draw(st.one_of(choices), label="advance")
        self.proto.tick(now=self.now)
        expired = {r for r, e in self.inflight.items() if e.deadline <= self.now}
        unsent = {serial for serial, _frame in self.queued}
        events = self.events()
        failed: set[int] = set()
        dead = 0
        for event in events:
            if isinstance(event, ConnectionDead):
                dead += 1
                continue
            assert isinstance(event, RequestFailed), event
            assert isinstance(event.error, RequestTimeout)
            assert event.req_id not in failed
            exp = self.inflight[event.req_id]
            assert (event.method, event.error.req_id) == (exp.method, exp.req_id)
            assert len(event.responses) == exp.responses
            written = exp.serial not in unsent
            assert event.error.outcome_unknown is (exp.method in ORDER_ENTRY_METHODS and written)
            assert event.error.request == (exp.wire if written else None)
            failed.add(event.req_id)
        assert failed == expired
        if failed:
            note("timed out")
        if dead:
            note("watchdog fired")
        for req_id in expired:
            self.reserved[req_id] = self.inflight.pop(req_id)
        watchdog = self.proto.watchdog_timeout
        should_die = (
            self.proto.state is ConnectionState.OPEN
            and watchdog is not None
            and self.now - self.last_received >= watchdog
            and not self.dead_reported
        )
        assert dead == (1 if should_die else 0)
        self.dead_reported = self.dead_reported or should_die
        for pending in self.proto_pending().values():
            assert pending.deadline is None or pending.deadline > self.now

    # --- invariants ---------------------------------------------------------------------------

    @invariant()
    def nothing_dropped_nothing_extra(self) -> None:
        if not hasattr(self, "proto"):
            return
        pending = self.proto_pending()
        user = {r for r, p in pending.items() if not p.internal}
        assert user == set(self.inflight)
        internal = [p for p in pending.values() if p.internal]
        assert len(internal) <= 1
        for p in internal:
            assert p.method == "ping"
        for req_id, p in pending.items():
            assert p.req_id == req_id
            assert 0 <= req_id <= INT32_MAX
            assert "token" not in (p.wire.get("params") or {})
            if req_id in self.inflight:
                exp = self.inflight[req_id]
                assert p.method == exp.method
                assert p.expected == exp.expected
                assert p.deadline == exp.deadline

    @invariant()
    def desired_matches_model(self) -> None:
        if not hasattr(self, "proto"):
            return
        records = self.proto.subscriptions.desired()
        keys = [model_key(r.channel, r.symbol, r.params) for r in records]
        assert len(keys) == len(set(keys)), f"one subscription tracked twice: {keys}"
        assert {k: r.params for k, r in zip(keys, records, strict=True)} == {
            k: d.params for k, d in self.desired.items()
        }
        for r in records:
            for name in ACK_ONLY:
                assert name not in r.params

    @invariant()
    def wakeup_not_after_deadline(self) -> None:
        if not hasattr(self, "proto"):
            return
        deadlines = [p.deadline for p in self.proto_pending().values() if p.deadline is not None]
        wakeup = self.proto.next_wakeup()
        if deadlines:
            assert wakeup is not None
            assert wakeup <= min(deadlines)


ProtocolMachine.TestCase.settings = settings(
    max_examples=200,
    stateful_step_count=60,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)
TestProtocolMachine = ProtocolMachine.TestCase


# --- req_id allocation across the int32 wrap-around ----------------------------------------------


@settings(max_examples=300, deadline=None)
@given(
    start=st.integers(INT32_MAX - 8, INT32_MAX),
    ops=st.lists(
        st.one_of(
            st.tuples(st.just("alloc"), st.just(0)),
            st.tuples(st.just("free"), st.integers(0, 20)),
            st.tuples(st.just("reserve"), st.sampled_from([1, 2, 3, INT32_MAX - 1, INT32_MAX])),
        ),
        max_size=60,
    ),
)
def test_req_id_never_in_flight_across_wraparound(start: int, ops: list[tuple[str, int]]) -> None:
    alloc = ReqIdAllocator(start)
    in_flight: set[int] = set()
    handed: list[int] = []
    for op, arg in ops:
        if op == "alloc":
            req_id = alloc.allocate(in_flight)
            assert req_id not in in_flight
            assert 1 <= req_id <= INT32_MAX
            in_flight.add(req_id)
            handed.append(req_id)
        elif op == "free" and in_flight:
            in_flight.discard(sorted(in_flight)[arg % len(in_flight)])
        elif op == "reserve":
            in_flight.add(arg)  # an explicit req_id the user chose
    # Ids come out in wrap-around order: strictly increasing modulo the int32 range.
    order = [(r - start) % INT32_MAX for r in handed]
    assert order == sorted(order)
    assert len(set(handed)) == len(handed)


_HIGH = list(range(INT32_MAX - 19, INT32_MAX + 1))
_LOW = list(range(1, 21))
_WINDOW = _HIGH + _LOW  # the cyclic order the allocator walks through around the wrap


@given(busy=st.sets(st.sampled_from(_WINDOW)), start_at=st.integers(0, len(_WINDOW) - 1))
def test_req_id_small_window_by_driving_the_allocator(busy: set[int], start_at: int) -> None:
    """Squeeze the id space to 40 ids around the wrap; everything else counts as in flight."""
    ahead = [r for r in _WINDOW[start_at:] if r not in busy]
    if not ahead:
        return  # the allocator would walk the whole int32 range; not a small window any more

    class Crowded:
        def __contains__(self, item: object) -> bool:
            return not (isinstance(item, int) and item in _WINDOW) or item in busy

        def __len__(self) -> int:
            return INT32_MAX - (len(_WINDOW) - len(busy))

    alloc = ReqIdAllocator(_WINDOW[start_at])
    got = alloc.allocate(Crowded())  # type: ignore[arg-type]
    assert got not in busy
    assert got == ahead[0]
