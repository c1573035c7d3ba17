"""The ``status`` channel: trading engine status (https://docs.kraken.com/api/docs/websocket-v2/status).

No subscription: the server pushes an update on connect and whenever the engine status changes.
"""

from __future__ import annotations

from typing import Literal

from kraken_ws.models._base import InboundModel, Timestamp
from kraken_ws.models.common import SystemStatus

__all__ = [
    "StatusData",
    "StatusMessage",
    "StatusUpdate",
]


class StatusData(InboundModel):
    """Engine status and connection details.

    Attributes:
        system (SystemStatus): ``online`` (normal), ``maintenance`` (no new orders, no cancels),
            ``cancel_only`` (cancels only, no matching) or ``post_only`` (only post-only limit
            orders and cancels, no matching).
        api_version (str): WebSocket API version, ``v2``.
        connection_id (int | None, optional): Debug id of this connection. Arbitrary precision: it
            exceeds 2^53 and even 2^64, so it is never a float or a fixed-width integer. Absent on
            some status-change pushes (a live 2024 ``maintenance`` frame has none).
        version (str): Service version, e.g. ``2.0.10``.
    """

    system: SystemStatus
    """``online`` (normal), ``maintenance`` (no new orders, no cancels), ``cancel_only`` (cancels
    only, no matching) or ``post_only`` (only post-only limit orders and cancels, no matching)."""
    api_version: str
    """WebSocket API version, ``v2``."""
    connection_id: int | None = None
    """Debug id of this connection. Arbitrary precision: it exceeds 2^53 and even 2^64, so it is
    never a float or a fixed-width integer. Absent on some status-change pushes (a live 2024
    ``maintenance`` frame has none)."""
    version: str
    """Service version, e.g. ``2.0.10``."""


class StatusUpdate(InboundModel):
    """A status push (always ``type`` ``update``).

    Attributes:
        channel (Literal["status"]): Channel name.
        type (Literal["update"]): Frame type.
        data (list[StatusData]): One item.
        timestamp (Timestamp | None, optional): Frame time (not documented for this channel; kept if
            sent).
    """

    channel: Literal["status"]
    """Channel name."""
    type: Literal["update"]
    """Frame type."""
    data: list[StatusData]
    """One item."""
    timestamp: Timestamp | None = None
    """Frame time (not documented for this channel; kept if sent)."""


StatusMessage = StatusUpdate
"""A ``status`` frame (the channel only sends updates)."""
