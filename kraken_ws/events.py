"""The events the client yields besides channel frames: lifecycle and order safety.

``async for event in client`` yields typed channel frames (``BookUpdate``, ``ExecutionsUpdate``,
...) and these: connection lifecycle (`Connected`, `Disconnected`,
`Reconnecting`, `Resubscribed`, `ConnectionFailed`), consumer and book
health (`EventsDropped`, `BookResync`) and order safety (`OrderResolved`,
`LateResponse`, `FillsRecovered`, `SequenceGap`).

All are frozen dataclasses: cheap, immutable, typed, and they never go on the wire. Each has a
``channel`` attribute that is ``None``, so ``event.channel`` works on anything the client yields.
This module depends on nothing else in the package: the protocol layer emits two of these
(``LateResponse``, ``SequenceGap``) and the client all of them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal, TypeAlias

from pydantic import BaseModel

__all__ = [
    "BookResync",
    "Connected",
    "ConnectionFailed",
    "Disconnected",
    "Endpoint",
    "EventsDropped",
    "FillsRecovered",
    "LateResponse",
    "LifecycleEvent",
    "OrderOutcome",
    "OrderResolved",
    "Reconnecting",
    "Resubscribed",
    "SequenceGap",
]

Endpoint: TypeAlias = Literal["public", "auth", "l3"]
"""Which of Kraken's three WebSocket endpoints a connection talks to."""


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


@dataclass(frozen=True, slots=True)
class FillsRecovered:
    """Fills that happened while the auth connection was down (or frames were lost) were found.

    Right after this event the client yields one ``ExecutionsUpdate`` carrying exactly those
    trade reports, as Kraken lists them in its executions snapshot, so that a position built
    from ``executions`` events stays equal to the exchange's. Fills already delivered are never
    delivered twice (deduplicated by ``exec_id``).

    Attributes:
        count: Number of fills recovered.
        exec_ids: Their ``exec_id``.
        truncated: Kraken's snapshot holds only the last 50 fills and all of them were new: older
            fills of the gap may be missing (query the REST ``TradesHistory`` to be sure).
    """

    count: int
    exec_ids: tuple[str, ...]
    truncated: bool = False
    channel: None = field(default=None, init=False, repr=False)


OrderOutcome: TypeAlias = Literal["placed", "not_placed", "applied", "not_applied", "unknown"]
"""How an in-doubt request ended, as Kraken's own data shows it (see `OrderResolved`)."""


@dataclass(frozen=True, slots=True)
class OrderResolved:
    """An order-entry request whose outcome was unknown has been resolved.

    Emitted once per order (a ``batch_add`` in doubt resolves each of its orders separately).

    ``outcome``:

    * ``"placed"``: Kraken holds (or held) the order: ``order_id`` and ``order_status`` say
      which and how it stands (``"new"``, ``"partially_filled"``, ``"filled"``...).
    * ``"not_placed"``: no open order and no recent fill carries its ``cl_ord_id`` /
      ``order_userref`` (or the late answer was an error): the order is not live and did not
      trade; sending it again cannot double a position.
    * ``"applied"`` / ``"not_applied"``: for amend, edit, cancel and cancel-all requests,
      whether the open orders show the change.
    * ``"unknown"``: Kraken's data cannot tell (``cancel_all_orders_after``; an ``add_order``
      without ``cl_ord_id`` or ``order_userref`` while ``auto_cl_ord_id`` is off).

    Attributes:
        method: The request's method.
        req_id: The request's id.
        outcome: See above.
        source: What resolved it: ``"late_response"`` or ``"executions"``.
        cl_ord_id: The order's client id, if it had one.
        order_userref: The order's client tag, if it had one.
        order_id: Kraken's id, when known.
        order_status: The order's status in Kraken's data, when known.
        request: The request as sent (token removed).
        reason: A short human explanation.
    """

    method: str
    req_id: int | None
    outcome: OrderOutcome
    source: Literal["late_response", "executions"]
    cl_ord_id: str | None = None
    order_userref: int | None = None
    order_id: str | None = None
    order_status: str | None = None
    request: dict[str, Any] | None = None
    reason: str = ""
    channel: None = field(default=None, init=False, repr=False)


@dataclass(frozen=True, slots=True)
class LateResponse:
    """An answer to a request that already gave up (it timed out; its ``req_id`` was reserved).

    The protocol emits it and the client passes it on to users unchanged: for an order-entry
    request it tells what Kraken did after all (and resolves the in-doubt order).

    Attributes:
        req_id: The request's id.
        method: The request's method.
        request: The request as sent (token removed).
        response: The decoded answer.
        elapsed: Seconds between sending and this answer.
    """

    req_id: int
    method: str
    request: dict[str, Any]
    response: BaseModel
    elapsed: float
    channel: None = field(default=None, init=False, repr=False)


@dataclass(frozen=True, slots=True)
class SequenceGap:
    """A private channel's ``sequence`` skipped numbers: frames were lost on this connection.

    The client resubscribes the channel with a snapshot (and, for ``executions``, recovers the
    fills of the gap). The protocol emits it; the client passes it on to users.

    Attributes:
        channel_name: ``"executions"`` or ``"balances"``.
        expected: The sequence number that should have come.
        received: The one that came.
    """

    channel_name: str
    expected: int
    received: int
    channel: None = field(default=None, init=False, repr=False)


LifecycleEvent: TypeAlias = (
    Connected
    | Disconnected
    | Reconnecting
    | Resubscribed
    | ConnectionFailed
    | EventsDropped
    | BookResync
    | LateResponse
    | SequenceGap
    | OrderResolved
    | FillsRecovered
)
"""Every user-facing lifecycle event."""
