"""The streaming commands: ``book`` (a live ladder), ``ticker``, ``trades`` and ``ohlc`` tables.

Imported when one of them runs: the client, the models and rich are imported inside the
functions, after the command has said where it connects (`.sources._announced`).
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import click

from .group import _check_depth, _check_interval, _check_symbols, _run
from .live import _display, _quiet_logs, _Rate
from .sources import _announced, _open_source, _source_options, _SourceOptions, _stop_event

if TYPE_CHECKING:
    from rich.console import RenderableType

    from ..client import KrakenWSClient

__all__ = ["book", "ohlc", "ticker", "trades"]

# --- book ---------------------------------------------------------------------------------------


@click.command()
@click.argument("symbol")
@click.option(
    "--depth",
    type=int,
    default=10,
    show_default=True,
    callback=_check_depth,
    help="Subscribed depth: 10, 25, 100, 500 or 1000.",
)
@click.option(
    "--rows",
    type=click.IntRange(1, 1000),
    default=None,
    help="Levels shown per side (default: depth, at most 10).",
)
@_source_options
def book(
    symbol: str,
    depth: int,
    rows: int | None,
    live: bool,
    ws_url: str | None,
    duration: float | None,
    rate: float,
    seed: int,
) -> None:
    """Show a live, checksum-verified order book ladder.

    Asks above, bids below, with the spread and mid, the checksum status and updates per
    second, refreshing in place.

    \b
    Examples:
      kraken-ws book BTC/USD                    embedded local exchange, until Ctrl-C
      kraken-ws book ETH/USD --depth 25 --duration 10
      kraken-ws book BTC/USD --live             Kraken's production feed
    """  # noqa: D301
    (pair,) = _check_symbols([symbol])[:1]
    shown = rows if rows is not None else min(depth, 10)
    options = _announced(_SourceOptions(live, ws_url, duration, rate, seed))
    with _quiet_logs():
        _run(_book(pair, depth, shown, options))


@dataclass
class _BookStats:
    symbol: str
    verified: int = 0
    mismatches: int = 0
    resyncing: bool = False
    connection: str | None = None  # see BookStatus.connection
    _next_bad: bool = False

    def __post_init__(self) -> None:
        self.rate = _Rate()

    async def consume(self, stream: AsyncIterator[Any]) -> None:
        from ..events import Connected, Disconnected, Reconnecting
        from ..models.channels.book import BookSnapshot, BookUpdate
        from ..protocol.events import BookResync

        async for event in stream:
            if isinstance(event, Disconnected) and event.endpoint == "public":
                self.connection = f"connection lost ({event.reason or event.code}): reconnecting"
            elif isinstance(event, Reconnecting) and event.endpoint == "public":
                self.connection = f"reconnecting: attempt {event.attempt} in {event.delay:.2f} s"
            elif isinstance(event, Connected) and event.endpoint == "public":
                self.connection = None
            elif isinstance(event, BookResync):
                if event.symbol == self.symbol and event.channel_name == "book":
                    # The client reports the resync just before the frame that failed.
                    self.mismatches += 1
                    self._next_bad = True
            elif isinstance(event, BookSnapshot | BookUpdate):
                if not any(d.symbol == self.symbol for d in event.data):
                    continue
                self.rate.tick()
                if self._next_bad:
                    self._next_bad = False
                    self.resyncing = True
                elif isinstance(event, BookSnapshot):
                    self.resyncing = False
                    self.verified += 1
                elif not self.resyncing:
                    self.verified += 1


async def _book(symbol: str, depth: int, rows: int, options: _SourceOptions) -> None:
    from rich.console import Console

    from ..client import KrakenWSClient
    from .render import BookStatus, ColumnWidths, ladder

    console = Console()
    async with (
        _open_source(options) as source,
        KrakenWSClient(ws_url=source.ws_url, connector=source.connector) as client,
    ):
        stats = _BookStats(symbol)
        stream = client.events()
        order_book = await client.book(symbol, depth)  # type: ignore[arg-type]
        stop = _stop_event(options.duration)
        worker = asyncio.create_task(stats.consume(stream))
        widths = ColumnWidths()  # one for the whole display: the ladder keeps its width

        def render() -> RenderableType:
            status = BookStatus(
                source=source.label,
                verified=stats.verified,
                mismatches=stats.mismatches,
                rate=stats.rate.value(),
                resyncing=stats.resyncing,
                connection=stats.connection,
            )
            return ladder(order_book, status, rows=rows, widths=widths)

        await _display(console, render, stop, worker)


# --- ticker / trades / ohlc ---------------------------------------------------------------------


async def _stream_table(
    options: _SourceOptions,
    channel: str,
    subscribe: Callable[[KrakenWSClient], Awaitable[object]],
    on_event: Callable[[object], None],
    render: Callable[[str], RenderableType],
) -> None:
    """Subscribe, fold each event of ``channel`` with ``on_event``, redraw ``render(label)``."""
    from rich.console import Console

    from ..client import KrakenWSClient

    async with (
        _open_source(options) as source,
        KrakenWSClient(ws_url=source.ws_url, connector=source.connector) as client,
    ):
        stream = client.events(channel=channel)
        await subscribe(client)
        stop = _stop_event(options.duration)

        async def consume() -> None:
            async for event in stream:
                on_event(event)

        worker = asyncio.create_task(consume())
        await _display(Console(), lambda: render(source.label), stop, worker)


@click.command()
@click.argument("symbols", nargs=-1, required=True)
@_source_options
def ticker(
    symbols: tuple[str, ...],
    live: bool,
    ws_url: str | None,
    duration: float | None,
    rate: float,
    seed: int,
) -> None:
    """Stream best bid/ask, last trade and 24 h figures as a table.

    \b
    Examples:
      kraken-ws ticker BTC/USD ETH/USD
      kraken-ws ticker BTC/USD --live --duration 30
    """  # noqa: D301
    pairs = _check_symbols(symbols)
    options = _announced(_SourceOptions(live, ws_url, duration, rate, seed))
    with _quiet_logs():
        _run(_ticker(pairs, options))


async def _ticker(symbols: list[str], options: _SourceOptions) -> None:
    from ..models.channels.ticker import TickerData, TickerSnapshot, TickerUpdate
    from .render import ticker_table

    latest: dict[str, TickerData] = {}

    def on_event(event: object) -> None:
        if isinstance(event, TickerSnapshot | TickerUpdate):
            for data in event.data:
                latest[data.symbol] = data

    await _stream_table(
        options,
        "ticker",
        lambda client: client.subscribe_ticker(symbols),
        on_event,
        lambda label: ticker_table(latest, label),
    )


@click.command()
@click.argument("symbols", nargs=-1, required=True)
@click.option(
    "--rows", type=click.IntRange(1, 500), default=20, show_default=True, help="Trades shown."
)
@_source_options
def trades(
    symbols: tuple[str, ...],
    rows: int,
    live: bool,
    ws_url: str | None,
    duration: float | None,
    rate: float,
    seed: int,
) -> None:
    """Stream trades as they print, newest first.

    \b
    Examples:
      kraken-ws trades BTC/USD
      kraken-ws trades BTC/USD ETH/USD --rows 40 --duration 60
    """  # noqa: D301
    pairs = _check_symbols(symbols)
    options = _announced(_SourceOptions(live, ws_url, duration, rate, seed))
    with _quiet_logs():
        _run(_trades(pairs, rows, options))


async def _trades(symbols: list[str], rows: int, options: _SourceOptions) -> None:
    from ..models.channels.trade import TradeData, TradeSnapshot, TradeUpdate
    from .render import trades_table

    recent: deque[TradeData] = deque(maxlen=rows)

    def on_event(event: object) -> None:
        if isinstance(event, TradeSnapshot | TradeUpdate):
            recent.extendleft(event.data)

    await _stream_table(
        options,
        "trade",
        lambda client: client.subscribe_trade(symbols),
        on_event,
        lambda label: trades_table(recent, label),
    )


@click.command(short_help="Stream OHLC candles, newest first.")
@click.argument("symbols", nargs=-1, required=True)
@click.option(
    "--interval",
    type=int,
    default=1,
    show_default=True,
    callback=_check_interval,
    help="Candle minutes: 1, 5, 15, 30, 60, 240, 1440, 10080 or 21600.",
)
@click.option(
    "--rows", type=click.IntRange(1, 500), default=12, show_default=True, help="Candles shown."
)
@_source_options
def ohlc(
    symbols: tuple[str, ...],
    interval: int,
    rows: int,
    live: bool,
    ws_url: str | None,
    duration: float | None,
    rate: float,
    seed: int,
) -> None:
    """Stream OHLC candles, newest first (the current candle updates in place).

    \b
    Examples:
      kraken-ws ohlc BTC/USD
      kraken-ws ohlc BTC/USD --interval 5 --live
    """  # noqa: D301
    pairs = _check_symbols(symbols)
    options = _announced(_SourceOptions(live, ws_url, duration, rate, seed))
    with _quiet_logs():
        _run(_ohlc(pairs, interval, rows, options))


async def _ohlc(symbols: list[str], interval: int, rows: int, options: _SourceOptions) -> None:
    from ..models.channels.ohlc import OhlcData, OhlcSnapshot, OhlcUpdate
    from .render import ohlc_table

    candles: dict[tuple[str, str], OhlcData] = {}

    def on_event(event: object) -> None:
        if isinstance(event, OhlcSnapshot | OhlcUpdate):
            for data in event.data:
                candles[(data.symbol, data.interval_begin)] = data

    def render(label: str) -> RenderableType:
        newest = sorted(candles.values(), key=lambda c: c.interval_begin, reverse=True)
        return ohlc_table(newest[:rows], label, interval)

    await _stream_table(
        options,
        "ohlc",
        lambda client: client.subscribe_ohlc(symbols, interval=interval),  # type: ignore[arg-type]
        on_event,
        render,
    )
