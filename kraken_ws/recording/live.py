"""Recording a live connection: `record` subscribes public channels and writes every frame.

The client keeps live, verified books for ``book`` while recording, so a replay of the file can
be checked against them (`RecordSummary.books`).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from ..book.l2 import BookView, OrderBook
from ..book.l3 import L3Book
from ..endpoints import KRAKEN_WS_URL
from ..models.common import BookDepth, OhlcInterval
from ..transport.base import Connector
from .format import RecordedFrame, Recorder

__all__ = ["RECORDABLE_CHANNELS", "RecordSummary", "record"]

RECORDABLE_CHANNELS: tuple[str, ...] = ("book", "ticker", "trade", "ohlc", "instrument")
"""Public channels `record` can subscribe."""


@dataclass(frozen=True, slots=True)
class RecordSummary:
    """What `record` wrote.

    Attributes:
        path: The recording.
        frames: Frames written.
        bytes: Bytes of frame text written (before compression).
        seconds: Time spent recording.
        books: The client's live L2 books at the moment recording stopped (one per symbol when
            ``book`` was recorded): replaying the file must end in exactly these books.
    """

    path: Path
    frames: int
    bytes: int
    seconds: float
    books: dict[str, BookView]


async def record(
    out: str | os.PathLike[str],
    *,
    channels: Sequence[str],
    symbols: Sequence[str],
    ws_url: str = KRAKEN_WS_URL,
    depth: BookDepth = 10,
    interval: OhlcInterval = 1,
    duration: float | None = None,
    stop: asyncio.Event | None = None,
    on_frame: Callable[[RecordedFrame], None] | None = None,
    connector: Connector | None = None,
    timeout: float = 10.0,
) -> RecordSummary:
    """Subscribe public channels and record every frame received until stopped.

    ``book`` is subscribed through `book`, so the client
    keeps (and checksum-verifies, and resyncs) a live book per symbol while recording; those
    books are returned in the summary.

    Args:
        out: The file to write (``.jsonl`` or ``.jsonl.gz``).
        channels: Channels from `RECORDABLE_CHANNELS`.
        symbols: Pairs (not needed for ``instrument`` alone).
        ws_url: Public endpoint (a `LocalExchange`'s ``ws_url``, or
            Kraken's).
        depth: ``book`` depth.
        interval: ``ohlc`` interval, minutes.
        duration: Stop after this many seconds (after subscribing).
        stop: Stop when this event is set.
        on_frame: Called with each frame as it is written.
        connector: Transport connector to wrap (default: websockets).
        timeout: Seconds to wait for each subscription.

    Returns:
        The `RecordSummary`.

    A record that fails or is cancelled before every subscription was acknowledged leaves no
    file behind.

    Raises:
        ValueError: Unknown channel, or no symbols for a channel that needs them.
        SubscriptionError: The server refused a subscription (``Currency pair not supported``).
        KrakenWSError: The connection failed.
    """
    from ..client import KrakenWSClient

    unknown = [c for c in channels if c not in RECORDABLE_CHANNELS]
    if unknown or not channels:
        raise ValueError(
            f"cannot record channel(s) {', '.join(unknown) or '(none)'}; "
            f"choose from {', '.join(RECORDABLE_CHANNELS)}"
        )
    if not symbols and any(c != "instrument" for c in channels):
        raise ValueError("at least one symbol is needed")
    began = time.monotonic()
    views: dict[str, BookView] = {}
    subscribed = False
    with Recorder(out) as recorder:
        client = KrakenWSClient(
            ws_url=ws_url,
            connector=recorder.tap(connector, on_frame),
            on_event=_ignore,
            request_timeout=timeout,
        )
        try:
            await client.start()
            books: dict[str, OrderBook | L3Book] = {}
            for channel in dict.fromkeys(channels):
                if channel == "book":
                    for symbol in symbols:
                        books[symbol] = await client.book(symbol, depth)
                elif channel == "ticker":
                    await client.subscribe_ticker(symbols)
                elif channel == "trade":
                    await client.subscribe_trade(symbols)
                elif channel == "ohlc":
                    await client.subscribe_ohlc(symbols, interval=interval)
                else:
                    await client.subscribe_instrument()
            subscribed = True
            waiter = stop if stop is not None else asyncio.Event()
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(duration):
                    await waiter.wait()
            # Stop writing and copy the books in the same step: both then reflect exactly
            # the frames in the file.
            recorder.stop()
            views = {s: b.snapshot() for s, b in books.items() if isinstance(b, OrderBook)}
        finally:
            recorder.stop()
            await client.close()
            recorder.close()
            if not subscribed:
                # Failed (or stopped) before recording anything asked for: at most a status
                # frame and a refusal. A file left behind would pass for a recording.
                recorder.path.unlink(missing_ok=True)
    return RecordSummary(
        path=recorder.path,
        frames=recorder.frames,
        bytes=recorder.bytes,
        seconds=time.monotonic() - began,
        books=views,
    )


def _ignore(event: object) -> None:
    """Events are not consumed while recording; the frames go to the file."""
