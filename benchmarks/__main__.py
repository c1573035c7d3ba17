"""`make bench`: run every benchmark; each prints its figures next to a baseline from this run.

Set BENCH_ONLY=decode,book to pick some; BENCH_SOAK=1 adds the 60 s local-exchange soak.
"""

from __future__ import annotations

import importlib
import os
import time

MODULES = [
    "bench_decode",
    "bench_book",
    "bench_l3",
    "bench_client_book",
    "bench_client",
    "bench_gateway",
]


def main() -> None:
    only = {n.strip() for n in os.environ.get("BENCH_ONLY", "").split(",") if n.strip()}
    modules = list(MODULES)
    if os.environ.get("BENCH_SOAK"):
        modules.append("soak_exchange")
    for name in modules:
        if only and name.removeprefix("bench_") not in only and name not in only:
            continue
        try:
            module = importlib.import_module(f"benchmarks.{name}")
        except ModuleNotFoundError as exc:
            if exc.name == f"benchmarks.{name}":
                print(f"(skipping {name}: not present)")
                continue
            raise
        started = time.perf_counter()
        module.main()
        print(f"({name} took {time.perf_counter() - started:.1f} s)")


if __name__ == "__main__":
    main()
