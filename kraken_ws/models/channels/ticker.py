"""The ``ticker`` channel: level 1 market data (https://docs.kraken.com/api/docs/websocket-v2/ticker)."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field

from kraken_ws.models._base import InboundModel, OutboundModel, Timestamp, WireDecimal
from kraken_ws.models.common import EventTrigger

__all__ = [
    "TickerData",
    "TickerMessage",
    "TickerSnapshot",
    "TickerSubscribeParams",
    "TickerSubscribeResult",
    "TickerUnsubscribeParams",
    "TickerUpdate",
]


class TickerSubscribeParams(OutboundModel):
    """Params of ``subscribe`` for the ``ticker`` channel.

    Attributes:
        channel (Literal["ticker"], optional): Channel name.
        symbol (list[str]): Currency pairs, e.g. ``["BTC/USD"]``.
        event_trigger (EventTrigger | None, optional): ``trades`` (default: update on every trade)
            or ``bbo`` (update on a best bid/offer change).
        snapshot (bool | None, optional): Send a snapshot first (default ``true``).
    """

    channel: Literal["ticker"] = "ticker"
    """Channel name."""
    symbol: list[str] = Field(min_length=1)
    """Currency pairs, e.g. ``["BTC/USD"]``."""
    event_trigger: EventTrigger | None = None
    """``trades`` (default: update on every trade) or ``bbo`` (update on a best bid/offer
    change)."""
    snapshot: bool | None = None
    """Send a snapshot first (default ``true``)."""


class TickerUnsubscribeParams(OutboundModel):
    """Params of ``unsubscribe`` for the ``ticker`` channel (repeat the subscribed trigger).

    Attributes:
        channel (Literal["ticker"], optional): Channel name.
        symbol (list[str]): Currency pairs.
        event_trigger (EventTrigger | None, optional): The event trigger that was subscribed. One of
            ``"trades"``, ``"bbo"``.
    """

    channel: Literal["ticker"] = "ticker"
    """Channel name."""
    symbol: list[str] = Field(min_length=1)
    """Currency pairs."""
    event_trigger: EventTrigger | None = None
    """The event trigger that was subscribed."""


class TickerSubscribeResult(InboundModel):
    """``result`` of a successful ``ticker`` subscribe or unsubscribe ack (one per symbol).

    Attributes:
        channel (Literal["ticker"]): Channel name.
        symbol (str): The symbol this ack is for.
        event_trigger (EventTrigger | None, optional): Subscribed event trigger. One of
            ``"trades"``, ``"bbo"``.
        snapshot (bool | None, optional): Whether a snapshot follows.
        warnings (list[str] | None, optional): Deprecation advisories.
    """

    channel: Literal["ticker"]
    """Channel name."""
    symbol: str
    """The symbol this ack is for."""
    event_trigger: EventTrigger | None = None
    """Subscribed event trigger."""
    snapshot: bool | None = None
    """Whether a snapshot follows."""
    warnings: list[str] | None = None
    """Deprecation advisories."""


class TickerData(InboundModel):
    """Best bid and offer plus 24 hour statistics of one symbol.

    Attributes:
        symbol (str): Currency pair.
        bid (WireDecimal): Best bid price.
        bid_qty (WireDecimal): Quantity at the best bid.
        ask (WireDecimal): Best ask price.
        ask_qty (WireDecimal): Quantity at the best ask.
        last (WireDecimal): Last traded price (only guaranteed if traded within the past 24 hours).
        volume (WireDecimal): 24 hour traded volume, in base currency.
        vwap (WireDecimal): 24 hour volume weighted average price.
        low (WireDecimal): 24 hour lowest trade price.
        high (WireDecimal): 24 hour highest trade price.
        change (WireDecimal): 24 hour price change, in quote currency.
        change_pct (WireDecimal): 24 hour price change, in percentage points.
        volume_usd (WireDecimal | None, optional): 24 hour volume in USD. Not documented; observed
            live in 2026.
        timestamp (Timestamp | None, optional): Time of the ticker data (absent in 2024 frames).
    """

    symbol: str
    """Currency pair."""
    bid: WireDecimal
    """Best bid price."""
    bid_qty: WireDecimal
    """Quantity at the best bid."""
    ask: WireDecimal
    """Best ask price."""
    ask_qty: WireDecimal
    """Quantity at the best ask."""
    last: WireDecimal
    """Last traded price (only guaranteed if traded within the past 24 hours)."""
    volume: WireDecimal
    """24 hour traded volume, in base currency."""
    vwap: WireDecimal
    """24 hour volume weighted average price."""
    low: WireDecimal
    """24 hour lowest trade price."""
    high: WireDecimal
    """24 hour highest trade price."""
    change: WireDecimal
    """24 hour price change, in quote currency."""
    change_pct: WireDecimal
    """24 hour price change, in percentage points."""
    volume_usd: WireDecimal | None = None
    """24 hour volume in USD. Not documented; observed live in 2026."""
    timestamp: Timestamp | None = None
    """Time of the ticker data (absent in 2024 frames)."""


class TickerSnapshot(InboundModel):
    """The current ticker of each symbol, sent after subscribing.

    Attributes:
        channel (Literal["ticker"]): Channel name.
        type (Literal["snapshot"]): Frame type.
        data (list[TickerData]): One item per symbol (in practice one).
        timestamp (Timestamp | None, optional): Frame time (not documented for this channel; kept if
            sent).
    """

    channel: Literal["ticker"]
    """Channel name."""
    type: Literal["snapshot"]
    """Frame type."""
    data: list[TickerData]
    """One item per symbol (in practice one)."""
    timestamp: Timestamp | None = None
    """Frame time (not documented for this channel; kept if sent)."""


class TickerUpdate(InboundModel):
    """A new ticker after a trade (``trades``) or a best bid/offer change (``bbo``).

    Attributes:
        channel (Literal["ticker"]): Channel name.
        type (Literal["update"]): Frame type.
        data (list[TickerData]): One item per symbol (in practice one).
        timestamp (Timestamp | None, optional): Frame time (not documented for this channel; kept if
            sent).
    """

    channel: Literal["ticker"]
    """Channel name."""
    type: Literal["update"]
    """Frame type."""
    data: list[TickerData]
    """One item per symbol (in practice one)."""
    timestamp: Timestamp | None = None
    """Frame time (not documented for this channel; kept if sent)."""


TickerMessage = Annotated[TickerSnapshot | TickerUpdate, Field(discriminator="type")]
"""A ``ticker`` snapshot or update."""
