"""The ``book`` channel: aggregated L2 order book (https://docs.kraken.com/api/docs/websocket-v2/book)."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field

from .._base import InboundModel, OutboundModel, Timestamp, WireDecimal
from ..common import BookDepth

__all__ = [
    "BookData",
    "BookLevel",
    "BookMessage",
    "BookSnapshot",
    "BookSubscribeParams",
    "BookSubscribeResult",
    "BookUnsubscribeParams",
    "BookUpdate",
]


class BookSubscribeParams(OutboundModel):
    """Params of ``subscribe`` for the ``book`` channel.

    Attributes:
        channel (Literal["book"], optional): Channel name.
        symbol (list[str]): Currency pairs, e.g. ``["BTC/USD"]``.
        depth (BookDepth | None, optional): Number of levels per side: 10 (default), 25, 100, 500 or
            1000. One of ``10``, ``25``, ``100``, ``500``, ``1000``.
        snapshot (bool | None, optional): Send a snapshot first (default ``true``).
    """

    channel: Literal["book"] = "book"
    """Channel name."""
    symbol: list[str] = Field(min_length=1)
    """Currency pairs, e.g. ``["BTC/USD"]``."""
    depth: BookDepth | None = None
    """Number of levels per side: 10 (default), 25, 100, 500 or 1000."""
    snapshot: bool | None = None
    """Send a snapshot first (default ``true``)."""


class BookUnsubscribeParams(OutboundModel):
    """Params of ``unsubscribe`` for the ``book`` channel (repeat the subscribed depth).

    Attributes:
        channel (Literal["book"], optional): Channel name.
        symbol (list[str]): Currency pairs.
        depth (BookDepth | None, optional): The depth that was subscribed. One of ``10``, ``25``,
            ``100``, ``500``, ``1000``.
    """

    channel: Literal["book"] = "book"
    """Channel name."""
    symbol: list[str] = Field(min_length=1)
    """Currency pairs."""
    depth: BookDepth | None = None
    """The depth that was subscribed."""


class BookSubscribeResult(InboundModel):
    """``result`` of a successful ``book`` subscribe or unsubscribe ack (one per symbol).

    Attributes:
        channel (Literal["book"]): Channel name.
        symbol (str): The symbol this ack is for.
        depth (int | None, optional): Subscribed depth.
        snapshot (bool | None, optional): Whether a snapshot follows.
        warnings (list[str] | None, optional): Deprecation advisories.
    """

    channel: Literal["book"]
    """Channel name."""
    symbol: str
    """The symbol this ack is for."""
    depth: int | None = None
    """Subscribed depth."""
    snapshot: bool | None = None
    """Whether a snapshot follows."""
    warnings: list[str] | None = None
    """Deprecation advisories."""


class BookLevel(InboundModel):
    """One price level: ``qty`` 0 in an update deletes the level.

    Attributes:
        price (WireDecimal): Price level, exact wire digits.
        qty (WireDecimal): Aggregated quantity at that price, exact wire digits.
    """

    price: WireDecimal
    """Price level, exact wire digits."""
    qty: WireDecimal
    """Aggregated quantity at that price, exact wire digits."""


class BookData(InboundModel):
    """The book of one symbol in a snapshot or an update.

    Attributes:
        symbol (str): Currency pair.
        bids (list[BookLevel]): Snapshot: best (highest) first. Update: changed levels, in no
            particular order; apply in array order (the same price may repeat).
        asks (list[BookLevel]): Snapshot: best (lowest) first. Update: changed levels, apply in
            array order.
        checksum (int): CRC32 of the top 10 levels per side after applying this message.
        timestamp (Timestamp | None, optional): Book time (absent on some snapshots).
    """

    symbol: str
    """Currency pair."""
    bids: list[BookLevel]
    """Snapshot: best (highest) first. Update: changed levels, in no particular order; apply in
    array order (the same price may repeat)."""
    asks: list[BookLevel]
    """Snapshot: best (lowest) first. Update: changed levels, apply in array order."""
    checksum: int = Field(ge=0, le=0xFFFFFFFF)
    """CRC32 of the top 10 levels per side after applying this message."""
    timestamp: Timestamp | None = None
    """Book time (absent on some snapshots)."""


class BookSnapshot(InboundModel):
    """A full book for each symbol, sent after subscribing.

    Attributes:
        channel (Literal["book"]): Channel name.
        type (Literal["snapshot"]): Frame type.
        data (list[BookData]): One item per symbol (in practice one).
    """

    channel: Literal["book"]
    """Channel name."""
    type: Literal["snapshot"]
    """Frame type."""
    data: list[BookData]
    """One item per symbol (in practice one)."""


class BookUpdate(InboundModel):
    """Changed levels since the previous message.

    Attributes:
        channel (Literal["book"]): Channel name.
        type (Literal["update"]): Frame type.
        data (list[BookData]): One item per symbol (in practice one).
    """

    channel: Literal["book"]
    """Channel name."""
    type: Literal["update"]
    """Frame type."""
    data: list[BookData]
    """One item per symbol (in practice one)."""


BookMessage = Annotated[BookSnapshot | BookUpdate, Field(discriminator="type")]
"""A ``book`` snapshot or update."""
