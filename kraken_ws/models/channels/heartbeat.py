"""The ``heartbeat`` channel (https://docs.kraken.com/api/docs/websocket-v2/heartbeat).

Sent about once a second after the first subscription on a connection; it has no ``type`` and no
``data``.
"""

from __future__ import annotations

from typing import Literal

from kraken_ws.models._base import InboundModel

__all__ = [
    "Heartbeat",
]


class Heartbeat(InboundModel):
    """A liveness frame: ``{"channel": "heartbeat"}``.

    Attributes:
        channel (Literal["heartbeat"]): Channel name.
    """

    channel: Literal["heartbeat"]
    """Channel name."""
