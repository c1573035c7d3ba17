"""``subscribe``: start a channel (https://docs.kraken.com/api/docs/websocket-v2/ticker).

Each channel page documents its own ``subscribe`` params.

``params`` is a union discriminated on ``channel``; each channel module defines its own params.
Kraken answers **one ack per symbol** (``result.symbol`` is a single string), all with the
request's ``req_id`` ([Protocol notes §4.1][ref-4-1], [§2.2][ref-2-2]). A rejection may lack
``result`` and carry a top-level ``symbol`` instead; correlate by ``req_id``.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import Field

from kraken_ws.models._base import OutboundModel
from kraken_ws.models.channels.balances import BalancesSubscribeParams, BalancesSubscribeResult
from kraken_ws.models.channels.book import BookSubscribeParams, BookSubscribeResult
from kraken_ws.models.channels.executions import (
    ExecutionsSubscribeParams,
    ExecutionsSubscribeResult,
)
from kraken_ws.models.channels.instrument import (
    InstrumentSubscribeParams,
    InstrumentSubscribeResult,
)
from kraken_ws.models.channels.level3 import Level3SubscribeParams, Level3SubscribeResult
from kraken_ws.models.channels.ohlc import OhlcSubscribeParams, OhlcSubscribeResult
from kraken_ws.models.channels.ticker import TickerSubscribeParams, TickerSubscribeResult
from kraken_ws.models.channels.trade import TradeSubscribeParams, TradeSubscribeResult

from ._common import REQ_ID_FIELD, ErrorFields, ResponseBase

__all__ = [
    "SubscribeError",
    "SubscribeParams",
    "SubscribeRequest",
    "SubscribeResponse",
    "SubscribeResult",
    "SubscribeSuccess",
]

SubscribeParams = Annotated[
    TickerSubscribeParams
    | BookSubscribeParams
    | Level3SubscribeParams
    | OhlcSubscribeParams
    | TradeSubscribeParams
    | InstrumentSubscribeParams
    | ExecutionsSubscribeParams
    | BalancesSubscribeParams,
    Field(discriminator="channel"),
]
"""``subscribe`` params of any channel, chosen by ``channel``."""

SubscribeResult = Annotated[
    TickerSubscribeResult
    | BookSubscribeResult
    | Level3SubscribeResult
    | OhlcSubscribeResult
    | TradeSubscribeResult
    | InstrumentSubscribeResult
    | ExecutionsSubscribeResult
    | BalancesSubscribeResult,
    Field(discriminator="channel"),
]
"""``result`` of a subscribe (or unsubscribe) ack, chosen by ``channel``."""


class SubscribeRequest(OutboundModel):
    """The ``subscribe`` request envelope.

    Attributes:
        method (Literal["subscribe"], optional): Method name.
        params (SubscribeParams): Channel and its options.
        req_id (int | None, optional): Client request id, echoed in every ack.
    """

    method: Literal["subscribe"] = "subscribe"
    """Method name."""
    params: SubscribeParams
    """Channel and its options."""
    req_id: int | None = REQ_ID_FIELD
    """Client request id, echoed in every ack."""


class SubscribeSuccess(ResponseBase):
    """A subscription ack (one per symbol).

    Attributes:
        req_id (int | None, optional): Echo of the request's ``req_id``; absent when none was sent.
        time_in (Timestamp | None, optional): When the server received the request.
        time_out (Timestamp | None, optional): When the server sent the response.
        method (Literal["subscribe"]): Method name.
        success (Literal[True]): Always ``true``.
        result (SubscribeResult): What was subscribed.
    """

    method: Literal["subscribe"]
    """Method name."""
    success: Literal[True]
    """Always ``true``."""
    result: SubscribeResult
    """What was subscribed."""


class SubscribeError(ErrorFields):
    """A rejected subscription, e.g. ``Already subscribed``, ``Currency pair not supported``.

    Attributes:
        req_id (int | None, optional): Echo of the request's ``req_id``; absent when none was sent.
        time_in (Timestamp | None, optional): When the server received the request.
        time_out (Timestamp | None, optional): When the server sent the response.
        error (str): Kraken's error string, e.g. ``"EOrder:Insufficient funds"``.
        symbol (str | None, optional): Symbol echoed by some subscription errors (undocumented,
            observed).
        status (str | None, optional): ``"error"`` on some captured responses (undocumented).
        method (Literal["subscribe"]): Method name.
        success (Literal[False]): Always ``false``.
        result (SubscribeResult | dict[str, Any] | None, optional): Usually absent; kept as a plain
            dict if it names a channel this SDK does not know.
    """

    method: Literal["subscribe"]
    """Method name."""
    success: Literal[False]
    """Always ``false``."""
    result: SubscribeResult | dict[str, Any] | None = None
    """Usually absent; kept as a plain dict if it names a channel this SDK does not know."""


SubscribeResponse = Annotated[SubscribeSuccess | SubscribeError, Field(discriminator="success")]
"""Response to ``subscribe``: success or error (one per symbol)."""
