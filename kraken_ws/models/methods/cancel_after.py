"""``cancel_all_orders_after``: dead man's switch (https://docs.kraken.com/api/docs/websocket-v2/cancel_after).

Each call sets or extends a countdown; when it runs out every order of the account is cancelled
and the switch is disarmed until the next call. ``timeout=0`` disarms it. Call every 15-30 s with
a timeout around 60, and disarm it before scheduled maintenance (docs/protocol.md#ref-7-7).

The result fields are camelCase on the wire (``currentTime``, ``triggerTime``) and keep those
names here.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field

from kraken_ws.models._base import OutboundModel, Timestamp

from ._common import REQ_ID_FIELD, ErrorFields, ResponseBase, ResultBase

__all__ = [
    "MAX_TIMEOUT_SECONDS",
    "CancelAllOrdersAfterError",
    "CancelAllOrdersAfterParams",
    "CancelAllOrdersAfterRequest",
    "CancelAllOrdersAfterResponse",
    "CancelAllOrdersAfterResult",
    "CancelAllOrdersAfterSuccess",
]

#: Upper bound (exclusive) of ``timeout``: one day.
MAX_TIMEOUT_SECONDS = 86400


class CancelAllOrdersAfterParams(OutboundModel):
    """Params of ``cancel_all_orders_after``."""

    timeout: int = Field(strict=True, ge=0, lt=MAX_TIMEOUT_SECONDS)
    """Countdown in whole seconds, ``0 <= timeout < 86400``; ``0`` disarms the switch."""
    token: str | None = None
    """WebSocket token; the client fills it in."""


class CancelAllOrdersAfterRequest(OutboundModel):
    """The ``cancel_all_orders_after`` request envelope."""

    method: Literal["cancel_all_orders_after"] = "cancel_all_orders_after"
    """Method name."""
    params: CancelAllOrdersAfterParams
    """The timeout."""
    req_id: int | None = REQ_ID_FIELD
    """Client request id, echoed in the response."""


class CancelAllOrdersAfterResult(ResultBase):
    """``result`` of a successful ``cancel_all_orders_after`` (camelCase on the wire)."""

    currentTime: Timestamp
    """Engine time when the request was handled (RFC3339)."""
    triggerTime: Timestamp | None = None
    """When the orders will be cancelled (RFC3339); absent or ``"0"`` when disarmed."""


class CancelAllOrdersAfterSuccess(ResponseBase):
    """The switch was armed, extended or disarmed."""

    method: Literal["cancel_all_orders_after"]
    """Method name."""
    success: Literal[True]
    """Always ``true``."""
    result: CancelAllOrdersAfterResult
    """Current and trigger time."""


class CancelAllOrdersAfterError(ErrorFields):
    """A failed ``cancel_all_orders_after``."""

    method: Literal["cancel_all_orders_after"]
    """Method name."""
    success: Literal[False]
    """Always ``false``."""


CancelAllOrdersAfterResponse = Annotated[
    CancelAllOrdersAfterSuccess | CancelAllOrdersAfterError, Field(discriminator="success")
]
"""Response to ``cancel_all_orders_after``: success or error."""
