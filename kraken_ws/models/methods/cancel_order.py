"""``cancel_order``: cancel orders by id (https://docs.kraken.com/api/docs/websocket-v2/cancel_order).

Kraken answers with **one response per cancelled order**, all carrying the request's ``req_id``;
an unknown or already closed id gets ``success: false`` ([Protocol notes §7.5][ref-7-5],
[§2.2][ref-2-2]).

Checked before sending: at least one of ``order_id``, ``cl_ord_id``, ``order_userref`` is given,
each given list is non-empty, ids are non-empty strings, client ids have a ``cl_ord_id`` format
and userrefs are int32.
"""

from __future__ import annotations

from typing import Annotated, Literal, Self

from pydantic import Field, field_validator, model_validator

from kraken_ws.models._base import OutboundModel

from ._common import REQ_ID_FIELD, ErrorFields, ResponseBase, ResultBase
from .add_order import UserRef, _check_client_id

__all__ = [
    "CancelOrderError",
    "CancelOrderParams",
    "CancelOrderRequest",
    "CancelOrderResponse",
    "CancelOrderResult",
    "CancelOrderSuccess",
]

_OrderId = Annotated[str, Field(min_length=1)]


class CancelOrderParams(OutboundModel):
    """Params of ``cancel_order``: lists of ids (arrays even for one id).

    Attributes:
        order_id (list[_OrderId] | None, optional): Kraken order ids.
        cl_ord_id (list[str] | None, optional): Client order ids.
        order_userref (list[UserRef] | None, optional): Client tags; every open order with one of
            them is cancelled.
        token (str | None, optional): WebSocket token; the client fills it in.
    """

    order_id: list[_OrderId] | None = Field(default=None, min_length=1)
    """Kraken order ids."""
    cl_ord_id: list[str] | None = Field(default=None, min_length=1)
    """Client order ids."""
    order_userref: list[UserRef] | None = Field(default=None, min_length=1)
    """Client tags; every open order with one of them is cancelled."""
    token: str | None = None
    """WebSocket token; the client fills it in."""

    @field_validator("cl_ord_id")
    @classmethod
    def _cl_ord_id_format(cls, value: list[str] | None) -> list[str] | None:
        if value is not None:
            for item in value:
                _check_client_id(item, "cl_ord_id")
        return value

    @model_validator(mode="after")
    def _check(self) -> Self:
        if self.order_id is None and self.cl_ord_id is None and self.order_userref is None:
            raise ValueError(
                "nothing to cancel: give at least one of order_id, cl_ord_id, order_userref"
            )
        return self


class CancelOrderRequest(OutboundModel):
    """The ``cancel_order`` request envelope.

    Attributes:
        method (Literal["cancel_order"], optional): Method name.
        params (CancelOrderParams): Orders to cancel. Its fields (described in `CancelOrderParams`):
            ``order_id``, ``cl_ord_id``, ``order_userref``, ``token``.
        req_id (int | None, optional): Client request id, echoed in every response.
    """

    method: Literal["cancel_order"] = "cancel_order"
    """Method name."""
    params: CancelOrderParams
    """Orders to cancel."""
    req_id: int | None = REQ_ID_FIELD
    """Client request id, echoed in every response."""


class CancelOrderResult(ResultBase):
    """``result`` of one cancelled order.

    Attributes:
        warnings (list[str] | None, optional): Advisories such as deprecation notices.
        order_id (str | None, optional): Kraken id of the cancelled order.
        cl_ord_id (str | None, optional): Client id of the cancelled order, when it was cancelled by
            ``cl_ord_id``.
    """

    order_id: str | None = None
    """Kraken id of the cancelled order."""
    cl_ord_id: str | None = None
    """Client id of the cancelled order, when it was cancelled by ``cl_ord_id``."""


class CancelOrderSuccess(ResponseBase):
    """One order cancelled (one such response per order).

    Attributes:
        req_id (int | None, optional): Echo of the request's ``req_id``; absent when none was sent.
        time_in (Timestamp | None, optional): When the server received the request.
        time_out (Timestamp | None, optional): When the server sent the response.
        method (Literal["cancel_order"]): Method name.
        success (Literal[True]): Always ``true``.
        result (CancelOrderResult): Which order was cancelled.
    """

    method: Literal["cancel_order"]
    """Method name."""
    success: Literal[True]
    """Always ``true``."""
    result: CancelOrderResult
    """Which order was cancelled."""


class CancelOrderError(ErrorFields):
    """A failed cancel, e.g. ``EOrder:Unknown order``.

    Attributes:
        req_id (int | None, optional): Echo of the request's ``req_id``; absent when none was sent.
        time_in (Timestamp | None, optional): When the server received the request.
        time_out (Timestamp | None, optional): When the server sent the response.
        error (str): Kraken's error string, e.g. ``"EOrder:Insufficient funds"``.
        symbol (str | None, optional): Symbol echoed by some subscription errors (undocumented,
            observed).
        status (str | None, optional): ``"error"`` on some captured responses (undocumented).
        method (Literal["cancel_order"]): Method name.
        success (Literal[False]): Always ``false``.
    """

    method: Literal["cancel_order"]
    """Method name."""
    success: Literal[False]
    """Always ``false``."""


CancelOrderResponse = Annotated[
    CancelOrderSuccess | CancelOrderError, Field(discriminator="success")
]
"""Response to ``cancel_order``: success or error (one per order)."""
