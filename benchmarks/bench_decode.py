"""Typed decode throughput against plain JSON parsers on the same bytes, measured in one run."""

from __future__ import annotations

import json
import random
import timeit
from collections.abc import Callable
from decimal import Decimal
from functools import partial

import orjson

from kraken_ws import decode
from kraken_ws.protocol._json import dumps

TICKER = (
    b'{"channel":"ticker","type":"update","data":[{"symbol":"ALGO/USD","bid":0.10025,'
    b'"bid_qty":740.0,"ask":0.10035,"ask_qty":740.0,"last":0.10035,"volume":997038.98383185,'
    b'"vwap":0.10148,"low":0.09979,"high":0.10285,"change":-0.00017,"change_pct":-0.17,'
    b'"timestamp":"2023-09-25T09:04:31.742648Z"}]}'
)


def book_update(levels: int, seed: int = 1) -> bytes:
    rng = random.Random(seed)

    def side(base: float, sign: int) -> list[dict[str, Decimal]]:
        return [
            {
                "price": Decimal(f"{base + sign * i * 0.1 + rng.random() * 0.01:.1f}"),
                "qty": Decimal(f"{rng.random() * 3:.8f}"),
            }
            for i in range(levels)
        ]

    frame = {
        "channel": "book",
        "type": "update",
        "data": [
            {
                "symbol": "BTC/USD",
                "bids": side(62000.0, -1),
                "asks": side(62000.5, 1),
                "checksum": 4249465476,
                "timestamp": "2026-08-16T23:37:03.745044Z",
            }
        ],
    }
    return dumps(frame).encode()


def _rates(fns: list[Callable[[], object]], budget: float = 0.4, rounds: int = 7) -> list[float]:
    """Calls per second of each function: the best of ``rounds`` runs of about ``budget / 5``
    seconds each, the functions alternating within each round so that a slow spell of the
    (shared) machine hits all of them rather than one."""
    numbers: list[int] = []
    for fn in fns:
        number = 1
        while timeit.timeit(fn, number=number) <= budget / 5:
            number *= 2
        numbers.append(number)
    best = [float("inf")] * len(fns)
    for _ in range(rounds):
        for i, (fn, number) in enumerate(zip(fns, numbers, strict=True)):
            best[i] = min(best[i], timeit.timeit(fn, number=number))
    return [number / seconds for number, seconds in zip(numbers, best, strict=True)]


def main() -> None:
    cases = [("ticker", TICKER)] + [
        (f"book update {n} lvl/side", book_update(n)) for n in (1, 10, 1000)
    ]
    print("\n== decode throughput (frames/s; higher is better) ==")
    header = (
        f"{'frame':<26}{'bytes':>8}{'kraken_ws.decode':>18}{'json+Decimal':>14}"
        f"{'orjson':>12}{'cost vs json+Decimal':>22}"
    )
    print(header)
    for name, raw in cases:
        ours, stdlib, fast = _rates(
            [
                partial(decode, raw),
                partial(json.loads, raw, parse_float=Decimal),
                partial(orjson.loads, raw),
            ]
        )
        print(
            f"{name:<26}{len(raw):>8}{ours:>18,.0f}{stdlib:>14,.0f}{fast:>12,.0f}"
            f"{stdlib / ours:>21.2f}x"
        )
    print(
        "goal: typed decode of a 1-level book update costs <= 1.5x json.loads(parse_float=Decimal)"
    )


if __name__ == "__main__":
    main()
