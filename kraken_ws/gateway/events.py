"""Lifecycle events over the bus: the client's own (as JSON) and the gateway's.

The gateway publishes each lifecycle event of its `KrakenWSClient` (``Connected``,
``Disconnected``, ``Reconnecting``, ``Resubscribed``, ``BookResync``, ``SequenceGap``,
``ConnectionFailed``) and its own (`GatewayStarted`, `GatewayStopped`,
`SubscriptionStale`) on ``kraken.gw.events``. A `Subscriber` turns them back into the same
dataclasses, and adds `GatewayGap` when it finds a hole in what it received.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field, fields
from typing import Any, TypeAlias

from ..events import (
    BookResync,
    Connected,
    ConnectionFailed,
    Disconnected,
    Reconnecting,
    Resubscribed,
    SequenceGap,
)
from ..exceptions import KrakenWSError

__all__ = [
    "GatewayEvent",
    "GatewayGap",
    "GatewayStarted",
    "GatewayStopped",
    "SubscriptionStale",
    "event_from_json",
    "event_to_json",
]


@dataclass(frozen=True, slots=True)
class GatewayStarted:
    """A gateway started publishing (a new ``epoch``: sequences start again at 1).

    Attributes:
        epoch: The run's id (header ``Kraken-Epoch`` of everything it publishes).
    """

    epoch: str
    channel: None = field(default=None, init=False, repr=False)


@dataclass(frozen=True, slots=True)
class GatewayStopped:
    """A gateway stopped cleanly (a killed one says nothing: consumers see `GatewayGap`).

    Attributes:
        epoch: The run's id.
    """

    epoch: str
    channel: None = field(default=None, init=False, repr=False)


@dataclass(frozen=True, slots=True)
class SubscriptionStale:
    """A subscription was acknowledged but stayed silent while heartbeats flowed: resubscribed.

    Attributes:
        channel_name: The channel.
        symbol: The pair.
        silent_for: Seconds without a frame.
    """

    channel_name: str
    symbol: str
    silent_for: float
    channel: None = field(default=None, init=False, repr=False)


@dataclass(frozen=True, slots=True)
class GatewayGap:
    """A consumer found a hole in a book stream and is resyncing it from the stored snapshot.

    Attributes:
        channel_name: ``"book"``.
        symbol: The pair.
        reason: ``"gateway restarted"``, ``"missing messages"``, ``"checksum mismatch"``...
        expected: The ``Kraken-Seq`` that should have come (0 if unknown).
        received: The one that came (0 if unknown).
    """

    channel_name: str
    symbol: str
    reason: str
    expected: int = 0
    received: int = 0
    channel: None = field(default=None, init=False, repr=False)


GatewayEvent: TypeAlias = (
    Connected
    | Disconnected
    | Reconnecting
    | Resubscribed
    | BookResync
    | SequenceGap
    | ConnectionFailed
    | GatewayStarted
    | GatewayStopped
    | SubscriptionStale
    | GatewayGap
)
"""Every lifecycle event a `Subscriber` yields."""

_TYPES: dict[str, type[Any]] = {
    cls.__name__: cls
    for cls in (
        Connected,
        Disconnected,
        Reconnecting,
        Resubscribed,
        BookResync,
        SequenceGap,
        GatewayStarted,
        GatewayStopped,
        SubscriptionStale,
        GatewayGap,
    )
}


def event_to_json(event: object) -> bytes | None:
    """The event as the gateway publishes it, or ``None`` for one that does not go out."""
    name = type(event).__name__
    if isinstance(event, ConnectionFailed):
        body: dict[str, Any] = {"endpoint": event.endpoint, "error": str(event.error)}
    elif name in _TYPES:
        body = {f.name: getattr(event, f.name) for f in fields(event) if f.init}  # type: ignore[arg-type]
    else:
        return None
    return json.dumps({"event": name, **body}).encode()


def event_from_json(data: bytes) -> GatewayEvent | None:
    """Decode a lifecycle event (``None`` for one this version does not know)."""
    obj = json.loads(data)  # noqa: TID251 - our own JSON, no wire numbers in it
    if not isinstance(obj, dict):
        return None
    name = obj.pop("event", None)
    if name == "ConnectionFailed":
        return ConnectionFailed(obj["endpoint"], KrakenWSError(obj.get("error", "")))
    cls = _TYPES.get(str(name))
    if cls is None:
        return None
    try:
        event: GatewayEvent = cls(**obj)
    except TypeError:
        return None
    return event
