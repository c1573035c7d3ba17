"""A verified book as a Kraken ``book`` snapshot frame: what late joiners start from.

The frame is what Kraken itself would send for the book's current state (best first, the
exact decimal text of every price and quantity, the checksum of the top ten levels), so a
consumer decodes it with the same `decode` and applies it with the same engine as any other
snapshot, and the engine verifies the checksum: a snapshot built wrong cannot pass silently.
"""

from __future__ import annotations

from typing import Any

from ..book.l2 import OrderBook
from ..protocol import dumps

__all__ = ["snapshot_frame"]


def snapshot_frame(book: OrderBook) -> str:
    """The wire text of a snapshot of ``book`` (which must be valid).

    Raises:
        ValueError: The book is not valid (no verified state to publish).
    """
    checksum = book.last_checksum
    if not book.is_valid or checksum is None:
        raise ValueError(f"{book.symbol}: no verified book to publish")
    data: dict[str, Any] = {
        "symbol": book.symbol,
        "bids": [{"price": p, "qty": q} for p, q in book.bids()],
        "asks": [{"price": p, "qty": q} for p, q in book.asks()],
        "checksum": checksum,
    }
    if book.last_update is not None:
        data["timestamp"] = book.last_update
    return dumps({"channel": "book", "type": "snapshot", "data": [data]})
