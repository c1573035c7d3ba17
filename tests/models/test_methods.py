"""Method models against every request and response example we have.

* every request example of the reference (§4, §7, §10A) and every line of
  ``third_party_client_requests.jsonl`` validates into its ``<Method>Request`` and dumps back
  (``exclude_unset``) to the same JSON, numbers digit for digit;
* every ``*.response`` line of ``third_party_server_frames.jsonl`` for a method validates into
  its ``<Method>Response`` through the lossless loader, as the right success/error variant.

The few frames that are invalid on purpose are listed with the reason.
"""

from __future__ import annotations

import importlib
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from pydantic import BaseModel, TypeAdapter, ValidationError

from kraken_ws import decode
from kraken_ws.models.methods.add_order import AddOrderRequest
from kraken_ws.models.methods.batch_add import BatchAddError, BatchAddResponse, BatchAddSuccess
from kraken_ws.models.methods.batch_cancel import BatchCancelResponse, BatchCancelSuccess
from kraken_ws.models.methods.cancel_after import (
    CancelAllOrdersAfterResponse,
    CancelAllOrdersAfterSuccess,
)
from kraken_ws.models.methods.cancel_all import CancelAllRequest
from kraken_ws.models.methods.edit_order import EditOrderParams
from kraken_ws.models.methods.ping import PingError, PingResponse, Pong
from kraken_ws.models.methods.subscribe import SubscribeError, SubscribeResponse
from kraken_ws.protocol._json import loads

DATA = Path(__file__).parent.parent / "data"

#: wire method -> (module, class prefix)
METHODS: dict[str, tuple[str, str]] = {
    "subscribe": ("subscribe", "Subscribe"),
    "unsubscribe": ("unsubscribe", "Unsubscribe"),
    "ping": ("ping", "Ping"),
    "add_order": ("add_order", "AddOrder"),
    "amend_order": ("amend_order", "AmendOrder"),
    "edit_order": ("edit_order", "EditOrder"),
    "cancel_order": ("cancel_order", "CancelOrder"),
    "cancel_all": ("cancel_all", "CancelAll"),
    "cancel_all_orders_after": ("cancel_after", "CancelAllOrdersAfter"),
    "batch_add": ("batch_add", "BatchAdd"),
    "batch_cancel": ("batch_cancel", "BatchCancel"),
}


def _model(method: str, part: str) -> Any:
    module, prefix = METHODS[method]
    return getattr(importlib.import_module(f"kraken_ws.models.methods.{module}"), prefix + part)


def _response_type(method: str) -> Any:
    # ``pong`` and a failed ``ping`` both answer a ping.
    if method in ("ping", "pong"):
        return PingResponse
    return _model(method, "Response")


def _same(a: Any, b: Any, path: str = "$") -> str | None:
    """First difference between two decoded JSON values; Decimals must match digit for digit."""
    if isinstance(a, dict) and isinstance(b, dict):
        if a.keys() != b.keys():
            return f"{path}: keys {sorted(a)} != {sorted(b)}"
        for key in a:
            if diff := _same(a[key], b[key], f"{path}.{key}"):
                return diff
        return None
    if isinstance(a, list) and isinstance(b, list):
        if len(a) != len(b):
            return f"{path}: length {len(a)} != {len(b)}"
        for i, (x, y) in enumerate(zip(a, b, strict=True)):
            if diff := _same(x, y, f"{path}[{i}]"):
                return diff
        return None
    if isinstance(a, Decimal) or isinstance(b, Decimal):
        # The lossless loader gives int for integer tokens; the models hold every price and
        # quantity as Decimal, which the encoder writes back as the same integer token.
        if isinstance(a, bool) or isinstance(b, bool) or not isinstance(a, (int, Decimal)):
            return f"{path}: {a!r} != {b!r}"
        if not isinstance(b, (int, Decimal)):
            return f"{path}: {a!r} != {b!r}"
        return None if Decimal(a).as_tuple() == Decimal(b).as_tuple() else f"{path}: {a!r} != {b!r}"
    if type(a) is not type(b) or a != b:
        return f"{path}: {a!r} != {b!r}"
    return None


def _jsonl(name: str) -> list[tuple[int, dict[str, Any]]]:
    with (DATA / name).open("rb") as fh:
        return [(n, loads(line)) for n, line in enumerate(fh, 1) if line.strip()]


# --------------------------------------------------------------------------------------------
# Reference examples (kraken-v2-reference.md §2.2, §4, §7, §10A); trimmed examples completed
# minimally ("..." tokens kept where the reference has them as timestamps).

TOKEN = "G38a1tGFzqGiUCmnegBcm8d4nfP3tytiNQz6tkCBYXY"

REFERENCE_REQUESTS: list[str] = [
    # §4.1, §4.2
    '{"method":"subscribe","params":{"channel":"ticker","symbol":["BTC/USD"]},"req_id":7}',
    '{"method":"ping","req_id":101}',
    # §7.2 add_order and its variants
    '{"method":"add_order","params":{"order_type":"limit","side":"buy","limit_price":26500.4,'
    '"order_userref":100054,"order_qty":1.2,"symbol":"BTC/USD","token":"' + TOKEN + '"},'
    '"req_id":123456789}',
    '{"method":"add_order","params":{"order_type":"stop-loss","side":"sell","order_qty":100,'
    '"symbol":"MATIC/USD","triggers":{"reference":"last","price":-2.0,"price_type":"pct"},'
    '"token":"' + TOKEN + '"}}',
    '{"method":"add_order","params":{"order_type":"limit","side":"buy","order_qty":1.2,'
    '"symbol":"BTC/USD","limit_price":28440,"conditional":{"order_type":"stop-loss-limit",'
    '"trigger_price":28410,"limit_price":28400},"token":"' + TOKEN + '"}}',
    '{"method":"add_order","params":{"order_type":"trailing-stop","side":"buy","order_qty":100,'
    '"symbol":"MATIC/USD","triggers":{"reference":"last","price":1.0,"price_type":"pct"},'
    '"token":"' + TOKEN + '"}}',
    # §10A
    '{"method":"subscribe","params":{"channel":"executions","token":"' + TOKEN + '",'
    '"snap_orders":true,"snap_trades":true}}',
    '{"method":"subscribe","params":{"channel":"level3","symbol":["ALGO/USD","MATIC/USD"],'
    '"snapshot":true,"token":"..."}}',
    '{"method":"subscribe","params":{"channel":"ohlc","symbol":["ALGO/USD","MATIC/USD"],'
    '"interval":5}}',
    '{"method":"subscribe","params":{"channel":"instrument"},"req_id":79}',
    '{"method":"amend_order","params":{"order_id":"OAIYAU-LGI3M-PFM5VW","limit_price":61031.3,'
    '"deadline":"2024-07-21T09:53:59.050Z","post_only":true,"token":"..."}}',
    '{"method":"edit_order","params":{"order_id":"ORDERX-IDXXX-XXXXX1","order_qty":0.2123456789,'
    '"symbol":"BTC/USD","token":"..."},"req_id":1234567890}',
    '{"method":"cancel_order","params":{"order_id":["OM5CRX-N2HAL-GFGWE9","OLUMT4-UTEGU-ZYM7E9"],'
    '"token":"..."},"req_id":123456789}',
    '{"method":"cancel_all","params":{"token":"..."},"req_id":1234567890}',
    '{"method":"cancel_all_orders_after","params":{"timeout":100,"token":"..."},'
    '"req_id":1234567890}',
    '{"method":"batch_add","params":{"deadline":"2022-06-13T08:09:10.123456Z","symbol":"BTC/USD",'
    '"validate":false,"token":"...","orders":[{"limit_price":1010.10,"order_qty":0.123456789,'
    '"order_type":"limit","order_userref":1,"side":"buy"},{"limit_price":2020.20,'
    '"order_qty":0.987654321,"order_type":"limit","order_userref":2,"side":"sell",'
    '"stp_type":"cancel_both"}]},"req_id":1234567890}',
    '{"method":"batch_cancel","params":{"orders":["1","2","ORDERX-IDXXX-XXXXX3"],"token":"..."},'
    '"req_id":1234567890}',
]

T = '"time_in":"2023-09-21T14:15:07.197274Z","time_out":"2023-09-21T14:15:07.205301Z"'

#: (frame, expected success)
REFERENCE_RESPONSES: list[tuple[str, bool]] = [
    (
        '{"error":"Already subscribed","method":"subscribe","req_id":2,"success":false,'
        '"symbol":"BTC/USD","time_in":"2025-12-20T07:39:28.809188Z",'
        '"time_out":"2025-12-20T07:39:28.809200Z"}',
        False,
    ),
    (
        '{"method":"subscribe","result":{"channel":"ticker","symbol":"BTC/USD","snapshot":true},'
        '"success":true,"time_in":"...","time_out":"...","req_id":7}',
        True,
    ),
    (
        '{"method":"pong","req_id":101,"time_in":"2023-09-24T14:10:23.799685Z",'
        '"time_out":"2023-09-24T14:10:23.799703Z"}',
        True,
    ),
    (
        '{"method":"add_order","req_id":123456789,"result":{"order_id":"AA5JGQ-SBMRC-SCJ7J7",'
        '"order_userref":100054},"success":true,' + T + "}",
        True,
    ),
    (
        '{"error":"EOrder:Insufficient funds","method":"add_order","req_id":123456789,'
        '"success":false,"time_in":"...","time_out":"..."}',
        False,
    ),
    (
        '{"method":"amend_order","result":{"amend_id":"TTW6PD-RC36L-ZZSWNU",'
        '"cl_ord_id":"2c6be801-1f53-4f79-a0bb-4ea1c95dfae9"},"success":true,' + T + "}",
        True,
    ),
    (
        '{"method":"cancel_all_orders_after","req_id":1234567890,"result":{'
        '"currentTime":"2023-09-21T15:49:29Z","triggerTime":"2023-09-21T15:51:09Z"},'
        '"success":true,' + T + "}",
        True,
    ),
    (
        '{"method":"edit_order","req_id":1234567890,"result":{"order_id":"ORDERX-IDXXX-XXXXX2",'
        '"original_order_id":"ORDERX-IDXXX-XXXXX1"},"success":true,' + T + "}",
        True,
    ),
    (
        '{"method":"cancel_order","req_id":123456789,"result":{"order_id":"OM5CRX-N2HAL-GFGWE9"},'
        '"success":true,' + T + "}",
        True,
    ),
    ('{"method":"cancel_all","req_id":1234567890,"result":{"count":1},"success":true}', True),
    (
        '{"method":"batch_add","req_id":1234567890,"result":[{"order_id":"ORDERX-IDXXX-XXXXX1",'
        '"order_userref":1},{"order_id":"ORDERX-IDXXX-XXXXX2","order_userref":2}],'
        '"success":true,' + T + "}",
        True,
    ),
    ('{"method":"batch_cancel","req_id":1234567890,"result":{"count":3},"success":true}', True),
]


def _check_request(frame: dict[str, Any]) -> BaseModel:
    request: BaseModel = _model(frame["method"], "Request").model_validate(frame)
    dumped = request.model_dump(mode="python", exclude_unset=True)
    diff = _same(frame, dumped)
    assert diff is None, diff
    return request


def _check_response(frame: dict[str, Any], success: bool) -> BaseModel:
    method = frame["method"]
    message: BaseModel = TypeAdapter(_response_type(method)).validate_python(frame)
    if method == "pong":
        assert isinstance(message, Pong)
    else:
        expected = "Success" if success else "Error"
        if method == "ping":
            assert isinstance(message, PingError)
        else:
            assert type(message).__name__.endswith(expected), type(message).__name__
            assert type(message) is _model(method, expected)
    diff = _same(frame, message.model_dump(mode="python", exclude_unset=True))
    assert diff is None, diff
    return message


@pytest.mark.parametrize("text", REFERENCE_REQUESTS)
def test_reference_request(text: str) -> None:
    _check_request(loads(text))


@pytest.mark.parametrize(("text", "success"), REFERENCE_RESPONSES)
def test_reference_response(text: str, success: bool) -> None:
    _check_response(loads(text), success)


def test_reference_covers_every_method() -> None:
    methods = {loads(t)["method"] for t in REFERENCE_REQUESTS}
    assert methods == set(METHODS) - {"unsubscribe"}  # §4.1 shows no unsubscribe example


# --------------------------------------------------------------------------------------------
# Third-party client requests

#: line -> why the request is refused on purpose
INVALID_REQUESTS: dict[int, str] = {
    44: "docs example unsubscribes trade with 'snapshot', which is subscribe-only (§4.1)",
    63: "Kraken.Net placeholder req_id '|*|' (a string, not an int)",
    64: "Kraken.Net placeholder req_id '|*|' (a string, not an int)",
    72: "nautilus fixture sends time_in_force 'GTC'; requests take lowercase gtc/gtd/ioc/fok",
    88: "kraken-cli template: ticker subscribe without the required symbol list",
}

#: line -> why the request validates but does not dump back to the identical JSON
STRING_NUMBER_REQUESTS: dict[int, str] = {
    79: "ts-kraken sends order_qty as the string '0.14499992'; pydantic's Decimal accepts it "
    "and the model writes the same digits back as a JSON number",
}

CLIENT_REQUESTS = _jsonl("third_party_client_requests.jsonl")


@pytest.mark.parametrize(
    ("line", "record"),
    [
        (n, r)
        for n, r in CLIENT_REQUESTS
        if n not in INVALID_REQUESTS and n not in STRING_NUMBER_REQUESTS
    ],
    ids=lambda v: str(v) if isinstance(v, int) else v["kind"],
)
def test_third_party_request(line: int, record: dict[str, Any]) -> None:
    frame = record["frame"]
    assert record["kind"] == f"{frame['method']}.request"
    _check_request(frame)


@pytest.mark.parametrize("line", sorted(INVALID_REQUESTS))
def test_third_party_request_invalid_on_purpose(line: int) -> None:
    frame = dict(CLIENT_REQUESTS)[line]["frame"]
    with pytest.raises(ValidationError):
        _model(frame["method"], "Request").model_validate(frame)


@pytest.mark.parametrize("line", sorted(STRING_NUMBER_REQUESTS))
def test_third_party_request_string_number(line: int) -> None:
    frame = dict(CLIENT_REQUESTS)[line]["frame"]
    request = _model(frame["method"], "Request").model_validate(frame)
    dumped = request.model_dump(mode="python", exclude_unset=True)
    assert dumped["params"]["order_qty"] == Decimal(frame["params"]["order_qty"])
    assert str(dumped["params"]["order_qty"]) == frame["params"]["order_qty"]


def test_every_client_request_line_is_accounted_for() -> None:
    assert len(CLIENT_REQUESTS) == 88
    kinds = {r["kind"].split(".")[0] for _, r in CLIENT_REQUESTS}
    assert kinds == set(METHODS)


# --------------------------------------------------------------------------------------------
# Third-party server responses

SERVER_RESPONSES = [
    (n, r)
    for n, r in _jsonl("third_party_server_frames.jsonl")
    if r["kind"].endswith(".response") and r["kind"].split(".")[0] in {*METHODS, "pong"}
]


@pytest.mark.parametrize(
    ("line", "record"),
    SERVER_RESPONSES,
    ids=lambda v: str(v) if isinstance(v, int) else v["kind"],
)
def test_third_party_response(line: int, record: dict[str, Any]) -> None:
    frame = record["frame"]
    assert record["kind"].split(".")[0] == frame["method"]
    _check_response(frame, frame.get("success", True) is True)


def test_batch_add_rows_nested_under_orders() -> None:
    # nautilus_trader's hand-written fixture nests the rows under result.orders, each with its own
    # success flag; Kraken's docs send the array itself. Both shapes give the same typed rows.
    frame = dict(SERVER_RESPONSES)[4897]["frame"]
    message = TypeAdapter(BatchAddResponse).validate_python(frame)
    assert isinstance(message, BatchAddSuccess)
    assert [(r.cl_ord_id, r.order_id) for r in message.placed] == [("O-A", "O1")]
    assert [(r.cl_ord_id, r.error) for r in message.failed] == [("O-B", "EOrder:Invalid price")]
    assert [r.cl_ord_id for r in message.rows] == ["O-A", "O-B"]


def test_server_response_counts() -> None:
    # 11 add_order + 6 amend + 4 batch_add + 2 batch_cancel + 4 cancel_all + 3 cancel_after
    # + 7 cancel_order + 4 edit_order + 1 ping + 5 pong + 48 subscribe + 19 unsubscribe
    assert len(SERVER_RESPONSES) == 114


# --------------------------------------------------------------------------------------------
# Specific shapes


def test_batch_cancel_live_orders_cancelled_without_result() -> None:
    frame = dict(SERVER_RESPONSES)[37]["frame"]
    message = TypeAdapter(BatchCancelResponse).validate_python(frame)
    assert isinstance(message, BatchCancelSuccess)
    assert message.result is None
    assert message.orders_cancelled == 2


def test_cancel_all_orders_after_keeps_camel_case() -> None:
    frame = dict(SERVER_RESPONSES)[35]["frame"]
    message = TypeAdapter(CancelAllOrdersAfterResponse).validate_python(frame)
    assert isinstance(message, CancelAllOrdersAfterSuccess)
    assert message.result.currentTime == "2024-05-19T19:22:20Z"
    assert message.result.triggerTime == "2024-05-19T19:22:25Z"


def test_failed_ping_is_a_ping_error() -> None:
    frame = dict(SERVER_RESPONSES)[12]["frame"]
    message = TypeAdapter(PingResponse).validate_python(frame)
    assert isinstance(message, PingError)
    assert message.error.startswith("Unsupported field: 'params'")


def test_subscribe_error_with_symbol_and_status() -> None:
    responses = dict(SERVER_RESPONSES)
    with_status = TypeAdapter(SubscribeResponse).validate_python(responses[50]["frame"])
    assert isinstance(with_status, SubscribeError)
    assert with_status.status == "error"
    with_symbol = TypeAdapter(SubscribeResponse).validate_python(responses[51]["frame"])
    assert isinstance(with_symbol, SubscribeError)
    assert with_symbol.symbol == "WWW/USD"
    assert with_symbol.result is None


def test_batch_add_rows_with_errors() -> None:
    # Kraken's SDK and Kraken.Net: {"error": ...} rows, even in a success:false answer.
    frame = loads(
        '{"method":"batch_add","req_id":3,"success":false,"error":"EOrder:Insufficient funds",'
        '"result":[{"order_id":"OAAAAA-BBBBB-CCCCC1"},{"error":"EOrder:Insufficient funds"}]}'
    )
    message = TypeAdapter(BatchAddResponse).validate_python(frame)
    assert isinstance(message, BatchAddError)
    assert message.rows[1].error == "EOrder:Insufficient funds"
    assert message.rows[1].order_id is None
    assert [r.order_id for r in message.placed] == ["OAAAAA-BBBBB-CCCCC1"]
    assert message.failed == [message.rows[1]]
    ok = TypeAdapter(BatchAddResponse).validate_python(
        {"method": "batch_add", "success": True, "result": [{"error": "EOrder:Invalid price"}]}
    )
    assert isinstance(ok, BatchAddSuccess)
    assert ok.rows[0].error == "EOrder:Invalid price"
    assert ok.placed == []
    assert ok.failed == ok.rows


def test_batch_add_rows_with_their_own_success_flag() -> None:
    # Rows as other SDKs handle them: {"cl_ord_id": ..., "success": false, "error": ...}.
    message = decode(
        '{"method":"batch_add","req_id":1,"success":true,"result":['
        '{"order_id":"O1","cl_ord_id":"a","success":true},'
        '{"cl_ord_id":"b","success":false,"error":"EOrder:Insufficient funds"},'
        '{"cl_ord_id":"c","success":false}]}',
        strict=True,
    )
    assert isinstance(message, BatchAddSuccess)
    assert [r.cl_ord_id for r in message.placed] == ["a"]
    assert [(r.cl_ord_id, r.error) for r in message.failed] == [
        ("b", "EOrder:Insufficient funds"),
        ("c", None),  # failed without saying why: still failed, never "placed"
    ]


def test_batch_add_validate_rows_are_neither_placed_nor_failed() -> None:
    message = decode(
        '{"method":"batch_add","success":true,"result":[{"order_id":""},{"order_id":""}]}'
    )
    assert isinstance(message, BatchAddSuccess)
    assert message.placed == []
    assert message.failed == []


def test_response_decimals_and_big_req_id_kept() -> None:
    frame = dict(SERVER_RESPONSES)[4788]["frame"]  # roq pong, req_id > 2**32
    message = TypeAdapter(PingResponse).validate_python(frame)
    assert isinstance(message, Pong)
    assert message.req_id == 694480169830934


def test_validate_is_sent_under_its_wire_name() -> None:
    request = AddOrderRequest.model_validate(
        {
            "params": {
                "order_type": "limit",
                "side": "buy",
                "order_qty": "1",
                "limit_price": "10",
                "symbol": "BTC/USD",
                "validate": True,
            }
        }
    )
    assert request.params.validate_only is True
    dumped = request.model_dump(exclude_none=True)
    assert dumped["params"]["validate"] is True
    assert "validate_only" not in dumped["params"]
    by_name = EditOrderParams(
        order_id="O1", symbol="BTC/USD", limit_price=Decimal(1), validate_only=True
    )
    assert by_name.model_dump(exclude_unset=True)["validate"] is True


def test_cancel_all_needs_no_arguments() -> None:
    request = CancelAllRequest()
    assert request.model_dump(exclude_none=True) == {"method": "cancel_all", "params": {}}
