"""A 5-second version of benchmarks/soak_exchange.py: depth 1000, three symbols."""

from __future__ import annotations

from benchmarks.soak_exchange import soak


async def test_soak_5_seconds() -> None:
    result = await soak(seconds=5.0, frames_per_second=2000.0, depth=1000)
    assert result.checksum_failures == 0
    assert result.checksums_ok == result.book_frames
    assert result.book_frames > 5000  # sustained well above 1,000 book frames/s
    # Memory stays flat: allow some allocator noise, not per-message growth.
    assert result.rss_end_kib - result.rss_start_kib < 20_000
