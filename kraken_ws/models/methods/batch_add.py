"""``batch_add``: place 2-15 orders on one symbol (https://docs.kraken.com/api/docs/websocket-v2/batch_add).

The whole batch is validated first (one invalid order rejects all of them); at submission single
orders may still fail pre-match checks (e.g. funding) while the others go ahead
(docs/protocol.md#ref-7-8). Each order is an ``add_order`` order without
``symbol``/``token``/``validate``/``deadline``, which are batch-level; `BatchAddOrder` shares
its fields and all per-order checks with `AddOrderParams`
through `OrderFieldsBase`.

The ``result`` is an **array** in request order. Rows may be ``{"error": "..."}`` for an order that
failed, and such an array may come back even with ``success: false`` (docs/protocol.md#ref-7-8,
#ref-11-8), so every `BatchAddOrderResult` field is optional and the error carries ``result``
too.
"""

from __future__ import annotations

from typing import Annotated, Literal, Self

from pydantic import ConfigDict, Field, field_validator, model_validator

from kraken_ws.models._base import OutboundModel

from ._common import REQ_ID_FIELD, ErrorFields, ResponseBase, ResultBase
from .add_order import OrderFieldsBase, _check_rfc3339

__all__ = [
    "MAX_BATCH_ORDERS",
    "MIN_BATCH_ORDERS",
    "BatchAddError",
    "BatchAddOrder",
    "BatchAddOrderResult",
    "BatchAddParams",
    "BatchAddRequest",
    "BatchAddResponse",
    "BatchAddResult",
    "BatchAddSuccess",
]

#: Fewest and most orders per batch.
MIN_BATCH_ORDERS = 2
MAX_BATCH_ORDERS = 15


class BatchAddOrder(OrderFieldsBase):
    """One order of a batch, checked like an ``add_order`` order.

    The ``add_order`` fields minus ``symbol``, ``token``, ``validate`` and ``deadline``.
    """


class BatchAddParams(OutboundModel):
    """Params of ``batch_add``.

    ``validate`` is ``validate_only`` in Python (it would shadow ``BaseModel.validate``); either
    name is accepted and it is always serialised as ``validate``.
    """

    model_config = ConfigDict(serialize_by_alias=True)

    symbol: str = Field(min_length=1)
    """Currency pair of every order in the batch."""
    orders: list[BatchAddOrder] = Field(min_length=MIN_BATCH_ORDERS, max_length=MAX_BATCH_ORDERS)
    """2 to 15 orders."""
    deadline: str | None = None
    """RFC3339 time with a timezone after which the engine must not match the orders."""
    validate_only: bool | None = Field(default=None, alias="validate")
    """``validate`` on the wire: check the batch without placing it."""
    token: str | None = None
    """WebSocket token (batch-level, not per order); the client fills it in."""

    @field_validator("deadline")
    @classmethod
    def _deadline_format(cls, value: str | None) -> str | None:
        return None if value is None else _check_rfc3339(value, "deadline")

    @model_validator(mode="after")
    def _unique_client_ids(self) -> Self:
        seen: set[str] = set()
        for order in self.orders:
            if order.cl_ord_id is not None:
                if order.cl_ord_id in seen:
                    raise ValueError(
                        f"cl_ord_id must be unique within the batch; {order.cl_ord_id!r} repeats"
                    )
                seen.add(order.cl_ord_id)
        return self


class BatchAddRequest(OutboundModel):
    """The ``batch_add`` request envelope."""

    method: Literal["batch_add"] = "batch_add"
    """Method name."""
    params: BatchAddParams
    """The batch."""
    req_id: int | None = REQ_ID_FIELD
    """Client request id, echoed in the response."""


class BatchAddOrderResult(ResultBase):
    """One row of the ``batch_add`` result, in request order."""

    order_id: str | None = None
    """Kraken id of the new order (absent on a failed row)."""
    cl_ord_id: str | None = None
    """Echo of the order's ``cl_ord_id``."""
    order_userref: int | None = None
    """Echo of the order's ``order_userref``."""
    error: str | None = None
    """Why this order failed (observed by other SDKs, not in the docs)."""


BatchAddResult = list[BatchAddOrderResult]
"""``result`` of ``batch_add``: one row per order, in request order."""


class BatchAddSuccess(ResponseBase):
    """The batch was accepted; inspect each row, single orders may still have failed."""

    method: Literal["batch_add"]
    """Method name."""
    success: Literal[True]
    """Always ``true``."""
    result: BatchAddResult
    """One row per order."""


class BatchAddError(ErrorFields):
    """A rejected batch."""

    method: Literal["batch_add"]
    """Method name."""
    success: Literal[False]
    """Always ``false``."""
    result: list[BatchAddOrderResult] | None = None
    """Per-order rows, when Kraken sends them with the failure."""


BatchAddResponse = Annotated[BatchAddSuccess | BatchAddError, Field(discriminator="success")]
"""Response to ``batch_add``: success or error."""
