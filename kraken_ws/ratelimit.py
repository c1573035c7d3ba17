"""Local models of Kraken's rate limits, so the client can refuse before the exchange does.

* `TradingRateLimiter` models the per-pair matching-engine counter
([Protocol notes §10.1][ref-10-1]):
  every transaction adds to a pair's counter, the counter decays every second by a tier-based
  amount, and at the tier threshold Kraken answers ``EOrder:Rate limit exceeded``. Cancels and
  amends of young orders cost more (the age penalty table). The model is conservative: it only
  knows the orders this client placed, and charges the fixed costs the docs list.
* `MessagePacer` is a token bucket for subscription bursts: Kraken's per-connection
  message rate is unpublished ("varies with load"), and a burst of subscribes is the classic way
  to earn ``Exceeded msg rate``.

Neither reads a clock of its own: the clock is injected (``time.monotonic`` by default).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

from .exceptions import RateLimitError

__all__ = [
    "AMEND_PENALTY",
    "CANCEL_PENALTY",
    "EDIT_PENALTY",
    "TIERS",
    "MessagePacer",
    "NullRateLimiter",
    "Tier",
    "TierLimits",
    "TradingRateLimiter",
    "penalty",
]

Tier = Literal["starter", "intermediate", "pro"]
"""Kraken verification tier."""


@dataclass(frozen=True, slots=True)
class TierLimits:
    """One tier's counter parameters.

    Attributes:
        decay: Counter decrease per second.
        threshold: Counter value at which orders are refused.
    """

    decay: float
    threshold: float


TIERS: dict[str, TierLimits] = {
    "starter": TierLimits(decay=1.0, threshold=60),
    "intermediate": TierLimits(decay=2.34, threshold=125),
    "pro": TierLimits(decay=3.75, threshold=180),
}
"""Kraken's tiers ([Protocol notes §10.1][ref-10-1])."""

# (age limit in seconds, penalty): the first row whose limit is above the order's age applies.
# Age = seconds since the order was created or last amended (docs/protocol.md#ref-10-1). One
# table for both sides of the wire: this client's model and the local exchange's counter.
CANCEL_PENALTY: tuple[tuple[float, int], ...] = (
    (5, 8),
    (10, 6),
    (15, 5),
    (45, 4),
    (90, 2),
    (300, 1),
)
"""Cancel order (and each order of a batch cancel): penalty by age; the table has no fixed part."""
AMEND_PENALTY: tuple[tuple[float, int], ...] = ((5, 3), (10, 2), (15, 1))
"""Amend order: penalty by age, on top of the fixed +1."""
EDIT_PENALTY: tuple[tuple[float, int], ...] = ((5, 6), (10, 5), (15, 4), (45, 2), (90, 1))
"""Edit order: penalty by age, on top of the fixed +1."""


def penalty(table: tuple[tuple[float, int], ...], age: float) -> int:
    """The age penalty of ``table`` for an order ``age`` seconds old (0 past the last row)."""
    for limit, cost in table:
        if age < limit:
            return cost
    return 0


class TradingRateLimiter:
    """Per-pair trading counter model.

    Args:
        tier: ``"starter"``, ``"intermediate"`` or ``"pro"``.
        clock: Seconds on a monotonic clock.
        margin: Keep this much headroom below the threshold (clock skew, other sessions).
    """

    def __init__(
        self,
        tier: Tier = "starter",
        *,
        clock: Callable[[], float] = time.monotonic,
        margin: float = 0.0,
    ) -> None:
        self.limits = TIERS[tier]
        self._clock = clock
        self._margin = margin
        self._counters: dict[str, tuple[float, float]] = {}  # symbol -> (value, at)
        self._orders: dict[str, tuple[str, float]] = {}  # order id / cl_ord_id -> (symbol, born)

    def calibrate(self, maxratecount: int) -> None:
        """Adopt the account's threshold from an ``executions`` ack (``maxratecount``).

        The client calls this for every ``executions`` subscription ack, so the model follows
        the account's real tier whatever tier it was built with. A threshold of a known tier
        takes that tier's decay too; any other keeps the current decay (the ack does not carry
        it). Counters already modelled are kept.

        Args:
            maxratecount: The ack's tier maximum, e.g. ``125``.
        """
        if maxratecount <= 0:
            return
        for limits in TIERS.values():
            if limits.threshold == maxratecount:
                self.limits = limits
                return
        self.limits = TierLimits(decay=self.limits.decay, threshold=maxratecount)

    def counter(self, symbol: str) -> float:
        """The modelled counter of a pair now."""
        value, at = self._counters.get(symbol, (0.0, self._clock()))
        return max(0.0, value - (self._clock() - at) * self.limits.decay)

    def charge(self, symbol: str, cost: float, *, enforce: bool = True) -> None:
        """Add ``cost`` to a pair's counter, or refuse.

        Args:
            symbol: The pair.
            cost: Counter increment.
            enforce: Refuse when the threshold would be passed. ``False`` charges regardless:
                Kraken accepts a batch cancel beyond the maximum and only counts it.

        Raises:
            RateLimitError: The counter would reach the threshold (with ``enforce``).
        """
        current = self.counter(symbol)
        if enforce and current + cost > self.limits.threshold - self._margin:
            raise RateLimitError(
                "EOrder:Rate limit exceeded (local model: "
                f"counter {current:.2f} + {cost:g} > {self.limits.threshold:g})",
                symbol=symbol,
            )
        self._counters[symbol] = (current + cost, self._clock())

    def order_placed(self, symbol: str, order_id: str | None, cl_ord_id: str | None = None) -> None:
        """Remember an order's pair and birth time (for cancel/amend age penalties)."""
        now = self._clock()
        for key in (order_id, cl_ord_id):
            if key:
                self._orders[key] = (symbol, now)

    def order_replaced(self, old_id: str, new_id: str) -> None:
        """``edit_order`` replaced an order: the new id inherits the pair, its age restarts."""
        known = self._orders.pop(old_id, None)
        if known is not None and new_id:
            self._orders[new_id] = (known[0], self._clock())

    def charge_cancel(self, order_id: str, *, enforce: bool = True) -> None:
        """Charge the age penalty of cancelling a known order (unknown ids cost nothing here).

        Args:
            order_id: The order's id or client id.
            enforce: Refuse when the threshold would be passed (``False`` for batch cancels,
                which Kraken accepts beyond the maximum).

        Raises:
            RateLimitError: The counter would reach the threshold (with ``enforce``).
        """
        known = self._orders.pop(order_id, None)
        if known is None:
            return
        symbol, born = known
        cost = penalty(CANCEL_PENALTY, self._clock() - born)
        if cost:
            self.charge(symbol, cost, enforce=enforce)

    def modify_cost(
        self, kind: Literal["amend", "edit"], order_id: str
    ) -> tuple[str | None, float]:
        """The pair and cost of amending or editing a known order.

        Args:
            kind: ``"amend"`` or ``"edit"``.
            order_id: The order's id or client id.

        Returns:
            ``(symbol, cost)``, or ``(None, 0)`` for an order this client did not place.
        """
        known = self._orders.get(order_id)
        if known is None:
            return None, 0.0
        symbol, born = known
        table = AMEND_PENALTY if kind == "amend" else EDIT_PENALTY
        cost = 1 + penalty(table, self._clock() - born)
        if kind == "amend":
            # An amend restarts the order's age.
            self._orders[order_id] = (symbol, self._clock())
        return symbol, float(cost)


class MessagePacer:
    """Token bucket: ``burst`` messages at once, then ``rate`` per second.

    Args:
        rate: Sustained messages per second.
        burst: Bucket size.
        clock: Seconds on a monotonic clock.
    """

    def __init__(
        self, rate: float = 20.0, burst: int = 20, *, clock: Callable[[], float] = time.monotonic
    ) -> None:
        if rate <= 0 or burst < 1:
            raise ValueError("need rate > 0 and burst >= 1")
        self._rate = rate
        self._burst = float(burst)
        self._clock = clock
        self._tokens = float(burst)
        self._at = clock()

    def reserve(self) -> float:
        """Take one slot.

        Returns:
            Seconds to wait before sending (0 when a slot is free now).
        """
        now = self._clock()
        self._tokens = min(self._burst, self._tokens + (now - self._at) * self._rate)
        self._at = now
        self._tokens -= 1
        return 0.0 if self._tokens >= 0 else -self._tokens / self._rate


class NullRateLimiter(TradingRateLimiter):
    """The client's default: counts nothing and refuses nothing.

    With it, the rate limit is one step of the request pipeline like any other, instead of an
    ``if limiter is not None`` at every call site.
    """

    def calibrate(self, maxratecount: int) -> None:
        """Nothing to adopt."""

    def charge(self, symbol: str, cost: float, *, enforce: bool = True) -> None:
        """Never refuses."""

    def order_placed(self, symbol: str, order_id: str | None, cl_ord_id: str | None = None) -> None:
        """Nothing to remember."""

    def order_replaced(self, old_id: str, new_id: str) -> None:
        """Nothing to remember."""

    def charge_cancel(self, order_id: str, *, enforce: bool = True) -> None:
        """Never refuses."""

    def modify_cost(
        self, kind: Literal["amend", "edit"], order_id: str
    ) -> tuple[str | None, float]:
        """Always free."""
        del kind, order_id  # the real model's signature; nothing to look up
        return None, 0.0
