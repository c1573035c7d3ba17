"""``batch_add``: place 2-15 orders on one symbol (https://docs.kraken.com/api/docs/websocket-v2/batch_add).

The whole batch is validated first (one invalid order rejects all of them); at submission single
orders may still fail pre-match checks (e.g. funding) while the others go ahead
([Protocol notes §7.8][ref-7-8]). Each order is an ``add_order`` order without
``symbol``/``token``/``validate``/``deadline``, which are batch-level; `BatchAddOrder` shares
its fields and all per-order checks with `AddOrderParams`
through `OrderFieldsBase`.

The ``result`` is an **array** in request order. How a failed order shows in it is not in
Kraken's docs ([Protocol notes §11.8][ref-11-8]); the shapes accepted are the ones other SDKs
handle, and nothing beyond them:

* a row ``{"error": "..."}`` (Kraken's SDK, Kraken.Net), possibly echoing ``cl_ord_id`` /
  ``order_userref`` and carrying ``"success": false`` (nautilus_trader);
* such rows even in a response with ``success: false`` (so `BatchAddError` carries
  ``result`` too);
* the rows nested as ``result: {"orders": [...]}`` (nautilus_trader's fixture,
  `BatchAddOrderList`).

`BatchAddSuccess.rows` / `BatchAddError.rows` give the rows whatever the shape, and
``placed`` / ``failed`` split them; `BatchAddOrderResult.failed` is the one rule for a row.
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
    "BatchAddOrderList",
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


class BatchAddParams(OutboundModel):
    """Params of ``batch_add``.

    ``validate`` is ``validate_only`` in Python (it would shadow ``BaseModel.validate``); either
    name is accepted and it is always serialised as ``validate``.

    Attributes:
        symbol (str): Currency pair of every order in the batch.
        orders (list[BatchAddOrder]): 2 to 15 orders.
        deadline (str | None, optional): RFC3339 time with a timezone after which the engine must
            not match the orders.
        validate_only (bool | None, optional): ``validate`` on the wire: check the batch without
            placing it. Wire name ``validate``.
        token (str | None, optional): WebSocket token (batch-level, not per order); the client fills
            it in.
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
    """The ``batch_add`` request envelope.

    Attributes:
        method (Literal["batch_add"], optional): Method name.
        params (BatchAddParams): The batch. Its fields (described in `BatchAddParams`): ``symbol``,
            ``orders``, ``deadline``, ``validate_only``, ``token``.
        req_id (int | None, optional): Client request id, echoed in the response.
    """

    method: Literal["batch_add"] = "batch_add"
    """Method name."""
    params: BatchAddParams
    """The batch."""
    req_id: int | None = REQ_ID_FIELD
    """Client request id, echoed in the response."""


class BatchAddOrderResult(ResultBase):
    """One row of the ``batch_add`` result, in request order: a placed order or a failed one.

    Attributes:
        warnings (list[str] | None, optional): Advisories such as deprecation notices.
        order_id (str | None, optional): Kraken id of the new order (absent on a failed row; ``""``
            when ``validate`` was set).
        cl_ord_id (str | None, optional): Echo of the order's ``cl_ord_id``.
        order_userref (int | None, optional): Echo of the order's ``order_userref``.
        error (str | None, optional): Why this order failed, e.g. ``"EOrder:Insufficient funds"`` (a
            shape other SDKs handle; not in Kraken's docs).
        success (bool | None, optional): Per-row outcome, on the rows of some SDKs' fixtures
            (nautilus_trader); not in Kraken's docs.
    """

    order_id: str | None = None
    """Kraken id of the new order (absent on a failed row; ``""`` when ``validate`` was set)."""
    cl_ord_id: str | None = None
    """Echo of the order's ``cl_ord_id``."""
    order_userref: int | None = None
    """Echo of the order's ``order_userref``."""
    error: str | None = None
    """Why this order failed, e.g. ``"EOrder:Insufficient funds"`` (a shape other SDKs handle;
    not in Kraken's docs)."""
    success: bool | None = None
    """Per-row outcome, on the rows of some SDKs' fixtures (nautilus_trader); not in Kraken's
    docs."""

    @property
    def failed(self) -> bool:
        """Whether this order was refused: the row carries an ``error`` or ``success: false``."""
        return self.error is not None or self.success is False

    @property
    def placed(self) -> bool:
        """Whether this order was placed: not `failed`, with a Kraken ``order_id``.

        A ``validate`` batch places nothing: its rows are neither placed nor failed.
        """
        return not self.failed and bool(self.order_id)


BatchAddResult = list[BatchAddOrderResult]
"""``result`` of ``batch_add``: one row per order, in request order."""


class BatchAddOrderList(ResultBase):
    """The rows nested under ``orders``: ``"result": {"orders": [...]}``.

    Only nautilus_trader's hand-written fixture has this shape; Kraken's docs and every capture
    send the array itself. Accepted so that such an answer is typed rather than unknown.

    Attributes:
        warnings (list[str] | None, optional): Advisories such as deprecation notices.
        orders (list[BatchAddOrderResult]): One row per order, in request order.
    """

    orders: list[BatchAddOrderResult]
    """One row per order, in request order."""


def _rows(result: BatchAddResult | BatchAddOrderList | None) -> list[BatchAddOrderResult]:
    if result is None:
        return []
    if isinstance(result, BatchAddOrderList):
        return list(result.orders)
    return list(result)


class BatchAddSuccess(ResponseBase):
    """The batch was accepted; single orders may still have failed: check `failed`.

    Attributes:
        req_id (int | None, optional): Echo of the request's ``req_id``; absent when none was sent.
        time_in (Timestamp | None, optional): When the server received the request.
        time_out (Timestamp | None, optional): When the server sent the response.
        method (Literal["batch_add"]): Method name.
        success (Literal[True]): Always ``true``.
        result (BatchAddResult | BatchAddOrderList): One row per order (an array; nested under
            ``orders`` in one SDK's fixture).
    """

    method: Literal["batch_add"]
    """Method name."""
    success: Literal[True]
    """Always ``true``."""
    result: BatchAddResult | BatchAddOrderList
    """One row per order (an array; nested under ``orders`` in one SDK's fixture)."""

    @property
    def rows(self) -> list[BatchAddOrderResult]:
        """Every row, in request order, whatever the shape of ``result``."""
        return _rows(self.result)

    @property
    def placed(self) -> list[BatchAddOrderResult]:
        """The rows of the orders that were placed."""
        return [row for row in self.rows if row.placed]

    @property
    def failed(self) -> list[BatchAddOrderResult]:
        """The rows of the orders that were refused (each with its ``error``)."""
        return [row for row in self.rows if row.failed]


class BatchAddError(ErrorFields):
    """A rejected batch; per-order rows may come with it, and some of them may be placed.

    Attributes:
        req_id (int | None, optional): Echo of the request's ``req_id``; absent when none was sent.
        time_in (Timestamp | None, optional): When the server received the request.
        time_out (Timestamp | None, optional): When the server sent the response.
        error (str): Kraken's error string, e.g. ``"EOrder:Insufficient funds"``.
        symbol (str | None, optional): Symbol echoed by some subscription errors (undocumented,
            observed).
        status (str | None, optional): ``"error"`` on some captured responses (undocumented).
        method (Literal["batch_add"]): Method name.
        success (Literal[False]): Always ``false``.
        result (BatchAddResult | BatchAddOrderList | None, optional): Per-order rows, when they come
            with the failure.
    """

    method: Literal["batch_add"]
    """Method name."""
    success: Literal[False]
    """Always ``false``."""
    result: BatchAddResult | BatchAddOrderList | None = None
    """Per-order rows, when they come with the failure."""

    @property
    def rows(self) -> list[BatchAddOrderResult]:
        """Every row, in request order (empty when the failure has none)."""
        return _rows(self.result)

    @property
    def placed(self) -> list[BatchAddOrderResult]:
        """The rows of the orders that were placed all the same."""
        return [row for row in self.rows if row.placed]

    @property
    def failed(self) -> list[BatchAddOrderResult]:
        """The rows of the orders that were refused."""
        return [row for row in self.rows if row.failed]


BatchAddResponse = Annotated[BatchAddSuccess | BatchAddError, Field(discriminator="success")]
"""Response to ``batch_add``: success or error."""
