"""Instruments of the simulated market: their precisions and the default three.

Every price and quantity is a ``Decimal`` quantized to the instrument's precision, so that the JSON
number tokens carry trailing zeros (``0.10000000``) exactly as Kraken's engine does.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import ROUND_DOWN, ROUND_HALF_EVEN, Decimal
from typing import Literal, TypeAlias

__all__ = [
    "DEFAULT_INSTRUMENTS",
    "InstrumentSpec",
    "L3EventKind",
    "WireSide",
    "epoch",
    "rfc3339",
]

WireSide: TypeAlias = Literal["bids", "asks"]
"""A side as book frames name it (``"bids"``/``"asks"``); ``kraken_ws.book.BookSide`` is the
reader's ``"bid"``/``"ask"``."""
L3EventKind: TypeAlias = Literal["add", "modify", "delete"]


def epoch(timestamp: str) -> float:
    """Epoch seconds of an RFC3339 timestamp (checked by the request models)."""
    text = timestamp.replace("z", "Z").replace("t", "T")
    if "." in text:
        # fromisoformat takes at most 6 fractional digits.
        head, _, rest = text.partition(".")
        digits = len(rest) - len(rest.lstrip("0123456789"))
        text = f"{head}.{rest[: min(digits, 6)]}{rest[digits:]}"
    return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()


def rfc3339(ts: float, digits: int = 6) -> str:
    """Format epoch seconds as an RFC3339 UTC timestamp with ``digits`` fractional digits.

    Args:
        ts: Seconds since the epoch.
        digits: 0, 6 (microseconds) or 9 (nanoseconds, Kraken's L3/ohlc precision).

    Returns:
        e.g. ``2023-09-25T09:04:31.742648Z``.
    """
    seconds = math.floor(ts)
    base = datetime.fromtimestamp(seconds, tz=UTC).strftime("%Y-%m-%dT%H:%M:%S")
    if digits == 0:
        return base + "Z"
    frac = round((ts - seconds) * 10**digits)
    frac = min(frac, 10**digits - 1)
    return f"{base}.{frac:0{digits}d}Z"


@dataclass(frozen=True)
class InstrumentSpec:
    """One simulated instrument.

    Args:
        symbol: v2 symbol, e.g. ``"BTC/USD"``.
        base: Base asset, e.g. ``"BTC"``.
        quote: Quote asset, e.g. ``"USD"``.
        price_precision: Decimals of prices (``price_increment`` = 10**-price_precision).
        qty_precision: Decimals of quantities.
        start_price: Initial mid price.
        typical_qty: Size scale of a simulated resting order.
        tick_gap: Average gap between adjacent book levels, in price increments.
        qty_min: Minimum order quantity (default: one quantity increment).
        cost_precision: Decimals of costs.
        cost_min: Minimum order cost in quote currency.
        rest_name: REST pair key, e.g. ``"XXBTZUSD"`` (default: base + quote).
        rest_altname: REST ``altname``, e.g. ``"XBTUSD"`` (default: base + quote).
        rest_wsname: REST ``wsname`` (the v1 name), e.g. ``"XBT/USD"`` (default: symbol).
    """

    symbol: str
    base: str
    quote: str
    price_precision: int
    qty_precision: int
    start_price: Decimal
    typical_qty: Decimal = Decimal(1)
    tick_gap: int = 2
    qty_min: Decimal | None = None
    cost_precision: int = 5
    cost_min: Decimal = Decimal("0.5")
    rest_name: str = ""
    rest_altname: str = ""
    rest_wsname: str = ""

    @property
    def price_increment(self) -> Decimal:
        """The tick: ``Decimal(1).scaleb(-price_precision)``."""
        return Decimal(1).scaleb(-self.price_precision)

    @property
    def qty_increment(self) -> Decimal:
        """Smallest quantity step."""
        return Decimal(1).scaleb(-self.qty_precision)

    @property
    def min_qty(self) -> Decimal:
        """Minimum order quantity."""
        return self.qty_min if self.qty_min is not None else self.qty_increment

    @property
    def rest_base(self) -> str:
        """Base asset code in REST naming (``XXBT`` for BTC)."""
        return {"BTC": "XXBT", "ETH": "XETH"}.get(self.base, self.base)

    @property
    def rest_quote(self) -> str:
        """Quote asset code in REST naming (``ZUSD`` for USD)."""
        return {"USD": "ZUSD", "EUR": "ZEUR"}.get(self.quote, self.quote)

    @property
    def rest_aliases(self) -> frozenset[str]:
        """Every name REST ``AssetPairs`` resolves to this instrument."""
        return frozenset(
            {
                self.symbol,
                self.rest_name or self.base + self.quote,
                self.rest_altname or self.base + self.quote,
                self.rest_wsname or self.symbol,
            }
        )

    def price(self, value: Decimal | int | str) -> Decimal:
        """Quantize a price to the instrument's precision (trailing zeros kept)."""
        return Decimal(value).quantize(self.price_increment, rounding=ROUND_HALF_EVEN)

    def qty(self, value: Decimal | int | str) -> Decimal:
        """Quantize a quantity to the instrument's precision (rounding down)."""
        return Decimal(value).quantize(self.qty_increment, rounding=ROUND_DOWN)


DEFAULT_INSTRUMENTS: tuple[InstrumentSpec, ...] = (
    InstrumentSpec(
        "BTC/USD",
        "BTC",
        "USD",
        1,
        8,
        Decimal("60000.0"),
        Decimal("0.5"),
        2,
        qty_min=Decimal("0.0001"),
        rest_name="XXBTZUSD",
        rest_altname="XBTUSD",
        rest_wsname="XBT/USD",
    ),
    InstrumentSpec(
        "ETH/USD",
        "ETH",
        "USD",
        2,
        8,
        Decimal("3000.00"),
        Decimal("5"),
        3,
        qty_min=Decimal("0.002"),
        rest_name="XETHZUSD",
        rest_altname="ETHUSD",
        rest_wsname="ETH/USD",
    ),
    # PEPE: 9 price decimals and quantities above 10**9, where float-based clients drop digits.
    InstrumentSpec(
        "PEPE/USD",
        "PEPE",
        "USD",
        9,
        2,
        Decimal("0.000012345"),
        Decimal("3000000000"),
        3,
        qty_min=Decimal("50000"),
        cost_precision=5,
        rest_name="PEPEUSD",
        rest_altname="PEPEUSD",
        rest_wsname="PEPE/USD",
    ),
)
"""BTC/USD (price precision 1, qty 8), ETH/USD (2, 8), PEPE/USD (9, 2)."""
