"""What the protocol layer emits, and the lifecycle events users see.

Two families live here:

* **Protocol events** come out of :meth:`KrakenProtocol.events_received
  <kraken_ws.protocol.connection.KrakenProtocol.events_received>`. The client turns them into
  futures resolved, frames queued and reconnects started. Users rarely see them.
* **Lifecycle events** (:class:`Connected`, :class:`Disconnected`, :class:`Reconnecting`,
  :class:`Resubscribed`, :class:`EventsDropped`, :class:`BookResync`) are yielded to users next
  to the typed channel frames by ``async for event in client``.

All are frozen dataclasses: cheap, hashable, typed, and they never go on the wire.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal, TypeAlias

from pydantic import BaseModel

__all__ = [
    "BookResync",
    "ChannelData",
    "Connected",
    "ConnectionDead",
    "ConnectionFailed",
    "Disconnected",
    "Endpoint",
    "EventsDropped",
    "InvalidFrame",
    "LifecycleEvent",
    "ProtocolEvent",
    "Reconnecting",
    "RequestCompleted",
    "RequestFailed",
    "Resubscribed",
    "UnsolicitedResponse",
]

Endpoint: TypeAlias = Literal["public", "auth", "l3"]
"""Which of Kraken's three WebSocket endpoints a connection talks to."""


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
        error: A :class:`~kraken_ws.exceptions.RequestTimeout` or
            :class:`~kraken_ws.exceptions.ConnectionLost`, ready to raise.
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
        error: The :class:`~kraken_ws.exceptions.DecodeError`.
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
    | InvalidFrame
    | ConnectionDead
)
"""Anything :meth:`KrakenProtocol.events_received` yields."""


# --- lifecycle events (user-facing) -------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Connected:
    """A connection to an endpoint opened (first time or after a reconnect).

    Attributes:
        endpoint: ``"public"``, ``"auth"`` or ``"l3"``.
        reconnect: ``True`` if this replaced a lost connection.
    """

    endpoint: Endpoint
    reconnect: bool = False
    channel: None = field(default=None, init=False, repr=False)


@dataclass(frozen=True, slots=True)
class Disconnected:
    """A connection closed or was declared dead.

    Attributes:
        endpoint: Which endpoint.
        code: The WebSocket close code (1006 for an abrupt drop or a watchdog kill), if known.
        reason: The close reason, or why the client gave up on the connection.
    """

    endpoint: Endpoint
    code: int | None
    reason: str
    channel: None = field(default=None, init=False, repr=False)


@dataclass(frozen=True, slots=True)
class ConnectionFailed:
    """The client gave up on an endpoint for good.

    Reasons: reconnect attempts exhausted, credentials refused, close code 1008. Iterators raise
    ``error`` right after yielding this event.

    Attributes:
        endpoint: Which endpoint.
        error: The exception that ended it (never contains credentials or tokens).
    """

    endpoint: Endpoint
    error: BaseException
    channel: None = field(default=None, init=False, repr=False)


@dataclass(frozen=True, slots=True)
class Reconnecting:
    """The client will try to reconnect after ``delay`` seconds.

    Attributes:
        endpoint: Which endpoint.
        attempt: 1 for the first retry after a loss.
        delay: Seconds the client waits before the attempt.
    """

    endpoint: Endpoint
    attempt: int
    delay: float
    channel: None = field(default=None, init=False, repr=False)


@dataclass(frozen=True, slots=True)
class Resubscribed:
    """After a reconnect, every subscription was replayed and every replay was answered.

    Each subscription is requested again with its original params. The event comes once all of
    those requests have been answered; check ``acknowledged_subscriptions()`` for any the server
    refused (a refused token is refetched and retried once first).

    Attributes:
        endpoint: Which endpoint.
        count: Number of subscription requests replayed.
    """

    endpoint: Endpoint
    count: int
    channel: None = field(default=None, init=False, repr=False)


@dataclass(frozen=True, slots=True)
class EventsDropped:
    """The consumer fell behind and market-data events were dropped (oldest first).

    Private data (executions, balances) and lifecycle events are never dropped.

    Attributes:
        count: Events dropped since the previous ``EventsDropped``.
        total: Events dropped since the client started.
    """

    count: int
    total: int
    channel: None = field(default=None, init=False, repr=False)


@dataclass(frozen=True, slots=True)
class BookResync:
    """A book failed its checksum (or its engine asked for it) and is being rebuilt.

    Attributes:
        channel_name: ``"book"`` or ``"level3"``.
        symbol: The book's symbol.
        reason: Why, e.g. ``"checksum mismatch"``.
    """

    channel_name: Literal["book", "level3"]
    symbol: str
    reason: str
    channel: None = field(default=None, init=False, repr=False)


LifecycleEvent: TypeAlias = (
    Connected
    | Disconnected
    | Reconnecting
    | Resubscribed
    | ConnectionFailed
    | EventsDropped
    | BookResync
)
"""Every user-facing lifecycle event."""
