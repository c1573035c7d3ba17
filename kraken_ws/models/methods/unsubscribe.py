"""``unsubscribe``: stop a channel (https://docs.kraken.com/api/docs/websocket-v2/ticker).

Each channel page documents its own ``unsubscribe`` params.

Unsubscribe must repeat the subscription key (``depth`` for book/level3, ``interval`` for ohlc,
``event_trigger`` for ticker); ``snapshot`` is subscribe-only ([Protocol notes §4.1][ref-4-1]).
Acks come one per symbol and reuse the channels' ``*SubscribeResult`` classes.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import Field

from kraken_ws.models._base import OutboundModel
from kraken_ws.models.channels.balances import BalancesUnsubscribeParams
from kraken_ws.models.channels.book import BookUnsubscribeParams
from kraken_ws.models.channels.executions import ExecutionsUnsubscribeParams
from kraken_ws.models.channels.instrument import InstrumentUnsubscribeParams
from kraken_ws.models.channels.level3 import Level3UnsubscribeParams
from kraken_ws.models.channels.ohlc import OhlcUnsubscribeParams
from kraken_ws.models.channels.ticker import TickerUnsubscribeParams
from kraken_ws.models.channels.trade import TradeUnsubscribeParams

from ._common import REQ_ID_FIELD, ErrorFields, ResponseBase
from .subscribe import SubscribeResult

__all__ = [
    "UnsubscribeError",
    "UnsubscribeParams",
    "UnsubscribeRequest",
    "UnsubscribeResponse",
    "UnsubscribeResult",
    "UnsubscribeSuccess",
]

UnsubscribeParams = Annotated[
    TickerUnsubscribeParams
    | BookUnsubscribeParams
    | Level3UnsubscribeParams
    | OhlcUnsubscribeParams
    | TradeUnsubscribeParams
    | InstrumentUnsubscribeParams
    | ExecutionsUnsubscribeParams
    | BalancesUnsubscribeParams,
    Field(discriminator="channel"),
]
"""``unsubscribe`` params of any channel, chosen by ``channel``."""

UnsubscribeResult = SubscribeResult
"""``result`` of an unsubscribe ack: the same shapes as a subscribe ack."""


class UnsubscribeRequest(OutboundModel):
    """The ``unsubscribe`` request envelope.

    Attributes:
        method (Literal["unsubscribe"], optional): Method name.
        params (UnsubscribeParams): Channel and the subscription key to drop.
        req_id (int | None, optional): Client request id, echoed in every ack.
    """

    method: Literal["unsubscribe"] = "unsubscribe"
    """Method name."""
    params: UnsubscribeParams
    """Channel and the subscription key to drop."""
    req_id: int | None = REQ_ID_FIELD
    """Client request id, echoed in every ack."""


class UnsubscribeSuccess(ResponseBase):
    """An unsubscription ack (one per symbol).

    Attributes:
        req_id (int | None, optional): Echo of the request's ``req_id``; absent when none was sent.
        time_in (Timestamp | None, optional): When the server received the request.
        time_out (Timestamp | None, optional): When the server sent the response.
        method (Literal["unsubscribe"]): Method name.
        success (Literal[True]): Always ``true``.
        result (UnsubscribeResult): What was unsubscribed.
    """

    method: Literal["unsubscribe"]
    """Method name."""
    success: Literal[True]
    """Always ``true``."""
    result: UnsubscribeResult
    """What was unsubscribed."""


class UnsubscribeError(ErrorFields):
    """A rejected unsubscription, e.g. ``Subscription Not Found``.

    Attributes:
        req_id (int | None, optional): Echo of the request's ``req_id``; absent when none was sent.
        time_in (Timestamp | None, optional): When the server received the request.
        time_out (Timestamp | None, optional): When the server sent the response.
        error (str): Kraken's error string, e.g. ``"EOrder:Insufficient funds"``.
        symbol (str | None, optional): Symbol echoed by some subscription errors (undocumented,
            observed).
        status (str | None, optional): ``"error"`` on some captured responses (undocumented).
        method (Literal["unsubscribe"]): Method name.
        success (Literal[False]): Always ``false``.
        result (UnsubscribeResult | dict[str, Any] | None, optional): Usually absent; kept as a
            plain dict if it names a channel this SDK does not know.
    """

    method: Literal["unsubscribe"]
    """Method name."""
    success: Literal[False]
    """Always ``false``."""
    result: UnsubscribeResult | dict[str, Any] | None = None
    """Usually absent; kept as a plain dict if it names a channel this SDK does not know."""


UnsubscribeResponse = Annotated[
    UnsubscribeSuccess | UnsubscribeError, Field(discriminator="success")
]
"""Response to ``unsubscribe``: success or error (one per symbol)."""
