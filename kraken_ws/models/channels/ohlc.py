"""The ``ohlc`` channel: candles (https://docs.kraken.com/api/docs/websocket-v2/ohlc)."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field

from kraken_ws.models._base import InboundModel, OutboundModel, Timestamp, WireDecimal
from kraken_ws.models.common import OhlcInterval

__all__ = [
    "OhlcData",
    "OhlcMessage",
    "OhlcSnapshot",
    "OhlcSubscribeParams",
    "OhlcSubscribeResult",
    "OhlcUnsubscribeParams",
    "OhlcUpdate",
]


class OhlcSubscribeParams(OutboundModel):
    """Params of ``subscribe`` for the ``ohlc`` channel.

    Attributes:
        channel (Literal["ohlc"], optional): Channel name.
        symbol (list[str]): Currency pairs, e.g. ``["BTC/USD"]``.
        interval (OhlcInterval): Candle interval in minutes: 1, 5, 15, 30, 60, 240, 1440, 10080 or
            21600. One of ``1``, ``5``, ``15``, ``30``, ``60``, ``240``, ``1440``, ``10080``,
            ``21600``.
        snapshot (bool | None, optional): Send recent candles first (default ``true``).
    """

    channel: Literal["ohlc"] = "ohlc"
    """Channel name."""
    symbol: list[str] = Field(min_length=1)
    """Currency pairs, e.g. ``["BTC/USD"]``."""
    # The docs neither mark ``interval`` required nor give a default (docs/protocol.md#ref-11-3); we
    # require it so that the subscription key (symbol, interval) is always explicit and unsubscribe
    # can repeat it.
    interval: OhlcInterval
    """Candle interval in minutes: 1, 5, 15, 30, 60, 240, 1440, 10080 or 21600."""
    snapshot: bool | None = None
    """Send recent candles first (default ``true``)."""


class OhlcUnsubscribeParams(OutboundModel):
    """Params of ``unsubscribe`` for the ``ohlc`` channel (repeat the subscribed interval).

    Attributes:
        channel (Literal["ohlc"], optional): Channel name.
        symbol (list[str]): Currency pairs.
        interval (OhlcInterval): The interval that was subscribed. One of ``1``, ``5``, ``15``,
            ``30``, ``60``, ``240``, ``1440``, ``10080``, ``21600``.
    """

    channel: Literal["ohlc"] = "ohlc"
    """Channel name."""
    symbol: list[str] = Field(min_length=1)
    """Currency pairs."""
    interval: OhlcInterval
    """The interval that was subscribed."""


class OhlcSubscribeResult(InboundModel):
    """``result`` of a successful ``ohlc`` subscribe or unsubscribe ack (one per symbol).

    Attributes:
        channel (Literal["ohlc"]): Channel name.
        symbol (str): The symbol this ack is for.
        interval (int | None, optional): Subscribed interval in minutes.
        snapshot (bool | None, optional): Whether a snapshot follows.
        warnings (list[str] | None, optional): Deprecation advisories, e.g. ``timestamp is
            deprecated, use interval_begin``.
    """

    channel: Literal["ohlc"]
    """Channel name."""
    symbol: str
    """The symbol this ack is for."""
    interval: int | None = None
    """Subscribed interval in minutes."""
    snapshot: bool | None = None
    """Whether a snapshot follows."""
    warnings: list[str] | None = None
    """Deprecation advisories, e.g. ``timestamp is deprecated, use interval_begin``."""


class OhlcData(InboundModel):
    """One candle of one symbol.

    Attributes:
        symbol (str): Currency pair.
        open (WireDecimal): Opening trade price within the interval.
        high (WireDecimal): Highest trade price within the interval.
        low (WireDecimal): Lowest trade price within the interval.
        close (WireDecimal): Last trade price within the interval.
        vwap (WireDecimal): Volume weighted average trade price within the interval.
        volume (WireDecimal): Traded volume within the interval, in base currency.
        trades (int): Number of trades within the interval (documented as a number; always
            integral).
        interval_begin (Timestamp): Start of the interval (nanosecond precision).
        interval (int): Interval in minutes.
        timestamp (Timestamp | None, optional): Deprecated, use ``interval_begin``; in examples this
            is the end of the interval.
    """

    symbol: str
    """Currency pair."""
    open: WireDecimal
    """Opening trade price within the interval."""
    high: WireDecimal
    """Highest trade price within the interval."""
    low: WireDecimal
    """Lowest trade price within the interval."""
    close: WireDecimal
    """Last trade price within the interval."""
    vwap: WireDecimal
    """Volume weighted average trade price within the interval."""
    volume: WireDecimal
    """Traded volume within the interval, in base currency."""
    trades: int
    """Number of trades within the interval (documented as a number; always integral)."""
    interval_begin: Timestamp
    """Start of the interval (nanosecond precision)."""
    interval: int
    """Interval in minutes."""
    timestamp: Timestamp | None = None
    """Deprecated, use ``interval_begin``; in examples this is the end of the interval."""


class OhlcSnapshot(InboundModel):
    """Recent candles of each symbol, sent after subscribing.

    Attributes:
        channel (Literal["ohlc"]): Channel name.
        type (Literal["snapshot"]): Frame type.
        data (list[OhlcData]): Candles, oldest first.
        timestamp (Timestamp | None, optional): Frame time (nanosecond precision).
    """

    channel: Literal["ohlc"]
    """Channel name."""
    type: Literal["snapshot"]
    """Frame type."""
    data: list[OhlcData]
    """Candles, oldest first."""
    timestamp: Timestamp | None = None
    """Frame time (nanosecond precision)."""


class OhlcUpdate(InboundModel):
    """The current candle after a trade.

    Attributes:
        channel (Literal["ohlc"]): Channel name.
        type (Literal["update"]): Frame type.
        data (list[OhlcData]): Updated candles.
        timestamp (Timestamp | None, optional): Frame time (nanosecond precision).
    """

    channel: Literal["ohlc"]
    """Channel name."""
    type: Literal["update"]
    """Frame type."""
    data: list[OhlcData]
    """Updated candles."""
    timestamp: Timestamp | None = None
    """Frame time (nanosecond precision)."""


OhlcMessage = Annotated[OhlcSnapshot | OhlcUpdate, Field(discriminator="type")]
"""An ``ohlc`` snapshot or update."""
