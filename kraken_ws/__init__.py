"""kraken-ws: a typed, exact-decimal SDK for the Kraken Spot WebSocket API v2.

Start with `decode` / `encode` for the wire format, `KrakenWSClient` for a
connection, `kraken_ws.book` for order books and `kraken_ws.testing` for the local
exchange. The exceptions users catch and the events the client yields are exported here too,
as is the python-kraken-sdk facade (``SpotWSClient``, ``SpotOrderBookClient``...; its home is
`kraken_ws.spot`).

Every name here is loaded on first use (PEP 562): ``import kraken_ws`` costs milliseconds and
loads neither pydantic nor the models, so the ``kraken-ws`` command says what it is doing before
it pays for them. ``from kraken_ws import KrakenWSClient`` loads what that name needs, and the
object is the one in its home module. Type checkers read the ``TYPE_CHECKING`` imports below.
"""

from importlib import import_module
from importlib.util import find_spec
from typing import TYPE_CHECKING, Any

from ._version import __version__

if TYPE_CHECKING:
    from .book import ApplyResult, BookManager, BookView, L3Book, OrderBook
    from .client import ClientEvent, KrakenWSClient
    from .compat import (
        KrakenAuthenticationError,
        MaxReconnectError,
        SpotOrderBookClient,
        SpotWSClient,
        WSState,
    )
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
        BatchPartialFailure,
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

# Each lazy export's home module: the same names as the TYPE_CHECKING imports above
# (tests/test_exports.py checks that the two agree).
_HOMES: dict[str, tuple[str, ...]] = {
    ".book": ("ApplyResult", "BookManager", "BookView", "L3Book", "OrderBook"),
    ".client": ("ClientEvent", "KrakenWSClient"),
    ".compat": (
        "KrakenAuthenticationError",
        "MaxReconnectError",
        "SpotOrderBookClient",
        "SpotWSClient",
        "WSState",
    ),
    ".events": (
        "BookResync",
        "Connected",
        "ConnectionFailed",
        "Disconnected",
        "EventsDropped",
        "FillsRecovered",
        "LateResponse",
        "OrderResolved",
        "Reconnecting",
        "Resubscribed",
        "SequenceGap",
    ),
    ".exceptions": (
        "AuthenticationError",
        "BatchPartialFailure",
        "BookError",
        "ChecksumMismatch",
        "ConnectError",
        "ConnectionClosed",
        "ConnectionLost",
        "DecodeError",
        "InsufficientFunds",
        "InvalidState",
        "KrakenAPIError",
        "KrakenWSError",
        "RateLimitError",
        "RequestTimeout",
        "SessionError",
        "SubscriptionError",
    ),
    ".models.messages": ("ChannelFrame", "ClientRequest", "ServerMessage", "UnknownMessage"),
    ".protocol.codec": ("decode", "encode"),
    ".reconcile": ("InDoubtOrder",),
}
_LAZY: dict[str, str] = {name: module for module, names in _HOMES.items() for name in names}


if not TYPE_CHECKING:  # hidden from type checkers: a misspelt name stays an error for them

    def __getattr__(name: str) -> Any:
        home = _LAZY.get(name)
        if home is not None:
            value = getattr(import_module(home, __name__), name)
        elif not name.startswith("__") and find_spec(f"{__name__}.{name}") is not None:
            # A subpackage (kraken_ws.models...): `import kraken_ws` used to load them all.
            value = import_module(f".{name}", __name__)
        else:
            raise AttributeError(f"module 'kraken_ws' has no attribute {name!r}")
        globals()[name] = value  # later lookups skip this function
        return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY))


__all__ = [
    "ApplyResult",
    "AuthenticationError",
    "BatchPartialFailure",
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
