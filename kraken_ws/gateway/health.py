"""The gateway's health: what ``kraken.gw.health`` carries once a second, and the CLI shows."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from typing import Any

__all__ = ["GatewayHealth", "SubscriptionHealth"]


@dataclass(frozen=True, slots=True)
class SubscriptionHealth:
    """One subscription.

    Attributes:
        channel: The channel.
        symbol: The pair.
        last_frame_age: Seconds since its last frame.
        frames: Frames received.
        book_valid: For a book, whether the gateway's copy is verified now.
    """

    channel: str
    symbol: str
    last_frame_age: float
    frames: int
    book_valid: bool | None = None


@dataclass(frozen=True, slots=True)
class GatewayHealth:
    """A gateway's health at one instant.

    Attributes:
        epoch: The gateway run.
        time: Unix time of the report.
        nats_connected: Whether the NATS connection is up.
        connections: Kraken endpoint -> connection state (``open``, ``connecting``...).
        subscriptions: Every subscription.
        published: Market-data and lifecycle messages published.
        private_published: Account-data messages stored (acknowledged).
        publish_errors: Publishes that failed.
        outbox: Messages waiting to go out.
        lag_p50_ms: Median time from Kraken frame read to NATS publish since the last report.
        lag_max_ms: The largest of those.
    """

    epoch: str
    time: float
    nats_connected: bool
    connections: dict[str, str]
    subscriptions: list[SubscriptionHealth] = field(default_factory=list)
    published: int = 0
    private_published: int = 0
    publish_errors: int = 0
    outbox: int = 0
    lag_p50_ms: float | None = None
    lag_max_ms: float | None = None

    @property
    def books_valid(self) -> bool:
        """Whether every book is verified."""
        return all(s.book_valid for s in self.subscriptions if s.book_valid is not None)

    def to_json(self) -> bytes:
        """The message body."""
        return json.dumps(asdict(self)).encode()

    @classmethod
    def from_json(cls, data: bytes) -> GatewayHealth:
        """Parse a message body."""
        obj: dict[str, Any] = json.loads(data)  # noqa: TID251 - our own JSON, no wire numbers
        obj["subscriptions"] = [SubscriptionHealth(**s) for s in obj.get("subscriptions", [])]
        return cls(**obj)
