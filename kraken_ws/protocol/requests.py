"""Request ids, the pending-request map, expected response counts and deadlines.

Pure bookkeeping: times are plain floats passed in by the caller.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel

from ..exceptions import InvalidState
from ..models.common import TRADING_METHODS

__all__ = [
    "INT32_MAX",
    "MAX_RESERVED",
    "ORDER_ENTRY_METHODS",
    "PendingRequest",
    "PendingRequests",
    "ReqIdAllocator",
    "expected_responses",
    "strip_token",
]

INT32_MAX = 2**31 - 1
"""Largest ``req_id``: Kraken's SDK models it as int32, so stay inside it."""

ORDER_ENTRY_METHODS: frozenset[str] = TRADING_METHODS
"""Methods that change orders: if the connection drops mid-flight, the outcome is unknown."""

# Channels whose subscribe/unsubscribe take a ``symbol`` list and are acked once per symbol.
_SYMBOL_CHANNELS = frozenset({"ticker", "book", "ohlc", "trade", "level3"})


def expected_responses(wire: Mapping[str, Any]) -> int:
    """How many responses a request gets ([Protocol notes §2.2][ref-2-2], multiplicity rules).

    Args:
        wire: The request as it goes on the wire (``method``, ``params``, ``req_id``).

    Returns:
        One per symbol for ``subscribe``/``unsubscribe`` on symbol channels, one per id for
        ``cancel_order``, otherwise one. ``order_userref`` entries in ``cancel_order`` count one
        each: a userref can match any number of orders, so extra responses that arrive after
        completion are reported as unsolicited rather than waited for.
    """
    method = wire.get("method")
    params = wire.get("params") or {}
    if method in ("subscribe", "unsubscribe") and params.get("channel") in _SYMBOL_CHANNELS:
        return max(1, len(params.get("symbol") or ()))
    if method == "cancel_order":
        count = sum(
            len(params.get(name) or ()) for name in ("order_id", "cl_ord_id", "order_userref")
        )
        return max(1, count)
    return 1


def strip_token(wire: Mapping[str, Any]) -> dict[str, Any]:
    """A deep-enough copy of a wire request with ``params.token`` removed (safe to log or keep)."""
    out = dict(wire)
    params = out.get("params")
    if isinstance(params, Mapping) and "token" in params:
        out["params"] = {k: v for k, v in params.items() if k != "token"}
    return out


class ReqIdAllocator:
    """Hands out ``req_id`` values in ``1..INT32_MAX``, wrapping, never one still in flight.

    Args:
        start: The first id to try.
    """

    def __init__(self, start: int = 1) -> None:
        if not 1 <= start <= INT32_MAX:
            raise ValueError("start must be within 1..2**31-1")
        self._next = start

    def allocate(self, in_use: Mapping[int, object] | set[int]) -> int:
        """Return the next free id.

        Args:
            in_use: Ids that must not be handed out (requests still in flight).

        Raises:
            InvalidState: Every id is in flight (2**31 - 1 pending requests).
        """
        if len(in_use) >= INT32_MAX:
            raise InvalidState("no free req_id: every id is in flight")
        candidate = self._next
        while candidate in in_use:
            candidate = 1 if candidate >= INT32_MAX else candidate + 1
        self._next = 1 if candidate >= INT32_MAX else candidate + 1
        return candidate


@dataclass(slots=True)
class PendingRequest:
    """One request waiting for its responses.

    Attributes:
        req_id: The id sent.
        method: The method sent.
        wire: The request as sent, token removed.
        expected: How many responses complete it.
        sent_at: ``now`` when it was sent.
        deadline: ``now`` after which it times out, or ``None`` for never.
        internal: Sent by the protocol itself (keepalive pings); no event on completion.
        responses: Responses collected so far.
        symbols_seen: Symbols that have been answered (subscribe/unsubscribe).
    """

    req_id: int
    method: str
    wire: dict[str, Any]
    expected: int
    sent_at: float
    deadline: float | None
    internal: bool = False
    responses: list[BaseModel] = field(default_factory=list)
    symbols_seen: set[str] = field(default_factory=set)

    @property
    def order_entry(self) -> bool:
        """Whether the request changes orders (outcome unknown if the connection drops)."""
        return self.method in ORDER_ENTRY_METHODS


MAX_RESERVED = 10_000
"""Timed-out requests remembered per connection while their answer may still come (oldest go
first past this: a server that never answers must not grow memory without bound)."""


class PendingRequests:
    """The map of in-flight requests, keyed by ``req_id``, and of timed-out ones.

    A request that times out is not forgotten: it moves to the *reserved* map, where it stays until
    its answer arrives (late) or the connection closes. Its id is not handed out again and a user
    cannot reuse it meanwhile, so a late answer can never complete a newer request that happens to
    carry the same id.
    """

    def __init__(self) -> None:
        self._by_id: dict[int, PendingRequest] = {}
        self._reserved: dict[int, PendingRequest] = {}

    def __len__(self) -> int:
        return len(self._by_id)

    def __contains__(self, req_id: object) -> bool:
        return req_id in self._by_id

    def ids(self) -> set[int]:
        """The ids that must not be handed out: in flight or reserved."""
        return set(self._by_id) | set(self._reserved)

    def add(self, request: PendingRequest) -> None:
        """Track a request.

        Raises:
            InvalidState: A request with the same id is in flight or reserved.
        """
        rid = request.req_id
        if rid in self._by_id:
            raise InvalidState(f"req_id {rid} is already in flight; use another req_id")
        if rid in self._reserved:
            raise InvalidState(
                f"req_id {rid} is reserved: an earlier {self._reserved[rid].method} with this id "
                "timed out and its answer has not arrived yet; use another req_id"
            )
        self._by_id[rid] = request

    def get(self, req_id: int) -> PendingRequest | None:
        """The pending request with that id, if any."""
        return self._by_id.get(req_id)

    def pop(self, req_id: int) -> PendingRequest | None:
        """Stop tracking a request and return it."""
        return self._by_id.pop(req_id, None)

    def expired(self, now: float) -> list[PendingRequest]:
        """Remove and return every request whose deadline is at or before ``now``.

        Each one is reserved (see the class docstring) unless it is internal.
        """
        gone = [p for p in self._by_id.values() if p.deadline is not None and p.deadline <= now]
        for pending in gone:
            del self._by_id[pending.req_id]
            if not pending.internal:
                self._reserved[pending.req_id] = pending
        while len(self._reserved) > MAX_RESERVED:
            del self._reserved[next(iter(self._reserved))]
        return gone

    def abandon(self, req_id: int) -> PendingRequest | None:
        """Stop waiting for one request before its deadline and reserve its id (as if expired)."""
        pending = self._by_id.pop(req_id, None)
        if pending is not None and not pending.internal:
            self._reserved[req_id] = pending
        return pending

    def reserved(self, req_id: int) -> PendingRequest | None:
        """The timed-out request with that id, if it is still reserved."""
        return self._reserved.get(req_id)

    def release(self, req_id: int) -> None:
        """Forget a reserved request (its answer has arrived in full)."""
        self._reserved.pop(req_id, None)

    @property
    def reserved_count(self) -> int:
        """How many timed-out requests are still waiting for a late answer."""
        return len(self._reserved)

    def drain(self) -> list[PendingRequest]:
        """Remove and return every pending request; forget the reserved ones.

        The connection is gone, so no answer can come any more.
        """
        gone = list(self._by_id.values())
        self._by_id.clear()
        self._reserved.clear()
        return gone

    def next_deadline(self) -> float | None:
        """The earliest deadline among pending requests, if any."""
        deadlines = [p.deadline for p in self._by_id.values() if p.deadline is not None]
        return min(deadlines) if deadlines else None
