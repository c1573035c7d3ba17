"""Hostile frames against a real client on a real exchange: the client-level acceptance suite.

Every frame goes out of a :class:`LocalExchange` (``inject_frame``) to a :class:`KrakenWSClient`
over real websockets on 127.0.0.1, in order with the exchange's own frames. After each one:

* the connection is still the first one (no ``Disconnected``, one connection at the exchange),
  except for a frame over the transport's limit, which must end in a clean reconnect;
* the BTC/USD book is either untouched (the frame was dropped) or resynced (the frame replaced
  it), and in both cases valid, equal to the exchange's, and verifying the checksums of new
  updates;
* the other endpoints still work (an auth ``ping`` and an ``add_order``);
* the event loop was not blocked for long: a task sleeping 5 ms in a loop records the longest
  gap between two of its wake-ups while the frame is processed. A frame of at most 1 MiB must
  not stall it for 100 ms. The exchange runs on the same loop, so its side counts too (for a
  16 MiB frame, encoding and writing it: the binary frames show about 20-30 ms of that);
* memory stays bounded: the ``tracemalloc`` peak while a second copy of the frame is processed
  (tracing slows every allocation, so never while the stall is measured). It counts the whole
  process, the exchange's side of the socket included (the binary frames, which the client
  skips at once, show that part: about 2.5x the frame).

The frame is done when the answer to a ``ping`` sent right behind it arrives: one connection's
frames are processed in order. Codec- and book-level hostile input has its own tests
(``tests/protocol/test_hostile_frames.py``, ``tests/book/test_hostile_books.py``); this file is
about the client as a whole.
``pytest -s`` prints the figures, and a table of them at the end of the module.

Frames with many items (book levels, orders, reports, JSON elements) cost time and memory per
item, and a megabyte holds tens of thousands of them: those shapes carry the known reason
(``Shape.limit``), and one of them over a bound ends its test as an expected failure that
shows the figure, after every functional check has passed. Every other frame must stay within
the bounds.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import time
import tracemalloc
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Literal

import pytest

from kraken_ws.book import L3Book, OrderBook
from kraken_ws.book.checksum import book_checksum
from kraken_ws.client import ClientEvent, KrakenWSClient
from kraken_ws.events import (
    BookResync,
    Connected,
    ConnectionFailed,
    Disconnected,
    Endpoint,
    EventsDropped,
    Reconnecting,
    Resubscribed,
)
from kraken_ws.exceptions import ConnectionLost
from kraken_ws.models.channels.executions import ExecutionsUpdate
from kraken_ws.models.messages import UnknownMessage
from kraken_ws.testing import LocalExchange
from kraken_ws.transport.websockets import _MAX_FRAME

from .conftest import SCALE

MIB = 2**20
STALL_LIMIT = 0.100  # the bound for one frame of at most 1 MiB, seconds
BEAT = 0.005  # the heartbeat task's sleep, seconds
PEAK_FACTOR = 20  # tracemalloc peak at most PEAK_FACTOR x the frame's size ...
PEAK_CONSTANT = 2 * MIB  # ... plus this
FAR_BELOW = Decimal("1000.0")  # a BTC/USD buy that rests and never fills

# --- figures ------------------------------------------------------------------------------------


@dataclass
class Figures:
    """What processing one frame cost."""

    name: str
    endpoint: str
    size: int
    stall: float = 0.0
    """Longest gap between two wake-ups of the 5 ms heartbeat task, seconds."""
    elapsed: float = 0.0
    """From injecting the frame to the answer of the ping behind it, seconds."""
    peak: int | None = None
    """tracemalloc peak while a second copy was processed, bytes."""
    known: bool = False
    """Of a shape with a known per-item cost (see :func:`check_bounds`)."""

    def line(self) -> str:
        peak = "-" if self.peak is None else f"{self.peak / MIB:.1f} MiB"
        ratio = "" if self.peak is None or self.size < MIB else f" ({self.peak / self.size:.1f}x)"
        mark = "*" if self.known else " "
        return (
            f"{mark}{self.name:<47}{self.endpoint:>7}{self.size:>10}{self.stall * 1e3:>10.1f}"
            f"{self.elapsed * 1e3:>10.1f}  {peak}{ratio}"
        )


FIGURES: list[Figures] = []


@pytest.fixture(scope="module", autouse=True)
def _print_figures() -> Iterator[None]:
    yield
    if not FIGURES:
        return
    print("\n\nHostile frames at the client: heartbeat gap (stall), ping barrier, tracemalloc peak")
    print(f"{'frame':<48}{'where':>7}{'bytes':>10}{'stall ms':>10}{'total ms':>10}  peak")
    for figures in FIGURES:
        print(figures.line())
    print("* a shape with a known per-item cost (Shape.limit)")
    for known, label in ((False, "held to the bounds"), (True, "known per-item cost")):
        rows = [f for f in FIGURES if f.known is known]
        small = [f for f in rows if f.size <= MIB]
        if small:
            worst = max(small, key=lambda f: f.stall)
            print(
                f"{label}: worst stall of a frame <= 1 MiB {worst.stall * 1e3:.1f} ms "
                f"({worst.name})"
            )
        big = [f for f in rows if f.size > MIB]
        if big:
            worst = max(big, key=lambda f: f.stall)
            print(
                f"{label}: worst stall of a larger frame {worst.stall * 1e3:.1f} ms ({worst.name})"
            )
        traced = [f for f in rows if f.peak is not None and f.size >= MIB]
        if traced:
            worst = max(traced, key=lambda f: (f.peak or 0) / f.size)
            print(
                f"{label}: worst peak {(worst.peak or 0) / worst.size:.1f}x the frame "
                f"({worst.name}: {(worst.peak or 0) / MIB:.1f} MiB)"
            )
            worst = max(traced, key=lambda f: f.peak or 0)
            print(f"{label}: largest peak {(worst.peak or 0) / MIB:.1f} MiB ({worst.name})")


class StallMonitor:
    """A task that sleeps 5 ms in a loop and records the longest gap between its wake-ups."""

    def __init__(self) -> None:
        self.worst = 0.0
        self._last = 0.0
        self._task: asyncio.Task[None] | None = None

    async def __aenter__(self) -> StallMonitor:
        self._last = asyncio.get_running_loop().time()
        self._task = asyncio.create_task(self._run())
        await asyncio.sleep(0)  # running before the frame goes out
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self._task is not None
        # The gap still open counts too: a frame handled between two beats shows up here.
        self.worst = max(self.worst, asyncio.get_running_loop().time() - self._last)
        self._task.cancel()
        await asyncio.gather(self._task, return_exceptions=True)

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            await asyncio.sleep(BEAT)
            now = loop.time()
            self.worst = max(self.worst, now - self._last)
            self._last = now


@contextlib.contextmanager
def traced_peak() -> Iterator[list[int]]:
    """Yield a list that receives the block's tracemalloc peak, in bytes, above its start."""
    out: list[int] = []
    started = not tracemalloc.is_tracing()
    if started:
        tracemalloc.start()
    tracemalloc.reset_peak()
    base = tracemalloc.get_traced_memory()[0]
    try:
        yield out
    finally:
        out.append(tracemalloc.get_traced_memory()[1] - base)
        if started:
            tracemalloc.stop()


# --- frames -------------------------------------------------------------------------------------

TIMESTAMP = "2026-08-16T23:37:03.745044Z"


def book_frame(
    price: str = "62807.0",
    qty: str = "0.00100000",
    *,
    symbol: str = "BTC/USD",
    kind: str = "update",
    checksum: int = 4249465476,
) -> str:
    """One ask level: the 150-byte frame of the issue (``price``/``qty`` are number tokens)."""
    return (
        f'{{"channel":"book","type":"{kind}","data":[{{"symbol":"{symbol}","bids":[],'
        f'"asks":[{{"price":{price},"qty":{qty}}}],"checksum":{checksum},'
        f'"timestamp":"{TIMESTAMP}"}}]}}'
    )


def padded(text: str, size: int) -> str:
    """``text`` followed by spaces (JSON whitespace) up to exactly ``size`` bytes."""
    assert text.isascii(), "sizes are counted in characters"
    assert len(text) <= size, (len(text), size)
    return text + " " * (size - len(text))


def scrambled(n: int) -> list[int]:
    """A fixed permutation of ``range(n)`` far from sorted, so no sorted-input fast path."""
    stride = 1_000_003  # a prime above any n used here
    assert n < stride
    return [(i * stride) % n for i in range(n)]


def items(head: str, item: Callable[[int], str], tail: str, size: int) -> str:
    """``head``, as many comma-separated ``item(i)`` as fit, ``tail``: exactly ``size`` bytes.

    ``item(i)`` must have the same length for every ``i`` below the count that fits.
    """
    width = len(item(0)) + 1
    count = (size - len(head) - len(tail) + 1) // width
    return padded(head + ",".join(item(i) for i in range(count)) + tail, size)


BASE = 1_000_000  # hostile prices are BASE + i + 0.5: nine characters up to 8,999,999.5
LEVEL_WIDTH = len('{"price":1000000.5,"qty":1.00000000}')
ONE = Decimal("1.00000000")


def _level(i: int) -> str:
    return f'{{"price":{BASE + i}.5,"qty":1.00000000}}'


def levels_frame(
    *,
    kind: str = "snapshot",
    symbol: str = "BTC/USD",
    levels: int | None = None,
    size: int | None = None,
    verified: bool = False,
) -> str:
    """A ``book`` frame with many distinct levels on both sides, in a scrambled order.

    Give ``levels`` (the total) or ``size`` (exact bytes). ``verified``: carry the checksum the
    client computes after truncating to depth 10, so that it takes the frame for the truth;
    otherwise the checksum is wrong.
    """
    head = f'{{"channel":"book","type":"{kind}","data":[{{"symbol":"{symbol}","bids":['
    middle = '],"asks":['

    def tail(checksum: int) -> str:
        return f'],"checksum":{checksum},"timestamp":"{TIMESTAMP}"}}]}}'

    if levels is None:
        assert size is not None
        # n levels over two sides take n * (width + 1) - 2 bytes.
        fixed = len(head) + len(middle) + len(tail(2**32 - 1))
        levels = (size - fixed + 2) // (LEVEL_WIDTH + 1)
    bids = levels // 2
    asks = levels - bids
    # Bids at BASE + [0, bids) + 0.5, asks right above them.
    top_bids = [(Decimal(f"{BASE + i}.5"), ONE) for i in range(max(bids - 10, 0), bids)]
    top_asks = [(Decimal(f"{BASE + bids + i}.5"), ONE) for i in range(min(asks, 10))]
    checksum = book_checksum(top_asks, top_bids) if verified else 1
    text = (
        head
        + ",".join(_level(i) for i in scrambled(bids))
        + middle
        + ",".join(_level(bids + i) for i in scrambled(asks))
        + tail(checksum)
    )
    return padded(text, size) if size is not None else text


def compact_book_frame(size: int, *, kind: str = "snapshot", symbol: str = "BTC/USD") -> str:
    """The most levels a ``book`` frame of ``size`` bytes can hold: integer prices and qtys."""
    head = f'{{"channel":"book","type":"{kind}","data":[{{"symbol":"{symbol}","bids":['
    tail = '],"asks":[],"checksum":1}]}'
    return items(head, lambda i: f'{{"price":{10_000 + i},"qty":1}}', tail, size)


def level3_frame(size: int, *, symbol: str = "BTC/USD") -> str:
    """A ``level3`` snapshot: one order per price, scrambled, wrong checksum."""
    head = f'{{"channel":"level3","type":"snapshot","data":[{{"symbol":"{symbol}","bids":['
    tail = '],"asks":[],"checksum":1}]}'
    count = (size - len(head) - len(tail) + 1) // (len(_l3_order(0)) + 1)
    order = scrambled(count)
    return items(head, lambda i: _l3_order(order[i]), tail, size)


def _l3_order(i: int) -> str:
    return (
        f'{{"order_id":"O{i:06d}-HOSTL-E{i:06d}","limit_price":{BASE + i}.5,'
        f'"order_qty":1.00000000,"timestamp":"2026-08-16T23:37:03.745044123Z"}}'
    )


def executions_frame(size: int) -> str:
    """An ``executions`` update: many fills of unknown orders (no ``sequence``)."""
    head = '{"channel":"executions","type":"update","data":['

    def report(i: int) -> str:
        return (
            f'{{"order_id":"O{i:06d}-HOSTL-E{i:06d}","exec_id":"T{i:06d}-HOSTL-E{i:06d}",'
            f'"symbol":"BTC/USD","order_qty":0.005,"exec_type":"trade","side":"buy",'
            f'"last_qty":0.005,"last_price":62807.1,"cum_cost":0.0,'
            f'"timestamp":"2023-09-22T10:33:05.709993Z","order_status":"filled"}}'
        )

    return items(head, report, "]}", size)


def minimal_executions_frame(size: int) -> str:
    """The most reports an ``executions`` frame can hold: only the required ``exec_type``."""
    head = '{"channel":"executions","type":"update","data":['
    return items(head, lambda i: '{"exec_type":"new"}', "]}", size)


def invalid_status_frame(size: int) -> str:
    """A ``status`` update whose every item fails validation (three fields missing each)."""
    head = '{"channel":"status","type":"update","data":['
    return items(head, lambda i: '{"system":"online"}', "]}", size)


def string_frame(size: int) -> str:
    """A heartbeat with one undeclared field holding a string as long as the frame allows."""
    head = '{"channel":"heartbeat","note":"'
    tail = '"}'
    return head + "x" * (size - len(head) - len(tail)) + tail


def symbol_frame(size: int) -> str:
    """A book update for a symbol as long as the frame allows (not subscribed, of course)."""
    short = book_frame(symbol="")
    return book_frame(symbol="X" * (size - len(short)))


def many_keys_frame(size: int) -> str:
    """A heartbeat with as many undeclared fields as fit."""
    return items('{"channel":"heartbeat",', lambda i: f'"k{100_000 + i}":0', "}", size)


def nested_frame(size: int, *, kind: str = "arrays") -> str:
    if kind == "arrays":
        half = size // 2
        return padded("[" * half + "]" * half, size)
    depth = (size - 1) // 6
    return padded('{"a":' * depth + "1" + "}" * depth, size)


def number_frame(size: int, *, form: str) -> str:
    """A heartbeat with one number literal filling the frame."""
    head = '{"channel":"heartbeat","n":'
    digits = size - len(head) - 1
    token = {
        "integer": "1" * digits,
        "fraction": "1." + "1" * (digits - 2),
        "exponent": "1e" + "9" * (digits - 2),
        "zeros": "0." + "0" * (digits - 2),
    }[form]
    return head + token + "}"


def unknown_frame(size: int, item: str) -> str:
    """A top-level JSON array of ``item``: no model, an ``UnknownMessage``."""
    return items("[", lambda i: item, "]", size)


def truncated_frame(size: int) -> str:
    """Not JSON: a valid array that never ends."""
    return ("[" + "0," * size)[:size]


# --- the scenario -------------------------------------------------------------------------------

LIFECYCLE = (Connected, Disconnected, Reconnecting, Resubscribed, BookResync, ConnectionFailed)


@dataclass
class Session:
    """A client with a live BTC/USD book and an open auth connection, on a local exchange."""

    exchange: LocalExchange
    client: KrakenWSClient
    book: OrderBook | None = None
    l3book: L3Book | None = None
    lifecycle: list[ClientEvent] = field(default_factory=list)
    executions: int = 0
    unknown: int = 0
    changed: asyncio.Event = field(default_factory=asyncio.Event)

    def on_event(self, event: ClientEvent) -> None:
        # Lifecycle events are kept; frames are only counted: a recorder holding on to the
        # 16 MiB frames would be what the memory figures measure.
        if isinstance(event, LIFECYCLE):
            self.lifecycle.append(event)
        elif isinstance(event, ExecutionsUpdate):
            self.executions += 1
        elif isinstance(event, UnknownMessage):
            self.unknown += 1
        self.changed.set()

    def count(self, cls: type, endpoint: str | None = None) -> int:
        return sum(
            1
            for e in self.lifecycle
            if isinstance(e, cls) and (endpoint is None or getattr(e, "endpoint", None) == endpoint)
        )

    async def wait_until(self, predicate: Callable[[], bool], timeout: float = 10.0) -> None:
        async with asyncio.timeout(timeout * SCALE):
            while not predicate():
                self.changed.clear()
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(0.02):
                        await self.changed.wait()

    async def inject(self, frame: str | bytes, endpoint: Endpoint) -> None:
        assert await self.exchange.inject_frame(frame, endpoint=endpoint) == 1

    async def measure(
        self, name: str, frame: str | bytes, endpoint: Endpoint = "public", *, memory: bool = True
    ) -> Figures:
        """Send ``frame``, timing it; then, if ``memory``, a second copy under tracemalloc."""
        size = len(frame) if isinstance(frame, bytes) else len(frame.encode())
        figures = Figures(name, endpoint, size)
        async with StallMonitor() as monitor:
            started = time.perf_counter()
            await self.inject(frame, endpoint)
            await self.client.ping(endpoint=endpoint)
            figures.elapsed = time.perf_counter() - started
        figures.stall = monitor.worst
        if memory:
            with traced_peak() as peak:
                await self.inject(frame, endpoint)
                await self.client.ping(endpoint=endpoint)
            figures.peak = peak[0]
        FIGURES.append(figures)
        print(f"\n{figures.line()}")
        return figures

    def assert_kept(self, *endpoints: Endpoint) -> None:
        """The connections of ``endpoints`` are the first ones: never dropped, never failed."""
        for endpoint in endpoints:
            assert self.count(Disconnected, endpoint) == 0, self.lifecycle
            assert self.count(ConnectionFailed, endpoint) == 0, self.lifecycle
            assert self.count(Connected, endpoint) == 1, self.lifecycle
            assert self.exchange.connection_count(endpoint) == 1

    async def assert_book_live(self) -> None:
        """The BTC/USD book (and L3 book, if any) is valid, is the exchange's, and verifies."""
        book = self.book
        assert book is not None
        l3book = self.l3book
        await self.wait_until(lambda: book.is_valid and (l3book is None or l3book.is_valid))
        for _ in range(3):
            before = book.messages_applied, l3book.messages_applied if l3book else 0
            await self.exchange.step(4, "BTC/USD")
            await self.client.ping()  # every update sent before the pong has been applied
            if l3book is not None:
                await self.client.ping(endpoint="l3")
                assert l3book.messages_applied > before[1]
                assert l3book.is_valid
            assert book.messages_applied > before[0]
            assert book.is_valid
        market = self.exchange.market.symbols["BTC/USD"]
        assert book.bids(10) == market.top("bids", 10)
        assert book.asks(10) == market.top("asks", 10)
        if l3book is not None:
            assert l3book.levels("bid", 10) == market.top("bids", 10)
            assert l3book.levels("ask", 10) == market.top("asks", 10)

    async def assert_trading(self) -> None:
        """The auth endpoint answers: a ping, and an order that rests at the exchange."""
        await self.client.ping(endpoint="auth")
        result = await self.client.add_order(
            order_type="limit",
            side="buy",
            symbol="BTC/USD",
            order_qty=Decimal("0.01"),
            limit_price=FAR_BELOW,
        )
        assert result.order_id in {o["order_id"] for o in self.exchange.open_orders()}


@pytest.fixture
def lean_heap() -> Iterator[None]:
    """Freeze the test runner's heap for the session (see ``session``)."""
    # The collector's full passes walk the whole heap, and pytest's (hypothesis, other tests'
    # leftovers) is far larger than a trading process's: freeze what exists before the session,
    # so that the stall and peak figures are the frame's, not the test runner's.
    gc.collect()
    gc.freeze()
    yield
    gc.unfreeze()


@pytest.fixture
async def session(request: pytest.FixtureRequest, lean_heap: None) -> AsyncIterator[Session]:
    """A session; ``indirect`` parametrization passes extra client options (``strict``)."""
    options: dict[str, object] = getattr(request, "param", {})
    async with LocalExchange(
        rate=None, seed=11, heartbeat_interval=None, book_levels=100
    ) as exchange:
        sessions: list[Session] = []
        client = KrakenWSClient(
            exchange.api_key,
            exchange.api_secret,
            ws_url=exchange.ws_url,
            auth_ws_url=exchange.auth_ws_url,
            l3_ws_url=exchange.l3_ws_url,
            rest_url=exchange.rest_url,
            # A 16 MiB frame takes seconds (more under tracemalloc): no deadline may fire
            # because of the measurement itself.
            request_timeout=60.0 * SCALE,
            watchdog_timeout=60.0 * SCALE,
            ping_interval=None,
            reconnect_initial_delay=0.05,
            reconnect_max_delay=0.2,
            book_resync_interval=0.05,
            # A callback rather than the default queue: nothing retains the frames.
            on_event=lambda event: sessions[0].on_event(event),
            **options,  # type: ignore[arg-type]
        )
        s = Session(exchange, client)
        sessions.append(s)
        async with client:
            s.book = await client.book("BTC/USD", depth=10)
            await client.ping(endpoint="auth")
            yield s


# --- bounds -------------------------------------------------------------------------------------


def check_bounds(figures: Figures, limit: str | None = None) -> None:
    """Assert the stall bound (frames of at most 1 MiB) and the memory bound.

    ``limit``: why frames of this shape are known to exceed them (a cost per typed item, and a
    megabyte holds tens of thousands of items). Such a frame over a bound ends its test as an
    expected failure showing the figure, after every functional check has passed.
    """
    over: list[str] = []
    if figures.size <= MIB and figures.stall >= STALL_LIMIT:
        over.append(f"stalled the loop {figures.stall * 1e3:.0f} ms")
    if figures.peak is not None and figures.peak >= PEAK_FACTOR * figures.size + PEAK_CONSTANT:
        over.append(f"peak {figures.peak / MIB:.1f} MiB for {figures.size / MIB:.2f} MiB")
    if over and limit is not None:
        pytest.xfail(f"{figures.name}: {', '.join(over)} (known limit: {limit})")
    assert not over, f"{figures.name}: {', '.join(over)}"


# --- small frames: the 150-byte number bombs, garbage, wrong shapes, binary, other symbols -------


def _binary_book_update(session: Session) -> bytes:
    """A BTC/USD update, right checksum included, that would move the best ask if applied."""
    book = session.book
    assert book is not None
    assert book.best_ask is not None
    new_ask = book.best_ask[0] - Decimal("0.1")
    asks = [(new_ask, Decimal("0.5")), *book.asks(9)]
    return book_frame(str(new_ask), "0.5", checksum=book_checksum(asks, book.bids(10))).encode()


SMALL_PUBLIC: dict[str, Callable[[Session], str | bytes]] = {
    "book price 1e999999999": lambda s: book_frame(price="1e999999999"),
    "book qty 1e999999999": lambda s: book_frame(qty="1e999999999"),
    "book price 1e-999999999": lambda s: book_frame(price="1e-999999999"),
    "book qty 0e-999999999": lambda s: book_frame(qty="0e-999999999"),
    "book price -1E+999999999": lambda s: book_frame(price="-1E+999999999"),
    "book qty 1e99999999999999999999": lambda s: book_frame(qty="1e99999999999999999999"),
    "book snapshot price 1e999999999": lambda s: book_frame(price="1e999999999", kind="snapshot"),
    "book 10,000-digit price": lambda s: book_frame(price="9" * 10_000),
    "book price NaN": lambda s: book_frame(price="NaN"),
    "not JSON (cut short)": lambda s: book_frame()[:75],
    "NUL and control characters": lambda s: "\x00\x01\x1b[2J",
    "not JSON, non-ASCII": lambda s: "{\u00e9\u20ac\U0001f600}",
    "JSON array": lambda s: "[1,2,3]",
    "JSON number": lambda s: "1e999",
    "JSON string": lambda s: '"book"',
    "JSON null": lambda s: "null",
    "book update for ETH/USD (not subscribed)": lambda s: book_frame(symbol="ETH/USD"),
    "book snapshot for LTC/USD (not subscribed)": lambda s: book_frame(
        symbol="LTC/USD", kind="snapshot"
    ),
    "binary: a book update that would apply": _binary_book_update,
    "binary: book price 1e999999999": lambda s: book_frame(price="1e999999999").encode(),
    "binary: not UTF-8": lambda s: b"\xff\xfe\x00{",
}


@pytest.mark.parametrize("name", SMALL_PUBLIC)
async def test_small_hostile_frame_changes_nothing(session: Session, name: str) -> None:
    """Item 6: the 150-byte bombs and their variants, garbage, binary, other symbols."""
    frame = SMALL_PUBLIC[name](session)
    assert session.book is not None
    view = session.book.snapshot()
    figures = await session.measure(name, frame)
    # Nothing of it reached the book: not a level, not a resync.
    assert session.book.snapshot() == view
    assert session.count(BookResync) == 0
    session.assert_kept("public", "auth")
    await session.assert_book_live()
    await session.assert_trading()
    check_bounds(figures)


def _executions_bomb(last_price: str) -> str:
    return (
        '{"channel":"executions","type":"update","data":[{"order_id":"OK4GJX-KSTLS-7DZZO5",'
        '"exec_id":"TQ2T7F-PMRQ6-EBKM2K","symbol":"BTC/USD","order_qty":0.005,'
        '"exec_type":"trade","side":"buy","last_qty":0.005,"last_price":' + last_price + ","
        '"cum_cost":0.0,"timestamp":"2023-09-22T10:33:05.709993Z","order_status":"filled"}],'
        '"sequence":2}'
    )


SMALL_AUTH: dict[str, str | bytes] = {
    "executions last_price 1e999999999": _executions_bomb("1e999999999"),
    "executions 10,000-digit last_price": _executions_bomb("0." + "1" * 10_000),
    "auth: not JSON": _executions_bomb("1")[:90],
    "auth: JSON array": "[[[]]]",
    "auth: a method answer nobody asked for": (
        '{"method":"add_order","req_id":999999,"success":true,'
        '"result":{"order_id":"OAAAAA-BBBBB-CCCCCC"},'
        '"time_in":"2026-08-16T23:37:03.745044Z","time_out":"2026-08-16T23:37:03.745044Z"}'
    ),
    "binary: an executions fill": _executions_bomb("62807.1").encode(),
}


@pytest.mark.parametrize("name", SMALL_AUTH)
async def test_small_hostile_frame_on_auth_changes_nothing(session: Session, name: str) -> None:
    """The same on the auth endpoint, with an executions subscription: no fill is invented."""
    await session.client.subscribe_executions(snap_orders=False)
    await session.client.ping(endpoint="auth")
    delivered = session.executions
    figures = await session.measure(name, SMALL_AUTH[name], "auth")
    assert session.executions == delivered
    session.assert_kept("public", "auth")
    await session.assert_trading()
    await session.assert_book_live()
    check_bounds(figures)


# --- 1 MiB and 16 MiB frames of every shape -----------------------------------------------------

# Why frames of some shapes exceed the bounds (see check_bounds): mostly because the cost of
# typed decoding is per item, and one megabyte holds tens of thousands of them.
LEVELS = "about 5-10 us and 0.7-1 KiB per book level decoded (a pydantic model, two Decimals)"
ORDERS = "about 5-10 us and 0.5 KiB per level3 order decoded"
REPORTS = "an ExecutionReport is a model of 50 fields: about 7-20 us and 1-2 KiB per report"
INVALID = (
    "a frame failing validation is validated twice, then codec._validate builds exc.errors() "
    "(a dict per error) to read the first message"
)
ELEMENTS = "the JSON parser builds every element (a Python object each) before any check"
FIELDS = "every undeclared field is kept (extra='allow'): a key and a value per field"
DIGITS = (
    "_json.number_in_range counts digits with Decimal.as_tuple(): a Python tuple of every digit "
    "(8 bytes and a step each) for a number it is about to refuse"
)

Effect = Literal["none", "book", "level3", "unknown"]


@dataclass(frozen=True)
class Shape:
    """How to build a frame of a given size, where it goes and what it must do there."""

    build: Callable[[int], str | bytes]
    endpoint: Endpoint = "public"
    effect: Effect = "none"
    """``none``: nothing changes; ``book``/``level3``: that BTC/USD book is replaced, fails
    its checksum and resyncs; ``unknown``: consumers get an ``UnknownMessage``."""
    limit: str | None = None
    """Why frames of this shape are known to exceed the bounds (see :func:`check_bounds`)."""
    memory: bool = True
    """Trace a second copy. At 16 MiB only shapes without a ``limit`` are traced: the others
    cost the same multiple of their size at 1 and 16 MiB (measured: 26.7x for book levels,
    9.5x for level3 orders, 15.6x for fills, 11.8x for the number literal), and tracing 16 MiB
    of them takes 5-10 s each."""


# The shapes of the issue, at 1 MiB and at the largest frame the transport accepts.
SHAPES: dict[str, Shape] = {
    # More levels than any book frame holds (codec.MAX_ITEMS): refused after the parse, before
    # a single level is validated; the book is untouched.
    "book snapshot: many levels": Shape(lambda n: levels_frame(size=n)),
    "book update: many levels": Shape(lambda n: levels_frame(size=n, kind="update")),
    "level3 snapshot: many orders": Shape(level3_frame, "l3", "level3", limit=ORDERS),
    "executions update: many fills": Shape(executions_frame, "auth", limit=REPORTS),
    "huge string field": Shape(string_frame),
    "deeply nested arrays": Shape(nested_frame),
    "huge number literal": Shape(lambda n: number_frame(n, form="fraction"), limit=DIGITS),
    "binary: book snapshot": Shape(lambda n: levels_frame(size=n).encode()),
}

# More shapes at 1 MiB: the most items per byte, and the cheap failures.
MORE_SHAPES: dict[str, Shape] = {
    # Over codec.MAX_ITEMS too: refused after the parse.
    "book snapshot: compact integer levels": Shape(compact_book_frame),
    "book update: compact integer levels": Shape(
        lambda n: compact_book_frame(n, kind="update"), memory=False
    ),
    "book snapshot for ETH/USD (not subscribed)": Shape(
        lambda n: compact_book_frame(n, symbol="ETH/USD"), memory=False
    ),
    "executions update: minimal reports": Shape(minimal_executions_frame, "auth"),
    "status update: every item invalid": Shape(invalid_status_frame, memory=False),
    "heartbeat: 87,000 undeclared fields": Shape(many_keys_frame, limit=FIELDS),
    "unknown: array of 0.1": Shape(
        lambda n: unknown_frame(n, "0.1"), effect="unknown", limit=ELEMENTS
    ),
    "unknown: array of {}": Shape(
        lambda n: unknown_frame(n, "{}"), effect="unknown", limit=ELEMENTS
    ),
    "not JSON: an array that never ends": Shape(truncated_frame, limit=ELEMENTS),
    "book update: 1 MiB symbol": Shape(symbol_frame),
    "deeply nested objects": Shape(lambda n: nested_frame(n, kind="objects")),
    "huge integer literal": Shape(lambda n: number_frame(n, form="integer")),
    "huge exponent": Shape(lambda n: number_frame(n, form="exponent")),
    "huge fraction of zeros": Shape(lambda n: number_frame(n, form="zeros")),
    "binary: not UTF-8": Shape(lambda n: b"\xff" * n),
}


async def run_shape(session: Session, name: str, shape: Shape, size: int) -> Figures:
    """Send one frame of ``shape``, check its effect, that everything still works, the bounds."""
    if shape.endpoint == "l3" or shape.effect == "level3":
        session.l3book = await session.client.level3("BTC/USD", depth=10)
    if shape.endpoint == "auth":
        await session.client.subscribe_executions(snap_orders=False)
    frame = shape.build(size)
    assert len(frame) == size
    assert session.book is not None
    view = session.book.snapshot()
    unknown = session.unknown
    memory = shape.memory and (size <= MIB or shape.limit is None)
    label = f"{name} ({size // MIB} MiB)"
    figures = await session.measure(label, frame, shape.endpoint, memory=memory)
    figures.known = shape.limit is not None
    session.assert_kept("public", "auth", *(["l3"] if session.l3book else []))
    resyncs = {(e.channel_name, e.symbol) for e in session.lifecycle if isinstance(e, BookResync)}
    if shape.effect in ("book", "level3"):
        assert resyncs == {(shape.effect, "BTC/USD")}
    else:
        assert resyncs == set()
        assert session.book.snapshot() == view
    if shape.effect == "unknown":
        assert session.unknown > unknown
    await session.assert_book_live()
    await session.assert_trading()
    check_bounds(figures, shape.limit)
    return figures


def cases(shapes: dict[str, Shape]) -> list[Any]:
    """One test per shape; those decoded item by item take seconds: marked ``slow``."""
    return [
        pytest.param(name, marks=[pytest.mark.slow] if shape.limit else [], id=name)
        for name, shape in shapes.items()
    ]


@pytest.mark.parametrize("name", cases(SHAPES))
async def test_one_mebibyte_frame(session: Session, name: str) -> None:
    await run_shape(session, name, SHAPES[name], MIB)


@pytest.mark.parametrize("name", cases(MORE_SHAPES))
async def test_one_mebibyte_frame_more_shapes(session: Session, name: str) -> None:
    await run_shape(session, name, MORE_SHAPES[name], MIB)


@pytest.mark.slow
@pytest.mark.parametrize("name", SHAPES)
async def test_largest_frame_the_transport_accepts(session: Session, name: str) -> None:
    """Exactly 16 MiB of each shape: processed, everything kept; the stall is only reported."""
    await run_shape(session, name, SHAPES[name], _MAX_FRAME)


# --- item 6: 100,000- and 240,000-level snapshots -----------------------------------------------


@pytest.mark.parametrize(("levels", "verified"), [(100_000, True), (240_000, False)])
async def test_huge_snapshot_is_refused(session: Session, levels: int, verified: bool) -> None:
    """More levels than any book frame holds: a DecodeError for that frame, nothing else.

    Kraken's deepest book is 1000 levels a side; a snapshot of 100,000 cannot be Kraken's, so
    the codec refuses it after the parse (``codec.MAX_ITEMS``), before validating a level,
    whatever its checksum says. The book, the connection and trading are untouched. (The book
    engines' own bound on such snapshots is tested in tests/book/test_hostile_books.py.)
    """
    book = session.book
    assert book is not None
    view = book.snapshot()
    frame = levels_frame(levels=levels, verified=verified)
    figures = await session.measure(f"{levels:,}-level snapshot", frame, memory=False)
    session.assert_kept("public", "auth")
    assert session.count(BookResync) == 0
    assert book.snapshot() == view
    check_bounds(figures, None)
    await session.assert_book_live()
    await session.assert_trading()


# --- over the transport's limit -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("endpoint", "binary"),
    [("public", False), ("public", True), ("auth", False)],
    ids=["public text", "public binary", "auth text"],
)
async def test_frame_over_the_limit_is_a_clean_reconnect(
    session: Session, endpoint: Endpoint, binary: bool
) -> None:
    """One byte over 16 MiB: websockets closes with 1009 (message too big) from the header.

    The client treats it like any dropped connection: the request in flight fails, the
    endpoint reconnects at once, resubscribes, and its book comes back; the other endpoints
    never notice. No hang, no crash, no stall.
    """
    # Something to replay on each endpoint, so that Resubscribed marks the recovery.
    await session.client.subscribe_executions(snap_orders=False)
    other: Endpoint = "auth" if endpoint == "public" else "public"
    frame: str | bytes = padded('{"channel":"heartbeat"}', _MAX_FRAME + 1)
    if binary:
        frame = frame.encode()
    name = f"over the limit: {endpoint} {'binary' if binary else 'text'}"
    figures = Figures(name, endpoint, _MAX_FRAME + 1)
    async with StallMonitor() as monitor:
        started = time.perf_counter()
        await session.inject(frame, endpoint)
        # Its answer waits behind the frame at the exchange: it can never arrive.
        with pytest.raises(ConnectionLost):
            await session.client.ping(endpoint=endpoint)
        await session.wait_until(lambda: session.count(Resubscribed, endpoint) == 1)
        figures.elapsed = time.perf_counter() - started
    figures.stall = monitor.worst
    FIGURES.append(figures)
    print(f"\n{figures.line()}  (total: until resubscribed)")
    [gone] = [e for e in session.lifecycle if isinstance(e, Disconnected)]
    assert (gone.endpoint, gone.code) == (endpoint, 1009)
    assert session.count(Connected, endpoint) == 2
    assert session.count(ConnectionFailed) == 0
    session.assert_kept(other)
    await session.exchange.wait_for_connections(1, endpoint)
    await session.assert_book_live()
    await session.assert_trading()
    assert figures.elapsed < 5 * SCALE


# --- a consumer that lags: the queue is bounded whatever the frames ---------------------------


@pytest.mark.parametrize(
    ("frame", "session"),
    [
        pytest.param('{"channel":"heartbeat"}', {"max_queue": 20}, id="heartbeats"),
        pytest.param("[0]", {"max_queue": 20}, id="unknown frames"),
    ],
    indirect=["session"],
)
async def test_a_lagging_consumer_holds_at_most_max_queue_frames(
    session: Session, frame: str
) -> None:
    """Past ``max_queue`` market frames behind, the oldest are dropped and counted.

    Otherwise a server that sends frames nobody reads grows the client without bound.
    """
    events = session.client.events()  # a consumer that reads nothing for now
    for _ in range(100):
        await session.inject(frame, "public")
    await session.client.ping()
    held: list[ClientEvent] = []
    with contextlib.suppress(TimeoutError):
        while True:
            async with asyncio.timeout(0.1):
                held.append(await anext(events))
    await events.aclose()  # type: ignore[attr-defined]
    frames = [e for e in held if not isinstance(e, EventsDropped)]
    dropped = sum(e.count for e in held if isinstance(e, EventsDropped))
    assert (len(frames), dropped) == (20, 80)


# --- what the client logs about a hostile frame -------------------------------------------------

LOGGED: dict[str, tuple[str, str]] = {
    "not JSON": ("public", truncated_frame(64 * 1024)),
    "number out of range": ("public", book_frame(price="1" + "0" * 60_000 + "e999999999")),
    "executions out of range, 64 KiB order id": (
        "auth",
        _executions_bomb("1e999999999").replace("OK4GJX", "O" * 65_536),
    ),
    "book update, 64 KiB symbol": ("public", symbol_frame(64 * 1024)),
    "strict: status update, every item invalid": ("public", invalid_status_frame(64 * 1024)),
}
UNABRIDGED = {}


@pytest.mark.parametrize(
    ("name", "session"),
    [
        pytest.param(
            name,
            {"strict": name.startswith("strict")},
            marks=[pytest.mark.xfail(reason=UNABRIDGED[name], strict=True)]
            if name in UNABRIDGED
            else [],
            id=name,
        )
        for name in LOGGED
    ],
    indirect=["session"],
)
async def test_log_lines_stay_short(
    session: Session, name: str, caplog: pytest.LogCaptureFixture
) -> None:
    """A dropped frame is logged (one warning) with an excerpt, never copied whole."""
    endpoint, frame = LOGGED[name]
    caplog.set_level(logging.DEBUG, logger="kraken_ws")
    await session.client.subscribe_executions(snap_orders=False)
    caplog.clear()
    await session.inject(frame, endpoint)  # type: ignore[arg-type]
    await session.client.ping(endpoint=endpoint)  # type: ignore[arg-type]
    assert [r.levelname for r in caplog.records] == ["WARNING"]
    longest = max(len(record.getMessage()) for record in caplog.records)
    print(f"\n{name}: {len(frame)} B frame, {longest} B log line")
    assert longest < 2_000
