"""decode/encode: total over any JSON, exact digits both ways."""

from __future__ import annotations

import contextlib
import json
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from kraken_ws import decode, encode
from kraken_ws.exceptions import DecodeError
from kraken_ws.models.channels.book import BookUpdate
from kraken_ws.models.messages import UnknownMessage, message_model_for
from kraken_ws.protocol._json import dumps, format_decimal, loads
from kraken_ws.protocol.codec import decode_object
from tests.wire import digits_equal, load_jsonl

json_scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**80), max_value=2**80)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=20)
)
json_values = st.recursive(
    json_scalars,
    lambda children: (
        st.lists(children, max_size=5)
        | st.dictionaries(
            st.sampled_from(
                ["channel", "type", "data", "method", "success", "result", "error", "req_id", "x"]
            )
            | st.text(max_size=8),
            children,
            max_size=6,
        )
    ),
    max_leaves=25,
)
# Values that look like frames get a better chance to reach the model validators.
frame_like = st.fixed_dictionaries(
    {
        "channel": st.sampled_from(
            [
                "book",
                "ticker",
                "trade",
                "ohlc",
                "level3",
                "executions",
                "balances",
                "status",
                "instrument",
                "heartbeat",
                "nope",
            ]
        ),
        "type": st.sampled_from(["snapshot", "update", "other"]),
    },
    optional={"data": json_values, "sequence": json_values},
) | st.fixed_dictionaries(
    {
        "method": st.sampled_from(
            [
                "subscribe",
                "unsubscribe",
                "add_order",
                "cancel_order",
                "pong",
                "ping",
                "batch_add",
                "error",
                "zzz",
            ]
        ),
        "success": json_values,
    },
    optional={"result": json_values, "error": json_values, "req_id": json_values},
)


@settings(max_examples=400, suppress_health_check=[HealthCheck.too_slow])
@given(json_values | frame_like)
def test_decode_is_total(value: Any) -> None:
    """Any JSON value: a model, or DecodeError in strict mode; never anything else."""
    text = json.dumps(value)
    result = decode(text)
    assert result is not None
    try:
        strict = decode(text, strict=True)
    except DecodeError:
        assert isinstance(result, UnknownMessage)
    else:
        assert not isinstance(strict, UnknownMessage)
        assert type(strict) is type(result)


@given(st.binary(max_size=50))
def test_decode_garbage_bytes(data: bytes) -> None:
    with contextlib.suppress(DecodeError):
        decode(data)


def test_not_json_raises_decode_error() -> None:
    with pytest.raises(DecodeError, match="not valid JSON"):
        decode("{nope")


def test_unknown_kept_and_strict_raises() -> None:
    raw = '{"channel":"futures_ticker","type":"update","data":[{"price":1.50}]}'
    message = decode(raw)
    assert isinstance(message, UnknownMessage)
    assert message.raw["data"][0]["price"] == Decimal("1.50")
    with pytest.raises(DecodeError):
        decode(raw, strict=True)


def test_known_tag_with_bad_fields_is_unknown_with_reason() -> None:
    raw = '{"channel":"book","type":"update","data":[{"symbol":"X"}]}'
    message = decode(raw)
    assert isinstance(message, UnknownMessage)
    assert message.error is not None
    assert "BookUpdate" in message.error
    with pytest.raises(DecodeError, match="BookUpdate"):
        decode(raw, strict=True)


prices = st.decimals(
    min_value=Decimal("0.000000001"), max_value=Decimal("1000000"), places=9, allow_nan=False
)
qtys = st.decimals(
    min_value=Decimal(0), max_value=Decimal("99999999999"), places=8, allow_nan=False
)


def _levels(draw: Any) -> list[dict[str, Any]]:
    return draw(st.lists(st.fixed_dictionaries({"price": prices, "qty": qtys}), max_size=12))


@st.composite
def book_frames(draw: Any) -> str:
    frame = {
        "channel": "book",
        "type": draw(st.sampled_from(["snapshot", "update"])),
        "data": [
            {
                "symbol": draw(st.sampled_from(["BTC/USD", "PEPE/USD"])),
                "bids": _levels(draw),
                "asks": _levels(draw),
                "checksum": draw(st.integers(0, 2**32 - 1)),
                "timestamp": "2026-08-16T23:37:03.745044Z",
            }
        ],
    }
    return dumps(frame)


@st.composite
def ticker_frames(draw: Any) -> str:
    fields = ["bid", "bid_qty", "ask", "ask_qty", "last", "volume", "vwap", "low", "high"]
    data = {name: draw(prices) for name in fields}
    data["change"] = -draw(prices)
    data["change_pct"] = draw(prices)
    data["symbol"] = "BTC/USD"
    data["timestamp"] = "2023-09-25T09:04:31.742648Z"
    kind = draw(st.sampled_from(["snapshot", "update"]))
    return dumps({"channel": "ticker", "type": kind, "data": [data]})


@st.composite
def execution_frames(draw: Any) -> str:
    report = {
        "exec_type": draw(st.sampled_from(["trade", "new", "pending_new", "filled", "brand_new"])),
        "order_id": "OK4GJX-KSTLS-7DZZO5",
        "symbol": "BTC/USD",
        "side": draw(st.sampled_from(["buy", "sell"])),
        "order_qty": draw(qtys),
        "last_qty": draw(qtys),
        "last_price": draw(prices),
        "cum_cost": draw(prices),
        "fee_usd_equiv": draw(prices),
        "fees": [{"asset": "USD", "qty": draw(prices)}],
        "timestamp": "2023-09-22T10:33:05.709993Z",
        "order_status": "partially_filled",
    }
    kind = draw(st.sampled_from(["snapshot", "update"]))
    frame = {"channel": "executions", "type": kind, "data": [report], "sequence": 10}
    return dumps(frame)


@settings(max_examples=150)
@given(book_frames() | ticker_frames() | execution_frames())
def test_random_frames_round_trip_exactly(text: str) -> None:
    message = decode(text, strict=True)
    out = dumps(message.model_dump(mode="python", exclude_unset=True))
    assert digits_equal(loads(text), loads(out)) is None


def test_encode_keeps_digits_and_never_uses_exponent() -> None:
    text = encode(
        {
            "method": "add_order",
            "params": {
                "order_type": "limit",
                "side": "buy",
                "order_qty": Decimal("12345678901.12345678"),
                "limit_price": Decimal("1E-8"),
                "symbol": "PEPE/USD",
            },
            "req_id": 7,
        }
    )
    assert '"order_qty":12345678901.12345678' in text
    assert '"limit_price":0.00000001' in text
    assert "E" not in text.replace("PEPE", "")


def test_encode_omits_absent_fields() -> None:
    text = encode({"method": "subscribe", "params": {"channel": "book", "symbol": ["BTC/USD"]}})
    assert json.loads(text) == {
        "method": "subscribe",
        "params": {"channel": "book", "symbol": ["BTC/USD"]},
    }


def test_encode_validates_before_producing_text() -> None:
    with pytest.raises(ValidationError, match="depth"):
        encode({"method": "subscribe", "params": {"channel": "book", "symbol": ["X"], "depth": 7}})


def test_encode_accepts_models() -> None:
    from kraken_ws.models.channels.book import BookSubscribeParams
    from kraken_ws.models.methods.subscribe import SubscribeRequest

    text = encode(SubscribeRequest(params=BookSubscribeParams(symbol=["BTC/USD"], depth=25)))
    assert json.loads(text)["params"]["depth"] == 25


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (Decimal("0E-8"), "0.00000000"),
        (Decimal("1E-8"), "0.00000001"),
        (Decimal("62807.0"), "62807.0"),
        (Decimal("-0.50"), "-0.50"),
        (Decimal("1E+3"), "1000"),
    ],
)
def test_format_decimal(value: Decimal, text: str) -> None:
    assert format_decimal(value) == text


def test_format_decimal_refuses_nan() -> None:
    with pytest.raises(ValueError, match="non-finite"):
        format_decimal(Decimal("NaN"))


def test_dumps_escapes_strings() -> None:
    assert dumps({"a": 'x"\n\u00e9'}) == '{"a":"x\\"\\n\\u00e9"}'


def test_book_update_model_is_exact() -> None:
    message = BookUpdate.model_validate(
        loads(
            b'{"channel":"book","type":"update","data":[{"symbol":"BTC/USD","bids":[],"asks":'
            b'[{"price":62807.0,"qty":0.00000000}],"checksum":4249465476}]}'
        )
    )
    level = message.data[0].asks[0]
    assert str(level.price) == "62807.0"
    assert level.qty.as_tuple().exponent == -8


# --- the channel fast path agrees with tag dispatch -------------------------------------------


def _by_tag(obj: Any) -> Any:
    """The general path alone: the model message_tag names, else UnknownMessage."""
    model = message_model_for(obj)
    if model is None:
        return UnknownMessage(raw=obj)
    try:
        return model.model_validate(obj)
    except ValidationError as exc:
        return UnknownMessage(raw=obj, error=f"{model.__name__}: {exc.errors()[0]['msg']}")


def _assert_same_decoding(obj: Any) -> None:
    fast = decode_object(obj)
    slow = _by_tag(obj)
    assert type(fast) is type(slow)
    assert fast == slow
    assert fast.model_fields_set == slow.model_fields_set


@settings(max_examples=400, suppress_health_check=[HealthCheck.too_slow])
@given(json_values | frame_like)
def test_fast_dispatch_matches_tag_dispatch(value: Any) -> None:
    _assert_same_decoding(loads(json.dumps(value)))


@pytest.mark.parametrize(
    "obj",
    [
        {"channel": "heartbeat"},
        {"channel": "heartbeat", "type": "update"},  # heartbeat ignores type in tag dispatch
        {"channel": ["book"], "type": "update", "data": []},  # unhashable tag
        {"channel": "book", "type": {"a": 1}, "data": []},
        {"channel": "book", "type": None, "data": []},
        {"channel": "book", "type": "update", "data": [{"symbol": "X"}]},  # known tag, bad body
        {"method": "pong", "req_id": 1},
        {"channel": 7, "type": "update"},
    ],
)
def test_fast_dispatch_edge_cases(obj: dict[str, Any]) -> None:
    _assert_same_decoding(obj)


def test_fast_dispatch_matches_on_every_recorded_frame() -> None:
    frames = [line["frame"] for line in load_jsonl("third_party_server_frames.jsonl")]
    frames += [
        line["frame"] for line in load_jsonl("reference_frames.jsonl") if line["dir"] == "server"
    ]
    assert len(frames) > 5_000
    for frame in frames:
        _assert_same_decoding(frame)
