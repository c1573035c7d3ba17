"""The facade's small public types: ``WSState``, the callback type, the give-up message.

They live apart from `SpotWSClient` only to keep that module readable. ``WSState`` is also
exported by `kraken_ws.compat` and `kraken_ws.spot`.
"""

from __future__ import annotations

import enum
from collections.abc import Awaitable, Callable
from typing import Any, Final, TypeAlias

__all__ = ["MAX_RECONNECT_MESSAGE", "MessageCallback", "WSState"]

MessageCallback: TypeAlias = Callable[[Any], Awaitable[None] | None]
"""``callback`` of `SpotWSClient`: receives each message dict (sync or async)."""

MAX_RECONNECT_MESSAGE: Final[dict[str, dict[str, str]]] = {
    "python-kraken-sdk": {"error": "kraken.exceptions.MaxReconnectError"}
}
"""What ``on_message`` receives when the client gives up reconnecting (python-kraken-sdk's)."""


class WSState(enum.Enum):
    """State of the client (python-kraken-sdk's ``kraken.utils.utils.WSState`` members)."""

    INIT = enum.auto()
    CONNECTING = enum.auto()
    CONNECTED = enum.auto()
    RECONNECTING = enum.auto()
    CANCELLING = enum.auto()
    ERRORHANDLING = enum.auto()
    ERROR = enum.auto()
    CLOSED = enum.auto()
