"""The ``kraken-ws`` command line (also ``python -m kraken_ws``).

Streaming commands (``book``, ``ticker``, ``trades``, ``ohlc``, ``record``) run against a local
exchange started in-process by default (:class:`~kraken_ws.testing.LocalExchange`), against
Kraken with ``--live``, or against any endpoint with ``--ws-url``. Errors are one line on
stderr; exit codes: 0 ok, 1 runtime failure, 2 usage error.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import signal
import sys
import time
from collections import deque
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import click
from rich.console import Console, RenderableType
from rich.live import Live
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.text import Text

from ._version import __version__
from .testing.market import DEFAULT_INSTRUMENTS
from .testing.server import LocalExchange

if TYPE_CHECKING:
    from .client import KrakenWSClient

__all__ = ["main"]

_F = TypeVar("_F", bound=Callable[..., Any])

BOOK_DEPTHS: tuple[int, ...] = (10, 25, 100, 500, 1000)
OHLC_INTERVALS: tuple[int, ...] = (1, 5, 15, 30, 60, 240, 1440, 10080, 21600)
KRAKEN_WS_URL = "wss://ws.kraken.com/v2"
KRAKEN_REST_URL = "https://api.kraken.com"


def _one_line(message: str) -> str:
    return " ".join(message.split())


class _Group(click.Group):
    """A click group whose errors are one line on stderr (exit 2 usage, 1 runtime)."""

    def main(
        self,
        args: Sequence[str] | None = None,
        prog_name: str | None = None,
        complete_var: str | None = None,
        standalone_mode: bool = True,
        **extra: Any,
    ) -> Any:
        if not standalone_mode:
            return super().main(args, prog_name, complete_var, False, **extra)
        try:
            result = super().main(args, prog_name, complete_var, False, **extra)
        except click.UsageError as exc:
            hint = ""
            if exc.ctx is not None:
                hint = f" (see '{exc.ctx.command_path} --help')"
            click.echo(f"Error: {_one_line(exc.format_message())}{hint}", err=True)
            sys.exit(exc.exit_code)
        except click.ClickException as exc:
            click.echo(f"Error: {_one_line(exc.format_message())}", err=True)
            sys.exit(exc.exit_code)
        except click.exceptions.Exit as exc:
            sys.exit(exc.exit_code)
        except (click.Abort, KeyboardInterrupt):
            click.echo("Aborted.", err=True)
            sys.exit(130)
        except EOFError:
            sys.exit(1)
        sys.exit(result if isinstance(result, int) else 0)


@click.group(
    cls=_Group,
    context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100},
)
@click.version_option(__version__, prog_name="kraken-ws")
def main() -> None:
    """kraken-ws: typed Kraken Spot WebSocket v2 tools.

    Streaming commands run against an embedded local exchange unless given --live (Kraken's
    production endpoints) or --ws-url. Exit codes: 0 ok, 1 runtime failure, 2 usage error.

    \b
    Examples:
      kraken-ws book BTC/USD                   live ladder from the embedded exchange
      kraken-ws book BTC/USD --live --depth 25
      kraken-ws record -c book -s BTC/USD -o btc.jsonl.gz --duration 10
      kraken-ws replay btc.jsonl.gz --as-fast-as-possible
    """  # noqa: D301


# --- shared plumbing ----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Source:
    ws_url: str
    rest_url: str
    label: str


def _source_options(func: _F) -> _F:
    options = [
        click.option(
            "--live",
            is_flag=True,
            help=f"Use Kraken's production endpoint ({KRAKEN_WS_URL}) instead of the embedded "
            "local exchange.",
        ),
        click.option(
            "--ws-url",
            metavar="URL",
            default=None,
            help="Use this public endpoint (e.g. one from `kraken-ws serve`).",
        ),
        click.option(
            "--duration",
            type=click.FloatRange(min=0, min_open=True),
            default=None,
            metavar="SECONDS",
            help="Stop after this many seconds (default: until Ctrl-C).",
        ),
        click.option(
            "--rate",
            type=click.FloatRange(min=0, min_open=True),
            default=20.0,
            show_default=True,
            help="Embedded exchange: market updates per second per symbol.",
        ),
        click.option(
            "--seed", type=int, default=0, show_default=True, help="Embedded exchange: seed."
        ),
    ]
    for option in reversed(options):
        func = option(func)
    return func


@dataclass(frozen=True)
class _SourceOptions:
    """The options every streaming command shares (see ``_source_options``)."""

    live: bool
    ws_url: str | None
    duration: float | None
    rate: float
    seed: int


@contextlib.asynccontextmanager
async def _open_source(
    live: bool, ws_url: str | None, rate: float, seed: int
) -> AsyncIterator[_Source]:
    if live and ws_url:
        raise click.UsageError("--live and --ws-url are mutually exclusive")
    if live:
        yield _Source(KRAKEN_WS_URL, KRAKEN_REST_URL, f"Kraken {KRAKEN_WS_URL}")
    elif ws_url:
        yield _Source(ws_url, KRAKEN_REST_URL, ws_url)
    else:
        async with LocalExchange(rate=rate, seed=seed) as exchange:
            yield _Source(exchange.ws_url, exchange.rest_url, f"local exchange {exchange.ws_url}")


def _describe(exc: BaseException) -> str:
    from .exceptions import KrakenAPIError

    if isinstance(exc, KrakenAPIError):
        where = f"{exc.symbol}: " if exc.symbol else ""
        return f"Kraken refused {exc.method or 'the request'}: {where}{exc.error}"
    text = str(exc) or type(exc).__name__
    return _one_line(text)


def _run(coro: Awaitable[None]) -> None:
    """Run a command's coroutine; map failures to one-line errors (exit 1)."""
    from .exceptions import KrakenWSError
    from .recording import RecordingError

    async def wrapper() -> None:
        await coro

    try:
        asyncio.run(wrapper())
    except click.ClickException:
        raise
    except (KrakenWSError, RecordingError, OSError, TimeoutError) as exc:
        raise click.ClickException(_describe(exc)) from None


@contextlib.contextmanager
def _quiet_logs() -> Iterator[None]:
    # Warnings from the client (reconnects, resyncs) still show; asyncio's debug chatter does
    # not belong on a live display.
    logging.getLogger("asyncio").setLevel(logging.ERROR)
    yield


def _stop_event(duration: float | None) -> asyncio.Event:
    """An event set by Ctrl-C, SIGTERM or, when given, after ``duration`` seconds."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
            loop.add_signal_handler(sig, stop.set)
    if duration is not None:
        loop.call_later(duration, stop.set)
    return stop


async def _display(
    console: Console,
    render: Callable[[], RenderableType],
    stop: asyncio.Event,
    worker: asyncio.Task[None],
    refresh: float = 0.2,
) -> None:
    """Refresh ``render()`` in place until ``stop`` is set or ``worker`` ends (its error raises)."""
    with Live(render(), console=console, auto_refresh=False, transient=False) as live:
        try:
            while not stop.is_set() and not worker.done():
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(refresh):
                        await stop.wait()
                live.update(render(), refresh=True)
        finally:
            if not worker.done():
                worker.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await worker
    if not console.is_terminal:
        console.line()  # Live leaves the last line open when it is not drawing on a terminal


class _Rate:
    """Events per second over the last few seconds."""

    def __init__(self, window: float = 2.0) -> None:
        self.window = window
        self.times: deque[float] = deque()
        self.started = time.monotonic()

    def tick(self) -> None:
        self.times.append(time.monotonic())

    def value(self) -> float:
        now = time.monotonic()
        while self.times and now - self.times[0] > self.window:
            self.times.popleft()
        span = min(self.window, max(now - self.started, 1e-3))
        return len(self.times) / span


def _check_depth(ctx: click.Context, param: click.Parameter, value: int | None) -> int | None:
    if value is not None and value not in BOOK_DEPTHS:
        raise click.BadParameter(
            f"{value} is not a book depth; choose one of {', '.join(map(str, BOOK_DEPTHS))}",
            ctx=ctx,
            param=param,
        )
    return value


def _check_interval(ctx: click.Context, param: click.Parameter, value: int) -> int:
    if value not in OHLC_INTERVALS:
        raise click.BadParameter(
            f"{value} is not a candle interval; choose one of "
            f"{', '.join(map(str, OHLC_INTERVALS))} (minutes)",
            ctx=ctx,
            param=param,
        )
    return value


def _check_symbols(symbols: Sequence[str]) -> list[str]:
    out: list[str] = []
    for symbol in symbols:
        for part in symbol.split(","):
            part = part.strip()
            if not part:
                continue
            if "/" not in part:
                raise click.BadParameter(
                    f"{part!r} is not a pair; write it as BASE/QUOTE, e.g. BTC/USD",
                    param_hint="SYMBOL",
                )
            out.append(part)
    if not out:
        raise click.BadParameter("at least one pair is needed, e.g. BTC/USD", param_hint="SYMBOL")
    return out


# --- book ---------------------------------------------------------------------------------------


@main.command()
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
    with _quiet_logs():
        _run(_book(pair, depth, shown, _SourceOptions(live, ws_url, duration, rate, seed)))


@dataclass
class _BookStats:
    symbol: str
    verified: int = 0
    mismatches: int = 0
    resyncing: bool = False
    _next_bad: bool = False

    def __post_init__(self) -> None:
        self.rate = _Rate()

    async def consume(self, stream: AsyncIterator[Any]) -> None:
        from .models.channels.book import BookSnapshot, BookUpdate
        from .protocol.events import BookResync

        async for event in stream:
            if isinstance(event, BookResync):
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
    from ._render import BookStatus, ladder
    from .client import KrakenWSClient

    console = Console()
    async with (
        _open_source(options.live, options.ws_url, options.rate, options.seed) as source,
        KrakenWSClient(ws_url=source.ws_url) as client,
    ):
        stats = _BookStats(symbol)
        stream = client.events()
        order_book = await client.book(symbol, depth)  # type: ignore[arg-type]
        stop = _stop_event(options.duration)
        worker = asyncio.create_task(stats.consume(stream))

        def render() -> RenderableType:
            status = BookStatus(
                source=source.label,
                verified=stats.verified,
                mismatches=stats.mismatches,
                rate=stats.rate.value(),
                resyncing=stats.resyncing,
            )
            return ladder(order_book, status, rows=rows)

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
    from .client import KrakenWSClient

    async with (
        _open_source(options.live, options.ws_url, options.rate, options.seed) as source,
        KrakenWSClient(ws_url=source.ws_url) as client,
    ):
        stream = client.events(channel=channel)
        await subscribe(client)
        stop = _stop_event(options.duration)

        async def consume() -> None:
            async for event in stream:
                on_event(event)

        worker = asyncio.create_task(consume())
        await _display(Console(), lambda: render(source.label), stop, worker)


@main.command()
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
    with _quiet_logs():
        _run(_ticker(pairs, _SourceOptions(live, ws_url, duration, rate, seed)))


async def _ticker(symbols: list[str], options: _SourceOptions) -> None:
    from ._render import ticker_table
    from .models.channels.ticker import TickerData, TickerSnapshot, TickerUpdate

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


@main.command()
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
    with _quiet_logs():
        _run(_trades(pairs, rows, _SourceOptions(live, ws_url, duration, rate, seed)))


async def _trades(symbols: list[str], rows: int, options: _SourceOptions) -> None:
    from ._render import trades_table
    from .models.channels.trade import TradeData, TradeSnapshot, TradeUpdate

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


@main.command()
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
    with _quiet_logs():
        options = _SourceOptions(live, ws_url, duration, rate, seed)
        _run(_ohlc(pairs, interval, rows, options))


async def _ohlc(symbols: list[str], interval: int, rows: int, options: _SourceOptions) -> None:
    from ._render import ohlc_table
    from .models.channels.ohlc import OhlcData, OhlcSnapshot, OhlcUpdate

    candles: dict[tuple[str, str], OhlcData] = {}

    def on_event(event: object) -> None:
        if isinstance(event, OhlcSnapshot | OhlcUpdate):
            for data in event.data:
                candles[(data.symbol, data.interval_begin)] = data

    def render(label: str) -> RenderableType:
        newest = sorted(candles.values(), key=lambda c: c.interval_begin, reverse=True)
        return ohlc_table(newest[:rows], label)

    await _stream_table(
        options,
        "ohlc",
        lambda client: client.subscribe_ohlc(symbols, interval=interval),  # type: ignore[arg-type]
        on_event,
        render,
    )


# --- record / replay ----------------------------------------------------------------------------


@main.command()
@click.option(
    "--channel",
    "-c",
    "channels",
    multiple=True,
    required=True,
    type=click.Choice(["book", "ticker", "trade", "ohlc", "instrument"]),
    help="Channel to record (repeatable).",
)
@click.option(
    "--symbol", "-s", "symbols", multiple=True, help="Pair to record (repeatable), e.g. BTC/USD."
)
@click.option(
    "--out",
    "-o",
    required=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="Output file: .jsonl, or .jsonl.gz for gzip.",
)
@click.option(
    "--depth",
    type=int,
    default=10,
    show_default=True,
    callback=_check_depth,
    help="Book depth: 10, 25, 100, 500 or 1000.",
)
@click.option(
    "--interval",
    type=int,
    default=1,
    show_default=True,
    callback=_check_interval,
    help="OHLC candle minutes.",
)
@_source_options
def record(
    channels: tuple[str, ...],
    symbols: tuple[str, ...],
    out: Path,
    depth: int,
    interval: int,
    live: bool,
    ws_url: str | None,
    duration: float | None,
    rate: float,
    seed: int,
) -> None:
    """Record raw frames with receive timestamps to JSON Lines.

    Each line is {"t": <unix time>, "frame": <the frame exactly as received>}. Book
    subscriptions are kept as live, verified books while recording, so a replay can be
    checked against them.

    \b
    Examples:
      kraken-ws record -c book -s BTC/USD -o btc.jsonl.gz --duration 10
      kraken-ws record -c book -c trade -s BTC/USD -s ETH/USD --depth 100 -o feed.jsonl --live
    """  # noqa: D301
    pairs = _check_symbols(symbols) if symbols or set(channels) != {"instrument"} else []
    parent = out.resolve().parent
    if not parent.is_dir():
        raise click.BadParameter(f"directory {str(parent)!r} does not exist", param_hint="--out")
    with _quiet_logs():
        _run(
            _record(list(channels), pairs, out, depth, interval, live, ws_url, duration, rate, seed)
        )


async def _record(
    channels: list[str],
    symbols: list[str],
    out: Path,
    depth: int,
    interval: int,
    live: bool,
    ws_url: str | None,
    duration: float | None,
    rate: float,
    seed: int,
) -> None:
    from .recording import RecordedFrame, RecordSummary
    from .recording import record as record_frames

    console = Console(stderr=True)
    counts = {"frames": 0, "bytes": 0}
    frame_rate = _Rate()
    began = time.monotonic()

    def on_frame(frame: RecordedFrame) -> None:
        counts["frames"] += 1
        counts["bytes"] += len(frame.text)
        frame_rate.tick()

    def render() -> RenderableType:
        return Text.assemble(
            ("recording ", "bold red"),
            (str(out), "bold"),
            f"  ·  {counts['frames']} frames  ·  {_size(counts['bytes'])}  ·  ",
            f"{frame_rate.value():.0f} frames/s  ·  {time.monotonic() - began:.1f} s",
        )

    async with _open_source(live, ws_url, rate, seed) as source:
        stop = _stop_event(duration)
        worker: asyncio.Task[RecordSummary] = asyncio.create_task(
            record_frames(
                out,
                channels=channels,
                symbols=symbols,
                ws_url=source.ws_url,
                depth=depth,  # type: ignore[arg-type]
                interval=interval,  # type: ignore[arg-type]
                stop=stop,
                on_frame=on_frame,
            )
        )
        with Live(render(), console=console, auto_refresh=False, transient=True) as display:
            while not worker.done():
                await asyncio.wait({worker}, timeout=0.25)
                display.update(render(), refresh=True)
        summary = worker.result()
    click.echo(
        f"recorded {summary.frames} frames ({_size(summary.bytes)}) in {summary.seconds:.1f} s "
        f"to {summary.path}"
    )


def _size(count: int) -> str:
    value = float(count)
    for unit in ("B", "KiB", "MiB"):
        if value < 1024 or unit == "MiB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    raise AssertionError("unreachable")  # pragma: no cover


@main.command()
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--speed",
    type=click.FloatRange(min=0, min_open=True),
    default=None,
    help="Replay at this multiple of the recorded pace (default 1).",
)
@click.option(
    "--as-fast-as-possible", "-f", "fast", is_flag=True, help="Do not pace the frames at all."
)
@click.option(
    "--book",
    "books",
    multiple=True,
    metavar="SYMBOL",
    help="Only keep books for this pair (repeatable; default: every pair).",
)
@click.option(
    "--depth",
    type=int,
    default=None,
    callback=_check_depth,
    help="Keep books at this depth instead of the subscribed one.",
)
def replay(
    file: Path, speed: float | None, fast: bool, books: tuple[str, ...], depth: int | None
) -> None:
    """Replay a recording through the decoder and book engine, verifying every checksum.

    Prints frames per channel, checksums verified/failed and each book's final top of book.
    Exits 1 if any checksum failed.

    \b
    Examples:
      kraken-ws replay btc.jsonl.gz --as-fast-as-possible
      kraken-ws replay feed.jsonl --speed 10 --book ETH/USD
    """  # noqa: D301
    from ._render import replay_table
    from .recording import RecordedFrame, RecordingError, Replayer, count_frames
    from .recording import replay as replay_frames

    if speed is not None and fast:
        raise click.UsageError("--speed and --as-fast-as-possible are mutually exclusive")
    pace = None if fast else (speed or 1.0)
    console = Console(stderr=True)
    try:
        total = count_frames(file)
        progress = Progress(
            TextColumn("replaying [bold]{task.fields[name]}"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("frames  ·  {task.fields[verified]} verified, {task.fields[failed]} failed"),
            TimeElapsedColumn(),
            console=console,
            transient=True,
        )
        with progress:
            task = progress.add_task("replay", total=total, name=file.name, verified=0, failed=0)
            last = [0.0]

            def on_frame(replayer: Replayer, _frame: RecordedFrame) -> None:
                now = time.monotonic()
                if now - last[0] >= 0.1 or replayer.frames == total:
                    last[0] = now
                    progress.update(
                        task,
                        completed=replayer.frames,
                        verified=replayer.checksum_verified,
                        failed=replayer.checksum_failed,
                    )

            summary = replay_frames(
                file, speed=pace, symbols=books or None, depth=depth, on_frame=on_frame
            )
    except (OSError, RecordingError) as exc:
        raise click.ClickException(f"cannot replay {file}: {_describe(exc)}") from None
    Console().print(replay_table(summary))
    missing = [s for s in books if not any(b.symbol == s for b in summary.books)]
    if missing:
        raise click.ClickException(f"no book for {', '.join(missing)} in {file}")
    if summary.checksum_failed:
        raise click.ClickException(
            f"{summary.checksum_failed} checksum mismatch(es) while replaying {file}"
        )


# --- schemas / token ----------------------------------------------------------------------------


@main.command()
@click.option(
    "--out",
    "-o",
    required=True,
    type=click.Path(file_okay=False, path_type=Path),
    help="Directory to write (created if missing).",
)
def schemas(out: Path) -> None:
    """Write the JSON Schemas of every message, generated from the models.

    \b
    Examples:
      kraken-ws schemas --out schemas/
    """  # noqa: D301
    from ._schema import build_schemas

    files = build_schemas()
    try:
        for name, text in files.items():
            target = out / name
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise click.ClickException(f"cannot write schemas to {out}: {_describe(exc)}") from None
    click.echo(f"wrote {len(files)} schema files to {out}")


@main.command()
@click.option(
    "--rest-url",
    default=KRAKEN_REST_URL,
    show_default=True,
    metavar="URL",
    help="REST base URL (e.g. a local exchange's rest_url).",
)
@click.option("--json", "as_json", is_flag=True, help='Print {"token": ...} instead.')
def token(rest_url: str, as_json: bool) -> None:
    """Print a WebSocket token (for private channels and trading).

    Reads the API key and secret from KRAKEN_API_KEY and KRAKEN_API_SECRET; the secret is
    never printed.

    \b
    Examples:
      KRAKEN_API_KEY=... KRAKEN_API_SECRET=... kraken-ws token
      kraken-ws token --rest-url http://127.0.0.1:8080
    """  # noqa: D301
    key = os.environ.get("KRAKEN_API_KEY", "")
    secret = os.environ.get("KRAKEN_API_SECRET", "")
    if not key or not secret:
        raise click.UsageError("set KRAKEN_API_KEY and KRAKEN_API_SECRET in the environment")
    from .auth import TokenProvider
    from .exceptions import AuthenticationError

    async def fetch() -> str:
        provider = TokenProvider(key, secret, rest_url=rest_url)
        try:
            return await provider.get()
        finally:
            await provider.aclose()

    try:
        value = asyncio.run(fetch())
    except AuthenticationError as exc:
        message = _one_line(str(exc)).replace(secret, "***")
        raise click.ClickException(message) from None
    click.echo(json.dumps({"token": value}) if as_json else value)


# --- serve --------------------------------------------------------------------------------------


@main.command()
@click.option(
    "--json", "as_json", is_flag=True, help="Print one JSON object with the URLs and keys."
)
@click.option("--host", default="127.0.0.1", show_default=True, help="Interface to bind.")
@click.option(
    "--port-base",
    type=int,
    default=None,
    help="Bind public/auth/l3/REST to PORT_BASE..PORT_BASE+3 (default: free ports).",
)
@click.option(
    "--symbols",
    default=",".join(spec.symbol for spec in DEFAULT_INSTRUMENTS),
    show_default=True,
    help="Comma-separated instruments to simulate.",
)
@click.option(
    "--rate",
    type=float,
    default=10.0,
    show_default=True,
    help="Book updates per second per symbol.",
)
@click.option("--seed", type=int, default=0, show_default=True, help="Market random seed.")
def serve(
    as_json: bool, host: str, port_base: int | None, symbols: str, rate: float, seed: int
) -> None:
    """Run a local Kraken exchange until Ctrl-C (public, auth, level3 and REST endpoints)."""
    wanted = [s.strip() for s in symbols.split(",") if s.strip()]
    known = {spec.symbol: spec for spec in DEFAULT_INSTRUMENTS}
    unknown = [s for s in wanted if s not in known]
    if unknown:
        raise click.BadParameter(
            f"unknown symbol(s) {', '.join(unknown)}; choose from {', '.join(known)}",
            param_hint="--symbols",
        )
    exchange = LocalExchange(
        instruments=[known[s] for s in wanted],
        rate=rate or None,
        seed=seed,
        host=host,
        port_base=port_base,
    )
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(_serve(exchange, as_json))


async def _serve(exchange: LocalExchange, as_json: bool) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(sig, stop.set)
    async with exchange:
        info = {
            "ws_url": exchange.ws_url,
            "auth_ws_url": exchange.auth_ws_url,
            "l3_ws_url": exchange.l3_ws_url,
            "rest_url": exchange.rest_url,
            "api_key": exchange.api_key,
            "api_secret": exchange.api_secret,
        }
        if as_json:
            click.echo(json.dumps(info))
        else:
            click.echo("kraken-ws local exchange (Ctrl-C to stop)")
            for name, value in info.items():
                click.echo(f"  {name:<12} {value}")
        sys.stdout.flush()
        await stop.wait()
