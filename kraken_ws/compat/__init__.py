"""python-kraken-sdk compatible facade: ``SpotWSClient`` and ``SpotOrderBookClient``.

Replace ``from kraken.spot import SpotWSClient, SpotOrderBookClient`` with
``from kraken_ws.compat import SpotWSClient, SpotOrderBookClient`` (or ``kraken_ws.spot``); the
rest of the code stays as it is. See ``docs/migrating.md`` for what behaves differently.
"""

from .exceptions import EndpointRefused, KrakenAuthenticationError, MaxReconnectError
from .orderbook import SpotOrderBookClient
from .spot_ws_client import SpotWSClient
from .types import WSState

__all__ = [
    "EndpointRefused",
    "KrakenAuthenticationError",
    "MaxReconnectError",
    "SpotOrderBookClient",
    "SpotWSClient",
    "WSState",
]
