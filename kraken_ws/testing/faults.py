"""Scripted faults for `LocalExchange`.

The exchange owns one `FaultState`; its public fault methods (``stall``,
``corrupt_next_checksum``, ``drop_next_response``, ...) only flip flags here, and the
connection code consults them at the exact point where the fault bites (before queueing a frame,
before answering a request, while checking a token). Keeping the state in one plain object means a
fault never needs a lock: everything runs on the exchange's event loop.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Literal, TypeAlias

__all__ = [
    "CHECKSUM_CORRUPTION",
    "ENDPOINTS",
    "MALFORMED_FRAME",
    "Endpoint",
    "FaultState",
    "check_endpoint",
]

Endpoint: TypeAlias = Literal["public", "auth", "l3"]
"""The three websocket endpoints of the local exchange."""

ENDPOINTS: tuple[Endpoint, ...] = ("public", "auth", "l3")

#: Text sent by `LocalExchange.send_malformed`: a truncated book frame (not valid JSON).
MALFORMED_FRAME = '{"channel":"book","type":"update","data":[{"symbol":"BTC/USD","bids":[{"pri'

#: XORed into a checksum to corrupt it (any non-zero value would do).
CHECKSUM_CORRUPTION = 0x2545F491


def check_endpoint(endpoint: str | None) -> tuple[Endpoint, ...]:
    """Resolve an ``endpoint`` argument to the endpoints it designates.

    Args:
        endpoint: ``"public"``, ``"auth"``, ``"l3"`` or ``None`` for all three.

    Returns:
        The designated endpoints.

    Raises:
        ValueError: ``endpoint`` is not one of the names above.
    """
    if endpoint is None:
        return ENDPOINTS
    for name in ENDPOINTS:
        if endpoint == name:
            return (name,)
    raise ValueError(f"unknown endpoint {endpoint!r}; expected one of {ENDPOINTS} or None")


@dataclass
class FaultState:
    """Every fault currently armed on an exchange."""

    stalled: set[Endpoint] = field(default_factory=set)
    """Endpoints whose connections queue nothing: frames are discarded while stalled (the socket
    stays open and requests are still read and executed)."""
    corrupt_checksums: Counter[str] = field(default_factory=Counter)
    """Symbol -> number of book ticks whose frames must carry a wrong checksum."""
    response_delay: dict[str | None, float] = field(default_factory=dict)
    """Method (or ``None`` for every method) -> seconds to wait before handling a request."""
    dropped_responses: Counter[str] = field(default_factory=Counter)
    """Method -> number of upcoming requests whose responses are swallowed."""
    reject_tokens: int = 0
    """Number of upcoming private requests whose token is treated as invalid."""

    def delay_for(self, method: str) -> float:
        """Return the delay configured for ``method`` (a method-specific one wins)."""
        if method in self.response_delay:
            return self.response_delay[method]
        return self.response_delay.get(None, 0.0)

    def take_dropped_response(self, method: str) -> bool:
        """Consume one armed response drop for ``method``; return whether one was armed."""
        if self.dropped_responses[method] > 0:
            self.dropped_responses[method] -= 1
            return True
        return False

    def take_token_rejection(self) -> bool:
        """Consume one armed token rejection; return whether one was armed."""
        if self.reject_tokens > 0:
            self.reject_tokens -= 1
            return True
        return False

    def take_checksum_corruption(self, symbol: str) -> bool:
        """Consume one armed checksum corruption for ``symbol``; return whether one was armed."""
        if self.corrupt_checksums[symbol] > 0:
            self.corrupt_checksums[symbol] -= 1
            return True
        return False

    def checksum(self, symbol: str, checksum: int) -> int:
        """``checksum``, made wrong if a corruption is armed for ``symbol`` (consuming it)."""
        if self.take_checksum_corruption(symbol):
            return checksum ^ CHECKSUM_CORRUPTION
        return checksum
