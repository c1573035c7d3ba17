"""``batch_cancel``: cancel 2-50 orders (https://docs.kraken.com/api/docs/websocket-v2/batch_cancel).

``orders`` holds Kraken order ids or ``order_userref`` values written as strings
(``["1", "2", "ORDERX-IDXXX-XXXXX3"]``); ``cl_ord_id`` optionally adds client ids.

Judgement call on the 2-50 bound: the docs state it per batch ("2-50 identifiers per batch")
and every identifier, from either list, is one cancellation in that batch (and one ``n`` in the
rate-limit cost), so the bound applies to the **total** of ``orders`` plus ``cl_ord_id``, not to
``orders`` alone. ``orders`` must be present because the docs mark it required, but it may be
empty when ``cl_ord_id`` carries the identifiers.

A 2024 live capture answered with a top-level ``"orders_cancelled": 2`` and no ``result``
(the docs show ``result.count``), so ``result`` is optional on `BatchCancelSuccess` and
``orders_cancelled`` is typed.
"""

from __future__ import annotations

from typing import Annotated, Literal, Self

from pydantic import Field, field_validator, model_validator

from kraken_ws.models._base import OutboundModel

from ._common import REQ_ID_FIELD, ErrorFields, ResponseBase, ResultBase
from .add_order import _check_client_id

__all__ = [
    "MAX_BATCH_IDS",
    "MIN_BATCH_IDS",
    "BatchCancelError",
    "BatchCancelParams",
    "BatchCancelRequest",
    "BatchCancelResponse",
    "BatchCancelResult",
    "BatchCancelSuccess",
]

#: Fewest and most identifiers per batch (``orders`` and ``cl_ord_id`` together).
MIN_BATCH_IDS = 2
MAX_BATCH_IDS = 50

_Identifier = Annotated[str, Field(min_length=1)]


class BatchCancelParams(OutboundModel):
    """Params of ``batch_cancel``.

    Attributes:
        orders (list[_Identifier]): Kraken order ids or ``order_userref`` values as strings.
        cl_ord_id (list[str] | None, optional): Client order ids.
        token (str | None, optional): WebSocket token; the client fills it in.
    """

    orders: list[_Identifier] = Field(max_length=MAX_BATCH_IDS)
    """Kraken order ids or ``order_userref`` values as strings."""
    cl_ord_id: list[str] | None = Field(default=None, max_length=MAX_BATCH_IDS)
    """Client order ids."""
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
    def _batch_size(self) -> Self:
        total = len(self.orders) + len(self.cl_ord_id or ())
        if not MIN_BATCH_IDS <= total <= MAX_BATCH_IDS:
            raise ValueError(
                f"orders and cl_ord_id must hold {MIN_BATCH_IDS} to {MAX_BATCH_IDS} identifiers "
                f"in total; got {total}"
            )
        return self


class BatchCancelRequest(OutboundModel):
    """The ``batch_cancel`` request envelope.

    Attributes:
        method (Literal["batch_cancel"], optional): Method name.
        params (BatchCancelParams): Orders to cancel. Its fields (described in `BatchCancelParams`):
            ``orders``, ``cl_ord_id``, ``token``.
        req_id (int | None, optional): Client request id, echoed in the response.
    """

    method: Literal["batch_cancel"] = "batch_cancel"
    """Method name."""
    params: BatchCancelParams
    """Orders to cancel."""
    req_id: int | None = REQ_ID_FIELD
    """Client request id, echoed in the response."""


class BatchCancelResult(ResultBase):
    """``result`` of a successful ``batch_cancel``.

    Attributes:
        warnings (list[str] | None, optional): Advisories such as deprecation notices.
        count (int): Number of orders cancelled.
    """

    count: int
    """Number of orders cancelled."""


class BatchCancelSuccess(ResponseBase):
    """Orders cancelled.

    Attributes:
        req_id (int | None, optional): Echo of the request's ``req_id``; absent when none was sent.
        time_in (Timestamp | None, optional): When the server received the request.
        time_out (Timestamp | None, optional): When the server sent the response.
        method (Literal["batch_cancel"]): Method name.
        success (Literal[True]): Always ``true``.
        result (BatchCancelResult | None, optional): How many (documented shape).
        orders_cancelled (int | None, optional): How many, in the undocumented shape of a 2024 live
            capture (no ``result`` then).
    """

    method: Literal["batch_cancel"]
    """Method name."""
    success: Literal[True]
    """Always ``true``."""
    result: BatchCancelResult | None = None
    """How many (documented shape)."""
    orders_cancelled: int | None = None
    """How many, in the undocumented shape of a 2024 live capture (no ``result`` then)."""


class BatchCancelError(ErrorFields):
    """A failed ``batch_cancel``.

    Attributes:
        req_id (int | None, optional): Echo of the request's ``req_id``; absent when none was sent.
        time_in (Timestamp | None, optional): When the server received the request.
        time_out (Timestamp | None, optional): When the server sent the response.
        error (str): Kraken's error string, e.g. ``"EOrder:Insufficient funds"``.
        symbol (str | None, optional): Symbol echoed by some subscription errors (undocumented,
            observed).
        status (str | None, optional): ``"error"`` on some captured responses (undocumented).
        method (Literal["batch_cancel"]): Method name.
        success (Literal[False]): Always ``false``.
    """

    method: Literal["batch_cancel"]
    """Method name."""
    success: Literal[False]
    """Always ``false``."""


BatchCancelResponse = Annotated[
    BatchCancelSuccess | BatchCancelError, Field(discriminator="success")
]
"""Response to ``batch_cancel``: success or error."""
