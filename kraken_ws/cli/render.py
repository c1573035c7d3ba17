"""Terminal rendering for the ``kraken-ws`` command line (rich renderables, no I/O).

Every function takes plain data and returns a renderable, so the CLI stays thin and the layout
can be tested without a terminal.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal

from rich import box
from rich.console import Group
from rich.table import Table
from rich.text import Text

from ..book.l2 import OrderBook, PriceLevel
from ..models.channels.ohlc import OhlcData
from ..models.channels.ticker import TickerData
from ..models.channels.trade import TradeData
from ..recording import ReplaySummary

__all__ = [
    "STOP_HINT",
    "BookStatus",
    "ColumnWidths",
    "ladder",
    "ohlc_table",
    "replay_table",
    "ticker_table",
    "trades_table",
]

_BAR_WIDTH = 20
_BOX = box.SIMPLE_HEAD
# Least widths of the ladder's number columns: room for "60000.12345" and "12345.12345678", so
# that typical books never widen them (ColumnWidths handles the rest).
_PRICE_WIDTH = 11
_QTY_WIDTH = 14
STOP_HINT = "Ctrl-C to stop"


def _clock_time(timestamp: str) -> str:
    """``HH:MM:SS.ffffff`` of an RFC3339 timestamp (the date is noise in a live table)."""
    _, sep, rest = timestamp.partition("T")
    return rest.rstrip("Z") if sep else timestamp


@dataclass(frozen=True, slots=True)
class BookStatus:
    """What the ladder's status line shows besides the book itself.

    Attributes:
        source: Where the data comes from (``"local exchange ws://..."``, ``"Kraken ..."``).
        verified: Book messages whose checksum matched.
        mismatches: Checksum mismatches (each triggers a resync).
        rate: Book messages per second, recently.
        resyncing: Whether a resync is in progress.
        connection: What the connection is doing when it is not up (``"reconnecting: ..."``);
            ``None`` while connected.
    """

    source: str
    verified: int
    mismatches: int
    rate: float
    resyncing: bool = False
    connection: str | None = None


class ColumnWidths:
    """The widest cell each column has shown, so that a live table never narrows or jitters.

    A quantity of ``1.5`` in one frame and ``0.12345678`` in the next would otherwise resize the
    column, and shift every column to its right, several times a second.
    """

    def __init__(self) -> None:
        self._widest: dict[str, int] = {}

    def fit(self, column: str, cells: Iterable[str], least: int = 0) -> int:
        """The width for ``column``: its widest cell ever, and at least ``least``."""
        widest = max((len(cell) for cell in cells), default=0)
        width = max(self._widest.get(column, least), widest)
        self._widest[column] = width
        return width


def _fmt(value: Decimal | None) -> str:
    """The number's text as it came (its wire digits), except that zero is never ``-0.00``."""
    if value is None:
        return ""
    return str(value.copy_abs() if value.is_zero() else value)


def _bar(qty: Decimal, largest: Decimal, style: str) -> Text:
    cells = 0 if largest <= 0 else round(float(qty / largest) * _BAR_WIDTH)
    return Text("█" * max(cells, 1 if qty > 0 else 0), style=style)


def ladder(
    book: OrderBook, status: BookStatus, *, rows: int = 10, widths: ColumnWidths | None = None
) -> Group:
    """A price ladder: asks on top (best ask lowest), the spread, bids below (best bid first).

    Args:
        book: The live book.
        status: Checksum and rate figures for the status line.
        rows: Levels shown per side.
        widths: The columns' widths so far; pass the same one for every frame of a display so
            that the ladder keeps its width.

    Returns:
        A renderable: title line, ladder table, status line, "Ctrl-C to stop".
    """
    asks: list[PriceLevel] = book.asks(rows)
    bids: list[PriceLevel] = book.bids(rows)
    largest = max((q for _, q in (*asks, *bids)), default=Decimal(0))
    spread, mid = book.spread, book.mid
    widths = widths if widths is not None else ColumnWidths()
    title = Text.assemble(
        ("kraken-ws book ", "bold"),
        (book.symbol, "bold cyan"),
        f"  depth {book.depth}  ·  {status.source}",
    )
    prices = [_fmt(p) for p, _ in (*asks, *bids)] + [_fmt(spread)]
    qtys = [_fmt(q) for _, q in (*asks, *bids)] + [f"mid {_fmt(mid)}"]
    table = Table(show_edge=True, expand=False, pad_edge=True, header_style="bold")
    table.add_column("side", min_width=len("spread"))
    table.add_column("price", justify="right", min_width=widths.fit("price", prices, _PRICE_WIDTH))
    table.add_column("qty", justify="right", min_width=widths.fit("qty", qtys, _QTY_WIDTH))
    table.add_column("size", justify="left", min_width=_BAR_WIDTH)
    for price, qty in reversed(asks):
        table.add_row(
            Text("ask", style="red"),
            Text(_fmt(price), style="red"),
            _fmt(qty),
            _bar(qty, largest, "red"),
        )
    table.add_section()
    table.add_row(
        Text("spread", style="bold"),
        Text(_fmt(spread), style="bold"),
        Text.assemble(("mid ", "dim"), (_fmt(mid), "bold")),
        "",
        end_section=True,
    )
    for price, qty in bids:
        table.add_row(
            Text("bid", style="green"),
            Text(_fmt(price), style="green"),
            _fmt(qty),
            _bar(qty, largest, "green"),
        )
    if status.connection is not None:
        # Not a checksum problem: the book is stale (or cleared) until the connection is back.
        check = Text(f"⟳ {status.connection}", style="bold yellow")
    elif status.resyncing or not book.is_valid:
        check = Text("✗ checksum mismatch: resyncing", style="bold red")
    else:
        crc = book.last_checksum
        shown = f" CRC32 {crc}" if crc is not None else ""
        check = Text(f"✓ checksum verified{shown}", style="bold green")
    line = Text.assemble(
        check,
        f" · {status.verified} ok · {status.mismatches} mismatches · ",
        (f"{status.rate:.1f} updates/s", "bold"),
    )
    return Group(title, table, line, Text(STOP_HINT, style="dim"))


def _table(title: str, source: str) -> Table:
    # One space between columns and none at the edges: the tables fit 80 columns without
    # cutting a number short with "…".
    return Table(
        title=title,
        caption=f"{source}  ·  {STOP_HINT}" if source else STOP_HINT,
        header_style="bold",
        box=_BOX,
        pad_edge=False,
        collapse_padding=True,
    )


def ticker_table(tickers: Mapping[str, TickerData], source: str = "") -> Table:
    """One row per pair: best bid/ask, last trade, 24 h change and volume.

    Args:
        tickers: The latest ticker data per pair.
        source: Where the data comes from (table caption).

    Returns:
        The table.
    """
    table = _table("kraken-ws ticker", source)
    # The last four are Kraken's rolling 24 h figures: the headers say so.
    for name in ("symbol", "bid", "ask", "last", "24h chg %", "24h low", "24h high", "24h volume"):
        table.add_column(name, justify="left" if name == "symbol" else "right")
    for symbol, t in tickers.items():
        style = "green" if t.change_pct >= 0 else "red"
        table.add_row(
            symbol,
            Text(_fmt(t.bid), style="green"),
            Text(_fmt(t.ask), style="red"),
            _fmt(t.last),
            Text(_fmt(t.change_pct), style=style),
            _fmt(t.low),
            _fmt(t.high),
            _fmt(t.volume),
        )
    return table


def trades_table(trades: Iterable[TradeData], source: str = "") -> Table:
    """The most recent trades, newest first.

    Args:
        trades: Trades, newest first.
        source: Where the data comes from (table caption).

    Returns:
        The table.
    """
    table = _table("kraken-ws trades", source)
    for name in ("time", "symbol", "side", "price", "qty", "order type", "trade id"):
        table.add_column(name, justify="right" if name in ("price", "qty", "trade id") else "left")
    for trade in trades:
        style = "green" if trade.side == "buy" else "red"
        table.add_row(
            _clock_time(trade.timestamp),
            trade.symbol,
            Text(trade.side, style=style),
            Text(_fmt(trade.price), style=style),
            _fmt(trade.qty),
            trade.ord_type,
            str(trade.trade_id),
        )
    return table


def ohlc_table(candles: Sequence[OhlcData], source: str = "", interval: int | None = None) -> Table:
    """Candles, newest first.

    Args:
        candles: Candles, newest first.
        source: Where the data comes from (table caption).
        interval: The candles' length in minutes, for the title (default: the first candle's).

    Returns:
        The table.
    """
    minutes = interval if interval is not None else (candles[0].interval if candles else None)
    title = "kraken-ws ohlc" + (f"  ·  {minutes} min candles" if minutes is not None else "")
    table = _table(title, source)
    # The interval is the same for every row, so it is in the title rather than a column;
    # "start" is the candle's first minute (HH:MM), "trades" the number of trades in it.
    names = ("start", "symbol", "open", "high", "low", "close", "volume", "trades")
    for name in names:
        table.add_column(name, justify="left" if name in ("start", "symbol") else "right")
    for c in candles:
        style = "green" if c.close >= c.open else "red"
        table.add_row(
            _clock_time(c.interval_begin)[:5],
            c.symbol,
            _fmt(c.open),
            _fmt(c.high),
            _fmt(c.low),
            Text(_fmt(c.close), style=style),
            _fmt(c.volume),
            str(c.trades),
        )
    return table


def replay_table(summary: ReplaySummary) -> Group:
    """The end-of-replay report: totals, then one row per book with its final top of book.

    Args:
        summary: What the replay saw.

    Returns:
        A renderable.
    """
    ok = summary.checksum_failed == 0
    head = Text.assemble(
        ("replayed ", "bold"),
        f"{summary.frames} frames ({summary.recorded_seconds:.1f} s recorded) · ",
        (
            f"checksums: {summary.checksum_verified} verified, {summary.checksum_failed} failed",
            "bold green" if ok else "bold red",
        ),
    )
    channels = ", ".join(f"{k} {v}" for k, v in sorted(summary.channels.items()))
    extra = f" · unknown {summary.unknown} · not JSON {summary.invalid}"
    table = Table(
        title=None,
        header_style="bold",
        box=_BOX,
        pad_edge=False,
        collapse_padding=True,
        # No blank first and last lines: an error line may follow the report directly.
        show_edge=False,
    )
    names = ("book", "verified", "failed", "bid qty", "bid", "ask", "ask qty", "valid")
    for name in names:
        table.add_column(name, justify="left" if name == "book" else "right")
    for book in summary.books:
        bid, ask = book.best_bid, book.best_ask
        table.add_row(
            book.symbol if book.channel == "book" else f"{book.symbol} (L3)",
            str(book.verified),
            Text(str(book.failed), style="red" if book.failed else ""),
            "" if bid is None else str(bid[1]),
            Text("" if bid is None else str(bid[0]), style="green"),
            Text("" if ask is None else str(ask[0]), style="red"),
            "" if ask is None else str(ask[1]),
            Text("yes", style="green") if book.valid else Text("no", style="red"),
        )
    parts: list[Text | Table] = [head, Text(f"frames by channel: {channels}{extra}")]
    if summary.books:
        parts.append(table)
    return Group(*parts)
