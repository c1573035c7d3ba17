"""``add_order``: place one order (https://docs.kraken.com/api/docs/websocket-v2/add_order).

Requests are checked before they are sent ([Protocol notes §7.1][ref-7-1], [§7.2][ref-7-2],
[§2.4][ref-2-4]). Every rule
that depends on ``order_type``, ``side`` or ``time_in_force`` lives in `_check_order`, which
`AddOrderParams` and `BatchAddOrder` share through
`OrderFieldsBase`; the format checks (`_check_client_id`, `_check_rfc3339`,
`_check_display_qty`) are also used by ``amend_order``, ``edit_order`` and ``batch_add``. Each
failure is a ``ValueError`` that names the field and the allowed values, so pydantic reports it as a
`ValidationError` located at that field's model.

Judgement calls (the docs leave them open):

* ``order_qty`` is required except on a **market buy without margin**, where exactly one of
  ``order_qty`` (base currency) and ``cash_order_qty`` (quote currency) must be given: both
  would be two competing sizes, neither no size at all.
* ``time_in_force="fok"`` is accepted for ``order_type="limit"`` only; only the newest docs
  (Jul 2026) list ``fok`` at all, older ones and other SDKs say gtc/gtd/ioc
  ([Protocol notes §11.5][ref-11-5]).
* ``post_only=True`` is refused on order types without a limit price; an explicit
  ``post_only=False`` is harmless and passes everywhere.
* The deprecated ``stop_price`` still works as a stand-in for ``triggers`` on stop-loss and
  take-profit types (never together with ``triggers``); trailing types need ``triggers`` because
  their offset needs a ``price_type``. The deprecated ``trigger`` goes with ``stop_price`` only.
* ``limit_price`` and ``triggers.price`` may be negative: they are offsets when their price type
  is ``pct`` or ``quote`` (``-2.0`` = 2 % below the reference). Only the trailing types' trigger
  offset must be positive (the direction follows from the side).
"""

from __future__ import annotations

import re
from datetime import datetime
from decimal import Decimal
from typing import Annotated, Literal, Self

from pydantic import ConfigDict, Field, ValidationInfo, field_validator, model_validator

from kraken_ws.models._base import OutboundModel, PositiveDecimal, WireDecimal
from kraken_ws.models.common import (
    LIMIT_PRICE_ORDER_TYPES,
    TRIGGERED_ORDER_TYPES,
    ConditionalOrderType,
    FeePreference,
    OrderType,
    PriceType,
    Side,
    StpType,
    TimeInForce,
    TriggerReference,
)

from ._common import INT32_MAX, INT32_MIN, REQ_ID_FIELD, ErrorFields, ResponseBase, ResultBase

__all__ = [
    "AddOrderConditional",
    "AddOrderError",
    "AddOrderParams",
    "AddOrderRequest",
    "AddOrderResponse",
    "AddOrderResult",
    "AddOrderSuccess",
    "AddOrderTriggers",
    "OrderFieldsBase",
    "UserRef",
]


#: ``order_userref``: a signed 32-bit integer (Kraken's ``userref`` is an int32); strict, so
#: that ``True`` or ``"7"`` are refused instead of silently becoming a number.
UserRef = Annotated[int, Field(strict=True, ge=INT32_MIN, le=INT32_MAX)]

_TRAILING_ORDER_TYPES = frozenset({"trailing-stop", "trailing-stop-limit"})
_OFFSET_PRICE_TYPES = ("pct", "quote")

_LONG_UUID = re.compile(
    r"[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}"
)
_SHORT_UUID = re.compile(r"[0-9A-Fa-f]{32}")
_FREE_TEXT = re.compile(r"[\x20-\x7e]{1,18}")
_RFC3339 = re.compile(
    r"(\d{4}-\d{2}-\d{2})[Tt](\d{2}:\d{2}:\d{2})(?:\.(\d+))?([Zz]|[+-]\d{2}:\d{2})"
)


def _names(values: frozenset[str] | tuple[str, ...]) -> str:
    return ", ".join(f"'{v}'" for v in sorted(values))


def _check_client_id(value: str, field: str) -> str:
    """Check the three ``cl_ord_id`` formats ([Protocol notes §2.4][ref-2-4]).

    ``sender_sub_id`` shares them.
    """
    if _LONG_UUID.fullmatch(value) or _SHORT_UUID.fullmatch(value) or _FREE_TEXT.fullmatch(value):
        return value
    raise ValueError(
        f"{field} must be a long UUID (8-4-4-4-12 hex digits), a short UUID (32 hex digits) "
        f"or free printable ASCII text of 1 to 18 characters; got {value!r}"
    )


def _check_rfc3339(value: str, field: str) -> str:
    """Check an RFC3339 timestamp with a timezone (``Z`` or ``±hh:mm``), e.g. a ``deadline``."""
    match = _RFC3339.fullmatch(value)
    if match is not None:
        date, time, fraction, zone = match.groups()
        zone = "+00:00" if zone in ("Z", "z") else zone
        # fromisoformat checks the ranges (month 13, minute 61, ...); it takes at most 6 digits.
        fraction = f".{fraction[:6]}" if fraction else ""
        try:
            datetime.fromisoformat(f"{date}T{time}{fraction}{zone}")
        except ValueError:
            pass
        else:
            return value
    raise ValueError(
        f"{field} must be an RFC3339 timestamp with a timezone, "
        f"e.g. '2022-12-25T09:30:59.123Z'; got {value!r}"
    )


def _check_display_qty(display_qty: Decimal | None, order_qty: Decimal | None) -> None:
    """Iceberg rule: the visible quantity is at least 1/15 of the order quantity (exact)."""
    if display_qty is not None and order_qty is not None and display_qty * 15 < order_qty:
        raise ValueError(
            f"display_qty must be at least 1/15 of order_qty ({order_qty} / 15); got {display_qty}"
        )


def _check_order(o: OrderFieldsBase) -> None:
    """Every per-order rule of ``add_order`` and ``batch_add``.

    See [Protocol notes §7.1][ref-7-1], [§7.2][ref-7-2] and [§7.8][ref-7-8].
    """
    order_type = o.order_type
    is_limit = order_type in LIMIT_PRICE_ORDER_TYPES
    is_triggered = order_type in TRIGGERED_ORDER_TYPES
    is_trailing = order_type in _TRAILING_ORDER_TYPES

    # limit_price
    if is_limit and o.limit_price is None:
        raise ValueError(
            f"limit_price is required for order_type '{order_type}' "
            f"(order types with a limit price: {_names(LIMIT_PRICE_ORDER_TYPES)})"
        )
    if not is_limit and o.limit_price is not None:
        raise ValueError(
            f"limit_price is not allowed for order_type '{order_type}'; "
            f"only for {_names(LIMIT_PRICE_ORDER_TYPES)}"
        )
    if o.limit_price_type is not None and order_type != "trailing-stop-limit":
        raise ValueError(
            f"limit_price_type is only allowed for order_type 'trailing-stop-limit', "
            f"not '{order_type}'"
        )

    # triggers (and the deprecated stop_price / trigger)
    if is_triggered:
        if is_trailing:
            if o.triggers is None:
                raise ValueError(
                    f"triggers is required for order_type '{order_type}' "
                    "(with triggers.price > 0 and triggers.price_type 'pct' or 'quote')"
                )
        elif o.triggers is None and o.stop_price is None:
            raise ValueError(
                f"triggers is required for order_type '{order_type}' "
                f"(triggered order types: {_names(TRIGGERED_ORDER_TYPES)})"
            )
        if o.triggers is not None and o.stop_price is not None:
            raise ValueError(
                "stop_price (deprecated) and triggers are mutually exclusive; use triggers.price"
            )
        if o.triggers is not None and o.trigger is not None:
            raise ValueError(
                "trigger (deprecated) and triggers are mutually exclusive; use triggers.reference"
            )
        if o.trigger is not None and o.stop_price is None:
            raise ValueError("trigger (deprecated) is only allowed together with stop_price")
    else:
        for name in ("triggers", "stop_price", "trigger"):
            if getattr(o, name) is not None:
                raise ValueError(
                    f"{name} is not allowed for order_type '{order_type}'; "
                    f"only for {_names(TRIGGERED_ORDER_TYPES)}"
                )
    if is_trailing and o.triggers is not None:
        if o.triggers.price_type not in _OFFSET_PRICE_TYPES:
            raise ValueError(
                f"triggers.price_type must be 'pct' or 'quote' for order_type '{order_type}' "
                f"(a trailing distance); got {o.triggers.price_type!r}"
            )
        if o.triggers.price <= 0:
            raise ValueError(
                f"triggers.price must be a positive offset for order_type '{order_type}'; "
                f"got {o.triggers.price}"
            )

    # display_qty (iceberg)
    if order_type == "iceberg":
        if o.display_qty is None:
            raise ValueError("display_qty is required for order_type 'iceberg'")
        _check_display_qty(o.display_qty, o.order_qty)
    elif o.display_qty is not None:
        raise ValueError(
            f"display_qty is only allowed for order_type 'iceberg', not '{order_type}'"
        )

    # order_qty / cash_order_qty
    cash_allowed = order_type == "market" and o.side == "buy" and not o.margin
    if o.cash_order_qty is not None:
        if not cash_allowed:
            raise ValueError(
                "cash_order_qty is only allowed for order_type 'market' with side 'buy' "
                f"and no margin; got order_type '{order_type}', side '{o.side}', "
                f"margin {o.margin!r}"
            )
        if o.order_qty is not None:
            raise ValueError(
                "order_qty and cash_order_qty are mutually exclusive on a market buy; give one"
            )
    elif o.order_qty is None:
        raise ValueError(
            "order_qty is required (only a market buy without margin may give cash_order_qty "
            "instead)"
        )

    # time in force
    tif = o.time_in_force
    if tif == "gtd" and o.expire_time is None:
        raise ValueError("expire_time is required for time_in_force 'gtd'")
    if o.expire_time is not None and tif != "gtd":
        raise ValueError(f"expire_time is only allowed with time_in_force 'gtd'; got {tif!r}")
    # Only the newest docs list fok, for limit orders only (docs/protocol.md#ref-11-5: unconfirmed).
    if tif == "fok" and order_type != "limit":
        raise ValueError(
            f"time_in_force 'fok' is only allowed for order_type 'limit', not '{order_type}'"
        )

    # flags and identifiers
    if o.post_only and not is_limit:
        raise ValueError(
            f"post_only is only allowed for order types with a limit price "
            f"({_names(LIMIT_PRICE_ORDER_TYPES)}), not '{order_type}'"
        )
    if o.cl_ord_id is not None and o.order_userref is not None:
        raise ValueError("cl_ord_id and order_userref are mutually exclusive; give at most one")


class AddOrderTriggers(OutboundModel):
    """Trigger of a stop-loss, take-profit or trailing-stop order (``triggers`` param).

    Attributes:
        reference (TriggerReference | None, optional): Price that triggers the order: ``last``
            (default) or ``index``.
        price (WireDecimal): Trigger price, or an offset from the reference when ``price_type`` is
            ``pct``/``quote`` (may be negative, e.g. ``-2.0`` = 2 % below; trailing types need a
            positive distance).
        price_type (PriceType | None, optional): ``static`` (default, absolute price), ``pct``
            (percent offset) or ``quote`` (offset in quote currency). Trailing types need ``pct`` or
            ``quote``.
    """

    reference: TriggerReference | None = None
    """Price that triggers the order: ``last`` (default) or ``index``."""
    price: WireDecimal
    """Trigger price, or an offset from the reference when ``price_type`` is ``pct``/``quote``
    (may be negative, e.g. ``-2.0`` = 2 % below; trailing types need a positive distance)."""
    price_type: PriceType | None = None
    """``static`` (default, absolute price), ``pct`` (percent offset) or ``quote`` (offset in
    quote currency). Trailing types need ``pct`` or ``quote``."""


class AddOrderConditional(OutboundModel):
    """OTO template: each fill of the primary order creates this close order (opposite side).

    Attributes:
        order_type (ConditionalOrderType): Type of the close order. One of ``"limit"``,
            ``"stop-loss"``, ``"stop-loss-limit"``, ``"take-profit"``, ``"take-profit-limit"``,
            ``"trailing-stop"``, ``"trailing-stop-limit"``.
        limit_price (WireDecimal | None, optional): Limit price of the close order (limit types
            only).
        limit_price_type (PriceType | None, optional): Units of ``limit_price``;
            ``trailing-stop-limit`` only (default ``quote`` there). One of ``"static"``, ``"pct"``,
            ``"quote"``.
        trigger_price (WireDecimal | None, optional): Trigger price of a triggered close order (may
            be a negative offset).
        trigger_price_type (PriceType | None, optional): Units of ``trigger_price``: ``static``
            (default), ``pct`` or ``quote``.
        stop_price (WireDecimal | None, optional): Deprecated: use ``trigger_price``.
    """

    order_type: ConditionalOrderType
    """Type of the close order."""
    limit_price: WireDecimal | None = None
    """Limit price of the close order (limit types only)."""
    limit_price_type: PriceType | None = None
    """Units of ``limit_price``; ``trailing-stop-limit`` only (default ``quote`` there)."""
    trigger_price: WireDecimal | None = None
    """Trigger price of a triggered close order (may be a negative offset)."""
    trigger_price_type: PriceType | None = None
    """Units of ``trigger_price``: ``static`` (default), ``pct`` or ``quote``."""
    stop_price: WireDecimal | None = None
    """Deprecated: use ``trigger_price``."""

    @model_validator(mode="after")
    def _check(self) -> Self:
        order_type = self.order_type
        is_limit = order_type in LIMIT_PRICE_ORDER_TYPES
        if is_limit and self.limit_price is None:
            raise ValueError(
                f"conditional.limit_price is required for conditional.order_type '{order_type}'"
            )
        if not is_limit and self.limit_price is not None:
            raise ValueError(
                f"conditional.limit_price is not allowed for conditional.order_type "
                f"'{order_type}'; only for {_names(LIMIT_PRICE_ORDER_TYPES - {'iceberg'})}"
            )
        if self.limit_price_type is not None and order_type != "trailing-stop-limit":
            raise ValueError(
                "conditional.limit_price_type is only allowed for conditional.order_type "
                f"'trailing-stop-limit', not '{order_type}'"
            )
        if order_type in TRIGGERED_ORDER_TYPES:
            if self.trigger_price is None and self.stop_price is None:
                raise ValueError(
                    f"conditional.trigger_price is required for conditional.order_type "
                    f"'{order_type}'"
                )
            if self.trigger_price is not None and self.stop_price is not None:
                raise ValueError(
                    "conditional.stop_price (deprecated) and conditional.trigger_price are "
                    "mutually exclusive; use trigger_price"
                )
        else:
            for name in ("trigger_price", "trigger_price_type", "stop_price"):
                if getattr(self, name) is not None:
                    raise ValueError(
                        f"conditional.{name} is not allowed for conditional.order_type "
                        f"'{order_type}'; only for {_names(TRIGGERED_ORDER_TYPES)}"
                    )
        return self


class OrderFieldsBase(OutboundModel):
    """The fields of one order, shared by ``add_order`` params and each ``batch_add`` order.

    Not sent on its own: use `AddOrderParams` or
    `BatchAddOrder`.

    Attributes:
        order_type (OrderType): How the order executes
            (https://docs.kraken.com/api/docs/websocket-v2/add_order). One of ``"limit"``,
            ``"market"``, ``"iceberg"``, ``"stop-loss"``, ``"stop-loss-limit"``, ``"take-profit"``,
            ``"take-profit-limit"``, ``"trailing-stop"``, ``"trailing-stop-limit"``,
            ``"settle-position"``.
        side (Side): ``buy`` or ``sell``.
        order_qty (PositiveDecimal | None, optional): Order quantity in the base asset. Required,
            except on a market buy without margin that gives ``cash_order_qty`` instead.
        limit_price (WireDecimal | None, optional): Limit price; required for (and only for) limit,
            iceberg, stop-loss-limit, take-profit-limit and trailing-stop-limit. On
            trailing-stop-limit it is an offset from the trigger price.
        limit_price_type (PriceType | None, optional): Units of ``limit_price``: ``static``, ``pct``
            or ``quote``; trailing-stop-limit only (default ``quote`` there).
        triggers (AddOrderTriggers | None, optional): Trigger of stop-loss, take-profit and
            trailing-stop types (required for them, refused for the others).
        time_in_force (TimeInForce | None, optional): ``gtc`` (default), ``gtd`` (needs
            ``expire_time``), ``ioc``; ``fok`` for limit orders (newest docs only).
        margin (bool | None, optional): Fund the order on margin at the pair's maximum leverage
            (default ``false``).
        post_only (bool | None, optional): Cancel rather than take liquidity; order types with a
            limit price only.
        reduce_only (bool | None, optional): Only reduce an existing margin position.
        effective_time (str | None, optional): Scheduled start time, RFC3339 (seconds precision).
        expire_time (str | None, optional): Expiry time for ``time_in_force="gtd"`` (and only then),
            RFC3339, at most a month ahead.
        cl_ord_id (str | None, optional): Client order id: long UUID, short UUID (32 hex) or up to
            18 ASCII characters. Unique among open orders; mutually exclusive with
            ``order_userref``.
        order_userref (UserRef | None, optional): Non-unique int32 client tag; mutually exclusive
            with ``cl_ord_id``.
        conditional (AddOrderConditional | None, optional): OTO close-order template attached to
            this order.
        display_qty (PositiveDecimal | None, optional): Visible quantity of an iceberg order
            (required for iceberg, refused otherwise); at least 1/15 of ``order_qty``.
        fee_preference (FeePreference | None, optional): Currency to pay fees in: ``base`` or
            ``quote`` (default quote for buy, base for sell).
        no_mpp (bool | None, optional): Deprecated, accepted but ignored by Kraken (market price
            protection).
        stp_type (StpType | None, optional): Self-trade prevention: ``cancel_newest`` (default),
            ``cancel_oldest``, ``cancel_both``.
        cash_order_qty (PositiveDecimal | None, optional): Order size in quote currency; market buy
            without margin only, instead of ``order_qty``.
        sender_sub_id (str | None, optional): Sub-account/trader id for institutional enhanced STP;
            same formats as ``cl_ord_id``.
        stop_price (WireDecimal | None, optional): Deprecated: use ``triggers.price``.
        trigger (TriggerReference | None, optional): Deprecated: use ``triggers.reference``. One of
            ``"last"``, ``"index"``.
    """

    order_type: OrderType
    """How the order executes (https://docs.kraken.com/api/docs/websocket-v2/add_order)."""
    side: Side
    """``buy`` or ``sell``."""
    order_qty: PositiveDecimal | None = None
    """Order quantity in the base asset. Required, except on a market buy without margin that
    gives ``cash_order_qty`` instead."""
    limit_price: WireDecimal | None = None
    """Limit price; required for (and only for) limit, iceberg, stop-loss-limit,
    take-profit-limit and trailing-stop-limit. On trailing-stop-limit it is an offset from the
    trigger price."""
    limit_price_type: PriceType | None = None
    """Units of ``limit_price``: ``static``, ``pct`` or ``quote``; trailing-stop-limit only
    (default ``quote`` there)."""
    triggers: AddOrderTriggers | None = None
    """Trigger of stop-loss, take-profit and trailing-stop types (required for them, refused
    for the others)."""
    time_in_force: TimeInForce | None = None
    """``gtc`` (default), ``gtd`` (needs ``expire_time``), ``ioc``; ``fok`` for limit orders
    (newest docs only)."""
    margin: bool | None = None
    """Fund the order on margin at the pair's maximum leverage (default ``false``)."""
    post_only: bool | None = None
    """Cancel rather than take liquidity; order types with a limit price only."""
    reduce_only: bool | None = None
    """Only reduce an existing margin position."""
    effective_time: str | None = None
    """Scheduled start time, RFC3339 (seconds precision)."""
    expire_time: str | None = None
    """Expiry time for ``time_in_force="gtd"`` (and only then), RFC3339, at most a month ahead."""
    cl_ord_id: str | None = None
    """Client order id: long UUID, short UUID (32 hex) or up to 18 ASCII characters. Unique
    among open orders; mutually exclusive with ``order_userref``."""
    order_userref: UserRef | None = None
    """Non-unique int32 client tag; mutually exclusive with ``cl_ord_id``."""
    conditional: AddOrderConditional | None = None
    """OTO close-order template attached to this order."""
    display_qty: PositiveDecimal | None = None
    """Visible quantity of an iceberg order (required for iceberg, refused otherwise); at least
    1/15 of ``order_qty``."""
    fee_preference: FeePreference | None = None
    """Currency to pay fees in: ``base`` or ``quote`` (default quote for buy, base for sell)."""
    no_mpp: bool | None = None
    """Deprecated, accepted but ignored by Kraken (market price protection)."""
    stp_type: StpType | None = None
    """Self-trade prevention: ``cancel_newest`` (default), ``cancel_oldest``, ``cancel_both``."""
    cash_order_qty: PositiveDecimal | None = None
    """Order size in quote currency; market buy without margin only, instead of ``order_qty``."""
    sender_sub_id: str | None = None
    """Sub-account/trader id for institutional enhanced STP; same formats as ``cl_ord_id``."""
    stop_price: WireDecimal | None = None
    """Deprecated: use ``triggers.price``."""
    trigger: TriggerReference | None = None
    """Deprecated: use ``triggers.reference``."""

    @field_validator("cl_ord_id", "sender_sub_id")
    @classmethod
    def _client_id_format(cls, value: str | None, info: ValidationInfo) -> str | None:
        return None if value is None else _check_client_id(value, str(info.field_name))

    @field_validator("effective_time", "expire_time")
    @classmethod
    def _time_format(cls, value: str | None, info: ValidationInfo) -> str | None:
        return None if value is None else _check_rfc3339(value, str(info.field_name))

    @model_validator(mode="after")
    def _check_order_rules(self) -> Self:
        _check_order(self)
        return self


class AddOrderParams(OrderFieldsBase):
    """Params of ``add_order``: one order plus ``symbol``, ``deadline``, ``validate``, ``token``.

    ``validate`` is the one field whose Python name differs from the wire name (it would shadow
    ``BaseModel.validate``): it is ``validate_only`` in Python, accepted as either name, and
    always serialised as ``validate``.

    Attributes:
        order_type (OrderType): How the order executes
            (https://docs.kraken.com/api/docs/websocket-v2/add_order). One of ``"limit"``,
            ``"market"``, ``"iceberg"``, ``"stop-loss"``, ``"stop-loss-limit"``, ``"take-profit"``,
            ``"take-profit-limit"``, ``"trailing-stop"``, ``"trailing-stop-limit"``,
            ``"settle-position"``.
        side (Side): ``buy`` or ``sell``.
        order_qty (PositiveDecimal | None, optional): Order quantity in the base asset. Required,
            except on a market buy without margin that gives ``cash_order_qty`` instead.
        limit_price (WireDecimal | None, optional): Limit price; required for (and only for) limit,
            iceberg, stop-loss-limit, take-profit-limit and trailing-stop-limit. On
            trailing-stop-limit it is an offset from the trigger price.
        limit_price_type (PriceType | None, optional): Units of ``limit_price``: ``static``, ``pct``
            or ``quote``; trailing-stop-limit only (default ``quote`` there).
        triggers (AddOrderTriggers | None, optional): Trigger of stop-loss, take-profit and
            trailing-stop types (required for them, refused for the others).
        time_in_force (TimeInForce | None, optional): ``gtc`` (default), ``gtd`` (needs
            ``expire_time``), ``ioc``; ``fok`` for limit orders (newest docs only).
        margin (bool | None, optional): Fund the order on margin at the pair's maximum leverage
            (default ``false``).
        post_only (bool | None, optional): Cancel rather than take liquidity; order types with a
            limit price only.
        reduce_only (bool | None, optional): Only reduce an existing margin position.
        effective_time (str | None, optional): Scheduled start time, RFC3339 (seconds precision).
        expire_time (str | None, optional): Expiry time for ``time_in_force="gtd"`` (and only then),
            RFC3339, at most a month ahead.
        cl_ord_id (str | None, optional): Client order id: long UUID, short UUID (32 hex) or up to
            18 ASCII characters. Unique among open orders; mutually exclusive with
            ``order_userref``.
        order_userref (UserRef | None, optional): Non-unique int32 client tag; mutually exclusive
            with ``cl_ord_id``.
        conditional (AddOrderConditional | None, optional): OTO close-order template attached to
            this order.
        display_qty (PositiveDecimal | None, optional): Visible quantity of an iceberg order
            (required for iceberg, refused otherwise); at least 1/15 of ``order_qty``.
        fee_preference (FeePreference | None, optional): Currency to pay fees in: ``base`` or
            ``quote`` (default quote for buy, base for sell).
        no_mpp (bool | None, optional): Deprecated, accepted but ignored by Kraken (market price
            protection).
        stp_type (StpType | None, optional): Self-trade prevention: ``cancel_newest`` (default),
            ``cancel_oldest``, ``cancel_both``.
        cash_order_qty (PositiveDecimal | None, optional): Order size in quote currency; market buy
            without margin only, instead of ``order_qty``.
        sender_sub_id (str | None, optional): Sub-account/trader id for institutional enhanced STP;
            same formats as ``cl_ord_id``.
        stop_price (WireDecimal | None, optional): Deprecated: use ``triggers.price``.
        trigger (TriggerReference | None, optional): Deprecated: use ``triggers.reference``. One of
            ``"last"``, ``"index"``.
        symbol (str): Currency pair, e.g. ``"BTC/USD"``.
        deadline (str | None, optional): RFC3339 time with a timezone (ms precision) after which the
            engine must not match the order; 500 ms to 60 s ahead (default 5 s).
        validate_only (bool | None, optional): ``validate`` on the wire: check the order without
            placing it (the reply carries ``order_id: ""``). Wire name ``validate``.
        token (str | None, optional): WebSocket token; the client fills it in.
    """

    model_config = ConfigDict(serialize_by_alias=True)

    symbol: str = Field(min_length=1)
    """Currency pair, e.g. ``"BTC/USD"``."""
    deadline: str | None = None
    """RFC3339 time with a timezone (ms precision) after which the engine must not match the
    order; 500 ms to 60 s ahead (default 5 s)."""
    validate_only: bool | None = Field(default=None, alias="validate")
    """``validate`` on the wire: check the order without placing it (the reply carries
    ``order_id: ""``)."""
    token: str | None = None
    """WebSocket token; the client fills it in."""

    @field_validator("deadline")
    @classmethod
    def _deadline_format(cls, value: str | None) -> str | None:
        return None if value is None else _check_rfc3339(value, "deadline")


class AddOrderRequest(OutboundModel):
    """The ``add_order`` request envelope.

    Attributes:
        method (Literal["add_order"], optional): Method name.
        params (AddOrderParams): The order. Its fields (described in `AddOrderParams`):
            ``order_type``, ``side``, ``order_qty``, ``limit_price``, ``limit_price_type``,
            ``triggers``, ``time_in_force``, ``margin``, ``post_only``, ``reduce_only``,
            ``effective_time``, ``expire_time``, ``cl_ord_id``, ``order_userref``, ``conditional``,
            ``display_qty``, ``fee_preference``, ``no_mpp``, ``stp_type``, ``cash_order_qty``,
            ``sender_sub_id``, ``stop_price``, ``trigger``, ``symbol``, ``deadline``,
            ``validate_only``, ``token``.
        req_id (int | None, optional): Client request id, echoed in the response.
    """

    method: Literal["add_order"] = "add_order"
    """Method name."""
    params: AddOrderParams
    """The order."""
    req_id: int | None = REQ_ID_FIELD
    """Client request id, echoed in the response."""


class AddOrderResult(ResultBase):
    """``result`` of a successful ``add_order``.

    Attributes:
        warnings (list[str] | None, optional): Advisories such as deprecation notices.
        order_id (str): Kraken order id (``""`` when ``validate`` was set).
        cl_ord_id (str | None, optional): Echo of the ``cl_ord_id`` sent.
        order_userref (int | None, optional): Echo of the ``order_userref`` sent.
    """

    order_id: str
    """Kraken order id (``""`` when ``validate`` was set)."""
    cl_ord_id: str | None = None
    """Echo of the ``cl_ord_id`` sent."""
    order_userref: int | None = None
    """Echo of the ``order_userref`` sent."""


class AddOrderSuccess(ResponseBase):
    """An accepted ``add_order``.

    Attributes:
        req_id (int | None, optional): Echo of the request's ``req_id``; absent when none was sent.
        time_in (Timestamp | None, optional): When the server received the request.
        time_out (Timestamp | None, optional): When the server sent the response.
        method (Literal["add_order"]): Method name.
        success (Literal[True]): Always ``true``.
        result (AddOrderResult): Ids of the new order.
    """

    method: Literal["add_order"]
    """Method name."""
    success: Literal[True]
    """Always ``true``."""
    result: AddOrderResult
    """Ids of the new order."""


class AddOrderError(ErrorFields):
    """A rejected ``add_order``, e.g. ``EOrder:Insufficient funds``.

    Attributes:
        req_id (int | None, optional): Echo of the request's ``req_id``; absent when none was sent.
        time_in (Timestamp | None, optional): When the server received the request.
        time_out (Timestamp | None, optional): When the server sent the response.
        error (str): Kraken's error string, e.g. ``"EOrder:Insufficient funds"``.
        symbol (str | None, optional): Symbol echoed by some subscription errors (undocumented,
            observed).
        status (str | None, optional): ``"error"`` on some captured responses (undocumented).
        method (Literal["add_order"]): Method name.
        success (Literal[False]): Always ``false``.
    """

    method: Literal["add_order"]
    """Method name."""
    success: Literal[False]
    """Always ``false``."""


AddOrderResponse = Annotated[AddOrderSuccess | AddOrderError, Field(discriminator="success")]
"""Response to ``add_order``: success or error."""
