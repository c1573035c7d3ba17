"""Simulated market data for the local exchange.

Theory of operation
===================

Each instrument has one deep, order-by-order book (`SymbolMarket`): price levels in a
``SortedDict`` per side (best first), each level a FIFO of `BookOrder` (simulated liquidity
and the users' resting orders alike). The L2 ``book`` feed, the ``level3`` feed, trades, ticker
and candles are all *derived* from that one book, so they agree with each other by construction.

Mutations are recorded in a `TickRecord` as they happen: for every touched price
the level quantity before the first touch and the L3 events in order, plus, captured at the first
mutation, the price at each subscribable depth's boundary. `SymbolMarket.flush` closes the
record and hands a `TickResult` to the publisher, which asks it for the changes *one
subscriber depth sees*:

* a touched level inside the new window is sent with its new quantity;
* a touched level that was inside the old window and no longer exists is sent with qty 0;
* a level still in the book but pushed below the window is **not** sent (the client truncates);
* an untouched level that entered the window from below is sent as an insert (L3: all of its
  orders as ``add``).

Applying those changes and truncating to the depth reproduces the server's window exactly, which
is what makes the checksum (top 10 of each side, the same for every depth) verifiable.

Every price and quantity is a ``Decimal`` quantized to the instrument's precision, so that the JSON
number tokens carry trailing zeros (``0.10000000``) exactly as Kraken's engine does.

What lives where:

* `.instruments`: `InstrumentSpec`, the default instruments, `rfc3339`;
* `.book`: book orders and levels, and the per-depth view of a tick (`TickResult`);
* `.symbol`: `SymbolMarket` (book, matching, trades, candles) and `Market`;
* `.flow`: the simulated traders (the seeded random order flow).
"""

from kraken_ws.models.common import BOOK_DEPTHS, L3_DEPTHS, OHLC_INTERVALS

from .book import BookOrder, L3Event, TickResult, TradeRecord
from .instruments import (
    DEFAULT_INSTRUMENTS,
    InstrumentSpec,
    L3EventKind,
    WireSide,
    epoch,
    rfc3339,
)
from .symbol import Candle, FillListener, MakerFill, Market, SymbolMarket

# The depths and intervals are the models' (one source for the CLI, replay and this exchange).
__all__ = [
    "BOOK_DEPTHS",
    "DEFAULT_INSTRUMENTS",
    "L3_DEPTHS",
    "OHLC_INTERVALS",
    "BookOrder",
    "Candle",
    "FillListener",
    "InstrumentSpec",
    "L3Event",
    "L3EventKind",
    "MakerFill",
    "Market",
    "SymbolMarket",
    "TickResult",
    "TradeRecord",
    "WireSide",
    "epoch",
    "rfc3339",
]
