"""``edit_order``: legacy cancel-and-replace (https://docs.kraken.com/api/docs/websocket-v2/edit_order).

Prefer ``amend_order``: an edit cancels the order and places a new one with a **new**
``order_id``, loses queue priority, keeps fills on the old order, and does not work on triggered
stop/take-profit orders or orders with a conditional close ([Protocol notes §7.4][ref-7-4]).

``cl_ord_id`` is not supported by ``edit_order``: it is not a field here, and passing it fails
with a message that points to ``order_id`` / ``amend_order``. Checked before sending: quantities
are positive, ``order_userref`` is an int32, ``deadline`` is RFC3339 with a timezone, and an
iceberg ``display_qty`` is at least 1/15 of ``order_qty`` when both are given (the shared
`_check_display_qty`). Rules that depend on the order
type cannot be checked: the order type is not part of an edit.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal, Self

from pydantic import ConfigDict, Field, field_validator, model_validator

from kraken_ws.models._base import OutboundModel, PositiveDecimal, WireDecimal
from kraken_ws.models.common import FeePreference, TriggerReference

from ._common import REQ_ID_FIELD, ErrorFields, ResponseBase, ResultBase
from .add_order import AddOrderTriggers, UserRef, _check_display_qty, _check_rfc3339

__all__ = [
    "EditOrderError",
    "EditOrderParams",
    "EditOrderRequest",
    "EditOrderResponse",
    "EditOrderResult",
    "EditOrderSuccess",
]


class EditOrderParams(OutboundModel):
    """Params of ``edit_order``.

    ``validate`` is ``validate_only`` in Python (it would shadow ``BaseModel.validate``); either
    name is accepted and it is always serialised as ``validate``.

    Attributes:
        order_id (str): Kraken id of the order to edit.
        symbol (str): The order's symbol (cannot change).
        order_qty (PositiveDecimal | None, optional): New quantity in the base asset; rejected if
            already-executed quantity exceeds it.
        limit_price (WireDecimal | None, optional): New limit price.
        display_qty (PositiveDecimal | None, optional): New visible quantity of an iceberg order (at
            least 1/15 of ``order_qty``).
        fee_preference (FeePreference | None, optional): Currency to pay fees in: ``base`` or
            ``quote``.
        order_userref (UserRef | None, optional): int32 tag to put on the new order (it does not
            identify the order being edited).
        post_only (bool | None, optional): Cancel rather than take liquidity.
        reduce_only (bool | None, optional): Only reduce an existing margin position.
        triggers (AddOrderTriggers | None, optional): New trigger (``reference``, ``price``,
            ``price_type``).
        deadline (str | None, optional): RFC3339 time with a timezone after which the engine must
            not apply the edit.
        validate_only (bool | None, optional): ``validate`` on the wire: check the edit without
            applying it. Wire name ``validate``.
        no_mpp (bool | None, optional): Deprecated, accepted but ignored by Kraken.
        price (WireDecimal | None, optional): Deprecated: use ``limit_price``.
        trigger (TriggerReference | None, optional): Deprecated: use ``triggers.reference``. One of
            ``"last"``, ``"index"``.
        stop_price (WireDecimal | None, optional): Deprecated: use ``triggers.price``.
        token (str | None, optional): WebSocket token; the client fills it in.
    """

    model_config = ConfigDict(serialize_by_alias=True)

    order_id: str = Field(min_length=1)
    """Kraken id of the order to edit."""
    symbol: str = Field(min_length=1)
    """The order's symbol (cannot change)."""
    order_qty: PositiveDecimal | None = None
    """New quantity in the base asset; rejected if already-executed quantity exceeds it."""
    limit_price: WireDecimal | None = None
    """New limit price."""
    display_qty: PositiveDecimal | None = None
    """New visible quantity of an iceberg order (at least 1/15 of ``order_qty``)."""
    fee_preference: FeePreference | None = None
    """Currency to pay fees in: ``base`` or ``quote``."""
    order_userref: UserRef | None = None
    """int32 tag to put on the new order (it does not identify the order being edited)."""
    post_only: bool | None = None
    """Cancel rather than take liquidity."""
    reduce_only: bool | None = None
    """Only reduce an existing margin position."""
    triggers: AddOrderTriggers | None = None
    """New trigger (``reference``, ``price``, ``price_type``)."""
    deadline: str | None = None
    """RFC3339 time with a timezone after which the engine must not apply the edit."""
    validate_only: bool | None = Field(default=None, alias="validate")
    """``validate`` on the wire: check the edit without applying it."""
    no_mpp: bool | None = None
    """Deprecated, accepted but ignored by Kraken."""
    price: WireDecimal | None = None
    """Deprecated: use ``limit_price``."""
    trigger: TriggerReference | None = None
    """Deprecated: use ``triggers.reference``."""
    stop_price: WireDecimal | None = None
    """Deprecated: use ``triggers.price``."""
    token: str | None = None
    """WebSocket token; the client fills it in."""

    @model_validator(mode="before")
    @classmethod
    def _no_cl_ord_id(cls, data: Any) -> Any:
        if isinstance(data, dict) and "cl_ord_id" in data:
            raise ValueError(
                "cl_ord_id is not supported by edit_order: identify the order by order_id, "
                "or use amend_order (which accepts cl_ord_id)"
            )
        return data

    @field_validator("deadline")
    @classmethod
    def _deadline_format(cls, value: str | None) -> str | None:
        return None if value is None else _check_rfc3339(value, "deadline")

    @model_validator(mode="after")
    def _check(self) -> Self:
        _check_display_qty(self.display_qty, self.order_qty)
        if self.price is not None and self.limit_price is not None:
            raise ValueError("price (deprecated) and limit_price are mutually exclusive")
        if self.stop_price is not None and self.triggers is not None:
            raise ValueError("stop_price (deprecated) and triggers are mutually exclusive")
        if self.trigger is not None and self.triggers is not None:
            raise ValueError("trigger (deprecated) and triggers are mutually exclusive")
        return self


class EditOrderRequest(OutboundModel):
    """The ``edit_order`` request envelope.

    Attributes:
        method (Literal["edit_order"], optional): Method name.
        params (EditOrderParams): What to edit. Its fields (described in `EditOrderParams`):
            ``order_id``, ``symbol``, ``order_qty``, ``limit_price``, ``display_qty``,
            ``fee_preference``, ``order_userref``, ``post_only``, ``reduce_only``, ``triggers``,
            ``deadline``, ``validate_only``, ``no_mpp``, ``price``, ``trigger``, ``stop_price``,
            ``token``.
        req_id (int | None, optional): Client request id, echoed in the response.
    """

    method: Literal["edit_order"] = "edit_order"
    """Method name."""
    params: EditOrderParams
    """What to edit."""
    req_id: int | None = REQ_ID_FIELD
    """Client request id, echoed in the response."""


class EditOrderResult(ResultBase):
    """``result`` of a successful ``edit_order``.

    Attributes:
        warnings (list[str] | None, optional): Advisories such as deprecation notices.
        order_id (str): Kraken id of the **new** order.
        original_order_id (str | None, optional): Kraken id of the cancelled original.
    """

    order_id: str
    """Kraken id of the **new** order."""
    original_order_id: str | None = None
    """Kraken id of the cancelled original."""


class EditOrderSuccess(ResponseBase):
    """An accepted ``edit_order``.

    Attributes:
        req_id (int | None, optional): Echo of the request's ``req_id``; absent when none was sent.
        time_in (Timestamp | None, optional): When the server received the request.
        time_out (Timestamp | None, optional): When the server sent the response.
        method (Literal["edit_order"]): Method name.
        success (Literal[True]): Always ``true``.
        result (EditOrderResult): New and original order ids.
    """

    method: Literal["edit_order"]
    """Method name."""
    success: Literal[True]
    """Always ``true``."""
    result: EditOrderResult
    """New and original order ids."""


class EditOrderError(ErrorFields):
    """A rejected ``edit_order``.

    Attributes:
        req_id (int | None, optional): Echo of the request's ``req_id``; absent when none was sent.
        time_in (Timestamp | None, optional): When the server received the request.
        time_out (Timestamp | None, optional): When the server sent the response.
        error (str): Kraken's error string, e.g. ``"EOrder:Insufficient funds"``.
        symbol (str | None, optional): Symbol echoed by some subscription errors (undocumented,
            observed).
        status (str | None, optional): ``"error"`` on some captured responses (undocumented).
        method (Literal["edit_order"]): Method name.
        success (Literal[False]): Always ``false``.
    """

    method: Literal["edit_order"]
    """Method name."""
    success: Literal[False]
    """Always ``false``."""


EditOrderResponse = Annotated[EditOrderSuccess | EditOrderError, Field(discriminator="success")]
"""Response to ``edit_order``: success or error."""
