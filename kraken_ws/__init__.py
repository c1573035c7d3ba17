"""kraken-ws: a typed, exact-decimal SDK for the Kraken Spot WebSocket API v2.

Start with :func:`decode` / :func:`encode` for the wire format, :class:`KrakenWSClient` for a
connection, :mod:`kraken_ws.book` for order books and :mod:`kraken_ws.testing` for the local
exchange.
"""

from ._version import __version__
from .book import ApplyResult, BookManager, BookView, L3Book, OrderBook
from .client import ClientEvent, KrakenWSClient
from .compat import (
    KrakenAuthenticationError,
    MaxReconnectError,
    SpotOrderBookClient,
    SpotWSClient,
    WSState,
)
from .exceptions import (
    AuthenticationError,
    BookError,
    ConnectionLost,
    DecodeError,
    KrakenAPIError,
    KrakenWSError,
    RequestTimeout,
)
from .models.messages import ChannelFrame, ClientRequest, ServerMessage, UnknownMessage
from .protocol.codec import decode, encode
from .protocol.events import (
    BookResync,
    Connected,
    ConnectionFailed,
    Disconnected,
    EventsDropped,
    FillsRecovered,
    LateResponse,
    OrderResolved,
    Reconnecting,
    Resubscribed,
    SequenceGap,
)
from .reconcile import InDoubtOrder

__all__ = [
    "ApplyResult",
    "AuthenticationError",
    "BookError",
    "BookManager",
    "BookResync",
    "BookView",
    "ChannelFrame",
    "ClientEvent",
    "ClientRequest",
    "Connected",
    "ConnectionFailed",
    "ConnectionLost",
    "DecodeError",
    "Disconnected",
    "EventsDropped",
    "FillsRecovered",
    "InDoubtOrder",
    "KrakenAPIError",
    "KrakenAuthenticationError",
    "KrakenWSClient",
    "KrakenWSError",
    "L3Book",
    "LateResponse",
    "MaxReconnectError",
    "OrderBook",
    "OrderResolved",
    "Reconnecting",
    "RequestTimeout",
    "Resubscribed",
    "SequenceGap",
    "ServerMessage",
    "SpotOrderBookClient",
    "SpotWSClient",
    "UnknownMessage",
    "WSState",
    "__version__",
    "decode",
    "encode",
]
