"""Channel models: status, heartbeat, ticker, ohlc, trade, instrument, executions, balances.

Every frame is decoded with the lossless loader (numbers become ``Decimal``/``int`` with their
exact digits) and validated with ``model_validate``; ``model_validate_json`` is never used because
it goes through binary floats. Sources:

* the examples of the protocol reference (``/work/shared/kraken-v2-reference.md`` §4-§6, §10A),
  copied inline below;
* ``tests/data/third_party_server_frames.jsonl``, a verbatim copy of the third-party capture set
  (live captures, docs scrapes, SDK fixtures; see its README for provenance).
"""

from __future__ import annotations

from collections import Counter
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from pydantic import BaseModel, TypeAdapter, ValidationError

from kraken_ws.models.channels import (
    balances,
    executions,
    heartbeat,
    instrument,
    ohlc,
    status,
    ticker,
    trade,
)
from kraken_ws.models.channels.balances import (
    BalancesMessage,
    BalanceSnapshotData,
    BalancesSnapshot,
    BalancesSubscribeParams,
    BalancesSubscribeResult,
    BalancesUnsubscribeParams,
    BalancesUpdate,
    BalanceUpdateData,
)
from kraken_ws.models.channels.executions import (
    ExecutionReport,
    ExecutionsMessage,
    ExecutionsSnapshot,
    ExecutionsSubscribeParams,
    ExecutionsSubscribeResult,
    ExecutionsUnsubscribeParams,
    ExecutionsUpdate,
)
from kraken_ws.models.channels.heartbeat import Heartbeat
from kraken_ws.models.channels.instrument import (
    InstrumentMessage,
    InstrumentPair,
    InstrumentSnapshot,
    InstrumentSubscribeParams,
    InstrumentSubscribeResult,
    InstrumentUnsubscribeParams,
    InstrumentUpdate,
)
from kraken_ws.models.channels.ohlc import (
    OhlcMessage,
    OhlcSnapshot,
    OhlcSubscribeParams,
    OhlcSubscribeResult,
    OhlcUnsubscribeParams,
    OhlcUpdate,
)
from kraken_ws.models.channels.status import StatusMessage, StatusUpdate
from kraken_ws.models.channels.ticker import (
    TickerMessage,
    TickerSnapshot,
    TickerSubscribeParams,
    TickerSubscribeResult,
    TickerUnsubscribeParams,
    TickerUpdate,
)
from kraken_ws.models.channels.trade import (
    TradeMessage,
    TradeSnapshot,
    TradeSubscribeParams,
    TradeSubscribeResult,
    TradeUnsubscribeParams,
    TradeUpdate,
)
from kraken_ws.protocol._json import loads

THIRD_PARTY = Path(__file__).resolve().parent.parent / "data" / "third_party_server_frames.jsonl"


# --------------------------------------------------------------------------------------------
# helpers


def assert_exact(actual: Any, expected: Any, path: str = "$") -> None:
    """Compare a dumped model with the decoded input, numbers digit for digit.

    A ``Decimal`` must have the same ``as_tuple()`` (sign, digits, exponent), so ``0.0000`` is not
    ``0``. A ``WireDecimal`` field may receive an integer token (``"balance":500``) or, in a few
    doc paraphrases and old SDK fixtures, a string number (``"price":"105944.20"``); then the
    dumped ``Decimal`` must carry exactly the digits of that token.
    """
    if isinstance(expected, dict):
        assert isinstance(actual, dict), f"{path}: {actual!r} is not an object"
        assert set(actual) == set(expected), f"{path}: keys {sorted(actual)} != {sorted(expected)}"
        for key, value in expected.items():
            assert_exact(actual[key], value, f"{path}.{key}")
    elif isinstance(expected, list):
        assert isinstance(actual, list), f"{path}: {actual!r} is not a list"
        assert len(actual) == len(expected), f"{path}: length {len(actual)} != {len(expected)}"
        for index, (got, want) in enumerate(zip(actual, expected, strict=True)):
            assert_exact(got, want, f"{path}[{index}]")
    elif expected is None or isinstance(expected, bool):
        assert actual is expected, f"{path}: {actual!r} is not {expected!r}"
    elif isinstance(expected, Decimal):
        assert isinstance(actual, Decimal), f"{path}: {actual!r} is not a Decimal"
        assert actual.as_tuple() == expected.as_tuple(), f"{path}: {actual!r} != {expected!r}"
    elif isinstance(expected, int):
        if isinstance(actual, Decimal):
            assert actual.as_tuple() == Decimal(expected).as_tuple(), f"{path}: {actual!r}"
        else:
            assert type(actual) is int, f"{path}: {actual!r} is not an int"
            assert actual == expected, f"{path}: {actual!r} != {expected!r}"
    elif isinstance(expected, str):
        if isinstance(actual, Decimal):
            assert actual.as_tuple() == Decimal(expected).as_tuple(), f"{path}: {actual!r}"
        else:
            assert actual == expected, f"{path}: {actual!r} != {expected!r}"
    else:  # pragma: no cover - the loader yields nothing else
        raise AssertionError(f"{path}: unexpected {type(expected).__name__}")


def roundtrip(model_cls: type[BaseModel], obj: dict[str, Any]) -> BaseModel:
    """Validate ``obj`` into ``model_cls`` and check that it dumps back to ``obj`` exactly."""
    model = model_cls.model_validate(obj)
    assert type(model) is model_cls
    assert_exact(model.model_dump(mode="python", exclude_unset=True), obj)
    return model


def _load_third_party() -> list[tuple[int, str, dict[str, Any]]]:
    with THIRD_PARTY.open("rb") as fh:
        rows = [loads(line) for line in fh if line.strip()]
    return [(number, row["kind"], row["frame"]) for number, row in enumerate(rows, start=1)]


THIRD_PARTY_ROWS = _load_third_party()


# --------------------------------------------------------------------------------------------
# third-party frames

FRAME_MODELS: dict[str, type[BaseModel]] = {
    "status.update": StatusUpdate,
    "heartbeat": Heartbeat,
    "ticker.snapshot": TickerSnapshot,
    "ticker.update": TickerUpdate,
    "ohlc.snapshot": OhlcSnapshot,
    "ohlc.update": OhlcUpdate,
    "trade.snapshot": TradeSnapshot,
    "trade.update": TradeUpdate,
    "instrument.snapshot": InstrumentSnapshot,
    "instrument.update": InstrumentUpdate,
    "executions.snapshot": ExecutionsSnapshot,
    "executions.update": ExecutionsUpdate,
    "balances.snapshot": BalancesSnapshot,
    "balances.update": BalancesUpdate,
}

UNIONS: dict[str, Any] = {
    "status": StatusMessage,
    "ticker": TickerMessage,
    "ohlc": OhlcMessage,
    "trade": TradeMessage,
    "instrument": InstrumentMessage,
    "executions": ExecutionsMessage,
    "balances": BalancesMessage,
}

#: Frames that cannot be valid per the reference, by line number in the jsonl file.
EXCLUDED: dict[int, str] = {
    # JKorf/Kraken.Net Concurrent.txt: the fixture author trimmed the candles on purpose to
    # {symbol, interval, timestamp}; reference §5.6 documents open/high/low/close/vwap/volume/
    # trades/interval_begin on every candle, and every capture and docs example has them.
    4877: "ohlc candle trimmed to symbol/interval/timestamp (Kraken.Net Concurrent.txt)",
    4878: "ohlc candle trimmed to symbol/interval/timestamp (Kraken.Net Concurrent.txt)",
}

#: How many frames of each kind validate (a guard against the data file changing silently).
EXPECTED_COUNTS: dict[str, int] = {
    "status.update": 12,
    "heartbeat": 1,
    "ticker.snapshot": 8,
    "ticker.update": 5,
    "ohlc.snapshot": 2,
    "ohlc.update": 6,
    "trade.snapshot": 2,
    "trade.update": 7,
    "instrument.snapshot": 5,
    "instrument.update": 1,
    "executions.snapshot": 5,
    "executions.update": 15,
    "balances.snapshot": 4,
    "balances.update": 7,
}

MY_FRAMES = [
    pytest.param(number, kind, frame, id=f"L{number}-{kind}")
    for number, kind, frame in THIRD_PARTY_ROWS
    if kind in FRAME_MODELS and number not in EXCLUDED
]


@pytest.mark.parametrize(("number", "kind", "frame"), MY_FRAMES)
def test_third_party_frame(number: int, kind: str, frame: dict[str, Any]) -> None:
    model = roundtrip(FRAME_MODELS[kind], frame)
    union = UNIONS.get(kind.split(".")[0])
    if union is not None:
        assert type(TypeAdapter(union).validate_python(frame)) is type(model)


def test_third_party_counts() -> None:
    counts = Counter(
        kind
        for number, kind, _ in THIRD_PARTY_ROWS
        if kind in FRAME_MODELS and number not in EXCLUDED
    )
    assert dict(counts) == EXPECTED_COUNTS


@pytest.mark.parametrize("number", sorted(EXCLUDED))
def test_excluded_frames_are_really_invalid(number: int) -> None:
    _, kind, frame = THIRD_PARTY_ROWS[number - 1]
    with pytest.raises(ValidationError, match="open"):
        FRAME_MODELS[kind].model_validate(frame)


SUBSCRIBE_RESULTS: dict[str, type[BaseModel]] = {
    "ticker": TickerSubscribeResult,
    "ohlc": OhlcSubscribeResult,
    "trade": TradeSubscribeResult,
    "instrument": InstrumentSubscribeResult,
    "executions": ExecutionsSubscribeResult,
    "balances": BalancesSubscribeResult,
}

MY_ACKS = [
    pytest.param(frame["result"], id=f"L{number}-{kind}-{frame['result']['channel']}")
    for number, kind, frame in THIRD_PARTY_ROWS
    if kind in ("subscribe.response", "unsubscribe.response")
    and isinstance(frame.get("result"), dict)
    and frame["result"].get("channel") in SUBSCRIBE_RESULTS
]


@pytest.mark.parametrize("result", MY_ACKS)
def test_third_party_subscribe_result(result: dict[str, Any]) -> None:
    roundtrip(SUBSCRIBE_RESULTS[result["channel"]], result)


def test_third_party_ack_count() -> None:
    counts = Counter(p.values[0]["channel"] for p in MY_ACKS)  # type: ignore[index]
    assert dict(counts) == {
        "ticker": 6,
        "ohlc": 8,
        "trade": 4,
        "instrument": 4,
        "executions": 4,
        "balances": 3,
    }


# --------------------------------------------------------------------------------------------
# reference examples (kraken-v2-reference.md), verbatim


class TestStatus:
    """Reference §5.1 ``status``."""

    FRAME = (
        '{"channel":"status","type":"update","data":[{"api_version":"v2",'
        '"connection_id":13834774380200032777,"system":"online","version":"2.0.0"}]}'
    )

    def test_reference_example(self) -> None:
        model = roundtrip(StatusUpdate, loads(self.FRAME))
        assert isinstance(model, StatusUpdate)
        assert model.data[0].connection_id == 13834774380200032777
        assert model.data[0].system == "online"

    @pytest.mark.parametrize("connection_id", [2**64 + 1, 10**40])
    def test_connection_id_is_unbounded(self, connection_id: int) -> None:
        frame = loads(self.FRAME)
        frame["data"][0]["connection_id"] = connection_id
        model = StatusUpdate.model_validate(frame)
        assert model.data[0].connection_id == connection_id

    def test_unknown_system_rejected(self) -> None:
        frame = loads(self.FRAME)
        frame["data"][0]["system"] = "sleeping"
        with pytest.raises(ValidationError, match="system"):
            StatusUpdate.model_validate(frame)


class TestHeartbeat:
    """Reference §5.2 ``heartbeat``."""

    def test_reference_example(self) -> None:
        roundtrip(Heartbeat, loads('{"channel":"heartbeat"}'))


class TestTicker:
    """Reference §4.1 and §5.3 ``ticker``."""

    UPDATE = (
        '{"channel":"ticker","type":"update","data":[{"symbol":"ALGO/USD","bid":0.10025,'
        '"bid_qty":740.0,"ask":0.10035,"ask_qty":740.0,"last":0.10035,"volume":997038.98383185,'
        '"vwap":0.10148,"low":0.09979,"high":0.10285,"change":-0.00017,"change_pct":-0.17,'
        '"timestamp":"2023-09-25T09:04:31.742648Z"}]}'
    )
    REQUEST = '{"method":"subscribe","params":{"channel":"ticker","symbol":["BTC/USD"]},"req_id":7}'
    ACK = (
        '{"method":"subscribe","result":{"channel":"ticker","symbol":"BTC/USD","snapshot":true},'
        '"success":true,"time_in":"...","time_out":"...","req_id":7}'
    )

    def test_reference_update(self) -> None:
        model = roundtrip(TickerUpdate, loads(self.UPDATE))
        assert isinstance(model, TickerUpdate)
        bid_qty = model.data[0].bid_qty
        assert bid_qty.as_tuple().exponent == -1  # 740.0, not 740

    def test_reference_request_params(self) -> None:
        roundtrip(TickerSubscribeParams, loads(self.REQUEST)["params"])

    def test_reference_ack(self) -> None:
        roundtrip(TickerSubscribeResult, loads(self.ACK)["result"])

    def test_trailing_zeros_live(self) -> None:
        # kraken-async-rs live capture (line 18): "bid_qty":0.10000000
        model = TickerSnapshot.model_validate(THIRD_PARTY_ROWS[17][2])
        assert str(model.data[0].bid_qty) == "0.10000000"

    def test_28_digit_decimals_exact(self) -> None:
        # nautilus ws_ticker_precision.json (line 4797)
        model = TickerSnapshot.model_validate(THIRD_PARTY_ROWS[4796][2])
        assert str(model.data[0].bid_qty) == "0.1234567890123456789012345678"

    def test_undocumented_field_kept(self) -> None:
        # roq live capture (line 4794): volume_usd is not in the docs
        model = TickerSnapshot.model_validate(THIRD_PARTY_ROWS[4793][2])
        assert model.data[0].volume_usd == Decimal("6968011.52")


class TestOhlc:
    """Reference §5.6 and §10A ``ohlc``."""

    REQUEST = (
        '{"method":"subscribe","params":{"channel":"ohlc","symbol":["ALGO/USD","MATIC/USD"],'
        '"interval":5}}'
    )

    def test_reference_request_params(self) -> None:
        roundtrip(OhlcSubscribeParams, loads(self.REQUEST)["params"])

    def test_trailing_zeros_live(self) -> None:
        # kraken-async-rs live capture (line 24): "open":3027.80, "trades":9
        model = OhlcSnapshot.model_validate(THIRD_PARTY_ROWS[23][2])
        candle = model.data[0]
        assert str(candle.open) == "3027.80"
        assert candle.trades == 9
        assert model.timestamp == "2024-05-17T11:21:16.318303322Z"
        assert candle.interval_begin == "2024-05-17T11:12:00.000000000Z"


class TestTrade:
    """Reference §5.5 ``trade``."""

    def test_docs_update(self) -> None:
        # docs example (line 4837): "qty":40.0
        model = TradeUpdate.model_validate(THIRD_PARTY_ROWS[4836][2])
        assert str(model.data[0].qty) == "40.0"
        assert model.data[0].side == "sell"
        assert model.data[0].trade_id == 4665906

    def test_string_numbers_exact(self) -> None:
        # nautilus fixture @06dcede (line 4917) uses string numbers: accepted digit for digit
        model = TradeUpdate.model_validate(THIRD_PARTY_ROWS[4916][2])
        assert str(model.data[0].price) == "105944.20"


class TestInstrument:
    """Reference §5.7 and §10A ``instrument``."""

    PAIR = (
        '{"symbol":"BTC/USD","base":"BTC","quote":"USD","status":"online","qty_precision":8,'
        '"qty_increment":1e-08,"price_precision":1,"cost_precision":5,"marginable":true,'
        '"has_index":true,"cost_min":0.5,"margin_initial":0.2,"position_limit_long":250,'
        '"position_limit_short":200,"tick_size":0.1,"price_increment":0.1,"qty_min":0.0001}'
    )
    REQUEST = '{"method":"subscribe","params":{"channel":"instrument"},"req_id":79}'

    def test_reference_pair(self) -> None:
        pair = roundtrip(InstrumentPair, loads(self.PAIR))
        assert isinstance(pair, InstrumentPair)
        assert pair.qty_increment == Decimal("0.00000001")
        assert pair.qty_increment.as_tuple() == Decimal("1e-08").as_tuple()

    def test_reference_request_params(self) -> None:
        roundtrip(InstrumentSubscribeParams, loads(self.REQUEST)["params"])

    def test_exponent_numbers_live(self) -> None:
        # torquey66 live capture (line 4798): exponent-form tokens
        model = InstrumentSnapshot.model_validate(THIRD_PARTY_ROWS[4797][2])
        steps = {p.qty_increment for p in model.data.pairs}
        assert Decimal("1e-08") in steps

    def test_undocumented_fields_kept(self) -> None:
        # roq live capture (line 4787): assets carry "class"; pairs ws_display_price_precision
        model = InstrumentSnapshot.model_validate(THIRD_PARTY_ROWS[4786][2])
        assert model.data.assets[0].model_extra == {"class": "currency"}
        assert model.data.pairs[0].ws_display_price_precision == 5
        assert str(model.data.assets[0].collateral_value) == "1.000"


class TestExecutions:
    """Reference §6.1 and §10A ``executions``."""

    REQUEST = (
        '{"method":"subscribe","params":{"channel":"executions",'
        '"token":"G38a1tGFzqGiUCmnegBcm8d4nfP3tytiNQz6tkCBYXY","snap_orders":true,'
        '"snap_trades":true}}'
    )
    ACK = (
        '{"method":"subscribe","result":{"channel":"executions","maxratecount":125,'
        '"snap_orders":true,"snap_trades":true},"success":true}'
    )
    UPDATES = (
        '{"channel":"executions","type":"update","data":[{"order_id":"OK4GJX-KSTLS-7DZZO5",'
        '"order_userref":3,"symbol":"BTC/USD","order_qty":0.005,"cum_cost":0.0,'
        '"time_in_force":"GTC","exec_type":"pending_new","side":"sell","order_type":"limit",'
        '"limit_price_type":"static","limit_price":26500.0,"stop_price":0.0,'
        '"order_status":"pending_new","fee_usd_equiv":0.0,"fee_ccy_pref":"fciq",'
        '"timestamp":"2023-09-22T10:33:05.709950Z"}],"sequence":8}',
        '{"channel":"executions","type":"update","data":[{"timestamp":"2023-09-22T10:33:05.709982Z",'
        '"order_status":"new","exec_type":"new","order_userref":3,'
        '"order_id":"OK4GJX-KSTLS-7DZZO5"}],"sequence":9}',
        '{"channel":"executions","type":"update","data":[{"order_id":"OK4GJX-KSTLS-7DZZO5",'
        '"order_userref":3,"exec_id":"TGBB7L-HT5LX-J3BZ4A","exec_type":"trade",'
        '"trade_id":62887576,"symbol":"BTC/USD","side":"sell","last_qty":0.005,'
        '"last_price":26599.9,"liquidity_ind":"t","cost":132.9995,"order_type":"limit",'
        '"timestamp":"2023-09-22T10:33:05.709993Z","order_status":"partially_filled",'
        '"cum_qty":0.005,"cum_cost":132.9995,"avg_price":26599.9,"fee_usd_equiv":0.3458,'
        '"fees":[{"asset":"USD","qty":0.3458}]}],"sequence":10}',
    )

    @pytest.mark.parametrize("text", UPDATES)
    def test_reference_updates(self, text: str) -> None:
        roundtrip(ExecutionsUpdate, loads(text))

    def test_reference_fill(self) -> None:
        model = ExecutionsUpdate.model_validate(loads(self.UPDATES[2]))
        report = model.data[0]
        assert model.sequence == 10
        assert report.exec_type == "trade"
        assert report.liquidity_ind == "t"
        assert report.fees is not None
        assert report.fees[0].qty == Decimal("0.3458")

    def test_reference_request_params(self) -> None:
        roundtrip(ExecutionsSubscribeParams, loads(self.REQUEST)["params"])

    def test_reference_ack(self) -> None:
        result = roundtrip(ExecutionsSubscribeResult, loads(self.ACK)["result"])
        assert isinstance(result, ExecutionsSubscribeResult)
        assert result.maxratecount == 125

    def test_fee_usd_equiv_trailing_zeros(self) -> None:
        # roq live capture (line 4780): "fee_usd_equiv":0.0000, "cum_cost":0.00000
        model = ExecutionsUpdate.model_validate(THIRD_PARTY_ROWS[4779][2])
        report = model.data[0]
        assert report.fee_usd_equiv is not None
        assert report.fee_usd_equiv.as_tuple().exponent == -4
        assert str(report.fee_usd_equiv) == "0.0000"
        assert str(report.cum_cost) == "0.00000"
        assert str(report.order_qty) == "0.00010000"

    def test_sparse_report(self) -> None:
        report = ExecutionReport.model_validate({"exec_type": "new"})
        assert report.order_id is None
        with pytest.raises(ValidationError, match="exec_type"):
            ExecutionReport.model_validate({"order_id": "OK4GJX-KSTLS-7DZZO5"})

    def test_unknown_exec_type_and_status_accepted(self) -> None:
        # open server enums are str: a value Kraken adds tomorrow must not drop a report
        report = ExecutionReport.model_validate(
            {"exec_type": "future_type", "order_status": "triggered", "reason": "whatever"}
        )
        assert report.exec_type == "future_type"
        assert report.order_status == "triggered"

    def test_triggers_parsed(self) -> None:
        # kraken-async-rs live capture (line 41)
        model = ExecutionsUpdate.model_validate(THIRD_PARTY_ROWS[40][2])
        triggers = model.data[0].triggers
        assert triggers is not None
        assert triggers.reference == "index"
        assert triggers.price == Decimal("0.2")
        assert triggers.status == "untriggered"

    def test_empty_snapshot(self) -> None:
        # roq live capture (line 4779)
        model = ExecutionsSnapshot.model_validate(THIRD_PARTY_ROWS[4778][2])
        assert model.data == []
        assert model.sequence == 1


class TestBalances:
    """Reference §6.2 and §10A ``balances``."""

    UPDATE = (
        '{"channel":"balances","type":"update","data":[{"ledger_id":"ADKKFF-WEA5A-CNUBHG",'
        '"ref_id":"AGBWUJRU-LAREZ-W3UFAN","timestamp":"2023-09-22T10:23:42.925034Z",'
        '"type":"deposit","asset":"BTC","asset_class":"currency","category":"deposit",'
        '"wallet_type":"spot","wallet_id":"main","amount":0.01,"fee":0.0,"balance":0.02}],'
        '"sequence":2}'
    )
    SNAPSHOT = (
        '{"channel":"balances","type":"snapshot","sequence":1,"data":[{"asset":"MATIC",'
        '"asset_class":"currency","balance":500,"wallets":[{"type":"spot","id":"main",'
        '"balance":300},{"type":"earn","id":"flex","balance":200}]}]}'
    )

    def test_reference_update(self) -> None:
        model = roundtrip(BalancesUpdate, loads(self.UPDATE))
        assert isinstance(model, BalancesUpdate)
        assert isinstance(model.data[0], BalanceUpdateData)
        assert str(model.data[0].fee) == "0.0"

    def test_reference_snapshot(self) -> None:
        model = roundtrip(BalancesSnapshot, loads(self.SNAPSHOT))
        assert isinstance(model, BalancesSnapshot)
        item = model.data[0]
        assert isinstance(item, BalanceSnapshotData)
        assert item.balance == Decimal(500)
        assert item.wallets is not None
        assert [w.id for w in item.wallets] == ["main", "flex"]

    def test_amount_trailing_zeros(self) -> None:
        # roq live capture (line 4770): "amount":-0.0001000000, "balance":0.0000000000
        model = BalancesUpdate.model_validate(THIRD_PARTY_ROWS[4769][2])
        assert str(model.data[0].amount) == "-0.0001000000"
        assert model.data[0].balance.as_tuple().exponent == -10

    def test_subscribe_params(self) -> None:
        params = {"channel": "balances", "token": "G38a1tGFzqGiUCmnegBcm8d4nfP3tytiNQz6tkCBYXY"}
        roundtrip(BalancesSubscribeParams, params)


# --------------------------------------------------------------------------------------------
# outbound params: strict


class TestOutboundParams:
    """Outbound params refuse unknown fields and invalid values, naming the field."""

    @pytest.mark.parametrize(
        ("model_cls", "params", "field"),
        [
            (TickerSubscribeParams, {"symbol": ["BTC/USD"], "depth": 10}, "depth"),
            (TickerUnsubscribeParams, {"symbol": ["BTC/USD"], "snapshot": True}, "snapshot"),
            (OhlcSubscribeParams, {"symbol": ["BTC/USD"], "interval": 1, "depth": 10}, "depth"),
            (
                OhlcUnsubscribeParams,
                {"symbol": ["BTC/USD"], "interval": 1, "snapshot": True},
                "snapshot",
            ),
            (TradeSubscribeParams, {"symbol": ["BTC/USD"], "symbols": ["X"]}, "symbols"),
            (TradeUnsubscribeParams, {"symbol": ["BTC/USD"], "snapshot": True}, "snapshot"),
            (InstrumentSubscribeParams, {"symbol": ["BTC/USD"]}, "symbol"),
            (InstrumentUnsubscribeParams, {"snapshot": True}, "snapshot"),
            (ExecutionsSubscribeParams, {"token": "t", "snap_order": True}, "snap_order"),
            (ExecutionsSubscribeParams, {"token": "t", "maxratecount": 125}, "maxratecount"),
            (ExecutionsUnsubscribeParams, {"token": "t", "snap_orders": True}, "snap_orders"),
            (BalancesSubscribeParams, {"token": "t", "snap_orders": True}, "snap_orders"),
            (BalancesUnsubscribeParams, {"token": "t", "snapshot": True}, "snapshot"),
        ],
    )
    def test_unknown_field_forbidden(
        self, model_cls: type[BaseModel], params: dict[str, Any], field: str
    ) -> None:
        with pytest.raises(ValidationError, match=rf"(?s){field}.*Extra inputs are not permitted"):
            model_cls.model_validate(params)

    @pytest.mark.parametrize(
        ("model_cls", "params", "field"),
        [
            (OhlcSubscribeParams, {"symbol": ["BTC/USD"], "interval": 2}, "interval"),
            (OhlcSubscribeParams, {"symbol": ["BTC/USD"], "interval": "60"}, "interval"),
            (OhlcSubscribeParams, {"symbol": ["BTC/USD"]}, "interval"),
            (OhlcUnsubscribeParams, {"symbol": ["BTC/USD"], "interval": 3}, "interval"),
            (OhlcSubscribeParams, {"symbol": [], "interval": 5}, "symbol"),
            (
                TickerSubscribeParams,
                {"symbol": ["BTC/USD"], "event_trigger": "book"},
                "event_trigger",
            ),
            (
                TickerUnsubscribeParams,
                {"symbol": ["BTC/USD"], "event_trigger": "BBO"},
                "event_trigger",
            ),
            (TickerSubscribeParams, {"symbol": []}, "symbol"),
            (TickerSubscribeParams, {}, "symbol"),
            (TradeSubscribeParams, {"symbol": []}, "symbol"),
            (TradeUnsubscribeParams, {"symbol": []}, "symbol"),
            (TickerSubscribeParams, {"channel": "book", "symbol": ["BTC/USD"]}, "channel"),
            (InstrumentSubscribeParams, {"execution_venue": "us"}, "execution_venue"),
            (ExecutionsSubscribeParams, {"users": "some"}, "users"),
            (BalancesSubscribeParams, {"users": "master"}, "users"),
        ],
    )
    def test_invalid_value_refused(
        self, model_cls: type[BaseModel], params: dict[str, Any], field: str
    ) -> None:
        with pytest.raises(ValidationError, match=field):
            model_cls.model_validate(params)

    def test_absent_stays_absent(self) -> None:
        params = OhlcSubscribeParams(symbol=["BTC/USD"], interval=5)
        assert params.model_dump(mode="json", exclude_none=True) == {
            "channel": "ohlc",
            "symbol": ["BTC/USD"],
            "interval": 5,
        }
        executions_params = ExecutionsSubscribeParams(snap_trades=True)
        assert executions_params.model_dump(mode="json", exclude_none=True) == {
            "channel": "executions",
            "snap_trades": True,
        }

    def test_frozen(self) -> None:
        params = TickerSubscribeParams(symbol=["BTC/USD"])
        with pytest.raises(ValidationError, match="frozen"):
            params.snapshot = False  # type: ignore[misc]


# --------------------------------------------------------------------------------------------
# house style


ALL_MODULES = [status, heartbeat, ticker, ohlc, trade, instrument, executions, balances]
ALL_MODELS = [
    obj
    for module in ALL_MODULES
    for obj in vars(module).values()
    if isinstance(obj, type) and issubclass(obj, BaseModel) and obj.__module__ == module.__name__
]


@pytest.mark.parametrize("model_cls", ALL_MODELS, ids=lambda cls: cls.__name__)
def test_every_field_documented(model_cls: type[BaseModel]) -> None:
    assert model_cls.__doc__
    for name, info in model_cls.model_fields.items():
        assert info.description, f"{model_cls.__name__}.{name} has no docstring"


def test_model_count() -> None:
    assert len(ALL_MODELS) == 47
