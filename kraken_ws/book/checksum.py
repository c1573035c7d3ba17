"""Kraken's CRC32 book checksums, as pure functions.

Theory of operation
===================

Every ``book`` and ``level3`` message carries ``checksum``: an unsigned CRC32 of the top 10
price levels of each side *after* the message has been applied and the book truncated to the
subscribed depth. The input string is built from decimal text, so it is only reproducible when
the numbers keep the engine's digits:

1. For each of the 10 best asks (price ascending), then each of the 10 best bids (price
   descending), append ``fmt(price) + fmt(qty)``. The L3 variant appends ``fmt(limit_price) +
   fmt(order_qty)`` for *every order* of those 10 price levels, in queue order.
2. ``fmt(x)`` writes ``x`` in plain positional notation with all of its decimals, removes the
   ``.`` and strips leading ``0`` characters (trailing zeros stay: they are the point).
3. ``zlib.crc32`` (IEEE) of the ASCII string, read as unsigned 32-bit.

Where the digits come from. Live frames carry the engine's digits (``0.00100000``,
``62807.0``) and the lossless decoder keeps them, so ``format(Decimal, "f")`` of the decoded value
is already the right text. ``str(Decimal)`` is *not*: ``Decimal("0E-8")`` and ``Decimal("1E-8")``
print in exponent form. Some sources lose the trailing zeros (Kraken's own book-page example,
frames that went through floats); for those the pair's ``price_precision``/``qty_precision``
from the ``instrument`` channel restore them. With a precision, a value is *padded* with zeros
up to that many decimals but never rounded: a token with more decimals than the instrument says
is taken as the truth about the engine's precision (a stale instrument must not hide digits).

Kraken's worked example (book checksum guide, BTC/USD; [Protocol notes §8.2][ref-8-2]):

```text
asks (low to high)         bids (high to low)
45285.2  0.00100000        45283.5  0.10000000
45286.4  1.54571953        45283.4  1.54582015
...                        ...

fmt(45285.2) + fmt(0.00100000) = "452852" + "100000"

asks: 452852100000 45286415457195 ... 45299518772827
bids: 4528351000000 45283415458201 ... 45276615445238
crc32(asks + bids) = 3310070434
```

>>> from decimal import Decimal as D
>>> checksum_token(D("45285.2")) + checksum_token(D("0.00100000"))
'452852100000'
>>> checksum_token(D("0.566"), 4), checksum_token(D("1E-8")), checksum_token(D("29431.0"), 1)
('5660', '1', '294310')
"""

from __future__ import annotations

import itertools
import zlib
from collections.abc import Iterable
from decimal import Decimal

from kraken_ws.protocol import MAX_EXPONENT

__all__ = [
    "CHECKSUM_LEVELS",
    "LevelTokens",
    "PriceQty",
    "book_checksum",
    "checksum_string",
    "checksum_token",
    "crc32_unsigned",
    "level3_checksum",
    "level3_checksum_string",
    "level_token",
]

CHECKSUM_LEVELS = 10
"""Price levels per side that enter the checksum, whatever the subscribed depth."""

PriceQty = tuple[Decimal, Decimal]


def checksum_token(value: Decimal, precision: int | None = None) -> str:
    """Render one price or quantity the way Kraken's checksum needs it.

    Args:
        value: A finite, non-negative decimal.
        precision: Decimals to pad to (``price_precision`` or ``qty_precision`` of the pair);
            ``None`` keeps the value's own digits.

    Returns:
        The digits without the decimal point and without leading zeros.

    Raises:
        ValueError: Padding to ``precision`` would add more than ``MAX_EXPONENT`` (400) zeros
            (no pair has such a precision; `OrderBook` refuses one).
    """
    # str() is about twice as fast as format(..., "f") but switches to exponent form for tiny
    # or huge values (Decimal("1E-8"), Decimal("0E-8")); those fall back to "f", which never
    # uses an exponent.
    text = str(value)
    if "E" in text and -MAX_EXPONENT <= value.adjusted() <= MAX_EXPONENT:
        text = format(value, "f")
    # else: an exponent beyond the bound of kraken_ws.protocol._json, which nothing decoded
    # from the wire has (a book built by hand could): its positional text could take
    # gigabytes, so the exponent form stays. It cannot match Kraken's checksum: the book
    # resyncs instead of stalling.
    if precision:
        dot = text.find(".")
        if dot < 0:
            missing = precision
        else:
            missing = precision - (len(text) - dot - 1)
            text = text[:dot] + text[dot + 1 :]
        if missing > 0:
            # Checked here, where padding happens (rarely: wire digits usually match the
            # instrument's precision), not on every token of the hot path.
            if missing > MAX_EXPONENT:
                raise ValueError(f"precision {precision} pads more than {MAX_EXPONENT} zeros")
            text += "0" * missing
        return text.lstrip("0")
    return text.replace(".", "").lstrip("0")


def level_token(
    price: Decimal, qty: Decimal, price_precision: int | None, qty_precision: int | None
) -> str:
    """Return ``fmt(price) + fmt(qty)``, the contribution of one level (or one L3 order)."""
    # The common case, in one call: this runs for every change near the top of a book. Without
    # an "E", str() is the positional form checksum_token would use; with at least `precision`
    # digits after its point (wire digits at the pair's precision, or no precision), it needs
    # no padding, and checksum_token would only drop the point and the leading zeros.
    price_text = str(price)
    qty_text = str(qty)
    if (
        "E" not in price_text
        and "E" not in qty_text
        and (not price_precision or 0 <= price_text.find(".") < len(price_text) - price_precision)
        and (not qty_precision or 0 <= qty_text.find(".") < len(qty_text) - qty_precision)
    ):
        return price_text.replace(".", "").lstrip("0") + qty_text.replace(".", "").lstrip("0")
    return checksum_token(price, price_precision) + checksum_token(qty, qty_precision)


class LevelTokens:
    """`level_token` as ASCII bytes at one book's precisions, price parts cached by their text.

    Why: an L2 book renders a level's token each time the level changes among the 10 best, about
    1.3 times per live update at depth 10, and `level_token` costs about 0.6 µs. The quantity
    is new every time, but the top of a book keeps coming back to the same few dozen prices, so
    their parts are looked up by ``str(price)``: a ``str`` key, since hashing a fresh ``Decimal``
    costs about 0.3 µs. Two ``Decimal`` s with the same ``str`` have the same token. The
    quantity part takes `level_token`'s own fast path (same condition, same text), else
    `checksum_token`. The cache is bounded: it is emptied when it holds ``_PARTS_MAX`` prices.

    Args:
        price_precision: The book's price precision, or ``None`` for wire digits.
        qty_precision: The book's quantity precision, or ``None`` for wire digits.
    """

    __slots__ = ("_parts", "_price_precision", "_qty_precision")

    def __init__(self, price_precision: int | None, qty_precision: int | None) -> None:
        self._parts: dict[str, bytes] = {}
        self._price_precision = price_precision
        self._qty_precision = qty_precision

    def render(self, price: Decimal, qty: Decimal) -> bytes:
        """Return ``level_token(price, qty, price_precision, qty_precision)`` as ASCII bytes."""
        price_text = str(price)
        part = self._parts.get(price_text)
        if part is None:
            part = self._price_part(price_text, price)
        qty_text = str(qty)
        qty_precision = self._qty_precision
        if "E" not in qty_text and (
            not qty_precision or 0 <= qty_text.find(".") < len(qty_text) - qty_precision
        ):
            return part + qty_text.replace(".", "").lstrip("0").encode("ascii")
        return part + checksum_token(qty, qty_precision).encode("ascii")

    def _price_part(self, text: str, price: Decimal) -> bytes:
        parts = self._parts
        if len(parts) >= _PARTS_MAX:
            parts.clear()
        precision = self._price_precision
        if "E" not in text and (not precision or 0 <= text.find(".") < len(text) - precision):
            part = text.replace(".", "").lstrip("0")
        else:
            part = checksum_token(price, precision)
        encoded = parts[text] = part.encode("ascii")
        return encoded


# Prices whose token parts one book keeps (LevelTokens): the 20 of both top 10s and the ones
# they keep coming back to. Small, since it is per book (at most ~30 KiB each); prices drifting
# away, or a hostile stream of ever new ones, only make the cache start over.
_PARTS_MAX = 256


def crc32_unsigned(text: str) -> int:
    """Return the unsigned IEEE CRC32 of ASCII ``text``."""
    # zlib.crc32 has returned an unsigned value since Python 3; the mask documents the contract.
    return zlib.crc32(text.encode("ascii")) & 0xFFFFFFFF


def _best(levels: Iterable[PriceQty], *, descending: bool) -> list[PriceQty]:
    return sorted(levels, key=lambda level: level[0], reverse=descending)[:CHECKSUM_LEVELS]


def checksum_string(
    asks: Iterable[PriceQty],
    bids: Iterable[PriceQty],
    price_precision: int | None = None,
    qty_precision: int | None = None,
) -> str:
    """Build the L2 checksum input string.

    Args:
        asks: ``(price, qty)`` pairs of the ask side, any order (sorted here; extra levels are
            ignored).
        bids: ``(price, qty)`` pairs of the bid side, any order.
        price_precision: Decimals to pad prices to, or ``None`` to use their own digits.
        qty_precision: Decimals to pad quantities to, or ``None``.

    Returns:
        ``fmt(price) + fmt(qty)`` of the 10 best asks (ascending) then the 10 best bids
        (descending).
    """
    return _join(
        _best(asks, descending=False), _best(bids, descending=True), price_precision, qty_precision
    )


def book_checksum(
    asks: Iterable[PriceQty],
    bids: Iterable[PriceQty],
    price_precision: int | None = None,
    qty_precision: int | None = None,
) -> int:
    """Compute Kraken's L2 ``book`` checksum.

    Args:
        asks: ``(price, qty)`` pairs of the ask side, any order.
        bids: ``(price, qty)`` pairs of the bid side, any order.
        price_precision: Decimals to pad prices to, or ``None``.
        qty_precision: Decimals to pad quantities to, or ``None``.

    Returns:
        The unsigned CRC32 of `checksum_string`.
    """
    return crc32_unsigned(checksum_string(asks, bids, price_precision, qty_precision))


def _join(
    asks: Iterable[PriceQty],
    bids: Iterable[PriceQty],
    price_precision: int | None,
    qty_precision: int | None,
) -> str:
    # Asks first, then bids: the order Kraken concatenates them in, for L2 and L3 alike.
    return "".join(
        level_token(price, qty, price_precision, qty_precision)
        for price, qty in itertools.chain(asks, bids)
    )


def _top_orders(orders: Iterable[PriceQty], *, descending: bool) -> list[PriceQty]:
    # A stable sort on price alone keeps each level's queue order.
    ordered = sorted(orders, key=lambda order: order[0], reverse=descending)
    top: list[PriceQty] = []
    seen = 0
    last: Decimal | None = None
    for order in ordered:
        if order[0] != last:
            seen += 1
            if seen > CHECKSUM_LEVELS:
                break
            last = order[0]
        top.append(order)
    return top


def level3_checksum_string(
    asks: Iterable[PriceQty],
    bids: Iterable[PriceQty],
    price_precision: int | None = None,
    qty_precision: int | None = None,
) -> str:
    """Build the L3 checksum input string.

    Args:
        asks: ``(limit_price, order_qty)`` of each ask order, in queue order within a price
            (levels may come in any order; they are sorted here, stably).
        bids: The same for bid orders.
        price_precision: Decimals to pad prices to, or ``None``.
        qty_precision: Decimals to pad quantities to, or ``None``.

    Returns:
        ``fmt(limit_price) + fmt(order_qty)`` of every order in the 10 best ask price levels
        (ascending), then the 10 best bid levels (descending).
    """
    return _join(
        _top_orders(asks, descending=False),
        _top_orders(bids, descending=True),
        price_precision,
        qty_precision,
    )


def level3_checksum(
    asks: Iterable[PriceQty],
    bids: Iterable[PriceQty],
    price_precision: int | None = None,
    qty_precision: int | None = None,
) -> int:
    """Compute Kraken's ``level3`` checksum.

    Args:
        asks: ``(limit_price, order_qty)`` of each ask order, queue order within a price.
        bids: The same for bid orders.
        price_precision: Decimals to pad prices to, or ``None``.
        qty_precision: Decimals to pad quantities to, or ``None``.

    Returns:
        The unsigned CRC32 of `level3_checksum_string`.
    """
    return crc32_unsigned(level3_checksum_string(asks, bids, price_precision, qty_precision))
