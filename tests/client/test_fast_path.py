"""The book fast path in the client: typed events only for consumers that take them.

The rule (docs/books.md#typed-events-of-a-live-book): a frame of a book kept by ``book()`` is a
typed event when its symbol was subscribed with ``subscribe*()``, the book was asked for with
``events=True``, an ``events()`` stream takes it, or the client's own iterator has been read;
otherwise it is applied without a model. Either way the book, its checksums and its resyncs are
the same.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from kraken_ws import KrakenWSClient
from kraken_ws.book.checksum import book_checksum
from kraken_ws.events import BookResync
from kraken_ws.models.channels.book import BookSnapshot, BookUpdate
from kraken_ws.protocol import codec
from kraken_ws.protocol._json import dumps, loads
from kraken_ws.protocol.connection import KrakenProtocol

from .conftest import SCALE, StaticTokens
from .fake_kraken import FakeKraken, book_frame

if TYPE_CHECKING:
    from kraken_ws.testing import LocalExchange

# A live capture's book frames (one snapshot, then updates), as the wire text.
BOOK_LINES = [
    line
    for line in (
        Path(__file__).parent.parent / "data" / "book" / "crossbook_kraken_btcusd_l2.jsonl"
    )
    .read_text(encoding="utf-8")
    .splitlines()
    if line.strip() and loads(line).get("channel") == "book"
]


def _client(fake: FakeKraken, **kwargs: Any) -> KrakenWSClient:
    return KrakenWSClient(
        ws_url="mem://public/v2",
        auth_ws_url="mem://auth/v2",
        l3_ws_url="mem://l3/v2",
        connector=fake.server,
        token_provider=StaticTokens(),
        request_timeout=2 * SCALE,
        watchdog_timeout=None,
        ping_interval=None,
        book_resync_interval=0.05,
        **kwargs,
    )


def _local_client(ex: LocalExchange, **kwargs: Any) -> KrakenWSClient:
    return KrakenWSClient(
        ex.api_key,
        ex.api_secret,
        ws_url=ex.ws_url,
        auth_ws_url=ex.auth_ws_url,
        l3_ws_url=ex.l3_ws_url,
        rest_url=ex.rest_url,
        watchdog_timeout=None,
        ping_interval=None,
        **kwargs,
    )


@pytest.fixture
def typed_decodes(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The channel of every frame the client validated into a model."""
    seen: list[str] = []
    original = codec.decode_object

    def counting(obj: Any, **kwargs: Any) -> Any:
        seen.append(obj.get("channel") if isinstance(obj, dict) else None)
        return original(obj, **kwargs)

    monkeypatch.setattr(codec, "decode_object", counting)
    return seen


async def _update(fake: FakeKraken, qty: str = "5.0", symbol: str = "BTC/USD") -> None:
    # The best bid's quantity changes, with the checksum of the book that results. Every
    # client's public connection gets the frame; a ping then proves it was read.
    fake.book_bids = [("100.0", qty), *fake.book_bids[1:]]
    checksum = book_checksum(
        [(Decimal(p), Decimal(q)) for p, q in fake.book_asks],
        [(Decimal(p), Decimal(q)) for p, q in fake.book_bids],
    )
    frame = book_frame(symbol, "update", [("100.0", qty)], [], checksum=checksum)
    for conn in fake.conns["public"]:
        await conn.send(frame)


def _book_frames(events: list[Any]) -> list[Any]:
    return [e for e in events if isinstance(e, BookSnapshot | BookUpdate)]


async def _drain(stream: AsyncIterator[Any], until: Callable[[list[Any]], bool]) -> list[Any]:
    got: list[Any] = []
    async with asyncio.timeout(2 * SCALE):
        async for event in stream:
            got.append(event)
            if until(got):
                break
    return got


async def test_a_book_nobody_reads_builds_no_models(
    fake: FakeKraken, typed_decodes: list[str]
) -> None:
    async with _client(fake) as client:
        book = await client.book("BTC/USD")
        await _update(fake, "7.0")
        await client.ping()
        assert str(book.best_bid) == "(Decimal('100.0'), Decimal('7.0'))"
        assert book.is_valid
        assert book.messages_applied == 2
        assert "book" not in typed_decodes
        # The client's own queue, never read, got none of them either.
        queue = client._core.main_queue
        assert queue is not None
        assert not _book_frames([queue.get_nowait() for _ in range(len(queue))])


async def test_an_on_raw_frame_hook_set_later_sees_the_next_frames(fake: FakeKraken) -> None:
    # The reader asks one attribute (raw_listening) per frame whether anyone listens: setting or
    # clearing the hook on a running client must take effect from the next frame.
    seen: list[str] = []
    async with _client(fake) as client:
        core = client._core
        assert not core.raw_listening
        book = await client.book("BTC/USD")
        core.on_raw_frame = lambda endpoint, text: seen.append(text)
        assert core.raw_listening
        await _update(fake, "7.0")
        await client.ping()
        assert any('"qty": 7.0' in text for text in seen)
        core.on_raw_frame = None
        assert not core.raw_listening
        count = len(seen)
        await _update(fake, "8.0")
        await client.ping()
        assert len(seen) == count
        assert book.is_valid
        assert book.messages_applied == 3


def test_the_reader_skips_dispatch_only_when_the_protocol_is_idle() -> None:
    # proto.idle (checked by the reader after each frame): events_received() and
    # data_to_send() would both return nothing.
    proto = KrakenProtocol(watchdog_timeout=None, ping_interval=None)
    proto.connection_opened(now=0.0)
    proto.data_to_send()
    proto.events_received()
    assert proto.idle
    proto.send({"method": "ping"}, now=0.0)
    assert not proto.idle
    assert proto.data_to_send()
    assert proto.idle
    assert not proto.receive_book("book", "BTC/USD", now=1.0)  # not subscribed
    assert not proto.idle
    assert proto.events_received()
    assert proto.idle


async def test_a_json_string_holding_a_book_frame_is_no_book_frame(fake: FakeKraken) -> None:
    async with _client(fake) as client:
        book = await client.book("BTC/USD")
        before = book.messages_applied
        text = BOOK_LINES[1]  # a plain update of this book's symbol
        for conn in fake.conns["public"]:
            await conn.send(dumps(text))  # the text, as a JSON string
        await client.ping()
        assert book.messages_applied == before


async def test_a_stream_made_before_the_book_gets_its_snapshot(fake: FakeKraken) -> None:
    async with _client(fake) as client:
        stream = client.events(channel="book")
        book = await client.book("BTC/USD")
        await _update(fake)
        got = await _drain(stream, lambda g: len(g) == 2)
        assert [type(e) for e in got] == [BookSnapshot, BookUpdate]
        assert book.is_valid


async def test_a_stream_of_another_channel_or_symbol_does_not_take_book_events(
    fake: FakeKraken, typed_decodes: list[str]
) -> None:
    async with _client(fake) as client:
        client.events(channel="ticker")
        client.events(channel="book", symbol="ETH/USD")
        await client.book("BTC/USD")
        await _update(fake)
        await client.ping()
        assert "book" not in typed_decodes


async def test_the_clients_iterator_takes_them_once_read(fake: FakeKraken) -> None:
    async with _client(fake) as client:
        got: list[Any] = []
        started = asyncio.Event()

        async def consume() -> None:
            started.set()
            async for event in client:
                got.append(event)

        task = asyncio.create_task(consume())
        await started.wait()
        await asyncio.sleep(0)  # the iterator is waiting on its queue: it has been read
        await client.book("BTC/USD")
        await _update(fake)
        await client.ping()
        await asyncio.sleep(0)
        task.cancel()
        assert [type(e) for e in _book_frames(got)] == [BookSnapshot, BookUpdate]


async def test_on_event_gets_them_when_the_book_asks(fake: FakeKraken) -> None:
    got: list[Any] = []
    async with _client(fake, on_event=got.append) as client:
        await client.book("ETH/USD")  # not asked: no events
        await client.book("BTC/USD", events=True)
        await _update(fake)
        await _update(fake, "3.0", symbol="ETH/USD")
        await client.ping()
    frames = _book_frames(got)
    assert [(type(e), e.data[0].symbol) for e in frames] == [
        (BookSnapshot, "BTC/USD"),
        (BookUpdate, "BTC/USD"),
    ]


async def test_subscribed_frames_are_events_for_everyone(fake: FakeKraken) -> None:
    async with _client(fake) as client:
        await client.subscribe_book(["BTC/USD"])
        await _update(fake)
        await client.ping()
        queue = client._core.main_queue
        assert queue is not None
        events = [queue.get_nowait() for _ in range(len(queue))]
        assert [type(e) for e in _book_frames(events)] == [BookSnapshot, BookUpdate]


async def test_a_quiet_book_resyncs_on_a_mismatch(
    fake: FakeKraken, typed_decodes: list[str]
) -> None:
    got: list[Any] = []
    async with _client(fake, on_event=got.append) as client:
        book = await client.book("BTC/USD")
        for conn in fake.conns["public"]:
            await conn.send(book_frame("BTC/USD", "update", [("100.0", "5.0")], [], checksum=1))
        await client.ping()
        assert any(isinstance(e, BookResync) for e in got)
        again = await client.book("BTC/USD")  # the resubscription's snapshot heals it
        assert again is book
        assert book.is_valid
        methods = [m["method"] for m in fake.received if m["method"] != "ping"]
        assert methods[-2:] == ["unsubscribe", "subscribe"]
        assert "book" not in typed_decodes


async def test_a_loud_book_mismatch_gives_the_resync_then_the_frame(
    fake: FakeKraken, typed_decodes: list[str]
) -> None:
    # A plain frame of a book whose events are wanted goes straight to its book too: the order
    # the typed path gives (the book applied, its BookResync, then the frame as an event).
    got: list[Any] = []
    async with _client(fake, on_event=got.append) as client:
        book = await client.book("BTC/USD", events=True)
        mark = len(got)
        frame = book_frame("BTC/USD", "update", [("100.0", "5.0")], [], checksum=1)
        for conn in fake.conns["public"]:
            await conn.send(frame)
        await client.ping()
        tail = [e for e in got[mark:] if isinstance(e, BookResync | BookUpdate)]
        assert [type(e) for e in tail] == [BookResync, BookUpdate]
        assert tail[1] == codec.decode(frame)
        assert typed_decodes.count("book") >= 2  # the snapshot and this update, validated
        again = await client.book("BTC/USD")
        assert again is book
        assert book.is_valid


async def test_an_unsubscribed_symbol_is_refused_on_the_fast_path_too(fake: FakeKraken) -> None:
    async with _client(fake) as client:
        await client.book("BTC/USD")
        core = client._core
        conn = core.connections["public"]
        # A frame for a symbol still tracked whose subscription went away.
        params = {"channel": "book", "symbol": ["BTC/USD"]}
        conn.proto.subscriptions.unsubscribe_sent(params)
        conn.proto.subscriptions.unsubscribe_acked(params, "BTC/USD")
        book = core.live.book("book", "BTC/USD")
        assert book is not None
        before = book.messages_applied
        await _update(fake)
        await client.ping()
        assert book.messages_applied == before


async def test_recorded_stream_same_books_and_events_both_ways(
    fake: FakeKraken, typed_decodes: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    book_lines = BOOK_LINES
    parsed: list[str] = []
    original = codec.parse

    def counting(data: Any) -> Any:
        parsed.append(data)
        return original(data)

    monkeypatch.setattr(codec, "parse", counting)
    async with _client(fake) as quiet, _client(fake) as loud:
        stream = loud.events(channel="book")
        fast_book = await quiet.book("BTC/USD")
        typed_book = await loud.book("BTC/USD")
        mark = len(typed_decodes)
        for line in book_lines:
            for conn in fake.conns["public"]:
                await conn.send(line)
        await quiet.ping()
        await loud.ping()
        # The loud client validated every frame once, the quiet one none; the quiet one did
        # not even parse them (kraken_ws.book.wire.match read them from their text).
        assert typed_decodes[mark:].count("book") == len(book_lines)
        assert sum(text in book_lines for text in parsed) == len(book_lines)
        assert fast_book.snapshot() == typed_book.snapshot()
        assert fast_book.is_valid
        assert fast_book.messages_applied == typed_book.messages_applied
        got = await _drain(stream, lambda g: len(g) == len(book_lines) + 1)
        expected = [codec.decode(line) for line in book_lines]
        assert got[1:] == expected
        assert loads(book_lines[-1])["data"][0]["checksum"] == fast_book.last_checksum


async def test_the_rule_holds_on_the_typed_path_too(
    fake: FakeKraken, typed_decodes: list[str]
) -> None:
    # A frame too unusual for the fast path (a quantity written as an int) is validated, and
    # applied, but a quiet book's frame is still no event for nobody.
    async with _client(fake) as client:
        book = await client.book("BTC/USD")
        fake.book_bids = [("100.0", "4"), *fake.book_bids[1:]]
        checksum = book_checksum(
            [(Decimal(p), Decimal(q)) for p, q in fake.book_asks],
            [(Decimal(p), Decimal(q)) for p, q in fake.book_bids],
        )
        await fake.push("public", book_frame("BTC/USD", "update", [("100.0", "4")], [], checksum))
        await client.ping()
        assert "book" in typed_decodes
        assert book.is_valid
        assert str(book.best_bid) == "(Decimal('100.0'), Decimal('4'))"
        queue = client._core.main_queue
        assert queue is not None
        assert not _book_frames([queue.get_nowait() for _ in range(len(queue))])


async def test_a_quiet_level3_book_on_the_local_exchange(typed_decodes: list[str]) -> None:
    # The level3 engine on the fast path, fed by the local exchange's order flow: it stays in
    # sync (every checksum verified) and no level3 frame becomes a model.
    from kraken_ws.testing import LocalExchange

    frames = 0
    enough = asyncio.Event()

    def count(endpoint: str, text: str) -> None:
        nonlocal frames
        if endpoint == "l3" and loads(text).get("channel") == "level3":
            frames += 1
            if frames >= 8:
                enough.set()

    async with (
        LocalExchange(rate=50, seed=7) as ex,
        _local_client(ex, on_raw_frame=count) as client,
    ):
        book = await client.level3("BTC/USD", depth=10)
        async with asyncio.timeout(10 * SCALE):
            await enough.wait()
        await client.ping(endpoint="l3")
        assert book.is_valid
        assert book.messages_applied >= 8
        assert "level3" not in typed_decodes


async def test_a_loud_level3_book_emits_what_decode_gives() -> None:
    # level3(events=True) on the local exchange: every level3 frame reaches on_event as the
    # model decode() gives for its text (straight route to the book, validated once), and the
    # book stays in sync.
    from kraken_ws.models.channels.level3 import Level3Snapshot, Level3Update
    from kraken_ws.testing import LocalExchange

    texts: list[str] = []
    events: list[Any] = []
    enough = asyncio.Event()

    def raw(endpoint: str, text: str) -> None:
        if endpoint == "l3" and loads(text).get("channel") == "level3":
            texts.append(text)

    def on_event(event: Any) -> None:
        if isinstance(event, Level3Snapshot | Level3Update):
            events.append(event)
            if len(events) >= 8:
                enough.set()

    async with (
        LocalExchange(rate=50, seed=7) as ex,
        _local_client(ex, on_raw_frame=raw, on_event=on_event) as client,
    ):
        book = await client.level3("BTC/USD", depth=10, events=True)
        async with asyncio.timeout(10 * SCALE):
            await enough.wait()
        await client.ping(endpoint="l3")
        assert book.is_valid
        assert type(events[0]) is Level3Snapshot
        assert events == [codec.decode(text) for text in texts]
