"""Pure order book engines: L2 (``book``), L3 (``level3``), Kraken's checksums, many-symbol manager.

Nothing here does I/O or reads the clock; the client feeds decoded messages in and acts on what
comes out (for example, resubscribing a symbol whose checksum failed).
"""

from kraken_ws.book.checksum import (
    book_checksum,
    checksum_string,
    level3_checksum,
    level3_checksum_string,
)
from kraken_ws.book.l2 import ApplyResult, BookSide, BookView, OrderBook, PriceLevel
from kraken_ws.book.l3 import L3Book, L3Order
from kraken_ws.book.live import BookChannel, LiveBooks
from kraken_ws.book.manager import BookEvent, BookManager, BookUpdated, ResyncNeeded

__all__ = [
    "ApplyResult",
    "BookChannel",
    "BookEvent",
    "BookManager",
    "BookSide",
    "BookUpdated",
    "BookView",
    "L3Book",
    "L3Order",
    "LiveBooks",
    "OrderBook",
    "PriceLevel",
    "ResyncNeeded",
    "book_checksum",
    "checksum_string",
    "level3_checksum",
    "level3_checksum_string",
]
