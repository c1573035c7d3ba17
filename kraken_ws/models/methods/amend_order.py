"""``amend_order``: atomic in-place amend (https://docs.kraken.com/api/docs/websocket-v2/amend_order).

The order keeps its ids, fills and (where possible) queue priority. Only the limit price, the
trigger price, the quantity and the iceberg display quantity can change; anything else needs a
cancel and a new order ([Protocol notes §7.3][ref-7-3]).

Checked before sending: exactly one of ``order_id`` / ``cl_ord_id`` identifies the order, at least
one amendable field is given, quantities are positive, ``cl_ord_id`` and ``deadline`` have their
documented formats, and a price type is only sent with the price it qualifies. The docs mark
``order_qty`` required, but their own example omits it, so it is optional here
([Protocol notes §11.12][ref-11-12]).
"""

from __future__ import annotations

from typing import Annotated, Literal, Self

from pydantic import Field, field_validator, model_validator

from kraken_ws.models._base import OutboundModel, PositiveDecimal, WireDecimal
from kraken_ws.models.common import PriceType

from ._common import REQ_ID_FIELD, ErrorFields, ResponseBase, ResultBase
from .add_order import _check_client_id, _check_rfc3339

__all__ = [
    "AmendOrderError",
    "AmendOrderParams",
    "AmendOrderRequest",
    "AmendOrderResponse",
    "AmendOrderResult",
    "AmendOrderSuccess",
]

_AMENDABLE = ("order_qty", "display_qty", "limit_price", "trigger_price")


class AmendOrderParams(OutboundModel):
    """Params of ``amend_order``.

    Attributes:
        order_id (str | None, optional): Kraken id of the order to amend (exactly one of
            ``order_id`` / ``cl_ord_id``).
        cl_ord_id (str | None, optional): Client id of the order to amend (exactly one of
            ``order_id`` / ``cl_ord_id``).
        order_qty (PositiveDecimal | None, optional): New order quantity in the base asset. Below
            the filled quantity, the order is filled at what it has and the rest is cancelled.
        display_qty (PositiveDecimal | None, optional): New visible quantity of an iceberg order (at
            least 1/15 of the remaining quantity).
        limit_price (WireDecimal | None, optional): New limit price (an offset on
            trailing-stop-limit orders, so it may be negative).
        limit_price_type (PriceType | None, optional): Units of ``limit_price``; trailing-stop-limit
            only (default ``quote`` there). One of ``"static"``, ``"pct"``, ``"quote"``.
        post_only (bool | None, optional): Reject the price change if the order could not stay
            passive (default ``false``).
        trigger_price (WireDecimal | None, optional): New trigger price of a triggered order (a flat
            field, not a ``triggers`` object).
        trigger_price_type (PriceType | None, optional): Units of ``trigger_price``: ``static``
            (default), ``pct`` or ``quote``.
        deadline (str | None, optional): RFC3339 time with a timezone after which the engine must
            not apply the amend (500 ms to 60 s ahead).
        symbol (str | None, optional): Currency pair; required only for non-crypto pairs (xStocks,
            e.g. ``TSLAx/USD``).
        token (str | None, optional): WebSocket token; the client fills it in.
    """

    order_id: str | None = Field(default=None, min_length=1)
    """Kraken id of the order to amend (exactly one of ``order_id`` / ``cl_ord_id``)."""
    cl_ord_id: str | None = None
    """Client id of the order to amend (exactly one of ``order_id`` / ``cl_ord_id``)."""
    order_qty: PositiveDecimal | None = None
    """New order quantity in the base asset. Below the filled quantity, the order is filled at
    what it has and the rest is cancelled."""
    display_qty: PositiveDecimal | None = None
    """New visible quantity of an iceberg order (at least 1/15 of the remaining quantity)."""
    limit_price: WireDecimal | None = None
    """New limit price (an offset on trailing-stop-limit orders, so it may be negative)."""
    limit_price_type: PriceType | None = None
    """Units of ``limit_price``; trailing-stop-limit only (default ``quote`` there)."""
    post_only: bool | None = None
    """Reject the price change if the order could not stay passive (default ``false``)."""
    trigger_price: WireDecimal | None = None
    """New trigger price of a triggered order (a flat field, not a ``triggers`` object)."""
    trigger_price_type: PriceType | None = None
    """Units of ``trigger_price``: ``static`` (default), ``pct`` or ``quote``."""
    deadline: str | None = None
    """RFC3339 time with a timezone after which the engine must not apply the amend
    (500 ms to 60 s ahead)."""
    symbol: str | None = Field(default=None, min_length=1)
    """Currency pair; required only for non-crypto pairs (xStocks, e.g. ``TSLAx/USD``)."""
    token: str | None = None
    """WebSocket token; the client fills it in."""

    @field_validator("cl_ord_id")
    @classmethod
    def _cl_ord_id_format(cls, value: str | None) -> str | None:
        return None if value is None else _check_client_id(value, "cl_ord_id")

    @field_validator("deadline")
    @classmethod
    def _deadline_format(cls, value: str | None) -> str | None:
        return None if value is None else _check_rfc3339(value, "deadline")

    @model_validator(mode="after")
    def _check(self) -> Self:
        if (self.order_id is None) == (self.cl_ord_id is None):
            raise ValueError("exactly one of order_id or cl_ord_id must identify the order")
        if all(getattr(self, name) is None for name in _AMENDABLE):
            raise ValueError(
                "nothing to amend: give at least one of order_qty, display_qty, limit_price, "
                "trigger_price"
            )
        if self.limit_price_type is not None and self.limit_price is None:
            raise ValueError("limit_price_type is only allowed together with limit_price")
        if self.trigger_price_type is not None and self.trigger_price is None:
            raise ValueError("trigger_price_type is only allowed together with trigger_price")
        return self


class AmendOrderRequest(OutboundModel):
    """The ``amend_order`` request envelope.

    Attributes:
        method (Literal["amend_order"], optional): Method name.
        params (AmendOrderParams): What to amend. Its fields (described in `AmendOrderParams`):
            ``order_id``, ``cl_ord_id``, ``order_qty``, ``display_qty``, ``limit_price``,
            ``limit_price_type``, ``post_only``, ``trigger_price``, ``trigger_price_type``,
            ``deadline``, ``symbol``, ``token``.
        req_id (int | None, optional): Client request id, echoed in the response.
    """

    method: Literal["amend_order"] = "amend_order"
    """Method name."""
    params: AmendOrderParams
    """What to amend."""
    req_id: int | None = REQ_ID_FIELD
    """Client request id, echoed in the response."""


class AmendOrderResult(ResultBase):
    """``result`` of a successful ``amend_order``.

    Attributes:
        warnings (list[str] | None, optional): Advisories such as deprecation notices.
        amend_id (str): Kraken id of this amend.
        order_id (str | None, optional): Echo of the ``order_id`` sent.
        cl_ord_id (str | None, optional): Echo of the ``cl_ord_id`` sent.
    """

    amend_id: str
    """Kraken id of this amend."""
    order_id: str | None = None
    """Echo of the ``order_id`` sent."""
    cl_ord_id: str | None = None
    """Echo of the ``cl_ord_id`` sent."""


class AmendOrderSuccess(ResponseBase):
    """An accepted ``amend_order``.

    Attributes:
        req_id (int | None, optional): Echo of the request's ``req_id``; absent when none was sent.
        time_in (Timestamp | None, optional): When the server received the request.
        time_out (Timestamp | None, optional): When the server sent the response.
        method (Literal["amend_order"]): Method name.
        success (Literal[True]): Always ``true``.
        result (AmendOrderResult): Amend id and the order's id.
    """

    method: Literal["amend_order"]
    """Method name."""
    success: Literal[True]
    """Always ``true``."""
    result: AmendOrderResult
    """Amend id and the order's id."""


class AmendOrderError(ErrorFields):
    """A rejected ``amend_order``, e.g. ``EOrder:Unknown order``.

    Attributes:
        req_id (int | None, optional): Echo of the request's ``req_id``; absent when none was sent.
        time_in (Timestamp | None, optional): When the server received the request.
        time_out (Timestamp | None, optional): When the server sent the response.
        error (str): Kraken's error string, e.g. ``"EOrder:Insufficient funds"``.
        symbol (str | None, optional): Symbol echoed by some subscription errors (undocumented,
            observed).
        status (str | None, optional): ``"error"`` on some captured responses (undocumented).
        method (Literal["amend_order"]): Method name.
        success (Literal[False]): Always ``false``.
    """

    method: Literal["amend_order"]
    """Method name."""
    success: Literal[False]
    """Always ``false``."""


AmendOrderResponse = Annotated[AmendOrderSuccess | AmendOrderError, Field(discriminator="success")]
"""Response to ``amend_order``: success or error."""
