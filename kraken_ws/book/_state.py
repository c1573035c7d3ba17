"""Identity and sync state shared by the L2 and L3 engines."""

from __future__ import annotations

import zlib
from typing import Protocol

from kraken_ws.protocol import MAX_EXPONENT

__all__ = ["BookState", "CachedSide", "check_precision"]


class CachedSide(Protocol):
    """One side of a book that caches the checksum text of its 10 best levels."""

    _dirty: bool
    """Whether the cached text is stale (a change reached the 10 best levels)."""

    def checksum_text(self, price_precision: int | None, qty_precision: int | None) -> bytes:
        """The side's checksum text, rebuilt only when stale."""
        ...


def check_precision(price_precision: int | None, qty_precision: int | None) -> None:
    """Refuse checksum precisions no pair can have (each pads a token with that many zeros).

    Raises:
        ValueError: A precision is not ``None`` and not between 0 and ``MAX_EXPONENT`` (400).
    """
    for name, value in (("price_precision", price_precision), ("qty_precision", qty_precision)):
        if value is not None and not 0 <= value <= MAX_EXPONENT:
            raise ValueError(f"{name} must be between 0 and {MAX_EXPONENT}, got {value}")


class BookState:
    """What every book knows about itself: symbol, depth, precisions and whether it is in sync.

    Subclasses keep the levels or orders and implement ``apply``; this class only holds the
    bookkeeping both engines expose the same way.

    Raises:
        ValueError: ``depth`` is not positive.
    """

    __slots__ = (
        "_asks_crc",
        "_crc",
        "_depth",
        "_has_snapshot",
        "_last_checksum",
        "_last_update",
        "_messages",
        "_price_precision",
        "_qty_precision",
        "_symbol",
        "_valid",
    )

    def __init__(
        self,
        symbol: str,
        depth: int,
        price_precision: int | None,
        qty_precision: int | None,
    ) -> None:
        if depth <= 0:
            raise ValueError(f"depth must be positive, got {depth}")
        check_precision(price_precision, qty_precision)
        self._symbol = symbol
        self._depth = depth
        self._price_precision = price_precision
        self._qty_precision = qty_precision
        self._has_snapshot = False
        self._valid = False
        self._last_checksum: int | None = None
        self._last_update: str | None = None
        self._messages = 0
        self._asks_crc = 0
        self._crc = 0

    def _crc_of(self, asks: CachedSide, bids: CachedSide) -> int:
        # Asks first, then bids, as Kraken joins them. Each side caches its text; the CRC of
        # the asks is cached here, and the whole value is reused while neither side changed.
        pp = self._price_precision
        qp = self._qty_precision
        if asks._dirty:
            self._asks_crc = zlib.crc32(asks.checksum_text(pp, qp))
        elif not bids._dirty:
            return self._crc
        # crc32(b, crc32(a)) == crc32(a + b): no need to join the two halves.
        self._crc = zlib.crc32(bids.checksum_text(pp, qp), self._asks_crc)
        return self._crc

    @property
    def symbol(self) -> str:
        """The pair this book tracks."""
        return self._symbol

    @property
    def depth(self) -> int:
        """Price levels kept per side."""
        return self._depth

    @property
    def price_precision(self) -> int | None:
        """Decimals prices are padded to for the checksum, or ``None`` for the wire digits."""
        return self._price_precision

    @property
    def qty_precision(self) -> int | None:
        """Decimals quantities are padded to for the checksum, or ``None`` for the wire digits."""
        return self._qty_precision

    @property
    def is_valid(self) -> bool:
        """``True`` after a verified snapshot until the first checksum mismatch."""
        return self._valid

    @property
    def has_snapshot(self) -> bool:
        """``True`` once a snapshot was applied (updates are accepted from then on)."""
        return self._has_snapshot

    @property
    def last_update(self) -> str | None:
        """Wire timestamp text of the last applied message (``None`` if it had none)."""
        return self._last_update

    @property
    def last_checksum(self) -> int | None:
        """The checksum we computed after the last message, or ``None`` before any."""
        return self._last_checksum

    @property
    def messages_applied(self) -> int:
        """Number of snapshot and update messages applied (one per data item)."""
        return self._messages
