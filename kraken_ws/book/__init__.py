"""Pure order book engines: L2 (``book``), L3 (``level3``), Kraken's checksums, many-symbol manager.

Nothing here does I/O or reads the clock; the client feeds decoded messages in and acts on what
comes out (for example, resubscribing a symbol whose checksum failed).
"""

from .checksum import book_checksum, checksum_string, level3_checksum, level3_checksum_string
from .l2 import ApplyResult, BookSide, BookView, OrderBook, PriceLevel

__all__ = [
    "ApplyResult",
    "BookSide",
    "BookView",
    "OrderBook",
    "PriceLevel",
    "book_checksum",
    "checksum_string",
    "level3_checksum",
    "level3_checksum_string",
]
