"""``cancel_all_orders_after``: dead man's switch (https://docs.kraken.com/api/docs/websocket-v2/cancel_after).

Each call sets or extends a countdown; when it runs out every order of the account is cancelled
and the switch is disarmed until the next call. ``timeout=0`` disarms it. Call every 15-30 s with
a timeout around 60, and disarm it before scheduled maintenance ([Protocol notes §7.7][ref-7-7]).

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
    """Params of ``cancel_all_orders_after``.

    Attributes:
        timeout (int): Countdown in whole seconds, ``0 <= timeout < 86400``; ``0`` disarms the
            switch.
        token (str | None, optional): WebSocket token; the client fills it in.
    """

    timeout: int = Field(strict=True, ge=0, lt=MAX_TIMEOUT_SECONDS)
    """Countdown in whole seconds, ``0 <= timeout < 86400``; ``0`` disarms the switch."""
    token: str | None = None
    """WebSocket token; the client fills it in."""


class CancelAllOrdersAfterRequest(OutboundModel):
    """The ``cancel_all_orders_after`` request envelope.

    Attributes:
        method (Literal["cancel_all_orders_after"], optional): Method name.
        params (CancelAllOrdersAfterParams): The timeout. Its fields (described in
            `CancelAllOrdersAfterParams`): ``timeout``, ``token``.
        req_id (int | None, optional): Client request id, echoed in the response.
    """

    method: Literal["cancel_all_orders_after"] = "cancel_all_orders_after"
    """Method name."""
    params: CancelAllOrdersAfterParams
    """The timeout."""
    req_id: int | None = REQ_ID_FIELD
    """Client request id, echoed in the response."""


class CancelAllOrdersAfterResult(ResultBase):
    """``result`` of a successful ``cancel_all_orders_after`` (camelCase on the wire).

    Attributes:
        warnings (list[str] | None, optional): Advisories such as deprecation notices.
        currentTime (Timestamp): Engine time when the request was handled (RFC3339).
        triggerTime (Timestamp | None, optional): When the orders will be cancelled (RFC3339);
            absent or ``"0"`` when disarmed.
    """

    currentTime: Timestamp
    """Engine time when the request was handled (RFC3339)."""
    triggerTime: Timestamp | None = None
    """When the orders will be cancelled (RFC3339); absent or ``"0"`` when disarmed."""


class CancelAllOrdersAfterSuccess(ResponseBase):
    """The switch was armed, extended or disarmed.

    Attributes:
        req_id (int | None, optional): Echo of the request's ``req_id``; absent when none was sent.
        time_in (Timestamp | None, optional): When the server received the request.
        time_out (Timestamp | None, optional): When the server sent the response.
        method (Literal["cancel_all_orders_after"]): Method name.
        success (Literal[True]): Always ``true``.
        result (CancelAllOrdersAfterResult): Current and trigger time.
    """

    method: Literal["cancel_all_orders_after"]
    """Method name."""
    success: Literal[True]
    """Always ``true``."""
    result: CancelAllOrdersAfterResult
    """Current and trigger time."""


class CancelAllOrdersAfterError(ErrorFields):
    """A failed ``cancel_all_orders_after``.

    Attributes:
        req_id (int | None, optional): Echo of the request's ``req_id``; absent when none was sent.
        time_in (Timestamp | None, optional): When the server received the request.
        time_out (Timestamp | None, optional): When the server sent the response.
        error (str): Kraken's error string, e.g. ``"EOrder:Insufficient funds"``.
        symbol (str | None, optional): Symbol echoed by some subscription errors (undocumented,
            observed).
        status (str | None, optional): ``"error"`` on some captured responses (undocumented).
        method (Literal["cancel_all_orders_after"]): Method name.
        success (Literal[False]): Always ``false``.
    """

    method: Literal["cancel_all_orders_after"]
    """Method name."""
    success: Literal[False]
    """Always ``false``."""


CancelAllOrdersAfterResponse = Annotated[
    CancelAllOrdersAfterSuccess | CancelAllOrdersAfterError, Field(discriminator="success")
]
"""Response to ``cancel_all_orders_after``: success or error."""
