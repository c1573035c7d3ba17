"""Rate limits of the local exchange: the per-pair trading counter and a per-connection pacer.

`TradingCounter` is the matching engine's per-pair counter of [Protocol notes §10.1][ref-10-1]: it
starts at 0, every transaction adds to it (the fixed cost plus an age-based penalty for amends,
edits and cancels of young orders), it decays continuously at the tier's rate per second, and a
transaction that would take it over the tier's threshold is refused with ``EOrder:Rate limit
exceeded``.

`MessageBucket` is the optional per-connection message-rate limit (``Exceeded msg rate``,
[Protocol notes §9][ref-9]/[Protocol notes §10.2][ref-10-2]; Kraken publishes no number, so the
exchange leaves it off by default).

Both read only the exchange's injectable clock.

Judgement calls (the reference does not settle them; plausible behaviour, not Kraken facts):

* The decay is continuous (``value - elapsed * decay``, floored at 0) rather than in whole-second
  steps; the docs say "decays every second by" the tier's amount.
* A transaction is refused when ``counter + cost > threshold`` (so a counter *at* the threshold
  refuses every costing transaction, as the docs' "at/over threshold" says, and a transaction
  is never let through to push the counter over it - except ``batch_cancel``, which the docs say
  is "still accepted" beyond the max). A transaction that costs nothing (a cancel of an order
  older than 300 s) is never refused. A refused transaction is not charged.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

from ..ratelimit import TIERS as CLIENT_TIERS

__all__ = [
    "TIERS",
    "MessageBucket",
    "Tier",
    "TierSpec",
    "TradingCounter",
]

Tier = Literal["starter", "intermediate", "pro"]
"""Kraken verification tier of the simulated account."""


@dataclass(frozen=True, slots=True)
class TierSpec:
    """One tier's matching-engine limits ([Protocol notes §10.1][ref-10-1]).

    Attributes:
        decay: Counter decrease per second.
        threshold: Counter value at which transactions are refused (``maxratecount``).
        max_open_orders: Open orders per pair (``EOrder:Orders limit exceeded`` beyond).
    """

    decay: float
    threshold: int
    max_open_orders: int


TIERS: dict[str, TierSpec] = {
    name: TierSpec(
        decay=limits.decay, threshold=int(limits.threshold), max_open_orders=max_open_orders
    )
    for (name, limits), max_open_orders in zip(CLIENT_TIERS.items(), (60, 80, 225), strict=True)
}
"""[Protocol notes §10.1][ref-10-1], by tier name: the client model's counter parameters
(`kraken_ws.ratelimit.TIERS`) plus the open orders allowed per pair."""


class TradingCounter:
    """Per-pair trading rate counters of the exchange's one account.

    Args:
        tier: The account's limits.
        clock: Epoch seconds (the exchange's injectable clock).
    """

    def __init__(self, tier: TierSpec, clock: Callable[[], float]) -> None:
        self.tier = tier
        self._clock = clock
        self._values: dict[str, tuple[float, float]] = {}  # symbol -> (value, at)

    def value(self, symbol: str) -> float:
        """The counter of ``symbol`` now (after decay)."""
        now = self._clock()
        value, at = self._values.get(symbol, (0.0, now))
        return max(0.0, value - max(0.0, now - at) * self.tier.decay)

    def would_exceed(self, symbol: str, cost: float) -> bool:
        """Whether charging ``cost`` now must be refused (``EOrder:Rate limit exceeded``)."""
        return cost > 0 and self.value(symbol) + cost > self.tier.threshold

    def charge(self, symbol: str, cost: float) -> None:
        """Add ``cost`` to the counter of ``symbol`` (no check: see `would_exceed`)."""
        if cost > 0:
            self._values[symbol] = (self.value(symbol) + cost, self._clock())


class MessageBucket:
    """Token bucket of one connection: ``rate`` messages per second, bursts of ``rate``.

    Args:
        rate: Messages per second (the bucket also holds at most ``max(1, rate)`` messages).
        clock: Epoch seconds (the exchange's injectable clock).
    """

    def __init__(self, rate: float, clock: Callable[[], float]) -> None:
        if rate <= 0:
            raise ValueError("max_msg_rate must be positive (or None to disable the limit)")
        self.rate = rate
        self.capacity = max(1.0, rate)
        self._clock = clock
        self._tokens = self.capacity
        self._at = clock()

    def take(self) -> bool:
        """Take one message's worth; ``False`` means over the limit (nothing taken)."""
        now = self._clock()
        self._tokens = min(self.capacity, self._tokens + max(0.0, now - self._at) * self.rate)
        self._at = now
        if self._tokens < 1:
            return False
        self._tokens -= 1
        return True
