"""kraken-ws: a typed, exact-decimal SDK for the Kraken Spot WebSocket API v2.

Start with `decode` / `encode` for the wire format, `KrakenWSClient` for a
connection, `kraken_ws.book` for order books and `kraken_ws.testing` for the local
exchange. The exceptions users catch and the events the client yields are exported here too.

The python-kraken-sdk facade (``SpotWSClient``, ``SpotOrderBookClient``...) is importable from
here but loaded only when first used: ``import kraken_ws`` does not load it (its home is
`kraken_ws.spot`).
"""

from typing import TYPE_CHECKING, Any

from ._version import __version__
from .book import ApplyResult, BookManager, BookView, L3Book, OrderBook
from .client import ClientEvent, KrakenWSClient
from .events import (
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
from .exceptions import (
    AuthenticationError,
    BookError,
    ChecksumMismatch,
    ConnectError,
    ConnectionClosed,
    ConnectionLost,
    DecodeError,
    InsufficientFunds,
    InvalidState,
    KrakenAPIError,
    KrakenWSError,
    RateLimitError,
    RequestTimeout,
    SessionError,
    SubscriptionError,
)
from .models.messages import ChannelFrame, ClientRequest, ServerMessage, UnknownMessage
from .protocol.codec import decode, encode
from .reconcile import InDoubtOrder

if TYPE_CHECKING:
    from .compat import (
        KrakenAuthenticationError,
        MaxReconnectError,
        SpotOrderBookClient,
        SpotWSClient,
        WSState,
    )

_COMPAT = frozenset(
    {
        "KrakenAuthenticationError",
        "MaxReconnectError",
        "SpotOrderBookClient",
        "SpotWSClient",
        "WSState",
    }
)


def __getattr__(name: str) -> Any:
    # The compat facade is python-kraken-sdk-shaped; load it only for those who ask for it.
    if name in _COMPAT:
        from . import compat

        value = getattr(compat, name)
        globals()[name] = value  # later lookups skip this function
        return value
    raise AttributeError(f"module 'kraken_ws' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | _COMPAT)


__all__ = [
    "ApplyResult",
    "AuthenticationError",
    "BookError",
    "BookManager",
    "BookResync",
    "BookView",
    "ChannelFrame",
    "ChecksumMismatch",
    "ClientEvent",
    "ClientRequest",
    "ConnectError",
    "Connected",
    "ConnectionClosed",
    "ConnectionFailed",
    "ConnectionLost",
    "DecodeError",
    "Disconnected",
    "EventsDropped",
    "FillsRecovered",
    "InDoubtOrder",
    "InsufficientFunds",
    "InvalidState",
    "KrakenAPIError",
    "KrakenAuthenticationError",
    "KrakenWSClient",
    "KrakenWSError",
    "L3Book",
    "LateResponse",
    "MaxReconnectError",
    "OrderBook",
    "OrderResolved",
    "RateLimitError",
    "Reconnecting",
    "RequestTimeout",
    "Resubscribed",
    "SequenceGap",
    "ServerMessage",
    "SessionError",
    "SpotOrderBookClient",
    "SpotWSClient",
    "SubscriptionError",
    "UnknownMessage",
    "WSState",
    "__version__",
    "decode",
    "encode",
]
