"""Reading a decoded frame's envelope: is it a channel frame, which request does it answer.

Kept apart from `.connection` (which decides what to do with a frame) because the client
and `kraken_ws.reconcile` read envelopes too.
"""

from __future__ import annotations

from pydantic import BaseModel

from ..models.channels.balances import BalancesSnapshot, BalancesUpdate
from ..models.channels.book import BookSnapshot, BookUpdate
from ..models.channels.executions import ExecutionsSnapshot, ExecutionsUpdate
from ..models.channels.level3 import Level3Snapshot, Level3Update
from ..models.messages import UnknownMessage

__all__ = ["BOOK_TYPES", "SEQUENCED_TYPES", "is_channel_frame", "response_fields"]

_CHANNEL_FRAME_TYPES: dict[type[BaseModel], bool] = {}

# Frames that carry a per-subscription ``sequence`` (Kraken documents it for these two channels
# only). Assumed to grow by exactly one per frame on a connection, as every documented example
# does (8, 9, 10 for executions; 1, 2 for balances); the baseline is the first frame after each
# subscribe ack, so a numbering that restarts with a new subscription is not a gap. Unverified
# against Kraken beyond those examples.
SEQUENCED_TYPES: frozenset[type[BaseModel]] = frozenset(
    {ExecutionsSnapshot, ExecutionsUpdate, BalancesSnapshot, BalancesUpdate}
)
# Book frames are only accepted for symbols this connection subscribed (or is unsubscribing): a
# frame for any other symbol would feed a book nobody asked for, so it is reported and dropped.
BOOK_TYPES: frozenset[type[BaseModel]] = frozenset(
    {BookSnapshot, BookUpdate, Level3Snapshot, Level3Update}
)


def is_channel_frame(cls: type[BaseModel]) -> bool:
    """Whether a typed model is a channel frame (it has ``channel`` and no ``method`` field).

    Cached per class: ``response_fields``' ``getattr`` probing costs pydantic's slow
    ``__getattr__`` path on every missing attribute, about 20 µs per frame.
    """
    known = _CHANNEL_FRAME_TYPES.get(cls)
    if known is None:
        fields = cls.__pydantic_fields__
        known = _CHANNEL_FRAME_TYPES[cls] = (
            cls is not UnknownMessage and "channel" in fields and "method" not in fields
        )
    return known


def response_fields(
    message: BaseModel,
) -> tuple[str | None, int | None, bool | None, str | None, str | None]:
    """Read the envelope of a method response, typed or unknown.

    Args:
        message: A decoded frame.

    Returns:
        ``(method, req_id, success, error, symbol)``; ``method`` is ``None`` for channel frames.
        ``symbol`` comes from ``result.symbol`` (acks) or the top-level ``symbol`` (errors).
    """
    if isinstance(message, UnknownMessage):
        raw = message.raw if isinstance(message.raw, dict) else {}
        method = raw.get("method")
        req_id = raw.get("req_id")
        success = raw.get("success")
        error = raw.get("error")
        result = raw.get("result")
        symbol = raw.get("symbol")
        if symbol is None and isinstance(result, dict):
            symbol = result.get("symbol")
    else:
        method = getattr(message, "method", None)
        req_id = getattr(message, "req_id", None)
        success = getattr(message, "success", None)
        error = getattr(message, "error", None)
        symbol = getattr(message, "symbol", None)
        if symbol is None:
            result = getattr(message, "result", None)
            if isinstance(result, dict):
                symbol = result.get("symbol")
            else:
                symbol = getattr(result, "symbol", None)
    if method == "pong" and success is None:
        success = error is None
    return (
        method if isinstance(method, str) else None,
        req_id if isinstance(req_id, int) and not isinstance(req_id, bool) else None,
        success if isinstance(success, bool) else None,
        error if isinstance(error, str) else None,
        symbol if isinstance(symbol, str) else None,
    )
