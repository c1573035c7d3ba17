"""`make bench` must not rot: each benchmark's code path runs here on a handful of frames.

Nothing is timed or compared: speed goals live in the benchmarks themselves. What is checked is
that each side processes the same frames correctly (every checksum verifies) and that the
reports print.
"""

from __future__ import annotations

import asyncio

import pytest

from benchmarks import bench_book, bench_client_book, bench_decode, bench_gateway, bench_l3


def test_book_benchmark_runs(capsys: pytest.CaptureFixture[str]) -> None:
    bench_book.main(["--scale", "0.005", "--repeat", "1"])
    out = capsys.readouterr().out
    rows = [line for line in out.splitlines() if line.strip().startswith(("10 ", "100 ", "1000 "))]
    assert len(rows) == 3
    assert all(line.rstrip().endswith("x") for line in rows)  # a ratio against python-kraken-sdk
    assert "memory of one applied depth-1000 book" in out


def test_book_stream_is_consistent() -> None:
    snapshot, updates = bench_book.make_stream(25, 200)
    times, book = bench_book.run_ours(25, snapshot, updates)
    assert len(times) == 1
    assert book.is_valid
    assert book.messages_applied == 201
    _, typed = bench_book.run_ours(25, snapshot, updates, typed=True)
    assert typed.snapshot() == book.snapshot()
    pks = bench_book.run_pks(25, snapshot, updates)
    assert pks is not None
    assert len(pks) == 1


def test_l3_benchmark_paths_verify_every_checksum() -> None:
    frames = asyncio.run(bench_l3._record(10, 60))
    assert len(frames) == 60
    assert len(bench_l3.run_ours(10, frames)) == 1  # raises if a checksum fails
    assert len(bench_l3.run_naive(10, frames)) == 1


def test_decode_rates_measure_each_function() -> None:
    calls = [0, 0]

    def first() -> None:
        calls[0] += 1

    def second() -> None:
        calls[1] += 1

    rates = bench_decode._rates([first, second], budget=0.005, rounds=1)
    assert len(rates) == 2
    assert all(rate > 0 for rate in rates)
    assert all(calls)


def test_client_benchmark_runs_every_client(capsys: pytest.CaptureFixture[str]) -> None:
    # Each client raises if it missed an update or a checksum failed.
    bench_client_book.main(["--updates", "40", "--rounds", "1", "--depths", "10"])
    out = capsys.readouterr().out
    assert "zero-cost server" in out
    assert "python-kraken-sdk, floor" in out


async def test_gateway_benchmark_round_runs() -> None:
    # One short round of the real stack (exchange, nats-server, gateway, a consumer and a direct
    # client, each a process): each reports frames it applied to a book that stayed valid.
    result = await bench_gateway._round(200, 1, 1.0, direct=True)
    (consumer,) = result["consumers"]
    assert consumer["valid"]
    assert consumer["rate"] > 0
    assert consumer["lat_us"], "the consumer measured no latency"
    assert result["direct"]["valid"]
    assert result["direct"]["rate"] > 0
