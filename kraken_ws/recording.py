"""Record raw WebSocket frames to JSON Lines and replay them through the decoder and book engine.

A recording is a text file (gzip-compressed when its name ends in ``.gz``) with one JSON object
per received frame::

    {"t":1732836000.123456,"frame":{"channel":"book","type":"update","data":[...]}}

``t`` is the receive time (Unix seconds) and ``frame`` is the frame text exactly as it arrived,
spliced in rather than re-serialised, so every price keeps its wire digits and the book
checksums verify on replay. A frame that is not one line of valid JSON is kept as a JSON string
under ``"text"`` instead.

* :class:`Recorder` writes a recording; :meth:`Recorder.tap` wraps a transport connector so a
  :class:`~kraken_ws.client.KrakenWSClient` records every frame it receives.
* :func:`record` subscribes public channels on a client and records them (what
  ``kraken-ws record`` runs).
* :func:`iter_recording` reads a recording back, frame by frame.
* :class:`Replayer` / :func:`replay` feed the frames through :func:`kraken_ws.decode` and a
  :class:`~kraken_ws.book.BookManager`, verifying every checksum, and report a
  :class:`ReplaySummary`.
"""

from __future__ import annotations

import asyncio
import contextlib
import gzip
import os
import time
from collections.abc import Callable, Collection, Iterator, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from types import TracebackType
from typing import IO, Literal, Self

import jiter

from .book.l2 import BookView, OrderBook, PriceLevel
from .book.l3 import L3Book
from .book.manager import BookManager, BookUpdated, ResyncNeeded
from .exceptions import DecodeError, KrakenWSError
from .models.channels.book import BookSnapshot, BookSubscribeResult
from .models.channels.level3 import Level3Snapshot, Level3SubscribeResult
from .models.common import BookDepth, OhlcInterval
from .models.messages import UnknownMessage
from .models.methods.subscribe import SubscribeSuccess
from .protocol import _json
from .protocol.codec import decode
from .transport.base import Connector, Transport

__all__ = [
    "RECORDABLE_CHANNELS",
    "BookSummary",
    "RecordSummary",
    "RecordedFrame",
    "Recorder",
    "RecordingError",
    "ReplaySummary",
    "Replayer",
    "iter_recording",
    "record",
    "replay",
]

RECORDABLE_CHANNELS: tuple[str, ...] = ("book", "ticker", "trade", "ohlc", "instrument")
"""Public channels :func:`record` can subscribe."""

_BOOK_DEPTHS: tuple[int, ...] = (10, 25, 100, 500, 1000)
_GZIP_MAGIC = b"\x1f\x8b"
_PREFIX = '{"t":'


class RecordingError(KrakenWSError, ValueError):
    """A file is not a valid recording (the message names the file and line)."""


@dataclass(frozen=True, slots=True)
class RecordedFrame:
    """One received frame of a recording.

    Attributes:
        t: Receive time, Unix seconds.
        text: The frame text as received.
        line: 1-based line number in the recording (0 for frames not read from a file).
    """

    t: float
    text: str
    line: int = 0


def _is_gzip_name(path: str | os.PathLike[str]) -> bool:
    return os.fspath(path).endswith(".gz")


def _encode_line(t: float, text: str) -> str:
    if "\n" not in text and "\r" not in text:
        try:
            jiter.from_json(text.encode())
        except ValueError:
            pass
        else:
            return f'{_PREFIX}{t:.6f},"frame":{text}}}\n'
    return f'{_PREFIX}{t:.6f},"text":{_json.dumps(text)}}}\n'


class Recorder:
    """Writes received frames to a JSON Lines recording (gzip when the name ends in ``.gz``).

    Use it as a context manager, or call :meth:`close`::

        with Recorder("btc.jsonl.gz") as recorder:
            async with KrakenWSClient(connector=recorder.tap()) as client:
                ...

    Args:
        path: The file to create (overwritten if it exists).
        clock: Wall clock for receive times, Unix seconds.

    Raises:
        OSError: The file cannot be created.
    """

    def __init__(
        self, path: str | os.PathLike[str], *, clock: Callable[[], float] = time.time
    ) -> None:
        self.path = Path(path)
        self._clock = clock
        self._file: IO[str]
        if _is_gzip_name(path):
            self._file = gzip.open(self.path, "wt", encoding="utf-8", newline="\n")  # noqa: SIM115
        else:
            self._file = open(self.path, "w", encoding="utf-8", newline="\n")  # noqa: SIM115
        self.frames = 0
        """Frames written."""
        self.bytes = 0
        """Bytes of frame text written (before compression)."""
        self._paused = False
        self._closed = False

    def __repr__(self) -> str:
        return f"Recorder({str(self.path)!r}, frames={self.frames}, closed={self._closed})"

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    @property
    def closed(self) -> bool:
        """Whether :meth:`close` was called."""
        return self._closed

    def write(self, text: str, t: float | None = None) -> RecordedFrame | None:
        """Append one frame.

        Args:
            text: The frame text as received.
            t: Receive time (default: now on the recorder's clock).

        Returns:
            The recorded frame, or ``None`` if the recorder is closed or stopped.
        """
        if self._closed or self._paused:
            return None
        when = self._clock() if t is None else t
        self._file.write(_encode_line(when, text))
        self.frames += 1
        self.bytes += len(text)
        return RecordedFrame(when, text, self.frames)

    def stop(self) -> None:
        """Ignore every later frame (the file stays open until :meth:`close`)."""
        self._paused = True

    def close(self) -> None:
        """Flush and close the file (idempotent)."""
        if not self._closed:
            self._closed = True
            self._file.close()

    def tap(
        self,
        connector: Connector | None = None,
        on_frame: Callable[[RecordedFrame], None] | None = None,
    ) -> Connector:
        """A connector whose transports record every frame they receive.

        Args:
            connector: The connector to wrap (default: the websockets transport).
            on_frame: Called with each frame just after it is written.

        Returns:
            A connector for :class:`~kraken_ws.client.KrakenWSClient`'s ``connector=``.
        """
        if connector is None:
            from .transport.websockets import connect

            connector = connect
        inner = connector

        async def connect_recording(url: str) -> Transport:
            return _TapTransport(await inner(url), self, on_frame)

        return connect_recording


class _TapTransport:
    """A transport that hands every received frame to a :class:`Recorder`."""

    def __init__(
        self,
        inner: Transport,
        recorder: Recorder,
        on_frame: Callable[[RecordedFrame], None] | None,
    ) -> None:
        self._inner = inner
        self._recorder = recorder
        self._on_frame = on_frame

    async def send(self, text: str) -> None:
        await self._inner.send(text)

    async def recv(self) -> str | bytes:
        text = await self._inner.recv()
        if isinstance(text, bytes):
            return text  # not Kraken's (binary); the client skips it, the recording too
        # No await between here and the return: the client processes this frame before the
        # event loop runs anything else, so the recording and the client's state agree.
        frame = self._recorder.write(text)
        if frame is not None and self._on_frame is not None:
            self._on_frame(frame)
        return text

    async def close(self, code: int = 1000, reason: str = "") -> None:
        await self._inner.close(code, reason)

    async def abort(self) -> None:
        await self._inner.abort()


# --- reading ------------------------------------------------------------------------------------


def _open_text(path: Path) -> IO[str]:
    with open(path, "rb") as probe:
        magic = probe.read(2)
    if magic == _GZIP_MAGIC:
        return gzip.open(path, "rt", encoding="utf-8", newline="\n")
    return open(path, encoding="utf-8", newline="\n")


def _parse_line(raw: str, path: Path, number: int) -> RecordedFrame:
    line = raw.rstrip("\r\n")
    if line.startswith(_PREFIX) and line.endswith("}"):
        # Fast path, the layout Recorder writes: slice the frame text out, byte for byte.
        comma = line.find(",", len(_PREFIX))
        if comma > 0 and line.startswith('"frame":', comma + 1):
            try:
                t = float(line[len(_PREFIX) : comma])
            except ValueError:
                pass
            else:
                return RecordedFrame(t, line[comma + 9 : -1], number)
    try:
        obj = _json.loads(line)
    except ValueError as exc:
        raise RecordingError(f"{path}:{number}: not a JSON line ({exc})") from None
    if not isinstance(obj, dict) or "t" not in obj or ("frame" not in obj and "text" not in obj):
        raise RecordingError(f"{path}:{number}: expected an object with 't' and 'frame'")
    t_value = obj["t"]
    if isinstance(t_value, bool) or not isinstance(t_value, int | Decimal):
        raise RecordingError(f"{path}:{number}: 't' must be a number")
    if "frame" in obj:
        # Written by another tool: re-serialise losslessly (exact number digits).
        text = _json.dumps(obj["frame"])
    else:
        if not isinstance(obj["text"], str):
            raise RecordingError(f"{path}:{number}: 'text' must be a string")
        text = obj["text"]
    return RecordedFrame(float(t_value), text, number)


def iter_recording(path: str | os.PathLike[str]) -> Iterator[RecordedFrame]:
    """Read a recording frame by frame (gzip is detected from the file's first bytes).

    Blank lines are skipped.

    Args:
        path: The recording.

    Yields:
        Each :class:`RecordedFrame`, in file order.

    Raises:
        OSError: The file cannot be read (missing, permission, corrupt gzip).
        RecordingError: A line is not a recording line, or the gzip stream is truncated.
    """
    source = Path(path)
    with _open_text(source) as stream:
        number = 0
        try:
            for raw in stream:
                number += 1
                if raw.strip():
                    yield _parse_line(raw, source, number)
        except EOFError as exc:
            raise RecordingError(f"{source}: truncated after line {number} ({exc})") from None
        except UnicodeDecodeError as exc:
            raise RecordingError(f"{source}:{number + 1}: not UTF-8 text ({exc.reason})") from None


def count_frames(path: str | os.PathLike[str]) -> int:
    """Number of non-blank lines of a recording (for progress bars; lines are not parsed).

    Args:
        path: The recording.

    Returns:
        The line count.

    Raises:
        OSError: The file cannot be read.
        RecordingError: The gzip stream is truncated or the text is not UTF-8.
    """
    source = Path(path)
    count = 0
    try:
        with _open_text(source) as stream:
            for raw in stream:
                if raw.strip():
                    count += 1
    except EOFError as exc:
        raise RecordingError(f"{source}: truncated ({exc})") from None
    except UnicodeDecodeError as exc:
        raise RecordingError(f"{source}: not UTF-8 text ({exc.reason})") from None
    return count


# --- replay -------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class BookSummary:
    """The final state of one book after a replay.

    Attributes:
        symbol: The pair.
        channel: ``"book"`` (L2) or ``"level3"``.
        depth: The depth it was kept at.
        verified: Messages whose checksum matched.
        failed: Checksum mismatches (and updates that arrived without a snapshot).
        valid: Whether the book was in sync at the end.
        best_bid: ``(price, qty)`` of the best bid at the end.
        best_ask: ``(price, qty)`` of the best ask at the end.
        checksum: The last checksum computed.
        view: An immutable copy of the final L2 book (``None`` for level3).
    """

    symbol: str
    channel: Literal["book", "level3"]
    depth: int
    verified: int
    failed: int
    valid: bool
    best_bid: PriceLevel | None
    best_ask: PriceLevel | None
    checksum: int | None
    view: BookView | None


@dataclass(frozen=True, slots=True)
class ReplaySummary:
    """What a replay saw.

    Attributes:
        frames: Frames read.
        channels: Frames per channel (``"book"``, ``"heartbeat"``...) or method (``"subscribe"``).
        unknown: Frames that are JSON but match no model.
        invalid: Frames that are not JSON.
        checksum_verified: Book messages whose checksum matched.
        checksum_failed: Checksum mismatches.
        books: The final state of every book kept.
        first_t: Receive time of the first frame (``None`` if there were none).
        last_t: Receive time of the last frame.
    """

    frames: int
    channels: dict[str, int]
    unknown: int
    invalid: int
    checksum_verified: int
    checksum_failed: int
    books: tuple[BookSummary, ...]
    first_t: float | None
    last_t: float | None

    @property
    def recorded_seconds(self) -> float:
        """Time between the first and the last frame of the recording."""
        if self.first_t is None or self.last_t is None:
            return 0.0
        return self.last_t - self.first_t

    def book(self, symbol: str, channel: Literal["book", "level3"] = "book") -> BookSummary:
        """The summary of one book.

        Args:
            symbol: The pair.
            channel: ``"book"`` or ``"level3"``.

        Returns:
            Its :class:`BookSummary`.

        Raises:
            KeyError: No such book was kept.
        """
        for item in self.books:
            if item.symbol == symbol and item.channel == channel:
                return item
        raise KeyError(f"no {channel} book for {symbol} in this replay")


def _depth_for(levels: int, given: int | None) -> int:
    if given is not None:
        return given
    return next((d for d in _BOOK_DEPTHS if d >= levels), _BOOK_DEPTHS[-1])


@dataclass
class _Counts:
    verified: int = 0
    failed: int = 0


@dataclass
class Replayer:
    """Feeds frames through :func:`~kraken_ws.decode` and a :class:`~kraken_ws.book.BookManager`.

    Books are kept for every ``book``/``level3`` subscription ack in the stream (at the acked
    depth), or from the first snapshot of a symbol without one. ``instrument`` frames set the
    checksum precisions. A checksum mismatch is counted; the book then waits for the next
    snapshot, as the live client's does.

    Args:
        symbols: Keep books only for these pairs (default: every pair in the stream).
        depth: Keep books at this depth instead of the acked one.
    """

    symbols: Collection[str] | None = None
    depth: int | None = None
    books: BookManager = field(default_factory=BookManager)
    """The L2 books (read them live while replaying)."""
    level3_books: BookManager = field(default_factory=BookManager)
    """The level3 books."""
    frames: int = 0
    unknown: int = 0
    invalid: int = 0
    channels: dict[str, int] = field(default_factory=dict)
    _counts: dict[tuple[str, str], _Counts] = field(default_factory=dict)
    _first_t: float | None = None
    _last_t: float | None = None

    def _wanted(self, symbol: str) -> bool:
        return self.symbols is None or symbol in self.symbols

    def _track(self, manager: BookManager, symbol: str, depth: int, level3: bool) -> None:
        existing = manager.book(symbol)
        if existing is None or existing.depth != depth:
            manager.track(symbol, depth, level3=level3)
            self._counts.setdefault(("level3" if level3 else "book", symbol), _Counts())

    def feed(self, frame: RecordedFrame | str) -> None:
        """Decode one frame and apply it to the books.

        Args:
            frame: A recorded frame, or bare frame text.
        """
        if isinstance(frame, RecordedFrame):
            text = frame.text
            if self._first_t is None:
                self._first_t = frame.t
            self._last_t = frame.t
        else:
            text = frame
        self.frames += 1
        try:
            message = decode(text)
        except DecodeError:
            self.invalid += 1
            return
        if isinstance(message, UnknownMessage):
            self.unknown += 1
            return
        kind = getattr(message, "channel", None) or getattr(message, "method", None) or "other"
        self.channels[str(kind)] = self.channels.get(str(kind), 0) + 1
        if isinstance(message, SubscribeSuccess):
            result = message.result
            if isinstance(result, BookSubscribeResult) and self._wanted(result.symbol):
                depth = self.depth or result.depth or 10
                self._track(self.books, result.symbol, depth, level3=False)
            elif isinstance(result, Level3SubscribeResult) and self._wanted(result.symbol):
                depth = self.depth or result.depth or 10
                self._track(self.level3_books, result.symbol, depth, level3=True)
            return
        if isinstance(message, BookSnapshot):
            for data in message.data:
                if self._wanted(data.symbol) and self.books.book(data.symbol) is None:
                    levels = max(len(data.bids), len(data.asks))
                    self._track(self.books, data.symbol, _depth_for(levels, self.depth), False)
        elif isinstance(message, Level3Snapshot):
            for l3 in message.data:
                if self._wanted(l3.symbol) and self.level3_books.book(l3.symbol) is None:
                    levels = max(len(l3.bids), len(l3.asks))
                    self._track(self.level3_books, l3.symbol, _depth_for(levels, self.depth), True)
        events = self.books.feed(message) + self.level3_books.feed(message)
        for event in events:
            counts = self._counts.setdefault((event.channel, event.symbol), _Counts())
            if isinstance(event, BookUpdated):
                counts.verified += 1
            elif isinstance(event, ResyncNeeded):
                counts.failed += 1

    @property
    def checksum_verified(self) -> int:
        """Book messages whose checksum matched so far."""
        return sum(c.verified for c in self._counts.values())

    @property
    def checksum_failed(self) -> int:
        """Checksum mismatches so far."""
        return sum(c.failed for c in self._counts.values())

    def summary(self) -> ReplaySummary:
        """What was replayed so far.

        Returns:
            A :class:`ReplaySummary` with the final state of every book.
        """
        books: list[BookSummary] = []
        for (channel, symbol), counts in self._counts.items():
            manager = self.books if channel == "book" else self.level3_books
            book = manager.book(symbol)
            if book is None:
                continue
            books.append(
                BookSummary(
                    symbol=symbol,
                    channel="book" if channel == "book" else "level3",
                    depth=book.depth,
                    verified=counts.verified,
                    failed=counts.failed,
                    valid=book.is_valid,
                    best_bid=book.best_bid,
                    best_ask=book.best_ask,
                    checksum=book.last_checksum,
                    view=book.snapshot() if isinstance(book, OrderBook) else None,
                )
            )
        return ReplaySummary(
            frames=self.frames,
            channels=dict(self.channels),
            unknown=self.unknown,
            invalid=self.invalid,
            checksum_verified=self.checksum_verified,
            checksum_failed=self.checksum_failed,
            books=tuple(books),
            first_t=self._first_t,
            last_t=self._last_t,
        )


def replay(
    path: str | os.PathLike[str],
    *,
    speed: float | None = None,
    symbols: Collection[str] | None = None,
    depth: int | None = None,
    on_frame: Callable[[Replayer, RecordedFrame], None] | None = None,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
) -> ReplaySummary:
    """Replay a recording through the decoder and the book engine, verifying every checksum.

    Args:
        path: The recording.
        speed: Replay at this multiple of the recorded pace (``1.0`` = as recorded); ``None``
            replays as fast as possible.
        symbols: Keep books only for these pairs (default: all).
        depth: Keep books at this depth instead of the acked one.
        on_frame: Called after each frame is applied (progress displays).
        sleep: Blocking sleep used for pacing.
        clock: Monotonic clock used for pacing.

    Returns:
        The :class:`ReplaySummary`.

    Raises:
        ValueError: ``speed`` is not positive.
        OSError: The file cannot be read.
        RecordingError: The file is not a recording.
    """
    if speed is not None and not speed > 0:
        raise ValueError(f"speed must be positive, got {speed}")
    replayer = Replayer(symbols=symbols, depth=depth)
    start_wall: float | None = None
    start_t = 0.0
    for frame in iter_recording(path):
        if speed is not None:
            if start_wall is None:
                start_wall, start_t = clock(), frame.t
            wait = start_wall + (frame.t - start_t) / speed - clock()
            if wait > 0:
                sleep(wait)
        replayer.feed(frame)
        if on_frame is not None:
            on_frame(replayer, frame)
    return replayer.summary()


# --- recording from a live connection -----------------------------------------------------------


@dataclass(frozen=True, slots=True)
class RecordSummary:
    """What :func:`record` wrote.

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
    ws_url: str = "wss://ws.kraken.com/v2",
    depth: BookDepth = 10,
    interval: OhlcInterval = 1,
    duration: float | None = None,
    stop: asyncio.Event | None = None,
    on_frame: Callable[[RecordedFrame], None] | None = None,
    connector: Connector | None = None,
    timeout: float = 10.0,
) -> RecordSummary:
    """Subscribe public channels and record every frame received until stopped.

    ``book`` is subscribed through :meth:`~kraken_ws.client.KrakenWSClient.book`, so the client
    keeps (and checksum-verifies, and resyncs) a live book per symbol while recording; those
    books are returned in the summary.

    Args:
        out: The file to write (``.jsonl`` or ``.jsonl.gz``).
        channels: Channels from :data:`RECORDABLE_CHANNELS`.
        symbols: Pairs (not needed for ``instrument`` alone).
        ws_url: Public endpoint (a :class:`~kraken_ws.testing.LocalExchange`'s ``ws_url``, or
            Kraken's).
        depth: ``book`` depth.
        interval: ``ohlc`` interval, minutes.
        duration: Stop after this many seconds (after subscribing).
        stop: Stop when this event is set.
        on_frame: Called with each frame as it is written.
        connector: Transport connector to wrap (default: websockets).
        timeout: Seconds to wait for each subscription.

    Returns:
        The :class:`RecordSummary`.

    Raises:
        ValueError: Unknown channel, or no symbols for a channel that needs them.
        SubscriptionError: The server refused a subscription (``Currency pair not supported``).
        KrakenWSError: The connection failed.
    """
    from .client import KrakenWSClient

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
    return RecordSummary(
        path=recorder.path,
        frames=recorder.frames,
        bytes=recorder.bytes,
        seconds=time.monotonic() - began,
        books=views,
    )


def _ignore(event: object) -> None:
    """Events are not consumed while recording; the frames go to the file."""
