"""Shared helpers of the book tests: fixture loading and frame builders."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from decimal import Decimal
from pathlib import Path
from typing import Any

from kraken_ws.book.checksum import book_checksum
from kraken_ws.models.channels.book import BookSnapshot, BookUpdate
from kraken_ws.models.channels.instrument import InstrumentSnapshot, InstrumentUpdate
from kraken_ws.models.channels.level3 import Level3Snapshot, Level3Update
from kraken_ws.protocol._json import loads

DATA = Path(__file__).parent.parent / "data" / "book"

Levels = Sequence[tuple[Decimal | str, Decimal | str]]

_MODELS: dict[tuple[str, str], Any] = {
    ("book", "snapshot"): BookSnapshot,
    ("book", "update"): BookUpdate,
    ("level3", "snapshot"): Level3Snapshot,
    ("level3", "update"): Level3Update,
    ("instrument", "snapshot"): InstrumentSnapshot,
    ("instrument", "update"): InstrumentUpdate,
}


def decode(obj: Any) -> Any:
    """Validate a losslessly decoded frame into its model; ``None`` for other frames."""
    if not isinstance(obj, dict) or "channel" not in obj:
        return None
    model = _MODELS.get((obj["channel"], obj.get("type", "")))
    return None if model is None else model.model_validate(obj)


def load_frames(name: str) -> list[Any]:
    """Every line of a tests/data/book JSONL file, decoded losslessly (tx lines included)."""
    with (DATA / name).open("rb") as fh:
        return [loads(line) for line in fh if line.strip()]


def load_models(name: str) -> list[Any]:
    """The book/level3/instrument frames of a JSONL file as models, in order."""
    return [m for m in (decode(obj) for obj in load_frames(name)) if m is not None]


def D(value: Decimal | str | int) -> Decimal:
    """A Decimal from text (keeps the digits)."""
    return value if isinstance(value, Decimal) else Decimal(value)


def _levels(levels: Levels) -> list[dict[str, Decimal]]:
    return [{"price": D(p), "qty": D(q)} for p, q in levels]


def book_frame(
    kind: str,
    symbol: str,
    *,
    bids: Levels = (),
    asks: Levels = (),
    checksum: int = 0,
    timestamp: str | None = "2026-01-01T00:00:00.000000Z",
    extra_items: Iterable[dict[str, Any]] = (),
) -> BookSnapshot | BookUpdate:
    """Build a ``book`` frame from ``(price, qty)`` pairs."""
    item: dict[str, Any] = {
        "symbol": symbol,
        "bids": _levels(bids),
        "asks": _levels(asks),
        "checksum": checksum,
    }
    if timestamp is not None:
        item["timestamp"] = timestamp
    frame = {"channel": "book", "type": kind, "data": [*extra_items, item]}
    model = BookSnapshot if kind == "snapshot" else BookUpdate
    return model.model_validate(frame)


def checksum_of(bids: dict[Decimal, Decimal], asks: dict[Decimal, Decimal]) -> int:
    """Reference checksum of a book held as two plain dicts."""
    return book_checksum(asks.items(), bids.items())
