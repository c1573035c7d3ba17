"""What `KrakenProtocol` emits.

`KrakenProtocol.events_received
<kraken_ws.protocol.connection.KrakenProtocol.events_received>` yields these; the client turns
them into futures resolved, frames queued and reconnects started. Two of them are also user-facing
events and live in `kraken_ws.events` (``LateResponse``, ``SequenceGap``); the user-facing
lifecycle events are re-exported here for the code that imported them from this module.

All are frozen dataclasses: cheap, immutable, typed, and they never go on the wire.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TypeAlias

from pydantic import BaseModel

from ..events import (
    BookResync,
    Connected,
    ConnectionFailed,
    Disconnected,
    Endpoint,
    EventsDropped,
    FillsRecovered,
    LateResponse,
    LifecycleEvent,
    OrderOutcome,
    OrderResolved,
    Reconnecting,
    Resubscribed,
    SequenceGap,
)

__all__ = [
    "BookResync",
    "ChannelData",
    "Connected",
    "ConnectionDead",
    "ConnectionFailed",
    "Disconnected",
    "Endpoint",
    "EventsDropped",
    "FillsRecovered",
    "InvalidFrame",
    "LateResponse",
    "LifecycleEvent",
    "OrderOutcome",
    "OrderResolved",
    "ProtocolEvent",
    "Reconnecting",
    "RequestCompleted",
    "RequestFailed",
    "Resubscribed",
    "SequenceGap",
    "UnsolicitedResponse",
]

# --- protocol events ----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ChannelData:
    """A channel frame (book, ticker, heartbeat, status, executions, ...) or an unknown frame.

    Attributes:
        message: The decoded frame model.
    """

    message: BaseModel


@dataclass(frozen=True, slots=True)
class RequestCompleted:
    """Every response a request expects has arrived.

    ``responses`` holds them in arrival order, successes and errors alike: one per symbol for
    ``subscribe``/``unsubscribe``, one per id for ``cancel_order``, one otherwise.

    Attributes:
        req_id: The request's id.
        method: The request's method.
        responses: The decoded responses.
        elapsed: Seconds between sending and the last response (from the ``now`` values).
    """

    req_id: int
    method: str
    responses: tuple[BaseModel, ...]
    elapsed: float


@dataclass(frozen=True, slots=True)
class RequestFailed:
    """A request ended without its responses: timed out, or the connection was lost.

    Attributes:
        req_id: The request's id.
        method: The request's method.
        error: A `RequestTimeout` or
            `ConnectionLost`, ready to raise.
        responses: Responses that did arrive before the failure (multi-response requests).
    """

    req_id: int
    method: str
    error: Exception
    responses: tuple[BaseModel, ...] = ()


@dataclass(frozen=True, slots=True)
class UnsolicitedResponse:
    """A method response that matches no pending request (late, duplicate, or not ours).

    Attributes:
        message: The decoded response.
    """

    message: BaseModel


@dataclass(frozen=True, slots=True)
class InvalidFrame:
    """A frame that could not be decoded (not JSON, or strict mode and no model fits).

    Attributes:
        error: The `DecodeError`.
    """

    error: Exception


@dataclass(frozen=True, slots=True)
class ConnectionDead:
    """The watchdog fired: no frame (not even a heartbeat or pong) within the deadline.

    Attributes:
        silent_for: Seconds since the last frame.
    """

    silent_for: float


ProtocolEvent: TypeAlias = (
    ChannelData
    | RequestCompleted
    | RequestFailed
    | UnsolicitedResponse
    | LateResponse
    | SequenceGap
    | InvalidFrame
    | ConnectionDead
)
"""Anything `KrakenProtocol.events_received` yields."""
