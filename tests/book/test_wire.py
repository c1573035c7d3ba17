"""The fast path (`kraken_ws.book.wire`) against the typed path, frame by frame.

Two promises, checked on every recorded stream of tests/data/ and on generated ones:

* `read` accepts only frames their model accepts, with the same values (never the other way:
  what it refuses, the typed path decides);
* feeding `read`'s frames (`BookManager.feed_wire`) leaves the same books, checksums, verdicts and
  resync decisions as feeding the models (`BookManager.feed`).
"""

from __future__ import annotations

import random
import time
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kraken_ws.book import BookEvent, BookManager, BookUpdated, L3Book, OrderBook, ResyncNeeded
from kraken_ws.book.wire import L2Frame, L3Frame, WireFrame, match, read
from kraken_ws.exceptions import DecodeError
from kraken_ws.models.channels.book import BookSnapshot, BookUpdate
from kraken_ws.models.channels.level3 import Level3Snapshot, Level3Update
from kraken_ws.models.messages import UnknownMessage
from kraken_ws.protocol._json import dumps, loads
from kraken_ws.protocol.codec import decode_object, parse

from .helpers import DATA

STREAMS = [*sorted(p.name for p in DATA.glob("*.jsonl")), "pks-orderbook-v2.json"]
_DEPTHS = (10, 25, 100, 500, 1000)


def _frames(name: str) -> list[Any]:
    path = DATA / name
    if name.endswith(".json"):
        return _pks_frames(path)
    out = []
    for line in path.read_bytes().splitlines():
        if line.strip():
            obj = loads(line)
            if isinstance(obj, dict) and obj.get("dir") == "tx":
                continue
            out.append(obj)
    return out


def _pks_frames(path: Path) -> list[Any]:
    # python-kraken-sdk's fixture: a list of frames (or a dict holding them).
    obj = loads(path.read_bytes())
    if isinstance(obj, dict):
        found = [v for v in obj.values() if isinstance(v, list)]
        obj = [frame for group in found for frame in group]
    return [frame for frame in obj if isinstance(frame, dict)]


def _depth(frames: list[Any], channel: str, symbol: str) -> int:
    # The subscribed depth from the ack if the capture has it, else from the first snapshot.
    for obj in frames:
        result = obj.get("result") if isinstance(obj, dict) else None
        if (
            isinstance(result, dict)
            and result.get("channel") == channel
            and result.get("symbol") == symbol
            and isinstance(result.get("depth"), int)
        ):
            return int(result["depth"])
    for obj in frames:
        frame = read(obj)
        if frame is not None and frame.snapshot and frame.symbol == symbol:
            n = max(len(frame.bids), len(frame.asks))
            return next((d for d in _DEPTHS if d >= n), 1000)
    return 10


def _managers(frames: list[Any]) -> tuple[BookManager, BookManager]:
    typed, fast = BookManager(), BookManager()
    for manager in (typed, fast):
        for obj in frames:
            frame = read(obj)
            if frame is not None and manager.book(frame.symbol) is None:
                channel = "book" if isinstance(frame, L2Frame) else "level3"
                depth = _depth(frames, channel, frame.symbol)
                manager.track(frame.symbol, depth, level3=channel == "level3")
    return typed, fast


def _state(book: OrderBook | L3Book) -> tuple[Any, ...]:
    # Everything a reader sees, with the exact wire text of every number.
    if isinstance(book, OrderBook):
        sides: Any = [[(str(p), str(q)) for p, q in side] for side in (book.bids(), book.asks())]
    else:
        sides = [
            [
                (o.order_id, str(o.price), str(o.qty), o.timestamp)
                for price in book._queue(side).top_prices()
                for o in book.orders_at(price, side)
            ]
            for side in ("bid", "ask")
        ]
    return (
        sides,
        book.is_valid,
        book.has_snapshot,
        book.last_checksum,
        book.last_update,
        book.messages_applied,
    )


def assert_model_agrees(obj: Any, frame: WireFrame) -> None:
    """``read``'s frame holds exactly what the model of the same value holds."""
    model = decode_object(obj)
    item = model.data[0]  # type: ignore[union-attr]
    if isinstance(frame, L2Frame):
        assert type(model) is (BookSnapshot if frame.snapshot else BookUpdate)
        for side, levels in (("bids", frame.bids), ("asks", frame.asks)):
            wire = [(lv.price, lv.qty) for lv in getattr(item, side)]
            assert [(str(p), str(q)) for p, q in wire] == [(str(p), str(q)) for p, q in levels]
            assert all(
                a is b
                for pair, other in zip(wire, levels, strict=True)
                for a, b in zip(pair, other, strict=True)
            )
    else:
        assert type(model) is (Level3Snapshot if frame.snapshot else Level3Update)
        for side, entries in (("bids", frame.bids), ("asks", frame.asks)):
            wire = getattr(item, side)
            assert len(wire) == len(entries)
            for order, entry in zip(wire, entries, strict=True):
                if not frame.snapshot:  # a snapshot order's "event" would be an extra key
                    assert order.event == entry.event
                assert order.order_id == entry.order_id
                assert order.limit_price is entry.limit_price
                assert order.order_qty is entry.order_qty
                assert order.timestamp == entry.timestamp
    assert item.symbol == frame.symbol
    assert item.checksum == frame.checksum
    assert item.timestamp == frame.timestamp


def run_both(
    frames: list[Any], typed: BookManager, fast: BookManager
) -> tuple[int, list[BookEvent]]:
    """Feed every frame both ways, comparing after each.

    Returns:
        How many frames took the fast path, and every event (both paths gave the same).
    """
    taken = 0
    seen: list[BookEvent] = []
    for obj in frames:
        frame = read(obj)
        typed_events = typed.feed(decode_object(obj))
        if frame is None:
            fast_events = fast.feed(decode_object(obj))
        else:
            assert_model_agrees(obj, frame)
            event = fast.feed_wire(frame)
            fast_events = [] if event is None else [event]
            taken += 1
        assert fast_events == typed_events
        seen += typed_events
        assert fast.pending_resyncs == typed.pending_resyncs
        for symbol in typed.symbols:
            left, right = typed.book(symbol), fast.book(symbol)
            assert left is not None
            assert right is not None
            assert _state(right) == _state(left)
    return taken, seen


@pytest.mark.parametrize("name", STREAMS)
def test_recorded_streams_take_the_fast_path_with_identical_results(name: str) -> None:
    frames = _frames(name)
    typed, fast = _managers(frames)
    taken, _ = run_both(frames, typed, fast)
    books = [f for f in frames if isinstance(f, dict) and f.get("channel") in ("book", "level3")]
    assert taken == len(books)  # every recorded book frame is plain
    assert typed.symbols


def test_recorded_streams_verify() -> None:
    # The comparison above is only worth something if the books are in sync at the end.
    frames = _frames("crossbook_kraken_btcusd_sample.jsonl")
    typed, fast = _managers(frames)
    run_both(frames, typed, fast)
    assert all(book.is_valid for book in (fast.book(s) for s in fast.symbols) if book)


def test_resync_decisions_agree_on_a_corrupted_stream() -> None:
    # Every 7th update's checksum flipped: mismatches, ignored updates, snapshots that heal.
    frames = _frames("crossbook_kraken_btcusd_l2.jsonl")
    corrupted: list[Any] = []
    for i, obj in enumerate(frames):
        if isinstance(obj, dict) and obj.get("channel") == "book" and i % 7 == 0:
            obj = loads(dumps(obj))
            obj["data"][0]["checksum"] ^= 0x5A5A
        corrupted.append(obj)
    snapshot = next(f for f in frames if isinstance(f, dict) and f.get("channel") == "book")
    corrupted[len(corrupted) // 2 : len(corrupted) // 2] = [snapshot]
    typed, fast = _managers(corrupted)
    _, events = run_both(corrupted, typed, fast)
    assert any(isinstance(e, ResyncNeeded) for e in events)
    assert any(isinstance(e, BookUpdated) and e.result.snapshot for e in events[1:])
    assert fast.resync_due(10.0) == typed.resync_due(10.0)


# --- generated frames: read accepts a subset of what the models accept ------------------------

_decimals = st.builds(
    lambda n, places: Decimal(n).scaleb(-places), st.integers(-(10**9), 10**12), st.integers(0, 10)
)
_odd = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-5, 2**33),
    st.text(max_size=4),
    st.lists(st.integers(), max_size=2),
    st.dictionaries(st.text(max_size=3), st.integers(), max_size=2),
    _decimals,
)
_MISSING = object()


@st.composite
def _field(draw: Any, good: st.SearchStrategy[Any]) -> Any:
    # Mostly a value the model takes; now and then anything else, or nothing at all: about two
    # frames in three come out plain, the others unusual in one or two places.
    roll = draw(st.integers(0, 60))
    if roll == 0:
        return _MISSING
    if roll == 1:
        return draw(_odd)
    return draw(good)


def _clean(mapping: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in mapping.items() if v is not _MISSING}


_checksums = st.one_of(st.integers(0, 0xFFFFFFFF), st.sampled_from([0, 0xFFFFFFFF]))
_timestamps = st.one_of(st.just("2026-01-01T00:00:00.000000Z"), st.none())


@st.composite
def _entries(draw: Any, level3: bool, snapshot: bool) -> Any:
    out: list[Any] = []
    for _ in range(draw(st.integers(0, 3))):
        if level3:
            entry = {
                "order_id": draw(_field(st.sampled_from(["O1", "O2", "O3"]))),
                "limit_price": draw(_field(_decimals)),
                "order_qty": draw(_field(_decimals)),
                "timestamp": draw(_field(_timestamps)),
            }
            if not snapshot or draw(st.integers(0, 10)) == 0:
                entry["event"] = draw(_field(st.sampled_from(["add", "modify", "delete"])))
        else:
            entry = {"price": draw(_field(_decimals)), "qty": draw(_field(_decimals))}
        if draw(st.integers(0, 20)) == 0:
            entry["extra"] = draw(_odd)
        value = draw(_field(st.just(_clean(entry))))
        if value is not _MISSING:
            out.append(value)
    return out


@st.composite
def frames(draw: Any) -> Any:
    channel = draw(_field(st.sampled_from(["book", "level3"])))
    kind = draw(_field(st.sampled_from(["snapshot", "update"])))
    level3 = channel == "level3"
    items = []
    for _ in range(draw(st.sampled_from([1] * 20 + [0, 2]))):
        item = {
            "symbol": draw(_field(st.just("BTC/USD"))),
            "bids": draw(_field(_entries(level3, kind == "snapshot"))),
            "asks": draw(_field(_entries(level3, kind == "snapshot"))),
            "checksum": draw(_field(_checksums)),
            "timestamp": draw(_field(_timestamps)),
        }
        if draw(st.integers(0, 20)) == 0:
            item["extra"] = draw(_odd)
        value = draw(_field(st.just(_clean(item))))
        if value is not _MISSING:
            items.append(value)
    frame = {"channel": channel, "type": kind, "data": draw(_field(st.just(items)))}
    if draw(st.integers(0, 20)) == 0:
        frame["extra"] = draw(_odd)
    return _clean(frame)


@settings(max_examples=600, deadline=None)
@given(frames())
def test_read_accepts_only_what_the_model_accepts_with_the_same_values(obj: Any) -> None:
    # Through the wire text, as the client sees it.
    obj = parse(dumps(obj))
    frame = read(obj)
    model = decode_object(obj)
    if frame is None:
        return
    assert not isinstance(model, UnknownMessage), model
    assert_model_agrees(obj, frame)


@pytest.mark.parametrize(
    "mutate",
    [
        lambda f: f["data"][0]["bids"][0].__setitem__("price", 100),  # an int price
        lambda f: f["data"][0].__setitem__("checksum", True),
        lambda f: f["data"][0].__setitem__("checksum", 2**32),
        lambda f: f["data"][0].__setitem__("checksum", Decimal("5.0")),
        lambda f: f["data"][0].__setitem__("timestamp", 5),
        lambda f: f["data"][0].pop("asks"),
        lambda f: f["data"].append(f["data"][0]),
        lambda f: f.__setitem__("type", "delta"),
        lambda f: f["data"][0]["bids"].append("level"),
        lambda f: f["data"][0]["bids"][0].pop("qty"),
    ],
)
def test_anything_unusual_takes_the_typed_path(mutate: Any) -> None:
    obj = {
        "channel": "book",
        "type": "update",
        "data": [
            {
                "symbol": "BTC/USD",
                "bids": [{"price": Decimal("1.0"), "qty": Decimal("2.00")}],
                "asks": [],
                "checksum": 5,
                "timestamp": "2026-01-01T00:00:00Z",
            }
        ],
    }
    assert isinstance(read(obj), L2Frame)
    mutate(obj)
    assert read(obj) is None


def test_level3_entries_keep_the_models_names() -> None:
    frames = _frames("level3-vector-c.jsonl")
    frame = read(frames[0])
    assert isinstance(frame, L3Frame)
    assert frame.snapshot
    assert frame.bids[0].event is None
    assert_model_agrees(frames[0], frame)


# --- generated streams: both paths, same books --------------------------------------------------

_prices = st.integers(1, 40).map(lambda n: Decimal(n).scaleb(-1))
_qtys = st.one_of(
    st.sampled_from([Decimal("0"), Decimal("0E-8"), Decimal("0.00000000")]),
    st.integers(1, 10**6).map(lambda n: Decimal(n).scaleb(-4)),
    st.integers(1, 10**6).map(lambda n: Decimal(n).scaleb(-8)),
)
_levels = st.lists(st.tuples(_prices, _qtys), max_size=6)


@st.composite
def l2_streams(draw: Any) -> tuple[int, list[Any]]:
    depth = draw(st.sampled_from([1, 3, 10, 25]))
    truth = OrderBook("X/Y", depth)
    out: list[Any] = []
    for step in range(draw(st.integers(1, 25))):
        kind = "snapshot" if step == 0 or draw(st.integers(0, 12)) == 0 else "update"
        bids, asks = draw(_levels), draw(_levels)
        if kind == "snapshot":
            bids = [(p, q) for p, q in bids if q]
            asks = [(p + 5, q) for p, q in asks if q]
        else:
            asks = [(p + 5, q) for p, q in asks]
        item: dict[str, Any] = {
            "symbol": "X/Y",
            "bids": [{"price": p, "qty": q} for p, q in bids],
            "asks": [{"price": p, "qty": q} for p, q in asks],
            "checksum": 0,
            "timestamp": f"2026-01-01T00:00:{step:02d}Z",
        }
        frame = {"channel": "book", "type": kind, "data": [item]}
        model = (BookSnapshot if kind == "snapshot" else BookUpdate).model_validate(frame)
        if truth.has_snapshot or kind == "snapshot":
            item["checksum"] = truth.apply(model).computed
        if draw(st.integers(0, 8)) == 0:
            item["checksum"] ^= draw(st.integers(1, 0xFFFF))  # a mismatch: resync decisions
        out.append(parse(dumps(frame)))
    return depth, out


@st.composite
def l3_streams(draw: Any) -> tuple[int, list[Any]]:
    depth = draw(st.sampled_from([1, 3, 10]))
    truth = L3Book("X/Y", depth)
    rng = random.Random(draw(st.integers(0, 2**32)))
    out: list[Any] = []
    ids = [f"O{i}" for i in range(10)]
    for step in range(draw(st.integers(1, 25))):
        kind = "snapshot" if step == 0 or rng.random() < 0.08 else "update"
        sides: dict[str, list[dict[str, Any]]] = {"bids": [], "asks": []}
        for side in sides:
            for _ in range(rng.randint(0, 4)):
                entry: dict[str, Any] = {
                    "order_id": rng.choice(ids),
                    "limit_price": Decimal(rng.randint(1, 6) + (0 if side == "bids" else 10)),
                    "order_qty": rng.choice([Decimal("0E-8"), Decimal(rng.randint(1, 99))]),
                    "timestamp": "2026-01-01T00:00:00.000000001Z",
                }
                if kind == "update":
                    entry["event"] = rng.choice(["add", "modify", "delete"])
                sides[side].append(entry)
        item = {"symbol": "X/Y", **sides, "checksum": 0}
        frame = {"channel": "level3", "type": kind, "data": [item]}
        model = (Level3Snapshot if kind == "snapshot" else Level3Update).model_validate(frame)
        if truth.has_snapshot or kind == "snapshot":
            item["checksum"] = truth.apply(model).computed
        if rng.random() < 0.1:
            item["checksum"] ^= 0x1234
        out.append(parse(dumps(frame)))
    return depth, out


@settings(max_examples=150, deadline=None)
@given(l2_streams(), st.sampled_from([(None, None), (1, 8)]))
def test_generated_l2_streams_agree(stream: tuple[int, list[Any]], precision: Any) -> None:
    depth, frames = stream
    typed, fast = BookManager(), BookManager()
    for manager in (typed, fast):
        manager.track("X/Y", depth)
        if precision[0] is not None:
            manager.set_precision("X/Y", *precision)
    run_both(frames, typed, fast)
    assert fast.resync_due(0.0) == typed.resync_due(0.0)


@settings(max_examples=150, deadline=None)
@given(l3_streams())
def test_generated_l3_streams_agree(stream: tuple[int, list[Any]]) -> None:
    depth, frames = stream
    typed, fast = BookManager(), BookManager()
    for manager in (typed, fast):
        manager.track("X/Y", depth, level3=True)
    run_both(frames, typed, fast)
    assert fast.resync_due(0.0) == typed.resync_due(0.0)


# --- match: the text of a plain book frame, never parsed --------------------------------------


def _texts(name: str) -> list[str]:
    path = DATA / name
    if name.endswith(".json"):
        return [dumps(obj) for obj in _pks_frames(path)]
    return [line for line in path.read_text().splitlines() if line.strip()]


def _decimals_text(frame: L2Frame) -> Any:
    return [[(type(p), str(p), type(q), str(q)) for p, q in side] for side in frame[2:4]]


def assert_match_agrees(text: str) -> L2Frame | None:
    """``match`` returns ``None`` or exactly what ``read(parse(text))`` returns, digits included."""
    matched = match(text)
    if matched is None:
        return None
    obj = parse(text)  # a matched text parses (no DecodeError)...
    frame = read(obj)
    assert type(frame) is L2Frame
    assert matched == frame  # ...into the same frame
    assert _decimals_text(matched) == _decimals_text(frame)
    assert type(matched.checksum) is int
    assert_model_agrees(obj, frame)  # which its model holds too
    return matched


@pytest.mark.parametrize("name", STREAMS)
def test_recorded_frames_match_as_they_read(name: str) -> None:
    texts = _texts(name)
    matched = [text for text in texts if assert_match_agrees(text) is not None]
    books = [t for t in texts if t.startswith('{"channel":"book","type":') and '"timestamp"' in t]
    if name.endswith(".jsonl"):
        # Kraken's own frames are in the one shape match knows (compact, keys in order); the
        # hand-written vectors' snapshots lack a timestamp and take parse + read.
        assert len(matched) == len(books)


@settings(max_examples=600, deadline=None)
@given(frames())
def test_match_takes_only_what_read_takes_with_the_same_values(obj: Any) -> None:
    assert_match_agrees(dumps(obj))


_TOKENS = st.sampled_from(
    [" ", '"', "\\", "\\u0041", "\\n", "\x00", "\x7f", "é", "e", "E", "e5", "E-3", "-", "+",
     "0", "00", "1", ".", ",", "{", "}", "[", "]", ":", "null", "true", "NaN", "Infinity",
     "9" * 120, "0" * 120, '"price"', '"qty"', '"x":1,']
)  # fmt: skip


@st.composite
def near_misses(draw: Any) -> str:
    # A plain frame's text, then one to three edits where the grammar is easiest to get wrong:
    # whitespace, escapes, exponents, signs, leading zeros, huge numbers, keys, brackets.
    text = dumps(
        {
            "channel": "book",
            "type": draw(st.sampled_from(["update", "snapshot"])),
            "data": [
                {
                    "symbol": draw(st.sampled_from(["BTC/USD", "A", ""])),
                    "bids": [
                        {"price": draw(_decimals), "qty": draw(_decimals)}
                        for _ in range(draw(st.integers(0, 2)))
                    ],
                    "asks": [
                        {"price": draw(_decimals), "qty": draw(_decimals)}
                        for _ in range(draw(st.integers(0, 2)))
                    ],
                    "checksum": draw(_checksums),
                    "timestamp": "2026-01-01T00:00:00.000000Z",
                }
            ],
        }
    )
    for _ in range(draw(st.integers(1, 3))):
        i = draw(st.integers(0, len(text)))
        j = draw(st.integers(i, min(len(text), i + 3)))
        text = text[:i] + draw(st.one_of(st.just(""), _TOKENS)) + text[j:]
    return text


@settings(max_examples=1500, deadline=None)
@given(near_misses())
def test_near_misses_match_identically_or_not_at_all(text: str) -> None:
    try:
        parse(text)
    except DecodeError:
        assert match(text) is None  # what the parser refuses is never matched
        return
    assert_match_agrees(text)


@pytest.mark.parametrize(
    "number",
    [
        "1",
        "01.5",
        "1.5e3",
        "1.5E+3",
        "-1.5",
        "+1.5",
        ".5",
        "1.",
        "1" * 101 + ".5",
        "1." + "5" * 101,
    ],
)
def test_numbers_match_refuses(number: str) -> None:
    text = (
        '{"channel":"book","type":"update","data":[{"symbol":"BTC/USD","bids":[{"price":%s,'
        '"qty":2.0}],"asks":[],"checksum":5,"timestamp":"t"}]}'
    )
    assert match(text % number) is None
    assert match(text % "1.5") is not None


def test_match_refuses_checksums_over_32_bits_and_long_frames() -> None:
    text = (
        '{"channel":"book","type":"update","data":[{"symbol":"BTC/USD","bids":[],"asks":[],'
        '"checksum":%d,"timestamp":"t"}]}'
    )
    assert match(text % 0xFFFFFFFF) is not None
    assert match(text % 2**32) is None
    level = '{"price":1.0,"qty":1.0}'
    long = text.replace('"bids":[]', '"bids":[' + ",".join([level] * 2000) + "]") % 5
    assert match(long) is None  # over 30,000 characters: parse counts its items


@pytest.mark.parametrize(
    "body",
    [
        ('{"price":1.0,"qty":1.0},' * 1200)[:29_000] + "x",  # fails at the very end
        ",".join(["{" + '"price":' + "9" * 99 + "." + "9" * 99 + ',"qty":1.0}'] * 130) + ",",
        "1" * 29_500,
        '{"price":' + "1" * 29_000,
    ],
)
def test_match_costs_linear_time_on_hostile_text(body: str) -> None:
    # Possessive quantifiers: no backtracking, whatever a long text holds. A backtracking
    # pattern takes seconds on these; the bound is generous for a loaded machine.
    text = '{"channel":"book","type":"update","data":[{"symbol":"X","bids":[' + body
    for tail in ("", '],"asks":[],"checksum":5,"timestamp":"t"}]}'):
        started = time.perf_counter()
        for _ in range(10):
            assert match(text + tail) is None
        assert time.perf_counter() - started < 0.5
