"""``cancel_all``: cancel every open order (https://docs.kraken.com/api/docs/websocket-v2/cancel_all).

Includes untriggered stop/take-profit orders ([Protocol notes §7.6][ref-7-6]).
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field

from kraken_ws.models._base import OutboundModel

from ._common import REQ_ID_FIELD, ErrorFields, ResponseBase, ResultBase

__all__ = [
    "CancelAllError",
    "CancelAllParams",
    "CancelAllRequest",
    "CancelAllResponse",
    "CancelAllResult",
    "CancelAllSuccess",
]


class CancelAllParams(OutboundModel):
    """Params of ``cancel_all``: only the token.

    Attributes:
        token (str | None, optional): WebSocket token; the client fills it in.
    """

    token: str | None = None
    """WebSocket token; the client fills it in."""


class CancelAllRequest(OutboundModel):
    """The ``cancel_all`` request envelope.

    Attributes:
        method (Literal["cancel_all"], optional): Method name.
        params (CancelAllParams, optional): Holds the token. Its fields (described in
            `CancelAllParams`): ``token``.
        req_id (int | None, optional): Client request id, echoed in the response.
    """

    method: Literal["cancel_all"] = "cancel_all"
    """Method name."""
    params: CancelAllParams = Field(default_factory=CancelAllParams)
    """Holds the token."""
    req_id: int | None = REQ_ID_FIELD
    """Client request id, echoed in the response."""


class CancelAllResult(ResultBase):
    """``result`` of a successful ``cancel_all``.

    Attributes:
        warnings (list[str] | None, optional): Advisories such as deprecation notices.
        count (int): Number of orders cancelled.
    """

    count: int
    """Number of orders cancelled."""


class CancelAllSuccess(ResponseBase):
    """Orders cancelled.

    Attributes:
        req_id (int | None, optional): Echo of the request's ``req_id``; absent when none was sent.
        time_in (Timestamp | None, optional): When the server received the request.
        time_out (Timestamp | None, optional): When the server sent the response.
        method (Literal["cancel_all"]): Method name.
        success (Literal[True]): Always ``true``.
        result (CancelAllResult): How many.
    """

    method: Literal["cancel_all"]
    """Method name."""
    success: Literal[True]
    """Always ``true``."""
    result: CancelAllResult
    """How many."""


class CancelAllError(ErrorFields):
    """A failed ``cancel_all``.

    Attributes:
        req_id (int | None, optional): Echo of the request's ``req_id``; absent when none was sent.
        time_in (Timestamp | None, optional): When the server received the request.
        time_out (Timestamp | None, optional): When the server sent the response.
        error (str): Kraken's error string, e.g. ``"EOrder:Insufficient funds"``.
        symbol (str | None, optional): Symbol echoed by some subscription errors (undocumented,
            observed).
        status (str | None, optional): ``"error"`` on some captured responses (undocumented).
        method (Literal["cancel_all"]): Method name.
        success (Literal[False]): Always ``false``.
    """

    method: Literal["cancel_all"]
    """Method name."""
    success: Literal[False]
    """Always ``false``."""


CancelAllResponse = Annotated[CancelAllSuccess | CancelAllError, Field(discriminator="success")]
"""Response to ``cancel_all``: success or error."""
