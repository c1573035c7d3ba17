"""A verified book as a Kraken snapshot frame (``book`` or ``level3``): where late joiners start.

The frame is what Kraken itself would send for the book's current state (best first, the
exact decimal text of every price and quantity, level3 orders in queue order, the checksum),
so a consumer decodes it with the same `decode` and applies it with the same engine as any
other snapshot, and the engine verifies the checksum: a snapshot built wrong cannot pass
silently.
"""

from __future__ import annotations

from typing import Any

from ..book.l2 import OrderBook
from ..book.l3 import L3Book
from ..protocol import dumps

__all__ = ["snapshot_frame"]


def snapshot_frame(book: OrderBook | L3Book) -> str:
    """The wire text of a snapshot of ``book`` (which must be valid).

    Raises:
        ValueError: The book is not valid (no verified state to publish).
    """
    checksum = book.last_checksum
    if not book.is_valid or checksum is None:
        raise ValueError(f"{book.symbol}: no verified book to publish")
    data: dict[str, Any] = {"symbol": book.symbol}
    if isinstance(book, L3Book):
        channel = "level3"
        for side, key in (("bid", "bids"), ("ask", "asks")):
            orders = []
            for price, _qty in book.levels(side):  # type: ignore[arg-type]
                for order in book.orders_at(price, side):  # type: ignore[arg-type]
                    item: dict[str, Any] = {
                        "order_id": order.order_id,
                        "limit_price": order.price,
                        "order_qty": order.qty,
                    }
                    if order.timestamp is not None:
                        item["timestamp"] = order.timestamp
                    orders.append(item)
            data[key] = orders
    else:
        channel = "book"
        data["bids"] = [{"price": p, "qty": q} for p, q in book.bids()]
        data["asks"] = [{"price": p, "qty": q} for p, q in book.asks()]
    data["checksum"] = checksum
    if book.last_update is not None:
        data["timestamp"] = book.last_update
    return dumps({"channel": channel, "type": "snapshot", "data": [data]})
