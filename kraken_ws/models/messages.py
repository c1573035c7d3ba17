"""The two big unions: everything the server sends, everything the client sends.

A server frame is routed by its tags (`message_tag`): ``channel`` + ``type`` for channel
frames, ``method`` + ``success`` for method responses; `message_model_for` names the model to
validate it with. A frame with unknown tags is an `UnknownMessage` that keeps the decoded
object. ``ClientRequest`` is discriminated on ``method``.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, SkipValidation

from .channels.balances import BalancesSnapshot, BalancesUpdate
from .channels.book import BookSnapshot, BookUpdate
from .channels.executions import ExecutionsSnapshot, ExecutionsUpdate
from .channels.heartbeat import Heartbeat
from .channels.instrument import InstrumentSnapshot, InstrumentUpdate
from .channels.level3 import Level3Snapshot, Level3Update
from .channels.ohlc import OhlcSnapshot, OhlcUpdate
from .channels.status import StatusUpdate
from .channels.ticker import TickerSnapshot, TickerUpdate
from .channels.trade import TradeSnapshot, TradeUpdate
from .methods._common import ErrorFields
from .methods.add_order import AddOrderError, AddOrderRequest, AddOrderResponse, AddOrderSuccess
from .methods.amend_order import (
    AmendOrderError,
    AmendOrderRequest,
    AmendOrderResponse,
    AmendOrderSuccess,
)
from .methods.batch_add import BatchAddError, BatchAddRequest, BatchAddResponse, BatchAddSuccess
from .methods.batch_cancel import (
    BatchCancelError,
    BatchCancelRequest,
    BatchCancelResponse,
    BatchCancelSuccess,
)
from .methods.cancel_after import (
    CancelAllOrdersAfterError,
    CancelAllOrdersAfterRequest,
    CancelAllOrdersAfterResponse,
    CancelAllOrdersAfterSuccess,
)
from .methods.cancel_all import (
    CancelAllError,
    CancelAllRequest,
    CancelAllResponse,
    CancelAllSuccess,
)
from .methods.cancel_order import (
    CancelOrderError,
    CancelOrderRequest,
    CancelOrderResponse,
    CancelOrderSuccess,
)
from .methods.edit_order import (
    EditOrderError,
    EditOrderRequest,
    EditOrderResponse,
    EditOrderSuccess,
)
from .methods.ping import PingError, PingRequest, Pong
from .methods.subscribe import SubscribeError, SubscribeRequest, SubscribeResponse, SubscribeSuccess
from .methods.unsubscribe import (
    UnsubscribeError,
    UnsubscribeRequest,
    UnsubscribeResponse,
    UnsubscribeSuccess,
)

__all__ = [
    "ChannelFrame",
    "ClientRequest",
    "GenericErrorResponse",
    "ResponseFrame",
    "ServerMessage",
    "UnknownMessage",
    "message_model_for",
    "message_tag",
    "method_models",
    "server_models",
]


class UnknownMessage(BaseModel):
    """A frame that no model describes, kept whole so a new Kraken message never crashes a client.

    ``decode(..., strict=True)`` raises `DecodeError` instead.

    Attributes:
        kind (Literal["unknown"], optional): Always ``"unknown"``.
        raw (Annotated[Any, SkipValidation]): The decoded JSON value (numbers as
            ``Decimal``/``int``).
        error (str | None, optional): Why the frame did not validate, when its tags named a known
            model.
    """

    model_config = ConfigDict(frozen=True, use_attribute_docstrings=True)

    kind: Literal["unknown"] = "unknown"
    """Always ``"unknown"``."""
    raw: Annotated[Any, SkipValidation]
    """The decoded JSON value (numbers as ``Decimal``/``int``)."""
    error: str | None = None
    """Why the frame did not validate, when its tags named a known model."""


class GenericErrorResponse(ErrorFields):
    """An error the server could not attribute to a method (``"method":"error"``).

    Seen answering malformed JSON.

    Attributes:
        req_id (int | None, optional): Echo of the request's ``req_id``; absent when none was sent.
        time_in (Timestamp | None, optional): When the server received the request.
        time_out (Timestamp | None, optional): When the server sent the response.
        error (str): Kraken's error string, e.g. ``"EOrder:Insufficient funds"``.
        symbol (str | None, optional): Symbol echoed by some subscription errors (undocumented,
            observed).
        status (str | None, optional): ``"error"`` on some captured responses (undocumented).
        method (str): Usually ``"error"``.
        success (Literal[False]): Always ``false``.
    """

    method: str
    """Usually ``"error"``."""
    success: Literal[False]
    """Always ``false``."""


# (tag, model) for every server frame. The tag is "<channel>.<type>" or "<method>.<success>".
_SERVER_MODELS: dict[str, type[BaseModel]] = {
    "status.update": StatusUpdate,
    "heartbeat": Heartbeat,
    "ticker.snapshot": TickerSnapshot,
    "ticker.update": TickerUpdate,
    "book.snapshot": BookSnapshot,
    "book.update": BookUpdate,
    "level3.snapshot": Level3Snapshot,
    "level3.update": Level3Update,
    "ohlc.snapshot": OhlcSnapshot,
    "ohlc.update": OhlcUpdate,
    "trade.snapshot": TradeSnapshot,
    "trade.update": TradeUpdate,
    "instrument.snapshot": InstrumentSnapshot,
    "instrument.update": InstrumentUpdate,
    "executions.snapshot": ExecutionsSnapshot,
    "executions.update": ExecutionsUpdate,
    "balances.snapshot": BalancesSnapshot,
    "balances.update": BalancesUpdate,
    "pong": Pong,
    "ping.false": PingError,
    "subscribe.true": SubscribeSuccess,
    "subscribe.false": SubscribeError,
    "unsubscribe.true": UnsubscribeSuccess,
    "unsubscribe.false": UnsubscribeError,
    "add_order.true": AddOrderSuccess,
    "add_order.false": AddOrderError,
    "amend_order.true": AmendOrderSuccess,
    "amend_order.false": AmendOrderError,
    "edit_order.true": EditOrderSuccess,
    "edit_order.false": EditOrderError,
    "cancel_order.true": CancelOrderSuccess,
    "cancel_order.false": CancelOrderError,
    "cancel_all.true": CancelAllSuccess,
    "cancel_all.false": CancelAllError,
    "cancel_all_orders_after.true": CancelAllOrdersAfterSuccess,
    "cancel_all_orders_after.false": CancelAllOrdersAfterError,
    "batch_add.true": BatchAddSuccess,
    "batch_add.false": BatchAddError,
    "batch_cancel.true": BatchCancelSuccess,
    "batch_cancel.false": BatchCancelError,
    "error.false": GenericErrorResponse,
}


def message_tag(obj: Any) -> str:
    """The union tag of a decoded frame (``"book.update"``, ``"add_order.true"``, ``"unknown"``)."""
    if isinstance(obj, BaseModel):
        if isinstance(obj, UnknownMessage):
            return "unknown"
        obj = {
            "channel": getattr(obj, "channel", None),
            "type": getattr(obj, "type", None),
            "method": getattr(obj, "method", None),
            "success": getattr(obj, "success", None),
        }
    if not isinstance(obj, dict):
        return "unknown"
    channel = obj.get("channel")
    if isinstance(channel, str):
        if channel == "heartbeat":
            return "heartbeat"
        kind = obj.get("type")
        tag = f"{channel}.{kind}"
        return tag if tag in _SERVER_MODELS else "unknown"
    method = obj.get("method")
    if isinstance(method, str):
        if method == "pong":
            return "pong"
        success = obj.get("success")
        if success is True:
            tag = f"{method}.true"
        elif success is False:
            tag = f"{method}.false"
        else:
            return "unknown"
        if tag in _SERVER_MODELS:
            return tag
        # Kraken answers a request it cannot parse with its own method name or "error".
        return "error.false" if success is False else "unknown"
    return "unknown"


def server_models() -> dict[str, type[BaseModel]]:
    """Every server frame model by union tag (a copy)."""
    return dict(_SERVER_MODELS)


def method_models() -> dict[str, tuple[type[BaseModel], Any]]:
    """``{method: (request model, response union type)}`` for every method."""
    return {
        "subscribe": (SubscribeRequest, SubscribeResponse),
        "unsubscribe": (UnsubscribeRequest, UnsubscribeResponse),
        "ping": (PingRequest, Pong | PingError),
        "add_order": (AddOrderRequest, AddOrderResponse),
        "amend_order": (AmendOrderRequest, AmendOrderResponse),
        "edit_order": (EditOrderRequest, EditOrderResponse),
        "cancel_order": (CancelOrderRequest, CancelOrderResponse),
        "cancel_all": (CancelAllRequest, CancelAllResponse),
        "cancel_all_orders_after": (CancelAllOrdersAfterRequest, CancelAllOrdersAfterResponse),
        "batch_add": (BatchAddRequest, BatchAddResponse),
        "batch_cancel": (BatchCancelRequest, BatchCancelResponse),
    }


def message_model_for(obj: Any) -> type[BaseModel] | None:
    """The model class a decoded frame should validate into, or ``None`` if no model fits."""
    return _SERVER_MODELS.get(message_tag(obj))


ChannelFrame = (
    StatusUpdate
    | Heartbeat
    | TickerSnapshot
    | TickerUpdate
    | BookSnapshot
    | BookUpdate
    | Level3Snapshot
    | Level3Update
    | OhlcSnapshot
    | OhlcUpdate
    | TradeSnapshot
    | TradeUpdate
    | InstrumentSnapshot
    | InstrumentUpdate
    | ExecutionsSnapshot
    | ExecutionsUpdate
    | BalancesSnapshot
    | BalancesUpdate
    | UnknownMessage
)
"""Every channel frame the client yields (``UnknownMessage`` for frames no model describes)."""

ResponseFrame = (
    Pong
    | PingError
    | SubscribeSuccess
    | SubscribeError
    | UnsubscribeSuccess
    | UnsubscribeError
    | AddOrderSuccess
    | AddOrderError
    | AmendOrderSuccess
    | AmendOrderError
    | EditOrderSuccess
    | EditOrderError
    | CancelOrderSuccess
    | CancelOrderError
    | CancelAllSuccess
    | CancelAllError
    | CancelAllOrdersAfterSuccess
    | CancelAllOrdersAfterError
    | BatchAddSuccess
    | BatchAddError
    | BatchCancelSuccess
    | BatchCancelError
    | GenericErrorResponse
)
"""Every method response (success or error)."""

ServerMessage = ChannelFrame | ResponseFrame
"""Everything `kraken_ws.decode` returns: use ``match``/``isinstance`` to narrow."""

ClientRequest = Annotated[
    SubscribeRequest
    | UnsubscribeRequest
    | PingRequest
    | AddOrderRequest
    | AmendOrderRequest
    | EditOrderRequest
    | CancelOrderRequest
    | CancelAllRequest
    | CancelAllOrdersAfterRequest
    | BatchAddRequest
    | BatchCancelRequest,
    Field(discriminator="method"),
]
"""Every request the client may send, discriminated on ``method``."""
