"""``record`` (frames to a file, with a live counter) and ``replay`` (a file through the books).

Imported when one of them runs: the recorder, the models and rich are imported inside the
functions, after ``record`` has said where it connects (`.sources._announced`).
"""

from __future__ import annotations

import asyncio
import signal
import time
from collections.abc import Callable
from pathlib import Path
from types import FrameType, TracebackType
from typing import TYPE_CHECKING, Any

import click

from .group import _check_depth, _check_interval, _check_symbols, _describe, _run
from .live import _quiet_logs, _Rate
from .sources import _announced, _open_source, _source_options, _SourceOptions, _stop_event

if TYPE_CHECKING:
    from rich.console import RenderableType

__all__ = ["record", "replay"]


@click.command()
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
    with_pairs = sorted(set(channels) - {"instrument"})
    if with_pairs and not symbols:
        which = f"channel {with_pairs[0]} needs" if len(with_pairs) == 1 else "these channels need"
        raise click.UsageError(
            f"Missing option '-s' / '--symbol': {which} at least one pair, e.g. -s BTC/USD"
        )
    pairs = _check_symbols(symbols, "'-s' / '--symbol'") if symbols else []
    parent = out.resolve().parent
    if not parent.is_dir():
        raise click.BadParameter(f"directory {str(parent)!r} does not exist", param_hint="--out")
    options = _announced(_SourceOptions(live, ws_url, duration, rate, seed))
    with _quiet_logs():
        _run(_record(list(channels), pairs, out, depth, interval, options))


async def _record(
    channels: list[str],
    symbols: list[str],
    out: Path,
    depth: int,
    interval: int,
    options: _SourceOptions,
) -> None:
    from rich.console import Console
    from rich.live import Live
    from rich.text import Text

    from ..recording import RecordedFrame, RecordSummary
    from ..recording import record as record_frames

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
            f"  ·  {counts['frames']} frames  ·  {_size(counts['bytes'])} received  ·  ",
            f"{frame_rate.value():.0f} frames/s  ·  {time.monotonic() - began:.1f} s",
        )

    async with _open_source(options) as source:
        stop = _stop_event(options.duration)
        worker: asyncio.Task[RecordSummary] = asyncio.create_task(
            record_frames(
                out,
                channels=channels,
                symbols=symbols,
                ws_url=source.ws_url,
                connector=source.connector,
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
        f"recorded {summary.frames} frames in {summary.seconds:.1f} s to {summary.path} "
        f"({_on_disk(summary.path, summary.bytes)})"
    )


def _on_disk(path: Path, received: int) -> str:
    """The file's size on disk, and for a compressed file the frame text it holds."""
    size = _size(path.stat().st_size)
    if path.name.endswith(".gz"):
        return f"{size} on disk, {_size(received)} of frames uncompressed"
    return size


def _size(count: int) -> str:
    value = float(count)
    for unit in ("B", "KiB", "MiB"):
        if value < 1024 or unit == "MiB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    raise AssertionError("unreachable")  # pragma: no cover


@click.command(short_help="Replay a recording through the book engine, verifying checksums.")
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
    Exits 1 if any checksum failed. Ctrl-C stops it and prints the same report for the frames
    replayed so far.

    \b
    Examples:
      kraken-ws replay btc.jsonl.gz --as-fast-as-possible
      kraken-ws replay feed.jsonl --speed 10 --book ETH/USD
    """  # noqa: D301
    from rich.console import Console
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
    )

    from ..recording import RecordedFrame, RecordingError, Replayer, count_frames
    from ..recording import replay as replay_frames
    from .render import replay_table

    if speed is not None and fast:
        raise click.UsageError("--speed and --as-fast-as-possible are mutually exclusive")
    pace = None if fast else (speed or 1.0)
    console = Console(stderr=True)
    stopper = _CtrlC()
    replayer: list[Replayer] = []
    total = 0
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
            # Off a terminal the bar would only leave a blank line on stderr.
            disable=not console.is_terminal,
        )
        with progress, stopper:
            task = progress.add_task("replay", total=total, name=file.name, verified=0, failed=0)
            last = [0.0]

            def on_frame(current: Replayer, _frame: RecordedFrame) -> None:
                replayer[:] = [current]
                now = time.monotonic()
                if now - last[0] >= 0.1 or current.frames == total:
                    last[0] = now
                    progress.update(
                        task,
                        completed=current.frames,
                        verified=current.checksum_verified,
                        failed=current.checksum_failed,
                    )
                stopper.check()

            summary = replay_frames(
                file,
                speed=pace,
                symbols=books or None,
                depth=depth,
                on_frame=on_frame,
                sleep=stopper.sleep,
            )
        stopped = False
    except _Stopped:
        # Ctrl-C: the frames replayed so far, reported as a full replay would be (exit 0).
        summary = (replayer[0] if replayer else Replayer()).summary()
        stopped = True
    except (OSError, RecordingError) as exc:
        raise click.ClickException(f"cannot replay {file}: {_describe(exc)}") from None
    Console().print(replay_table(summary))
    if stopped:
        click.echo(f"stopped by Ctrl-C after {summary.frames} of {total} frames")
    missing = [s for s in books if not any(b.symbol == s for b in summary.books)]
    if missing and not stopped:  # a book may be further on in the file
        raise click.ClickException(f"no book for {', '.join(missing)} in {file}")
    if summary.checksum_failed:
        raise click.ClickException(
            f"{summary.checksum_failed} checksum mismatch(es) while replaying {file}"
        )


class _Stopped(Exception):
    """Ctrl-C during a replay, raised between frames."""


class _CtrlC:
    """Turns Ctrl-C during a replay into `_Stopped` between two frames.

    ``replay`` runs in the main thread, outside asyncio: Python's default handler would raise
    KeyboardInterrupt anywhere, even halfway through applying a frame to a book, and the
    summary would be lost. This handler only sets a flag; `check` and `sleep` (the pacing)
    raise at a clean point.
    """

    def __init__(self) -> None:
        self.requested = False
        self._installed = False
        self._previous: Callable[[int, FrameType | None], Any] | int | None = None

    def __enter__(self) -> _CtrlC:
        try:
            self._previous = signal.signal(signal.SIGINT, self._handle)
            self._installed = True
        except ValueError:  # not the main thread (embedded use): keep the default behaviour
            pass
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._installed:
            signal.signal(signal.SIGINT, self._previous)

    def _handle(self, _signum: int, _frame: FrameType | None) -> None:
        self.requested = True

    def check(self) -> None:
        """Raise `_Stopped` if Ctrl-C was pressed."""
        if self.requested:
            raise _Stopped

    def sleep(self, seconds: float) -> None:
        """Pace the replay in short steps, so that Ctrl-C ends a long gap at once."""
        deadline = time.monotonic() + seconds
        while (left := deadline - time.monotonic()) > 0:
            self.check()
            time.sleep(min(left, 0.05))
        self.check()
