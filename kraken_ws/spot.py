"""``kraken_ws.spot``: the drop-in for ``kraken.spot``'s WebSocket clients.

``from kraken.spot import SpotWSClient`` becomes ``from kraken_ws.spot import SpotWSClient``.
"""

from .compat import (
    KrakenAuthenticationError,
    MaxReconnectError,
    SpotOrderBookClient,
    SpotWSClient,
    WSState,
)

__all__ = [
    "KrakenAuthenticationError",
    "MaxReconnectError",
    "SpotOrderBookClient",
    "SpotWSClient",
    "WSState",
]
