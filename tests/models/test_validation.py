"""Requests are checked before they are sent (reference §2.4, §7).

Each invalid request must raise ``ValidationError`` whose text names the offending field (and,
for enumerations, an allowed value); each edge case at the limit of a rule must pass.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from pydantic import BaseModel, ValidationError

from kraken_ws.models.methods._common import INT32_MAX
from kraken_ws.models.methods.add_order import AddOrderParams, AddOrderRequest
from kraken_ws.models.methods.amend_order import AmendOrderParams
from kraken_ws.models.methods.batch_add import BatchAddParams
from kraken_ws.models.methods.batch_cancel import BatchCancelParams
from kraken_ws.models.methods.cancel_after import CancelAllOrdersAfterParams
from kraken_ws.models.methods.cancel_order import CancelOrderParams
from kraken_ws.models.methods.edit_order import EditOrderParams
from kraken_ws.models.methods.ping import PingRequest
from kraken_ws.models.methods.subscribe import SubscribeRequest
from kraken_ws.models.methods.unsubscribe import UnsubscribeRequest

DROP = object()
"""Marker: remove this key from the base request."""


def _merge(base: dict[str, Any], changes: dict[str, Any]) -> dict[str, Any]:
    out = {**base, **changes}
    return {k: v for k, v in out.items() if v is not DROP}


def limit(**changes: Any) -> dict[str, Any]:
    """A valid limit buy, changed."""
    base = {
        "order_type": "limit",
        "side": "buy",
        "order_qty": "1.5",
        "limit_price": "100.0",
        "symbol": "BTC/USD",
    }
    return _merge(base, changes)


def order(**changes: Any) -> dict[str, Any]:
    """A valid batch order (no symbol), changed."""
    base = {"order_type": "limit", "side": "buy", "order_qty": "1", "limit_price": "100"}
    return _merge(base, changes)


def market(**changes: Any) -> dict[str, Any]:
    base = {"order_type": "market", "side": "buy", "order_qty": "1", "symbol": "BTC/USD"}
    return _merge(base, changes)


def stop(order_type: str = "stop-loss", **changes: Any) -> dict[str, Any]:
    base = {
        "order_type": order_type,
        "side": "sell",
        "order_qty": "1",
        "symbol": "BTC/USD",
        "triggers": {"price": "90", "price_type": "static"},
    }
    if order_type.endswith("-limit"):
        base["limit_price"] = "89"
    return _merge(base, changes)


def trailing(order_type: str = "trailing-stop", **changes: Any) -> dict[str, Any]:
    base = {
        "order_type": order_type,
        "side": "sell",
        "order_qty": "1",
        "symbol": "BTC/USD",
        "triggers": {"reference": "last", "price": "1.0", "price_type": "pct"},
    }
    if order_type == "trailing-stop-limit":
        base["limit_price"] = "0"
    return _merge(base, changes)


def iceberg(**changes: Any) -> dict[str, Any]:
    return limit(**{"order_type": "iceberg", "order_qty": "1.5", "display_qty": "0.1", **changes})


def amend(**changes: Any) -> dict[str, Any]:
    return _merge({"order_id": "OAIYAU-LGI3M-PFM5VW", "limit_price": "61031.3"}, changes)


def edit(**changes: Any) -> dict[str, Any]:
    return _merge({"order_id": "OAIYAU-LGI3M-PFM5VW", "symbol": "BTC/USD"}, changes)


UUID = "6d1b345e-2821-40e2-ad83-4ecb18a06876"

# (id, model, data, substrings the error text must contain)
INVALID: list[tuple[str, type[BaseModel], dict[str, Any], tuple[str, ...]]] = [
    # enumerations: field and an allowed value
    ("order_type-enum", AddOrderParams, limit(order_type="stop"), ("order_type", "'stop-loss'")),
    ("side-enum", AddOrderParams, limit(side="long"), ("side", "'buy'")),
    ("tif-uppercase", AddOrderParams, limit(time_in_force="GTC"), ("time_in_force", "'gtc'")),
    (
        "stp-hyphen",
        AddOrderParams,
        limit(stp_type="cancel-newest"),
        ("stp_type", "'cancel_newest'"),
    ),
    ("fee-pref-enum", AddOrderParams, limit(fee_preference="usd"), ("fee_preference", "'quote'")),
    (
        "price_type-enum",
        AddOrderParams,
        stop(triggers={"price": "90", "price_type": "percent"}),
        ("triggers.price_type", "'pct'"),
    ),
    (
        "reference-enum",
        AddOrderParams,
        stop(triggers={"price": "90", "reference": "mark"}),
        ("triggers.reference", "'index'"),
    ),
    (
        "conditional-type-enum",
        AddOrderParams,
        limit(conditional={"order_type": "market"}),
        ("conditional.order_type", "'stop-loss'"),
    ),
    # quantities
    ("order_qty-zero", AddOrderParams, limit(order_qty="0"), ("order_qty", "greater than 0")),
    ("order_qty-negative", AddOrderParams, limit(order_qty="-1"), ("order_qty",)),
    ("order_qty-nan", AddOrderParams, limit(order_qty="NaN"), ("order_qty",)),
    ("display_qty-zero", AddOrderParams, iceberg(display_qty="0"), ("display_qty",)),
    (
        "cash_order_qty-zero",
        AddOrderParams,
        market(order_qty=DROP, cash_order_qty="0"),
        ("cash_order_qty",),
    ),
    # limit_price
    (
        "limit-no-price",
        AddOrderParams,
        limit(limit_price=DROP),
        ("limit_price is required", "'limit'"),
    ),
    ("iceberg-no-price", AddOrderParams, iceberg(limit_price=DROP), ("limit_price is required",)),
    (
        "sll-no-price",
        AddOrderParams,
        stop("stop-loss-limit", limit_price=DROP),
        ("limit_price is required", "'stop-loss-limit'"),
    ),
    ("market-with-price", AddOrderParams, market(limit_price="1"), ("limit_price is not allowed",)),
    ("stop-with-price", AddOrderParams, stop(limit_price="1"), ("limit_price is not allowed",)),
    ("trailing-with-price", AddOrderParams, trailing(limit_price="1"), ("limit_price",)),
    (
        "settle-with-price",
        AddOrderParams,
        market(order_type="settle-position", limit_price="1"),
        ("limit_price",),
    ),
    (
        "limit_price_type-on-limit",
        AddOrderParams,
        limit(limit_price_type="pct"),
        ("limit_price_type", "'trailing-stop-limit'"),
    ),
    # triggers
    (
        "stop-no-triggers",
        AddOrderParams,
        stop(triggers=DROP),
        ("triggers is required", "'stop-loss'"),
    ),
    (
        "tpl-no-triggers",
        AddOrderParams,
        stop("take-profit-limit", triggers=DROP),
        ("triggers is required",),
    ),
    (
        "limit-with-triggers",
        AddOrderParams,
        limit(triggers={"price": "1"}),
        ("triggers is not allowed",),
    ),
    (
        "triggers-no-price",
        AddOrderParams,
        stop(triggers={"price_type": "pct"}),
        ("triggers.price", "required"),
    ),
    (
        "trailing-static",
        AddOrderParams,
        trailing(triggers={"price": "1.0", "price_type": "static"}),
        ("triggers.price_type", "'pct'", "'quote'"),
    ),
    (
        "trailing-default-type",
        AddOrderParams,
        trailing(triggers={"price": "1.0"}),
        ("triggers.price_type",),
    ),
    (
        "trailing-negative",
        AddOrderParams,
        trailing(triggers={"price": "-1.0", "price_type": "pct"}),
        ("triggers.price", "positive"),
    ),
    (
        "tsl-zero",
        AddOrderParams,
        trailing("trailing-stop-limit", triggers={"price": "0", "price_type": "quote"}),
        ("triggers.price",),
    ),
    (
        "trailing-stop_price",
        AddOrderParams,
        trailing(triggers=DROP, stop_price="1"),
        ("triggers is required",),
    ),
    (
        "stop_price-and-triggers",
        AddOrderParams,
        stop(stop_price="90"),
        ("stop_price", "triggers"),
    ),
    ("limit-with-trigger", AddOrderParams, limit(trigger="last"), ("trigger is not allowed",)),
    (
        "conditional-no-trigger",
        AddOrderParams,
        limit(conditional={"order_type": "stop-loss"}),
        ("conditional.trigger_price",),
    ),
    (
        "conditional-no-limit",
        AddOrderParams,
        limit(conditional={"order_type": "limit"}),
        ("conditional.limit_price",),
    ),
    # iceberg
    ("iceberg-no-display", AddOrderParams, iceberg(display_qty=DROP), ("display_qty is required",)),
    (
        "iceberg-display-small",
        AddOrderParams,
        iceberg(display_qty="0.0999"),
        ("display_qty", "1/15"),
    ),
    ("limit-with-display", AddOrderParams, limit(display_qty="0.5"), ("display_qty", "'iceberg'")),
    # order_qty / cash_order_qty
    (
        "cash-on-sell",
        AddOrderParams,
        market(side="sell", order_qty=DROP, cash_order_qty="10"),
        ("cash_order_qty", "'buy'"),
    ),
    (
        "cash-on-margin",
        AddOrderParams,
        market(order_qty=DROP, cash_order_qty="10", margin=True),
        ("cash_order_qty", "margin"),
    ),
    (
        "cash-on-limit",
        AddOrderParams,
        limit(order_qty=DROP, cash_order_qty="10"),
        ("cash_order_qty", "'market'"),
    ),
    (
        "cash-and-qty",
        AddOrderParams,
        market(cash_order_qty="10"),
        ("order_qty and cash_order_qty",),
    ),
    ("market-no-qty", AddOrderParams, market(order_qty=DROP), ("order_qty is required",)),
    ("limit-no-qty", AddOrderParams, limit(order_qty=DROP), ("order_qty is required",)),
    # time in force
    (
        "gtd-no-expire",
        AddOrderParams,
        limit(time_in_force="gtd"),
        ("expire_time is required", "'gtd'"),
    ),
    (
        "expire-with-gtc",
        AddOrderParams,
        limit(time_in_force="gtc", expire_time="2030-01-01T00:00:00Z"),
        ("expire_time", "'gtd'"),
    ),
    ("expire-no-tif", AddOrderParams, limit(expire_time="2030-01-01T00:00:00Z"), ("expire_time",)),
    ("fok-market", AddOrderParams, market(time_in_force="fok"), ("time_in_force 'fok'", "'limit'")),
    ("fok-iceberg", AddOrderParams, iceberg(time_in_force="fok"), ("time_in_force 'fok'",)),
    ("post_only-market", AddOrderParams, market(post_only=True), ("post_only",)),
    ("post_only-stop", AddOrderParams, stop(post_only=True), ("post_only",)),
    # identifiers
    ("cl_ord_id-19", AddOrderParams, limit(cl_ord_id="a" * 19), ("cl_ord_id", "18")),
    ("cl_ord_id-non-ascii", AddOrderParams, limit(cl_ord_id="ordré"), ("cl_ord_id",)),
    ("cl_ord_id-control", AddOrderParams, limit(cl_ord_id="a\nb"), ("cl_ord_id",)),
    ("cl_ord_id-empty", AddOrderParams, limit(cl_ord_id=""), ("cl_ord_id",)),
    ("cl_ord_id-bad-uuid", AddOrderParams, limit(cl_ord_id=UUID[:-1] + "g"), ("cl_ord_id",)),
    ("sender_sub_id-long", AddOrderParams, limit(sender_sub_id="x" * 40), ("sender_sub_id",)),
    (
        "cl_ord_id-and-userref",
        AddOrderParams,
        limit(cl_ord_id="abc", order_userref=1),
        ("cl_ord_id and order_userref",),
    ),
    ("userref-too-big", AddOrderParams, limit(order_userref=INT32_MAX + 1), ("order_userref",)),
    ("userref-too-small", AddOrderParams, limit(order_userref=-(2**31) - 1), ("order_userref",)),
    ("userref-bool", AddOrderParams, limit(order_userref=True), ("order_userref",)),
    ("userref-string", AddOrderParams, limit(order_userref="7"), ("order_userref",)),
    # timestamps
    (
        "deadline-no-tz",
        AddOrderParams,
        limit(deadline="2022-12-25T09:30:59.123"),
        ("deadline", "timezone"),
    ),
    ("deadline-bad-month", AddOrderParams, limit(deadline="2022-13-25T09:30:59Z"), ("deadline",)),
    ("deadline-text", AddOrderParams, limit(deadline="in 5 seconds"), ("deadline",)),
    ("deadline-date-only", AddOrderParams, limit(deadline="2022-12-25"), ("deadline",)),
    ("effective-no-time", AddOrderParams, limit(effective_time="2024-01-01"), ("effective_time",)),
    (
        "expire-bad",
        AddOrderParams,
        limit(time_in_force="gtd", expire_time="2024-01-01T25:00:00Z"),
        ("expire_time",),
    ),
    # shape
    ("unknown-field", AddOrderParams, limit(leverage=5), ("leverage", "Extra inputs")),
    ("empty-symbol", AddOrderParams, limit(symbol=""), ("symbol",)),
    ("no-symbol", AddOrderParams, limit(symbol=DROP), ("symbol", "required")),
    (
        "method-wrong",
        AddOrderRequest,
        {"method": "add", "params": limit()},
        ("method", "'add_order'"),
    ),
    ("req_id-negative", AddOrderRequest, {"params": limit(), "req_id": -1}, ("req_id",)),
    ("req_id-int32", AddOrderRequest, {"params": limit(), "req_id": 2**31}, ("req_id",)),
    ("ping-params", PingRequest, {"method": "ping", "params": {}}, ("params",)),
    # edit_order
    (
        "edit-cl_ord_id",
        EditOrderParams,
        edit(cl_ord_id="abc", limit_price="1"),
        ("cl_ord_id", "amend_order"),
    ),
    ("edit-no-order_id", EditOrderParams, edit(order_id=DROP), ("order_id", "required")),
    (
        "edit-display-small",
        EditOrderParams,
        edit(order_qty="15", display_qty="0.99"),
        ("display_qty", "1/15"),
    ),
    ("edit-userref-big", EditOrderParams, edit(order_userref=INT32_MAX + 1), ("order_userref",)),
    ("edit-deadline", EditOrderParams, edit(deadline="2024-07-21 09:53:59"), ("deadline",)),
    ("edit-order_qty-zero", EditOrderParams, edit(order_qty="0"), ("order_qty",)),
    # amend_order
    ("amend-no-id", AmendOrderParams, amend(order_id=DROP), ("order_id or cl_ord_id",)),
    ("amend-both-ids", AmendOrderParams, amend(cl_ord_id="abc"), ("order_id or cl_ord_id",)),
    (
        "amend-nothing",
        AmendOrderParams,
        amend(limit_price=DROP, post_only=True),
        ("order_qty", "display_qty", "limit_price", "trigger_price"),
    ),
    ("amend-qty-zero", AmendOrderParams, amend(order_qty="0"), ("order_qty",)),
    ("amend-display-zero", AmendOrderParams, amend(display_qty="0"), ("display_qty",)),
    (
        "amend-lpt-alone",
        AmendOrderParams,
        amend(limit_price=DROP, order_qty="1", limit_price_type="quote"),
        ("limit_price_type",),
    ),
    (
        "amend-tpt-enum",
        AmendOrderParams,
        amend(trigger_price="1", trigger_price_type="relative"),
        ("trigger_price_type", "'pct'"),
    ),
    (
        "amend-cl_ord_id-bad",
        AmendOrderParams,
        amend(order_id=DROP, cl_ord_id="x" * 20),
        ("cl_ord_id",),
    ),
    ("amend-deadline", AmendOrderParams, amend(deadline="2024-07-21T09:53:59.050"), ("deadline",)),
    (
        "amend-triggers-object",
        AmendOrderParams,
        amend(triggers={"price": "1"}),
        ("triggers", "Extra inputs"),
    ),
    # cancel_order
    (
        "cancel-nothing",
        CancelOrderParams,
        {"token": "t"},
        ("order_id", "cl_ord_id", "order_userref"),
    ),
    ("cancel-empty-list", CancelOrderParams, {"order_id": []}, ("order_id",)),
    ("cancel-empty-id", CancelOrderParams, {"order_id": [""]}, ("order_id",)),
    (
        "cancel-scalar-id",
        CancelOrderParams,
        {"order_id": "OABCDE-12345-FGHIJ"},
        ("order_id", "list"),
    ),
    ("cancel-bad-cl_ord_id", CancelOrderParams, {"cl_ord_id": ["y" * 19]}, ("cl_ord_id",)),
    ("cancel-userref-string", CancelOrderParams, {"order_userref": ["1"]}, ("order_userref",)),
    # cancel_all_orders_after
    ("timeout-day", CancelAllOrdersAfterParams, {"timeout": 86400}, ("timeout", "86400")),
    ("timeout-negative", CancelAllOrdersAfterParams, {"timeout": -1}, ("timeout",)),
    ("timeout-string", CancelAllOrdersAfterParams, {"timeout": "60"}, ("timeout",)),
    ("timeout-float", CancelAllOrdersAfterParams, {"timeout": 60.5}, ("timeout",)),
    ("timeout-missing", CancelAllOrdersAfterParams, {}, ("timeout", "required")),
    # batch_add
    (
        "batch-one",
        BatchAddParams,
        {"symbol": "BTC/USD", "orders": [order()]},
        ("orders", "at least 2"),
    ),
    (
        "batch-sixteen",
        BatchAddParams,
        {"symbol": "BTC/USD", "orders": [order()] * 16},
        ("orders", "at most 15"),
    ),
    (
        "batch-order-symbol",
        BatchAddParams,
        {"symbol": "BTC/USD", "orders": [order(symbol="BTC/USD"), order()]},
        ("orders.0.symbol",),
    ),
    (
        "batch-order-deadline",
        BatchAddParams,
        {"symbol": "BTC/USD", "orders": [order(), order(deadline="2030-01-01T00:00:00Z")]},
        ("orders.1.deadline",),
    ),
    (
        "batch-order-token",
        BatchAddParams,
        {"symbol": "BTC/USD", "orders": [order(), order(token="t")]},
        ("orders.1.token",),
    ),
    (
        "batch-order-validate",
        BatchAddParams,
        {"symbol": "BTC/USD", "orders": [order(validate=True), order()]},
        ("orders.0.validate",),
    ),
    (
        "batch-order-rule",
        BatchAddParams,
        {"symbol": "BTC/USD", "orders": [order(), order(order_type="market")]},
        ("orders.1", "limit_price is not allowed"),
    ),
    (
        "batch-order-enum",
        BatchAddParams,
        {"symbol": "BTC/USD", "orders": [order(side="short"), order()]},
        ("orders.0.side", "'sell'"),
    ),
    (
        "batch-dup-cl_ord_id",
        BatchAddParams,
        {"symbol": "BTC/USD", "orders": [order(cl_ord_id="a"), order(cl_ord_id="a")]},
        ("cl_ord_id", "unique"),
    ),
    (
        "batch-deadline",
        BatchAddParams,
        {"symbol": "BTC/USD", "deadline": "soon", "orders": [order(), order()]},
        ("deadline",),
    ),
    # batch_cancel
    (
        "bcancel-one",
        BatchCancelParams,
        {"orders": ["OABCDE-12345-FGHIJ"]},
        ("orders and cl_ord_id", "2 to 50"),
    ),
    ("bcancel-51", BatchCancelParams, {"orders": [str(i) for i in range(51)]}, ("orders",)),
    (
        "bcancel-total-51",
        BatchCancelParams,
        {"orders": [str(i) for i in range(40)], "cl_ord_id": [str(i) for i in range(11)]},
        ("orders and cl_ord_id", "51"),
    ),
    ("bcancel-no-orders", BatchCancelParams, {"cl_ord_id": ["a", "b"]}, ("orders", "required")),
    ("bcancel-empty-id", BatchCancelParams, {"orders": ["1", ""]}, ("orders",)),
    ("bcancel-int-id", BatchCancelParams, {"orders": [1, 2]}, ("orders", "string")),
    # subscribe / unsubscribe
    (
        "subscribe-status",
        SubscribeRequest,
        {"params": {"channel": "status"}},
        ("channel", "'ticker'"),
    ),
    (
        "subscribe-depth",
        SubscribeRequest,
        {"params": {"channel": "book", "symbol": ["BTC/USD"], "depth": 20}},
        ("depth", "10"),
    ),
    (
        "unsubscribe-snapshot",
        UnsubscribeRequest,
        {"params": {"channel": "book", "symbol": ["BTC/USD"], "snapshot": True}},
        ("snapshot",),
    ),
]


@pytest.mark.parametrize(
    ("model", "data", "needles"),
    [pytest.param(m, d, n, id=i) for i, m, d, n in INVALID],
)
def test_invalid_request(
    model: type[BaseModel], data: dict[str, Any], needles: tuple[str, ...]
) -> None:
    with pytest.raises(ValidationError) as excinfo:
        model.model_validate(data)
    text = str(excinfo.value)
    for needle in needles:
        assert needle in text, f"{needle!r} not in:\n{text}"


def test_enough_distinct_invalid_cases() -> None:
    ids = [i for i, *_ in INVALID]
    assert len(ids) == len(set(ids))
    assert len(ids) >= 40


VALID: list[tuple[str, type[BaseModel], dict[str, Any]]] = [
    ("market-buy-cash", AddOrderParams, market(order_qty=DROP, cash_order_qty="100.50")),
    (
        "market-buy-cash-margin-false",
        AddOrderParams,
        market(order_qty=DROP, cash_order_qty="5", margin=False),
    ),
    ("iceberg-exactly-1/15", AddOrderParams, iceberg(order_qty="1.5", display_qty="0.1")),
    (
        "iceberg-exactly-1/15-odd",
        AddOrderParams,
        iceberg(order_qty="1", display_qty="0.06666666666666666666666666667"),
    ),
    ("userref-int32-max", AddOrderParams, limit(order_userref=INT32_MAX)),
    ("userref-int32-min", AddOrderParams, limit(order_userref=-(2**31))),
    ("cl_ord_id-18", AddOrderParams, limit(cl_ord_id="arb-20240509-00010")),
    ("cl_ord_id-long-uuid", AddOrderParams, limit(cl_ord_id=UUID)),
    ("cl_ord_id-long-uuid-upper", AddOrderParams, limit(cl_ord_id=UUID.upper())),
    ("cl_ord_id-short-uuid", AddOrderParams, limit(cl_ord_id="da8e4ad59b78481c93e589746b0cf91f")),
    ("cl_ord_id-1-char", AddOrderParams, limit(cl_ord_id="x")),
    ("sender_sub_id-uuid", AddOrderParams, limit(sender_sub_id=UUID)),
    ("trailing-stop-pct", AddOrderParams, trailing()),
    (
        "trailing-stop-quote",
        AddOrderParams,
        trailing(triggers={"price": "150", "price_type": "quote"}),
    ),
    (
        "trailing-stop-limit-offset",
        AddOrderParams,
        trailing("trailing-stop-limit", limit_price="-5", limit_price_type="quote"),
    ),
    (
        "stop-loss-pct-negative",
        AddOrderParams,
        stop(triggers={"reference": "last", "price": "-2.0", "price_type": "pct"}),
    ),
    ("stop-loss-index", AddOrderParams, stop(triggers={"reference": "index", "price": "90"})),
    (
        "stop-loss-deprecated-stop_price",
        AddOrderParams,
        stop(triggers=DROP, stop_price="90", trigger="index"),
    ),
    ("take-profit-limit", AddOrderParams, stop("take-profit-limit")),
    (
        "gtd-with-expire",
        AddOrderParams,
        limit(time_in_force="gtd", expire_time="2030-01-01T00:00:00Z"),
    ),
    ("fok-limit", AddOrderParams, limit(time_in_force="fok")),
    ("ioc-market", AddOrderParams, market(time_in_force="ioc")),
    ("post_only-false-market", AddOrderParams, market(post_only=False)),
    ("post_only-iceberg", AddOrderParams, iceberg(post_only=True)),
    ("settle-position", AddOrderParams, market(order_type="settle-position", side="sell")),
    (
        "deadline-offset-nanos",
        AddOrderParams,
        limit(deadline="2022-12-25T09:30:59.123456789+02:00"),
    ),
    ("deadline-lower-z", AddOrderParams, limit(deadline="2022-12-25t09:30:59z")),
    ("effective-time", AddOrderParams, limit(effective_time="2030-01-01T00:00:00Z")),
    ("validate-alias", AddOrderParams, limit(validate=True)),
    (
        "oto-trailing-stop-limit",
        AddOrderParams,
        limit(
            conditional={
                "order_type": "trailing-stop-limit",
                "trigger_price": "1",
                "trigger_price_type": "pct",
                "limit_price": "0",
                "limit_price_type": "quote",
            }
        ),
    ),
    (
        "amend-cl_ord_id-display",
        AmendOrderParams,
        amend(order_id=DROP, cl_ord_id=UUID, limit_price=DROP, display_qty="0.1"),
    ),
    (
        "amend-trigger-pct",
        AmendOrderParams,
        amend(limit_price=DROP, trigger_price="-1.5", trigger_price_type="pct"),
    ),
    ("amend-xstock", AmendOrderParams, amend(symbol="TSLAx/USD", order_qty="2")),
    ("edit-userref", EditOrderParams, edit(order_userref=-5, order_qty="15", display_qty="1")),
    ("edit-triggers", EditOrderParams, edit(triggers={"price": "-2", "price_type": "pct"})),
    ("cancel-userref-list", CancelOrderParams, {"order_userref": [0, INT32_MAX]}),
    ("cancel-mixed", CancelOrderParams, {"order_id": ["O1"], "cl_ord_id": [UUID, "free text id"]}),
    ("timeout-zero", CancelAllOrdersAfterParams, {"timeout": 0}),
    ("timeout-max", CancelAllOrdersAfterParams, {"timeout": 86399}),
    (
        "batch-15",
        BatchAddParams,
        {"symbol": "BTC/USD", "orders": [order(order_userref=i) for i in range(15)]},
    ),
    (
        "batch-mixed-types",
        BatchAddParams,
        {
            "symbol": "BTC/USD",
            "validate": True,
            "orders": [
                market(symbol=DROP, order_qty=DROP, cash_order_qty="10"),
                trailing(symbol=DROP),
            ],
        },
    ),
    ("bcancel-50", BatchCancelParams, {"orders": [str(i) for i in range(50)]}),
    ("bcancel-1+1", BatchCancelParams, {"orders": ["OABCDE-12345-FGHIJ"], "cl_ord_id": ["abc"]}),
    ("bcancel-cl-only", BatchCancelParams, {"orders": [], "cl_ord_id": ["abc", UUID]}),
]


@pytest.mark.parametrize(("model", "data"), [pytest.param(m, d, id=i) for i, m, d in VALID])
def test_valid_edge_case(model: type[BaseModel], data: dict[str, Any]) -> None:
    model.model_validate(data)


def test_iceberg_ratio_is_exact() -> None:
    # 1/15 of 1.5 is exactly 0.1: no float rounding lets 0.09999999999999999 through.
    params = AddOrderParams.model_validate(iceberg(order_qty="1.5", display_qty="0.1"))
    assert params.display_qty == Decimal("0.1")
    with pytest.raises(ValidationError, match="display_qty"):
        AddOrderParams.model_validate(iceberg(order_qty="1.5", display_qty="0.09999999999999999"))


def test_models_are_immutable() -> None:
    params = AddOrderParams.model_validate(limit())
    with pytest.raises(ValidationError, match="frozen"):
        params.order_qty = Decimal(2)  # type: ignore[misc]
