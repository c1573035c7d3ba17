"""The subject layout, stream names and header names: the one place for each.

```text
kraken.v2.<channel>.<SYMBOL>        public market data, Kraken's wire text (book, trade,
                                    ticker, ohlc, level3): BTC/USD is written BTC-USD
kraken.v2.<channel>                 frames with no symbol (instrument, status)
kraken.v2.heartbeat.<endpoint>      heartbeats, per endpoint (public, auth, l3)
kraken.snap.<channel>.<SYMBOL>      the gateway's latest verified book, as a snapshot frame
kraken.private.v2.<channel>         executions, balances: only for users allowed to read them
kraken.gw.events                    lifecycle events (JSON)
kraken.gw.health                    health, once a second (JSON)
kraken.gw.cmd.snapshot              request: publish a fresh snapshot of a book now
```

Streams: ``KRAKEN_MD`` holds ``kraken.v2.>``, ``kraken.snap.>`` and ``kraken.gw.events`` (one
sequence for deltas, snapshots and lifecycle, which is what lets a late joiner start at a
snapshot and continue with no gap); ``KRAKEN_PRIVATE`` holds ``kraken.private.>`` (durable
consumers of fills). The private prefix is not under ``kraken.v2`` so that a user allowed
``kraken.v2.>`` is not allowed account data by accident.
"""

from __future__ import annotations

from typing import Final

__all__ = [
    "EVENTS",
    "HDR_BOOK",
    "HDR_CONN",
    "HDR_CONN_SEQ",
    "HDR_DEPTH",
    "HDR_EPOCH",
    "HDR_PRICE_PRECISION",
    "HDR_QTY_PRECISION",
    "HDR_RECEIVED",
    "HDR_SEQ",
    "HEALTH",
    "MD_STREAM",
    "MD_SUBJECTS",
    "PRIVATE_STREAM",
    "PRIVATE_SUBJECTS",
    "SNAPSHOT_REQUEST",
    "data_subject",
    "private_subject",
    "snapshot_subject",
    "symbol_token",
    "token_symbol",
]

MD_STREAM: Final = "KRAKEN_MD"
PRIVATE_STREAM: Final = "KRAKEN_PRIVATE"
EVENTS: Final = "kraken.gw.events"
HEALTH: Final = "kraken.gw.health"
SNAPSHOT_REQUEST: Final = "kraken.gw.cmd.snapshot"
MD_SUBJECTS: Final = ("kraken.v2.>", "kraken.snap.>", EVENTS)
PRIVATE_SUBJECTS: Final = ("kraken.private.>",)

HDR_RECEIVED: Final = "Kraken-Received"
"""When the gateway read the frame: Unix time in nanoseconds."""
HDR_CONN: Final = "Kraken-Conn"
"""Which Kraken connection it came on: ``<endpoint>.<n>`` (n counts the gateway's connects)."""
HDR_CONN_SEQ: Final = "Kraken-Conn-Seq"
"""The frame's number on that connection (1, 2, ...)."""
HDR_EPOCH: Final = "Kraken-Epoch"
"""The gateway run that published it (a fresh random id per start)."""
HDR_SEQ: Final = "Kraken-Seq"
"""The message's number on its subject in this epoch; a snapshot carries its last delta's."""
HDR_BOOK: Final = "Kraken-Book"
"""Book frames: ``ok`` (the gateway's book verified it), ``invalid`` (the gateway's book is
waiting for a resync: the frame was not applied), ``mismatch`` (this frame failed the checksum)."""
HDR_DEPTH: Final = "Kraken-Depth"
"""Snapshots: the subscribed depth of the book."""
HDR_PRICE_PRECISION: Final = "Kraken-Price-Precision"
HDR_QTY_PRECISION: Final = "Kraken-Qty-Precision"


def symbol_token(symbol: str) -> str:
    """``BTC/USD`` -> ``BTC-USD``: a pair as one subject token.

    Raises:
        ValueError: The symbol holds a character no subject token may (space, ``.``, ``*``,
            ``>``) or a ``-`` (which could not be mapped back).
    """
    if not symbol or any(c in symbol for c in " .*>-\t\r\n"):
        raise ValueError(f"symbol {symbol!r} cannot be a subject token")
    return symbol.replace("/", "-")


def token_symbol(token: str) -> str:
    """``BTC-USD`` -> ``BTC/USD``."""
    return token.replace("-", "/")


def data_subject(channel: str, symbol: str | None = None) -> str:
    """``kraken.v2.book.BTC-USD`` (``kraken.v2.status`` with no symbol)."""
    if symbol is None:
        return f"kraken.v2.{channel}"
    return f"kraken.v2.{channel}.{symbol_token(symbol)}"


def snapshot_subject(channel: str, symbol: str) -> str:
    """``kraken.snap.book.BTC-USD``."""
    return f"kraken.snap.{channel}.{symbol_token(symbol)}"


def private_subject(channel: str) -> str:
    """``kraken.private.v2.executions``."""
    return f"kraken.private.v2.{channel}"
