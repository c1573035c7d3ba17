"""The ``level3`` channel: order-by-order book (https://docs.kraken.com/api/docs/websocket-v2/level3).

Needs a token and lives on its own endpoint (``wss://ws-l3.kraken.com/v2``).
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field

from .._base import InboundModel, OutboundModel, Timestamp, WireDecimal
from ..common import L3Depth

__all__ = [
    "Level3Event",
    "Level3Message",
    "Level3Order",
    "Level3Snapshot",
    "Level3SnapshotData",
    "Level3SubscribeParams",
    "Level3SubscribeResult",
    "Level3UnsubscribeParams",
    "Level3Update",
    "Level3UpdateData",
]


class Level3SubscribeParams(OutboundModel):
    """Params of ``subscribe`` for the ``level3`` channel.

    Attributes:
        channel (Literal["level3"], optional): Channel name.
        symbol (list[str]): Currency pairs (at most 200 per connection).
        depth (L3Depth | None, optional): Price levels per side: 10 (default), 100 or 1000. One of
            ``10``, ``100``, ``1000``.
        snapshot (bool | None, optional): Send a snapshot first (default ``true``).
        token (str | None, optional): WebSocket token; the client fills it in.
    """

    channel: Literal["level3"] = "level3"
    """Channel name."""
    symbol: list[str] = Field(min_length=1, max_length=200)
    """Currency pairs (at most 200 per connection)."""
    depth: L3Depth | None = None
    """Price levels per side: 10 (default), 100 or 1000."""
    snapshot: bool | None = None
    """Send a snapshot first (default ``true``)."""
    token: str | None = None
    """WebSocket token; the client fills it in."""


class Level3UnsubscribeParams(OutboundModel):
    """Params of ``unsubscribe`` for the ``level3`` channel.

    Attributes:
        channel (Literal["level3"], optional): Channel name.
        symbol (list[str]): Currency pairs.
        depth (L3Depth | None, optional): The depth that was subscribed. One of ``10``, ``100``,
            ``1000``.
        token (str | None, optional): WebSocket token; the client fills it in.
    """

    channel: Literal["level3"] = "level3"
    """Channel name."""
    symbol: list[str] = Field(min_length=1)
    """Currency pairs."""
    depth: L3Depth | None = None
    """The depth that was subscribed."""
    token: str | None = None
    """WebSocket token; the client fills it in."""


class Level3SubscribeResult(InboundModel):
    """``result`` of a successful ``level3`` subscribe or unsubscribe ack (one per symbol).

    Attributes:
        channel (Literal["level3"]): Channel name.
        symbol (str): The symbol this ack is for.
        depth (int | None, optional): Subscribed depth.
        snapshot (bool | None, optional): Whether a snapshot follows.
        warnings (list[str] | None, optional): Deprecation advisories.
    """

    channel: Literal["level3"]
    """Channel name."""
    symbol: str
    """The symbol this ack is for."""
    depth: int | None = None
    """Subscribed depth."""
    snapshot: bool | None = None
    """Whether a snapshot follows."""
    warnings: list[str] | None = None
    """Deprecation advisories."""


class Level3Order(InboundModel):
    """A resting order in a snapshot.

    Attributes:
        order_id (str): Kraken order id.
        limit_price (WireDecimal): Limit price, exact wire digits.
        order_qty (WireDecimal): Remaining visible quantity, exact wire digits.
        timestamp (Timestamp | None, optional): Insert or amend time (nanoseconds).
    """

    order_id: str
    """Kraken order id."""
    limit_price: WireDecimal
    """Limit price, exact wire digits."""
    order_qty: WireDecimal
    """Remaining visible quantity, exact wire digits."""
    timestamp: Timestamp | None = None
    """Insert or amend time (nanoseconds)."""


class Level3Event(InboundModel):
    """An order event in an update.

    Attributes:
        event (Literal["add", "modify", "delete"]): ``add`` a new order (tail of its level),
            ``modify`` its quantity, ``delete`` it.
        order_id (str): Kraken order id.
        limit_price (WireDecimal): Limit price, exact wire digits.
        order_qty (WireDecimal): Remaining visible quantity after the event, exact wire digits.
        timestamp (Timestamp | None, optional): Event time (nanoseconds).
    """

    event: Literal["add", "modify", "delete"]
    """``add`` a new order (tail of its level), ``modify`` its quantity, ``delete`` it."""
    order_id: str
    """Kraken order id."""
    limit_price: WireDecimal
    """Limit price, exact wire digits."""
    order_qty: WireDecimal
    """Remaining visible quantity after the event, exact wire digits."""
    timestamp: Timestamp | None = None
    """Event time (nanoseconds)."""


class Level3SnapshotData(InboundModel):
    """The order book of one symbol, order by order, in queue priority.

    Attributes:
        symbol (str): Currency pair.
        bids (list[Level3Order]): Bids, best price first, orders in queue order within a level.
        asks (list[Level3Order]): Asks, best price first, orders in queue order within a level.
        checksum (int): CRC32 over every order of the top 10 price levels per side.
        timestamp (Timestamp | None, optional): Book time.
    """

    symbol: str
    """Currency pair."""
    bids: list[Level3Order]
    """Bids, best price first, orders in queue order within a level."""
    asks: list[Level3Order]
    """Asks, best price first, orders in queue order within a level."""
    checksum: int = Field(ge=0, le=0xFFFFFFFF)
    """CRC32 over every order of the top 10 price levels per side."""
    timestamp: Timestamp | None = None
    """Book time."""


class Level3UpdateData(InboundModel):
    """Order events of one symbol.

    Attributes:
        symbol (str): Currency pair.
        bids (list[Level3Event]): Bid-side events, in the order to apply.
        asks (list[Level3Event]): Ask-side events, in the order to apply.
        checksum (int): CRC32 after applying the events and truncating to depth.
        timestamp (Timestamp | None, optional): Book time.
    """

    symbol: str
    """Currency pair."""
    bids: list[Level3Event]
    """Bid-side events, in the order to apply."""
    asks: list[Level3Event]
    """Ask-side events, in the order to apply."""
    checksum: int = Field(ge=0, le=0xFFFFFFFF)
    """CRC32 after applying the events and truncating to depth."""
    timestamp: Timestamp | None = None
    """Book time."""


class Level3Snapshot(InboundModel):
    """Full order-by-order book after subscribing.

    Attributes:
        channel (Literal["level3"]): Channel name.
        type (Literal["snapshot"]): Frame type.
        data (list[Level3SnapshotData]): One item per symbol.
    """

    channel: Literal["level3"]
    """Channel name."""
    type: Literal["snapshot"]
    """Frame type."""
    data: list[Level3SnapshotData]
    """One item per symbol."""


class Level3Update(InboundModel):
    """Order events since the previous message.

    Attributes:
        channel (Literal["level3"]): Channel name.
        type (Literal["update"]): Frame type.
        data (list[Level3UpdateData]): One item per symbol.
    """

    channel: Literal["level3"]
    """Channel name."""
    type: Literal["update"]
    """Frame type."""
    data: list[Level3UpdateData]
    """One item per symbol."""


Level3Message = Annotated[Level3Snapshot | Level3Update, Field(discriminator="type")]
"""A ``level3`` snapshot or update."""
