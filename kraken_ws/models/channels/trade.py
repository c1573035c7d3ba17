"""The ``trade`` channel: public trades (https://docs.kraken.com/api/docs/websocket-v2/trade)."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field

from kraken_ws.models._base import InboundModel, OutboundModel, Timestamp, WireDecimal
from kraken_ws.models.common import Side

__all__ = [
    "TradeData",
    "TradeMessage",
    "TradeSnapshot",
    "TradeSubscribeParams",
    "TradeSubscribeResult",
    "TradeUnsubscribeParams",
    "TradeUpdate",
]


class TradeSubscribeParams(OutboundModel):
    """Params of ``subscribe`` for the ``trade`` channel.

    Attributes:
        channel (Literal["trade"], optional): Channel name.
        symbol (list[str]): Currency pairs, e.g. ``["BTC/USD"]``.
        snapshot (bool | None, optional): Send the 50 most recent trades first (default ``false``,
            unlike the other channels).
    """

    channel: Literal["trade"] = "trade"
    """Channel name."""
    symbol: list[str] = Field(min_length=1)
    """Currency pairs, e.g. ``["BTC/USD"]``."""
    snapshot: bool | None = None
    """Send the 50 most recent trades first (default ``false``, unlike the other channels)."""


class TradeUnsubscribeParams(OutboundModel):
    """Params of ``unsubscribe`` for the ``trade`` channel.

    Attributes:
        channel (Literal["trade"], optional): Channel name.
        symbol (list[str]): Currency pairs.
    """

    channel: Literal["trade"] = "trade"
    """Channel name."""
    symbol: list[str] = Field(min_length=1)
    """Currency pairs."""


class TradeSubscribeResult(InboundModel):
    """``result`` of a successful ``trade`` subscribe or unsubscribe ack (one per symbol).

    Attributes:
        channel (Literal["trade"]): Channel name.
        symbol (str): The symbol this ack is for.
        snapshot (bool | None, optional): Whether a snapshot follows.
        warnings (list[str] | None, optional): Deprecation advisories.
    """

    channel: Literal["trade"]
    """Channel name."""
    symbol: str
    """The symbol this ack is for."""
    snapshot: bool | None = None
    """Whether a snapshot follows."""
    warnings: list[str] | None = None
    """Deprecation advisories."""


class TradeData(InboundModel):
    """One trade.

    Attributes:
        symbol (str): Currency pair.
        side (Side): Side of the taker order. One of ``"buy"``, ``"sell"``.
        price (WireDecimal): Average price of the trade.
        qty (WireDecimal): Traded quantity, in base currency.
        ord_type (str): Type of the taker order: ``limit`` or ``market``.
        trade_id (int): Sequence number of the trade, unique per book.
        timestamp (Timestamp): Trade time.
    """

    symbol: str
    """Currency pair."""
    side: Side
    """Side of the taker order."""
    price: WireDecimal
    """Average price of the trade."""
    qty: WireDecimal
    """Traded quantity, in base currency."""
    ord_type: str
    """Type of the taker order: ``limit`` or ``market``."""
    trade_id: int
    """Sequence number of the trade, unique per book."""
    timestamp: Timestamp
    """Trade time."""


class TradeSnapshot(InboundModel):
    """The most recent trades (up to 50), sent after subscribing with ``snapshot`` true.

    Attributes:
        channel (Literal["trade"]): Channel name.
        type (Literal["snapshot"]): Frame type.
        data (list[TradeData]): Trades, oldest first.
        timestamp (Timestamp | None, optional): Frame time (not documented for this channel; kept if
            sent).
    """

    channel: Literal["trade"]
    """Channel name."""
    type: Literal["snapshot"]
    """Frame type."""
    data: list[TradeData]
    """Trades, oldest first."""
    timestamp: Timestamp | None = None
    """Frame time (not documented for this channel; kept if sent)."""


class TradeUpdate(InboundModel):
    """New trades; one frame may batch trades of different taker orders.

    Attributes:
        channel (Literal["trade"]): Channel name.
        type (Literal["update"]): Frame type.
        data (list[TradeData]): Trades, in execution order.
        timestamp (Timestamp | None, optional): Frame time (not documented for this channel; kept if
            sent).
    """

    channel: Literal["trade"]
    """Channel name."""
    type: Literal["update"]
    """Frame type."""
    data: list[TradeData]
    """Trades, in execution order."""
    timestamp: Timestamp | None = None
    """Frame time (not documented for this channel; kept if sent)."""


TradeMessage = Annotated[TradeSnapshot | TradeUpdate, Field(discriminator="type")]
"""A ``trade`` snapshot or update."""
