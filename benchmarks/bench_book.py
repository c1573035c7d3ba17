"""L2 book hot path: kraken-ws vs python-kraken-sdk's SpotOrderBookClient, same frames.

Run: ``python -m benchmarks.bench_book`` (add ``--profile`` for a cProfile of our full path).

For depth 10, 100 and 1000 a deterministic stream of BTC/USD-like update frames is generated
as JSON bytes with engine-precision tokens (``61234.5``, ``0.50000000``, deletes as
``0.00000000``), 1-3 changes per frame like the live captures (a delete brings the next level
in: 1-4 levels, rarely more), with checksums computed by our engine. Every side starts from the
same snapshot (untimed) and then processes every update:

* kraken-ws (the client's path for a live book: ``client.book()`` with no reader of typed
  events): ``kraken_ws.book.wire.match`` (the frame's text against the one shape Kraken sends,
  exact ``Decimal`` s of the wire text; else ``kraken_ws.protocol.codec.parse`` +
  ``kraken_ws.book.wire.read``) + ``OrderBook.apply_wire`` (apply, truncate, checksum verify);
* kraken-ws typed: ``kraken_ws.decode`` (the same JSON, then validation into ``BookUpdate``,
  what the client does when a consumer takes the typed events) + ``OrderBook.apply``;
* python-kraken-sdk: ``json.loads`` + ``SpotOrderBookClient.on_message`` (its REST precision
  lookup stubbed, a no-op callback, inside ``asyncio.run``).
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import gc
import io
import json
import pstats
import random
import time
import tracemalloc
from decimal import Decimal
from typing import Any

from kraken_ws.book import OrderBook
from kraken_ws.book.wire import L2Frame, match, read
from kraken_ws.models.channels.book import BookSnapshot, BookUpdate
from kraken_ws.protocol._json import dumps, loads
from kraken_ws.protocol.codec import decode, parse

SYMBOL = "BTC/USD"
PRICE_PRECISION = 1
QTY_PRECISION = 8
MID = Decimal("61234.5")
TICK = Decimal("0.1")
# (depth, update frames): sized so the whole run stays well under a minute.
PLAN = [(10, 20_000), (100, 10_000), (1000, 3_000)]
CHUNK = 500  # frames per timed chunk (see main)


def _qty(rng: random.Random) -> Decimal:
    # Engine precision: always 8 decimals on the wire (trailing zeros kept).
    return Decimal(rng.randint(1, 500_000_000)).scaleb(-QTY_PRECISION)


def _frame(
    kind: str,
    bids: list[tuple[Decimal, Decimal]],
    asks: list[tuple[Decimal, Decimal]],
    checksum: int,
    seq: int,
) -> dict[str, Any]:
    return {
        "channel": "book",
        "type": kind,
        "data": [
            {
                "symbol": SYMBOL,
                "bids": [{"price": p, "qty": q} for p, q in bids],
                "asks": [{"price": p, "qty": q} for p, q in asks],
                "checksum": checksum,
                "timestamp": f"2026-08-16T23:37:{seq // 1_000_000 % 60:02d}.{seq % 1_000_000:06d}Z",
            }
        ],
    }


def make_stream(depth: int, n_updates: int, seed: int = 7) -> tuple[bytes, list[bytes]]:
    """A snapshot and ``n_updates`` update frames as wire bytes, checksums from our engine."""
    rng = random.Random(seed * 1000 + depth)
    truth = OrderBook(SYMBOL, depth)
    # Bids below the mid, asks above, 1-5 ticks apart; the book never crosses.
    bids: list[tuple[Decimal, Decimal]] = []
    asks: list[tuple[Decimal, Decimal]] = []
    price = MID
    for _ in range(depth):
        price -= TICK * rng.randint(1, 5)
        bids.append((price, _qty(rng)))
    price = MID
    for _ in range(depth):
        price += TICK * rng.randint(1, 5)
        asks.append((price, _qty(rng)))
    snap = _frame("snapshot", bids, asks, 0, 0)
    result = truth.apply(BookSnapshot.model_validate(snap))
    snap["data"][0]["checksum"] = result.computed
    snapshot_bytes = dumps(snap).encode()

    updates: list[bytes] = []
    for seq in range(1, n_updates + 1):
        # 1-3 levels per frame, like the live captures (372x1, 111x2, 26x3 in pks' fixture).
        n_levels = rng.choices((1, 2, 3), weights=(72, 22, 6))[0]
        changes: dict[str, list[tuple[Decimal, Decimal]]] = {"bid": [], "ask": []}
        for _ in range(n_levels):
            side = rng.choice(("bid", "ask"))
            held = truth.bids() if side == "bid" else truth.asks()
            # Activity is heavier near the top of the book.
            index = min(int(len(held) * rng.random() ** 2), len(held) - 1)
            roll = rng.random()
            sign = -1 if side == "bid" else 1
            if roll < 0.6:  # quantity change of a held level
                changes[side].append((held[index][0], _qty(rng)))
            elif roll < 0.8:  # delete, and the next level beyond depth comes in
                changes[side].append((held[index][0], Decimal("0E-8")))
                worst = held[-1][0]
                changes[side].append((worst + sign * TICK * rng.randint(1, 5), _qty(rng)))
            else:  # a new level inside the book; the worst one is pushed out
                base = held[index][0]
                candidate = base + sign * TICK * rng.randint(1, 3) * -1
                if (side == "bid" and candidate < MID) or (side == "ask" and candidate > MID):
                    changes[side].append((candidate, _qty(rng)))
                else:
                    changes[side].append((base, _qty(rng)))
        # Deletes first within each side. python-kraken-sdk truncates after every level rather
        # than after the message, so an insert followed by a delete would make it drop a level
        # that Kraken (and we) keep; this ordering gives the same book under both rules.
        for side_changes in changes.values():
            side_changes.sort(key=lambda level: bool(level[1]))
        frame = _frame("update", changes["bid"], changes["ask"], 0, seq)
        result = truth.apply(BookUpdate.model_validate(frame))
        frame["data"][0]["checksum"] = result.computed
        text = dumps(frame)
        updates.append(text.encode())
    return snapshot_bytes, updates


# --- our path -------------------------------------------------------------------------------


def _chunks(updates: list[bytes]) -> list[list[bytes]]:
    return [updates[i : i + CHUNK] for i in range(0, len(updates), CHUNK)]


def run_ours(
    depth: int, snapshot: bytes, updates: list[bytes], *, typed: bool = False
) -> tuple[list[float], OrderBook]:
    """Seconds per chunk of the stream through our path (fast, or typed), and the final book."""
    book = OrderBook(SYMBOL, depth)
    book.apply(BookSnapshot.model_validate(loads(snapshot)))
    ok = True
    times: list[float] = []
    if typed:
        apply = book.apply
        for chunk in _chunks(updates):
            start = time.perf_counter()
            for raw in chunk:
                message = decode(raw)
                if type(message) is not BookUpdate:
                    name = type(message).__name__
                    raise AssertionError(f"kraken-ws: decoded {name}, not BookUpdate")
                ok &= apply(message).checksum_ok
            times.append(time.perf_counter() - start)
    else:
        apply_wire = book.apply_wire
        for chunk in _chunks(updates):
            texts = [raw.decode() for raw in chunk]  # the client gets str from websockets
            start = time.perf_counter()
            for text in texts:
                # The client's order: the text matched, else parsed and read.
                frame = match(text) or read(parse(text))
                if type(frame) is not L2Frame:
                    raise AssertionError("kraken-ws: the fast path refused a plain book frame")
                ok &= apply_wire(frame).checksum_ok
            times.append(time.perf_counter() - start)
    if not ok or not book.is_valid:
        raise AssertionError("kraken-ws: a checksum failed on our own stream")
    return times, book


def stage_chunks(
    updates: list[bytes],
) -> tuple[list[float], list[float], list[float], list[float]]:
    """Seconds per chunk for JSON alone, JSON + read, the whole decode, and match.

    The same streaming loop shape as the full paths (no big intermediate lists that would make
    the garbage collector's work differ). A stage's time is the difference between two loops:
    read = (parse + read) - JSON, validate = decode - JSON, apply = full path - match (which
    takes every frame of the stream).
    """
    json_times: list[float] = []
    read_times: list[float] = []
    decode_times: list[float] = []
    match_times: list[float] = []
    for chunk in _chunks(updates):
        texts = [raw.decode() for raw in chunk]
        start = time.perf_counter()
        for text in texts:
            match(text)
        match_times.append(time.perf_counter() - start)
        start = time.perf_counter()
        for raw in chunk:
            loads(raw)
        json_times.append(time.perf_counter() - start)
        start = time.perf_counter()
        for raw in chunk:
            read(parse(raw))
        read_times.append(time.perf_counter() - start)
        start = time.perf_counter()
        for raw in chunk:
            decode(raw)
        decode_times.append(time.perf_counter() - start)
    return json_times, read_times, decode_times, match_times


# --- python-kraken-sdk -----------------------------------------------------------------------


def run_pks(depth: int, snapshot: bytes, updates: list[bytes]) -> list[float] | None:
    """Seconds per chunk of the stream through python-kraken-sdk (``None`` if not installed)."""
    try:
        from kraken.spot import SpotOrderBookClient
    except ImportError:  # pragma: no cover - the baseline is a dev dependency
        return None

    async def main() -> list[float]:
        # A no-op callback: without one, on_book_update print()s every message.
        client = SpotOrderBookClient(depth=depth, callback=lambda **_: None)
        # Its first message per pair asks REST for pair_decimals/lot_decimals: stub it.
        market = client._SpotOrderBookClient__market  # type: ignore[attr-defined]
        market.get_asset_pairs = lambda pair: {
            pair: {"pair_decimals": PRICE_PRECISION, "lot_decimals": QTY_PRECISION}
        }
        try:
            await client.on_message(json.loads(snapshot))
            on_message = client.on_message
            loads_ = json.loads
            times: list[float] = []
            for chunk in _chunks(updates):
                start = time.perf_counter()
                for raw in chunk:
                    await on_message(loads_(raw))
                times.append(time.perf_counter() - start)
            book = client.get(SYMBOL)
            if book is None or not book["valid"]:
                raise AssertionError("python-kraken-sdk: checksum failed on the stream")
        finally:
            await client.close()
        return times

    return asyncio.run(main())


# --- memory ---------------------------------------------------------------------------------


def book_memory(depth: int, snapshot: bytes) -> int:
    """Bytes held by one applied book (frames and models freed before measuring)."""
    gc.collect()
    tracemalloc.start()
    base = tracemalloc.get_traced_memory()[0]
    book = OrderBook(SYMBOL, depth)
    model = BookSnapshot.model_validate(loads(snapshot))
    book.apply(model)
    book.bids()  # no lazy structure left unbuilt
    del model
    gc.collect()
    held = tracemalloc.get_traced_memory()[0] - base
    tracemalloc.stop()
    assert len(book) == 2 * depth
    return held


def best_chunks(runs: list[list[float]]) -> float:
    """Sum over chunks of each chunk's fastest run: a slow spell spoils one chunk, not the sum."""
    total = 0.0
    for times in zip(*runs, strict=True):
        total += min(times)
    return total


def profile(depth: int, snapshot: bytes, updates: list[bytes], top: int = 18) -> str:
    profiler = cProfile.Profile()
    profiler.enable()
    run_ours(depth, snapshot, updates)
    profiler.disable()
    out = io.StringIO()
    pstats.Stats(profiler, stream=out).sort_stats("tottime").print_stats(top)
    return out.getvalue()


def _rate(n: int, seconds: float) -> str:
    return f"{n / seconds:>10,.0f}/s {seconds / n * 1e6:>8.1f} µs"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--profile", action="store_true", help="cProfile our path per depth")
    parser.add_argument("--scale", type=float, default=1.0, help="multiply the frame counts")
    parser.add_argument("--repeat", type=int, default=5, help="runs per measurement (best kept)")
    args = parser.parse_args(argv)

    rows: list[tuple[int, int, float, float, float | None, dict[str, float]]] = []
    streams: dict[int, tuple[bytes, list[bytes]]] = {}
    for depth, count in PLAN:
        n = max(int(count * args.scale), 10)
        snapshot, updates = make_stream(depth, n)
        streams[depth] = (snapshot, updates)
        # Interleaved runs; each side's time is the sum, over chunks of the stream, of that
        # chunk's fastest run. The machine may be shared: a disturbance then spoils one chunk of
        # one run, not the figure, and every side is filtered the same way.
        ours_runs: list[list[float]] = []
        typed_runs: list[list[float]] = []
        pks_runs: list[list[float] | None] = []
        json_runs: list[list[float]] = []
        read_runs: list[list[float]] = []
        decode_runs: list[list[float]] = []
        match_runs: list[list[float]] = []
        for _ in range(args.repeat):
            ours_runs.append(run_ours(depth, snapshot, updates)[0])
            pks_runs.append(run_pks(depth, snapshot, updates))
            typed_runs.append(run_ours(depth, snapshot, updates, typed=True)[0])
            json_times, read_times, decode_times, match_times = stage_chunks(updates)
            match_runs.append(match_times)
            json_runs.append(json_times)
            read_runs.append(read_times)
            decode_runs.append(decode_times)
        ours = best_chunks(ours_runs)
        typed = best_chunks(typed_runs)
        complete = [run for run in pks_runs if run is not None]
        theirs = best_chunks(complete) if len(complete) == len(pks_runs) else None
        t_json = best_chunks(json_runs)
        t_read = best_chunks(read_runs)
        t_decode = best_chunks(decode_runs)
        t_match = best_chunks(match_runs)
        stages = {
            "match": t_match,
            "json": t_json,
            "read": t_read - t_json,
            "apply": ours - t_match,
            "validate": t_decode - t_json,
        }
        rows.append((depth, n, ours, typed, theirs, stages))

    print("L2 book updates: decode + apply + checksum verify (same frames)")
    print(
        f"{'depth':>5} {'frames':>7} | {'kraken-ws (book())':>23} | {'kraken-ws typed':>23} | "
        f"{'python-kraken-sdk':>23} | ratios (book(), typed)"
    )
    for depth, n, ours, typed, theirs, _ in rows:
        pks = _rate(n, theirs) if theirs is not None else "n/a".rjust(23)
        ratios = (
            f"{theirs / ours:6.1f}x {theirs / typed:6.1f}x" if theirs is not None else "n/a n/a"
        )
        print(f"{depth:>5} {n:>7} | {_rate(n, ours)} | {_rate(n, typed)} | {pks} | {ratios}")
    print()
    print("kraken-ws per stage, µs/update (match = the book() path's text match, in place of")
    print("json + read: jiter lossless + the shape check of a parsed frame; apply = engine incl.")
    print("truncation and checksum; validate = the typed path's dispatch + pydantic)")
    for depth, n, _, _, _, stages in rows:
        parts = "  ".join(f"{k} {v / n * 1e6:6.2f}" for k, v in stages.items())
        print(f"{depth:>5}: {parts}")
    print()
    memory = book_memory(1000, streams[1000][0])
    print(f"memory of one applied depth-1000 book (2,000 levels): {memory / 1024:.0f} KiB")
    if args.profile:
        for depth, _ in PLAN:
            print(f"\n--- cProfile, kraken-ws full path, depth {depth} ---")
            print(profile(depth, *streams[depth]))


if __name__ == "__main__":
    main()
